"""Connecting agencies' systems, their pull inbox, and how delivery to them is going."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.audit import chain
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.errors import Forbidden, Invalid, NotFound
from panjereh.exchange.credentials import require
from panjereh.exchange.messages import JOBS, push_job
from panjereh.exchange.models import AgencyConnection, AgencyMessage, Mode
from panjereh.jobs.models import Job, JobState

HEALTH_SAMPLE = 1000  # latency percentiles over each agency's newest deliveries
_CHUNK = 500


def connect(
    *,
    session: Session,
    principal: Principal,
    agency_code: str,
    mode: Mode,
    endpoint_url: str | None,
    at: datetime,
) -> tuple[AgencyConnection, str | None]:
    """Connect an agency's system, or change how it is reached. Returns the connection and,
    the first time, its signing secret (shown only then). An agency that starts taking
    pushes gets every message it has not yet acknowledged pushed to it."""
    require(principal, Role.ADMIN)
    if session.get(Agency, agency_code) is None:
        raise Invalid(f"agency {agency_code} does not exist", field="agency_code")
    if mode == Mode.PUSH:
        if not endpoint_url or not endpoint_url.startswith(("https://", "http://")):
            raise Invalid("an agency taking pushes needs an http(s) URL", field="endpoint_url")
    elif endpoint_url:
        raise Invalid("an agency that pulls has no endpoint", field="endpoint_url")
    connection = session.get(AgencyConnection, agency_code, with_for_update=True)
    secret = None
    if connection is None:
        secret = secrets.token_hex(32)
        connection = AgencyConnection(
            agency_code=agency_code, signing_secret=secret, created_at=at, mode=mode.value
        )
        session.add(connection)
    before = connection.mode if secret is None else None
    connection.mode, connection.endpoint_url, connection.updated_at = (
        mode.value,
        endpoint_url,
        at,
    )
    session.flush()
    if mode == Mode.PUSH:
        _push_waiting(session, agency_code, at)
    chain.record(
        session,
        kind="agency.connected",
        at=at,
        actor=principal,
        before=before,
        after=mode.value,
        data={"agency": agency_code, "endpoint_url": endpoint_url},
    )
    chain.append_pending(session)
    return connection, secret


def _push_waiting(session: Session, agency_code: str, at: datetime) -> None:
    """Queue a push for every message the agency has not taken in. A push job that ended
    without delivering (given up, or skipped while the agency pulled) starts over: (re)connecting
    by push is how an administrator says the endpoint works."""
    waiting = session.execute(
        select(AgencyMessage.id, AgencyMessage.message_id).where(
            AgencyMessage.agency_code == agency_code, AgencyMessage.delivered_at.is_(None)
        )
    ).all()
    for start in range(0, len(waiting), _CHUNK):  # bounded IN lists, however long the backlog
        keys = {f"push:{m}": (i, m) for i, m in waiting[start : start + _CHUNK]}
        queued: dict[str, str] = {
            key: state
            for key, state in session.execute(
                select(Job.dedupe_key, Job.state).where(Job.dedupe_key.in_(keys))
            )
        }
        fresh = [push_job(i, m, at) for key, (i, m) in keys.items() if key not in queued]
        if fresh:
            session.execute(JOBS.insert(), fresh)
        restart = [key for key, state in queued.items() if state in (JobState.DEAD, JobState.DONE)]
        if restart:
            session.execute(
                update(Job)
                .where(Job.dedupe_key.in_(restart))
                .values(
                    state=JobState.PENDING.value, attempts=0, next_attempt_at=at, finished_at=None
                )
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(AgencyMessage)
                .where(AgencyMessage.id.in_([keys[k][0] for k in restart]))
                .values(dead_at=None)
                .execution_options(synchronize_session=False)
            )


@dataclass(frozen=True, slots=True)
class Rotated:
    """A new signing secret (shown once), and until when the old one still works."""

    secret: str
    old_valid_until: datetime | None


def rotate_secret(
    *,
    session: Session,
    principal: Principal,
    agency_code: str,
    at: datetime,
    overlap: timedelta = timedelta(0),
) -> Rotated:
    """A new signing secret for the agency. For ``overlap`` the old one keeps working: it is
    accepted on decisions, and pushes carry a signature by each (the agency's system switches
    when it is ready). Rotating again during an overlap ends the first one."""
    require(principal, Role.ADMIN)
    connection = session.get(AgencyConnection, agency_code, with_for_update=True)
    if connection is None:
        raise NotFound(f"agency {agency_code} has no connected system")
    if overlap > timedelta(0):
        connection.previous_secret = connection.signing_secret
        connection.previous_until = at + overlap
    else:
        connection.previous_secret = connection.previous_until = None
    connection.signing_secret = secrets.token_hex(32)
    connection.updated_at = at
    chain.record(
        session,
        kind="agency.secret_rotated",
        at=at,
        actor=principal,
        data={
            "agency": agency_code,
            "old_valid_until": connection.previous_until.isoformat()
            if connection.previous_until
            else None,
        },
    )
    chain.append_pending(session)
    return Rotated(connection.signing_secret, connection.previous_until)


def agency_connection(session: Session, agency_code: str) -> AgencyConnection | None:
    """The agency's connection, if its system is connected."""
    return session.get(AgencyConnection, agency_code)


