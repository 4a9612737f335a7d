"""Reading declarations within what the caller may see, and the fan-in of inquiry states."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from panjereh.audit import chain
from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.declarations.models import Declaration, DeclarationStatus
from panjereh.declarations.schemas import DeclarationOut, EventOut, InquirySummary, ItemOut
from panjereh.errors import Conflict, Forbidden, NotFound
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import (
    OPEN_STATES,
    Action,
    InquiryState,
    declaration_status,
    next_state,
)

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
    for_update: bool = False,
) -> Declaration:
    """The declaration if the caller may see it; 404 otherwise (existence is not disclosed).

    ``for_update`` locks the row (PostgreSQL) for a change that depends on its inquiries.
    """
    _require_declaration_reader(principal)
    query = select(Declaration).where(Declaration.id == declaration_id)
    if full:
        query = query.options(selectinload(Declaration.items), selectinload(Declaration.inquiries))
    if for_update:
        query = query.with_for_update(of=Declaration).execution_options(populate_existing=True)
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


def apply_fan_in(
    *,
    session: Session,
    declaration: Declaration,
    inquiries: Sequence[Inquiry],
    actor: Principal,
    at: datetime,
) -> None:
    """Recompute the declaration's status from its inquiries, recording any change."""
    before = DeclarationStatus(declaration.status)
    after = declaration_status(
        (InquiryState(i.state) for i in inquiries),
        cancelled=before == DeclarationStatus.CANCELLED,
    )
    if after == before:
        return
    if before in CLOSED_STATUSES:
        raise Conflict(f"declaration {declaration.id} is already {before.value}")
    if after == DeclarationStatus.REFUSED:
        withdraw_open_inquiries(
            session=session,
            inquiries=inquiries,
            actor=actor,
            at=at,
            reason="declaration refused: no other answer can clear the goods",
        )
    declaration.status = after.value
    if after in CLOSED_STATUSES:
        declaration.closed_at = at
    chain.record(
        session,
        kind=f"declaration.{after.value}",
        at=at,
        actor=actor,
        declaration_id=declaration.id,
        before=before.value,
        after=after.value,
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


def withdraw_open_inquiries(
    *, session: Session, inquiries: Sequence[Inquiry], actor: Principal, at: datetime, reason: str
) -> None:
    """Withdraw every still-open inquiry of a declaration that no longer needs answers."""
    for inquiry in inquiries:
        state = InquiryState(inquiry.state)
        if state not in OPEN_STATES:
            continue
        inquiry.state = next_state(state, Action.WITHDRAW).value
        inquiry.decided_at = at
        inquiry_clock.stop(inquiry)
        chain.record(
            session,
            kind="inquiry.withdrawn",
            at=at,
            actor=actor,
            declaration_id=inquiry.declaration_id,
            inquiry_id=inquiry.id,
            before=state.value,
            after=inquiry.state,
            data={"reason": reason},
        )
