"""Conference scheduling: 1:1 meetings between municipal staff and entrepreneurs, placed in
time slots and at tables, maximising total affinity under every constraint (SPEC §8).

The method, in three steps:

1. **Upper bound.** The linear relaxation of the *pair choice* (which pairs meet at all, each
   person within their meeting cap and their free slots, the cap per organisation and
   entrepreneur, at most slots × tables meetings) bounds every feasible schedule from above:
   a schedule is a pair choice plus a placement. Solved with HiGHS (``scipy.optimize.milp``).
2. **Pair choice.** The same model as an integer programme with priorities: each
   entrepreneur's minimum number of meetings (equal treatment) and the pairs that asked to
   meet outweigh affinity, so they are honoured whenever the constraints allow, and any
   shortfall is reported by name.
3. **Placement.** The chosen pairs are placed in slots (no one in two meetings at once, only
   in their free slots, at most ``tables`` meetings per slot): most constrained first, with a
   repair step that moves a blocking meeting to another slot; free places are then filled
   with the best remaining pairs.
4. **Joint model.** Pairs and slots at once, as one integer programme y[pair, slot] with
   every constraint and the priorities: over all pairs when the instance is small (then the
   result is proven optimal), otherwise over the chosen pairs plus each person's best
   alternatives, within a time limit. The better of steps 3 and 4 is kept.

The objective is the sum of the affinities of the scheduled meetings; the gap is measured
against the bound of step 1, which knows neither the slots' conflicts nor the priorities, so
the gap includes the price of both. ``status`` is ``optimal`` when step 4 covered every pair
and HiGHS proved its optimum (for the objective with priorities), or when the schedule
reaches the bound.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

Progress = Callable[[str, float], None]

MIN_WEIGHT = 10.0  # per meeting short of an entrepreneur's minimum: above any affinity gain
WANT_WEIGHT = 2.0  # bonus for a pair that asked to meet: above any affinity difference


@dataclass(frozen=True)
class Person:
    """One participant; ``index`` is the row (municipal) or column (entrepreneur) of the
    affinity matrix. Slots are numbered from 1."""

    id: str
    name: str = ""
    organisation: str = ""
    max_meetings: int | None = None
    min_meetings: int = 0
    unavailable: frozenset[int] = frozenset()


@dataclass
class Instance:
    municipal: list[Person]
    entrepreneurs: list[Person]
    affinity: np.ndarray  # (municipal, entrepreneurs), values in [0, 1]
    slots: int
    tables: int
    avoid: set[tuple[int, int]] = field(default_factory=set)  # (municipal, entrepreneur)
    want: set[tuple[int, int]] = field(default_factory=set)
    max_per_organisation: int | None = None
    # meetings an organiser locked, or that already took place: pair -> slot, kept as they are
    fixed: dict[tuple[int, int], int] = field(default_factory=dict)

    def free_slots(self, person: Person) -> list[int]:
        return [s for s in range(1, self.slots + 1) if s not in person.unavailable]

    def cap(self, person: Person) -> int:
        free = len(self.free_slots(person))
        return free if person.max_meetings is None else min(free, person.max_meetings)

    def allowed_pairs(self) -> list[tuple[int, int]]:
        return [
            (i, j)
            for i in range(len(self.municipal))
            for j in range(len(self.entrepreneurs))
            if (i, j) in self.fixed
            or (
                (i, j) not in self.avoid
                and self.cap(self.municipal[i]) > 0
                and self.cap(self.entrepreneurs[j]) > 0
                and set(self.free_slots(self.municipal[i]))
                & set(self.free_slots(self.entrepreneurs[j]))
            )
        ]

    def lower_bounds(self, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        """1 for the fixed pairs (they must meet), 0 for the others."""
        return np.array([1.0 if p in self.fixed else 0.0 for p in pairs])


@dataclass
class Meeting:
    slot: int
    table: int
    municipal: int
    entrepreneur: int
    affinity: float


@dataclass
class Schedule:
    meetings: list[Meeting]
    objective: float
    upper_bound: float
    status: str  # optimal | feasible | infeasible
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.objective) / self.upper_bound)


class InfeasibleError(ValueError):
    """The instance has no schedule at all; the message names the constraint (Norwegian)."""


# -- the pair-choice model -------------------------------------------------------------------


def _pair_model(  # noqa: C901 - one branch per constraint family of one MILP, read together
    inst: Instance, pairs: list[tuple[int, int]], with_priorities: bool
) -> tuple[np.ndarray, list[LinearConstraint], int]:
    """Objective (to minimise) and constraints over x[pair] (+ shortfall u[entrepreneur])."""
    n_pairs = len(pairs)
    n_ent = len(inst.entrepreneurs)
    n_vars = n_pairs + (n_ent if with_priorities else 0)
    gain = np.array([inst.affinity[i, j] for i, j in pairs], dtype=float)
    if with_priorities:
        gain = gain + WANT_WEIGHT * np.array([p in inst.want for p in pairs], dtype=float)
    c = np.concatenate([-gain, np.full(n_vars - n_pairs, MIN_WEIGHT)])
    rows, cols, lo, hi = [], [], [], []
    r = 0

    def add(members: Sequence[int], low: float, high: float, extra: dict[int, float]) -> None:
        nonlocal r
        for k in members:
            rows.append(r)
            cols.append(k)
        lo.append(low)
        hi.append(high)
        for k, v in extra.items():
            rows.append(r)
            cols.append(k)
            data_extra.append((len(rows) - 1, v))
        r += 1

    data_extra: list[tuple[int, float]] = []
    by_m: dict[int, list[int]] = defaultdict(list)
    by_e: dict[int, list[int]] = defaultdict(list)
    by_org_e: dict[tuple[str, int], list[int]] = defaultdict(list)
    for k, (i, j) in enumerate(pairs):
        by_m[i].append(k)
        by_e[j].append(k)
        by_org_e[(inst.municipal[i].organisation, j)].append(k)
    for i, ks in by_m.items():
        add(ks, 0, inst.cap(inst.municipal[i]), {})
    for j, ks in by_e.items():
        add(ks, 0, inst.cap(inst.entrepreneurs[j]), {})
        want_min = min(inst.entrepreneurs[j].min_meetings, inst.cap(inst.entrepreneurs[j]))
        if with_priorities and want_min > 0:
            # meetings + shortfall >= minimum
            add(ks, want_min, np.inf, {n_pairs + j: 1.0})
    if inst.max_per_organisation is not None:
        for (org, _j), ks in by_org_e.items():
            capped = [k for k in ks if pairs[k] not in inst.want]
            if org and len(capped) > inst.max_per_organisation:
                add(capped, 0, inst.max_per_organisation, {})
    add(list(range(n_pairs)), 0, inst.slots * inst.tables, {})
    data = np.ones(len(rows))
    for pos, v in data_extra:
        data[pos] = v
    a = coo_matrix((data, (rows, cols)), shape=(r, n_vars)).tocsr()
    return c, [LinearConstraint(a, np.array(lo), np.array(hi))], n_vars


def upper_bound(inst: Instance, pairs: list[tuple[int, int]] | None = None) -> float:
    """The LP bound on total affinity (no priorities): no schedule can exceed it."""
    pairs = inst.allowed_pairs() if pairs is None else pairs
    if not pairs:
        return 0.0
    c, cons, n = _pair_model(inst, pairs, with_priorities=False)
    res = milp(
        c, constraints=cons, bounds=Bounds(inst.lower_bounds(pairs), 1), integrality=np.zeros(n)
    )
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"LP-løseren feilet: {res.message}")
    return float(-res.fun)


def choose_pairs(
    inst: Instance, pairs: list[tuple[int, int]], time_limit: float
) -> tuple[list[tuple[int, int]], bool]:
    """The pair choice with priorities, as an integer programme; returns the pairs and
    whether HiGHS proved the choice optimal within the time limit."""
    c, cons, n = _pair_model(inst, pairs, with_priorities=True)
    ub = np.ones(n)
    ub[len(pairs) :] = np.inf
    res = milp(
        c,
        constraints=cons,
        bounds=Bounds(np.concatenate([inst.lower_bounds(pairs), np.zeros(n - len(pairs))]), ub),
        integrality=np.concatenate([np.ones(len(pairs)), np.zeros(n - len(pairs))]),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-6},
    )
    if res.x is None:
        raise RuntimeError(f"Heltallsløseren fant ingen løsning: {res.message}")
    chosen = [pairs[k] for k in range(len(pairs)) if res.x[k] > 0.5]
    return chosen, res.status == 0


# -- placement in slots ------------------------------------------------------------------------


def _common(inst: Instance, p: tuple[int, int]) -> list[int]:
    return sorted(
        set(inst.free_slots(inst.municipal[p[0]])) & set(inst.free_slots(inst.entrepreneurs[p[1]]))
    )


class _Board:
    """Who is busy in which slot, and how many tables each slot uses."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.busy_m: dict[int, set[int]] = defaultdict(set)
        self.busy_e: dict[int, set[int]] = defaultdict(set)
        self.used: dict[int, int] = defaultdict(int)
        self.at: dict[tuple[int, int], int] = {}  # pair -> slot
        self.free_m = [set(inst.free_slots(p)) for p in inst.municipal]
        self.free_e = [set(inst.free_slots(p)) for p in inst.entrepreneurs]

    def options(self, i: int, j: int) -> list[int]:
        return sorted(self.free_m[i] & self.free_e[j])

    def fits(self, i: int, j: int, s: int) -> bool:
        return (
            s in self.free_m[i]
            and s in self.free_e[j]
            and s not in self.busy_m[i]
            and s not in self.busy_e[j]
            and self.used[s] < self.inst.tables
        )

    def put(self, i: int, j: int, s: int) -> None:
        self.busy_m[i].add(s)
        self.busy_e[j].add(s)
        self.used[s] += 1
        self.at[(i, j)] = s

    def take(self, i: int, j: int) -> int:
        s = self.at.pop((i, j))
        self.busy_m[i].discard(s)
        self.busy_e[j].discard(s)
        self.used[s] -= 1
        return s

    def place(self, i: int, j: int) -> bool:
        """Place (i, j) in the least used slot that fits; otherwise move one blocking
        meeting to another slot to make room."""
        opts = self.options(i, j)
        fitting = [s for s in opts if self.fits(i, j, s)]
        if fitting:
            self.put(i, j, min(fitting, key=lambda s: (self.used[s], s)))
            return True
        for s in opts:
            if self.used[s] >= self.inst.tables:
                continue
            blockers = [p for p, t in self.at.items() if t == s and (p[0] == i or p[1] == j)]
            if len(blockers) != 1:
                continue
            bi, bj = blockers[0]
            if (bi, bj) in self.inst.fixed:
                continue  # a locked meeting is never moved
            self.take(bi, bj)
            moved = next((t for t in self.options(bi, bj) if t != s and self.fits(bi, bj, t)), None)
            if moved is not None and self.fits(i, j, s):
                self.put(bi, bj, moved)
                self.put(i, j, s)
                return True
            self.put(bi, bj, s)
        return False


