"""Enqueueing and claiming outbox jobs.

Jobs are written in the transaction whose change causes them, so they exist exactly when the
change does. A worker claims due jobs with a lease, runs them outside any transaction, and
records the result in a new one; a job whose lease ran out (its worker died) is claimable
again. On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so several workers never take
the same job; on SQLite one worker runs, under ``BEGIN IMMEDIATE``. SQLAlchemy silently drops
FOR UPDATE on SQLite, so the dialect branch lives here, in one place.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from panjereh.db import is_postgres
from panjereh.jobs.models import Job, JobState

BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to write: what it is, its dedupe key and its payload."""

    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    # With the backoff below, 12 attempts span about an hour and a half.
    max_attempts: int = 12


def enqueue(session: Session, jobs: Iterable[NewJob], *, at: datetime) -> int:
    """Add the jobs whose dedupe key is new; returns how many were added.

    The caller holds whatever lock makes its keys its own (the inquiry's row, for escalation
    notices), so checking first and then inserting does not race.
    """
    wanted = {j.dedupe_key: j for j in jobs}
    if not wanted:
        return 0
    existing = set(session.scalars(select(Job.dedupe_key).where(Job.dedupe_key.in_(wanted))))
    new = [
        Job(
            kind=j.kind,
            dedupe_key=j.dedupe_key,
            payload=j.payload,
            state=JobState.PENDING.value,
            attempts=0,
            max_attempts=j.max_attempts,
            next_attempt_at=at,
            created_at=at,
        )
        for key, j in wanted.items()
        if key not in existing
    ]
    session.add_all(new)
    return len(new)


def _claimable(now: datetime, kinds: tuple[str, ...] | None) -> Any:
    ready = or_(
        and_(Job.state == JobState.PENDING.value, Job.next_attempt_at <= now),
        and_(Job.state == JobState.LEASED.value, Job.lease_until < now),
    )
    return and_(ready, Job.kind.in_(kinds)) if kinds else ready


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    kinds: tuple[str, ...] | None = None,
) -> list[Job]:
    """Lease up to ``limit`` due jobs to ``worker`` (the caller commits the lease)."""
    query = select(Job).where(_claimable(now, kinds)).order_by(Job.next_attempt_at).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    jobs = list(session.scalars(query))
    for job in jobs:
        job.state = JobState.LEASED.value
        job.lease_owner = worker
        job.lease_until = now + lease
        job.attempts += 1
    return jobs


def next_due(session: Session, *, kinds: tuple[str, ...] | None = None) -> datetime | None:
    """When the earliest pending job is due (a leased one counts at its lease's end)."""
    pending = select(func.min(Job.next_attempt_at)).where(Job.state == JobState.PENDING.value)
    leased = select(func.min(Job.lease_until)).where(Job.state == JobState.LEASED.value)
    if kinds:
        pending, leased = pending.where(Job.kind.in_(kinds)), leased.where(Job.kind.in_(kinds))
    times = [t for t in (session.scalar(pending), session.scalar(leased)) if t is not None]
    return min(times) if times else None


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter (0.5×–1.5×), capped: 2 s, 4 s, 8 s … 30 min."""
    base: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    factor: float = 0.5 + (rng or random).random()
    return base * factor


def complete(job: Job, *, now: datetime, latency_ms: int) -> None:
    """The job succeeded."""
    job.state = JobState.DONE.value
    job.finished_at = now
    job.lease_owner = job.lease_until = None
    job.last_latency_ms = latency_ms
    job.last_error = None


def fail(job: Job, *, now: datetime, error: str, latency_ms: int) -> bool:
    """The attempt failed: retry later, or give up. Returns True if the job is now dead."""
    job.last_error = error[:2000]
    job.last_latency_ms = latency_ms
    job.lease_owner = job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.state = JobState.DEAD.value
        job.finished_at = now
        return True
    job.state = JobState.PENDING.value
    job.next_attempt_at = now + backoff(job.attempts)
    return False
