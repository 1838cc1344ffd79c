"""Field validation shared by import and (later) the API. Messages are Norwegian."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from models.vocabulary import OSLO_BYDELER, THEMES

ORG_NR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
# Control characters (NUL and the like; tab and line breaks are text) are never text a person
# typed, and PostgreSQL cannot store NUL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_PROBLEM = "inneholder kontrolltegn (f.eks. NUL) som ikke kan lagres"
INVISIBLE_PROBLEM = "har ingen synlige tegn"


def visible(text: str) -> bool:
    """Whether a text has a character a reader can see: not only spaces, zero-width and
    formatting characters or C1 controls (a title of U+0092 or U+200B alone is empty)."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def org_nr_problem(value: str) -> str | None:
    """Why ``value`` is not a valid organisasjonsnummer (9 digits, mod-11 check), or None."""
    digits = value.replace(" ", "")
    if not re.fullmatch(r"\d{9}", digits):
        return "må være 9 siffer"
    remainder = sum(int(d) * w for d, w in zip(digits[:8], ORG_NR_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    if check == 10 or check != int(digits[8]):
        return "kontrollsifferet stemmer ikke (mod 11)"
    return None


def with_check_digit(first_eight: str) -> str | None:
    """Complete eight digits into a valid organisasjonsnummer, or None if none exists."""
    remainder = sum(int(d) * w for d, w in zip(first_eight, ORG_NR_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return None if check == 10 else first_eight + str(check)


def theme_problem(slug: str) -> str | None:
    if slug in THEMES:
        return None
    return f"ukjent tema «{slug}» (gyldige: {', '.join(THEMES)})"


def place_problem(name: str) -> str | None:
    if name.startswith("Bydel ") and name not in OSLO_BYDELER:
        return f"ukjent bydel «{name}» (Oslos bydeler: {', '.join(OSLO_BYDELER)})"
    return None


def email_problem(value: str) -> str | None:
    return None if EMAIL.match(value) else "er ikke en gyldig e-postadresse"


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