def _assign_full(  # noqa: C901, PLR0915 - the slot MILP, one constraint family per block
    inst: Instance, cands: list[tuple[int, int]], time_limit: float
) -> tuple[dict[tuple[int, int], int], bool]:
    """Pairs and slots at once for the candidate pairs: an integer programme y[pair, slot]
    with every constraint and the priorities (wishes, minimums). Returns the placement and
    whether HiGHS proved it optimal (over these candidates) within the time limit."""
    var: list[tuple[int, int, int]] = []
    for i, j in sorted(set(cands) | set(inst.fixed)):
        slots = [inst.fixed[(i, j)]] if (i, j) in inst.fixed else _common(inst, (i, j))
        for s in slots:
            var.append((i, j, s))
    if not var:
        return {}, True
    n_ent = len(inst.entrepreneurs)
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for k, (i, j, s) in enumerate(var):
        groups[("pair", i, j)].append(k)
        groups[("ms", i, s)].append(k)
        groups[("es", j, s)].append(k)
        groups[("slot", s)].append(k)
        groups[("m", i)].append(k)
        groups[("e", j)].append(k)
        if inst.max_per_organisation is not None and (i, j) not in inst.want:
            org = inst.municipal[i].organisation
            if org:
                groups[("org", org, j)].append(k)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    for r, (key, ks) in enumerate(groups.items()):
        rows += [r] * len(ks)
        cols += ks
        vals += [1.0] * len(ks)
        lo.append(0.0)
        kind = key[0]
        if kind == "slot":
            hi.append(inst.tables)
        elif kind == "m":
            hi.append(inst.cap(inst.municipal[int(key[1])]))  # type: ignore[call-overload]
        elif kind == "e":
            hi.append(inst.cap(inst.entrepreneurs[int(key[1])]))  # type: ignore[call-overload]
        elif kind == "org":
            hi.append(float(inst.max_per_organisation or 0))
        else:
            hi.append(1.0)
    # minimums: meetings of j + shortfall u_j >= min_j (u_j costs MIN_WEIGHT each)
    r = len(groups)
    for j, person in enumerate(inst.entrepreneurs):
        need = min(person.min_meetings, inst.cap(person))
        if need <= 0:
            continue
        ks = groups.get(("e", j), [])
        rows += [r] * (len(ks) + 1)
        cols += ks + [len(var) + j]
        vals += [1.0] * len(ks) + [1.0]
        lo.append(float(need))
        hi.append(np.inf)
        r += 1
    n = len(var) + n_ent
    a = coo_matrix((vals, (rows, cols)), shape=(r, n)).tocsr()
    gain = np.array(
        [inst.affinity[i, j] + (WANT_WEIGHT if (i, j) in inst.want else 0.0) for i, j, _ in var]
    )
    c = np.concatenate([-gain, np.full(n_ent, MIN_WEIGHT)])
    upper = np.concatenate([np.ones(len(var)), np.full(n_ent, np.inf)])
    res = milp(
        c,
        constraints=[LinearConstraint(a, np.array(lo), np.array(hi))],
        bounds=Bounds(
            np.concatenate(
                [[1.0 if (i, j) in inst.fixed else 0.0 for i, j, _s in var], np.zeros(n_ent)]
            ),
            upper,
        ),
        integrality=np.concatenate([np.ones(len(var)), np.zeros(n_ent)]),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-6},
    )
    if res.x is None:
        return {}, False
    return {(i, j): s for k, (i, j, s) in enumerate(var) if res.x[k] > 0.5}, res.status == 0


