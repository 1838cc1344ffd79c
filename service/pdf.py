"""A small PDF writer for printable agendas: pages of plain text lines in Helvetica.

No dependency: the PDF standard fonts need no embedding, and WinAnsiEncoding (cp1252) covers
Norwegian letters. Enough for a one-page meeting plan; not a layout engine.
"""

from __future__ import annotations

from collections.abc import Sequence

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 56
LEADING = {"title": 22, "text": 15, "small": 12}
SIZE = {"title": 16, "text": 11, "small": 9}


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(text: str, size: int) -> list[str]:
    """Break ``text`` into lines that fit the page (Helvetica averages ~0.5 em per glyph)."""
    width = int((PAGE_W - 2 * MARGIN) / (size * 0.5))
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    out.append(line)
    return out


def _pages(lines: Sequence[tuple[str, str]]) -> list[list[bytes]]:
    """The content streams of the pages: each line set in its style, wrapped, broken over
    pages as needed."""
    pages: list[list[bytes]] = [[]]
    y = PAGE_H - MARGIN
    for style, text in lines:
        for part in _wrap(text, SIZE[style]) if text else [""]:
            if y < MARGIN + LEADING[style]:
                pages.append([])
                y = PAGE_H - MARGIN
            font = b"/F2" if style == "title" else b"/F1"
            pages[-1].append(
                b"BT "
                + font
                + b" %d Tf %d %d Td (" % (SIZE[style], MARGIN, y)
                + _escape(part)
                + b") Tj ET"
            )
            y -= LEADING[style]
    return pages


def _serialise(objects: list[bytes], catalog: int) -> bytes:
    """The numbered objects as a PDF file with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe6\xf8\xe5\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


def text_pdf(lines: Sequence[tuple[str, str]]) -> bytes:
    """A PDF of ``lines``, each (style, text) with style ``title``, ``text`` or ``small``;
    long lines wrap and pages break as needed."""
    pages = _pages(lines)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    regular = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    kids = []
    for content in pages:
        stream = b"\n".join(content)
        sid = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
                % (pages_id, PAGE_W, PAGE_H, sid, regular, bold)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    return _serialise(objects, catalog)
