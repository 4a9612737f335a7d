"""Reading declarations within what the caller may see, and the fan-in of inquiry states."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from panjereh.audit import chain
from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.declarations.models import (
    OPEN_DECLARATION_STATUSES,
    Declaration,
    DeclarationStatus,
)
from panjereh.declarations.schemas import DeclarationOut, EventOut, InquirySummary, ItemOut
from panjereh.errors import Conflict, Forbidden, NotFound
from panjereh.exchange import messages
from panjereh.exchange.models import MessageKind
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES, InquiryState, declaration_status
from panjereh.statements import Prepared

READ_ALL_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
CLOSED_STATUSES = frozenset(
    {DeclarationStatus.CLEARED, DeclarationStatus.REFUSED, DeclarationStatus.CANCELLED}
)


def _require_declaration_reader(principal: Principal) -> None:
    if principal.role != Role.TRADER and principal.role not in READ_ALL_ROLES:
        raise Forbidden("only traders and supervisors read declarations; officers use inquiries")


def get_visible(
    *,
    session: Session,
    principal: Principal,
    declaration_id: int,
    full: bool = False,
) -> Declaration:
    """The declaration if the caller may see it; 404 otherwise (existence is not disclosed)."""
    _require_declaration_reader(principal)
    query = select(Declaration).where(Declaration.id == declaration_id)
    if full:
        query = query.options(selectinload(Declaration.items), selectinload(Declaration.inquiries))
    declaration = session.scalars(query).first()
    if declaration is None or (
        principal.role == Role.TRADER and declaration.trader_id != principal.id
    ):
        raise NotFound(f"declaration {declaration_id} not found")
    return declaration


def list_visible(
    *,
    session: Session,
    principal: Principal,
    status: DeclarationStatus | None,
    before: int | None,
    limit: int,
) -> Sequence[Declaration]:
    """Declarations the caller may see, newest first, keyset-paginated by id."""
    _require_declaration_reader(principal)
    query = select(Declaration).order_by(Declaration.id.desc()).limit(limit)
    if principal.role == Role.TRADER:
        query = query.where(Declaration.trader_id == principal.id)
    if status is not None:
        query = query.where(Declaration.status == status.value)
    if before is not None:
        query = query.where(Declaration.id < before)
    return session.scalars(query).all()


def timeline(*, session: Session, declaration_id: int) -> Sequence[Event]:
    """Every event of a declaration and its inquiries, oldest first."""
    return session.scalars(
        select(Event).where(Event.declaration_id == declaration_id).order_by(Event.seq)
    ).all()


# Built once: these run on every answer.
_LOCK = Prepared(
    select(Declaration.status, Declaration.version)
    .where(Declaration.id == bindparam("declaration_id"))
    .with_for_update()
)
# The fan-in depends only on which states the inquiries are in.
_STATES = Prepared(
    select(Inquiry.state).where(Inquiry.declaration_id == bindparam("declaration_id")).distinct()
)
_SET_STATUS = Prepared(
    update(Declaration)
    .where(Declaration.id == bindparam("declaration_id"), Declaration.version == bindparam("old"))
    .values(status=bindparam("status"), version=bindparam("new"), closed_at=bindparam("closed"))
)


def lock(*, session: Session, declaration_id: int) -> tuple[str, int]:
    """Lock a declaration for a change that depends on its inquiries; its status and version.

    Answers to two inquiries of one declaration must not both judge the fan-in on a view
    that misses the other (write skew: both "last" approvals would leave it under inquiry).
    The row lock serialises them on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    """
    row = _LOCK.first(session, {"declaration_id": declaration_id})
    if row is None:
        raise NotFound(f"declaration {declaration_id} not found")
    return row.status, row.version


def apply_fan_in(
    *,
    session: Session,
    declaration_id: int,
    locked: tuple[str, int],
    actor: Principal,
    at: datetime,
    states: Iterable[str] | None = None,
) -> DeclarationStatus:
    """Recompute a locked declaration's status from its inquiries, recording any change.

    ``locked`` is what :func:`lock` returned; ``states``, the states its inquiries are in
    now, when the caller read them under the lock (else they are read here). A refusal
    withdraws the inquiries still open: no other answer can clear the goods. Works in SQL
    expressions (it runs on every answer); ORM objects of the declaration and its inquiries
    loaded before the call are stale after.
    """
    session.flush()
    status, version = locked
    before = DeclarationStatus(status)
    if states is None:
        states = [state for (state,) in _STATES.all(session, {"declaration_id": declaration_id})]
    after = declaration_status(
        (InquiryState(state) for state in states),
        cancelled=before == DeclarationStatus.CANCELLED,
    )
    if after == before:
        return before
    if before in CLOSED_STATUSES:
        raise Conflict(f"declaration {declaration_id} is already {before.value}")
    if after == DeclarationStatus.REFUSED:
        withdraw_open(
            session=session,
            declaration_id=declaration_id,
            actor=actor,
            at=at,
            reason="declaration refused: no other answer can clear the goods",
        )
    _set_status(session, declaration_id, version, before, after, actor=actor, at=at)
    return after


def _set_status(
    session: Session,
    declaration_id: int,
    version: int,
    before: DeclarationStatus,
    after: DeclarationStatus,
    *,
    actor: Principal,
    at: datetime,
) -> None:
    changed = _SET_STATUS.run(
        session,
        {
            "declaration_id": declaration_id,
            "old": version,
            "status": after.value,
            "new": version + 1,
            "closed": at if after in CLOSED_STATUSES else None,
        },
    )
    if changed != 1:
        raise Conflict(
            f"declaration {declaration_id} changed at the same moment; retry",
            slug="concurrent-change",
        )
    chain.record(
        session,
        kind=f"declaration.{after.value}",
        at=at,
        actor=actor,
        declaration_id=declaration_id,
        before=before.value,
        after=after.value,
    )


def cancel(*, session: Session, declaration_id: int, actor: Principal, at: datetime) -> None:
    """Cancel an open declaration: lock it, withdraw its open inquiries, close it."""
    status, version = lock(session=session, declaration_id=declaration_id)
    before = DeclarationStatus(status)
    if before not in OPEN_DECLARATION_STATUSES:
        raise Conflict(f"declaration {declaration_id} is {before.value} and cannot be cancelled")
    withdraw_open(
        session=session,
        declaration_id=declaration_id,
        actor=actor,
        at=at,
        reason="declaration cancelled by the trader",
    )
    _set_status(
        session, declaration_id, version, before, DeclarationStatus.CANCELLED, actor=actor, at=at
    )


def withdraw_open(
    *, session: Session, declaration_id: int, actor: Principal, at: datetime, reason: str
) -> None:
    """Withdraw every still-open inquiry of a declaration that no longer needs answers."""
    open_rows = (
        session.execute(
            select(Inquiry.__table__).where(
                Inquiry.declaration_id == declaration_id,
                Inquiry.state.in_([s.value for s in OPEN_STATES]),
            )
        )
        .mappings()
        .all()
    )
    if not open_rows:
        return
    session.execute(
        update(Inquiry)
        .where(Inquiry.id.in_([row["id"] for row in open_rows]))
        .values(
            state=InquiryState.WITHDRAWN.value,
            decided_at=at,
            next_action_at=None,
            trader_due_at=None,
            version=Inquiry.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    for row in open_rows:
        chain.record(
            session,
            kind="inquiry.withdrawn",
            at=at,
            actor=actor,
            declaration_id=declaration_id,
            inquiry_id=row["id"],
            before=row["state"],
            after=InquiryState.WITHDRAWN.value,
            data={"reason": reason},
        )
    messages.tell(
        session,
        [{**row, "state": InquiryState.WITHDRAWN.value} for row in open_rows],
        MessageKind.INQUIRY_WITHDRAWN,
        at=at,
        extra=lambda: {"withdrawn": {"reason": reason, "withdrawn_at": at.isoformat()}},
    )


def detail(*, session: Session, declaration: Declaration) -> DeclarationOut:
    """The full view of a declaration: items, inquiries and timeline."""
    return DeclarationOut(
        id=declaration.id,
        trader_id=declaration.trader_id,
        kind=declaration.kind,
        customs_office=declaration.customs_office,
        province=declaration.province,
        status=declaration.status,
        rule_set_version=declaration.rule_set_version,
        filed_at=declaration.filed_at,
        closed_at=declaration.closed_at,
        items=[ItemOut.model_validate(i) for i in declaration.items],
        inquiries=[InquirySummary.model_validate(i) for i in declaration.inquiries],
        timeline=[
            EventOut.model_validate(e)
            for e in timeline(session=session, declaration_id=declaration.id)
        ],
    )


def get_by_id(*, session: Session, declaration_id: int) -> Declaration:
    """A declaration by id, for callers that already checked access through something else."""
    return session.scalars(
        select(Declaration)
        .where(Declaration.id == declaration_id)
        .options(selectinload(Declaration.items))
    ).one()
