"""The administrator's pages: the overview; users and roles (create, deactivate, reactivate);
agencies with their calendars and connection settings, and webhook subscriptions.

Rule sets and escalation policies are in ``admin_rules``, calendars in ``admin_calendars``.
Every change goes through the services' own functions (``auth.service.create_user`` and
``set_active``, ``notifications.service.add_webhook`` and ``remove_webhook``), in one
transaction per request, run once per form token.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from panjereh.auth import service as auth
from panjereh.auth.models import PERSON_ROLES, Role
from panjereh.calendars import service as calendars
from panjereh.errors import DomainError
from panjereh.idempotency.service import Outcome
from panjereh.notifications import service as notifications
from panjereh.sla.calendar import TEHRAN
from panjereh.web import queries
from panjereh.web.admin_forms import UserForm, WebhookForm
from panjereh.web.core import Page, PageDep, WebRoute, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

USERS_PAGE_SIZE = 50
MAX_PAGE = 10_000


@router.get("/admin")
def overview(page: PageDep) -> Response:
    """Users, agencies, inquiry types and rule-set versions at a glance."""
    principal = page.require(Role.ADMIN)
    return page.render(
        "admin/overview.html", overview=queries.overview(session=page.db, principal=principal)
    )


# -- users -----------------------------------------------------------------------------------


def _render_users(
    page: Page,
    *,
    form: UserForm | None = None,
    role: str = "",
    search: str = "",
    page_number: int = 1,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = page.require(Role.ADMIN)
    chosen = Role(role) if role in set(Role) else None
    users, total = queries.users_page(
        session=page.db,
        principal=principal,
        role=chosen,
        search=search,
        offset=(page_number - 1) * USERS_PAGE_SIZE,
        limit=USERS_PAGE_SIZE,
    )
    return page.render(
        "admin/users.html",
        status_code=status_code,
        users=users,
        total=total,
        role=chosen.value if chosen else "",
        search=search,
        page_number=page_number,
        pages=max(1, -(-total // USERS_PAGE_SIZE)),
        form=form or UserForm(values={"role": Role.TRADER.value}),
        agencies=queries.agencies(session=page.db),
        roles=list(PERSON_ROLES),
        problem=problem,
    )


@router.get("/admin/users")
def users(
    page: PageDep,
    role: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Users by role and username, and the form to add one."""
    return _render_users(page, role=role, search=q.strip(), page_number=page_number)


@router.post("/admin/users")
async def create_user(page: PageDep) -> Response:
    """Add a user (``auth.service.create_user``: the same rules as the command line)."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()
    form = UserForm.read(posted)
    arguments = form.validate(page.lang, agencies=queries.agencies(session=page.db))
    if arguments is not None:

        def action() -> Outcome:
            user = auth.create_user(session=page.db, at=page.now, by=principal, **arguments)
            return Outcome(201, {"user_id": user.id, "username": user.username})

        try:
            outcome = page.once(
                principal,
                posted,
                path="/admin/users",
                # The fingerprint of the request, never the password itself.
                body=repr(sorted(form.values.items())).encode(),
                action=action,
            )
        except DomainError as error:
            page.db.rollback()
            form.refused(error, page.lang)
        else:
            username = str(outcome.body["username"])
            return page.redirect(
                "/admin/users?" + urlencode({"q": username}),
                flash=page._("User %(name)s created.") % {"name": username},
            )
    return _render_users(page, form=form, status_code=422)


@router.post("/admin/users/{user_id}/active")
async def set_active(page: PageDep, user_id: int) -> Response:
    """Deactivate (signing the user out everywhere) or reactivate an account."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()
    active = posted.get("active") == "true"

    def action() -> Outcome:
        user = auth.set_active(
            session=page.db, principal=principal, user_id=user_id, active=active, at=page.now
        )
        return Outcome(200, {"username": user.username, "active": user.is_active})

    back = safe_next(str(posted.get("next", "")), "/admin/users")
    try:
        outcome = page.once(
            principal,
            posted,
            path=f"/admin/users/{user_id}/active",
            body=b"true" if active else b"false",
            action=action,
        )
    except DomainError as error:
        if not error.errors:
            raise
        page.db.rollback()
        return _render_users(
            page,
            problem=page._("You cannot deactivate your own account."),
            status_code=422,
        )
    name = str(outcome.body["username"])
    message = (
        page._("%(name)s can sign in again.")
        if active
        else page._("%(name)s is deactivated and signed out everywhere.")
    )
    return page.redirect(back, flash=message % {"name": name})


