"""Property tests (Hypothesis) for the import, the text pipeline and the scheduler: whatever
the input, validation answers with row errors instead of crashing, text handling is stable,
and every schedule keeps every constraint."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.scheduling import InfeasibleError, Instance, Person, greedy, solve, violations
from matcher.text import NorwegianAnalyzer, content_hash, normalise, sentences, tokens
from models.importing import ImportValidationError, validate_rows
from models.validation import org_nr_problem, with_check_digit
from tests.conftest import examples

FAST = settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
NORWEGIAN = st.text(
    alphabet=st.sampled_from(string.ascii_letters + "æøåÆØÅéü -.,!?\n\t0123456789'«»–"),
    max_size=300,
)
ANY_TEXT = st.one_of(NORWEGIAN, st.text(max_size=200))


# -- import ------------------------------------------------------------------------------------


@FAST
@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_org_nr_check_digit_catches_every_single_digit_error(first_eight: str) -> None:
    valid = with_check_digit(first_eight)
    if valid is None:  # no check digit exists for these eight (remainder gives 10)
        return
    assert org_nr_problem(valid) is None
    for pos in range(9):
        for digit in "0123456789":
            if digit != valid[pos]:
                changed = valid[:pos] + digit + valid[pos + 1 :]
                assert org_nr_problem(changed) is not None, changed


JSONISH: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "id",
    "name",
    "org_nr",
    "description",
    "themes",
    "service_areas",
    "language",
    "title",
    "organisation",
    "email",
    "fields",
    "capacity",
    "deadline",
    "target_groups",
]


@FAST
@given(
    st.sampled_from(["entrepreneurs", "challenges", "contacts"]),
    st.lists(st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=8), max_size=5),
)
def test_import_validation_never_crashes(kind: str, rows: list[dict[str, Any]]) -> None:
    """Any rows at all: either valid records or a list of row errors in Norwegian."""
    try:
        records = validate_rows(kind, rows)
    except ImportValidationError as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.reason and 0 <= error.row <= len(rows) + 1
    else:
        assert len(records) == len(rows)


# -- text --------------------------------------------------------------------------------------


@FAST
@given(ANY_TEXT)
def test_text_pipeline_is_stable(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert content_hash(text) == content_hash(once) == content_hash(f"  {text}\n")
    parts = sentences(once)
    assert all(p == p.strip() and p for p in parts)
    assert tokens(" ".join(parts)) == tokens(once)  # splitting loses no word
    analyzer = NorwegianAnalyzer()
    assert all(stem for stem, _ in analyzer.terms(text))  # never empty, never raises


# -- scheduler ---------------------------------------------------------------------------------


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    n_m, n_e = draw(st.integers(1, 7)), draw(st.integers(1, 6))
    slots, tables = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    slot = st.integers(1, slots)
    municipal = [
        Person(
            f"m{i}",
            f"Ansatt {i}",
            f"Org {draw(st.integers(0, 2))}",
            max_meetings=draw(st.integers(1, slots)),
            unavailable=frozenset(draw(st.lists(slot, max_size=slots - 1))),
        )
        for i in range(n_m)
    ]
    entrepreneurs = [
        Person(
            f"e{j}",
            f"Entreprenør {j}",
            max_meetings=draw(st.none() | st.integers(1, slots)),
            min_meetings=draw(st.integers(0, 2)),
            unavailable=frozenset(draw(st.lists(slot, max_size=slots - 1))),
        )
        for j in range(n_e)
    ]
    seed = draw(st.integers(0, 2**16))
    affinity = np.random.default_rng(seed).random((n_m, n_e)).round(3)
    pair = st.tuples(st.integers(0, n_m - 1), st.integers(0, n_e - 1))
    avoid = set(draw(st.lists(pair, max_size=3)))
    want = set(draw(st.lists(pair, max_size=2))) - avoid
    return Instance(
        municipal=municipal,
        entrepreneurs=entrepreneurs,
        affinity=affinity,
        slots=slots,
        tables=tables,
        avoid=avoid,
        want=want,
        max_per_organisation=draw(st.none() | st.integers(1, 2)),
    )


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_schedule_keeps_every_constraint(inst: Instance) -> None:
    try:
        planned = solve(inst, time_limit=5)
    except InfeasibleError as exc:  # refused, with a reason, never a broken plan
        assert str(exc)
        return
    assert violations(inst, planned.meetings) == []
    assert planned.objective <= planned.upper_bound + 1e-6
    baseline = greedy(inst)
    assert violations(inst, baseline.meetings) == []
