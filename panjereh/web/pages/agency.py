"""The agency's pages: the queue (soonest deadline first, overdue highlighted, filtered,
paginated), the overdue list, and an inquiry with its goods, history and the decision form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from panjereh.auth.models import AGENCY_ROLES, Role
from panjereh.declarations import service as declarations
from panjereh.idempotency.service import Outcome, run_once
from panjereh.inquiries import flows, service
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES, InquiryState
from panjereh.web import queries
from panjereh.web.admin_forms import AssignForm, EscalateForm
from panjereh.web.clock import clock_panel
from panjereh.web.core import Page, PageDep, WebRoute
from panjereh.web.deadlines import Calendars
from panjereh.web.forms import DecisionForm
from panjereh.web.i18n import N_
from panjereh.web.queries import QueueFilter

router = APIRouter(route_class=WebRoute, include_in_schema=False)

QUEUE_PAGE_SIZE = 50
MAX_PAGE = 10_000
QUEUE_ROLES = (Role.OFFICER, Role.AGENCY_HEAD, Role.SUPERVISOR, Role.ADMIN)
DECIDED = {
    "approve": N_("Inquiry %(id)s approved."),
    "reject": N_("Inquiry %(id)s rejected; the trader sees your reason."),
    "request_info": N_("Inquiry %(id)s: the trader was asked for information."),
}


def _queue(
    page: Page,
    *,
    show: str,
    overdue: bool,
    page_number: int,
    agency: str | None,
    template: str,
) -> Response:
    principal = page.require(*QUEUE_ROLES)
    chosen = QueueFilter(show) if show in set(QueueFilter) else QueueFilter.TO_ANSWER
    if principal.role in AGENCY_ROLES:
        agency = principal.agency_code
    rows, total = queries.agency_queue(
        session=page.db,
        principal=principal,
        agency=agency or None,
        show=chosen,
        overdue_at=page.now if overdue else None,
        offset=(page_number - 1) * QUEUE_PAGE_SIZE,
        limit=QUEUE_PAGE_SIZE,
    )
    agencies = queries.agencies(session=page.db)
    items = queries.items_of(
        session=page.db, declaration_ids=sorted({r.declaration_id for r in rows})
    )
    calendars = Calendars(page.db)
    entries = []
    for row in rows:
        lines = set(row.item_lines)
        left = None
        if row.state == InquiryState.AWAITING_ANSWER:
            left = calendars.left(
                agency_code=row.agency_code,
                province=row.province,
                due_at=row.due_at,
                now=page.now,
                tz=page.lang.tz,
            )
        entries.append(
            {
                "row": row,
                "goods": [i for i in items.get(row.declaration_id, []) if i.line_no in lines],
                "left": left,
            }
        )
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    return page.render(
        template,
        entries=entries,
        total=total,
        show=chosen.value,
        overdue=overdue,
        page_number=page_number,
        pages=pages,
        page_size=QUEUE_PAGE_SIZE,
        agency=agency or "",
        agency_fixed=principal.role in AGENCY_ROLES,
        agencies=agencies,
        types=queries.inquiry_types(session=page.db),
        filters=list(QueueFilter),
    )


@router.get("/queue")
def queue(
    page: PageDep,
    show: Annotated[str, Query()] = QueueFilter.TO_ANSWER.value,
    overdue: Annotated[bool, Query()] = False,
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
    agency: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The agency's inquiries, soonest deadline first; supervisors may pick an agency."""
    return _queue(
        page,
        show=show,
        overdue=overdue,
        page_number=page_number,
        agency=agency,
        template="agency/queue.html",
    )