# -- agencies and webhooks ---------------------------------------------------------------------


def _render_agencies(
    page: Page,
    *,
    form: WebhookForm | None = None,
    secret: tuple[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = page.require(Role.ADMIN)
    agencies = queries.agencies(session=page.db)
    today = page.now.astimezone(TEHRAN).date()
    weeks: dict[str, Any] = {}
    for code in agencies:
        calendar = calendars.calendar_for(session=page.db, agency_code=code, province=None)
        weeks[code] = calendar.week_on(today)
    changes: dict[str, int] = {}
    for change in calendars.working_weeks(session=page.db):
        changes[change.agency_code] = changes.get(change.agency_code, 0) + 1
    hooks = notifications.webhooks(session=page.db, principal=principal)
    return page.render(
        "admin/agencies.html",
        status_code=status_code,
        agencies=agencies,
        weeks=weeks,
        week_changes=changes,
        types=sorted(
            queries.inquiry_types(session=page.db).values(), key=lambda t: (t.agency_code, t.code)
        ),
        webhooks=hooks,
        form=form or WebhookForm(),
        secret=secret,
    )


@router.get("/admin/agencies")
def agencies(page: PageDep) -> Response:
    """Agencies: names, weekend and hours in force, inquiry types, connection settings."""
    return _render_agencies(page)


@router.post("/admin/webhooks")
async def add_webhook(page: PageDep) -> Response:
    """Subscribe an address to an agency's escalation notices (or the national ones); the
    signing secret is shown once, on the page that answers."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()
    form = WebhookForm.read(posted)
    chosen = form.validate(page.lang, agencies=queries.agencies(session=page.db))
    if chosen is not None:
        agency, url = chosen
        created: dict[str, Any] = {}

        def action() -> Outcome:
            hook, secret = notifications.add_webhook(
                session=page.db, principal=principal, agency_code=agency, url=url, at=page.now
            )
            created["secret"] = (hook.id, secret)
            # The stored answer (for a retried request) never holds the secret.
            return Outcome(201, {"webhook_id": hook.id})

        try:
            outcome = page.once(
                principal,
                posted,
                path="/admin/webhooks",
                body=f"{agency or ''} {url}".encode(),
                action=action,
            )
        except DomainError as error:
            page.db.rollback()
            form.refused(error, page.lang)
        else:
            if outcome.replayed or "secret" not in created:
                return page.redirect(
                    "/admin/agencies",
                    flash=page._("This subscription was already added; its secret was shown then."),
                )
            return _render_agencies(page, secret=created["secret"])
    return _render_agencies(page, form=form, status_code=422)


@router.post("/admin/webhooks/{webhook_id}/remove")
async def remove_webhook(page: PageDep, webhook_id: int) -> Response:
    """Unsubscribe an address; notices already queued for it are dropped."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()

    def action() -> Outcome:
        notifications.remove_webhook(session=page.db, principal=principal, webhook_id=webhook_id)
        return Outcome(200, {"webhook_id": webhook_id})

    page.once(
        principal, posted, path=f"/admin/webhooks/{webhook_id}/remove", body=b"", action=action
    )
    return page.redirect(
        "/admin/agencies",
        flash=page._("Webhook %(id)s removed.") % {"id": page.lang.digits(webhook_id)},
    )
