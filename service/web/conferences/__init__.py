"""The organiser's pages: conferences, importing participants (with a template to fill in),
planning with progress, reviewing the plan (lock, move, remove, add meetings; record
no-shows; re-plan the rest), publishing, and the agendas and files to hand out.

After every change to a plan the browser comes back to the place it acted on (the meeting's
row, the slot, the form) and finds the answer there, in words: what happened and what happens
next (``common``)."""

from fastapi import APIRouter

from service.web.conferences import files, plan, setup
from service.web.conferences.common import disposition

router = APIRouter(include_in_schema=False)
# ``/konferanser/ny`` before ``/konferanser/{conference_id}``: the first match answers
for part in (setup, plan, files):
    router.include_router(part.router)

__all__ = ["disposition", "router"]
