"""Conference scheduling as a service: participants from CSV, affinities from the matcher,
the solver of ``matcher.scheduling``, and the files organisers hand out (SPEC §8).

Participants CSV columns: ``id, side`` (``municipal`` | ``entrepreneur``), ``name,
organisation, description, themes, max_meetings, min_meetings, unavailable_slots, avoid,
want`` (lists ``;``-separated, slots from 1, ``avoid``/``want`` hold other participants' ids);
an entrepreneur row may give ``entrepreneur_id`` (an existing profile) instead of a text.
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from matcher.ranking import DEFAULT_WEIGHTS, key_phrases, rescale_similarity
from matcher.retrieval import BM25Index
from matcher.scheduling import Instance, Person, Progress, Schedule, solve
from matcher.scheduling import Meeting as ScheduledMeeting
from matcher.text import normalise
from models.importing import ImportValidationError, RowError
from models.tables import Conference, Meeting
from models.tables import Participant as ParticipantRow
from models.vocabulary import THEMES
from service.matching import RECORD_ROLE, IndexStore, entrepreneur_text, find_entrepreneur
from service.plots import bar_chart_svg

COLUMNS = (
    "id",
    "side",
    "name",
    "organisation",
    "description",
    "themes",
    "max_meetings",
    "min_meetings",
    "unavailable_slots",
    "avoid",
    "want",
    "entrepreneur_id",
)
SIDES = ("municipal", "entrepreneur")
MAX_ROWS = 5000
# The text and theme parts of the standard ranker, rescaled to [0, 1]: place, capacity and
# history say nothing about a conversation at a conference.
AFFINITY_WEIGHTS = {k: DEFAULT_WEIGHTS[k] for k in ("similarity", "lexical", "themes")}


@dataclass
class Participant:
    id: str
    side: str
    name: str
    organisation: str
    text: str
    themes: list[str]
    max_meetings: int | None
    min_meetings: int
    unavailable: frozenset[int]
    avoid: list[str] = field(default_factory=list)
    want: list[str] = field(default_factory=list)
    row: int = 0
    description: str = ""
    entrepreneur_id: int | None = None


def _items(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


class _XlsxRows:
    """The first sheet of a workbook as a DictReader: header row, then one dict per row."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.fieldnames = rows[0] if rows else []
        self._rows = rows[1:]

    def __iter__(self) -> Any:
        for row in self._rows:
            if any(row):
                yield dict(zip(self.fieldnames, row, strict=False))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(raw: bytes) -> _XlsxRows:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken file
        raise ImportValidationError(
            [RowError(0, "", "filen kan ikke leses som et Excel-ark (.xlsx)")]
        ) from exc
    sheet = book.worksheets[0]
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return _XlsxRows(rows)


