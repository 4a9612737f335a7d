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
import time
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from panjereh.clock import Clock
from panjereh.config import Settings
from panjereh.dashboard import projector
from panjereh.db import transaction
from panjereh.escalation import sweep
from panjereh.jobs import queue
from panjereh.jobs.models import Job, JobState
from panjereh.notifications.channels import Channel, DeliveryError
from panjereh.notifications.service import report_dead_job

log = logging.getLogger("panjereh.worker")


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

    def sweep_once(self) -> int:
        """Fire what is due on the inquiries' clocks; returns how many inquiries it handled."""
        with transaction(self.factory) as session:
            return sweep.sweep(session, now=self.clock.now(), limit=self.batch)

    def deliver_once(self) -> int:
        """Run a batch of due jobs; returns how many it ran."""
        with transaction(self.factory) as session:
            claimed = [
                (j.id, j.kind, dict(j.payload))
                for j in queue.claim(
                    session,
                    worker=self.name,
                    now=self.clock.now(),
                    limit=self.batch,
                    lease=self.lease,
                    kinds=tuple(self.channels),
                )
            ]
        for job_id, kind, payload in claimed:
            self._run(job_id, kind, payload)
        return len(claimed)

    def _run(self, job_id: int, kind: str, payload: dict[str, object]) -> None:
        started = time.perf_counter()
        error: str | None = None
        try:
            self.channels[kind].send(payload, now=self.clock.now())
        except DeliveryError as failure:
            error = str(failure)
        except Exception as failure:
            log.exception("job %s (%s) failed", job_id, kind)
            error = f"{type(failure).__name__}: {failure}"
        latency = int((time.perf_counter() - started) * 1000)
        with transaction(self.factory) as session:
            job = session.get(Job, job_id, with_for_update=True)
            if job is None or job.state != JobState.LEASED.value or job.lease_owner != self.name:
                return  # our lease ran out and another worker took the job over
            now = self.clock.now()
            if error is None:
                queue.complete(job, now=now, latency_ms=latency)
            elif queue.fail(job, now=now, error=error, latency_ms=latency):
                log.error(
                    "job %s (%s) is dead after %s attempts: %s", job_id, kind, job.attempts, error
                )
                report_dead_job(session, job, now=now)

    def project_once(self) -> int:
        """Fold new events into the dashboard's aggregates; returns how many it folded."""
        with transaction(self.factory) as session:
            return projector.project_once(session, now=self.clock.now())

    def run_once(self) -> int:
        """One pass: sweep, deliver, then keep the dashboard up to date. Returns how much
        work it did."""
        return self.sweep_once() + self.deliver_once() + self.project_once()

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
