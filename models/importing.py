"""Import of entrepreneurs, challenges and contacts from JSON or CSV (SPEC §6).

A file is validated whole first; if any row has an error, nothing is written and every error
(row, field, reason) is reported. Valid files are upserted by external ``id`` in a single
transaction, so a crash mid-import leaves the database as it was before.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, select

from models.organisations import get_or_create_organisation
from models.tables import Challenge, Contact, Entrepreneur
from models.validation import (
    CONTROL,
    CONTROL_PROBLEM,
    EXTERNAL_ID,
    INVISIBLE_PROBLEM,
    email_problem,
    org_nr_problem,
    parse_date,
    place_problem,
    theme_problem,
    visible,
)
from models.vocabulary import (
    CHALLENGE_STATUSES,
    ENTREPRENEUR_STAGES,
    LANGUAGES,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
MAX_DESCRIPTION = 5_000
MAX_LIST_ITEMS = 30


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based record number in the file
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"rad {self.row}" if self.row else "filen"
        if self.field:
            return f"{where}, felt «{self.field}»: {self.reason}"
        return f"{where}: {self.reason}"


class ImportValidationError(Exception):
    """The file was refused; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} feil i filen; ingenting ble importert.")


@dataclass
class ImportResult:
    """What an import wrote: the keys of new and of updated records, and the saved row of
    every record in the order given (a caller that saved one record knows it by this row,
    never by looking up the name or id it sent: the stored values are the cleaned ones)."""

    kind: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)


# -- reading files ---------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a JSON list of objects or a CSV file with a header row."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportValidationError([RowError(0, "", f"finner ikke filen {path}")]) from exc
    if size > MAX_FILE_BYTES:
        raise ImportValidationError(
            [RowError(0, "", f"filen er for stor ({size} byte; maks {MAX_FILE_BYTES})")]
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportValidationError([RowError(0, "", "filen er ikke UTF-8-kodet")]) from exc
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_rows(text)
    if suffix == ".csv":
        return _csv_rows(text)
    raise ImportValidationError(
        [RowError(0, "", f"ukjent filtype «{suffix or path.name}»; bruk .json eller .csv")]
    )


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportValidationError(
            [RowError(0, "", f"ugyldig JSON på linje {exc.lineno}, kolonne {exc.colno}")]
        ) from exc
    if not isinstance(data, list):
        raise ImportValidationError([RowError(0, "", "JSON-filen må være en liste av objekter")])
    errors = [
        RowError(i + 1, "", "er ikke et objekt")
        for i, r in enumerate(data)
        if not isinstance(r, dict)
    ]
    if errors:
        raise ImportValidationError(errors)
    return data


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for row in reader:
        if None in row:
            raise ImportValidationError(
                [RowError(len(rows) + 1, "", "raden har flere felt enn overskriften")]
            )
        rows.append({k.strip(): (v if v is not None else "") for k, v in row.items()})
    return rows


# -- validation ------------------------------------------------------------------------------


@dataclass
class _Checker:
    row: int
    data: dict[str, Any]
    errors: list[RowError]

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(RowError(self.row, name, reason))

    def text(self, name: str, *, required: bool, max_len: int) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "mangler (feltet er påkrevd)")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail(name, "må være tekst")
            return None
        value = str(value).strip()
        if len(value) > max_len:
            self.fail(name, f"er for langt ({len(value)} tegn; maks {max_len})")
            return None
        if CONTROL.search(value):
            self.fail(name, CONTROL_PROBLEM)
            return None
        if required and not visible(value):
            self.fail(name, INVISIBLE_PROBLEM)
            return None
        return value

    def items(
        self,
        name: str,
        *,
        required: bool,
        check: Callable[[str], str | None] | None = None,
        max_len: int = 100,
    ) -> list[str]:
        value = self.data.get(name)
        if value is None or value == "" or value == []:
            if required:
                self.fail(name, "mangler (minst én verdi er påkrevd)")
            return []
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.split(";")) if v]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "må være en liste av tekster (i CSV skilt med «;»)")
            return []
        value = [v.strip() for v in value if v.strip()]
        if len(value) > MAX_LIST_ITEMS:
            self.fail(name, f"har for mange verdier ({len(value)}; maks {MAX_LIST_ITEMS})")
        for v in value:
            if len(v) > max_len:
                self.fail(name, f"verdien «{v[:30]}…» er for lang (maks {max_len} tegn)")
            elif CONTROL.search(v):
                self.fail(name, CONTROL_PROBLEM)
            elif check and (problem := check(v)):
                self.fail(name, problem)
        if required and not value:
            self.fail(name, "mangler (minst én verdi er påkrevd)")
        return list(dict.fromkeys(value))

    def choice(self, name: str, options: Sequence[str], *, default: str | None) -> str | None:
        value = self.text(name, required=default is None, max_len=40)
        if value is None:
            return default
        if value not in options:
            self.fail(name, f"«{value}» er ikke gyldig (gyldige: {', '.join(options)})")
        return value

    def external_id(self) -> str | None:
        value = self.text("id", required=True, max_len=100)
        if value is not None and not EXTERNAL_ID.match(value):
            self.fail("id", "kan bare inneholde bokstavene A–Z, sifre og . _ : -")
        return value

    def email(self, name: str) -> str | None:
        value = self.text(name, required=False, max_len=254)
        if value is not None and (problem := email_problem(value)):
            self.fail(name, problem)
        return value


