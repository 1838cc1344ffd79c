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


# -- Norwegian-aware analysis for lexical matching ----------------------------------------------

# stopwordsiso has no nynorsk list: these are nynorsk function words its "no" list lacks
# (first line: bokmål ones it also misses).
NYNORSK_STOPWORDS = frozenset(
    """
hos blant mange flere gjennom
eg ikkje dei ein eit kva korleis kvar kven me dykk deira hjå frå berre òg og ho han dei
mykje nokon noko nokre sjølv vere vore vert vart kan skal vil må ha har hadde seg sin si sitt
sine vår våre dykkar då no når som til ut opp over under etter før med mot utan inn enn
""".split()
)

# stopwordsiso's Norwegian list also holds content words; these matter for matching needs.
NOT_STOPWORDS = frozenset(
    """
arbeid bra bruke folk god lage lang lik like makt navn ny part punkt rett riktig sant sist
slutt start stille tid tilstand verdi vite
""".split()
)

# Compound splitting: a long, rare word is split where both halves are common words.
_COMPOUND_MIN_LEN = 8
_COMPOUND_RARE = 3.5  # zipf frequency below which a word may be a compound
_COMPOUND_PART = 3.0  # zipf frequency each part must reach
_LINKING = ("", "s", "e")  # Norwegian linking letters: arbeid-s-inkludering, barn-e-hage


class NorwegianAnalyzer:
    """Tokens -> stop words removed -> compounds split -> Snowball Norwegian stems.

    Works for bokmål and reasonably for nynorsk (the Snowball stemmer strips the common
    endings of both); English words pass through the same stemmer harmlessly.
    """

    def __init__(self) -> None:
        import Stemmer
        import stopwordsiso

        self._stemmer = Stemmer.Stemmer("norwegian")
        self.stopwords = (
            frozenset(stopwordsiso.stopwords("no")) | NYNORSK_STOPWORDS
        ) - NOT_STOPWORDS
        self._split_cache: dict[str, tuple[str, ...]] = {}

    def _zipf(self, word: str) -> float:
        from wordfreq import zipf_frequency

        return float(zipf_frequency(word, "nb"))

    def split_compound(self, word: str) -> tuple[str, ...]:
        """The parts of a compound word, or ``(word,)`` if it is not one."""
        cached = self._split_cache.get(word)
        if cached is not None:
            return cached
        parts: tuple[str, ...] = (word,)
        if len(word) >= _COMPOUND_MIN_LEN and "-" not in word and self._zipf(word) < _COMPOUND_RARE:
            best = 0.0
            for i in range(3, len(word) - 3):
                head, rest = word[:i], word[i:]
                for link in _LINKING:
                    if not rest.startswith(link):
                        continue
                    tail = rest[len(link) :]
                    if len(tail) < 4:
                        continue
                    score = min(self._zipf(head), self._zipf(tail))
                    if score >= _COMPOUND_PART and score > best:
                        best, parts = score, (head, tail)
        if "-" in word:
            parts = tuple(p for p in word.split("-") if p)
        self._split_cache[word] = parts
        return parts

    def terms(self, text: str) -> list[tuple[str, str]]:
        """(stem, surface word) pairs; a compound yields its own stem and its parts' stems."""
        out: list[tuple[str, str]] = []
        for tok in tokens(text):
            if tok in self.stopwords or len(tok) < 2 or tok.isdigit():
                continue
            pieces = self.split_compound(tok)
            out.append((self._stemmer.stemWord(tok), tok))
            if len(pieces) > 1:
                out.extend(
                    (self._stemmer.stemWord(p), tok) for p in pieces if p not in self.stopwords
                )
        return out

    def __call__(self, text: str) -> list[str]:
        return [stem for stem, _ in self.terms(text)]


# -- thin profiles ------------------------------------------------------------------------------

MIN_WORDS = 15
# Below this length a text must also say plainly what is needed or offered; longer texts
# often describe an offer as a noun phrase ("Avlastning og samtalegrupper for foreldre ...").
PLAIN_WORDS = 25

# Word beginnings that name who a text is about (bokmål, nynorsk, English).
_TARGET_WORDS = (
    "barn",
    "born",
    "unge",
    "ungdom",
    "elev",
    "eldre",
    "senior",
    "pensjonist",
    "flyktning",
    "innvandr",
    "nyankom",
    "kvinne",
    "mødre",
    "mor",
    "fedre",
    "foreldre",
    "famili",
    "arbeidssøk",
    "ledig",
    "beboer",
    "pårørende",
    "pårørande",
    "student",
    "jente",
    "gutt",
    "person",
    "folk",
    "voksn",
    "vaksn",
    "adult",
    "bruker",
    "brukar",
    "deltaker",
    "deltakar",
    "innbygger",
    "innbyggjar",
    "tenåring",
    "children",
    "youth",
    "young",
    "elderly",
    "senior",
    "refugee",
    "immigrant",
    "women",
    "parent",
    "resident",
    "people",
    "participant",
    "student",
)
_OFFER_WORDS = (
    "tilbyr",
    "tilbyd",
    "gir",
    "gjev",
    "driver",
    "driv",
    "lærer",
    "lærar",
    "hjelper",
    "hjelp",
    "arrangerer",
    "organiserer",
    "kobler",
    "koplar",
    "formidler",
    "bygger",
    "lager",
    "leverer",
    "følger",
    "holder",
    "utdanner",
    "installerer",
    "organise",
    "offer",
    "provide",
    "run",
    "help",
    "teach",
    "build",
    "we ",
)
_NEED_WORDS = (
    "trenger",
    "treng",
    "ønsker",
    "ønskjer",
    "søker",
    "søkjer",
    "mangler",
    "manglar",
    "behov",
    "utfordring",
    "problem",
    "sliter",
    "savner",
    "saknar",
    "vil ",
    "need",
    "looking",
    "want",
)


def profile_warnings(text: str, *, kind: str, target_groups: list[str] | None = None) -> list[str]:
    """What a need (``kind="need"``) or an offer (``kind="offer"``) should add to match well.

    Never a refusal: a one-sentence need is still a need. Returns Norwegian advice, empty
    when the text says who it is for, what is needed or offered, and has some substance.
    """
    words = tokens(text)
    lower = " ".join(words) + " "
    out: list[str] = []
    if len(words) < MIN_WORDS:
        out.append(f"Teksten er kort ({len(words)} ord). To til fire setninger gir bedre treff.")
    if not target_groups and not any(w.startswith(_TARGET_WORDS) for w in words):
        out.append(
            "Skriv hvem det gjelder (målgruppe), for eksempel «ungdom 16–20 år» eller "
            "«hjemmeboende eldre»."
        )
    short = len(words) < PLAIN_WORDS
    if kind == "offer" and short and not any(k in lower for k in _OFFER_WORDS):
        out.append("Skriv hva dere tilbyr og gjør konkret.")
    if kind == "need" and short and not any(k in lower for k in _NEED_WORDS):
        out.append("Skriv hva dere trenger hjelp til, og hva som er problemet i dag.")
    return out