def inbox(
    *, session: Session, principal: Principal, after: int, limit: int, at: datetime
) -> Sequence[AgencyMessage]:
    """The agency's messages not yet acknowledged, oldest first, after the cursor ``after``.

    A message stays in the inbox until acknowledged, so a pull from ``after=0`` always
    returns everything outstanding, whatever order transactions committed in.
    """
    if principal.role != Role.AGENCY_SYSTEM:
        raise Forbidden("the inbox is for an agency's system (a machine credential)")
    messages = session.scalars(
        select(AgencyMessage)
        .where(
            AgencyMessage.agency_code == principal.agency_code,
            AgencyMessage.delivered_at.is_(None),
            AgencyMessage.id > after,
        )
        .order_by(AgencyMessage.id)
        .limit(limit)
    ).all()
    # For an agency that pulls, receipt is when a message becomes available (its clock does
    # not wait for it to look); the first read is kept as its delivery record. For one that
    # takes pushes, the first push attempt is receipt, and records it.
    connection = session.get(AgencyConnection, principal.agency_code)
    first = [m.id for m in messages if m.first_attempt_at is None]
    if first and (connection is None or connection.mode == Mode.PULL):
        session.execute(
            update(AgencyMessage)
            .where(AgencyMessage.id.in_(first))
            .values(first_attempt_at=at)
            .execution_options(synchronize_session="fetch")
        )
    return messages


def acknowledge(
    *, session: Session, principal: Principal, message_ids: Sequence[str], at: datetime
) -> int:
    """Mark the agency's messages delivered; acknowledging twice changes nothing. Returns
    how many were newly acknowledged; an id that is not the agency's is refused."""
    if principal.role != Role.AGENCY_SYSTEM:
        raise Forbidden("acknowledging is for an agency's system (a machine credential)")
    found = dict(
        session.execute(
            select(AgencyMessage.message_id, AgencyMessage.agency_code).where(
                AgencyMessage.message_id.in_(message_ids)
            )
        ).all()
    )
    unknown = [m for m in message_ids if found.get(m) != principal.agency_code]
    if unknown:
        raise Invalid(
            f"not messages to {principal.agency_code}: {unknown[:5]}", field="message_ids"
        )
    changed = session.execute(
        update(AgencyMessage)
        .where(AgencyMessage.message_id.in_(message_ids), AgencyMessage.delivered_at.is_(None))
        .values(delivered_at=at, attempts=AgencyMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Health:
    """How delivery to one agency's system is going."""

    agency_code: str
    mode: str
    endpoint_url: str | None
    messages: int
    delivered: int
    waiting: int
    dead: int
    attempts: int
    oldest_waiting_at: datetime | None
    last_delivered_at: datetime | None
    last_error: str | None
    latency_p50_ms: int | None
    latency_p99_ms: int | None


def _percentile(values: Sequence[float], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def health(*, session: Session, principal: Principal) -> list[Health]:
    """Per connected agency: messages, delivered, waiting, dead, attempts, the oldest
    waiting, the last error and commit-to-receipt latency (administrators, supervisors)."""
    require(principal, Role.ADMIN, Role.SUPERVISOR)
    m = AgencyMessage
    totals = {
        row.agency_code: row
        for row in session.execute(
            select(
                m.agency_code,
                func.count().label("messages"),
                func.count(m.delivered_at).label("delivered"),
                func.count(m.dead_at).label("dead"),
                func.coalesce(func.sum(m.attempts), 0).label("attempts"),
                func.max(m.delivered_at).label("last_delivered_at"),
            ).group_by(m.agency_code)
        )
    }
    out = []
    for connection in session.scalars(
        select(AgencyConnection).order_by(AgencyConnection.agency_code)
    ):
        code = connection.agency_code
        row = totals.get(code)
        oldest = session.scalar(
            select(func.min(m.created_at)).where(m.agency_code == code, m.delivered_at.is_(None))
        )
        last_error = session.scalar(
            select(m.last_error)
            .where(m.agency_code == code, m.last_error.is_not(None), m.delivered_at.is_(None))
            .order_by(m.id.desc())
            .limit(1)
        )
        recent = session.execute(
            select(m.created_at, m.delivered_at)
            .where(m.agency_code == code, m.delivered_at.is_not(None))
            .order_by(m.id.desc())
            .limit(HEALTH_SAMPLE)
        ).all()
        latencies = [(d - c).total_seconds() * 1000 for c, d in recent if d is not None]
        out.append(
            Health(
                agency_code=code,
                mode=connection.mode,
                endpoint_url=connection.endpoint_url,
                messages=row.messages if row else 0,
                delivered=row.delivered if row else 0,
                waiting=(row.messages - row.delivered) if row else 0,
                dead=row.dead if row else 0,
                attempts=int(row.attempts) if row else 0,
                oldest_waiting_at=oldest,
                last_delivered_at=row.last_delivered_at if row else None,
                last_error=last_error,
                latency_p50_ms=_percentile(latencies, 0.5),
                latency_p99_ms=_percentile(latencies, 0.99),
            )
        )
    return out
