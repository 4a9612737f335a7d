"""Reading inquiries within what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.auth.models import ANSWERING_ROLES, Role
from panjereh.auth.principal import Principal
from panjereh.declarations.models import Declaration
from panjereh.errors import Forbidden, NotFound
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState


def get_visible(*, session: Session, principal: Principal, inquiry_id: int) -> Inquiry:
    """The inquiry if the caller may see it; 404 otherwise.

    Officers and agency heads see their agency's inquiries, traders the inquiries of their own
    declarations, supervisors and administrators every inquiry.
    """
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None:
        raise NotFound(f"inquiry {inquiry_id} not found")
    if principal.role in ANSWERING_ROLES:
        visible = inquiry.agency_code == principal.agency_code
    elif principal.role == Role.TRADER:
        owner = session.scalar(
            select(Declaration.trader_id).where(Declaration.id == inquiry.declaration_id)
        )
        visible = owner == principal.id
    else:
        visible = principal.role in (Role.SUPERVISOR, Role.ADMIN)
    if not visible:
        raise NotFound(f"inquiry {inquiry_id} not found")
    return inquiry


def queue(
    *,
    session: Session,
    principal: Principal,
    state: InquiryState | None,
    agency: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[Inquiry], int]:
    """An agency's inquiries, soonest deadline first, and how many there are in all.

    Officers and heads see their own agency's queue; supervisors and administrators may pick an
    agency or see all; traders follow their inquiries through their declarations.
    """
    if principal.role in ANSWERING_ROLES:
        if agency is not None and agency != principal.agency_code:
            raise Forbidden("officers see only their own agency's queue")
        agency = principal.agency_code
    elif principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("the inquiry queue is for agencies and supervisors")
    conditions = []
    if agency is not None:
        conditions.append(Inquiry.agency_code == agency)
    if state is not None:
        conditions.append(Inquiry.state == state.value)
    total = session.scalar(select(func.count()).select_from(Inquiry).where(*conditions)) or 0
    rows = session.scalars(
        select(Inquiry)
        .where(*conditions)
        .order_by(Inquiry.due_at, Inquiry.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return rows, total
