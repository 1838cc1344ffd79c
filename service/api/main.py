"""The JSON API under /api/v1: every resource's router, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from service.api import (
    challenges,
    conferences,
    contacts,
    entrepreneurs,
    organisations,
    privacy,
    proposals,
    search,
)

router = APIRouter()
for resource in (
    challenges,
    entrepreneurs,
    organisations,
    contacts,
    search,
    proposals,
    conferences,
    privacy,
):
    router.include_router(resource.router)
