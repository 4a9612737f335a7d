"""The trader's pages: my declarations, the new-declaration form with the pre-filing check,
a declaration with its inquiries and timeline, cancelling, and answering a request for
information."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from panjereh.auth.models import Role
from panjereh.declarations import flows as declaration_flows
from panjereh.declarations import service as declarations
from panjereh.declarations.models import Declaration, DeclarationStatus
from panjereh.errors import Invalid
from panjereh.idempotency.service import Outcome, run_once
from panjereh.inquiries import flows as inquiry_flows
from panjereh.inquiries import service as inquiries
from panjereh.inquiries.states import OPEN_STATES, InquiryState
from panjereh.reference import customs_offices, provinces
from panjereh.web import hs, queries
from panjereh.web.clock import clock_panel
from panjereh.web.core import Page, PageDep, WebRoute
from panjereh.web.deadlines import Calendars
from panjereh.web.forms import DeclarationForm, ReplyForm
from panjereh.web.i18n import N_

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 25
FILED = N_("Declaration %(id)s filed: its inquiries went to every agency at the same moment.")


def _form_choices(page: Page) -> dict[str, Any]:
    lang = page.lang.code
    offices = sorted(
        customs_offices().values(), key=lambda o: o.name_fa if lang == "fa" else o.name_en
    )
    return {
        "offices": offices,
        "provinces": sorted(
            provinces().values(), key=lambda p: p.name_fa if lang == "fa" else p.name_en
        ),
        "office_province": {o.code: o.province for o in offices},
    }


def _render_form(
    page: Page,
    form: DeclarationForm,
    *,
    token: str,
    check: Any = None,
    checked: str = "",
    notice: str | None = None,
    focus: str | None = None,
    status_code: int = 200,
) -> Response:
    template = "declarations/_form.html" if page.htmx else "declarations/new.html"
    return page.render(
        template,
        status_code=status_code,
        form=form,
        form_token=token,
        check=check,
        checked=checked,
        notice=notice,
        focus=focus,
        **_form_choices(page),
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@router.get("/declarations")
def my_declarations(
    page: PageDep,
    status: Annotated[str | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The trader's declarations, newest first, with their status, and recent updates."""
    principal = page.require(Role.TRADER, Role.SUPERVISOR, Role.ADMIN)
    chosen = DeclarationStatus(status) if status in set(DeclarationStatus) else None
    rows = declarations.list_visible(
        session=page.db, principal=principal, status=chosen, before=before, limit=PAGE_SIZE + 1
    )
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return page.render(
        "declarations/list.html",
        declarations=rows,
        status=chosen.value if chosen else "",
        next_before=rows[-1].id if has_more and rows else None,
        before=before,
        updates=queries.recent_updates(session=page.db, principal=principal),
        agencies=queries.agencies(session=page.db),
    )


@router.get("/declarations/new")
def new_declaration(page: PageDep) -> Response:
    """An empty declaration form."""
    page.require(Role.TRADER)
    return _render_form(page, DeclarationForm.blank(), token=page.form_token())


@router.post("/declarations/new")
async def declaration_form(page: PageDep) -> Response:
    """Add or remove an item, run the pre-filing check, or file (only what was checked)."""
    principal = page.require(Role.TRADER)
    posted = await page.form()
    form = DeclarationForm.read(posted)
    token = str(posted.get("form_token", "")) or page.form_token()
    action = str(posted.get("action", "check"))
    if action == "add_item":
        form.add_item()
        return _render_form(page, form, token=token, focus=f"items-{len(form.items) - 1}-hs_code")
    if action.startswith("remove_item:") and action.partition(":")[2].isdigit():
        form.remove_item(int(action.partition(":")[2]))
        return _render_form(page, form, token=token, focus="add-item")
    payload = form.validate(page.lang)
    if payload is None:
        return _render_form(page, form, token=token, status_code=422)
    fingerprint = _digest(form.fingerprint())
    if action != "file" or posted.get("checked") != fingerprint:
        check = declaration_flows.check_requirements(session=page.db, payload=payload, at=page.now)
        notice = (
            page._("The goods changed since the check: review the new check, then file.")
            if action == "file"
            else None
        )
        return _render_form(
            page, form, token=token, check=check, checked=fingerprint, notice=notice
        )

    def file() -> Outcome:
        declaration = declaration_flows.file_declaration(
            session=page.db, principal=principal, payload=payload, at=page.now
        )
        return Outcome(201, {"declaration_id": declaration.id})

    try:
        outcome = run_once(
            session=page.db,
            principal=principal,
            key=token,
            method="POST",
            path="/declarations/new",
            body=form.fingerprint().encode(),
            at=page.now,
            action=file,
        )
    except Invalid as refused:
        if refused.slug != "idempotency-key-reused":
            raise
        # The page was reused (the back button) after filing other goods: start afresh.
        page.db.rollback()
        return _render_form(
            page,
            form,
            token=page.form_token(),
            notice=page._(
                "This form was already used to file a declaration. Check the goods "
                "again to file them as a new declaration."
            ),
            status_code=409,
        )
    declaration_id = int(outcome.body["declaration_id"])
    return page.redirect(
        f"/declarations/{declaration_id}",
        flash=page._(FILED) % {"id": page.lang.digits(declaration_id)},
    )


