"""Appending to and verifying the hash-chained event log.

Flows call :func:`record` as they change state; nothing is written then. Just before the
transaction commits, :func:`append_pending` takes the chain head (locked on PostgreSQL), gives
each pending event the next sequence number and a SHA-256 over its content and the previous
hash, and writes them with the rest of the transaction: an event exists if and only if the
change it describes was committed, and any edit, deletion or reordering breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from panjereh.audit.models import ChainHead, Event
from panjereh.auth.principal import Principal
from panjereh.statements import Prepared

GENESIS_HASH = "0" * 64
_PENDING = "panjereh.pending_events"


@dataclass(slots=True)
class PendingEvent:
    """An event waiting for its transaction to commit."""

    kind: str
    at: datetime
    actor: Principal
    declaration_id: int | None
    inquiry_id: int | None
    before: str | None
    after: str | None
    data: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    *,
    kind: str,
    at: datetime,
    actor: Principal,
    declaration_id: int | None = None,
    inquiry_id: int | None = None,
    before: str | None = None,
    after: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue an event for this transaction; it is chained and written at commit."""
    session.info.setdefault(_PENDING, []).append(
        PendingEvent(kind, at, actor, declaration_id, inquiry_id, before, after, data or {})
    )


canonical_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
"""The canonical JSON text the chain hashes: keys sorted, no spaces, UTF-8 as is (one encoder
made once: ``json.dumps`` with options makes a new one at every call)."""


def digest(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    kind: str,
    declaration_id: int | None,
    inquiry_id: int | None,
    before: str | None,
    after: str | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one event: SHA-256 over canonical JSON of its content and the previous hash."""
    body = canonical_json(
        [
            seq,
            at.isoformat(),
            actor_id,
            actor,
            kind,
            declaration_id,
            inquiry_id,
            before,
            after,
            data,
            prev_hash,
        ],
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append_on_commit(session: Session) -> None:
    """The ``before_commit`` hook: no recorded event is ever left behind."""
    append_pending(session)


# Built once: the chain is appended to on every state change.
_HEAD = Prepared(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1).with_for_update())
_MOVE_HEAD = Prepared(
    update(ChainHead)
    .where(ChainHead.id == 1, ChainHead.seq == bindparam("old_seq"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_INSERT = Prepared(insert(Event))

# The head this process last wrote, per database. Only a guess: moving the head is a
# compare-and-set on its sequence number, so a stale guess (another process appended, or our
# transaction rolled back) costs one more read, never a wrong link.
_last_head: dict[int, tuple[int, str]] = {}


def _link(pending: list[PendingEvent], seq: int, prev: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for ev in pending:
        seq += 1
        values: dict[str, Any] = {
            "seq": seq,
            "at": ev.at,
            "actor_id": ev.actor.id,
            "actor": ev.actor.username,
            "kind": ev.kind,
            "declaration_id": ev.declaration_id,
            "inquiry_id": ev.inquiry_id,
            "before": ev.before,
            "after": ev.after,
            "data": ev.data,
        }
        link = digest(**values, prev_hash=prev)
        rows.append({**values, "prev_hash": prev, "hash": link})
        prev = link
    return rows


def append_pending(session: Session) -> list[dict[str, Any]]:
    """Chain and write this transaction's pending events; returns them as written.

    Flows call it as their last step, so that what they return already shows their events;
    it also runs as a ``before_commit`` hook, so that no recorded event is ever left behind.
    On PostgreSQL moving the head locks it until the transaction ends: call it last. It runs
    on every state change, so it works with statements built once, on the connection, and
    usually in two statements: move the head from where this process last saw it, insert.
    """
    pending: list[PendingEvent] | None = session.info.pop(_PENDING, None)
    if not pending:
        return []
    session.flush()  # rows the ORM holds must exist before events that point at them
    database = id(session.get_bind().engine)  # a kept connection's too (db._Held)
    guess = _last_head.get(database)
    rows: list[dict[str, Any]] = []
    if guess is not None:
        rows = _link(pending, *guess)
        moved = _MOVE_HEAD.run(
            session,
            {"old_seq": guess[0], "new_seq": rows[-1]["seq"], "new_hash": rows[-1]["hash"]},
        )
        if moved != 1:
            rows = []
    if not rows:
        found = _HEAD.first(session)
        if found is None:
            session.execute(insert(ChainHead).values(id=1, seq=0, hash=GENESIS_HASH))
        seq, prev = (found[0], found[1]) if found is not None else (0, GENESIS_HASH)
        rows = _link(pending, seq, prev)
        _MOVE_HEAD.run(
            session,
            {"old_seq": seq, "new_seq": rows[-1]["seq"], "new_hash": rows[-1]["hash"]},
        )
    _INSERT.run_many(session, rows)
    _last_head[database] = (rows[-1]["seq"], rows[-1]["hash"])
    return rows


def discard_pending(session: Session) -> None:
    """Drop queued events after a rollback, so they never attach to a later commit."""
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain."""

    checked: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every link in order and report the first one that does not hold."""
    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for ev in session.scalars(select(Event).order_by(Event.seq).execution_options(yield_per=batch)):
        if ev.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"event {expected_seq} is missing")
        if ev.prev_hash != prev:
            return ChainReport(checked, ev.seq, "previous-hash link does not match")
        recomputed = digest(
            seq=ev.seq,
            at=ev.at,
            actor_id=ev.actor_id,
            actor=ev.actor,
            kind=ev.kind,
            declaration_id=ev.declaration_id,
            inquiry_id=ev.inquiry_id,
            before=ev.before,
            after=ev.after,
            data=ev.data,
            prev_hash=ev.prev_hash,
        )
        if recomputed != ev.hash:
            return ChainReport(checked, ev.seq, "content does not match its hash")
        prev, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    head = session.get(ChainHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(checked, checked + 1, "events after the last one were removed")
    return ChainReport(checked)
