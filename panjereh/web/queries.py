"""Read-only queries the pages need that the services do not offer yet.

Each keeps the services' access rules (and says which); they belong in the domain services
and are kept here only until they move there:

- :func:`agency_queue` → ``inquiries.service.queue`` (adds the overdue filter, the open-states
  filter and the declaration's facts in the same query);
- :func:`items_of` → ``declarations.service``;
- :func:`recent_updates` → ``declarations.service`` (a trader's notifications);
- :func:`overview` → ``auth.service`` / ``agencies.service`` (the administrator's overview);
- :func:`users_page`, :func:`agency_officers`, :func:`usernames` → ``auth.service``;
- :func:`escalations` → ``escalation.service`` (the agency's escalated inquiries);
- :func:`unread_count` → ``notifications.service`` (the header's unread count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency, InquiryType
from panjereh.audit.models import Event
from panjereh.auth.models import AGENCY_ROLES, Role, User
from panjereh.auth.principal import Principal
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.errors import Forbidden
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES, InquiryState
from panjereh.notifications.models import Notification
from panjereh.rules import service as rules
from panjereh.rules.models import RuleSetRecord


class QueueFilter(StrEnum):
    """Which inquiries a queue shows."""

    TO_ANSWER = "awaiting_answer"
    OPEN = "open"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class QueueRow:
    """An inquiry in a queue, with the facts of its declaration shown beside it."""

    id: int
    declaration_id: int
    inquiry_type: str
    agency_code: str
    state: str
    item_lines: list[int]
    received_at: datetime
    due_at: datetime
    kind: str
    customs_office: str
    province: str

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def _queue_agency(principal: Principal, agency: str | None) -> str | None:
    """The agency whose queue the caller may see (the rule of ``inquiries.service.queue``)."""
    if principal.role in AGENCY_ROLES:
        if agency is not None and agency != principal.agency_code:
            raise Forbidden("officers see only their own agency's queue")
        return principal.agency_code
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("the inquiry queue is for agencies and supervisors")
    return agency


def agency_queue(
    *,
    session: Session,
    principal: Principal,
    agency: str | None,
    show: QueueFilter,
    overdue_at: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[QueueRow], int]:
    """A page of an agency's queue, soonest deadline first, and how many match in all.

    ``overdue_at``: only open inquiries whose deadline passed before that instant. Two
    statements whatever the page size: one count, one page (joined to its declarations);
    both walk the (agency, state, due_at) index.
    """
    agency = _queue_agency(principal, agency)
    conditions = []
    if agency is not None:
        conditions.append(Inquiry.agency_code == agency)
    if overdue_at is not None:
        conditions.append(Inquiry.due_at < overdue_at)
        states = [s.value for s in OPEN_STATES]
        if show in (QueueFilter.TO_ANSWER, QueueFilter.INFO_REQUESTED):
            states = [show.value]
        conditions.append(Inquiry.state.in_(states))
    elif show == QueueFilter.OPEN:
        conditions.append(Inquiry.state.in_([s.value for s in OPEN_STATES]))
    elif show != QueueFilter.ALL:
        conditions.append(Inquiry.state == InquiryState(show.value).value)
    total = session.scalar(select(func.count()).select_from(Inquiry).where(*conditions)) or 0
    rows = session.execute(
        select(
            Inquiry.id,
            Inquiry.declaration_id,
            Inquiry.inquiry_type,
            Inquiry.agency_code,
            Inquiry.state,
            Inquiry.item_lines,
            Inquiry.received_at,
            Inquiry.due_at,
            Declaration.kind,
            Declaration.customs_office,
            Declaration.province,
        )
        .join(Declaration, Declaration.id == Inquiry.declaration_id)
        .where(*conditions)
        .order_by(Inquiry.due_at, Inquiry.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [QueueRow(*row) for row in rows], total


def items_of(
    *, session: Session, declaration_ids: Sequence[int]
) -> dict[int, list[DeclarationItem]]:
    """The items of several declarations in one statement (callers checked access already)."""
    found: dict[int, list[DeclarationItem]] = {i: [] for i in declaration_ids}
    if not declaration_ids:
        return found
    for row in session.scalars(
        select(DeclarationItem)
        .where(DeclarationItem.declaration_id.in_(declaration_ids))
        .order_by(DeclarationItem.declaration_id, DeclarationItem.line_no)
    ):
        found[row.declaration_id].append(row)
    return found


def inquiry_types(*, session: Session) -> dict[str, InquiryType]:
    """Every inquiry type by code (names for the pages)."""
    return {t.code: t for t in session.scalars(select(InquiryType))}


def agencies(*, session: Session) -> dict[str, Agency]:
    """Every agency by code (names and weekends for the pages)."""
    return {a.code: a for a in session.scalars(select(Agency).order_by(Agency.code))}


def recent_updates(
    *, session: Session, principal: Principal, limit: int = 8
) -> list[tuple[Event, str | None]]:
    """What happened lately to a trader's 50 latest declarations that the trader did not do
    themselves, newest first, with the agency of the inquiry it concerns."""
    if principal.role != Role.TRADER or principal.id is None:
        return []
    latest = (
        select(Declaration.id)
        .where(Declaration.trader_id == principal.id)
        .order_by(Declaration.id.desc())
        .limit(50)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Event, Inquiry.agency_code)
        .outerjoin(Inquiry, Inquiry.id == Event.inquiry_id)
        .where(Event.declaration_id.in_(latest))
        .where(Event.actor_id.is_distinct_from(principal.id))
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return [(event, agency) for event, agency in rows]


@dataclass(frozen=True)
class Overview:
    """What an administrator sees at a glance."""

    users: list[User]
    user_count: int
    users_by_role: dict[str, int]
    agencies: list[Agency]
    inquiry_types: list[InquiryType]
    rule_sets: list[RuleSetRecord]


def overview(*, session: Session, principal: Principal, user_limit: int = 200) -> Overview:
    """Users, agencies, inquiry types and rule-set versions (administrators only)."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators see the system overview")
    by_role = {
        role: int(count)
        for role, count in session.execute(select(User.role, func.count()).group_by(User.role))
    }
    return Overview(
        users=list(
            session.scalars(select(User).order_by(User.role, User.username).limit(user_limit))
        ),
        user_count=sum(by_role.values()),
        users_by_role=by_role,
        agencies=list(session.scalars(select(Agency).order_by(Agency.code))),
        inquiry_types=list(
            session.scalars(select(InquiryType).order_by(InquiryType.agency_code, InquiryType.code))
        ),
        rule_sets=rules.list_versions(session=session),
    )