ENTREPRENEUR_COLUMNS = (
    "id",
    "name",
    "org_nr",
    "description",
    "themes",
    "service_areas",
    "language",
    "target_groups",
    "stage",
    "capacity",
    "website",
    "contact_name",
    "contact_email",
)
CHALLENGE_COLUMNS = (
    "id",
    "organisation",
    "title",
    "description",
    "themes",
    "language",
    "target_groups",
    "contact_name",
    "contact_email",
    "deadline",
    "status",
)
CONTACT_COLUMNS = ("organisation", "name", "role", "fields", "email", "phone", "public")
# The columns stored as they are on the row (the id, organisation and contact are resolved).
_RESOLVED = ("id", "organisation", "contact_name", "contact_email")
ENTREPRENEUR_FIELDS = tuple(c for c in ENTREPRENEUR_COLUMNS if c not in _RESOLVED)
CHALLENGE_FIELDS = tuple(c for c in CHALLENGE_COLUMNS if c not in _RESOLVED)


def _unknown_columns(c: _Checker, allowed: Sequence[str]) -> None:
    for key in c.data:
        if key not in allowed:
            c.fail(key, f"ukjent kolonne (gyldige: {', '.join(allowed)})")


def _validate_entrepreneur(c: _Checker) -> dict[str, Any]:
    _unknown_columns(c, ENTREPRENEUR_COLUMNS)
    out: dict[str, Any] = {
        "external_id": c.external_id(),
        "name": c.text("name", required=True, max_len=200),
        "description": c.text("description", required=True, max_len=MAX_DESCRIPTION),
        "themes": c.items("themes", required=True, check=theme_problem),
        "service_areas": c.items("service_areas", required=True, check=place_problem),
        "language": c.choice("language", tuple(LANGUAGES), default=None),
        "target_groups": c.items("target_groups", required=False),
        "stage": c.choice("stage", ENTREPRENEUR_STAGES, default="") or None,
        "website": c.text("website", required=False, max_len=300),
        "contact_name": c.text("contact_name", required=False, max_len=200),
        "contact_email": c.email("contact_email"),
    }
    org_nr = c.text("org_nr", required=True, max_len=20)
    if org_nr is not None:
        if problem := org_nr_problem(org_nr):
            c.fail("org_nr", f"«{org_nr}» {problem}")
        out["org_nr"] = org_nr.replace(" ", "")
    capacity = c.text("capacity", required=False, max_len=10)
    out["capacity"] = None
    if capacity is not None:
        if capacity.isdigit() and int(capacity) <= 10_000:
            out["capacity"] = int(capacity)
        else:
            c.fail("capacity", "må være et helt tall fra 0 til 10000 (antall samarbeid samtidig)")
    website = out["website"]
    if website and not website.startswith(("http://", "https://")):
        c.fail("website", "må begynne med http:// eller https://")
    return out


def _validate_challenge(c: _Checker) -> dict[str, Any]:
    _unknown_columns(c, CHALLENGE_COLUMNS)
    organisation = c.text("organisation", required=True, max_len=200)
    if organisation and (problem := place_problem(organisation)):
        c.fail("organisation", problem)
    out: dict[str, Any] = {
        "external_id": c.external_id(),
        "organisation": organisation,
        "title": c.text("title", required=True, max_len=200),
        "description": c.text("description", required=True, max_len=MAX_DESCRIPTION),
        "themes": c.items("themes", required=True, check=theme_problem),
        "language": c.choice("language", tuple(LANGUAGES), default=None),
        "target_groups": c.items("target_groups", required=False),
        "contact_name": c.text("contact_name", required=False, max_len=200),
        "contact_email": c.email("contact_email"),
        "status": c.choice("status", CHALLENGE_STATUSES, default="open"),
    }
    deadline = c.text("deadline", required=False, max_len=10)
    out["deadline"] = None
    if deadline is not None:
        out["deadline"] = parse_date(deadline)
        if out["deadline"] is None:
            c.fail("deadline", f"«{deadline}» er ikke en dato på formen ÅÅÅÅ-MM-DD")
    return out


def _validate_contact(c: _Checker) -> dict[str, Any]:
    _unknown_columns(c, CONTACT_COLUMNS)
    public = c.data.get("public", False)
    if isinstance(public, str):
        public = public.strip().lower() in ("1", "ja", "true", "yes")
    return {
        "organisation": c.text("organisation", required=True, max_len=200),
        "name": c.text("name", required=True, max_len=200),
        "role": c.text("role", required=False, max_len=200),
        "fields": c.items("fields", required=False, check=theme_problem),
        "email": c.email("email"),
        "phone": c.text("phone", required=False, max_len=40),
        "public": bool(public),
    }


