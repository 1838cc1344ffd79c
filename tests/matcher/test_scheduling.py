"""The conference scheduler: every constraint on generated instances, the objective against
an independent exact solve on small ones, priorities (minimums, wishes) and clear refusals."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from matcher.scheduling import (
    InfeasibleError,
    Instance,
    Person,
    after_no_show,
    greedy,
    solve,
    violations,
)


def generated(
    seed: int,
    n_m: int,
    n_e: int,
    slots: int,
    tables: int,
    *,
    orgs: int = 3,
    cap: int | None = None,
    minimum: int = 0,
    busy: float = 0.15,
    avoid: float = 0.03,
    want: int = 2,
) -> Instance:
    rng = np.random.default_rng(seed)

    def unavailable() -> frozenset[int]:
        return frozenset(s for s in range(1, slots + 1) if rng.random() < busy)

    municipal = [
        Person(
            f"m{i}",
            f"Ansatt {i}",
            f"Org {i % orgs}",
            max_meetings=int(rng.integers(1, slots + 1)),
            unavailable=unavailable(),
        )
        for i in range(n_m)
    ]
    entrepreneurs = [
        Person(
            f"e{j}",
            f"Entreprenør {j}",
            max_meetings=cap,
            min_meetings=minimum,
            unavailable=unavailable(),
        )
        for j in range(n_e)
    ]
    # affinities shaped like real ones: a few themes shared, plus noise
    topics_m = rng.integers(0, 5, n_m)
    topics_e = rng.integers(0, 5, n_e)
    aff = np.clip(
        0.35 + 0.4 * (topics_m[:, None] == topics_e[None, :]) + rng.normal(0, 0.12, (n_m, n_e)),
        0,
        1,
    ).round(4)
    pairs = [(i, j) for i in range(n_m) for j in range(n_e)]
    picks = rng.permutation(len(pairs))
    n_avoid = int(avoid * len(pairs))
    return Instance(
        municipal=municipal,
        entrepreneurs=entrepreneurs,
        affinity=aff,
        slots=slots,
        tables=tables,
        avoid={pairs[k] for k in picks[:n_avoid]},
        want={pairs[k] for k in picks[n_avoid : n_avoid + want]},
        max_per_organisation=2,
    )


def exact_optimum(inst: Instance) -> float:
    """Max total affinity by one integer programme over (municipal, entrepreneur, slot):
    written separately from the scheduler, sharing none of its code."""
    var = []
    for i, m in enumerate(inst.municipal):
        for j, e in enumerate(inst.entrepreneurs):
            if (i, j) in inst.avoid:
                continue
            for s in range(1, inst.slots + 1):
                if s not in m.unavailable and s not in e.unavailable:
                    var.append((i, j, s))
    groups: dict[tuple, list[int]] = {}
    limits: dict[tuple, float] = {}
    for k, (i, j, s) in enumerate(var):
        for key, lim in (
            (("ms", i, s), 1),
            (("es", j, s), 1),
            (("pair", i, j), 1),
            (("slot", s), inst.tables),
            (("m", i), inst.municipal[i].max_meetings or inst.slots),
            (("e", j), inst.entrepreneurs[j].max_meetings or inst.slots),
        ):
            groups.setdefault(key, []).append(k)
            limits[key] = lim
        if inst.max_per_organisation is not None and (i, j) not in inst.want:
            key = ("org", inst.municipal[i].organisation, j)
            groups.setdefault(key, []).append(k)
            limits[key] = inst.max_per_organisation
    rows, cols = [], []
    for r, ks in enumerate(groups.values()):
        rows += [r] * len(ks)
        cols += ks
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(groups), len(var)))
    res = milp(
        -np.array([inst.affinity[i, j] for i, j, _ in var]),
        constraints=[LinearConstraint(a, 0, np.array(list(limits.values())))],
        bounds=Bounds(0, 1),
        integrality=np.ones(len(var)),
    )
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("seed", range(8))
def test_every_constraint_holds_on_generated_instances(seed: int) -> None:
    inst = generated(seed, n_m=30, n_e=15, slots=6, tables=8, cap=5, minimum=2)
    for schedule in (solve(inst), greedy(inst)):
        assert violations(inst, schedule.meetings) == []
        assert schedule.objective <= schedule.upper_bound + 1e-6
        assert schedule.objective == pytest.approx(sum(m.affinity for m in schedule.meetings))
    # without priorities to honour, the solver is never worse than the greedy baseline
    plain = generated(seed, n_m=30, n_e=15, slots=6, tables=8, cap=5, want=0)
    assert solve(plain).objective >= greedy(plain).objective - 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_objective_matches_an_independent_exact_solve(seed: int) -> None:
    inst = generated(seed, n_m=6, n_e=4, slots=3, tables=3, orgs=2, want=0)
    exact = exact_optimum(inst)
    schedule = solve(inst)
    assert violations(inst, schedule.meetings) == []
    assert schedule.upper_bound >= exact - 1e-6  # the bound is a bound
    assert schedule.objective <= exact + 1e-6  # nothing better than the optimum exists
    assert schedule.objective >= 0.97 * exact, (schedule.objective, exact)


def test_minimum_meetings_are_honoured_when_feasible_and_reported_when_not() -> None:
    inst = generated(3, n_m=20, n_e=6, slots=4, tables=10, minimum=3, busy=0.0, want=0)
    inst.affinity[:, 0] = 0.01  # nobody's first choice
    schedule = solve(inst)
    per_e = Counter(m.entrepreneur for m in schedule.meetings)
    assert per_e[0] >= 3 and not schedule.notes
    # an entrepreneur free in one slot only cannot get three meetings: said by name
    inst.entrepreneurs[1] = Person(
        "e1", "Entreprenør 1", min_meetings=3, unavailable=frozenset({2, 3, 4})
    )
    schedule = solve(inst)
    assert any("Entreprenør 1 fikk 1 møter, færre enn minimum 3" in n for n in schedule.notes)


def test_wanted_pairs_meet_and_the_organisation_cap_holds() -> None:
    inst = generated(5, n_m=12, n_e=4, slots=4, tables=6, orgs=1, busy=0.0, want=0)
    inst.affinity[:, 0] = 0.99  # everyone would like entrepreneur 0
    inst.affinity[7, 3] = 0.0
    inst.want = {(7, 3)}
    schedule = solve(inst)
    met = {(m.municipal, m.entrepreneur) for m in schedule.meetings}
    assert (7, 3) in met
    assert sum(1 for i, j in met if j == 0) <= 2  # one organisation, cap 2
    assert violations(inst, schedule.meetings) == []


def test_refuses_an_instance_without_any_possible_meeting() -> None:
    inst = generated(1, n_m=3, n_e=2, slots=2, tables=1, busy=0.0)
    inst.avoid = {(i, j) for i in range(3) for j in range(2)}
    with pytest.raises(InfeasibleError, match="Ingen par kan møtes"):
        solve(inst)
    inst.avoid = set()
    inst.tables = 0
    with pytest.raises(InfeasibleError, match="minst ett bord"):
        solve(inst)


def test_progress_is_reported() -> None:
    steps = []
    solve(generated(2, n_m=8, n_e=4, slots=3, tables=3), progress=lambda s, x: steps.append(x))
    assert steps[0] < steps[-1] == 1.0 and steps == sorted(steps)


# -- organisers' changes: locks, moves, removals, no-shows ------------------------------------


def test_locked_and_moved_meetings_stay_and_the_rest_is_re_planned() -> None:
    inst = generated(11, n_m=20, n_e=10, slots=5, tables=8, busy=0.1)
    first = solve(inst)
    keep = first.meetings[0]
    moved = first.meetings[1]
    pair = (moved.municipal, moved.entrepreneur)
    # move one meeting to another slot where both are free (the organiser's swap)
    target = next(
        s
        for s in range(1, inst.slots + 1)
        if s != moved.slot
        and s not in inst.municipal[pair[0]].unavailable
        and s not in inst.entrepreneurs[pair[1]].unavailable
        and (keep.slot != s or {keep.municipal, keep.entrepreneur}.isdisjoint(pair))
    )
    removed = first.meetings[2]
    inst.fixed = {(keep.municipal, keep.entrepreneur): keep.slot, pair: target}
    inst.avoid = inst.avoid | {(removed.municipal, removed.entrepreneur)}
    again = solve(inst)
    assert violations(inst, again.meetings) == []  # includes: fixed meetings kept
    at = {(m.municipal, m.entrepreneur): m.slot for m in again.meetings}
    assert at[pair] == target and at[(keep.municipal, keep.entrepreneur)] == keep.slot
    assert (removed.municipal, removed.entrepreneur) not in at
    base = greedy(inst)
    assert violations(inst, base.meetings) == []


def test_a_no_show_re_plans_the_rest_of_the_day() -> None:
    inst = generated(12, n_m=16, n_e=8, slots=6, tables=8, busy=0.0, minimum=2)
    first = solve(inst)
    absent = first.meetings[0].entrepreneur
    later = after_no_show(inst, first.meetings, entrepreneurs=[absent], from_slot=3)
    again = solve(later)
    assert violations(later, again.meetings) == []
    before = sorted((m.slot, m.municipal, m.entrepreneur) for m in first.meetings if m.slot < 3)
    kept = sorted((m.slot, m.municipal, m.entrepreneur) for m in again.meetings if m.slot < 3)
    assert kept == before  # what happened stays as it was
    assert all(m.entrepreneur != absent for m in again.meetings if m.slot >= 3)
    # the freed places are used: their partners are not left with an empty slot for nothing
    assert len(again.meetings) >= len(first.meetings) - sum(
        1 for m in first.meetings if m.entrepreneur == absent and m.slot >= 3
    )


def test_impossible_locks_are_refused_by_name() -> None:
    inst = generated(13, n_m=4, n_e=3, slots=3, tables=3, busy=0.0)
    inst.fixed = {(0, 0): 1, (0, 1): 1}
    with pytest.raises(InfeasibleError, match="kolliderer med et annet låst møte"):
        solve(inst)
    inst.fixed = {(0, 0): 1}
    inst.avoid = {(0, 0)}
    with pytest.raises(InfeasibleError, match="holdes fra hverandre"):
        solve(inst)