@router.get("/hs-search")
def hs_search(
    page: PageDep,
    q: Annotated[str, Query(max_length=100)] = "",
    target: Annotated[str, Query(pattern=r"^items-\d{1,4}-hs_code$")] = "items-0-hs_code",
) -> Response:
    """HS subheadings matching a code prefix or words (a fragment for the form)."""
    page.require()
    # htmx sends the HS field itself (named after its row), the plain search page sends q.
    q = q or page.request.query_params.get(target, "")[:100]
    matches = hs.search(q)
    template = "declarations/_hs_results.html" if page.htmx else "declarations/hs_search.html"
    return page.render(template, query=q, matches=matches, target=target)


def _inquiry_views(page: Page, declaration: Declaration) -> list[dict[str, Any]]:
    types = queries.inquiry_types(session=page.db)
    agencies = queries.agencies(session=page.db)
    calendars = Calendars(page.db)
    views = []
    # What waits on the trader first, then what waits on an agency (soonest deadline first),
    # then what is closed.
    first: dict[str, int] = {InquiryState.INFO_REQUESTED: 0, InquiryState.AWAITING_ANSWER: 1}
    ordered = sorted(declaration.inquiries, key=lambda i: (first.get(i.state, 2), i.due_at))
    for inquiry in ordered:
        agency = agencies[inquiry.agency_code]
        left = None
        if inquiry.state == InquiryState.AWAITING_ANSWER:
            left = calendars.left(
                agency_code=agency.code,
                province=declaration.province,
                due_at=inquiry.due_at,
                now=page.now,
                tz=page.lang.tz,
            )
        views.append(
            {
                "inquiry": inquiry,
                "agency": agency,
                "type": types.get(inquiry.inquiry_type),
                "open": inquiry.state in OPEN_STATES,
                "left": left,
                "panel": clock_panel(
                    session=page.db, inquiry=inquiry, now=page.now, calendars=calendars
                ),
            }
        )
    return views


def render_declaration(
    page: Page,
    declaration_id: int,
    *,
    reply_forms: dict[int, ReplyForm] | None = None,
    status_code: int = 200,
    confirm_cancel: bool = False,
) -> Response:
    """The declaration page (also shown again with a reply form's errors)."""
    principal = page.require()
    declaration = declarations.get_visible(
        session=page.db, principal=principal, declaration_id=declaration_id, full=True
    )
    views = _inquiry_views(page, declaration)
    open_views = [v for v in views if v["open"]]
    return page.render(
        "declarations/detail.html",
        status_code=status_code,
        declaration=declaration,
        inquiries=views,
        waiting_on=open_views,
        last_due=max((v["inquiry"].due_at for v in open_views), default=None),
        timeline=declarations.timeline(session=page.db, declaration_id=declaration.id),
        reply_forms=reply_forms or {},
        form_token=page.form_token(),
        can_act=principal.role == Role.TRADER,
        confirm_cancel=confirm_cancel,
        agencies=queries.agencies(session=page.db),
    )


@router.get("/declarations/{declaration_id}")
def declaration_page(page: PageDep, declaration_id: int) -> Response:
    """A declaration: where the goods stand, each agency's inquiry and deadline, the timeline."""
    return render_declaration(page, declaration_id)


@router.post("/declarations/{declaration_id}/cancel")
async def cancel(page: PageDep, declaration_id: int) -> Response:
    """Cancel a declaration, after a confirmation step."""
    principal = page.require(Role.TRADER)
    posted = await page.form()
    if posted.get("step") != "confirm":
        return render_declaration(page, declaration_id, confirm_cancel=True)

    def action() -> Outcome:
        declaration_flows.cancel_declaration(
            session=page.db, principal=principal, declaration_id=declaration_id, at=page.now
        )
        return Outcome(200, {"declaration_id": declaration_id})

    page.once(
        principal, posted, path=f"/declarations/{declaration_id}/cancel", body=b"", action=action
    )
    return page.redirect(
        f"/declarations/{declaration_id}", flash=page._("The declaration was cancelled.")
    )


@router.post("/inquiries/{inquiry_id}/reply")
async def reply(page: PageDep, inquiry_id: int) -> Response:
    """The trader answers an agency's request for information."""
    principal = page.require(Role.TRADER)
    posted = await page.form()
    inquiry = inquiries.get_visible(session=page.db, principal=principal, inquiry_id=inquiry_id)
    declaration_id = inquiry.declaration_id
    form = ReplyForm.read(posted)
    answer = form.validate(page.lang)
    if answer is None:
        return render_declaration(
            page, declaration_id, reply_forms={inquiry_id: form}, status_code=422
        )

    def action() -> Outcome:
        inquiry_flows.reply(
            session=page.db, principal=principal, inquiry_id=inquiry_id, answer=answer, at=page.now
        )
        return Outcome(200, {"inquiry_id": inquiry_id})

    run_once(
        session=page.db,
        principal=principal,
        key=str(posted.get("form_token", "")) or None,
        method="POST",
        path=f"/inquiries/{inquiry_id}/reply",
        body=answer.model_dump_json().encode(),
        at=page.now,
        action=action,
    )
    return page.redirect(
        f"/declarations/{declaration_id}#inquiry-{inquiry_id}",
        flash=page._("Your answer was sent to the agency; its clock runs again."),
    )
