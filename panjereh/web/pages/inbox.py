"""The notifications inbox, for every role: newest first, unread marked, in the page's
language, each leading to the inquiry or declaration it is about; mark one or all read.

Notifications arrive through the worker's in-app channel (``notify.inbox`` jobs); the pages
read them with ``notifications.service.inbox`` and mark them with ``mark_read``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from panjereh.auth.models import Role
from panjereh.idempotency.service import Outcome
from panjereh.notifications import service
from panjereh.web.core import PageDep, WebRoute, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 30


@router.get("/notifications")
def inbox(
    page: PageDep,
    unread: Annotated[bool, Query()] = False,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The signed-in user's notifications, newest first (only unread ones if asked)."""
    principal = page.require()
    notes = service.inbox(
        session=page.db,
        principal=principal,
        unread_only=unread,
        before=before,
        limit=PAGE_SIZE + 1,
    )
    more = len(notes) > PAGE_SIZE
    notes = notes[:PAGE_SIZE]
    return page.render(
        "inbox.html",
        notes=notes,
        unread_only=unread,
        before=before,
        next_before=notes[-1].id if more and notes else None,
        report_link=principal.role in (Role.SUPERVISOR, Role.AGENCY_HEAD, Role.ADMIN),
    )


@router.post("/notifications/read")
async def mark_read(page: PageDep) -> Response:
    """Mark one notification (``id``) or all of them read, and go back."""
    principal = page.require()
    posted = await page.form()
    raw = str(posted.get("id", "")).strip()
    note_id = int(raw) if raw.isdigit() else None

    def action() -> Outcome:
        marked = service.mark_read(
            session=page.db, principal=principal, notification_id=note_id, at=page.now
        )
        return Outcome(200, {"marked": marked})

    # Marking read is idempotent by nature: no form token needed.
    outcome = page.once(principal, posted, path="/notifications/read", body=b"", action=action)
    back = safe_next(str(posted.get("next", "")), "/notifications")
    if note_id is not None:
        return page.redirect(back)
    marked = int(outcome.body["marked"])
    return page.redirect(
        back,
        flash=page.lang.ngettext(
            "%(num)s notification marked read.", "%(num)s notifications marked read.", marked
        )
        % {"num": page.lang.digits(marked)},
    )
