"""Read-only reference endpoints: agencies and the inquiry-type catalogue."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from panjereh.agencies import service
from panjereh.api.deps import CurrentPrincipal, SessionDep
from panjereh.api.responses import PROBLEMS

router = APIRouter(prefix="/api/v1", tags=["reference"], responses=PROBLEMS)


class AgencyOut(BaseModel):
    """An agency."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name_en: str
    name_fa: str
    weekend: str


class InquiryTypeOut(BaseModel):
    """An inquiry type and its service level."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    agency_code: str
    name_en: str
    name_fa: str
    sla_business_days: int
    trader_reply_business_days: int


@router.get("/agencies", response_model=list[AgencyOut])
def agencies(principal: CurrentPrincipal, session: SessionDep) -> list[AgencyOut]:
    """Every agency that answers inquiries."""
    return [AgencyOut.model_validate(a) for a in service.list_agencies(session=session)]


@router.get("/inquiry-types", response_model=list[InquiryTypeOut])
def inquiry_types(principal: CurrentPrincipal, session: SessionDep) -> list[InquiryTypeOut]:
    """The inquiry types of the active rule set, with their service levels."""
    return [InquiryTypeOut.model_validate(t) for t in service.list_inquiry_types(session=session)]