def read_participants(path: Path, session: Session | None, slots: int) -> list[Participant]:
    """Read and validate the participants file; every problem is reported, row by row, and
    nothing is used unless the whole file is valid."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportValidationError([RowError(0, "", f"finner ikke filen {path}")]) from exc
    if path.suffix.lower() == ".xlsx":
        reader: Any = _xlsx_rows(raw)
    elif path.suffix.lower() in (".csv", ".txt"):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportValidationError([RowError(0, "", "filen er ikke UTF-8-kodet")]) from exc
        reader = csv.DictReader(io.StringIO(text))
    else:
        raise ImportValidationError(
            [RowError(0, "", f"ukjent filtype «{path.suffix or path.name}»; bruk .csv eller .xlsx")]
        )
    errors: list[RowError] = []
    missing = [c for c in ("id", "side", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportValidationError([RowError(0, "", f"mangler kolonnene {', '.join(missing)}")])
    unknown = [c for c in reader.fieldnames or [] if c not in COLUMNS]
    for c in unknown:
        errors.append(RowError(0, c, f"ukjent kolonne (gyldige: {', '.join(COLUMNS)})"))
    out: list[Participant] = []
    seen: set[str] = set()
    for n, row in enumerate(reader, start=1):
        if n > MAX_ROWS:
            errors.append(RowError(n, "", f"for mange rader (maks {MAX_ROWS})"))
            break

        def fail(name: str, reason: str, n: int = n) -> None:
            errors.append(RowError(n, name, reason))

        def number(name: str, row: dict[str, Any] = row) -> int | None:
            value = (row.get(name) or "").strip()
            if not value:
                return None
            if not value.isdigit():
                fail(name, "må være et helt tall")
                return None
            return int(value)

        pid = (row.get("id") or "").strip()
        side = (row.get("side") or "").strip()
        name = (row.get("name") or "").strip()
        if not pid:
            fail("id", "mangler")
        elif pid in seen:
            fail("id", f"«{pid}» er brukt før i filen")
        seen.add(pid)
        if side not in SIDES:
            fail("side", f"«{side}» er ikke gyldig (gyldige: municipal, entrepreneur)")
        themes = _items(row.get("themes") or "")
        for t in themes:
            if t not in THEMES:
                fail("themes", f"ukjent tema «{t}»")
        description = (row.get("description") or "").strip()
        ent_key = (row.get("entrepreneur_id") or "").strip()
        ent_db_id = None
        if ent_key and side == "entrepreneur":
            ent = find_entrepreneur(session, ent_key) if session is not None else None
            if ent is None:
                fail("entrepreneur_id", f"fant ingen entreprenørprofil «{ent_key}»")
            else:
                ent_db_id = ent.id
                description = description or entrepreneur_text(ent)
                themes = themes or list(ent.themes)
                name = name or ent.name
        if not name:
            fail("name", "mangler")
        if not description and not themes:
            fail("description", "mangler (eller oppgi temaer eller entrepreneur_id)")
        slots_out = []
        for v in _items(row.get("unavailable_slots") or ""):
            if not v.isdigit() or not 1 <= int(v) <= slots:
                fail("unavailable_slots", f"«{v}» er ikke en tidsluke fra 1 til {slots}")
            else:
                slots_out.append(int(v))
        max_m, min_m = number("max_meetings"), number("min_meetings")
        if max_m is not None and min_m is not None and min_m > max_m:
            fail("min_meetings", "er større enn max_meetings")
        out.append(
            Participant(
                id=pid,
                side=side,
                name=name,
                organisation=(row.get("organisation") or "").strip(),
                text=normalise(f"{name}. {description}"),
                description=description,
                entrepreneur_id=ent_db_id,
                themes=themes,
                max_meetings=max_m,
                min_meetings=min_m or 0,
                unavailable=frozenset(slots_out),
                avoid=_items(row.get("avoid") or ""),
                want=_items(row.get("want") or ""),
                row=n,
            )
        )
    ids = {p.id: p.side for p in out}
    for p in out:
        for kind, refs in (("avoid", p.avoid), ("want", p.want)):
            for ref in refs:
                if ref not in ids:
                    errors.append(RowError(p.row, kind, f"ukjent deltaker «{ref}»"))
                elif ids[ref] == p.side:
                    errors.append(
                        RowError(
                            p.row,
                            kind,
                            f"«{ref}» er på samme side; møter er mellom kommune og entreprenør",
                        )
                    )
    if not out:
        errors.append(RowError(0, "", "filen inneholder ingen deltakere"))
    if errors:
        raise ImportValidationError(errors)
    return out


def affinities(
    session: Session,
    store: IndexStore,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
) -> np.ndarray:
    """Affinity of every pair, in [0, 1]: text similarity (embeddings, cached in the
    database), shared words (BM25 coverage) and shared themes, weighted as in the ranker."""
    texts = [p.text for p in municipal] + [p.text for p in entrepreneurs]
    vecs, _ = store.vectors(session, texts, RECORD_ROLE)
    vm, ve = vecs[: len(municipal)], vecs[len(municipal) :]
    cosine = vm @ ve.T
    similarity = np.vectorize(rescale_similarity, otypes=[float])(cosine)
    bm25 = BM25Index(store.analyzer).fit(
        list(range(len(entrepreneurs))), [p.text for p in entrepreneurs]
    )
    ids = list(range(len(entrepreneurs)))
    lexical = np.array([bm25.coverage(p.text, ids) for p in municipal])
    themes = np.array(
        [
            [
                (len(set(m.themes) & set(e.themes)) / len(set(m.themes))) if m.themes else 0.0
                for e in entrepreneurs
            ]
            for m in municipal
        ]
    )
    w = AFFINITY_WEIGHTS
    total = w["similarity"] * similarity + w["lexical"] * lexical + w["themes"] * themes
    return np.round(total / sum(w.values()), 4)


def instance(
    people: Sequence[Participant],
    affinity: np.ndarray,
    slots: int,
    tables: int,
    max_per_organisation: int | None,
) -> tuple[Instance, list[Participant], list[Participant]]:
    municipal = [p for p in people if p.side == "municipal"]
    entrepreneurs = [p for p in people if p.side == "entrepreneur"]
    mi = {p.id: i for i, p in enumerate(municipal)}
    ei = {p.id: j for j, p in enumerate(entrepreneurs)}

    def pairs(kind: str) -> set[tuple[int, int]]:
        out = set()
        for p in people:
            for ref in getattr(p, kind):
                i, j = (mi[p.id], ei[ref]) if p.side == "municipal" else (mi[ref], ei[p.id])
                out.add((i, j))
        return out

    def person(p: Participant) -> Person:
        return Person(p.id, p.name, p.organisation, p.max_meetings, p.min_meetings, p.unavailable)

    inst = Instance(
        municipal=[person(p) for p in municipal],
        entrepreneurs=[person(p) for p in entrepreneurs],
        affinity=affinity,
        slots=slots,
        tables=tables,
        avoid=pairs("avoid"),
        want=pairs("want") - pairs("avoid"),
        max_per_organisation=max_per_organisation,
    )
    return inst, municipal, entrepreneurs


# -- output ---------------------------------------------------------------------------------------


@dataclass
class Agenda:
    start: str  # HH:MM
    slot_minutes: int
    day: date
    name: str

    def times(self, slot: int) -> tuple[datetime, datetime]:
        h, m = (int(x) for x in self.start.split(":"))
        begin = datetime(self.day.year, self.day.month, self.day.day, h, m) + timedelta(
            minutes=(slot - 1) * self.slot_minutes
        )
        return begin, begin + timedelta(minutes=self.slot_minutes)


def agenda_ics(agenda: Agenda, rows: list[dict[str, Any]]) -> str:
    def esc(text: str) -> str:
        return (
            text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        )

    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Brobygger//Møteplan//NO",
        "CALSCALE:GREGORIAN",
    ]
    for r in rows:
        begin, end = agenda.times(r["slot"])
        lines += [
            "BEGIN:VEVENT",
            f"UID:brobygger-{agenda.day:%Y%m%d}-{r['slot']}-{r['municipal']}-{r['entrepreneur']}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{begin:%Y%m%dT%H%M%S}",
            f"DTEND:{end:%Y%m%dT%H%M%S}",
            f"SUMMARY:{esc('Møte med ' + r['other'])}",
            "LOCATION:" + esc(f"{agenda.name}, bord {r['table']}"),
            f"DESCRIPTION:{esc(r['why'])}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def agenda_html(
    agenda: Agenda,
    name: str,
    organisation: str,
    rows: list[dict[str, Any]],
    downloads: tuple[str, str] | None = None,
) -> str:
    e = html.escape
    body = (
        "".join(
            f"<tr><td>{agenda.times(r['slot'])[0]:%H:%M}–{agenda.times(r['slot'])[1]:%H:%M}</td>"
            f"<td>{r['table']}</td><td>{e(r['other'])}<br><small>{e(r['other_org'])}</small></td>"
            f"<td>{e(r['why'])}</td></tr>"
            for r in rows
        )
        or '<tr><td colspan="4">Ingen møter planlagt.</td></tr>'
    )
    org = f" · {e(organisation)}" if organisation else ""
    links = (
        f'<p class="noprint"><a href="{e(downloads[0])}">Last ned som PDF</a> · '
        f'<a href="{e(downloads[1])}">Legg i kalenderen (.ics)</a></p>'
        if downloads
        else ""
    )
    return f"""<!doctype html>
