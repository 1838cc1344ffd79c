"""Privacy (GDPR): everything stored about a person, their erasure, and retention.

Two kinds of data subject: a contact person (a municipal employee or an entrepreneur's
contact) and an entrepreneur (often a one-person business). ``export_*`` gathers everything
Brobygger stores about one of them; ``erase_*`` removes it from the database (and so from
the index, the outbox and every file Brobygger makes from the database: agendas, conference
files, handoff mail) while the audit log stays whole:

- review events keep their order, decisions and statuses; an erased person's e-mail as the
  actor is replaced by a random pseudonym (the same for all their events, derived from
  nothing, so it cannot be reversed);
- an entrepreneur with proposals stays as an emptied row ("Slettet entreprenør") so that the
  proposals and their audit lines still point somewhere; one without is deleted;
- mail not yet sent to an erased person is not sent; copies of sent mail lose the person's
  name, e-mail and phone.

Retention: a closed need that nobody has changed for ``retention_days`` loses its link to the
person who owned it and the copies of the mail sent about it (``brobygger privacy retention``).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlmodel import Session

from service.privacy.erase import erase_contact, erase_entrepreneur, new_pseudonym
from service.privacy.export import export_contact, export_entrepreneur
from service.privacy.records import (
    ERASED,
    ERASED_ACCOUNT,
    ERASED_ENTREPRENEUR,
    ERASED_PARTICIPANT,
    PrivacyError,
    find_contact,
    find_entrepreneur,
)
from service.privacy.retention import RetentionReport, retention


class Subject(NamedTuple):
    """One kind of data subject, for the command line."""

    find: Callable[[Session, str], Any]
    export: Callable[[Session, Any], dict[str, Any]]
    erase: Callable[[Session, Any], dict[str, int]]


SUBJECTS = {
    "contact": Subject(find_contact, export_contact, erase_contact),
    "entrepreneur": Subject(find_entrepreneur, export_entrepreneur, erase_entrepreneur),
}

__all__ = [
    "ERASED",
    "ERASED_ACCOUNT",
    "ERASED_ENTREPRENEUR",
    "ERASED_PARTICIPANT",
    "SUBJECTS",
    "PrivacyError",
    "RetentionReport",
    "Subject",
    "erase_contact",
    "erase_entrepreneur",
    "export_contact",
    "export_entrepreneur",
    "find_contact",
    "find_entrepreneur",
    "new_pseudonym",
    "retention",
]
