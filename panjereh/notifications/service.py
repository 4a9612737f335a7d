"""Who hears about what: turning one notice into outbox jobs, one per channel and recipient.

Every job carries a dedupe key built from the notice's own key (for escalation: inquiry,
cycle and step) plus channel and recipient, so firing a step twice cannot notify twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.auth.models import Role, User
from panjereh.auth.principal import Principal
from panjereh.errors import Forbidden, Invalid, NotFound
from panjereh.escalation.policy import Audience
from panjereh.jobs.models import Job
from panjereh.jobs.queue import NewJob, enqueue
from panjereh.notifications.models import Notification, WebhookSubscription

INBOX, EMAIL, WEBHOOK = "notify.inbox", "notify.email", "notify.webhook"
CHANNEL_KINDS = (INBOX, EMAIL, WEBHOOK)


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell people, in both languages."""

    kind: str
    title_en: str
    title_fa: str
    body_en: str
    body_fa: str
    inquiry_id: int | None = None
    declaration_id: int | None = None
    link: str | None = None


def recipients(session: Session, audience: Iterable[str], agency_code: str | None) -> list[User]:
    """The active users an audience names: an agency's officers or head, or the supervisors."""
    wanted = set(audience)
    conditions: list[ColumnElement[bool]] = []
    if "agency_officers" in wanted and agency_code:
        conditions.append((User.role == Role.OFFICER.value) & (User.agency_code == agency_code))
    if "agency_head" in wanted and agency_code:
        conditions.append((User.role == Role.AGENCY_HEAD.value) & (User.agency_code == agency_code))
    if "supervisor" in wanted:
        conditions.append(User.role == Role.SUPERVISOR.value)
    if not conditions:
        return []
    return list(
        session.scalars(select(User).where(User.is_active, or_(*conditions)).order_by(User.id))
    )


def _webhooks(
    session: Session, audience: set[str], agency_code: str | None
) -> Sequence[WebhookSubscription]:
    scopes = []
    if agency_code and audience & {"agency_officers", "agency_head"}:
        scopes.append(WebhookSubscription.agency_code == agency_code)
    if "supervisor" in audience:
        scopes.append(WebhookSubscription.agency_code.is_(None))
    if not scopes:
        return []
    return session.scalars(select(WebhookSubscription).where(or_(*scopes))).all()


def notify(
    session: Session,
    *,
    audience: Iterable[Audience],
    agency_code: str | None,
    notice: Notice,
    dedupe_key: str,
    at: datetime,
    users: Iterable[User] = (),
) -> int:
    """Queue the notice for everyone the audience names (and any extra ``users``)."""
    wanted: set[str] = set(audience)
    people = {u.id: u for u in [*recipients(session, wanted, agency_code), *users]}
    body = asdict(notice)
    jobs = []
    for user in people.values():
        jobs.append(
            NewJob(
                INBOX,
                f"{dedupe_key}:inbox:{user.id}",
                {"user_id": user.id, "notice": body, "dedupe_key": dedupe_key},
            )
        )
        if user.email:
            jobs.append(
                NewJob(EMAIL, f"{dedupe_key}:email:{user.id}", {"to": user.email, "notice": body})
            )
    for hook in _webhooks(session, wanted, agency_code):
        jobs.append(
            NewJob(
                WEBHOOK,
                f"{dedupe_key}:webhook:{hook.id}",
                {"subscription_id": hook.id, "notice": body, "dedupe_key": dedupe_key},
            )
        )
    return enqueue(session, jobs, at=at)


def inbox(
    *, session: Session, principal: Principal, unread_only: bool, before: int | None, limit: int
) -> Sequence[Notification]:
    """The signed-in user's notifications, newest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == principal.id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    return session.scalars(query).all()


def mark_read(
    *, session: Session, principal: Principal, notification_id: int | None, at: datetime
) -> int:
    """Mark one notification (or, with None, all of them) read; returns how many changed."""
    if notification_id is not None:
        note = session.get(Notification, notification_id)
        if note is None or note.user_id != principal.id:
            raise NotFound(f"notification {notification_id} not found")
    query = (
        update(Notification)
        .where(Notification.user_id == principal.id, Notification.read_at.is_(None))
        .values(read_at=at)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return session.execute(query).rowcount  # type: ignore[attr-defined,no-any-return]


def add_webhook(
    *, session: Session, principal: Principal, agency_code: str | None, url: str, at: datetime
) -> tuple[WebhookSubscription, str]:
    """Subscribe an endpoint to escalation notices (an agency's, or the national ones when
    ``agency_code`` is None); returns it with its signing secret, shown only now."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators manage webhook subscriptions")
    if agency_code is not None and session.get(Agency, agency_code) is None:
        raise Invalid(f"agency {agency_code} does not exist", field="agency_code")
    if not url.startswith(("https://", "http://")):
        raise Invalid("must be an http(s) URL", field="url")
    secret = secrets.token_urlsafe(32)
    hook = WebhookSubscription(agency_code=agency_code, url=url, secret=secret, created_at=at)
    session.add(hook)
    session.flush()
    return hook, secret


def webhooks(*, session: Session, principal: Principal) -> Sequence[WebhookSubscription]:
    """Every webhook subscription (administrators)."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators manage webhook subscriptions")
    return session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()


def remove_webhook(*, session: Session, principal: Principal, webhook_id: int) -> None:
    """Unsubscribe an endpoint; notices already queued for it are dropped when due."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators manage webhook subscriptions")
    hook = session.get(WebhookSubscription, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} not found")
    session.delete(hook)


def report_dead_job(session: Session, job: Job, *, now: datetime) -> None:
    """A notice that could not be delivered is never dropped quietly: the national
    supervisors hear of it in their inbox (which is local, so it cannot fail the same way)."""
    if job.kind == INBOX:
        return
    notice = job.payload.get("notice", {})
    where = job.payload.get("to") or f"webhook {job.payload.get('subscription_id')}"
    title = notice.get("title_en", job.kind)
    dead = Notice(
        kind="delivery.dead",
        title_en=f"Undeliverable notice: {title}",
        title_fa=f"اعلان تحویل‌نشده: {notice.get('title_fa', title)}",
        body_en=f"{job.kind} to {where} failed {job.attempts} times; last error: {job.last_error}",
        body_fa=f"ارسال {job.kind} به {where} پس از {job.attempts} بار ناموفق ماند. "
        f"آخرین خطا: {job.last_error}",
        inquiry_id=notice.get("inquiry_id"),
        declaration_id=notice.get("declaration_id"),
    )
    people = recipients(session, ["supervisor"], None)
    enqueue(
        session,
        [
            NewJob(
                INBOX,
                f"dead:{job.id}:inbox:{u.id}",
                {"user_id": u.id, "notice": asdict(dead), "dedupe_key": f"dead:{job.id}"},
            )
            for u in people
        ],
        at=now,
    )
