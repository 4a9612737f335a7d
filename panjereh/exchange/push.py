"""Pushing messages to agencies' systems: the outbox channel behind ``agency.push`` jobs.

The worker leases a batch of push jobs, this channel POSTs each message to its agency's endpoint
(several in flight at once, over kept-alive connections), and the worker records every attempt
in one transaction. The POSTs use the standard library's ``http.client`` rather than httpx (used
everywhere else): on this path httpx cost about 670 µs of CPU per request against 150 µs, and
pushes are the exchange's hot loop. Each POST carries the message's id as ``Idempotency-Key``
and ``X-Panjereh-Message-Id`` (stable across retries, so the agency dedupes on it) and a fresh
HMAC signature over the timestamp, message id and body. Any 2xx is delivery; anything else, or
no answer, is retried with backoff; after the last attempt the delivery is dead and the inquiry
is escalated to the agency head and the national supervisor.

The first attempt is the inquiry's receipt (``ENGINE.md``): the clock counts from it, so an
agency whose system is down does not stop its own clock, and Panjereh's own outage is not
charged to the agency.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.client import HTTPConnection, HTTPException, HTTPSConnection, RemoteDisconnected
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit import chain
from panjereh.config import Settings
from panjereh.escalation.ladder import Rung
from panjereh.escalation.models import EscalationFiring
from panjereh.escalation.sweep import fire
from panjereh.exchange.messages import AGENCY_PUSH
from panjereh.exchange.models import AgencyConnection, AgencyMessage, MessageKind, Mode
from panjereh.exchange.signing import MESSAGE_ID_HEADER, SIGNATURE_HEADER, sign
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES
from panjereh.jobs.channel import Attempt, Channel
from panjereh.jobs.models import Job

__all__ = ["AGENCY_PUSH", "AgencyPushChannel", "encode"]

UNDELIVERABLE = "undeliverable"
log = logging.getLogger("panjereh.worker")
_RECORD = (
    update(AgencyMessage)
    .where(AgencyMessage.id == bindparam("row"))
    .values(
        attempts=AgencyMessage.attempts + 1,
        last_error=bindparam("error"),
        delivered_at=func.coalesce(AgencyMessage.delivered_at, bindparam("delivered")),
        dead_at=bindparam("dead"),
    )
    .execution_options(synchronize_session=False)
)


def encode(body: Mapping[str, Any]) -> bytes:
    """A message's bytes on the wire (the signature covers exactly these)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class AgencyPushChannel(Channel):
    """POSTs messages to agencies' endpoints, signed, several at a time."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.timeout = settings.channel_timeout_seconds
        self.concurrency = settings.push_concurrency
        self._local = threading.local()
        self._tls = ssl.create_default_context()
        self._pool: ThreadPoolExecutor | None = None

    def _open(self) -> dict[str, HTTPConnection]:
        # Kept-alive connections, one per sending thread and endpoint (scheme://host:port).
        connections: dict[str, HTTPConnection] = self._local.__dict__.setdefault("open", {})
        return connections

    def _connection(self, url: SplitResult) -> HTTPConnection:
        connections = self._open()
        key = f"{url.scheme}://{url.netloc}"
        connection = connections.get(key)
        if connection is None:
            host, port = url.hostname or "", url.port
            connection = (
                HTTPSConnection(host, port, timeout=self.timeout, context=self._tls)
                if url.scheme == "https"
                else HTTPConnection(host, port, timeout=self.timeout)
            )
            connections[key] = connection
        return connection

    def _forget(self, url: SplitResult) -> None:
        connection = self._open().pop(f"{url.scheme}://{url.netloc}", None)
        if connection is not None:
            connection.close()

    def _exchange(self, url: str, content: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST over a kept-alive connection; one retry on a fresh connection if the old one
        turns out closed by the other end (safe: the agency dedupes on the message id)."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for retry in (False, True):
            connection = self._connection(parts)
            reused = connection.sock is not None
            try:
                connection.request("POST", target, body=content, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._forget(parts)
                if retry or not reused:
                    raise
                continue
            except (HTTPException, OSError):
                self._forget(parts)
                raise
            if response.will_close:
                self._forget(parts)
            return response.status, data
        raise AssertionError("unreachable")

    def max_batch(self, lease: timedelta) -> int | None:
        """As many pushes as surely finish within half the lease, even if every endpoint
        waits out the timeout: a worker never holds a job it is still sending when another
        worker may take it over."""
        rounds = max(1, int(lease.total_seconds() / 2 // self.timeout))
        return self.concurrency * rounds

    def claimed(
        self, session: Session, payloads: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> None:
        """Note each message's first push attempt; a new inquiry's clock counts from it. (A
        message whose agency now pulls is not pushed, so this is not its receipt.)"""
        ids = [p["message"] for p in payloads]
        first = session.execute(
            select(AgencyMessage.id, AgencyMessage.kind, AgencyMessage.inquiry_id)
            .join(AgencyConnection, AgencyConnection.agency_code == AgencyMessage.agency_code)
            .where(
                AgencyMessage.id.in_(ids),
                AgencyMessage.first_attempt_at.is_(None),
                AgencyConnection.mode == Mode.PUSH.value,
            )
        ).all()
        if not first:
            return
        session.execute(
            update(AgencyMessage)
            .where(AgencyMessage.id.in_([row.id for row in first]))
            .values(first_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        created = [r.inquiry_id for r in first if r.kind == MessageKind.INQUIRY_CREATED]
        if created:
            inquiry_clock.receive(session, created, at=now)

    def send_many(self, payloads: Sequence[Mapping[str, Any]], *, now: datetime) -> list[Attempt]:
        ids = [p["message"] for p in payloads]
        with self.factory() as session:
            rows = {
                r.id: r
                for r in session.execute(
                    select(
                        AgencyMessage.id,
                        AgencyMessage.message_id,
                        AgencyMessage.agency_code,
                        AgencyMessage.body,
                        AgencyMessage.delivered_at,
                    ).where(AgencyMessage.id.in_(ids))
                )
            }
            connections = {
                c.agency_code: c
                for c in session.scalars(
                    select(AgencyConnection).where(
                        AgencyConnection.agency_code.in_({r.agency_code for r in rows.values()})
                    )
                )
            }
            session.expunge_all()

        def one(row_id: int) -> Attempt:
            row = rows.get(row_id)
            connection = connections.get(row.agency_code) if row is not None else None
            if (
                row is None
                or row.delivered_at is not None
                or connection is None
                or connection.mode != Mode.PUSH
                or not connection.endpoint_url
            ):
                # Already delivered (pulled and acknowledged), or the agency now pulls: the
                # message waits in its inbox; nothing to push.
                return Attempt(None, 0, skipped=True)
            return self._post(connection, row.message_id, row.body, now)

        if len(ids) == 1 or self.concurrency == 1:
            return [one(i) for i in ids]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="push")
        return list(self._pool.map(one, ids))

    def _post(
        self, connection: AgencyConnection, message_id: str, body: Any, now: datetime
    ) -> Attempt:
        content = encode(body)
        secret, *old = connection.secrets_in_force(now)  # old: a rotation's, while it lasts
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message_id,
            MESSAGE_ID_HEADER: message_id,
            # Signed when sent (not when leased), so a slow batch never sends a stale stamp.
            SIGNATURE_HEADER: sign(secret, int(time.time()), content, message_id, also=old),
        }
        url = connection.endpoint_url or ""
        started = time.perf_counter()
        try:
            status, answer = self._exchange(url, content, headers)
        except (HTTPException, OSError, ValueError) as error:
            return Attempt(f"{url}: {type(error).__name__}: {error}", _since(started))
        if not 200 <= status < 300:
            text = answer[:200].decode(errors="replace")
            return Attempt(f"{url} answered {status}: {text}", _since(started))
        return Attempt(None, _since(started))

    def finished(
        self,
        session: Session,
        results: Sequence[tuple[Mapping[str, Any], Attempt, bool]],
        *,
        now: datetime,
    ) -> None:
        """Keep the delivery record on each message."""
        params = [
            {
                "row": payload["message"],
                "error": attempt.error,
                "delivered": now if attempt.error is None else None,
                "dead": now if dead else None,
            }
            for payload, attempt, dead in results
            if not attempt.skipped
        ]
        if params:
            session.connection().execute(_RECORD, params)

    def dead(self, session: Session, job: Job, *, now: datetime) -> None:
        """An undeliverable message never sits quietly: the inquiry is escalated to the
        agency head and the national supervisor, and the timeline says why."""
        message = session.get(AgencyMessage, job.payload["message"])
        if message is None:
            return
        inquiry = session.get(Inquiry, message.inquiry_id, with_for_update=True)
        if inquiry is None or inquiry.state not in OPEN_STATES:
            # A closed inquiry (the message told of a withdrawal or a lapse) holds nothing up:
            # the delivery health shows the dead message; nothing to escalate.
            log.warning("message %s to %s is dead", message.message_id, message.agency_code)
            return
        cycle = 1 + (
            session.scalar(
                select(func.count())
                .select_from(EscalationFiring)
                .where(
                    EscalationFiring.inquiry_id == inquiry.id,
                    EscalationFiring.step == UNDELIVERABLE,
                )
            )
            or 0
        )
        top = len(inquiry_clock.policy_of(session, inquiry).steps)
        fire(
            session,
            inquiry,
            Rung(cycle, UNDELIVERABLE, now, ("agency_head", "supervisor"), False, top),
            now=now,
            # The endpoint and its error stay in the delivery record (administrators): the
            # timeline is also the trader's.
            reason=f"message {message.message_id} ({message.kind}) could not be delivered to "
            f"the agency's system after {job.attempts} attempts",
        )
        inquiry.escalation_level = max(inquiry.escalation_level, top)
        chain.append_pending(session)


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
