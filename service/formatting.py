"""Norwegian numbers, dates and times for everything a person reads (pages, CLI lines, mails,
agendas, exports): decimal comma, thin space between thousands, and Oslo time.

Babel holds the nb_NO rules (CLDR), so nothing here knows a separator by heart; times stored
in UTC are shown in Europe/Oslo, summer time included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

LOCALE = "nb_NO"
OSLO = ZoneInfo("Europe/Oslo")


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def number(value: float | int | None, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals, e.g. ``12 345,7``; empty for ``None``."""
    if value is None:
        return ""
    return format_decimal(value, format=_pattern(digits), locale=LOCALE)


def percent(share: float | None, digits: int = 0) -> str:
    """A share (0.0055) as a Norwegian percentage (``0,55 %`` with ``digits=2``)."""
    if share is None:
        return ""
    return format_percent(share, format=_pattern(digits) + " %", locale=LOCALE)


def seconds(value: float) -> str:
    """A duration, ``2,3 s``; a minute or more as ``3 min 5 s``."""
    if value < 60:
        return f"{number(value, 1)} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


def in_oslo(value: datetime) -> datetime:
    """A stored time (UTC; naive values from SQLite are UTC too) in Oslo time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(OSLO)


def day(value: date | datetime | str | None) -> str:
    """``01.12.2026``; a time is first turned into Oslo time (its date may differ from UTC's)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = in_oslo(value)
    return format_date(value, "dd.MM.yyyy", locale=LOCALE)


def long_day(value: date | datetime) -> str:
    """``1. desember 2026``."""
    if isinstance(value, datetime):
        value = in_oslo(value)
    return format_date(value, "d. MMMM yyyy", locale=LOCALE)


def moment(value: datetime | str | None) -> str:
    """``01.12.2026 kl. 22:15`` in Oslo time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(in_oslo(value), "dd.MM.yyyy 'kl.' HH:mm", locale=LOCALE)
