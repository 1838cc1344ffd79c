"""The organisers' files of a plan: møter.csv/.xlsx, alle-par.csv, oppsummering.json/.html and
an agenda (HTML, PDF, ICS) per person, written as a whole: a crash leaves the previous plan's
folder or the new one, never half of each."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from markupsafe import Markup

from matcher.scheduling import Schedule
from service import formatting
from service.conference.affinity import why
from service.conference.agenda import Agenda, agenda_html, agenda_ics, agenda_pdf, render_page
from service.conference.participants import SIDE_NAMES, Participant
from service.conference.quality import BOUND_TEXT, plan_text
from service.plots import bar_chart_svg

MEETINGS_CSV = "møter.csv"
MEETINGS_XLSX = "møter.xlsx"
PAIRS_CSV = "alle-par.csv"
SUMMARY_HTML = "oppsummering.html"
SUMMARY_JSON = "oppsummering.json"
AGENDAS = "agendaer"
OUTPUTS = (MEETINGS_CSV, MEETINGS_XLSX, PAIRS_CSV, SUMMARY_JSON, SUMMARY_HTML, AGENDAS)
MEETING_COLUMNS = (
    "Tidsluke",
    "Tid",
    "Bord",
    "Kommuneansatt",
    "Organisasjon",
    "Entreprenør",
    "Hvor godt de passer (0–100)",
    "Kommuneansatt-id",
    "Entreprenør-id",
)
PAIR_COLUMNS = (
    "Kommuneansatt-id",
    "Kommuneansatt",
    "Entreprenør-id",
    "Entreprenør",
    "Hvor godt de passer (0–100)",
)


def _score(affinity: float) -> float:
    """An affinity (0–1, four decimals) on the 0–100 scale the pages show, losing nothing."""
    return round(100 * affinity, 2)


def _meeting_rows(
    schedule: Schedule,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
    agenda: Agenda,
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for m in schedule.meetings:
        mp, ep = municipal[m.municipal], entrepreneurs[m.entrepreneur]
        begin, end = agenda.times(m.slot)
        rows.append(
            [
                m.slot,
                f"{begin:%H:%M}–{end:%H:%M}",
                m.table,
                mp.name,
                mp.organisation,
                ep.name,
                _score(m.affinity),
                mp.id,
                ep.id,
            ]
        )
    return rows


def _excel_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A CSV as Norwegian Excel opens it with a double click: ``;`` between columns, UTF-8
    with a BOM, decimal comma."""
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(header)
        for row in rows:
            w.writerow([formatting.number(v, 2) if isinstance(v, float) else v for v in row])