def _weighted(inst: Instance, at: dict[tuple[int, int], int]) -> float:
    """The solver's objective with priorities: affinity, wishes, minimums."""
    per_e: dict[int, int] = defaultdict(int)
    for _i, j in at:
        per_e[j] += 1
    shortfall = sum(
        max(0, min(p.min_meetings, inst.cap(p)) - per_e[j])
        for j, p in enumerate(inst.entrepreneurs)
    )
    return float(
        sum(inst.affinity[p] + (WANT_WEIGHT if p in inst.want else 0.0) for p in at)
        - MIN_WEIGHT * shortfall
    )


def _candidates(
    inst: Instance, pairs: list[tuple[int, int]], chosen: list[tuple[int, int]], per_person: int
) -> list[tuple[int, int]]:
    """The chosen pairs plus each person's best alternatives and every wish."""
    out = set(chosen) | (inst.want & set(pairs))
    by_m: dict[int, list[tuple[int, int]]] = defaultdict(list)
    by_e: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for p in sorted(pairs, key=lambda p: -inst.affinity[p]):
        if p in out:
            continue
        if len(by_m[p[0]]) < per_person:
            by_m[p[0]].append(p)
        if len(by_e[p[1]]) < per_person:
            by_e[p[1]].append(p)
    for group in (*by_m.values(), *by_e.values()):
        out.update(group)
    return sorted(out)


