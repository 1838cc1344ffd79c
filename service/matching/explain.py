"""The full explanation of the candidates a list shows: the sentence of each side that
connects them best and the words they share (the score parts come from ``matcher.ranking``).

It runs after ranking, for the shown candidates only; their sentence vectors were embedded at
index time, so this reads the embedding cache and never embeds a stored record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlmodel import Session

from matcher.ranking import Suggestion, best_sentence_pair, key_phrases
from matcher.text import normalise, sentences
from service.matching.inputs import Gathered
from service.search import RECORD_ROLE, IndexStore

Terms = list[tuple[str, str]]


def _without_name(store: IndexStore, terms: Terms, name: str | None) -> Terms:
    """``terms`` without the words of ``name`` ("Skolekjøkkenet serverer …" in the profile of
    Skolekjøkkenet AS: its own name is no word it shares with a need)."""
    if not name:
        return terms
    own = {surface for _, surface in store.terms(name)}
    return [(stem, surface) for stem, surface in terms if surface not in own]


def _content(text: str, name: str | None) -> list[str]:
    """The sentences of a record's text without the leading name sentence (if it has one,
    and if anything else is left)."""
    parts = sentences(text)
    if name and len(parts) > 1 and parts[0].rstrip(".") == normalise(name).rstrip("."):
        return parts[1:]
    return parts


def _stems(store: IndexStore, text: str) -> set[str]:
    return {stem for stem, _ in store.terms(text)}


def explain(
    session: Session,
    store: IndexStore,
    gathered: Gathered,
    shown: list[Suggestion],
    *,
    to_text: Callable[[Any], str],
    source_name: str | None = None,
) -> None:
    """Fill in the sentence pair and the shared words of each shown suggestion.

    An entrepreneur's text starts with its name; that sentence is never evidence, and a word
    found only in a name is no shared word. ``source_name`` is the source's name when the
    source is an entrepreneur (a list of needs for it); without it the source is a need, the
    candidates are entrepreneurs whose names are left out, and "the need says" quotes it.
    """
    from_need = source_name is None
    text, rows = gathered.text, gathered.rows
    if not shown:
        return
    names = {s.id: rows[s.id].name for s in shown} if from_need else {}
    src_sents = _content(text, source_name)
    cand_sents = {s.id: _content(to_text(rows[s.id]), names.get(s.id)) for s in shown}
    flat = [x for group in [src_sents, *cand_sents.values()] for x in group]
    by_text = dict(zip(flat, store.vectors(session, flat, RECORD_ROLE)[0], strict=True))
    src_vecs = np.array([by_text[x] for x in src_sents])
    src_stems = [_stems(store, x) for x in src_sents]
    src_terms = _without_name(store, [t for x in src_sents for t in store.terms(x)], source_name)
    for s in shown:
        sents = cand_sents[s.id]
        cand_stems = [_stems(store, x) for x in sents]
        shared = np.array([[len(a & b) for b in cand_stems] for a in src_stems], dtype=float)
        cand_vecs = np.array([by_text[x] for x in sents])
        pair = best_sentence_pair(src_sents, src_vecs, sents, cand_vecs, shared)
        cand_terms = [t for x in sents for t in store.terms(x)]
        phrases = key_phrases(src_terms, _without_name(store, cand_terms, names.get(s.id)))
        _describe(s, pair, phrases, from_need=from_need)


def _describe(
    s: Suggestion, pair: tuple[str, str] | None, phrases: list[str], *, from_need: bool
) -> None:
    s.explanation["key_phrases"] = list(phrases)
    pair = pair if from_need or not pair else pair[::-1]
    s.explanation["sentences"] = {"need": pair[0], "offer": pair[1]} if pair else None
    if phrases:
        s.explanation["summary"] = (
            s.explanation["summary"].rstrip(".") + "; felles ord: " + ", ".join(phrases[:4]) + "."
        )