@router.get("/overdue")
def overdue_list(
    page: PageDep,
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
    agency: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Open inquiries past their deadline: the agency head's list (all agencies for a
    supervisor, or one)."""
    return _queue(
        page,
        show=QueueFilter.OPEN.value,
        overdue=True,
        page_number=page_number,
        agency=agency,
        template="agency/overdue.html",
    )


def _can_decide(page: Page, inquiry: Inquiry) -> bool:
    principal = page.principal
    return (
        principal is not None
        and principal.role in AGENCY_ROLES
        and principal.agency_code == inquiry.agency_code
        and inquiry.state == InquiryState.AWAITING_ANSWER
    )


def _escalation_context(page: Page, inquiry: Inquiry) -> dict[str, Any]:
    """What the escalation card may offer this user (the flows decide; this only hides what
    they would refuse)."""
    principal = page.principal
    role = principal.role if principal else None
    own = (
        principal is not None
        and role in AGENCY_ROLES
        and principal.agency_code == inquiry.agency_code
    )
    is_open = inquiry.state in OPEN_STATES
    can_assign = is_open and own and role == Role.AGENCY_HEAD
    return {
        "can_acknowledge": is_open and own and inquiry.escalation_level > 0,
        "can_assign": can_assign,
        "can_escalate": is_open and ((own and role == Role.AGENCY_HEAD) or role == Role.SUPERVISOR),
        "officers": queries.agency_officers(session=page.db, agency_code=inquiry.agency_code)
        if can_assign
        else [],
    }


def render_inquiry(
    page: Page,
    inquiry_id: int,
    *,
    decision: DecisionForm | None = None,
    confirm: bool = False,
    token: str | None = None,
    status_code: int = 200,
    escalate_form: EscalateForm | None = None,
    assign_form: AssignForm | None = None,
) -> Response:
    """The inquiry page, optionally at the decision's confirmation step or with its errors
    (or the errors of an escalation form)."""
    principal = page.require()
    inquiry = service.get_visible(session=page.db, principal=principal, inquiry_id=inquiry_id)
    if principal.role == Role.TRADER:
        return RedirectResponse(
            f"/declarations/{inquiry.declaration_id}#inquiry-{inquiry.id}", status_code=303
        )
    declaration = declarations.get_by_id(session=page.db, declaration_id=inquiry.declaration_id)
    agencies = queries.agencies(session=page.db)
    agency = agencies[inquiry.agency_code]
    calendars = Calendars(page.db)
    events = [
        e
        for e in declarations.timeline(session=page.db, declaration_id=declaration.id)
        if e.inquiry_id in (None, inquiry.id)
    ]
    context: dict[str, Any] = {
        "inquiry": inquiry,
        "declaration": declaration,
        "agency": agency,
        "type": queries.inquiry_types(session=page.db).get(inquiry.inquiry_type),
        "left": calendars.left(
            agency_code=agency.code,
            province=declaration.province,
            due_at=inquiry.due_at,
            now=page.now,
            tz=page.lang.tz,
        )
        if inquiry.state == InquiryState.AWAITING_ANSWER
        else None,
        "timeline": events,
        "decision": decision or DecisionForm(),
        "confirm": confirm,
        "form_token": token or page.form_token(),
        "can_decide": _can_decide(page, inquiry),
        "agencies": agencies,
    }
    if page.htmx:  # the decision's own fragment
        return page.render("agency/_decision.html", status_code=status_code, **context)
    context.update(
        panel=clock_panel(
            session=page.db,
            inquiry=inquiry,
            now=page.now,
            calendars=calendars,
            usernames=queries.usernames(
                session=page.db, ids=[inquiry.assigned_to] if inquiry.assigned_to else []
            ),
        ),
        escalate_form=escalate_form or EscalateForm(),
        assign_form=assign_form or AssignForm(),
        **_escalation_context(page, inquiry),
    )
    return page.render("agency/inquiry.html", status_code=status_code, **context)


@router.get("/inquiries/{inquiry_id}")
def inquiry_page(page: PageDep, inquiry_id: int) -> Response:
    """One inquiry: the goods it concerns, why it exists, its deadline and history."""
    return render_inquiry(page, inquiry_id)


@router.post("/inquiries/{inquiry_id}/decision")
async def decide(page: PageDep, inquiry_id: int) -> Response:
    """Approve, reject or ask for information: review, confirm, then decide once."""
    principal = page.require(Role.OFFICER, Role.AGENCY_HEAD)
    posted = await page.form()
    form = DecisionForm.read(posted)
    token = str(posted.get("form_token", "")) or page.form_token()
    step = str(posted.get("step", "review"))
    decision = form.validate(page.lang)
    if decision is None:
        return render_inquiry(page, inquiry_id, decision=form, token=token, status_code=422)
    if step != "confirm":
        return render_inquiry(
            page, inquiry_id, decision=form, confirm=step == "review", token=token
        )

    def action() -> Outcome:
        inquiry = flows.decide(
            session=page.db,
            principal=principal,
            inquiry_id=inquiry_id,
            decision=decision,
            at=page.now,
        )
        return Outcome(200, {"inquiry_id": inquiry.id, "state": inquiry.state})

    run_once(
        session=page.db,
        principal=principal,
        key=token,
        method="POST",
        path=f"/inquiries/{inquiry_id}/decision",
        body=decision.model_dump_json().encode(),
        at=page.now,
        action=action,
    )
    # Back to the queue: an officer's day is the next inquiry, not the one just decided.
    return page.redirect(
        "/queue",
        flash=page._(DECIDED[decision.outcome]) % {"id": page.lang.digits(inquiry_id)},
    )
