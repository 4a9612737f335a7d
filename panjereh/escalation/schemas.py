"""API shapes for clocks, ladders and escalation actions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from panjereh.escalation.policy import EscalationPolicy


class SegmentOut(BaseModel):
    """A running or paused stretch of the clock."""

    kind: str
    start: datetime
    end: datetime | None
    business_minutes: int


class RungOut(BaseModel):
    """A step of the ladder: when it is (or was) due, whether it fired."""

    cycle: int
    step: str
    due_at: datetime
    notify: list[str]
    level: int
    fired: bool


class ClockOut(BaseModel):
    """An inquiry's service-level clock and escalation ladder."""

    inquiry_id: int
    state: str
    received_at: datetime
    due_at: datetime
    paused: bool
    trader_due_at: datetime | None
    budget_business_minutes: int
    agency_business_minutes: int
    remaining_business_minutes: int
    overdue: bool
    calendar_version: str
    policy_version: int
    escalation_level: int
    acknowledged_at: datetime | None
    assigned_to: int | None
    next_action_at: datetime | None
    segments: list[SegmentOut]
    ladder: list[RungOut]


class EscalateIn(BaseModel):
    """Escalate by hand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000)


class AssignIn(BaseModel):
    """Give the inquiry to an officer of the agency."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    officer: str = Field(min_length=1, max_length=64)


class PolicyIn(EscalationPolicy):
    """A new version of an inquiry type's ladder."""


class PolicyOut(BaseModel):
    """A stored version of a ladder."""

    inquiry_type: str
    version: int
    active: bool
    policy: EscalationPolicy
    created_at: datetime | None
    created_by: str | None