EXACT_VARIABLES = 60_000  # above this, the joint model runs on candidate pairs only


def _fill(
    inst: Instance, board: _Board, pairs: list[tuple[int, int]], *, keep_order: bool = False
) -> None:
    """Use free places for the best remaining pairs (or ``pairs`` in the order given),
    within every cap."""
    count_m: dict[int, int] = defaultdict(int)
    count_e: dict[int, int] = defaultdict(int)
    count_org: dict[tuple[str, int], int] = defaultdict(int)
    for i, j in board.at:
        count_m[i] += 1
        count_e[j] += 1
        if (i, j) not in inst.want:
            count_org[(inst.municipal[i].organisation, j)] += 1
    order = pairs if keep_order else sorted(pairs, key=lambda p: -inst.affinity[p])
    for i, j in order:
        if (i, j) in board.at or inst.affinity[i, j] <= 0:
            continue
        if count_m[i] >= inst.cap(inst.municipal[i]) or count_e[j] >= inst.cap(
            inst.entrepreneurs[j]
        ):
            continue
        org = inst.municipal[i].organisation
        if (
            inst.max_per_organisation is not None
            and org
            and (i, j) not in inst.want
            and count_org[(org, j)] >= inst.max_per_organisation
        ):
            continue
        fitting = [s for s in board.options(i, j) if board.fits(i, j, s)]
        if fitting:
            board.put(i, j, min(fitting, key=lambda s: (board.used[s], s)))
            count_m[i] += 1
            count_e[j] += 1
            if (i, j) not in inst.want:
                count_org[(org, j)] += 1


