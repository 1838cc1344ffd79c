"""The parameters of a conference, validated in one place with the same limits for the CLI,
the API and the web page; every problem is said in Norwegian, per field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

# The limits of the numbers: the one table the types below and the messages are made from.
LIMITS = {
    "slots": (1, 48),
    "slot_minutes": (5, 120),
    "tables": (1, 1000),
    "max_per_organisation": (1, 100),
}
NUMBER_NAMES = {
    "slots": "Antall tidsluker",
    "slot_minutes": "Minutter per møte",
    "tables": "Antall bord",
    "max_per_organisation": "Taket per organisasjon",
}
MESSAGES = {
    "name": "Skriv navnet på konferansen.",
    "date": "Velg en dato.",
    "place": "Skriv hvor den holdes.",
    "start": "Skriv starttiden som TT:MM, f.eks. 09:00.",
    **{
        key: f"{NUMBER_NAMES[key]} må være et helt tall fra {low} til {high}."
        for key, (low, high) in LIMITS.items()
    },
}


def _whole(value: Any) -> Any:
    """A form's text as a whole number: digits only (no sign, no decimals); empty is none."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if not value.isdigit():
            raise ValueError("ikke et helt tall")
        return int(value)
    return value


def _clock(value: Any) -> Any:
    """``9:00`` as ``09:00``; anything else is left for the pattern to refuse."""
    if isinstance(value, str):
        value = value.strip()
        if re.fullmatch(r"\d:\d\d", value):
            return f"0{value}"
    return value


def _within(key: str) -> Any:
    """The bounds of number ``key`` from ``LIMITS``, for pydantic and the OpenAPI schema (the
    messages above are written from the same table)."""
    low, high = LIMITS[key]
    return Field(ge=low, le=high)


Slots = Annotated[int, BeforeValidator(_whole), _within("slots")]
SlotMinutes = Annotated[int, BeforeValidator(_whole), _within("slot_minutes")]
Tables = Annotated[int, BeforeValidator(_whole), _within("tables")]
PerOrganisation = Annotated[
    Annotated[int, _within("max_per_organisation")] | None, BeforeValidator(_whole)
]
Clock = Annotated[str, BeforeValidator(_clock), Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class ScheduleSettings(BaseModel):
    """What the solver and the agendas need: slots, their length and start, tables, and the
    cap on meetings from one organisation with one entrepreneur."""

    model_config = ConfigDict(populate_by_name=True, str_strip_whitespace=True)

    slots: Slots
    slot_minutes: SlotMinutes
    start: Clock
    tables: Tables
    max_per_organisation: PerOrganisation = None


class ConferenceSettings(ScheduleSettings):
    """A conference kept in the database: also its name, day and place."""

    name: Text
    day: Annotated[date, Field(alias="date")]
    place: Text


class SettingsError(ValueError):
    """Parameters that break a rule; ``problems`` maps each field to what to do about it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def problems(exc: ValidationError) -> dict[str, str]:
    """The fields of a refused model, each with its Norwegian message."""
    out: dict[str, str] = {}
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        out.setdefault(key, MESSAGES.get(key, error["msg"]))
    return out


def schedule_settings(values: Mapping[str, Any]) -> ScheduleSettings:
    try:
        return ScheduleSettings.model_validate(dict(values))
    except ValidationError as exc:
        raise SettingsError(problems(exc)) from exc


def conference_settings(values: Mapping[str, Any]) -> ConferenceSettings:
    try:
        return ConferenceSettings.model_validate(dict(values))
    except ValidationError as exc:
        raise SettingsError(problems(exc)) from exc
