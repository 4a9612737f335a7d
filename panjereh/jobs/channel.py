"""The interface every outbox channel implements.

A channel takes jobs' payloads and delivers them or reports why not; the worker leases the
jobs before, and records each attempt after, in transactions of its own. Channels may send a
whole batch at once (:meth:`Channel.send_many`) and keep their own records in those two
transactions (:meth:`Channel.claimed`, :meth:`Channel.finished`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from panjereh.jobs.models import Job

log = logging.getLogger("panjereh.worker")


class DeliveryError(Exception):
    """The channel could not deliver; the job is retried."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one delivery attempt went: the error (None: delivered) and how long it took."""

    error: str | None
    latency_ms: int
    # Nothing needed sending (say, the message was delivered another way meanwhile).
    skipped: bool = False


class Channel:
    """Delivers jobs of one kind. A channel sends one payload at a time unless it overrides
    :meth:`send_many`; the hooks let it keep records in the worker's own transactions."""

    def send(self, payload: Mapping[str, Any], *, now: datetime) -> None:
        """Deliver one payload, or raise (:class:`DeliveryError` for an expected failure)."""
        raise NotImplementedError

    def send_many(self, payloads: Sequence[Mapping[str, Any]], *, now: datetime) -> list[Attempt]:
        """Deliver a batch; one attempt per payload, in order. Never raises."""
        attempts = []
        for payload in payloads:
            started = time.perf_counter()
            error: str | None = None
            try:
                self.send(payload, now=now)
            except DeliveryError as failure:
                error = str(failure)
            except Exception as failure:
                log.exception("delivery failed")
                error = f"{type(failure).__name__}: {failure}"
            attempts.append(Attempt(error, int((time.perf_counter() - started) * 1000)))
        return attempts

    def max_batch(self, lease: timedelta) -> int | None:
        """The most jobs of this kind one pass may lease (None: the worker's batch)."""
        return None

    def claimed(
        self, session: Session, payloads: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> None:
        """Called in the transaction that leases the jobs, before any is sent."""

    def finished(
        self,
        session: Session,
        results: Sequence[tuple[Mapping[str, Any], Attempt, bool]],
        *,
        now: datetime,
    ) -> None:
        """Called in the transaction that records the attempts: (payload, attempt, dead)."""

    def dead(self, session: Session, job: Job, *, now: datetime) -> None:
        """The job will not be tried again: a channel must not let that pass quietly."""
        raise NotImplementedError
