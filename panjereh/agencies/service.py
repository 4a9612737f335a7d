"""Reading and seeding agencies and the inquiry-type catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency, InquiryType
from panjereh.reference import agencies as reference_agencies
from panjereh.rules.document import InquiryTypeSpec


def seed_reference_agencies(*, session: Session) -> int:
    """Insert or update the agencies shipped in the reference data; returns how many."""
    rows = reference_agencies()
    existing = {a.code: a for a in session.scalars(select(Agency))}
    for row in rows.values():
        agency = existing.get(row.code) or Agency(code=row.code)
        agency.name_en, agency.name_fa = row.name_en, row.name_fa
        agency.weekend = row.weekend
        agency.published_service_time, agency.evidence = row.published_service_time, row.evidence
        session.add(agency)
    return len(rows)


def upsert_inquiry_types(*, session: Session, specs: tuple[InquiryTypeSpec, ...]) -> None:
    """Make the catalogue carry these inquiry types (new ones added, existing ones updated)."""
    existing = {t.code: t for t in session.scalars(select(InquiryType))}
    for spec in specs:
        row = existing.get(spec.code) or InquiryType(code=spec.code)
        row.agency_code, row.name_en, row.name_fa = spec.agency, spec.name_en, spec.name_fa
        row.sla_business_days = spec.sla_business_days
        row.trader_reply_business_days = spec.trader_reply_business_days
        session.add(row)


def list_agencies(*, session: Session) -> list[Agency]:
    """All agencies, by code."""
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def list_inquiry_types(*, session: Session) -> list[InquiryType]:
    """The inquiry-type catalogue, by code."""
    return list(session.scalars(select(InquiryType).order_by(InquiryType.code)))
