"""API shapes for calendars."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, ConfigDict, Field


class ClosureIn(BaseModel):
    """Close offices for whole days, nationally or in one province."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: date
    end: date
    province: str | None = Field(default=None, examples=["IR-06"])
    reason: str = Field(min_length=1, max_length=300, examples=["Heat closure"])


class ClosureOut(BaseModel):
    """A closure as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    start: date
    end: date
    province: str | None
    reason: str
    created_at: datetime
    created_by: str


class ClosureAdded(BaseModel):
    """A new closure and how many open deadlines it moved."""

    closure: ClosureOut
    deadlines_moved: int


class CorrectionIn(BaseModel):
    """A lunar holiday that fell on another day than estimated (moved_to empty: not a holiday)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    moved_from: date
    moved_to: date | None = None
    reason: str = Field(min_length=1, max_length=300)


class CorrectionOut(BaseModel):
    """A holiday correction as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    moved_from: date
    moved_to: date | None
    reason: str
    created_at: datetime
    created_by: str


class WorkingWeekIn(BaseModel):
    """An agency's working week from a date on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agency_code: str
    effective_from: date
    weekend: str = Field(examples=["FRI"])
    opens: time = Field(examples=["07:30"])
    closes: time = Field(examples=["14:30"])
    cutoff: time = Field(examples=["13:30"])


class WorkingWeekOut(WorkingWeekIn):
    """A working-week change as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    created_by: str


class Change(BaseModel):
    """How many open deadlines a calendar change moved."""

    deadlines_moved: int


class CalendarOut(BaseModel):
    """An agency's calendar as it stands: version, week in force and the coming days off."""

    agency_code: str
    province: str | None
    version: str
    weekend: str
    opens: time
    closes: time
    cutoff: time
    days_off: list[tuple[date, str]]
