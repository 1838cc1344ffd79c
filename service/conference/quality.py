"""How good a plan is, in words an organiser reads (CLI, page, summary): no "objective",
"gap" or "optimal"."""

from __future__ import annotations

from service import formatting


def share_text(share: float) -> str:
    """``99 %``; one decimal where a whole number would round a shortfall up to 100 %."""
    return formatting.percent(share, 0 if share >= 0.9995 or round(share, 2) < 1 else 1)


def quality_text(objective: float, upper_bound: float) -> str:
    """``Hvor godt parene passer, samlet: 41,2 av høyst 41,5 mulige (99 % av det beste
    mulige).`` — the objective and its bound as an organiser reads them."""
    if upper_bound <= 0:
        return "Ingen par passer sammen ennå."
    share = min(1.0, objective / upper_bound)
    return (
        f"Hvor godt parene passer, samlet: {formatting.number(objective, 1)} av høyst "
        f"{formatting.number(upper_bound, 1)} mulige ({share_text(share)} av det beste mulige)."
    )


STATUS_TEXT = {
    "optimal": "Ingen annen plan gir bedre par innenfor kravene.",
    "feasible": "Planen holder alle kravene; det er ikke bevist at ingen plan er bedre.",
}
BOUND_TEXT = (
    "Det beste mulige regnes ut uten å ta hensyn til tidsluker og bord, så det kan være "
    "umulig å nå helt."
)


def plan_text(meetings: int, objective: float, upper_bound: float, status: str) -> str:
    """The result of a planning run in a sentence or three (CLI, page, summary)."""
    count = f"{formatting.number(meetings)} {'møte' if meetings == 1 else 'møter'} planlagt."
    return " ".join(
        x for x in (count, quality_text(objective, upper_bound), STATUS_TEXT.get(status, "")) if x
    )
