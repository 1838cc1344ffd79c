"""Spreadsheet files as rows: CSV as Norwegian Excel saves it (``;`` or ``,``, UTF-8 with or
without BOM, Windows-1252, UTF-16 «Unicode-tekst») and XLSX, numbered as the spreadsheet
shows them (the header is row 1). Reads from bytes, so an upload needs no temporary file."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

from models.importing import ImportValidationError, RowError

# The largest participants file a page or the API takes (the CLI reads any size).
MAX_UPLOAD = 5 * 1024 * 1024
MAX_UPLOAD_TEXT = "Deltakerlisten er større enn 5 MB."

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


def content_rows(raw: bytes, filename: str) -> Rows:
    """The rows of a participants file's content; ``filename`` only says its type
    (``.csv``/``.txt`` or ``.xlsx``)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(raw)
    if suffix in (".csv", ".txt"):
        return _csv_rows(raw)
    raise ImportValidationError(
        [RowError(0, "", f"ukjent filtype «{suffix or filename}»; bruk .csv eller .xlsx")]
    )


def file_rows(path: Path) -> Rows:
    """The rows of a participants file on disk."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportValidationError([RowError(0, "", f"finner ikke filen {path}")]) from exc
    return content_rows(raw, path.name)
