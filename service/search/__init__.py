"""Search: the vector and BM25 indexes of a home folder and the embedding cache behind them.

- ``texts``: what each index must hold (the indexed text of every record);
- ``cache``: vectors by content hash, in the database and in memory;
- ``files``: the index folder's lock and manifests;
- ``store``: ``IndexStore``, which loads, syncs and verifies the indexes (its docstring has the
  lock order).

Matching (``service.matching``) reads candidates through the store; nothing else embeds.
"""

from service.search.files import WAITING, Progress
from service.search.store import IndexStore, SyncReport, VerifyReport, sync_engine
from service.search.texts import (
    CHALLENGES,
    ENTREPRENEURS,
    RECORD_ROLE,
    challenge_text,
    entrepreneur_text,
)

__all__ = [
    "CHALLENGES",
    "ENTREPRENEURS",
    "RECORD_ROLE",
    "WAITING",
    "IndexStore",
    "Progress",
    "SyncReport",
    "VerifyReport",
    "challenge_text",
    "entrepreneur_text",
    "sync_engine",
]
