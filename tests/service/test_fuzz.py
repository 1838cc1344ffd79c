"""Fuzzing every API route from its OpenAPI schema (schemathesis), on the world `make run`
makes (demo data, demo users and their tokens, demo proposals), as each of those users and as
the public. No answer may be a 500, every answer must be documented (status code, content
type, body schema, headers), requests that break the schema must be refused, routes that need
a token must refuse without one.

Two kinds of runs:
- per operation: valid and invalid requests, each on its own;
- stateful: chains of calls along the schema's OpenAPI links (service/api/links.py) and the
  links schemathesis infers, one resource family at a time, so that a created organisation's
  id reaches the PUT and DELETE on it, a created need its suggestions, and so on. Values it
  has not got from an answer come from the schema and from the app's own constants, such as
  the names of Oslo's bydeler; that is how a rename to a taken name or a contact person in an
  existing organisation are reached at all. Free text is sometimes sent as people paste it,
  with whitespace around it (``PASTED``).

Not checked: that every schema-valid request is accepted. Some rules cannot be written in JSON
Schema (the org.nr check digit, an organisation that must exist, a file's contents, which
organisation an administrator writes for); those are refused with 422 and a reason, which is
the documented answer. `make test-slow` runs 25 × as many examples."""

from __future__ import annotations

import random
import traceback
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.openapi.checks import EnsureResourceAvailability
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from models.importing import MAX_DESCRIPTION
from service.api.types import TEXT
from service.app import create_app
from service.config import Settings
from service.runtime import seed_demo_proposals, seed_demo_users
from tests.conftest import demo_runtime, examples

ROLES = ["public", "admin", "municipal", "entrepreneur", "reviewer", "organiser"]
# Operations of one resource family, by tag, for the stateful runs.
FAMILIES = {
    "organisasjoner": ["organisasjoner", "personvern"],
    "behov": ["behov", "forslag", "vurdering"],
    "entreprenører": ["entreprenører", "forslag", "personvern"],
    "konferanser": ["konferanser"],
}
# Scenarios per family and role in a stateful run (times 25 with `make test-slow`), and the
# most calls in one scenario. The administrator may call every write; the others are
# refused most writes, which is quickly shown. The administrator's organisations get three
# times as many: the longest chains of writes (create, rename, move, add contact persons,
# delete), at about 0.15 s a scenario.
SCENARIOS = {"admin": 20, "municipal": 5, "organiser": 5}
STEPS = 8
# Text as people paste it: whitespace around a value. The schema allows it (only control
# characters are refused) and the services trim it, so what is stored differs from what was
# sent; the stateful runs send a third of the free-text fields that way.
PASTED = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u0085", "\u2028"]
pasting = random.Random()


def _scenarios(role: str, family: str) -> int:
    n = SCENARIOS.get(role, 3)
    return examples(3 * n if (role, family) == ("admin", "organisasjoner") else n)


class AsServed:
    """The app as a server runs it: an exception after the 500 has gone out is kept (for the
    report) instead of being raised into the client, so the client sees what a user sees."""

    def __init__(self, app: Any) -> None:
        self.app, self.errors = app, []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # the 500 was sent by Starlette's ServerErrorMiddleware
            self.errors.append("".join(traceback.format_exception(exc))[-2000:])


def _world(home: Path, url: str | None):
    """Demo data, demo users, demo proposals: what `brobygger demo seed` makes. The tokens
    are read from the file it writes (var/demo-innlogging.txt under `make run`)."""
    settings = Settings(home=home, database_url=url) if url else Settings(home=home)
    rt = demo_runtime(settings)
    seed_demo_users(rt)
    seed_demo_proposals(rt)
    tokens: dict[str, str | None] = {"public": None}
    for line in (home / "demo-innlogging.txt").read_text(encoding="utf-8").splitlines():
        tokens[line.split()[0]] = line.split("token: ")[1]
    return rt, tokens


