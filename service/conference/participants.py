"""Conference participants: the columns of the participants file (in Norwegian or English,
``COLUMNS``), and reading and validating it into ``Participant`` values.

Columns: ``id``, ``type``/``side`` (``kommune`` | ``entreprenør``), ``navn``,
``organisasjon``, ``beskrivelse``, ``temaer``, ``maks_møter``, ``min_møter``, ``opptatt``,
``ikke_møte``, ``vil_møte``, ``profil`` (an existing entrepreneur profile instead of a text).
Lists are separated by ``;`` or ``,``; slots are numbered from 1 and may be ranges (``1-3``).
Every problem is reported with its row (as the spreadsheet numbers it), column and reason,
and nothing is used unless the whole file is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from matcher.text import normalise
from models.importing import ImportValidationError, RowError
from models.validation import CONTROL, CONTROL_PROBLEM
from models.vocabulary import THEMES
from service.conference.spreadsheet import Rows, content_rows, file_rows
from service.matching import find_entrepreneur
from service.search import entrepreneur_text


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


def read_participants(path: Path, session: Session | None, slots: int) -> list[Participant]:
    """Read and validate a participants file on disk (see the module docstring)."""
    return parse_participants(file_rows(path), session, slots)


def read_uploaded_participants(
    raw: bytes, filename: str, session: Session | None, slots: int
) -> list[Participant]:
    """The same for an uploaded file's content (the size is checked by ``new_conference``)."""
    return parse_participants(content_rows(raw, filename), session, slots)


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


@dataclass
class _Header:
    """The header row as read: which column is where and how the file names it."""

    row: int
    width: int
    where: dict[str, int]  # column key -> index in the row
    label: dict[str, str]  # column key -> its name as the file writes it
    blank: list[int]  # columns without a name


