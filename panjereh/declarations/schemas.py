"""API shapes for declarations and the pre-filing check."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from panjereh.reference import (
    country_codes,
    currency_codes,
    customs_offices,
    hs_code_problem,
    provinces,
)

MAX_ITEMS = 500


def _hs_code(value: str) -> str:
    problem = hs_code_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _country(value: str) -> str:
    if value not in country_codes():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _currency(value: str) -> str:
    if value not in currency_codes():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _province(value: str) -> str:
    if value not in provinces():
        raise ValueError(f"{value!r} is not an ISO 3166-2:IR province code (IR-00 … IR-30)")
    return value


def _customs_office(value: str) -> str:
    if value not in customs_offices():
        raise ValueError(f"{value!r} is not a known customs office code")
    return value


HsCode = Annotated[str, AfterValidator(_hs_code)]
Country = Annotated[str, AfterValidator(_country)]
Currency = Annotated[str, AfterValidator(_currency)]
ProvinceCode = Annotated[str, AfterValidator(_province)]
CustomsOfficeCode = Annotated[str, AfterValidator(_customs_office)]
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)]


class ItemIn(BaseModel):
    """One goods line as the trader declares it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    hs_code: HsCode = Field(examples=["851713"])
    description: str = Field(min_length=1, max_length=500, examples=["Smartphones"])
    origin_country: Country = Field(examples=["CN"])
    quantity: PositiveAmount = Field(examples=["1200"])
    unit: str = Field(pattern=r"^[A-Za-z0-9]{1,16}$", examples=["NAR"])
    value: PositiveAmount = Field(examples=["240000.00"])
    currency: Currency = Field(examples=["USD"])


class DeclarationIn(BaseModel):
    """A declaration as filed (and as checked before filing)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["import", "export", "transit"]
    customs_office: CustomsOfficeCode = Field(examples=["SHRJ"])
    province: ProvinceCode = Field(examples=["IR-22"])
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)

    @field_validator("province")
    @classmethod
    def _office_is_in_province(cls, value: str, info: ValidationInfo) -> str:
        office = customs_offices().get(info.data.get("customs_office", ""))
        if office is not None and office.province != value:
            raise ValueError(
                f"the customs office {office.code} is in {office.province}, not {value}"
            )
        return value


class ItemOut(BaseModel):
    """A goods line as stored."""

    model_config = ConfigDict(from_attributes=True)

    line_no: int
    hs_code: str
    description: str
    origin_country: str
    quantity: Decimal
    unit: str
    value: Decimal
    currency: str


class RequiredInquiry(BaseModel):
    """One inquiry the goods will need, from which agency, why, and by when."""

    inquiry_type: str
    inquiry_type_name_en: str
    inquiry_type_name_fa: str
    agency_code: str
    agency_name_en: str
    agency_name_fa: str
    rule_codes: list[str]
    item_lines: list[int]
    reason_en: str
    reason_fa: str
    sla_business_days: int
    due_at: datetime
    calendar_version: str


class RequirementsOut(BaseModel):
    """The pre-filing check: what filing now would ask of which agencies."""

    rule_set_version: int
    checked_at: datetime
    inquiries: list[RequiredInquiry]


class EventOut(BaseModel):
    """One entry of a timeline."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    kind: str
    inquiry_id: int | None
    before: str | None
    after: str | None
    data: dict[str, Any]


class InquirySummary(BaseModel):
    """An inquiry as its declaration shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    inquiry_type: str
    agency_code: str
    state: str
    reason_en: str
    reason_fa: str
    rule_codes: list[str]
    rule_set_version: int
    item_lines: list[int]
    sla_business_days: int
    received_at: datetime
    due_at: datetime
    calendar_version: str
    decided_at: datetime | None
    decision_reason: str | None
    info_request: dict[str, Any] | None


class DeclarationOut(BaseModel):
    """A declaration with its items, its inquiries and its timeline."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    trader_id: int
    kind: str
    customs_office: str
    province: str
    status: str
    rule_set_version: int
    filed_at: datetime
    closed_at: datetime | None
    items: list[ItemOut]
    inquiries: list[InquirySummary]
    timeline: list[EventOut]


class DeclarationListItem(BaseModel):
    """A declaration in a list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    customs_office: str
    province: str
    status: str
    filed_at: datetime
    closed_at: datetime | None


class DeclarationPage(BaseModel):
    """A page of declarations, newest first; pass ``next_before`` as ``before`` for the next."""

    items: list[DeclarationListItem]
    next_before: int | None