VALIDATORS: dict[str, Callable[[_Checker], dict[str, Any]]] = {
    "entrepreneurs": _validate_entrepreneur,
    "challenges": _validate_challenge,
    "contacts": _validate_contact,
}


def validate_rows(kind: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate every row; raise ImportValidationError listing all errors if any."""
    if kind not in VALIDATORS:
        raise ValueError(f"Ukjent importtype «{kind}». Gyldige: {', '.join(VALIDATORS)}.")
    errors: list[RowError] = []
    if not rows:
        errors.append(RowError(0, "", "filen inneholder ingen rader"))
    if len(rows) > MAX_ROWS:
        raise ImportValidationError(
            [RowError(0, "", f"for mange rader ({len(rows)}; maks {MAX_ROWS})")]
        )
    clean: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        c = _Checker(i, row, errors)
        record = VALIDATORS[kind](c)
        ext = record.get("external_id")
        if ext:
            if ext in seen:
                c.fail("id", f"«{ext}» finnes også i rad {seen[ext]}")
            seen.setdefault(ext, i)
        clean.append(record)
    if errors:
        raise ImportValidationError(errors)
    return clean


def _get_or_create_contact(
    session: Session, *, organisation_id: int | None, name: str | None, email: str | None
) -> Contact | None:
    if not name and not email:
        return None
    query = select(Contact).where(Contact.organisation_id == organisation_id)
    query = query.where(Contact.email == email) if email else query.where(Contact.name == name)
    contact = session.exec(query).first()
    if contact is None:
        contact = Contact(organisation_id=organisation_id, name=name or email or "", email=email)
        session.add(contact)
        session.flush()
    elif name and contact.name != name:
        contact.name = name
    return contact


# -- writing ---------------------------------------------------------------------------------


R = TypeVar("R", Challenge, Entrepreneur)


def _find_or_add(
    session: Session, table: type[R], external_id: str, **blank: Any
) -> tuple[R, bool]:
    """The row of ``table`` with ``external_id``, or a new one (with ``blank`` for its required
    fields) added to the session; and whether it is new."""
    row = session.exec(select(table).where(table.external_id == external_id)).first()
    if row is not None:
        return row, False
    row = table(external_id=external_id, **blank)
    session.add(row)
    return row, True


def _fill(
    session: Session,
    row: R,
    rec: dict[str, Any],
    fields: Sequence[str],
    organisation_id: int | None,
) -> Contact | None:
    """Set ``fields`` of a need's or a profile's ``row`` from ``rec``, after finding or creating
    the contact person it names (``contact_name``, ``contact_email``), which is returned."""
    contact = _get_or_create_contact(
        session,
        organisation_id=organisation_id,
        name=rec["contact_name"],
        email=rec["contact_email"],
    )
    for key in fields:
        setattr(row, key, rec[key])
    return contact


def _upsert_entrepreneur(session: Session, rec: dict[str, Any]) -> tuple[Entrepreneur, bool]:
    row, created = _find_or_add(
        session, Entrepreneur, rec["external_id"], name="", org_nr="", description=""
    )
    contact = _fill(session, row, rec, ENTREPRENEUR_FIELDS, None)
    row.contact_id = contact.id if contact else row.contact_id
    return row, created


def _upsert_challenge(session: Session, rec: dict[str, Any]) -> tuple[Challenge, bool]:
    org = get_or_create_organisation(session, rec["organisation"])
    row, created = _find_or_add(
        session,
        Challenge,
        rec["external_id"],
        organisation_id=org.id or 0,
        title="",
        description="",
    )
    contact = _fill(session, row, rec, CHALLENGE_FIELDS, org.id)
    row.organisation_id = org.id or 0
    row.owner_contact_id = contact.id if contact else row.owner_contact_id
    return row, created


def _upsert_contact(session: Session, rec: dict[str, Any]) -> tuple[Contact, bool]:
    org = get_or_create_organisation(session, rec["organisation"])
    existing = _get_or_create_contact(
        session, organisation_id=org.id, name=rec["name"], email=rec["email"]
    )
    assert existing is not None
    created = existing.role is None and not existing.fields
    for key in ("name", "role", "fields", "phone", "public"):
        setattr(existing, key, rec[key])
    return existing, created


UPSERTS: dict[str, Callable[[Session, dict[str, Any]], tuple[Any, bool]]] = {
    "entrepreneurs": _upsert_entrepreneur,
    "challenges": _upsert_challenge,
    "contacts": _upsert_contact,
}


def import_rows(session: Session, kind: str, rows: Sequence[dict[str, Any]]) -> ImportResult:
    """Validate and upsert ``rows`` in ``session`` (the caller commits, once)."""
    records = validate_rows(kind, rows)
    result = ImportResult(kind=kind)
    for rec in records:
        key = rec.get("external_id") or rec.get("email") or rec.get("name") or ""
        row, created = UPSERTS[kind](session, rec)
        (result.created if created else result.updated).append(key)
        result.rows.append(row)
    session.flush()
    return result


__all__ = [
    "ImportResult",
    "ImportValidationError",
    "RowError",
    "import_rows",
    "read_rows",
    "validate_rows",
]