def _meetings(inst: Instance, at: dict[tuple[int, int], int]) -> list[Meeting]:
    tables: dict[int, int] = defaultdict(int)
    out = []
    for (i, j), s in sorted(at.items(), key=lambda kv: (kv[1], kv[0])):
        tables[s] += 1
        out.append(Meeting(s, tables[s], i, j, round(float(inst.affinity[i, j]), 4)))
    return out


def _notes(inst: Instance, meetings: list[Meeting]) -> list[str]:
    """What the priorities could not get: minimums and wishes not met, by name."""
    per_e: dict[int, int] = defaultdict(int)
    met = set()
    for m in meetings:
        per_e[m.entrepreneur] += 1
        met.add((m.municipal, m.entrepreneur))
    notes = []
    for j, p in enumerate(inst.entrepreneurs):
        if per_e[j] < p.min_meetings:
            why = (
                f" (ledig i bare {len(inst.free_slots(p))} tidsluker)"
                if len(inst.free_slots(p)) < p.min_meetings
                else ""
            )
            notes.append(
                f"{p.name or p.id} fikk {per_e[j]} møter, færre enn minimum {p.min_meetings}{why}."
            )
    for i, j in sorted(inst.want - met):
        notes.append(
            f"Ønsket møte {inst.municipal[i].name or inst.municipal[i].id} – "
            f"{inst.entrepreneurs[j].name or inst.entrepreneurs[j].id} fikk ikke plass."
        )
    return notes


def _fixed_board(inst: Instance) -> _Board:
    board = _Board(inst)
    for (i, j), s in sorted(inst.fixed.items(), key=lambda kv: kv[1]):
        board.put(i, j, s)
    return board


def check_feasible(inst: Instance) -> None:  # noqa: C901 - one check per constraint, each says why
    """Refuse an instance that cannot have a schedule, naming why (Norwegian)."""
    if inst.slots < 1:
        raise InfeasibleError("Konferansen må ha minst én tidsluke (--slots).")
    if inst.tables < 1:
        raise InfeasibleError("Konferansen må ha minst ett bord (--tables).")
    if not inst.municipal or not inst.entrepreneurs:
        raise InfeasibleError("Det trengs deltakere fra både kommunene og entreprenørene.")
    taken: set[tuple[str, int, int]] = set()
    per_slot: dict[int, int] = defaultdict(int)
    for (i, j), s in sorted(inst.fixed.items(), key=lambda kv: kv[1]):
        m, e = inst.municipal[i], inst.entrepreneurs[j]
        what = f"Det låste møtet {m.name or m.id} – {e.name or e.id} i tidsluke {s}"
        if not 1 <= s <= inst.slots or s in m.unavailable or s in e.unavailable:
            raise InfeasibleError(f"{what} ligger utenfor tidslukene der begge er ledige.")
        if (i, j) in inst.avoid:
            raise InfeasibleError(f"{what} er mellom to som skal holdes fra hverandre.")
        if ("m", i, s) in taken or ("e", j, s) in taken:
            raise InfeasibleError(f"{what} kolliderer med et annet låst møte.")
        taken.update({("m", i, s), ("e", j, s)})
        per_slot[s] += 1
        if per_slot[s] > inst.tables:
            raise InfeasibleError(f"Tidsluke {s} har flere låste møter enn bord.")
    for side, people in (("m", inst.municipal), ("e", inst.entrepreneurs)):
        for k, person in enumerate(people):
            n = sum(1 for pair in inst.fixed if pair[0 if side == "m" else 1] == k)
            if n > inst.cap(person):
                raise InfeasibleError(
                    f"{person.name or person.id} har {n} låste møter, men plass til bare "
                    f"{inst.cap(person)}."
                )
    if not inst.allowed_pairs():
        raise InfeasibleError(
            "Ingen par kan møtes: alle er sperret av «avvis», maks 0 møter eller "
            "at de ikke har noen ledig tidsluke felles."
        )


