"""The participants template organisers download and fill in (CSV and XLSX)."""

from __future__ import annotations

import csv
import io

from service.conference.participants import COLUMNS

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
