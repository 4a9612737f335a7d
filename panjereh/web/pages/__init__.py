"""The page routes, by who uses them."""

from __future__ import annotations

from fastapi import APIRouter

from panjereh.web.pages import (
    account,
    admin,
    admin_calendars,
    admin_rules,
    agency,
    escalations,
    inbox,
    reports,
    trader,
)

router = APIRouter(include_in_schema=False)
for module in (
    account,
    trader,
    agency,
    escalations,
    inbox,
    reports,
    admin,
    admin_rules,
    admin_calendars,
):
    router.include_router(module.router)