def solve(
    inst: Instance, *, time_limit: float = 120.0, progress: Progress | None = None
) -> Schedule:
    """The schedule for ``inst``; see the module docstring for the method."""
    started = time.monotonic()

    def tell(step: str, share: float) -> None:
        if progress:
            progress(step, share)

    check_feasible(inst)
    pairs = inst.allowed_pairs()
    tell("øvre grense", 0.05)
    bound = upper_bound(inst, pairs)
    tell("valg av par", 0.3)
    chosen, _proven = choose_pairs(inst, pairs, time_limit=max(5.0, time_limit * 0.6))
    tell("plassering i tidsluker", 0.6)
    board = _fixed_board(inst)
    # most constrained first: fewest common free slots, then highest priority
    weights = {p: inst.affinity[p] + (WANT_WEIGHT if p in inst.want else 0.0) for p in chosen}
    order = sorted(
        (p for p in chosen if p not in inst.fixed),
        key=lambda p: (len(board.options(*p)), -weights[p]),
    )
    for p in order:
        board.place(*p)
    _fill(inst, board, pairs)
    # the joint model (pairs and slots at once): over all pairs when the instance is small,
    # otherwise over the chosen pairs and each person's best alternatives
    slot_vars = sum(len(_common(inst, p)) for p in pairs)
    everything = slot_vars <= EXACT_VARIABLES
    cands = pairs if everything else _candidates(inst, pairs, chosen, per_person=2)
    tell("samlet modell for par og tidsluker", 0.75)
    joint, joint_proven = _assign_full(inst, cands, time_limit=max(5.0, time_limit * 0.35))
    if joint and _weighted(inst, joint) > _weighted(inst, board.at) + 1e-9:
        board = _Board(inst)
        for (i, j), s in joint.items():
            board.put(i, j, s)
    # proven optimal (for the objective with priorities) when the joint model covered every
    # pair and HiGHS closed its gap; the better of the two placements is then that optimum
    proven_all = everything and joint_proven
    tell("fyller ledige plasser", 0.9)
    _fill(inst, board, pairs)
    meetings = _meetings(inst, board.at)
    objective = round(sum(m.affinity for m in meetings), 4)
    # or: the schedule reaches the bound itself
    status = "optimal" if proven_all or objective >= bound - 1e-6 else "feasible"
    tell("ferdig", 1.0)
    return Schedule(
        meetings=meetings,
        objective=objective,
        upper_bound=round(bound, 4),
        status=status,
        seconds=round(time.monotonic() - started, 3),
        notes=_notes(inst, meetings),
    )


def greedy(inst: Instance) -> Schedule:
    """The baseline: pairs one by one in order of priority and affinity, each in the least
    used slot where both are free; no pair is ever reconsidered."""
    started = time.monotonic()
    check_feasible(inst)
    pairs = inst.allowed_pairs()
    board = _fixed_board(inst)
    # the same priorities as the solver, greedily: wishes, then each entrepreneur's minimum
    # with their best partners, then the best pairs overall
    by_affinity = sorted(pairs, key=lambda p: -inst.affinity[p])
    _fill(inst, board, [p for p in by_affinity if p in inst.want], keep_order=True)
    for _round in range(max((p.min_meetings for p in inst.entrepreneurs), default=0)):
        for j, person in enumerate(inst.entrepreneurs):
            have = sum(1 for (_i, jj) in board.at if jj == j)
            if have < person.min_meetings:
                before = len(board.at)
                for p in (p for p in by_affinity if p[1] == j and p not in board.at):
                    _fill(inst, board, [p], keep_order=True)
                    if len(board.at) > before:
                        break
    _fill(inst, board, by_affinity, keep_order=True)
    meetings = _meetings(inst, board.at)
    return Schedule(
        meetings=meetings,
        objective=round(sum(m.affinity for m in meetings), 4),
        upper_bound=round(upper_bound(inst, pairs), 4),
        status="feasible",
        seconds=round(time.monotonic() - started, 3),
        notes=_notes(inst, meetings),
    )