<html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Møteplan for {e(name)} – {e(agenda.name)}</title>
<style>body{{font:1rem/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;
color:#1b1f24}}table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;
padding:.4rem;border-bottom:1px solid #c8d0d8;vertical-align:top}}small{{color:#4a5360}}
@media print{{body{{margin:0}}.noprint{{display:none}}}}</style></head>
<body><h1>Møteplan for {e(name)}</h1>
<p>{e(agenda.name)} · {agenda.day:%d.%m.%Y}{org}</p>
<table><thead><tr><th scope="col">Tid</th><th scope="col">Bord</th><th scope="col">Med</th>
<th scope="col">Hvorfor</th></tr></thead><tbody>{body}</tbody></table>
{links}<p><small>Møtene er markedsdialog, ikke tildeling av kontrakt.</small></p>
</body></html>
"""


def agenda_pdf(agenda: Agenda, name: str, organisation: str, rows: list[dict[str, Any]]) -> bytes:
    """The same agenda as a PDF for printing."""
    from service.pdf import text_pdf

    head = f"{agenda.name} · {agenda.day:%d.%m.%Y}" + (f" · {organisation}" if organisation else "")
    lines: list[tuple[str, str]] = [("title", f"Møteplan for {name}"), ("text", head), ("text", "")]
    for r in rows:
        begin, end = agenda.times(r["slot"])
        other = r["other"] + (f" ({r['other_org']})" if r["other_org"] else "")
        lines.append(("text", f"{begin:%H:%M}–{end:%H:%M}   Bord {r['table']}   {other}"))
        lines.append(("small", f"        {r['why']}"))
    if not rows:
        lines.append(("text", "Ingen møter planlagt."))
    lines += [("text", ""), ("small", "Møtene er markedsdialog, ikke tildeling av kontrakt.")]
    return text_pdf(lines)


def _why(analyzer: Any, m: Participant, e: Participant) -> str:
    common = [THEMES.get(t, t) for t in m.themes if t in set(e.themes)]
    words = key_phrases(analyzer.terms(m.text), analyzer.terms(e.text), limit=4)
    bits = []
    if common:
        bits.append("Felles temaer: " + ", ".join(common))
    if words:
        bits.append("felles ord: " + ", ".join(words))
    return "; ".join(bits) + "." if bits else "Nærliggende tekster."


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
    sheet.append(
        [
            "Tidsluke",
            "Tid",
            "Bord",
            "Kommune-id",
            "Navn",
            "Organisasjon",
            "Entreprenør-id",
            "Entreprenør",
            "Treff",
        ]
    )
    for m in schedule.meetings:
        mp, ep = municipal[m.municipal], entrepreneurs[m.entrepreneur]
        begin, _end = agenda.times(m.slot)
        sheet.append(
            [
                m.slot,
                f"{begin:%H:%M}",
                m.table,
                mp.id,
                mp.name,
                mp.organisation,
                ep.id,
                ep.name,
                m.affinity,
            ]
        )
    people = book.create_sheet("Deltakere")
    people.append(["Id", "Side", "Navn", "Organisasjon", "Møter"])
    count: dict[str, int] = {}
    for m in schedule.meetings:
        for pid in (municipal[m.municipal].id, entrepreneurs[m.entrepreneur].id):
            count[pid] = count.get(pid, 0) + 1
    for p in (*municipal, *entrepreneurs):
        side = "kommune" if p.side == "municipal" else "entreprenør"
        people.append([p.id, side, p.name, p.organisation, count.get(p.id, 0)])
    book.save(path)


def _summary_html(
    schedule: Schedule,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
    affinity: np.ndarray,
    agenda: Agenda,
) -> str:
    per_m = Counter(m.municipal for m in schedule.meetings)
    per_e = Counter(m.entrepreneur for m in schedule.meetings)
    top = max([*per_m.values(), *per_e.values(), 0])
    labels = [str(k) for k in range(top + 1)]
    meetings = bar_chart_svg(
        "Antall deltakere med 0, 1, 2, … møter",
        labels,
        {
            "Kommunene": [
                sum(1 for i in range(len(municipal)) if per_m[i] == k) for k in range(top + 1)
            ],
            "Entreprenørene": [
                sum(1 for j in range(len(entrepreneurs)) if per_e[j] == k) for k in range(top + 1)
            ],
        },
        "antall deltakere",
    )
    edges = np.linspace(0, 1, 11)
    chosen = np.histogram([m.affinity for m in schedule.meetings], bins=edges)[0]
    every = np.histogram(affinity.ravel(), bins=edges)[0]
    share = {
        "Planlagte møter": [round(100 * c / max(chosen.sum(), 1), 1) for c in chosen],
        "Alle mulige par": [round(100 * c / max(every.sum(), 1), 1) for c in every],
    }
    dist = bar_chart_svg(
        "Treff (0–1) for planlagte møter og for alle par",
        [f"{a:.1f}" for a in edges[:-1]],
        share,
        "prosent",
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in schedule.notes) or "<li>Ingen.</li>"
    return f"""<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Oppsummering – {html.escape(agenda.name)}</title>
<style>body{{font:1rem/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;
color:#1b1f24}}figure{{margin:1.5rem 0}}figcaption{{font-weight:600}}td,th{{padding:.2rem .5rem;
text-align:left}}</style></head><body>
<h1>Møteplan: {html.escape(agenda.name)}</h1>
<p>{agenda.day:%d.%m.%Y}. {len(schedule.meetings)} møter mellom {len(municipal)} fra kommunene og
{len(entrepreneurs)} entreprenører. Samlet treff {schedule.objective:.2f} av høyst
{schedule.upper_bound:.2f} (avstand {schedule.gap:.2%}; {schedule.status}).</p>
{meetings}
{dist}
<h2>Ikke oppfylt</h2><ul>{notes}</ul>
</body></html>
"""


OUTPUTS = frozenset(
    {"meetings.csv", "meetings.xlsx", "affinities.csv", "summary.json", "summary.html", "agendaer"}
)


def write_outputs(
    out: Path,
    schedule: Schedule,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
    affinity: np.ndarray,
    agenda: Agenda,
    analyzer: Any,
) -> None:
    """Every output file, complete or not at all (see ``_whole_folder``)."""
    with _whole_folder(out) as folder:
        _write_outputs(folder, schedule, municipal, entrepreneurs, affinity, agenda, analyzer)


@contextmanager
def _whole_folder(out: Path) -> Iterator[Path]:
    """The folder to write ``out``'s files into: a new folder beside it that then takes its
    place, so a crash leaves the previous plan (or nothing), never half of each. A folder that
    also holds other files is written into directly (it is never replaced)."""
    out = out.resolve()
    if out.exists() and any(p.name not in OUTPUTS for p in out.iterdir()):
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


def _write_outputs(
    out: Path,
    schedule: Schedule,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
    affinity: np.ndarray,
    agenda: Agenda,
    analyzer: Any,
) -> None:
    """meetings.csv, affinities.csv, summary.json and an agenda (HTML + ICS) per person."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "meetings.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["slot", "table", "municipal_id", "entrepreneur_id", "affinity"])
        for m in schedule.meetings:
            w.writerow(
                [
                    m.slot,
                    m.table,
                    municipal[m.municipal].id,
                    entrepreneurs[m.entrepreneur].id,
                    f"{m.affinity:.4f}",
                ]
            )
    with (out / "affinities.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["municipal_id", "entrepreneur_id", "affinity"])
        for i, mp in enumerate(municipal):
            for j, ep in enumerate(entrepreneurs):
                w.writerow([mp.id, ep.id, f"{affinity[i, j]:.4f}"])
    _write_xlsx(out / "meetings.xlsx", schedule, municipal, entrepreneurs, agenda)
    per_person: dict[str, list[dict[str, Any]]] = {p.id: [] for p in (*municipal, *entrepreneurs)}
    for m in schedule.meetings:
        mp, ep = municipal[m.municipal], entrepreneurs[m.entrepreneur]
        why = _why(analyzer, mp, ep)
        base = {
            "slot": m.slot,
            "table": m.table,
            "municipal": mp.id,
            "entrepreneur": ep.id,
            "why": why,
        }
        per_person[mp.id].append({**base, "other": ep.name, "other_org": ep.organisation})
        per_person[ep.id].append({**base, "other": mp.name, "other_org": mp.organisation})
    folder = out / "agendaer"
    folder.mkdir(exist_ok=True)
    index = []
    for p in (*municipal, *entrepreneurs):
        rows = sorted(per_person[p.id], key=lambda r: r["slot"])
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in p.id)
        (folder / f"{safe}.html").write_text(
            agenda_html(agenda, p.name, p.organisation, rows, (f"{safe}.pdf", f"{safe}.ics")),
            encoding="utf-8",
        )
        (folder / f"{safe}.ics").write_text(agenda_ics(agenda, rows), encoding="utf-8")
        (folder / f"{safe}.pdf").write_bytes(agenda_pdf(agenda, p.name, p.organisation, rows))
        index.append(
            f'<li><a href="{safe}.html">{html.escape(p.name)}</a> '
            f'({len(rows)} møter, <a href="{safe}.pdf">PDF</a>, '
            f'<a href="{safe}.ics">kalender</a>)</li>'
        )
    (folder / "index.html").write_text(
        f'<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Møteplaner – '
        f"{html.escape(agenda.name)}</title></head><body><h1>Møteplaner</h1><ul>"
        + "".join(index)
        + "</ul></body></html>\n",
        encoding="utf-8",
    )
    per_m = [sum(1 for m in schedule.meetings if m.municipal == i) for i in range(len(municipal))]
    per_e = [
        sum(1 for m in schedule.meetings if m.entrepreneur == j) for j in range(len(entrepreneurs))
    ]
    summary = {
        "objective": schedule.objective,
        "upper_bound": schedule.upper_bound,
        "gap": round(schedule.gap, 6),
        "status": schedule.status,
        "seconds": schedule.seconds,
        "meetings": len(schedule.meetings),
        "municipal": len(municipal),
        "entrepreneurs": len(entrepreneurs),
        "meetings_per_municipal": {"min": min(per_m), "max": max(per_m)},
        "meetings_per_entrepreneur": {"min": min(per_e), "max": max(per_e)},
        "notes": schedule.notes,
    }
    (out / "summary.html").write_text(
        _summary_html(schedule, municipal, entrepreneurs, affinity, agenda), encoding="utf-8"
    )
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


# -- conferences kept in the database: plan, review, no-shows, publish --------------------------


class ConferenceError(ValueError):
    """A change the plan cannot take (message in Norwegian)."""


def ensure_editable(conf: Conference) -> None:
    """A published plan is what participants hold in their hands: it is not changed."""
    if conf.status == "published":
        raise ConferenceError("Planen er publisert og kan ikke endres.")


def create_conference(
    session: Session,
    *,
    name: str,
    day: date,
    place: str,
    slots: int,
    slot_minutes: int,
    start: str,
    tables: int,
    max_per_organisation: int | None,
    people: Sequence[Participant],
) -> Conference:
    conf = Conference(
        name=name,
        event_date=day,
        place=place,
        slots=slots,
        slot_minutes=slot_minutes,
        start_time=start,
        tables=tables,
        max_per_organisation=max_per_organisation,
    )
    session.add(conf)
    session.flush()
    for p in people:
        session.add(
            ParticipantRow(
                conference_id=conf.id or 0,
                external_id=p.id,
                side=p.side,
                name=p.name,
                organisation=p.organisation or None,
                description=p.description,
                themes=p.themes,
                entrepreneur_id=p.entrepreneur_id,
                max_meetings=p.max_meetings,
                min_meetings=p.min_meetings,
                unavailable_slots=sorted(p.unavailable),
                avoid=p.avoid,
                want=p.want,
            )
        )
    session.flush()
    return conf


def _people(session: Session, conf: Conference) -> list[tuple[ParticipantRow, Participant]]:
    rows = session.exec(
        select(ParticipantRow)
        .where(ParticipantRow.conference_id == conf.id)
        .order_by(col(ParticipantRow.id))
    ).all()
    out = []
    for r in rows:
        unavailable = set(r.unavailable_slots)
        if r.absent_from is not None:
            unavailable |= set(range(r.absent_from, conf.slots + 1))
        out.append(
            (
                r,
                Participant(
                    id=r.external_id,
                    side=r.side,
                    name=r.name,
                    organisation=r.organisation or "",
                    text=normalise(f"{r.name}. {r.description}"),
                    themes=list(r.themes),
                    max_meetings=r.max_meetings,
                    min_meetings=r.min_meetings or 0,
                    unavailable=frozenset(unavailable),
                    avoid=list(r.avoid),
                    want=list(r.want),
                    description=r.description,
                    entrepreneur_id=r.entrepreneur_id,
                ),
            )
        )
    return out


@dataclass
class Loaded:
    """A stored conference as the solver sees it."""

    conf: Conference
    rows: dict[int, ParticipantRow]  # participant row id -> row
    municipal: list[Participant]
    entrepreneurs: list[Participant]
    index: dict[int, tuple[str, int]]  # participant row id -> (side, matrix index)
    affinity: np.ndarray
    instance: Instance


def load(session: Session, store: IndexStore, conf: Conference) -> Loaded:
    pairs = _people(session, conf)
    people = [p for _r, p in pairs]
    municipal = [p for p in people if p.side == "municipal"]
    entrepreneurs = [p for p in people if p.side == "entrepreneur"]
    if not municipal or not entrepreneurs:
        raise ConferenceError("Det trengs deltakere fra både kommunene og entreprenørene.")
    aff = affinities(session, store, municipal, entrepreneurs)
    inst, municipal, entrepreneurs = instance(
        people, aff, conf.slots, conf.tables, conf.max_per_organisation
    )
    mi = {p.id: i for i, p in enumerate(municipal)}
    ei = {p.id: j for j, p in enumerate(entrepreneurs)}
    index = {
        r.id or 0: ("municipal", mi[r.external_id])
        if r.side == "municipal"
        else ("entrepreneur", ei[r.external_id])
        for r, _p in pairs
    }
    rows = {r.id or 0: r for r, _p in pairs}
    fixed = {}
    for m in session.exec(select(Meeting).where(Meeting.conference_id == conf.id)):
        if m.locked:
            fixed[(index[m.municipal_id][1], index[m.entrepreneur_id][1])] = m.slot
    inst.fixed = fixed
    return Loaded(conf, rows, municipal, entrepreneurs, index, aff, inst)


def plan(
    session: Session,
    store: IndexStore,
    conf: Conference,
    *,
    time_limit: float = 120.0,
    progress: Progress | None = None,
) -> Schedule:
    """(Re-)plan every meeting that is not locked; locked ones stay where they are."""
    ensure_editable(conf)
    data = load(session, store, conf)
    schedule = solve(data.instance, time_limit=time_limit, progress=progress)
    row_of = {v: k for k, v in data.index.items()}
    for old in session.exec(select(Meeting).where(Meeting.conference_id == conf.id)):
        session.delete(old)
    session.flush()
    for sm in schedule.meetings:
        session.add(
            Meeting(
                conference_id=conf.id or 0,
                municipal_id=row_of[("municipal", sm.municipal)],
                entrepreneur_id=row_of[("entrepreneur", sm.entrepreneur)],
                slot=sm.slot,
                table_no=sm.table,
                affinity=sm.affinity,
                locked=(sm.municipal, sm.entrepreneur) in data.instance.fixed,
            )
        )
    conf.objective, conf.upper_bound = schedule.objective, schedule.upper_bound
    conf.solve_status, conf.notes = schedule.status, list(schedule.notes)
    session.add(conf)
    session.flush()
    return schedule


def _meeting(session: Session, conf: Conference, meeting_id: int) -> Meeting:
    m = session.get(Meeting, meeting_id)
    if m is None or m.conference_id != conf.id:
        raise ConferenceError(f"Fant ikke møte {meeting_id} i denne konferansen.")
    return m


def _free_at(
    session: Session, conf: Conference, who: ParticipantRow, slot: int, skip: int | None
) -> bool:
    if slot in who.unavailable_slots or (who.absent_from is not None and slot >= who.absent_from):
        return False
    column = Meeting.municipal_id if who.side == "municipal" else Meeting.entrepreneur_id
    clash = session.exec(
        select(Meeting).where(
            Meeting.conference_id == conf.id, Meeting.slot == slot, column == who.id
        )
    ).all()
    return all(m.id == skip for m in clash)


def _table_for(session: Session, conf: Conference, slot: int, skip: int | None) -> int:
    used = {
        m.table_no
        for m in session.exec(
            select(Meeting).where(Meeting.conference_id == conf.id, Meeting.slot == slot)
        )
        if m.id != skip
    }
    free = [t for t in range(1, conf.tables + 1) if t not in used]
    if not free:
        raise ConferenceError(f"Alle {conf.tables} bord er i bruk i tidsluke {slot}.")
    return free[0]


def _check_slot(
    session: Session,
    conf: Conference,
    slot: int,
    people: Sequence[ParticipantRow],
    skip: int | None = None,
) -> int:
    if not 1 <= slot <= conf.slots:
        raise ConferenceError(f"Tidsluken må være fra 1 til {conf.slots}.")
    for who in people:
        if not _free_at(session, conf, who, slot, skip):
            raise ConferenceError(f"{who.name} er ikke ledig i tidsluke {slot}.")
    return _table_for(session, conf, slot, skip)


def set_locked(session: Session, conf: Conference, meeting_id: int, locked: bool) -> Meeting:
    ensure_editable(conf)
    m = _meeting(session, conf, meeting_id)
    m.locked = locked
    session.add(m)
    return m


def move_meeting(session: Session, conf: Conference, meeting_id: int, slot: int) -> Meeting:
    """Move a meeting to another slot (and lock it there)."""
    ensure_editable(conf)
    m = _meeting(session, conf, meeting_id)
    people = [
        session.get(ParticipantRow, m.municipal_id),
        session.get(ParticipantRow, m.entrepreneur_id),
    ]
    m.table_no = _check_slot(session, conf, slot, [p for p in people if p], skip=m.id)
    m.slot, m.locked = slot, True
    session.add(m)
    return m


def remove_meeting(session: Session, conf: Conference, meeting_id: int) -> None:
    """Take a meeting out; the pair is kept apart when the rest is re-planned."""
    ensure_editable(conf)
    m = _meeting(session, conf, meeting_id)
    mun = session.get(ParticipantRow, m.municipal_id)
    ent = session.get(ParticipantRow, m.entrepreneur_id)
    if mun is not None and ent is not None:
        mun.avoid = [*mun.avoid, ent.external_id]
        mun.want = [w for w in mun.want if w != ent.external_id]
        session.add(mun)
    session.delete(m)


def add_meeting(
    session: Session,
    store: IndexStore,
    conf: Conference,
    municipal_id: int,
    entrepreneur_id: int,
    slot: int,
) -> Meeting:
    """A meeting the organiser adds by hand, locked in its slot."""
    ensure_editable(conf)
    mun = session.get(ParticipantRow, municipal_id)
    ent = session.get(ParticipantRow, entrepreneur_id)
    if (
        mun is None
        or ent is None
        or mun.conference_id != conf.id
        or ent.conference_id != conf.id
        or mun.side != "municipal"
        or ent.side != "entrepreneur"
    ):
        raise ConferenceError("Velg én deltaker fra kommunene og én entreprenør.")
    if ent.external_id in mun.avoid or mun.external_id in ent.avoid:
        raise ConferenceError(f"{mun.name} og {ent.name} skal ikke møtes.")
    if session.exec(
        select(Meeting).where(
            Meeting.conference_id == conf.id,
            Meeting.municipal_id == mun.id,
            Meeting.entrepreneur_id == ent.id,
        )
    ).first():
        raise ConferenceError(f"{mun.name} og {ent.name} har allerede et møte.")
    table = _check_slot(session, conf, slot, [mun, ent])
    for who in (mun, ent):
        column = Meeting.municipal_id if who.side == "municipal" else Meeting.entrepreneur_id
        have = len(
            session.exec(
                select(Meeting).where(Meeting.conference_id == conf.id, column == who.id)
            ).all()
        )
        if who.max_meetings is not None and have >= who.max_meetings:
            raise ConferenceError(f"{who.name} har allerede {have} møter, som er taket.")
    pm = Participant(
        mun.external_id,
        "municipal",
        mun.name,
        mun.organisation or "",
        normalise(f"{mun.name}. {mun.description}"),
        list(mun.themes),
        None,
        0,
        frozenset(),
    )
    pe = Participant(
        ent.external_id,
        "entrepreneur",
        ent.name,
        "",
        normalise(f"{ent.name}. {ent.description}"),
        list(ent.themes),
        None,
        0,
        frozenset(),
    )
    aff = float(affinities(session, store, [pm], [pe])[0, 0])
    m = Meeting(
        conference_id=conf.id or 0,
        municipal_id=mun.id or 0,
        entrepreneur_id=ent.id or 0,
        slot=slot,
        table_no=table,
        affinity=aff,
        locked=True,
    )
    session.add(m)
    return m


def record_no_show(
    session: Session, conf: Conference, participant_id: int, from_slot: int
) -> ParticipantRow:
    """Someone did not come from ``from_slot`` on: what happened before stays (locked), their
    later meetings go, and a re-plan fills the places."""
    ensure_editable(conf)
    who = session.get(ParticipantRow, participant_id)
    if who is None or who.conference_id != conf.id:
        raise ConferenceError("Fant ikke deltakeren i denne konferansen.")
    if not 1 <= from_slot <= conf.slots:
        raise ConferenceError(f"Tidsluken må være fra 1 til {conf.slots}.")
    who.absent_from = from_slot
    session.add(who)
    for m in session.exec(select(Meeting).where(Meeting.conference_id == conf.id)):
        theirs = (m.municipal_id if who.side == "municipal" else m.entrepreneur_id) == who.id
        if m.slot < from_slot:
            m.locked = True  # it took place
            session.add(m)
        elif theirs:
            session.delete(m)
    return who


def publish(session: Session, conf: Conference) -> Conference:
    ensure_editable(conf)
    if not session.exec(select(Meeting).where(Meeting.conference_id == conf.id)).first():
        raise ConferenceError("Det er ingen møter å publisere ennå.")
    conf.status, conf.published_at = "published", datetime.now(UTC)
    session.add(conf)
    return conf


def stored_schedule(session: Session, data: Loaded) -> Schedule:
    """The meetings in the database as a Schedule (for the output files)."""
    meetings = [
        ScheduledMeeting(
            m.slot,
            m.table_no,
            data.index[m.municipal_id][1],
            data.index[m.entrepreneur_id][1],
            m.affinity,
        )
        for m in session.exec(
            select(Meeting)
            .where(Meeting.conference_id == data.conf.id)
            .order_by(col(Meeting.slot), col(Meeting.table_no))
        )
    ]
    conf = data.conf
    return Schedule(
        meetings=meetings,
        objective=round(sum(m.affinity for m in meetings), 4),
        upper_bound=conf.upper_bound or 0.0,
        status=conf.solve_status or "feasible",
        seconds=0.0,
        notes=list(conf.notes),
    )


def stored_agenda(
    session: Session, store: IndexStore, conf: Conference, who: ParticipantRow
) -> list[dict[str, Any]]:
    """One person's meetings with times, tables, the other side and why they meet."""
    people = {r.id: p for r, p in _people(session, conf)}
    column = Meeting.municipal_id if who.side == "municipal" else Meeting.entrepreneur_id
    out = []
    for m in session.exec(
        select(Meeting)
        .where(Meeting.conference_id == conf.id, column == who.id)
        .order_by(col(Meeting.slot))
    ):
        mp, ep = people[m.municipal_id], people[m.entrepreneur_id]
        other = ep if who.side == "municipal" else mp
        out.append(
            {
                "slot": m.slot,
                "table": m.table_no,
                "municipal": mp.id,
                "entrepreneur": ep.id,
                "other": other.name,
                "other_org": other.organisation,
                "why": _why(store.analyzer, mp, ep),
            }
        )
    return out


def stored_files(session: Session, store: IndexStore, conf: Conference, out: Path) -> None:
    """The organisers' files (meetings, workbook, affinities, summary, agendas) for a stored
    plan, written into ``out``."""
    data = load(session, store, conf)
    write_outputs(
        out,
        stored_schedule(session, data),
        data.municipal,
        data.entrepreneurs,
        data.affinity,
        Agenda(conf.start_time, conf.slot_minutes, conf.event_date, conf.name),
        store.analyzer,
    )