# -- administrators, escalations and the inbox --------------------------------------------


def users_page(
    *,
    session: Session,
    principal: Principal,
    role: Role | None,
    search: str,
    offset: int,
    limit: int,
) -> tuple[list[User], int]:
    """A page of users by role and username (administrators only), and how many match."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators manage users")
    conditions = []
    if role is not None:
        conditions.append(User.role == role.value)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(User.username.like(f"{escaped}%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    rows = session.scalars(
        select(User).where(*conditions).order_by(User.username).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def agency_officers(*, session: Session, agency_code: str) -> list[User]:
    """The active officers of an agency, by username (whom an agency head may assign)."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.role == Role.OFFICER.value,
                User.agency_code == agency_code,
                User.is_active,
            )
            .order_by(User.username)
        )
    )


def usernames(*, session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Usernames by id, in one statement."""
    if not ids:
        return {}
    return {
        uid: name
        for uid, name in session.execute(
            select(User.id, User.username).where(User.id.in_(sorted(set(ids))))
        )
    }


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """An open inquiry that has climbed the ladder, with who holds it."""

    id: int
    declaration_id: int
    inquiry_type: str
    agency_code: str
    state: str
    due_at: datetime
    province: str
    escalation_level: int
    acknowledged_at: datetime | None
    assigned_to: int | None


def escalations(
    *, session: Session, principal: Principal, agency: str | None, offset: int, limit: int
) -> tuple[list[EscalationRow], int]:
    """Open inquiries with an escalation level above zero, highest level and oldest deadline
    first, and how many there are; agency staff see their own agency only (the queue's rule)."""
    agency = _queue_agency(principal, agency)
    conditions = [
        Inquiry.state.in_([s.value for s in OPEN_STATES]),
        Inquiry.escalation_level > 0,
    ]
    if agency is not None:
        conditions.append(Inquiry.agency_code == agency)
    total = session.scalar(select(func.count()).select_from(Inquiry).where(*conditions)) or 0
    rows = session.execute(
        select(
            Inquiry.id,
            Inquiry.declaration_id,
            Inquiry.inquiry_type,
            Inquiry.agency_code,
            Inquiry.state,
            Inquiry.due_at,
            Inquiry.province,
            Inquiry.escalation_level,
            Inquiry.acknowledged_at,
            Inquiry.assigned_to,
        )
        .where(*conditions)
        .order_by(Inquiry.escalation_level.desc(), Inquiry.due_at, Inquiry.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [EscalationRow(**row._asdict()) for row in rows], total


UNREAD_CAP = 99
"""The header counts unread notifications up to this many, then shows "99+"."""


def unread_count(*, session: Session, user_id: int) -> int:
    """How many unread notifications the user has, up to ``UNREAD_CAP + 1`` (one bounded
    index range, however full the inbox)."""
    rows = session.scalars(
        select(Notification.id)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .limit(UNREAD_CAP + 1)
    ).all()
    return len(rows)