def _slot_violations(inst: Instance, meetings: Sequence[Meeting]) -> list[str]:
    """Broken constraints of single meetings: slot, table, double booking, availability,
    avoided and repeated pairs, fixed meetings."""
    out = []
    tables: set[tuple[int, int]] = set()
    busy_m: set[tuple[int, int]] = set()
    busy_e: set[tuple[int, int]] = set()
    pairs: set[tuple[int, int]] = set()
    for m in meetings:
        i, j, s = m.municipal, m.entrepreneur, m.slot
        if not 1 <= s <= inst.slots:
            out.append(f"slot {s} outside 1..{inst.slots}")
        if not 1 <= m.table <= inst.tables or (s, m.table) in tables:
            out.append(f"table {m.table} in slot {s} invalid or used twice")
        if (i, s) in busy_m or (j, s) in busy_e:
            out.append(f"double booking in slot {s}: {i} / {j}")
        if s in inst.municipal[i].unavailable or s in inst.entrepreneurs[j].unavailable:
            out.append(f"meeting {i}-{j} in unavailable slot {s}")
        if (i, j) in inst.avoid:
            out.append(f"avoided pair {i}-{j} meets")
        if (i, j) in pairs:
            out.append(f"pair {i}-{j} meets twice")
        tables.add((s, m.table))
        busy_m.add((i, s))
        busy_e.add((j, s))
        pairs.add((i, j))
    at = {(m.municipal, m.entrepreneur): m.slot for m in meetings}
    out += [
        f"fixed meeting {pair} not kept in slot {s}"
        for pair, s in inst.fixed.items()
        if at.get(pair) != s
    ]
    return out


def _count_violations(inst: Instance, meetings: Sequence[Meeting]) -> list[str]:
    """Broken caps: meetings per person and per organisation."""
    per_m = Counter(m.municipal for m in meetings)
    per_e = Counter(m.entrepreneur for m in meetings)
    per_org = Counter(
        (inst.municipal[m.municipal].organisation, m.entrepreneur)
        for m in meetings
        if (m.municipal, m.entrepreneur) not in inst.want
    )
    out = []
    for side, counts, people in (
        ("municipal", per_m, inst.municipal),
        ("entrepreneur", per_e, inst.entrepreneurs),
    ):
        for k, n in counts.items():
            cap = people[k].max_meetings
            if cap is not None and n > cap:
                out.append(f"{side} {k} has {n} > {cap} meetings")
    cap_org = inst.max_per_organisation
    if cap_org is not None:
        out += [
            f"{n} from {org} meet entrepreneur {j}"
            for (org, j), n in per_org.items()
            if org and n > cap_org
        ]
    return out


def violations(inst: Instance, meetings: Sequence[Meeting]) -> list[str]:
    """Every broken constraint of a schedule (empty when it is valid); for tests."""
    return _slot_violations(inst, meetings) + _count_violations(inst, meetings)


def after_no_show(
    inst: Instance,
    meetings: Sequence[Meeting],
    *,
    municipal: Sequence[int] = (),
    entrepreneurs: Sequence[int] = (),
    from_slot: int,
) -> Instance:
    """The instance for re-planning the rest of the day when people do not turn up.

    Meetings before ``from_slot`` took place and stay as they were; the absent people are
    unavailable from ``from_slot`` on; locked meetings of people who are present stay
    locked. Solving the returned instance re-plans everything else.
    """
    rest = frozenset(range(from_slot, inst.slots + 1))

    def gone(p: Person) -> Person:
        return replace(p, unavailable=p.unavailable | rest)

    gone_m, gone_e = set(municipal), set(entrepreneurs)
    fixed = {(m.municipal, m.entrepreneur): m.slot for m in meetings if m.slot < from_slot}
    for (i, j), s in inst.fixed.items():
        if s >= from_slot and i not in gone_m and j not in gone_e:
            fixed[(i, j)] = s
    return replace(
        inst,
        municipal=[gone(p) if i in gone_m else p for i, p in enumerate(inst.municipal)],
        entrepreneurs=[gone(p) if j in gone_e else p for j, p in enumerate(inst.entrepreneurs)],
        fixed=fixed,
    )
