"""Messages to agencies' systems, written in the transaction of the change they tell of.

A change that an agency's system must hear of (a new inquiry, the trader's reply, a
withdrawal) writes one message per connected agency; for an agency connected by push it also
writes one outbox job. So a message exists exactly when its change does, and nothing leaves
the process before commit. Agencies without a connection work in the web pages: nothing is
written for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from panjereh.exchange.models import AgencyConnection, AgencyMessage, MessageKind, Mode
from panjereh.jobs.models import Job, JobState
from panjereh.statements import Prepared

AGENCY_PUSH = "agency.push"
# Pushes are retried for longer than notices (about five hours with the backoff's cap, 2.5 to
# 7.5 with its jitter) before the delivery is declared dead and escalated.
PUSH_ATTEMPTS = 20
MESSAGES: Table = AgencyMessage.__table__  # type: ignore[assignment]
JOBS: Table = Job.__table__  # type: ignore[assignment]


# Read on every filing: every connection at once (a short row per connected agency).
_CONNECTIONS = Prepared(select(AgencyConnection.agency_code, AgencyConnection.mode))


def connected(session: Session, agencies: Iterable[str]) -> dict[str, str]:
    """The connection mode of each of ``agencies`` that has a system connected."""
    wanted = set(agencies)
    if not wanted:
        return {}
    rows = _CONNECTIONS.all(session)
    return {code: mode for code, mode in rows if code in wanted}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def inquiry_part(row: Mapping[str, Any]) -> dict[str, Any]:
    """What every message says of its inquiry."""
    return {
        "id": row["id"],
        "declaration_id": row["declaration_id"],
        "inquiry_type": row["inquiry_type"],
        "state": row["state"],
        "due_at": _plain(row["due_at"]),
        "sla_business_days": row["sla_business_days"],
        "rule_codes": row["rule_codes"],
        "reason_en": row["reason_en"],
        "reason_fa": row["reason_fa"],
        "item_lines": row["item_lines"],
        "decision_url": f"/api/v1/inquiries/{row['id']}/decision",
    }


def declaration_part(
    declaration: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The goods a new inquiry concerns, as the trader declared them."""
    return {
        "id": declaration["id"],
        "kind": declaration["kind"],
        "customs_office": declaration["customs_office"],
        "province": declaration["province"],
        "filed_at": _plain(declaration["filed_at"]),
        "items": [
            {
                k: _plain(i[k])
                for k in (
                    "line_no",
                    "hs_code",
                    "description",
                    "origin_country",
                    "quantity",
                    "unit",
                    "value",
                    "currency",
                )
            }
            for i in items
        ],
    }


def write(
    session: Session,
    modes: Mapping[str, str],
    messages: Sequence[tuple[str, MessageKind, int, dict[str, Any]]],
    *,
    at: datetime,
) -> int:
    """Write (agency, kind, inquiry id, content) messages for the connected agencies among
    them, and a push job for each whose agency takes pushes; returns how many were written."""
    rows: list[dict[str, Any]] = []
    for agency, kind, inquiry_id, content in messages:
        if agency not in modes:
            continue
        message_id = str(uuid.uuid4())
        body = {
            "message_id": message_id,
            "type": kind.value,
            "agency": agency,
            "created_at": at.isoformat(),
            **content,
        }
        rows.append(
            {
                "message_id": message_id,
                "agency_code": agency,
                "kind": kind.value,
                "inquiry_id": inquiry_id,
                "body": body,
                "created_at": at,
                "first_attempt_at": None,
                "delivered_at": None,
                "attempts": 0,
                "last_error": None,
                "dead_at": None,
            }
        )
    if not rows:
        return 0
    ids = (
        session.execute(
            insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True), rows
        )
        .scalars()
        .all()
    )
    pushes = [
        push_job(row_id, row["message_id"], at)
        for row, row_id in zip(rows, ids, strict=True)
        if modes[row["agency_code"]] == Mode.PUSH
    ]
    if pushes:
        session.execute(insert(JOBS), pushes)
    return len(rows)


def awaiting_first_push(session: Session, inquiry_id: int) -> bool:
    """Whether the inquiry's agency takes pushes and has not yet been tried with it: until
    then the inquiry is not received and its clock has not started."""
    waiting = session.scalar(
        select(AgencyMessage.id)
        .join(AgencyConnection, AgencyConnection.agency_code == AgencyMessage.agency_code)
        .where(
            AgencyMessage.inquiry_id == inquiry_id,
            AgencyMessage.kind == MessageKind.INQUIRY_CREATED.value,
            AgencyMessage.first_attempt_at.is_(None),
            AgencyConnection.mode == Mode.PUSH.value,
        )
        .limit(1)
    )
    return waiting is not None


def push_job(row_id: int, message_id: str, at: datetime) -> dict[str, Any]:
    """The outbox row that pushes one message (its dedupe key is the message's own id)."""
    return {
        "kind": AGENCY_PUSH,
        "dedupe_key": f"push:{message_id}",
        "payload": {"message": row_id},
        "state": JobState.PENDING.value,
        "attempts": 0,
        "max_attempts": PUSH_ATTEMPTS,
        "next_attempt_at": at,
        "created_at": at,
    }


def row_of(inquiry: object) -> dict[str, Any]:
    """A stored inquiry (ORM object) as the plain row :func:`inquiry_part` reads."""
    table: Table = inquiry.__table__  # type: ignore[attr-defined]
    return {c.key: getattr(inquiry, c.key) for c in table.columns}


def tell(
    session: Session,
    inquiries: Sequence[Mapping[str, Any]],
    kind: MessageKind,
    *,
    at: datetime,
    extra: Callable[[], Mapping[str, Any]] | None = None,
) -> int:
    """Tell each inquiry's agency (if its system is connected) of a change to the inquiry;
    ``extra`` builds what the messages say besides the inquiry (only if one is written)."""
    modes = connected(session, (i["agency_code"] for i in inquiries))
    if not modes:
        return 0
    content = dict(extra() if extra else {})
    return write(
        session,
        modes,
        [
            (i["agency_code"], kind, i["id"], {"inquiry": inquiry_part(i), **content})
            for i in inquiries
        ],
        at=at,
    )
