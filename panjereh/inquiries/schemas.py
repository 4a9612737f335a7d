"""API shapes for inquiries, decisions and replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from panjereh.declarations.schemas import EventOut, InquirySummary, ItemOut


class DecisionIn(BaseModel):
    """An agency's answer: approve, reject (reason required) or ask the trader for more."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Literal["approve", "reject", "request_info"]
    reason: str | None = Field(default=None, max_length=4000)
    inquiry_id: int | None = Field(
        default=None,
        description="the inquiry decided; when given it must be the one in the path. An "
        "agency's system must give it, so that its signature names the inquiry it decides.",
    )


class ReplyIn(BaseModel):
    """The trader's answer to a request for information."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=4000)


class InquiryDecided(BaseModel):
    """An agency's answer as recorded, with where the declaration now stands."""

    id: int
    declaration_id: int
    agency_code: str
    inquiry_type: str
    state: str
    declaration_status: str
    decided_at: datetime | None
    decision_reason: str | None
    due_at: datetime
    info_request: dict[str, Any] | None
    version: int


class InquiryOut(InquirySummary):
    """An inquiry with the goods it concerns and its history."""

    declaration_id: int
    declaration_status: str
    kind: str
    customs_office: str
    province: str
    items: list[ItemOut]
    timeline: list[EventOut]


class InquiryQueueItem(InquirySummary):
    """An inquiry in an agency's queue."""

    declaration_id: int
    overdue: bool


class InquiryQueuePage(BaseModel):
    """A page of the queue, soonest deadline first."""

    items: list[InquiryQueueItem]
    total: int
    offset: int
    limit: int