def _write_xlsx(
    path: Path,
    schedule: Schedule,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
    agenda: Agenda,
) -> None:
    """The organisers' workbook: every meeting with names and times, and one row per person."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Møter"
    sheet.append(list(MEETING_COLUMNS))
    for row in _meeting_rows(schedule, municipal, entrepreneurs, agenda):
        sheet.append(row)
    for cell in sheet["G"][1:]:
        cell.number_format = "0.00"  # Excel shows it with the reader's decimal sign
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHI", (9, 13, 6, 22, 24, 24, 12, 16, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    people = book.create_sheet("Deltakere")
    people.append(["Id", "Type", "Navn", "Organisasjon", "Møter"])
    count: dict[str, int] = {}
    for m in schedule.meetings:
        for pid in (municipal[m.municipal].id, entrepreneurs[m.entrepreneur].id):
            count[pid] = count.get(pid, 0) + 1
    for p in (*municipal, *entrepreneurs):
        people.append([p.id, SIDE_NAMES[p.side], p.name, p.organisation, count.get(p.id, 0)])
    people.freeze_panes = "A2"
    book.save(path)


# Names an earlier version wrote: a folder holding only them (and ours) is still ours to
# replace whole.
_OLD_OUTPUTS = ("meetings.csv", "meetings.xlsx", "affinities.csv", "summary.json", "summary.html")


@contextmanager
def _whole_folder(out: Path) -> Iterator[Path]:
    """The folder to write ``out``'s files into: a new folder beside it that then takes its
    place, so a crash leaves the previous plan (or nothing), never half of each. A folder that
    also holds other files is written into directly (it is never replaced)."""
    out = out.resolve()
    ours = {*OUTPUTS, *_OLD_OUTPUTS}
    if out.exists() and any(p.name not in ours for p in out.iterdir()):
        yield out
        return
    new, old = out.with_name(f".{out.name}.ny"), out.with_name(f".{out.name}.gammel")
    shutil.rmtree(new, ignore_errors=True)
    if old.exists() and not out.exists():  # a crash between the two renames below
        old.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    yield new
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class Plan:
    """A plan with everything its files are made from."""

    schedule: Schedule
    municipal: Sequence[Participant]
    entrepreneurs: Sequence[Participant]
    affinity: np.ndarray
    agenda: Agenda
    analyzer: Any


def _charts(plan: Plan) -> tuple[str, str]:
    """How many meetings people got, and how well the chosen pairs suit against all pairs."""
    meetings = plan.schedule.meetings
    per_m = Counter(m.municipal for m in meetings)
    per_e = Counter(m.entrepreneur for m in meetings)
    top = max([*per_m.values(), *per_e.values(), 0])

    def people_with(per: Counter[int], n: int) -> list[int]:
        return [sum(1 for i in range(n) if per[i] == k) for k in range(top + 1)]

    counts = bar_chart_svg(
        "Antall deltakere med 0, 1, 2, … møter",
        [str(k) for k in range(top + 1)],
        {
            "Kommunene": people_with(per_m, len(plan.municipal)),
            "Entreprenørene": people_with(per_e, len(plan.entrepreneurs)),
        },
        "antall deltakere",
    )
    edges = np.linspace(0, 1, 11)
    chosen = np.histogram([m.affinity for m in meetings], bins=edges)[0]
    every = np.histogram(plan.affinity.ravel(), bins=edges)[0]
    # whole percentages: the chart's table prints its numbers as they are
    share = {
        "Planlagte møter": [round(100 * c / max(chosen.sum(), 1)) for c in chosen],
        "Alle mulige par": [round(100 * c / max(every.sum(), 1)) for c in every],
    }
    dist = bar_chart_svg(
        "Hvor godt parene passer (0–100): planlagte møter og alle mulige par, i prosent",
        [f"{round(100 * a)}–{round(100 * b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)],
        share,
        "prosent",
    )
    return counts, dist


def _result(schedule: Schedule) -> str:
    return plan_text(
        len(schedule.meetings), schedule.objective, schedule.upper_bound, schedule.status
    )


def _summary_html(plan: Plan) -> str:
    counts, dist = _charts(plan)
    return render_page(
        "conference_summary.html",
        title=f"Oppsummering – {plan.agenda.name}",
        name=plan.agenda.name,
        day=formatting.long_day(plan.agenda.day),
        meetings=len(plan.schedule.meetings),
        municipal=len(plan.municipal),
        entrepreneurs=len(plan.entrepreneurs),
        result=_result(plan.schedule),
        bound_text=BOUND_TEXT,
        meetings_chart=Markup(counts),  # noqa: S704 -- our own SVG, its texts escaped there
        affinity_chart=Markup(dist),  # noqa: S704
        notes=plan.schedule.notes,
    )


def _summary(plan: Plan) -> dict[str, Any]:
    s, n_m, n_e = plan.schedule, len(plan.municipal), len(plan.entrepreneurs)
    per_m = [sum(1 for m in s.meetings if m.municipal == i) for i in range(n_m)]
    per_e = [sum(1 for m in s.meetings if m.entrepreneur == j) for j in range(n_e)]
    # for programs: the keys stay in English (README: «oppsummering.json»)
    return {
        "objective": s.objective,
        "upper_bound": s.upper_bound,
        "gap": round(s.gap, 6),
        "status": s.status,
        "seconds": s.seconds,
        "meetings": len(s.meetings),
        "municipal": n_m,
        "entrepreneurs": n_e,
        "meetings_per_municipal": {"min": min(per_m), "max": max(per_m)},
        "meetings_per_entrepreneur": {"min": min(per_e), "max": max(per_e)},
        "notes": s.notes,
        "text": _result(s),
    }


def agenda_rows(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Every person's meetings (by participant id), in slot order."""
    people = (*plan.municipal, *plan.entrepreneurs)
    out: dict[str, list[dict[str, Any]]] = {p.id: [] for p in people}
    for m in plan.schedule.meetings:
        mp, ep = plan.municipal[m.municipal], plan.entrepreneurs[m.entrepreneur]
        base = {
            "slot": m.slot,
            "table": m.table,
            "municipal": mp.id,
            "entrepreneur": ep.id,
            "why": why(plan.analyzer, mp, ep),
        }
        out[mp.id].append({**base, "other": ep.name, "other_org": ep.organisation})
        out[ep.id].append({**base, "other": mp.name, "other_org": mp.organisation})
    return {pid: sorted(rows, key=lambda r: r["slot"]) for pid, rows in out.items()}


def _write_agendas(folder: Path, plan: Plan) -> None:
    folder.mkdir(exist_ok=True)
    rows_of, agenda, index = agenda_rows(plan), plan.agenda, []
    for p in (*plan.municipal, *plan.entrepreneurs):
        rows = rows_of[p.id]
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in p.id)
        (folder / f"{stem}.html").write_text(
            agenda_html(agenda, p.name, p.organisation, rows, (f"{stem}.pdf", f"{stem}.ics")),
            encoding="utf-8",
        )
        (folder / f"{stem}.ics").write_text(agenda_ics(agenda, rows), encoding="utf-8")
        (folder / f"{stem}.pdf").write_bytes(agenda_pdf(agenda, p.name, p.organisation, rows))
        index.append({"stem": stem, "name": p.name, "count": len(rows)})
    (folder / "index.html").write_text(
        render_page(
            "conference_agendas.html",
            title=f"Møteplaner – {agenda.name}",
            name=agenda.name,
            people=index,
        ),
        encoding="utf-8",
    )


def write_outputs(out: Path, plan: Plan) -> None:
    """Every output file, complete or not at all (see ``_whole_folder``)."""
    with _whole_folder(out) as folder:
        _write_outputs(folder, plan)


def _write_outputs(out: Path, plan: Plan) -> None:
    out.mkdir(parents=True, exist_ok=True)
    schedule, municipal, entrepreneurs = plan.schedule, plan.municipal, plan.entrepreneurs
    _excel_csv(
        out / MEETINGS_CSV,
        MEETING_COLUMNS,
        _meeting_rows(schedule, municipal, entrepreneurs, plan.agenda),
    )
    _excel_csv(
        out / PAIRS_CSV,
        PAIR_COLUMNS,
        (
            [mp.id, mp.name, ep.id, ep.name, _score(float(plan.affinity[i, j]))]
            for i, mp in enumerate(municipal)
            for j, ep in enumerate(entrepreneurs)
        ),
    )
    _write_xlsx(out / MEETINGS_XLSX, schedule, municipal, entrepreneurs, plan.agenda)
    _write_agendas(out / AGENDAS, plan)
    (out / SUMMARY_HTML).write_text(_summary_html(plan), encoding="utf-8")
    (out / SUMMARY_JSON).write_text(
        json.dumps(_summary(plan), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