def _read_header(row: int, header: list[str], errors: list[RowError]) -> _Header:
    where: dict[str, int] = {}
    label: dict[str, str] = {}
    blank: list[int] = []
    for i, name in enumerate(header):
        column = _COLUMN_BY_NAME.get(_fold(name))
        if not name.strip():
            blank.append(i)
        elif column is None:
            valid = ", ".join(c.name for c in COLUMNS)
            errors.append(RowError(row, name, f"ukjent kolonne (gyldige: {valid})"))
        elif column.key in where:
            errors.append(
                RowError(
                    row,
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
        errors.append(RowError(row, "", f"mangler kolonnene {names}"))
        raise ImportValidationError(errors)
    return _Header(row, len(header), where, label, blank)


@dataclass
class _Row:
    """One participant row being read; its problems go to the file's list of errors."""

    n: int
    cells: list[str]
    head: _Header
    errors: list[RowError]

    def fail(self, key: str, reason: str) -> None:
        self.errors.append(RowError(self.n, self.head.label.get(key, key), reason))

    def value(self, key: str) -> str:
        i = self.head.where.get(key)
        return self.cells[i].strip() if i is not None and i < len(self.cells) else ""

    def number(self, key: str) -> int | None:
        text = self.value(key)
        if not text:
            return None
        if not text.isdigit():
            self.fail(key, f"«{text}» må være et helt tall")
            return None
        return int(text)

    def check_cells(self) -> None:
        """Cells outside the header, in unnamed columns, with control characters or too long."""
        cells, head = self.cells, self.head
        if len(cells) > head.width and any(cells[head.width :]):
            self.errors.append(
                RowError(
                    self.n,
                    "",
                    f"raden har {len(cells)} celler, men overskriften bare {head.width} "
                    "kolonner (sjekk skilletegn og anførselstegn)",
                )
            )
        for i in head.blank:
            if i < len(cells) and cells[i]:
                self.errors.append(
                    RowError(self.n, "", f"verdien «{cells[i]}» står i en kolonne uten navn")
                )
        for key, i in head.where.items():
            if i < len(cells) and CONTROL.search(cells[i]):
                self.fail(key, CONTROL_PROBLEM)
        for key, most in MAX_LENGTH.items():
            if len(self.value(key)) > most:
                self.fail(key, f"er lengre enn {most} tegn")

    def themes(self) -> list[str]:
        out: list[str] = []
        for t in _items(self.value("themes")):
            slug = _THEME_BY_NAME.get(_fold(t))
            if slug is None:
                self.fail("themes", f"ukjent tema «{t}» (gyldige: {', '.join(THEMES.values())})")
            elif slug not in out:
                out.append(slug)
        return out


def _participant(row: _Row, session: Session | None, slots: int, seen: set[str]) -> Participant:
    row.check_cells()
    label = row.head.label
    pid, raw_side, name = row.value("id"), row.value("side"), row.value("name")
    side = _SIDE_BY_NAME.get(_fold(raw_side), "")
    if not pid:
        row.fail("id", "mangler")
    elif pid in seen:
        row.fail("id", f"«{pid}» er brukt før i filen")
    seen.add(pid)
    if not side:
        problem = f"«{raw_side}» er ikke gyldig" if raw_side else "mangler"
        row.fail("side", problem + " (skriv kommune eller entreprenør)")
    themes, description = row.themes(), row.value("description")
    ent_key, ent_db_id = row.value("entrepreneur_id"), None
    if ent_key and side == "entrepreneur":
        ent = find_entrepreneur(session, ent_key) if session is not None else None
        if ent is None:
            row.fail("entrepreneur_id", f"fant ingen entreprenørprofil «{ent_key}»")
        else:
            ent_db_id = ent.id
            description = description or entrepreneur_text(ent)
            themes = themes or list(ent.themes)
            name = name or ent.name
    elif ent_key and side == "municipal":
        row.fail("entrepreneur_id", "gjelder bare entreprenører")
    if not name:
        row.fail("name", "mangler")
    if not description and not themes and not row.value("themes"):  # a bad theme: said above
        row.fail(
            "description",
            f"mangler (eller fyll ut «{label['themes']}» eller «{label['entrepreneur_id']}»)",
        )
    busy, bad = _slot_items(row.value("unavailable_slots"), slots)
    for reason in bad:
        row.fail("unavailable_slots", reason)
    max_m, min_m = row.number("max_meetings"), row.number("min_meetings")
    if max_m is not None and min_m is not None and min_m > max_m:
        row.fail("min_meetings", f"er større enn «{label['max_meetings']}» ({min_m} > {max_m})")
    return Participant(
        id=pid,
        side=side,
        name=name,
        organisation=row.value("organisation"),
        text=normalise(f"{name}. {description}"),
        description=description,
        entrepreneur_id=ent_db_id,
        themes=themes,
        max_meetings=max_m,
        min_meetings=min_m or 0,
        unavailable=frozenset(busy),
        avoid=_items(row.value("avoid")),
        want=_items(row.value("want")),
        row=row.n,
    )


def _check_references(people: list[Participant], head: _Header, errors: list[RowError]) -> None:
    """``ikke_møte`` and ``vil_møte`` name participants of the file, on the other side."""
    ids = {p.id: p.side for p in people}
    for p in people:
        for key, refs in (("avoid", p.avoid), ("want", p.want)):
            for ref in refs:
                if ref not in ids:
                    errors.append(RowError(p.row, head.label[key], f"ukjent deltaker «{ref}»"))
                elif ids[ref] == p.side and p.side:
                    errors.append(
                        RowError(
                            p.row,
                            head.label[key],
                            f"«{ref}» er på samme side; møter er mellom kommune og entreprenør",
                        )
                    )


def parse_participants(rows: Rows, session: Session | None, slots: int) -> list[Participant]:
    """Participants from the rows of a file (header first); see the module docstring."""
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise ImportValidationError([RowError(0, "", "filen inneholder ingen deltakere")])
    errors: list[RowError] = []
    head = _read_header(*rows[0], errors)
    out: list[Participant] = []
    seen: set[str] = set()
    for count, (n, cells) in enumerate(rows[1:], start=1):
        if count > MAX_ROWS:
            errors.append(RowError(n, "", f"for mange rader (høyst {MAX_ROWS} deltakere)"))
            break
        out.append(_participant(_Row(n, cells, head, errors), session, slots, seen))
    _check_references(out, head, errors)
    if not out:
        errors.append(RowError(0, "", "filen inneholder ingen deltakere"))
    if errors:
        raise ImportValidationError(errors)
    return out
