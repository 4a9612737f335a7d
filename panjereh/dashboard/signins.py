"""Sign-ins for the adoption figures: one row per user and Tehran day, counted up.

Sign-ins are not state changes of the single window, so they are not events in the audit
chain; a successful sign-in (``auth.service.sign_in``, for the API and the web form alike)
calls :func:`record` in the sign-in's transaction (one upsert, no read),
and the dashboard counts active users (distinct users who signed in) and sign-ins by province
and role from these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from panjereh.dashboard import periods
from panjereh.dashboard.models import DashboardSignIn
from panjereh.db import is_postgres


def record(
    session: Session, *, user_id: int, role: str, province: str | None, at: datetime
) -> None:
    """Count one sign-in of a user at ``at`` (the caller commits)."""
    table = DashboardSignIn.__table__
    values = {
        "day": periods.tehran_day(at),
        "user_id": user_id,
        "role": role,
        "province": province or "",
        "count": 1,
    }
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "user_id"], set_={"count": table.c.count + 1}
    )
    session.execute(statement)
