"""Target groups read from a text: who a need is for, and who an offer serves.

Most needs and profiles never fill in the target-group field, but their text says it: "over 80
år", "nyankomne foreldre", "unge mellom 18 og 25", "children with disabilities". A look-alike
offer often shares the words and misses the group (walking football for the over-60s against
a need for teenagers who quit football), and a paraphrase shares the group in other words
("pensjonister" / "eldre"). So the ranking compares the groups named in the two texts.

The lexicon is small and hand-written on purpose: a dozen groups that Norwegian municipal
work is organised around, in bokmål, nynorsk and English forms, matched on word beginnings
after the same normalisation as the rest of the matcher. It was written from the domain (the
target groups of NAV, the bydeler's services and the SPEC's themes), not fitted to any
evaluation set; ``bench/fit_ranking.py`` learns how much it weighs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# group slug -> word beginnings (lower case); a form with a space is matched as a phrase
GROUPS: Mapping[str, tuple[str, ...]] = {
    "eldre": (
        "eldre",
        "pensjonist",
        "senior",
        "alderdom",
        "aldersheim",
        "sykehjem",
        "sjukeheim",
        "demen",
        "hjemmeboende eldre",
        "older",
        "elderly",
        "pensioner",
        "aged ",
    ),
    "barn": (
        "barn",
        "born ",
        "borna",
        "småbarn",
        "ungar",
        "children",
        "child",
        "kids",
    ),
    "ungdom": (
        "ungdom",
        "tenåring",
        "ungdomsskole",
        "ungdomsskule",
        "videregående",
        "vidaregåande",
        "unge ",
        "teen",
        "youth",
        "adolescen",
        "young people",
    ),
    "unge voksne": (
        "unge voksne",
        "unge vaksne",
        "young adult",
        "unge mellom 18",
        "18 og 25",
        "18 og 29",
    ),
    "innvandrere og flyktninger": (
        "innvandr",
        "flyktning",
        "nyankom",
        "nykomne",
        "minoritetsspråklig",
        "asyl",
        "født i utlandet",
        "fødd i utlandet",
        "migrant",
        "refugee",
        "immigrant",
        "newcomer",
        "newly arrived",
    ),
    "arbeidssøkere": (
        "arbeidsledig",
        "arbeidssøk",
        "jobbsøk",
        "utenfor arbeidslivet",
        "utanfor arbeidslivet",
        "står utenfor arbeid",
        "unemploy",
        "job seeker",
        "jobseeker",
        "out of work",
    ),
    "foreldre og familier": (
        "foreldre",
        "familie",
        "familiar",
        "mødre",
        "fedre",
        "mor og far",
        "parents",
        "famil",
    ),
    "funksjonsnedsettelse": (
        "funksjonsnedsett",
        "funksjonshem",
        "nedsatt funksjonsevne",
        "nedsett funksjonsevne",
        "utviklingshem",
        "rullestol",
        "disabilit",
        "disabled",
        "autism",
        "autis",
    ),
    "psykisk helse": (
        "psykisk",
        "psykiske",
        "mental health",
        "angst",
        "depresjon",
        "depression",
        "anxiety",
    ),
    "rus": (
        "rus ",
        "rusav",
        "rusbehandl",
        "rusproblem",
        "rusmiddel",
        "rusfri",
        "avhengig",
        "addiction",
        "substance",
        "recovery from drug",
    ),
    "lav inntekt": (
        "lav inntekt",
        "lavinntekt",
        "låg inntekt",
        "fattig",
        "dårlig råd",
        "low income",
        "low-income",
        "poverty",
    ),
}

_SPACE = re.compile(r"[^\wæøåäöü]+")


def _padded(text: str) -> str:
    """Lower case, punctuation as spaces, a space at each end: word beginnings are `` x``."""
    return " " + _SPACE.sub(" ", text.lower()).strip() + " "


def infer_groups(text: str) -> set[str]:
    """The target groups ``text`` names (group slugs of ``GROUPS``)."""
    padded = _padded(text)
    return {group for group, forms in GROUPS.items() if any(" " + form in padded for form in forms)}


def groups_of(declared: Iterable[str], text: str) -> list[str]:
    """The target groups of a record: those its text names and those its target-group field
    names (free text such as "Ungdom 16–20" read the same way), as sorted group slugs."""
    return sorted(infer_groups(text + ". " + ", ".join(declared)))
