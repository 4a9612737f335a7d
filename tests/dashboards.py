"""The dashboard's stored state, for comparing two ways of building it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.dashboard.projector import DASHBOARD_TABLES


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every dashboard table, sorted, by table name."""
    out = {}
    for model in DASHBOARD_TABLES:
        table = model.__table__
        out[table.name] = sorted(tuple(r) for r in session.execute(select(table)))
    return out
