"""Fuzzing every API route from its OpenAPI schema (schemathesis): for each role, requests that
fit the schema and requests that break it. No answer may be a 500, every answer must be
documented (status code, content type, body schema, headers), requests that break the schema
must be refused, routes that need a token must refuse without one.

Not checked: that every schema-valid request is accepted. Some rules cannot be written in JSON
Schema (the org.nr check digit, an organisation that must exist, a file's contents, which
organisation an administrator writes for); those are refused with 422 and a reason, which is
the documented answer. `make test-slow` runs 25 × as many examples."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from models.db import session_scope
from service.app import create_app
from service.config import Settings
from service.runtime import seed_demo_proposals
from service.security import create_user, issue_token
from tests.conftest import demo_runtime, examples

EXTRA = {"municipal": {"organisation": "Bydel Grorud"},
         "entrepreneur": {"entrepreneur": "se-jobbverkstedet"}}


def _world(home: Path, url: str | None):
    settings = Settings(home=home, database_url=url) if url else Settings(home=home)
    rt = demo_runtime(settings)
    seed_demo_proposals(rt)
    tokens: dict[str, str | None] = {"public": None}
    with session_scope(rt.engine) as session:
        for role in ("admin", "reviewer", "municipal", "entrepreneur", "organiser"):
            user = create_user(session, email=f"{role}@fuzz.no", role=role,
                               **EXTRA.get(role, {}))
            tokens[role] = issue_token(session, user)
    return rt, tokens


def _fuzz(app, token: str | None, subtests, n: int) -> dict[str, int]:
    """Every operation, n positive and n negative examples each; returns the requests made
    per operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        # The token goes in with the generated case (not over it afterwards), so that a
        # negative case never counts a header it did not really change.
        strategies = [operation.as_strategy(GenerationMode.POSITIVE, headers=headers)]
        if operation.path_parameters or operation.query or operation.body:
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, headers=headers))

        @given(case=st.one_of(strategies))
        @settings(max_examples=n * len(strategies), deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        with subtests.test(msg=operation.label):
            check()
    return calls


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory):
    rt, tokens = _world(tmp_path_factory.mktemp("fuzz"), None)
    app = create_app(rt)
    with TestClient(app):
        yield app, tokens
    rt.engine.dispose()


@pytest.mark.parametrize("role", ["public", "admin", "municipal", "entrepreneur", "reviewer",
                                  "organiser"])
def test_every_route_answers_as_documented(sqlite_world, role: str, subtests) -> None:
    app, tokens = sqlite_world
    calls = _fuzz(app, tokens[role], subtests, examples(4))
    assert len(calls) >= 48 and min(calls.values()) >= 1


def test_every_route_answers_as_documented_on_postgresql(postgres, tmp_path: Path,
                                                         subtests) -> None:
    rt, tokens = _world(tmp_path, postgres.new_database())
    app = create_app(rt)
    with TestClient(app):
        calls = _fuzz(app, tokens["admin"], subtests, examples(4))
    assert len(calls) >= 48 and min(calls.values()) >= 1
    rt.engine.dispose()
