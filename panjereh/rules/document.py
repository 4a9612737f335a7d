"""The rule-set document an administrator writes and loads (JSON).

A rule set is data, not code: it lists the inquiry types (which agency answers, in how many
business days) and the rules that require them. Its shape is validated here so that a bad file
is refused whole, with the field and the reason, before anything is stored.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from panjereh.reference import agencies, country_codes, currency_codes

Kind = Literal["import", "export", "transit"]


class InquiryTypeSpec(BaseModel):
    """One kind of answer an agency gives, with its service level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")
    agency: str
    name_en: str = Field(min_length=1, max_length=200)
    name_fa: str = Field(min_length=1, max_length=200)
    sla_business_days: int = Field(ge=1, le=90)
    trader_reply_business_days: int = Field(default=10, ge=1, le=90)

    @field_validator("agency")
    @classmethod
    def _known_agency(cls, value: str) -> str:
        if value not in agencies():
            raise ValueError(f"unknown agency {value!r}")
        return value


class RuleSpec(BaseModel):
    """When an inquiry type is required, and the words that tell the trader why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    inquiry_type: str
    hs_prefixes: tuple[str, ...] = Field(min_length=1)
    kinds: tuple[Kind, ...] = Field(min_length=1)
    origins: tuple[str, ...] | None = None
    origins_excluded: tuple[str, ...] = ()
    currencies_excluded: tuple[str, ...] = ()
    min_total_value_usd: Decimal | None = Field(default=None, ge=0)
    reason_en: str = Field(min_length=1, max_length=1000)
    reason_fa: str = Field(min_length=1, max_length=1000)

    @cached_property
    def chapters(self) -> frozenset[str] | None:
        """The HS chapters (first two digits) the prefixes can match; None for every line
        (``"*"``). The engine tests a line only against the rules of its chapter."""
        if "*" in self.hs_prefixes:
            return None
        return frozenset(prefix[:2] for prefix in self.hs_prefixes)

    @field_validator("hs_prefixes")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if prefix != "*" and not (prefix.isdigit() and 2 <= len(prefix) <= 8):
                raise ValueError(f"HS prefix {prefix!r} must be '*' or 2 to 8 digits")
        return value

    @field_validator("origins", "origins_excluded")
    @classmethod
    def _countries(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for code in value or ():
            if code not in country_codes():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
        return value

    @field_validator("currencies_excluded")
    @classmethod
    def _currencies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if code not in currency_codes():
                raise ValueError(f"{code!r} is not an ISO 4217 currency code")
        return value


class RuleSetDocument(BaseModel):
    """A whole rule set: inquiry types, rules and the reference rates its value tests use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    reference_rates_usd: dict[str, Decimal] = Field(default_factory=dict)
    inquiry_types: tuple[InquiryTypeSpec, ...] = Field(min_length=1)
    rules: tuple[RuleSpec, ...]

    @field_validator("reference_rates_usd")
    @classmethod
    def _rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in value.items():
            if code not in currency_codes():
                raise ValueError(f"{code!r} is not an ISO 4217 currency code")
            if rate <= 0:
                raise ValueError(f"rate for {code} must be positive")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RuleSetDocument:
        type_codes = [t.code for t in self.inquiry_types]
        if len(set(type_codes)) != len(type_codes):
            raise ValueError("inquiry type codes must be unique")
        rule_codes = [r.code for r in self.rules]
        if len(set(rule_codes)) != len(rule_codes):
            raise ValueError("rule codes must be unique")
        for rule in self.rules:
            if rule.inquiry_type not in type_codes:
                raise ValueError(f"rule {rule.code} names unknown inquiry type {rule.inquiry_type}")
        return self
