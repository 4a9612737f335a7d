"""Escalations: the agency's escalated inquiries (level, acknowledged or not, who holds them),
and what people do about them — acknowledge (the agency's officers and head), reassign to one
of the agency's officers (the head), escalate by hand with a reason (the head, supervisors).

The rules are ``panjereh.escalation.flows``'s; each action is one transaction, run once per
form token, and brings the user back to where they acted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from panjereh.auth.models import AGENCY_ROLES, Role
from panjereh.errors import DomainError
from panjereh.escalation import flows
from panjereh.idempotency.service import Outcome
from panjereh.web import queries
from panjereh.web.admin_forms import AssignForm, EscalateForm
from panjereh.web.core import PageDep, WebRoute, safe_next
from panjereh.web.deadlines import Calendars
from panjereh.web.pages.agency import MAX_PAGE, QUEUE_ROLES, render_inquiry

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 50


@router.get("/escalations")
def escalations(
    page: PageDep,
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
    agency: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Open inquiries that climbed the ladder, highest level first."""
    principal = page.require(*QUEUE_ROLES)
    if principal.role in AGENCY_ROLES:
        agency = principal.agency_code
    rows, total = queries.escalations(
        session=page.db,
        principal=principal,
        agency=agency or None,
        offset=(page_number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    calendars = Calendars(page.db)
    entries = [
        {
            "row": row,
            "left": calendars.left(
                agency_code=row.agency_code,
                province=row.province,
                due_at=row.due_at,
                now=page.now,
                tz=page.lang.tz,
            ),
        }
        for row in rows
    ]
    return page.render(
        "agency/escalations.html",
        entries=entries,
        total=total,
        page_number=page_number,
        pages=max(1, -(-total // PAGE_SIZE)),
        agency=agency or "",
        agency_fixed=principal.role in AGENCY_ROLES,
        agencies=queries.agencies(session=page.db),
        types=queries.inquiry_types(session=page.db),
        assignees=queries.usernames(
            session=page.db, ids=[r.assigned_to for r in rows if r.assigned_to]
        ),
        can_acknowledge=principal.role in AGENCY_ROLES,
    )


@router.post("/inquiries/{inquiry_id}/acknowledge")
async def acknowledge(page: PageDep, inquiry_id: int) -> Response:
    """The agency has seen the escalation and is on it."""
    principal = page.require(Role.OFFICER, Role.AGENCY_HEAD)
    posted = await page.form()

    def action() -> Outcome:
        flows.acknowledge(session=page.db, principal=principal, inquiry_id=inquiry_id, at=page.now)
        return Outcome(200, {"inquiry_id": inquiry_id})

    page.once(
        principal, posted, path=f"/inquiries/{inquiry_id}/acknowledge", body=b"", action=action
    )
    back = safe_next(str(posted.get("next", "")), f"/inquiries/{inquiry_id}")
    return page.redirect(
        back,
        flash=page._("Escalation of inquiry %(id)s acknowledged.")
        % {"id": page.lang.digits(inquiry_id)},
    )


@router.post("/inquiries/{inquiry_id}/assign")
async def assign(page: PageDep, inquiry_id: int) -> Response:
    """The agency head gives the inquiry to one of the agency's officers."""
    principal = page.require(Role.AGENCY_HEAD)
    posted = await page.form()
    form = AssignForm.read(posted)
    choice = form.validate(page.lang)
    if choice is not None:

        def action() -> Outcome:
            flows.assign(
                session=page.db,
                principal=principal,
                inquiry_id=inquiry_id,
                officer=choice.officer,
                at=page.now,
            )
            return Outcome(200, {"inquiry_id": inquiry_id, "officer": choice.officer})

        try:
            page.once(
                principal,
                posted,
                path=f"/inquiries/{inquiry_id}/assign",
                body=choice.model_dump_json().encode(),
                action=action,
            )
        except DomainError as error:
            if not error.errors or error.errors[0].field != "officer":
                raise
            page.db.rollback()
            form.refused(error, page.lang)
        else:
            return page.redirect(
                f"/inquiries/{inquiry_id}",
                flash=page._("Inquiry %(id)s is now with %(officer)s; they were notified.")
                % {"id": page.lang.digits(inquiry_id), "officer": choice.officer},
            )
    return render_inquiry(page, inquiry_id, assign_form=form, status_code=422)


@router.post("/inquiries/{inquiry_id}/escalate")
async def escalate(page: PageDep, inquiry_id: int) -> Response:
    """Send the inquiry straight to the national supervisor, with a reason."""
    principal = page.require(Role.AGENCY_HEAD, Role.SUPERVISOR)
    posted = await page.form()
    form = EscalateForm.read(posted)
    body = form.validate(page.lang)
    if body is None:
        return render_inquiry(page, inquiry_id, escalate_form=form, status_code=422)

    def action() -> Outcome:
        flows.escalate(
            session=page.db,
            principal=principal,
            inquiry_id=inquiry_id,
            reason=body.reason,
            at=page.now,
        )
        return Outcome(200, {"inquiry_id": inquiry_id})

    page.once(
        principal,
        posted,
        path=f"/inquiries/{inquiry_id}/escalate",
        body=body.model_dump_json().encode(),
        action=action,
    )
    return page.redirect(
        f"/inquiries/{inquiry_id}",
        flash=page._("Inquiry %(id)s was escalated to the national supervisor.")
        % {"id": page.lang.digits(inquiry_id)},
    )
