"""One person's agenda: the times of a slot, and the agenda as a calendar (ICS), a page for
the screen and printing (HTML from the Jinja templates ``conference_agenda*.html``) and a PDF.
Also the one Jinja environment for the standalone pages of a plan (agendas, summary), which
are written to files as well as served, so they carry their own stylesheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from service import formatting

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
_pages = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), keep_trailing_newline=True
)


def render_page(template: str, **context: Any) -> str:
    """A standalone page of a plan (see ``conference_print.html``)."""
    return _pages.get_template(template).render(**context)


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


def agenda_html(
    agenda: Agenda,
    name: str,
    organisation: str,
    rows: list[dict[str, Any]],
    downloads: tuple[str, str] | None = None,
) -> str:
    """One person's agenda as a page for the screen (a phone too) and for printing: a list
    of meetings with time, table, whom they meet and why."""
    facts = (agenda.name, formatting.long_day(agenda.day), agenda.place, organisation)
    return render_page(
        "conference_agenda.html",
        title=f"Møteplan for {name} – {agenda.name}",
        name=name,
        where=" · ".join(x for x in facts if x),
        count=f"{len(rows)} møte" if len(rows) == 1 else f"{len(rows)} møter",
        slot_minutes=agenda.slot_minutes,
        meetings=[(*agenda.times(r["slot"]), r) for r in rows],
        downloads=downloads,
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
