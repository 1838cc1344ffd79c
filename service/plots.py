"""Small charts as inline SVG for pages and reports (no plotting library needed), each with
a table of the same numbers for screen readers."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

# Blue, orange, green, purple: distinguishable with the common colour-vision deficiencies.
COLOURS = ("#0b4f8a", "#b35900", "#2e7d32", "#6a1b9a")


def write_page(path: Path, title: str, body: str) -> None:
    """A standalone Norwegian HTML page around ``body`` (e.g. charts of a benchmark)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html lang='nb'><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><body>{body}</body></html>\n",
        encoding="utf-8",
    )


def bar_chart_svg(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], unit: str
) -> str:
    """A small grouped bar chart as inline SVG (no plotting library needed), with a table
    of the same numbers for screen readers."""
    colours = COLOURS
    width, height, pad = 640, 220, 40
    top = max((v for vals in series.values() for v in vals), default=1) or 1
    n, k = len(labels), len(series)
    slot = (width - 2 * pad) / max(n, 1)
    bar = slot * 0.8 / max(k, 1)
    parts = []
    for si, vals in enumerate(series.values()):
        for li, v in enumerate(vals):
            h = (height - 2 * pad) * v / top
            x = pad + li * slot + si * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colours[si % len(colours)]}"/>'
            )
    for li, lab in enumerate(labels):
        x = pad + li * slot + slot * 0.4
        parts.append(
            f'<text x="{x:.1f}" y="{height - pad + 14}" font-size="11" '
            f'text-anchor="middle">{html.escape(lab)}</text>'
        )
    legend = " ".join(
        f'<span style="color:{colours[i % len(colours)]}">■</span> {html.escape(name)}'
        for i, name in enumerate(series)
    )
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(lab)}</th>"
        + "".join(f"<td>{vals[li]:g}</td>" for vals in series.values())
        + "</tr>"
        for li, lab in enumerate(labels)
    )
    head = "".join(f"<th scope='col'>{html.escape(n)}</th>" for n in series)
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg role="img" aria-label="{html.escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%">{"".join(parts)}</svg><p>{legend}</p>'
        f"<details><summary>Tallene ({html.escape(unit)})</summary><table><thead><tr>"
        f"<th scope='col'></th>{head}</tr></thead><tbody>{rows}</tbody></table></details>"
        "</figure>"
    )
