"""Writes that clash with rows already stored: the ``Conflict`` the services raise, and what
a user is told when a write breaks one of the database's own rules.

The services check the unique rules up front (``Det finnes allerede en organisasjon som heter
«X».``). Two requests at the same moment can both pass that check; the database then refuses
the second one with an ``IntegrityError``, and ``broken_rule`` names the rule it broke, for
the app-level backstop (409, never 500) and for forms that show the error next to a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError


class Conflict(Exception):
    """The write clashes with rows already stored (a name or id taken, rows that still refer
    to this one). ``field`` is the input it concerns, or "" (message in Norwegian)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# Per table with a unique rule (models/tables.py): the input it concerns and the message.
UNIQUE_RULES: dict[str, tuple[str, str]] = {
    "organisation": ("name", "Det finnes allerede en organisasjon med dette navnet."),
    "user": ("email", "Det finnes allerede en bruker med denne e-postadressen."),
    "challenge": ("id", "Det finnes allerede et behov med denne id-en."),
    "entrepreneur": ("external_id", "Det finnes allerede en entreprenør med denne id-en."),
    "proposal": ("", "Entreprenøren er allerede foreslått for dette behovet."),
    "participant": ("", "Deltakeren er allerede med i denne konferansen."),
}
UNIQUE_OTHER = "Det finnes allerede en oppføring med de samme verdiene."
REFERENCE = "Endringen viser til noe som ikke finnes lenger, eller noe annet viser fortsatt hit."
OTHER = "Endringen strider mot det som allerede er lagret."
NOT_SAVED = "Ingenting ble lagret; last inn på nytt og prøv igjen."

# SQLite: "UNIQUE constraint failed: organisation.name" (the values are not in the text).
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.")
_PG_UNIQUE, _PG_REFERENCE = "23505", "23503"


@dataclass(frozen=True)
class BrokenRule:
    kind: str  # unique | reference | other
    table: str | None
    field: str
    message: str


def broken_rule(exc: IntegrityError) -> BrokenRule:
    """Which rule of the database ``exc`` reports (SQLite and PostgreSQL), and the Norwegian
    message for it. Never reads the refused values (they may be personal data)."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    text = str(orig)
    table: str | None = None
    if state is not None:  # psycopg
        diag = getattr(orig, "diag", None)
        table = getattr(diag, "table_name", None)
        kind = {_PG_UNIQUE: "unique", _PG_REFERENCE: "reference"}.get(state, "other")
    elif match := _SQLITE_UNIQUE.search(text):
        kind, table = "unique", match.group(1)
    else:
        kind = "reference" if "FOREIGN KEY" in text else "other"
    if kind == "unique":
        field, message = UNIQUE_RULES.get(table or "", ("", UNIQUE_OTHER))
    else:
        field, message = "", REFERENCE if kind == "reference" else OTHER
    return BrokenRule(kind=kind, table=table, field=field, message=f"{message} {NOT_SAVED}")
