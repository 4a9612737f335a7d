"""The service-level clock as the pages show it: what ``escalation.service.clock_view`` says
(running and paused segments, business time used and left, the ladder and what fired), plus
the length of the agency's business day, so that minutes read as days and hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from panjereh.escalation.ladder import business_day_minutes
from panjereh.escalation.schemas import ClockOut
from panjereh.escalation.service import clock_view
from panjereh.inquiries.models import Inquiry
from panjereh.web.deadlines import Calendars


@dataclass(frozen=True, slots=True)
class ClockPanel:
    """One inquiry's clock for a page."""

    clock: ClockOut
    day_minutes: int
    assigned_to: str | None

    @property
    def used_share(self) -> int:
        """How much of the budget the agency has used, in percent (0 to 100, for a meter)."""
        budget = self.clock.budget_business_minutes
        if budget <= 0:
            return 100
        return max(0, min(100, round(100 * self.clock.agency_business_minutes / budget)))

    @property
    def fired(self) -> int:
        """How many steps of the ladder have fired."""
        return sum(1 for rung in self.clock.ladder if rung.fired)


def clock_panel(
    *,
    session: Session,
    inquiry: Inquiry,
    now: datetime,
    calendars: Calendars,
    usernames: dict[int, str] | None = None,
) -> ClockPanel:
    """The clock of ``inquiry`` at ``now`` (``usernames`` names whoever it is assigned to)."""
    clock = clock_view(session=session, inquiry=inquiry, now=now)
    calendar = calendars.of(agency_code=inquiry.agency_code, province=inquiry.province)
    assigned = None
    if clock.assigned_to is not None:
        assigned = (usernames or {}).get(clock.assigned_to, str(clock.assigned_to))
    return ClockPanel(clock, business_day_minutes(calendar, inquiry.due_at), assigned)
