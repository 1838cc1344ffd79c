"""Proposals record what was suggested; decisions on them train the learned ranker."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from models.db import session_scope
from models.importing import import_rows, read_rows
from models.tables import Proposal, ReviewEvent
from service.config import Settings
from service.matching import open_challenges, suggest
from service.proposals import save_proposals, train_ranker
from service.runtime import open_runtime
from service.search import sync_engine
from tests.conftest import REPO, run_cli

GOLD = REPO / "data" / "gold"


def _gold_home(home: Path):
    rt = open_runtime(Settings(home=home))
    with session_scope(rt.engine) as session:
        import_rows(session, "entrepreneurs", read_rows(GOLD / "entrepreneurs.json"))
        import_rows(session, "challenges", read_rows(GOLD / "challenges.json"))
    sync_engine(rt.engine, rt.store)
    return rt


def _setup(home: Path):
    rt = _gold_home(home)
    with session_scope(rt.engine) as session:
        for ch in open_challenges(session):
            result = suggest(session, rt.store, ch, limit=12, fair=False, threshold=False)
            save_proposals(session, ch, result, origin="staff")  # staff chose them all
    return rt


def test_proposals_keep_explanation_and_ranker_version(home: Path) -> None:
    rt = _setup(home)
    with session_scope(rt.engine) as session:
        proposals = session.exec(select(Proposal)).all()
        assert len(proposals) == 18 * 12
        p = proposals[0]
        assert p.ranker_version == "standard-v3" and p.explanation["summary"]
        assert set(p.features) >= {"similarity", "lexical", "themes", "area"}
        events = session.exec(select(ReviewEvent).where(ReviewEvent.proposal_id == p.id)).all()
        assert [(e.action, e.to_status, e.ranker_version) for e in events] == [
            ("propose", "proposed", "standard-v3")
        ]
        assert events[0].explanation == p.explanation
        # saving again does not duplicate or overwrite
        ch = open_challenges(session)[0]
        again = save_proposals(
            session, ch, suggest(session, rt.store, ch, limit=12, fair=False, threshold=False)
        )
        assert again == []


def test_the_automatic_step_sends_only_those_at_the_review_cut(home: Path) -> None:
    from matcher.confidence import REVIEW_CUT

    rt = _gold_home(home)
    with session_scope(rt.engine) as session:
        sent = shown = 0
        for ch in open_challenges(session):
            result = suggest(session, rt.store, ch, limit=12, fair=False)
            assert len(result.suggestions) == 12  # the list people read is never cut
            saved = save_proposals(session, ch, result)  # origin "system"
            by_id = {s.id: s for s in result.suggestions}
            assert all(by_id[p.entrepreneur_id].confidence >= REVIEW_CUT for p in saved)
            sent += len(saved)
            shown += sum(1 for s in result.suggestions if s.confidence >= REVIEW_CUT)
        assert 0 < sent == shown < 18 * 12


def test_learned_ranker_is_used_only_when_it_beats_the_default(home: Path) -> None:
    rt = _setup(home)
    out = run_cli(home, "ranker", "train")
    assert "For få vurderinger" in out.stdout

    # Reviewers who always prefer entrepreneurs working where the need is.
    with session_scope(rt.engine) as session:
        for p in session.exec(select(Proposal)):
            p.status = "approved" if p.features["area"] == 1.0 else "rejected"
    with session_scope(rt.engine) as session:
        result = train_ranker(session, rt.settings.index_dir)
    assert result.model is not None and result.model.active, result.heldout
    status = run_cli(home, "ranker", "status").stdout
    assert f"I bruk: {result.model.version}" in status
    with session_scope(rt.engine) as session:
        ch = open_challenges(session)[3]
        learned = suggest(session, rt.store, ch, limit=5, fair=False)
        assert learned.ranker_version == result.model.version
        assert all(s.explanation.get("scorer") == result.model.version for s in learned.suggestions)

    # Reviewers whose decisions carry no signal: the new model is kept but not used.
    with session_scope(rt.engine) as session:
        for i, p in enumerate(session.exec(select(Proposal).order_by(Proposal.id))):
            p.status = "approved" if (i * 7919) % 13 < 6 else "rejected"
    with session_scope(rt.engine) as session:
        noise = train_ranker(session, rt.settings.index_dir)
    assert noise.model is not None and not noise.model.active
    with session_scope(rt.engine) as session:
        ch = open_challenges(session)[3]
        assert suggest(session, rt.store, ch, limit=5).ranker_version == "standard-v3"
    assert "I bruk: standard-v3" in run_cli(home, "ranker", "status").stdout
