"""Calendars and closures, for administrators: closures (national or in a province),
corrections of lunar holidays, and agencies' working weeks, with the official holidays ahead.

Each change is a flow of ``panjereh.calendars.flows`` that moves the deadlines of the open
inquiries it affects (each move an event on the inquiry's timeline) and says how many moved;
the page says it too.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import FormData

from panjereh.auth.models import Role
from panjereh.calendars import flows, service
from panjereh.errors import DomainError
from panjereh.idempotency.service import Outcome
from panjereh.reference import provinces
from panjereh.sla.calendar import DEFAULT_CLOSES, DEFAULT_CUTOFF, DEFAULT_OPENS, TEHRAN
from panjereh.web import queries
from panjereh.web.admin_forms import (
    WEEK_ORDER,
    AdminForm,
    ClosureForm,
    CorrectionForm,
    WorkingWeekForm,
)
from panjereh.web.core import Page, PageDep, WebRoute
from panjereh.web.i18n import N_

router = APIRouter(route_class=WebRoute, include_in_schema=False)

HOLIDAYS_AHEAD_DAYS = 365


def _holidays_ahead(page: Page, agencies: dict[str, Any]) -> list[tuple[date, str]]:
    """The official holidays (with corrections) of the coming year, nationally."""
    if not agencies:
        return []
    calendar = service.calendar_for(
        session=page.db, agency_code=next(iter(agencies)), province=None
    )
    today = page.now.astimezone(TEHRAN).date()
    until = today + timedelta(days=HOLIDAYS_AHEAD_DAYS)
    return [(day, name) for day, name in calendar.holidays.items() if today <= day <= until]


def _render(
    page: Page,
    *,
    closure: ClosureForm | None = None,
    correction: CorrectionForm | None = None,
    week: WorkingWeekForm | None = None,
    status_code: int = 200,
) -> Response:
    page.require(Role.ADMIN)
    agencies = queries.agencies(session=page.db)
    lang = page.lang.code
    return page.render(
        "admin/calendars.html",
        status_code=status_code,
        closures=service.closures(session=page.db),
        corrections=service.corrections(session=page.db),
        weeks=service.working_weeks(session=page.db),
        holidays=_holidays_ahead(page, agencies),
        agencies=agencies,
        provinces=sorted(
            provinces().values(), key=lambda p: p.name_fa if lang == "fa" else p.name_en
        ),
        closure=closure or ClosureForm(),
        correction=correction or CorrectionForm(),
        week=week
        or WorkingWeekForm(
            values={
                "weekend": "THU FRI",
                "opens": DEFAULT_OPENS.strftime("%H:%M"),
                "closes": DEFAULT_CLOSES.strftime("%H:%M"),
                "cutoff": DEFAULT_CUTOFF.strftime("%H:%M"),
            }
        ),
        week_order=WEEK_ORDER,
    )


@router.get("/admin/calendars")
def calendars(page: PageDep) -> Response:
    """Closures, holiday corrections and working weeks, with the forms to add them."""
    return _render(page)


def _moved(page: Page, message: str, moved: int) -> str:
    count = page.lang.ngettext(
        "%(num)s open deadline moved.", "%(num)s open deadlines moved.", moved
    ) % {"num": page.lang.digits(moved)}
    return f"{message} {count}"


def _change(
    page: Page,
    posted: FormData,
    *,
    form: AdminForm,
    arguments: dict[str, Any] | None,
    path: str,
    change: Any,
    done: str,
    rerender: dict[str, Any],
) -> Response:
    """Run a calendar flow once for a valid form; show its refusal on the form otherwise."""
    principal = page.require(Role.ADMIN)
    if arguments is not None:

        def action() -> Outcome:
            _, moved = change(session=page.db, principal=principal, at=page.now, **arguments)
            return Outcome(201, {"moved": moved})

        try:
            outcome = page.once(
                principal,
                posted,
                path=path,
                body=repr(sorted((k, str(v)) for k, v in arguments.items())).encode(),
                action=action,
            )
        except DomainError as error:
            if not error.errors:
                raise
            page.db.rollback()
            form.refused(error, page.lang)
        else:
            return page.redirect(
                "/admin/calendars", flash=_moved(page, page._(done), int(outcome.body["moved"]))
            )
    return _render(page, status_code=422, **rerender)


@router.post("/admin/calendars/closures")
async def add_closure(page: PageDep) -> Response:
    """Close offices for whole days, nationally or in one province."""
    page.require(Role.ADMIN)
    posted = await page.form()
    form = ClosureForm.read(posted)
    return _change(
        page,
        posted,
        form=form,
        arguments=form.validate(page.lang),
        path="/admin/calendars/closures",
        change=flows.add_closure,
        done=N_("Closure added."),
        rerender={"closure": form},
    )


@router.post("/admin/calendars/closures/{closure_id}/remove")
async def remove_closure(page: PageDep, closure_id: int) -> Response:
    """Withdraw a closure: the deadlines it had moved move back."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()

    def action() -> Outcome:
        moved = flows.remove_closure(
            session=page.db, principal=principal, closure_id=closure_id, at=page.now
        )
        return Outcome(200, {"moved": moved})

    outcome = page.once(
        principal,
        posted,
        path=f"/admin/calendars/closures/{closure_id}/remove",
        body=b"",
        action=action,
    )
    return page.redirect(
        "/admin/calendars",
        flash=_moved(page, page._("Closure withdrawn."), int(outcome.body["moved"])),
    )


@router.post("/admin/calendars/corrections")
async def add_correction(page: PageDep) -> Response:
    """Move a lunar holiday to the day it really falls on (or drop it)."""
    page.require(Role.ADMIN)
    posted = await page.form()
    form = CorrectionForm.read(posted)
    return _change(
        page,
        posted,
        form=form,
        arguments=form.validate(page.lang),
        path="/admin/calendars/corrections",
        change=flows.add_correction,
        done=N_("Holiday corrected."),
        rerender={"correction": form},
    )


@router.post("/admin/calendars/working-weeks")
async def add_working_week(page: PageDep) -> Response:
    """Change an agency's weekend and hours from a date on."""
    page.require(Role.ADMIN)
    posted = await page.form()
    form = WorkingWeekForm.read(posted)
    return _change(
        page,
        posted,
        form=form,
        arguments=form.validate(page.lang, agencies=queries.agencies(session=page.db)),
        path="/admin/calendars/working-weeks",
        change=flows.add_working_week,
        done=N_("Working week changed."),
        rerender={"week": form},
    )
