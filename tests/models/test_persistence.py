"""Model and persistence tests, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models.db import create_db_engine, current_revision, session_scope, upgrade
from models.importing import ImportValidationError, import_rows, read_rows
from models.organisations import classify_organisation, place_of
from models.tables import Challenge, Contact, Entrepreneur, Organisation, Proposal, ReviewEvent

REPO = Path(__file__).resolve().parents[2]

GOOD_ENTREPRENEUR = {
    "id": "se-test",
    "name": "Testbedriften AS",
    "org_nr": "974760673",
    "description": "Vi gir arbeidstrening til unge voksne.",
    "themes": ["arbeidsinkludering"],
    "service_areas": ["Oslo"],
    "language": "nb",
}


@pytest.fixture
def engine(db_url: str):
    engine = create_db_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _head() -> str:
    from alembic.script import ScriptDirectory

    from models.db import alembic_config

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


def test_migrations_reach_head_and_are_idempotent(engine) -> None:
    assert current_revision(engine) == _head()
    upgrade(engine)  # second run is a no-op
    tables = set(sa.inspect(engine).get_table_names())
    assert {
        "organisation",
        "contact",
        "entrepreneur",
        "challenge",
        "proposal",
        "reviewevent",
        "conference",
        "participant",
        "meeting",
        "embeddingcache",
    } <= tables


def test_migrations_go_down_and_up_again(engine) -> None:
    from alembic import command

    from models.db import alembic_config

    with engine.begin() as conn:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == _head()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(engine) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        with session_scope(engine) as session:
            session.add(
                Challenge(external_id="x", organisation_id=9999, title="t", description="d")
            )


def test_round_trip_with_lists_and_timestamps(engine) -> None:
    with session_scope(engine) as session:
        result = import_rows(session, "entrepreneurs", [GOOD_ENTREPRENEUR])
    assert result.created == ["se-test"]
    with session_scope(engine) as session:
        e = session.exec(select(Entrepreneur)).one()
        assert e.themes == ["arbeidsinkludering"] and e.service_areas == ["Oslo"]
        assert e.created_at is not None and e.created_at.tzinfo is not None
        first_update = e.updated_at
        e.description = "Ny beskrivelse."
    with session_scope(engine) as session:
        e = session.exec(select(Entrepreneur)).one()
        assert e.updated_at >= first_update and e.description == "Ny beskrivelse."


def test_import_upserts_by_external_id(engine) -> None:
    with session_scope(engine) as session:
        import_rows(session, "entrepreneurs", [GOOD_ENTREPRENEUR])
    changed = dict(GOOD_ENTREPRENEUR, name="Nytt navn AS", contact_email="post@test.no")
    with session_scope(engine) as session:
        result = import_rows(session, "entrepreneurs", [changed])
    assert result.updated == ["se-test"] and not result.created
    with session_scope(engine) as session:
        rows = session.exec(select(Entrepreneur)).all()
        assert [r.name for r in rows] == ["Nytt navn AS"]
        contact = session.get(Contact, rows[0].contact_id)
        assert contact is not None and contact.email == "post@test.no"


def test_bad_file_is_refused_whole_with_every_error(engine) -> None:
    rows = [
        GOOD_ENTREPRENEUR,
        dict(GOOD_ENTREPRENEUR, id="se-2", org_nr="974760674"),
        dict(GOOD_ENTREPRENEUR, id="se-3", themes=["gamle"], description=""),
        dict(GOOD_ENTREPRENEUR, id="se-test", language="de", farge="blå"),
    ]
    with pytest.raises(ImportValidationError) as info:
        with session_scope(engine) as session:
            import_rows(session, "entrepreneurs", rows)
    found = {(e.row, e.field) for e in info.value.errors}
    assert {
        (2, "org_nr"),
        (3, "themes"),
        (3, "description"),
        (4, "language"),
        (4, "farge"),
        (4, "id"),
    } <= found
    assert all(str(e).startswith("rad ") for e in info.value.errors)
    with session_scope(engine) as session:
        assert session.exec(select(Entrepreneur)).all() == []


def test_challenge_import_creates_organisations_with_kind_and_parent(engine) -> None:
    rows = [
        {
            "id": "c1",
            "organisation": "Bydel Grorud",
            "title": "Arbeidstrening",
            "description": "Unge trenger jobb.",
            "themes": "arbeidsinkludering;barn-og-unge",
            "language": "nb",
            "contact_name": "Kari Nordby",
            "contact_email": "kari@example.no",
        },
        {
            "id": "c2",
            "organisation": "Asker kommune",
            "title": "Eldre",
            "description": "Eldre trenger hjelp.",
            "themes": ["eldre"],
            "language": "nb",
            "deadline": "2027-03-01",
            "status": "draft",
        },
        {
            "id": "c3",
            "organisation": "Bymiljøetaten",
            "title": "Søppel",
            "description": "For mye søppel.",
            "themes": ["miljø-og-klima"],
            "language": "nb",
        },
    ]
    with session_scope(engine) as session:
        import_rows(session, "challenges", rows)
    with session_scope(engine) as session:
        orgs = {o.name: o for o in session.exec(select(Organisation))}
        assert orgs["Bydel Grorud"].kind == "bydel"
        assert orgs["Bydel Grorud"].parent_id == orgs["Oslo kommune"].id
        assert orgs["Asker kommune"].kommunenummer == "3203"
        assert orgs["Bymiljøetaten"].kind == "etat"
        assert place_of(session, orgs["Bydel Grorud"]) == ("Bydel Grorud", "Oslo")
        assert place_of(session, orgs["Bymiljøetaten"]) == (None, "Oslo")
        assert place_of(session, orgs["Asker kommune"]) == (None, "Asker")
        c1 = session.exec(select(Challenge).where(Challenge.external_id == "c1")).one()
        assert c1.themes == ["arbeidsinkludering", "barn-og-unge"] and c1.status == "open"
        owner = session.get(Contact, c1.owner_contact_id)
        assert owner is not None and owner.name == "Kari Nordby"
        c2 = session.exec(select(Challenge).where(Challenge.external_id == "c2")).one()
        assert str(c2.deadline) == "2027-03-01" and c2.status == "draft"


def test_proposal_and_audit_rows(engine) -> None:
    with session_scope(engine) as session:
        import_rows(session, "entrepreneurs", [GOOD_ENTREPRENEUR])
        import_rows(
            session,
            "challenges",
            [
                {
                    "id": "c1",
                    "organisation": "Bydel Alna",
                    "title": "t",
                    "description": "d",
                    "themes": ["eldre"],
                    "language": "nb",
                }
            ],
        )
    with session_scope(engine) as session:
        e = session.exec(select(Entrepreneur)).one()
        c = session.exec(select(Challenge)).one()
        p = Proposal(
            challenge_id=c.id,
            entrepreneur_id=e.id,
            score=0.8,
            features={"similarity": 0.5},
            explanation={"summary": "Felles temaer"},
        )
        session.add(p)
        session.flush()
        session.add(
            ReviewEvent(
                proposal_id=p.id, actor="system", action="propose", to_status="proposed", score=0.8
            )
        )
    with pytest.raises(sa.exc.IntegrityError):  # one proposal per pair
        with session_scope(engine) as session:
            session.add(Proposal(challenge_id=c.id, entrepreneur_id=e.id, score=0.1))


def test_demo_data_imports_cleanly(engine) -> None:
    demo = REPO / "data" / "demo"
    with session_scope(engine) as session:
        for kind in ("contacts", "entrepreneurs", "challenges"):
            import_rows(session, kind, read_rows(demo / f"{kind}.json"))
    with session_scope(engine) as session:
        assert len(session.exec(select(Entrepreneur)).all()) >= 30
        opened = session.exec(select(Challenge).where(Challenge.status == "open")).all()
        assert len(opened) >= 25
        bydeler = {o.name for o in session.exec(select(Organisation)) if o.kind == "bydel"}
        assert len(bydeler) >= 12


def test_csv_and_json_read_the_same(tmp_path: Path) -> None:
    js = tmp_path / "e.json"
    js.write_text(json.dumps([GOOD_ENTREPRENEUR]), encoding="utf-8")
    csv_path = tmp_path / "e.csv"
    header = list(GOOD_ENTREPRENEUR)
    values = [";".join(v) if isinstance(v, list) else v for v in GOOD_ENTREPRENEUR.values()]
    csv_path.write_text(
        ",".join(header) + "\n" + ",".join(f'"{v}"' for v in values) + "\n", encoding="utf-8"
    )
    from models.importing import validate_rows

    a = validate_rows("entrepreneurs", read_rows(js))
    b = validate_rows("entrepreneurs", read_rows(csv_path))
    assert a == b


@pytest.mark.parametrize(
    "content,suffix,reason",
    [
        ("{not json", ".json", "ugyldig JSON"),
        ('{"a": 1}', ".json", "liste av objekter"),
        ("x", ".xml", "ukjent filtype"),
        ("[]", ".json", "ingen rader"),
    ],
)
def test_unreadable_files_are_explained(
    tmp_path: Path, content: str, suffix: str, reason: str
) -> None:
    from models.importing import validate_rows

    path = tmp_path / f"f{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportValidationError) as info:
        validate_rows("entrepreneurs", read_rows(path))
    assert reason in str(info.value.errors[0])


def test_classify_organisation() -> None:
    assert classify_organisation("Bydel Stovner") == ("bydel", "Oslo kommune", None)
    assert classify_organisation("Steinkjer kommune") == ("kommune", None, "5006")
    assert classify_organisation("Helseetaten")[0] == "etat"
    assert classify_organisation("Frelsesarmeen")[0] == "annet"
