"""Text helpers shared by embedding, lexical baselines and explanations."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD = re.compile(r"[0-9a-zæøåéèêóòôüäö]+(?:-[0-9a-zæøåéèêóòôüäö]+)*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def normalise(text: str) -> str:
    """NFC-normalise and collapse whitespace, so equal texts hash equally."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def content_hash(text: str) -> str:
    """sha256 hex digest of the normalised text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters incl. æøå, digits, inner hyphens)."""
    return [t.lower() for t in _WORD.findall(unicodedata.normalize("NFC", text))]


def sentences(text: str) -> list[str]:
    """Split text into sentences on end punctuation and line breaks."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
