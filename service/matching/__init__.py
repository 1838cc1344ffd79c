"""Matching: the one place where database rows become matcher inputs and matcher results
become answers for the faces.

- ``inputs``: rows -> profiles, decision history and candidates (every read a list needs);
- ``lists``: the ranked lists (suggest, discover, preview, one pair, a batch, free-text
  search), each gathered, ranked by ``matcher`` in one call, then explained;
- ``explain``: sentence pairs and shared words of the shown candidates;
- ``lookup``: records by the key a person typed, open needs, a need's named people.

The indexes themselves are ``service.search``'s; writing proposals is ``service.proposals``'s.
"""

from service.matching.inputs import (
    ACTIVE_STATUSES,
    APPROVED_STATUSES,
    DecisionStats,
    candidate_pool,
    challenge_profile,
    decision_stats,
    entrepreneur_profile,
)
from service.matching.lists import (
    ListOptions,
    MatchResult,
    discover,
    max_lists_per_entrepreneur,
    preview,
    rank,
    score_pair,
    search_text,
    suggest,
    suggest_all,
)
from service.matching.lookup import (
    contacts_for,
    find_challenge,
    find_entrepreneur,
    open_challenges,
)

__all__ = [
    "ACTIVE_STATUSES",
    "APPROVED_STATUSES",
    "DecisionStats",
    "ListOptions",
    "MatchResult",
    "candidate_pool",
    "challenge_profile",
    "contacts_for",
    "decision_stats",
    "discover",
    "entrepreneur_profile",
    "find_challenge",
    "find_entrepreneur",
    "max_lists_per_entrepreneur",
    "open_challenges",
    "preview",
    "rank",
    "score_pair",
    "search_text",
    "suggest",
    "suggest_all",
]
