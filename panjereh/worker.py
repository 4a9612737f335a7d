"""``panjereh worker``: the clock sweep and the outbox, in a process of its own.

The loop does what is due and then sleeps until the earliest next action (an inquiry's next
rung, a job's next attempt), never longer than the poll interval, so a breach is noticed
within about that interval of its time. Every step is a short transaction; killing the
process at any point loses nothing (see ``panjereh.escalation.sweep`` and
``panjereh.jobs.queue``). Many workers can share one PostgreSQL; on SQLite run one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth import throttle
from panjereh.clock import Clock
from panjereh.config import Settings
from panjereh.dashboard import projector
from panjereh.db import transaction
from panjereh.escalation import sweep
from panjereh.exchange import security
from panjereh.idempotency import service as idempotency
from panjereh.jobs import queue
from panjereh.jobs.channel import Attempt, Channel
from panjereh.jobs.models import Job, JobState
from panjereh.testing import crashpoint

log = logging.getLogger("panjereh.worker")

FORGET_EVERY = timedelta(minutes=1)
"""How often the worker looks for what has outlived its retention, once nothing is left."""


class Worker:
    """One worker process's loop."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        channels: Mapping[str, Channel],
        *,
        name: str | None = None,
    ) -> None:
        self.factory, self.clock, self.settings = factory, clock, settings
        self.channels = channels
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.batch = settings.worker_batch
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        # Each channel may lease fewer jobs a pass than the batch: as many as it can surely
        # send before the lease runs out (pushes: see AgencyPushChannel.max_batch).
        limits: dict[int, list[str]] = defaultdict(list)
        for kind, channel in channels.items():
            limits[min(self.batch, channel.max_batch(self.lease) or self.batch)].append(kind)
        self.claims = [(tuple(kinds), limit) for limit, kinds in limits.items()]
        self._forget_at: datetime | None = None  # see forget_once

    def sweep_once(self) -> int:
        """Fire what is due on the inquiries' clocks; returns how many inquiries it handled."""
        with transaction(self.factory) as session:
            return sweep.sweep(session, now=self.clock.now(), limit=self.batch)

    def deliver_once(self) -> int:
        """Run a batch of due jobs; returns how many it ran.

        Three steps, each safe to die after: lease the jobs (one transaction), send them
        outside any transaction (a channel may send a batch at once), record every attempt
        (one transaction). A job whose worker died is leased again when its lease runs out.
        """
        now = self.clock.now()
        batches: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        with transaction(self.factory) as session:
            for kinds, limit in self.claims:
                for job in queue.claim(
                    session, worker=self.name, now=now, limit=limit, lease=self.lease, kinds=kinds
                ):
                    batches[job.kind].append((job.id, dict(job.payload)))
            unprepared = {
                kind: self._prepare(session, kind, jobs, now) for kind, jobs in batches.items()
            }
        crashpoint("delivery.claimed")
        attempts = {
            kind: unprepared[kind] or self.channels[kind].send_many([p for _, p in jobs], now=now)
            for kind, jobs in batches.items()
        }
        crashpoint("delivery.sent")
        if batches:
            self._record(batches, attempts)
        return sum(len(jobs) for jobs in batches.values())

    def _prepare(
        self, session: Session, kind: str, jobs: list[tuple[int, dict[str, Any]]], now: datetime
    ) -> list[Attempt] | None:
        """Run the channel's lease hook in a savepoint. If it fails, none of this kind's jobs
        is sent this pass: each counts as a failed attempt (retried with backoff, dead in the
        end), and the other kinds' jobs go on."""
        try:
            with session.begin_nested():
                self.channels[kind].claimed(session, [p for _, p in jobs], now=now)
        except Exception as failure:
            log.exception("preparing %s %s jobs failed", len(jobs), kind)
            error = f"not sent: preparing failed: {type(failure).__name__}: {failure}"
            return [Attempt(error, 0)] * len(jobs)
        return None

    def _dead(self, session: Session, channel: Channel, job: Job, now: datetime) -> None:
        """The channel's dead hook, in a savepoint: the job's own record stands even if the
        hook fails (which is logged as an error, never swallowed quietly)."""
        try:
            with session.begin_nested():
                channel.dead(session, job, now=now)
        except Exception:
            log.exception("handling dead job %s (%s) failed", job.id, job.kind)

    def _record(
        self,
        batches: Mapping[str, list[tuple[int, dict[str, Any]]]],
        attempts: Mapping[str, list[Attempt]],
    ) -> None:
        with transaction(self.factory) as session:
            ids = [job_id for jobs in batches.values() for job_id, _ in jobs]
            jobs = {
                j.id: j
                for j in session.scalars(
                    select(Job).where(Job.id.in_(ids)).order_by(Job.id).with_for_update()
                )
            }
            now = self.clock.now()
            for kind, batch in batches.items():
                channel = self.channels[kind]
                results = []
                for (job_id, payload), attempt in zip(batch, attempts[kind], strict=True):
                    job = jobs.get(job_id)
                    if job is None or job.state != JobState.LEASED or job.lease_owner != self.name:
                        continue  # our lease ran out and another worker took the job over
                    dead = False
                    if attempt.error is None:
                        queue.complete(job, now=now, latency_ms=attempt.latency_ms)
                    else:
                        dead = queue.fail(
                            job, now=now, error=attempt.error, latency_ms=attempt.latency_ms
                        )
                    results.append((payload, attempt, dead))
                    if dead:
                        log.error(
                            "job %s (%s) is dead after %s attempts: %s",
                            job_id,
                            kind,
                            job.attempts,
                            attempt.error,
                        )
                        self._dead(session, channel, job, now)
                channel.finished(session, results, now=now)

    def project_once(self) -> int:
        """Fold new events into the dashboard's aggregates; returns how many it folded."""
        with transaction(self.factory) as session:
            return projector.project_once(session, now=self.clock.now())

    def forget_once(self) -> int:
        """Forget a batch of what is kept only for a while: stored idempotent answers older
        than ``PANJEREH_IDEMPOTENCY_HOURS``, sign-in failures a day old, and refusals in the
        security log older than ``PANJEREH_SECURITY_LOG_DAYS``; returns how many rows.
        Retention is counted in hours and days, so once nothing is left to forget the next
        look is a minute later, not at every pass (on SQLite each look takes the write lock)."""
        now = self.clock.now()
        if self._forget_at is not None and now < self._forget_at:
            return 0
        answers = now - timedelta(hours=self.settings.idempotency_hours)
        refusals = now - timedelta(days=self.settings.security_log_days)
        with transaction(self.factory) as session:
            forgotten = (
                idempotency.purge(session, before=answers, limit=self.batch)
                + throttle.forget(session, now=now, limit=self.batch)
                + security.forget(session, before=refusals, limit=self.batch)
            )
        self._forget_at = None if forgotten else now + FORGET_EVERY
        return forgotten

    def run_once(self) -> int:
        """One pass: deliver (a first push is receipt, which the clock counts from), sweep,
        keep the dashboard up to date, forget what has outlived its retention. Returns how
        much work it did."""
        return self.deliver_once() + self.sweep_once() + self.project_once() + self.forget_once()

    def seconds_until_due(self) -> float:
        """How long the loop may sleep: until the earliest due time, at most the poll interval."""
        poll = self.settings.worker_poll_seconds
        with self.factory() as session:
            times = [
                t
                for t in (
                    sweep.next_due(session),
                    queue.next_due(session, kinds=tuple(self.channels)),
                )
                if t is not None
            ]
        if not times:
            return poll
        wait = (min(times) - self.clock.now()).total_seconds()
        return max(0.0, min(poll, wait))

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set."""
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                if not self.run_once():
                    stop.wait(self.seconds_until_due())
            except Exception:
                # The database may be down or restarting: log, wait a poll, try again.
                log.exception("worker pass failed")
                stop.wait(self.settings.worker_poll_seconds)
        log.info("worker %s stopped", self.name)
