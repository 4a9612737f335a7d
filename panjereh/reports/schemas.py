"""The immediate report as the API returns it (and as the HTML and PDF render it).

Amounts are exact decimals; times are UTC instants (pages show them in Asia/Tehran);
lateness is counted in the agency's own business time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class Money(BaseModel):
    """An amount in one currency, with its US-dollar equivalent when a rate is known."""

    currency: str = Field(examples=["EUR"])
    amount: Decimal
    usd: Decimal | None = Field(
        description="The amount at the active rule set's reference rate; null when the rule "
        "set has no rate for the currency (the amount is still counted in `amount`)."
    )


class ValueWaiting(BaseModel):
    """The value of the goods waiting, per currency, and what of it converts to US dollars."""

    by_currency: list[Money]
    usd: Decimal = Field(description="Sum of the US-dollar equivalents that could be computed.")
    usd_complete: bool = Field(
        description="True when every currency had a rate, so `usd` covers the whole value."
    )
    currencies_without_rate: list[str]


class Goods(BaseModel):
    """One goods line an inquiry is about."""

    line_no: int
    hs_code: str
    hs_description: str = Field(description="The HS 2022 nomenclature's description.")
    description: str = Field(description="The trader's own description of the goods.")
    value: Decimal
    currency: str


class LateInquiry(BaseModel):
    """One inquiry past its deadline while its agency holds it."""

    id: int
    declaration_id: int
    inquiry_type: str
    inquiry_type_name_en: str
    inquiry_type_name_fa: str
    customs_office: str
    province: str
    due_at: datetime
    business_days_late: int = Field(
        description="Business days of the agency's calendar after the due date up to today "
        "(Tehran dates)."
    )
    business_minutes_late: int = Field(
        description="Business minutes of the agency's calendar from the deadline to now."
    )
    business_hours_late: Decimal = Field(
        description="business_minutes_late / 60, rounded down to one decimal."
    )
    escalation_level: int
    goods: list[Goods]
    value: ValueWaiting


class OnTimeRate(BaseModel):
    """How many of the agency's answers in the window came by their deadline."""

    window_days: int
    answered: int = Field(description="Inquiries approved or rejected within the window.")
    on_time: int = Field(description="Of those, decided at or before their deadline.")
    rate: Decimal | None = Field(
        description="on_time / answered, to four decimals; null when nothing was answered."
    )


class AgencyLate(BaseModel):
    """One agency with late inquiries: how many, how late, what waits, how it usually does."""

    agency_code: str
    name_en: str
    name_fa: str
    late_count: int
    max_business_days_late: int
    business_days_late_total: int = Field(
        description="Sum of business days late over all the agency's late inquiries."
    )
    waiting_on_trader: int = Field(
        description="Open inquiries paused for information from the trader: not late by the "
        "agency and not counted in late_count."
    )
    value_waiting: ValueWaiting
    on_time: OnTimeRate
    inquiries: list[LateInquiry] = Field(
        description="The most late first, at most `per_agency_limit` of them."
    )
    truncated: bool = Field(description="True when late_count > len(inquiries).")


class ImmediateReport(BaseModel):
    """Late inquiries by agency, most late first, for the national supervisor."""

    generated_at: datetime
    agency: str | None = Field(description="The one agency reported on, or null for all.")
    late_count: int
    agency_count: int
    value_waiting: ValueWaiting = Field(
        description="All goods waiting behind a late inquiry, each goods line counted once "
        "even when several agencies hold it."
    )
    rule_set_version: int | None = Field(
        description="The rule set whose reference rates gave the US-dollar equivalents."
    )
    per_agency_limit: int
    on_time_window_days: int
    agencies: list[AgencyLate]