def _fuzz(app: AsServed, token: str | None, subtests, n: int) -> dict[str, int]:
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
        @settings(
            max_examples=n * len(strategies),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        with subtests.test(msg=operation.label):
            check()
    return calls


def _erased_earlier(recorder: Any, case: Any, exc: FailureGroup) -> bool:
    """Whether the only failure is "created resource not found" for a resource this scenario
    erased (GDPR, ``POST /api/v1/privacy/…/erase``): that check counts only a DELETE as
    removing a resource."""
    if not all(isinstance(e, EnsureResourceAvailability) for e in exc.exceptions):
        return False
    erase = case.formatted_path.replace("/api/v1/", "/api/v1/privacy/", 1) + "/erase"
    for case_id, node in recorder.cases.items():
        answer = recorder.interactions.get(case_id)
        if (
            node.value.method.upper() == "POST"
            and node.value.formatted_path == erase
            and answer is not None
            and answer.response is not None
            and answer.response.status_code == 200
        ):
            return True
    return False


def _report(failures: list[str]) -> str:
    """How many of each kind of failure (operation, status, checks), and the first of each."""
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for failure in failures:
        head = failure.splitlines()[0]
        first.setdefault(head, failure)
        count[head] = count.get(head, 0) + 1
    heads = "\n".join(f"  {n} × {head}" for head, n in count.items())
    return f"{len(failures)} failed checks:\n{heads}\n\n" + "\n\n".join(first.values())


def _free_text(openapi: dict[str, Any], path: str, method: str) -> dict[str, int]:
    """The fields of an operation's JSON body that take free text (``TEXT``), with their
    maximum length."""
    body = openapi["paths"][path][method].get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    fields = {}
    for name, prop in schema.get("properties", {}).items():
        for option in prop.get("anyOf", [prop]):
            if option.get("pattern") == TEXT:
                fields[name] = option.get("maxLength", MAX_DESCRIPTION)
    return fields


def _paste(case: Any, fields: dict[str, int]) -> None:
    if not isinstance(case.body, dict):
        return
    for name, limit in fields.items():
        value = case.body.get(name)
        if isinstance(value, str) and pasting.random() < 1 / 3:
            pad = pasting.choice(PASTED)
            pasted = pad + value if pasting.random() < 0.5 else value + pad
            if len(pasted) <= limit:
                case.body[name] = pasted


def _stateful(
    app: AsServed, token: str | None, tags: list[str], scenarios: int
) -> tuple[dict[str, int], list[str]]:
    """Chains of valid requests along the links between the operations with ``tags``;
    returns the answers per (operation, status) and one report per failed check."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(tag=tags)
    if token:
        schema.config.update(headers={"Authorization": f"Bearer {token}"})
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])  # negatives: _fuzz
    answers: dict[str, int] = {}
    failures: list[str] = []
    done = [0]  # scenarios run

    openapi = app.app.openapi()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case) -> None:
            _paste(case, _free_text(openapi, case.operation.path, case.operation.method))

        def teardown(self) -> None:
            done[0] += 1
            super().teardown()

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            label = f"{case.operation.label} {response.status_code}"
            answers[label] = answers.get(label, 0) + 1
            try:
                # ignored_auth sends each request twice more (no token, a bad one): the
                # per-operation runs check that for every route already.
                case.validate_response(
                    response,
                    excluded_checks=[positive_data_acceptance, ignored_auth],
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as exc:
                if _erased_earlier(self.recorder, case, exc):
                    return
                # Kept, not raised: the database has moved on, so Hypothesis could not
                # replay the scenario anyway; the request itself is the reproduction.
                server = app.errors[-1] if response.status_code >= 500 and app.errors else ""
                checks = ", ".join(sorted({type(e).__name__ for e in exc.exceptions}))
                failures.append(
                    f"{label} ({checks})\n{exc}\nThe scenario so far:\n{self._steps()}\n{server}"
                )

        def _steps(self) -> str:
            lines = []
            for case_id, node in self.recorder.cases.items():
                answer = self.recorder.interactions.get(case_id)
                status = answer.response.status_code if answer and answer.response else "-"
                lines.append(f"  {status} {node.value.as_curl_command(headers={})}")
            return "\n".join(lines)

    for _attempt in range(scenarios):  # each attempt runs one scenario at least
        run = settings(
            max_examples=scenarios - done[0],
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        try:
            Workflow.run(settings=run)
            break
        except Flaky:
            # Hypothesis saw a step draw differently from an earlier scenario with the same
            # start: the data changed in between (it is a live database). The calls made
            # were checked; go on with the scenarios left, on the data as it is now.
            if done[0] >= scenarios:
                break
    return answers, failures


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory):
    rt, tokens = _world(tmp_path_factory.mktemp("fuzz"), None)
    app = create_app(rt)
    with TestClient(app):
        yield AsServed(app), tokens
    rt.engine.dispose()


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_as_documented(sqlite_world, role: str, subtests) -> None:
    app, tokens = sqlite_world
    calls = _fuzz(app, tokens[role], subtests, examples(4))
    assert len(calls) >= 48 and min(calls.values()) >= 1


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("role", ROLES)
def test_chains_of_calls_answer_as_documented(sqlite_world, role: str, family: str) -> None:
    app, tokens = sqlite_world
    scenarios = _scenarios(role, family)
    answers, failures = _stateful(app, tokens[role], FAMILIES[family], scenarios)
    assert not failures, _report(failures)
    assert sum(answers.values()) >= scenarios, answers
    if role == "admin" and family == "organisasjoner":
        # the chains got where the 500s were: a created organisation renamed, contact
        # persons saved in an organisation that exists
        assert answers.get("PUT /api/v1/organisations/{organisation_id} 200")
        assert answers.get("POST /api/v1/contacts 201")


def test_every_route_answers_as_documented_on_postgresql(
    postgres, tmp_path: Path, subtests
) -> None:
    rt, tokens = _world(tmp_path, postgres.new_database())
    app = create_app(rt)
    served = AsServed(app)
    with TestClient(app):
        calls = _fuzz(served, tokens["admin"], subtests, examples(4))
        _answers, failures = _stateful(
            served, tokens["admin"], FAMILIES["organisasjoner"], examples(SCENARIOS["admin"])
        )
    assert len(calls) >= 48 and min(calls.values()) >= 1
    assert not failures, _report(failures)
    assert not served.errors, served.errors[0]
    rt.engine.dispose()
