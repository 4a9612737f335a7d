"""The page routes, by who uses them."""

from __future__ import annotations

from fastapi import APIRouter

from panjereh.web.pages import account, admin, agency, trader

router = APIRouter(include_in_schema=False)
for module in (account, trader, agency, admin):
    router.include_router(module.router)
