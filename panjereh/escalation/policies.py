"""Escalation policies in the store: immutable versions per inquiry type.

An inquiry refers to its ladder by (inquiry type, version); versions are never edited, so a
parsed policy is cached for the life of the process. Every inquiry type has at least one
version: activating a rule set gives each new type the default ladder as version 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from panjereh.agencies.models import InquiryType
from panjereh.audit import chain
from panjereh.auth.principal import Principal
from panjereh.errors import Conflict, NotFound
from panjereh.escalation.models import EscalationPolicyRecord
from panjereh.escalation.policy import DEFAULT_POLICY, EscalationPolicy
from panjereh.statements import Prepared

_parsed: dict[tuple[str, int], EscalationPolicy] = {}
_ACTIVE = Prepared(
    select(EscalationPolicyRecord.inquiry_type, EscalationPolicyRecord.version).where(
        EscalationPolicyRecord.is_active
    )
)


def _remember(record: EscalationPolicyRecord) -> EscalationPolicy:
    key = (record.inquiry_type, record.version)
    policy = _parsed.get(key)
    if policy is None:
        parsed = EscalationPolicy.model_validate(record.document)
        # Types with the same ladder share one object (a filing computes each ladder once).
        same = next((p for p in _parsed.values() if p == parsed), None)
        policy = _parsed[key] = same or parsed
    return policy


def policy_for(*, session: Session, inquiry_type: str, version: int) -> EscalationPolicy:
    """The ladder an inquiry of ``inquiry_type`` took at creation (version ``version``)."""
    policy = _parsed.get((inquiry_type, version))
    if policy is None:
        record = session.scalars(
            select(EscalationPolicyRecord).where(
                EscalationPolicyRecord.inquiry_type == inquiry_type,
                EscalationPolicyRecord.version == version,
            )
        ).first()
        if record is None:
            raise Conflict(f"escalation policy {inquiry_type} v{version} is missing")
        policy = _remember(record)
    return policy


def active_policies(
    *, session: Session, inquiry_types: Iterable[str]
) -> dict[str, tuple[int, EscalationPolicy]]:
    """The active ladder (version, policy) of each of the inquiry types."""
    wanted = set(inquiry_types)
    if not wanted:
        return {}
    # All active versions at once (one short row per inquiry type): cheaper than an IN list.
    rows = _ACTIVE.all(session)
    found = {
        kind: (version, policy_for(session=session, inquiry_type=kind, version=version))
        for kind, version in rows
        if kind in wanted
    }
    missing = wanted - set(found)
    if missing:
        raise Conflict(f"no active escalation policy for {', '.join(sorted(missing))}")
    return found


def versions(*, session: Session, inquiry_type: str) -> list[EscalationPolicyRecord]:
    """Every stored version of an inquiry type's ladder, newest first."""
    return list(
        session.scalars(
            select(EscalationPolicyRecord)
            .where(EscalationPolicyRecord.inquiry_type == inquiry_type)
            .order_by(EscalationPolicyRecord.version.desc())
        )
    )


def add_version(
    *, session: Session, inquiry_type: str, policy: EscalationPolicy, by: str, at: datetime
) -> EscalationPolicyRecord:
    """Store ``policy`` as the next version for ``inquiry_type`` and make it active."""
    if session.get(InquiryType, inquiry_type) is None:
        raise NotFound(f"inquiry type {inquiry_type} does not exist", field="inquiry_type")
    latest = (
        session.scalar(
            select(func.max(EscalationPolicyRecord.version)).where(
                EscalationPolicyRecord.inquiry_type == inquiry_type
            )
        )
        or 0
    )
    session.execute(
        update(EscalationPolicyRecord)
        .where(EscalationPolicyRecord.inquiry_type == inquiry_type)
        .values(is_active=False)
    )
    record = EscalationPolicyRecord(
        inquiry_type=inquiry_type,
        version=latest + 1,
        document=policy.model_dump(mode="json"),
        is_active=True,
        created_at=at,
        created_by=by,
    )
    session.add(record)
    session.flush()
    chain.record(
        session,
        kind="policy.versioned",
        at=at,
        actor=Principal(id=None, username=by, role=None),
        data={"inquiry_type": inquiry_type, "version": record.version, "policy": record.document},
    )
    return record


def ensure_defaults(*, session: Session, inquiry_types: Iterable[str], at: datetime) -> None:
    """Give every inquiry type without a ladder the default one, as version 1."""
    have = set(session.scalars(select(EscalationPolicyRecord.inquiry_type).distinct()))
    for kind in sorted(set(inquiry_types) - have):
        add_version(session=session, inquiry_type=kind, policy=DEFAULT_POLICY, by="system", at=at)
