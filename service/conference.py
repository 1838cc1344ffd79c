"""Conference scheduling as a service: participants from a spreadsheet, affinities from the
matcher, the solver of ``matcher.scheduling``, and the files organisers hand out (SPEC §8).

The participants file is CSV (``;`` or ``,`` between columns, UTF-8 with or without BOM or
Windows-1252, as Norwegian Excel saves it) or XLSX. Its header names the columns, in Norwegian
or English (``COLUMNS``): ``id``, ``type``/``side`` (``kommune`` | ``entreprenør``), ``navn``,
``organisasjon``, ``beskrivelse``, ``temaer``, ``maks_møter``, ``min_møter``, ``opptatt``,
``ikke_møte``, ``vil_møte``, ``profil`` (an existing entrepreneur profile instead of a text).
Lists are separated by ``;`` or ``,``; slots are numbered from 1 and may be ranges (``1-3``).
Rows are numbered as the spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
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
from models.validation import CONTROL, CONTROL_PROBLEM
from models.vocabulary import THEMES
from service import formatting
from service.matching import RECORD_ROLE, IndexStore, entrepreneur_text, find_entrepreneur
from service.plots import bar_chart_svg


@dataclass(frozen=True)
class Column:
    """One column of the participants file: ``key`` is the English name (also accepted),
    ``name`` the Norwegian one of the template, ``aliases`` other names people write."""

    key: str
    name: str
    meaning: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column(
        "id",
        "id",
        "Kort, unik id for deltakeren, f.eks. k1 eller e1 (brukes i ikke_møte og vil_møte).",
        ("nr",),
    ),
    Column(
        "side",
        "type",
        "kommune (ansatte i kommune, bydel eller etat) eller entreprenør.",
        ("rolle", "side"),
    ),
    Column("name", "navn", "Navnet på personen eller entreprenøren."),
    Column("organisation", "organisasjon", "Bydel, etat, kommune eller firma.", ("org",)),
    Column(
        "description",
        "beskrivelse",
        "Hva de trenger eller tilbyr, med egne ord. Brukes til å finne dem som passer sammen.",
        ("tekst",),
    ),
    Column(
        "themes",
        "temaer",
        "Ett eller flere temaer, skilt med komma, f.eks. «Eldre, Frivillighet».",
        ("tema",),
    ),
    Column(
        "max_meetings",
        "maks_møter",
        "Høyst så mange møter (tom: så mange som tidsluker).",
        ("maks", "maks_antall_møter", "høyst_møter"),
    ),
    Column(
        "min_meetings",
        "min_møter",
        "Minst så mange møter (brukes for entreprenører; tom: 0).",
        ("minst_møter", "min_antall_møter"),
    ),
    Column(
        "unavailable_slots",
        "opptatt",
        "Tidsluker de ikke kan, f.eks. «1, 2» eller «5-6». Tidsluke 1 er den første.",
        ("ikke_ledig", "opptatte_tidsluker"),
    ),
    Column(
        "avoid",
        "ikke_møte",
        "Id-ene til dem de ikke skal møte (inhabilitet, pågående anskaffelse).",
        ("skal_ikke_møte", "unngå"),
    ),
    Column("want", "vil_møte", "Id-ene til dem de ønsker å møte.", ("ønsker", "ønsker_å_møte")),
    Column(
        "entrepreneur_id",
        "profil",
        "For entreprenører med profil i Brobygger: profilens id. Da kan navn, beskrivelse "
        "og temaer stå tomme.",
        ("entreprenør_id", "entreprenørprofil", "profil_id"),
    ),
)
SIDES = ("municipal", "entrepreneur")
SIDE_NAMES = {"municipal": "kommune", "entrepreneur": "entreprenør"}
MAX_ROWS = 5000
# Column limits of the participant table (models.tables.Participant).
MAX_LENGTH = {"id": 100, "name": 200, "organisation": 200, "description": 5000}
# The text and theme parts of the standard ranker, rescaled to [0, 1]: place, capacity and
# history say nothing about a conversation at a conference.
AFFINITY_WEIGHTS = {k: DEFAULT_WEIGHTS[k] for k in ("similarity", "lexical", "themes")}


def _fold(text: str) -> str:
    """A header or value as compared: lower case, ``_`` for spaces and dashes, æøå in ASCII
    (``Maks møter``, ``maks_moter`` and ``MAKS-MØTER`` are the same column)."""
    text = text.strip().strip("\ufeff").lower()
    text = text.replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return re.sub(r"[\s\-_]+", "_", text).strip("_")


_COLUMN_BY_NAME = {_fold(n): c for c in COLUMNS for n in (c.key, c.name, *c.aliases)}
_SIDE_BY_NAME = {
    **{_fold(n): "municipal" for n in ("municipal", "kommune", "kommuneansatt", "bydel", "etat")},
    **{_fold(n): "entrepreneur" for n in ("entrepreneur", "entreprenør", "sosial entreprenør")},
}
_THEME_BY_NAME = {_fold(n): slug for slug, label in THEMES.items() for n in (slug, label)}


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
    return [v.strip() for v in re.split(r"[;,\n]", value or "") if v.strip()]


# -- reading the file: rows as the spreadsheet numbers them --------------------------------------

Rows = list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(raw: bytes) -> Rows:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken file
        raise ImportValidationError(
            [RowError(0, "", "filen kan ikke leses som et Excel-ark (.xlsx)")]
        ) from exc
    sheet = book.worksheets[0]
    rows: Rows = []
    for row in sheet.iter_rows():
        cells = [c for c in row if getattr(c, "row", None)]
        if cells:
            rows.append((cells[0].row, [_cell(c.value) for c in row]))
    book.close()
    return rows


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or, failing that, Windows-1252 (what Norwegian Excel writes
    for «CSV (semikolonseparert)»); UTF-16 when it starts with its BOM («Unicode-tekst»)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ImportValidationError(
            [
                RowError(
                    0,
                    "",
                    "tegnene i filen kan ikke leses (verken UTF-8 eller Windows-1252); "
                    "lagre den fra Excel som «CSV UTF-8 (kommadelt)»",
                )
            ]
        ) from exc


def _delimiter(text: str) -> str:
    """The column separator, from the header line: ``;`` (Norwegian Excel), ``,`` or tab."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    header = re.sub(r'"[^"]*"', "", header)
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(raw: bytes) -> Rows:
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return [(n, [c.strip() for c in cells]) for n, cells in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ImportValidationError(
            [RowError(0, "", f"filen kan ikke leses som CSV ({exc})")]
        ) from exc


def file_rows(path: Path) -> Rows:
    """The rows of a participants file (``.csv``/``.txt`` or ``.xlsx``), numbered as the
    spreadsheet shows them."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportValidationError([RowError(0, "", f"finner ikke filen {path}")]) from exc
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(raw)
    if suffix in (".csv", ".txt"):
        return _csv_rows(raw)
    raise ImportValidationError(
        [RowError(0, "", f"ukjent filtype «{path.suffix or path.name}»; bruk .csv eller .xlsx")]
    )


def read_participants(path: Path, session: Session | None, slots: int) -> list[Participant]:
    """Read and validate the participants file; every problem is reported with its row (as
    the spreadsheet numbers it), column and reason, and nothing is used unless the whole
    file is valid."""
    return parse_participants(file_rows(path), session, slots)


def _slot_items(value: str, slots: int) -> tuple[list[int], list[str]]:
    """``1, 3-4`` as [1, 3, 4]; the items that are not slots come back as problems."""
    out: list[int] = []
    bad: list[str] = []
    for item in _items(value):
        low, dash, high = item.replace("–", "-").partition("-")
        low, high = low.strip(), high.strip()
        if dash and low.isdigit() and high.isdigit() and int(low) <= int(high):
            span = range(int(low), int(high) + 1)
        elif not dash and low.isdigit():
            span = range(int(low), int(low) + 1)
        else:
            bad.append(f"«{item}» er ikke en tidsluke fra 1 til {slots}")
            continue
        if span.start < 1 or span.stop - 1 > slots:
            bad.append(f"«{item}» er ikke en tidsluke fra 1 til {slots}")
        else:
            out.extend(span)
    return out, bad


def parse_participants(rows: Rows, session: Session | None, slots: int) -> list[Participant]:
    """Participants from the rows of a file (header first); see the module docstring."""
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise ImportValidationError([RowError(0, "", "filen inneholder ingen deltakere")])
    header_row, header = rows[0]
    errors: list[RowError] = []
    where: dict[str, int] = {}  # column key -> index in the row
    label: dict[str, str] = {}  # column key -> its name as the file writes it
    blank: list[int] = []  # columns without a name
    for i, name in enumerate(header):
        column = _COLUMN_BY_NAME.get(_fold(name))
        if not name.strip():
            blank.append(i)
        elif column is None:
            errors.append(
                RowError(
                    header_row,
                    name,
                    "ukjent kolonne (gyldige: " + ", ".join(c.name for c in COLUMNS) + ")",
                )
            )
        elif column.key in where:
            errors.append(
                RowError(
                    header_row,
                    name,
                    f"betyr det samme som kolonnen «{label[column.key]}»; bruk bare én av dem",
                )
            )
        else:
            where[column.key], label[column.key] = i, name.strip()
    # messages name a missing column in the language of the file's other headers
    named = [k for k in label if k != "id"]
    english = bool(named) and all(_fold(label[k]) == _fold(k) for k in named)
    for c in COLUMNS:
        label.setdefault(c.key, c.key if english else c.name)
    missing = [label[k] for k in ("id", "side", "name") if k not in where]
    if missing:
        names = ", ".join(f"«{m}»" for m in missing)
        errors.append(RowError(header_row, "", f"mangler kolonnene {names}"))
        raise ImportValidationError(errors)

    out: list[Participant] = []
    seen: set[str] = set()
    for count, (n, cells) in enumerate(rows[1:], start=1):
        if count > MAX_ROWS:
            errors.append(RowError(n, "", f"for mange rader (høyst {MAX_ROWS} deltakere)"))
            break

        def fail(key: str, reason: str, n: int = n) -> None:
            errors.append(RowError(n, label.get(key, key), reason))

        def value(key: str, cells: list[str] = cells) -> str:
            i = where.get(key)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        def number(key: str) -> int | None:
            text = value(key)
            if not text:
                return None
            if not text.isdigit():
                fail(key, f"«{text}» må være et helt tall")
                return None
            return int(text)

        if len(cells) > len(header) and any(cells[len(header) :]):
            errors.append(
                RowError(
                    n,
                    "",
                    f"raden har {len(cells)} celler, men overskriften bare {len(header)} "
                    "kolonner (sjekk skilletegn og anførselstegn)",
                )
            )
        for i in blank:
            if i < len(cells) and cells[i]:
                errors.append(RowError(n, "", f"verdien «{cells[i]}» står i en kolonne uten navn"))
        for key, i in where.items():
            if i < len(cells) and CONTROL.search(cells[i]):
                fail(key, CONTROL_PROBLEM)
        for key, most in MAX_LENGTH.items():
            if len(value(key)) > most:
                fail(key, f"er lengre enn {most} tegn")
        pid = value("id")
        raw_side = value("side")
        side = _SIDE_BY_NAME.get(_fold(raw_side), "")
        name = value("name")
        if not pid:
            fail("id", "mangler")
        elif pid in seen:
            fail("id", f"«{pid}» er brukt før i filen")
        seen.add(pid)
        if not side:
            fail(
                "side",
                (f"«{raw_side}» er ikke gyldig" if raw_side else "mangler")
                + " (skriv kommune eller entreprenør)",
            )
        themes = []
        for t in _items(value("themes")):
            slug = _THEME_BY_NAME.get(_fold(t))
            if slug is None:
                fail("themes", f"ukjent tema «{t}» (gyldige: {', '.join(THEMES.values())})")
            elif slug not in themes:
                themes.append(slug)
        description = value("description")
        ent_key = value("entrepreneur_id")
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
        elif ent_key and side == "municipal":
            fail("entrepreneur_id", "gjelder bare entreprenører")
        if not name:
            fail("name", "mangler")
        if not description and not themes and not value("themes"):  # a bad theme: said above
            fail(
                "description",
                f"mangler (eller fyll ut «{label['themes']}» eller «{label['entrepreneur_id']}»)",
            )
        busy, bad = _slot_items(value("unavailable_slots"), slots)
        for reason in bad:
            fail("unavailable_slots", reason)
        max_m, min_m = number("max_meetings"), number("min_meetings")
        if max_m is not None and min_m is not None and min_m > max_m:
            fail("min_meetings", f"er større enn «{label['max_meetings']}» ({min_m} > {max_m})")
        out.append(
            Participant(
                id=pid,
                side=side,
                name=name,
                organisation=value("organisation"),
                text=normalise(f"{name}. {description}"),
                description=description,
                entrepreneur_id=ent_db_id,
                themes=themes,
                max_meetings=max_m,
                min_meetings=min_m or 0,
                unavailable=frozenset(busy),
                avoid=_items(value("avoid")),
                want=_items(value("want")),
                row=n,
            )
        )
    ids = {p.id: p.side for p in out}
    for p in out:
        for key, refs in (("avoid", p.avoid), ("want", p.want)):
            for ref in refs:
                if ref not in ids:
                    errors.append(RowError(p.row, label[key], f"ukjent deltaker «{ref}»"))
                elif ids[ref] == p.side and p.side:
                    errors.append(
                        RowError(
                            p.row,
                            label[key],
                            f"«{ref}» er på samme side; møter er mellom kommune og entreprenør",
                        )
                    )
    if not out:
        errors.append(RowError(0, "", "filen inneholder ingen deltakere"))
    if errors:
        raise ImportValidationError(errors)
    return out


# -- the template organisers fill in ---------------------------------------------------------------

TEMPLATE_ROWS = (
    (
        "k1",
        "kommune",
        "Kari Nordby",
        "Bydel Grorud",
        "Vi trenger arbeidstrening for unge voksne som står utenfor arbeid og skole.",
        "Arbeidsinkludering, Barn og unge",
        "4",
        "",
        "1-2",
        "",
        "e1",
        "",
    ),
    (
        "e1",
        "entreprenør",
        "Jobbverkstedet",
        "Jobbverkstedet AS",
        "Vi gir unge arbeidstrening i et ekte verksted, med tett oppfølging til jobb.",
        "Arbeidsinkludering",
        "5",
        "2",
        "",
        "",
        "",
        "",
    ),
)


def template_csv() -> bytes:
    """The participants template as Norwegian Excel opens it: ``;`` between columns and
    UTF-8 with a BOM (so æ, ø and å come out right), Norwegian headers, two example rows."""
    buffer = io.StringIO()
    w = csv.writer(buffer, delimiter=";")
    w.writerow([c.name for c in COLUMNS])
    w.writerows(TEMPLATE_ROWS)
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The same template as an Excel workbook."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Deltakere"
    sheet.append([c.name for c in COLUMNS])
    for row in TEMPLATE_ROWS:
        sheet.append([int(v) if v.isdigit() else v for v in row])
    sheet.freeze_panes = "A2"
    widths = (6, 12, 18, 18, 50, 30, 11, 10, 10, 10, 10, 18)
    for letter, width in zip("ABCDEFGHIJKL", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
    place: str = ""

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

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")  # RFC 5545: DTSTAMP is in UTC
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


# One stylesheet for the agenda and the summary: fits a 390 px phone without scrolling
# sideways, prints on A4; colours meet WCAG AA contrast on white.
_PAGE_STYLE = """body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1b1f24;background:#fff}main{max-width:50rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.2;margin:.5rem 0}h2{font-size:1.1rem;margin:0}
p{margin:.25rem 0}.meta,.org,.why,.note{color:#4a5360}a{color:#0b4f8a}
:focus-visible{outline:3px solid #1b1f24;outline-offset:2px;box-shadow:0 0 0 2px #fff}
main,li{overflow-wrap:anywhere}
ol.agenda{list-style:none;padding:0;margin:1rem 0}
ol.agenda>li{border-top:1px solid #c8d0d8;padding:.6rem 0}
@media (min-width:40rem){ol.agenda>li{display:grid;grid-template-columns:10rem 1fr;
gap:0 1rem}ol.agenda h2{grid-row:span 2}}
figure{margin:1.5rem 0}figcaption{font-weight:600}svg{max-width:100%;height:auto}
table{border-collapse:collapse}td,th{padding:.2rem .5rem;text-align:left}
@media print{main{max-width:none;padding:0}.noprint{display:none}}"""


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="nb"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_PAGE_STYLE}</style></head>
<body><main>
{body}
</main></body></html>
"""


def agenda_html(
    agenda: Agenda,
    name: str,
    organisation: str,
    rows: list[dict[str, Any]],
    downloads: tuple[str, str] | None = None,
) -> str:
    """One person's agenda as a page for the screen (a phone too) and for printing: a list
    of meetings with time, table, whom they meet and why."""
    e = html.escape
    items = []
    for r in rows:
        begin, end = agenda.times(r["slot"])
        org = f', <span class="org">{e(r["other_org"])}</span>' if r["other_org"] else ""
        items.append(
            f'<li><h2><time datetime="{begin:%Y-%m-%dT%H:%M}">{begin:%H:%M}</time>–'
            f'<time datetime="{end:%Y-%m-%dT%H:%M}">{end:%H:%M}</time>, bord {r["table"]}</h2>'
            f'<p class="who">Med <strong>{e(r["other"])}</strong>{org}</p>'
            f'<p class="why">{e(r["why"])}</p></li>'
        )
    meetings = (
        f'<ol class="agenda" aria-label="Møtene">{"".join(items)}</ol>'
        if items
        else "<p>Ingen møter planlagt.</p>"
    )
    facts = (agenda.name, formatting.long_day(agenda.day), agenda.place, organisation)
    where = " · ".join(e(x) for x in facts if x)
    count = f"{len(rows)} møte" if len(rows) == 1 else f"{len(rows)} møter"
    links = (
        f'<p class="noprint"><a href="{e(downloads[0])}">Last ned som PDF</a> · '
        f'<a href="{e(downloads[1])}">Legg i kalenderen (.ics)</a></p>'
        if downloads
        else ""
    )
    return _page(
        f"Møteplan for {name} – {agenda.name}",
        f"<h1>Møteplan for {e(name)}</h1>\n"
        f'<p class="meta">{where}</p>\n<p>{count}, {agenda.slot_minutes} minutter hvert.</p>\n'
        f"{meetings}\n{links}"
        '<p class="note">Møtene er markedsdialog, ikke tildeling av kontrakt.</p>',
    )


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
    # the participants' own names are no words they share ("Skolekjøkkenet serverer …")
    own = {surface for p in (m, e) for _, surface in analyzer.terms(p.name)}
    words = key_phrases(
        [t for t in analyzer.terms(m.text) if t[1] not in own],
        [t for t in analyzer.terms(e.text) if t[1] not in own],
        limit=4,
    )
    bits = []
    if common:
        bits.append("Felles temaer: " + ", ".join(common))
    if words:
        bits.append("felles ord: " + ", ".join(words))
    return "; ".join(bits) + "." if bits else "Nærliggende tekster."


# -- how good a plan is, in words --------------------------------------------------------------


def share_text(share: float) -> str:
    """``99 %``; one decimal where a whole number would round a shortfall up to 100 %."""
    return formatting.percent(share, 0 if share >= 0.9995 or round(share, 2) < 1 else 1)


def quality_text(objective: float, upper_bound: float) -> str:
    """``Hvor godt parene passer, samlet: 41,2 av høyst 41,5 mulige (99 % av det beste
    mulige).`` — the objective and its bound as an organiser reads them."""
    if upper_bound <= 0:
        return "Ingen par passer sammen ennå."
    share = min(1.0, objective / upper_bound)
    return (
        f"Hvor godt parene passer, samlet: {formatting.number(objective, 1)} av høyst "
        f"{formatting.number(upper_bound, 1)} mulige ({share_text(share)} av det beste mulige)."
    )


STATUS_TEXT = {
    "optimal": "Ingen annen plan gir bedre par innenfor kravene.",
    "feasible": "Planen holder alle kravene; det er ikke bevist at ingen plan er bedre.",
}
BOUND_TEXT = (
    "Det beste mulige regnes ut uten å ta hensyn til tidsluker og bord, så det kan være "
    "umulig å nå helt."
)


def plan_text(meetings: int, objective: float, upper_bound: float, status: str) -> str:
    """The result of a planning run in a sentence or three (CLI, page, summary)."""
    count = f"{formatting.number(meetings)} {'møte' if meetings == 1 else 'møter'} planlagt."
    return " ".join(
        x for x in (count, quality_text(objective, upper_bound), STATUS_TEXT.get(status, "")) if x
    )


# -- the organisers' files -------------------------------------------------------------------

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
    e = html.escape
    notes = "".join(f"<li>{e(n)}</li>" for n in schedule.notes) or "<li>Ingen.</li>"
    result = plan_text(
        len(schedule.meetings), schedule.objective, schedule.upper_bound, schedule.status
    )
    return _page(
        f"Oppsummering – {agenda.name}",
        f"<h1>Møteplan: {e(agenda.name)}</h1>\n"
        f'<p class="meta">{e(formatting.long_day(agenda.day))}. {len(schedule.meetings)} møter '
        f"mellom {len(municipal)} fra kommunene og {len(entrepreneurs)} entreprenører.</p>\n"
        f"<p>{e(result)}</p>\n"
        f'<p class="note">{e(BOUND_TEXT)}</p>\n'
        f"{meetings}\n{dist}\n<h2>Ikke oppfylt</h2><ul>{notes}</ul>",
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


def _write_outputs(
    out: Path,
    schedule: Schedule,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
    affinity: np.ndarray,
    agenda: Agenda,
    analyzer: Any,
) -> None:
    """møter.csv/.xlsx, alle-par.csv, oppsummering.json/.html and an agenda (HTML, PDF, ICS)
    per person."""
    out.mkdir(parents=True, exist_ok=True)
    _excel_csv(
        out / MEETINGS_CSV,
        MEETING_COLUMNS,
        _meeting_rows(schedule, municipal, entrepreneurs, agenda),
    )
    _excel_csv(
        out / PAIRS_CSV,
        PAIR_COLUMNS,
        (
            [mp.id, mp.name, ep.id, ep.name, _score(float(affinity[i, j]))]
            for i, mp in enumerate(municipal)
            for j, ep in enumerate(entrepreneurs)
        ),
    )
    _write_xlsx(out / MEETINGS_XLSX, schedule, municipal, entrepreneurs, agenda)
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
    folder = out / AGENDAS
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
        _page(
            f"Møteplaner – {agenda.name}",
            f"<h1>Møteplaner: {html.escape(agenda.name)}</h1><ul>" + "".join(index) + "</ul>",
        ),
        encoding="utf-8",
    )
    per_m = [sum(1 for m in schedule.meetings if m.municipal == i) for i in range(len(municipal))]
    per_e = [
        sum(1 for m in schedule.meetings if m.entrepreneur == j) for j in range(len(entrepreneurs))
    ]
    # for programs: the keys stay in English (README: «oppsummering.json»)
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
        "text": plan_text(
            len(schedule.meetings), schedule.objective, schedule.upper_bound, schedule.status
        ),
    }
    (out / SUMMARY_HTML).write_text(
        _summary_html(schedule, municipal, entrepreneurs, affinity, agenda), encoding="utf-8"
    )
    (out / SUMMARY_JSON).write_text(
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
        Agenda(conf.start_time, conf.slot_minutes, conf.event_date, conf.name, conf.place),
        store.analyzer,
    )
