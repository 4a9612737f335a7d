"""Reference data shipped with the package: HS 2022, provinces, agencies, customs offices,
countries and currencies. Loaded once, read-only; see ``data/README.md`` for sources."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pycountry


@dataclass(frozen=True, slots=True)
class HsEntry:
    """A chapter (2 digits), heading (4) or subheading (6) of the HS 2022 nomenclature."""

    code: str
    description: str
    section: str
    level: int


@dataclass(frozen=True, slots=True)
class Province:
    """An Iranian province by its ISO 3166-2:IR code."""

    code: str
    name_en: str
    name_fa: str
    capital_en: str
    capital_fa: str


@dataclass(frozen=True, slots=True)
class AgencyRow:
    """A row of ``iran-agencies.csv``."""

    code: str
    name_en: str
    name_fa: str
    inquiry_en: str
    inquiry_fa: str
    demo_trigger_hs: tuple[str, ...]
    weekend: str
    published_service_time: str
    evidence: str


@dataclass(frozen=True, slots=True)
class CustomsOffice:
    """A customs office where goods are declared."""

    code: str
    name_en: str
    name_fa: str
    province: str


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("panjereh.reference").joinpath("data", name).read_text("utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


@cache
def hs_nomenclature() -> dict[str, HsEntry]:
    """HS 2022 chapters, headings and subheadings by code (UN Comtrade aggregates left out)."""
    return {
        r["hscode"]: HsEntry(r["hscode"], r["description"], r["section"], int(r["level"]))
        for r in _rows("harmonized-system.csv")
        if r["section"] != "TOTAL"
    }


@cache
def hs_subheadings() -> frozenset[str]:
    """The 6-digit HS 2022 subheadings."""
    return frozenset(c for c, e in hs_nomenclature().items() if e.level == 6)


def hs_code_problem(code: str) -> str | None:
    """Why ``code`` is not an acceptable item HS code, or None if it is.

    Acceptable: a 6-digit HS 2022 subheading, or an 8-digit national tariff line whose first
    six digits are one.
    """
    if not code.isascii() or not code.isdigit() or len(code) not in (6, 8):
        return "must be 6 digits (HS subheading) or 8 digits (national tariff line)"
    if code[:6] not in hs_subheadings():
        return f"{code[:6]} is not an HS 2022 subheading"
    return None


def hs_description(code: str) -> str:
    """The most specific HS description for a 6- or 8-digit code."""
    nomenclature = hs_nomenclature()
    for length in (6, 4, 2):
        entry = nomenclature.get(code[:length])
        if entry:
            return entry.description
    return ""


@cache
def provinces() -> dict[str, Province]:
    """Iran's 31 provinces by ISO 3166-2:IR code (IR-00 … IR-30)."""
    return {
        r["iso_3166_2"]: Province(
            r["iso_3166_2"], r["name_en"], r["name_fa"], r["capital_en"], r["capital_fa"]
        )
        for r in _rows("iran-provinces.csv")
    }


@cache
def agencies() -> dict[str, AgencyRow]:
    """Agencies that answer trade inquiries, by code."""
    return {
        r["code"]: AgencyRow(
            code=r["code"],
            name_en=r["name_en"],
            name_fa=r["name_fa"],
            inquiry_en=r["inquiry_en"],
            inquiry_fa=r["inquiry_fa"],
            demo_trigger_hs=tuple(r["demo_trigger_hs"].split()),
            weekend=r["weekend"],
            published_service_time=r["published_service_time"],
            evidence=r["evidence"],
        )
        for r in _rows("iran-agencies.csv")
    }


@cache
def customs_offices() -> dict[str, CustomsOffice]:
    """Customs offices by code."""
    return {
        r["code"]: CustomsOffice(r["code"], r["name_en"], r["name_fa"], r["province"])
        for r in _rows("customs-offices.csv")
    }


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 country codes."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 alphabetic currency codes."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)
