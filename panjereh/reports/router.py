"""HTTP endpoints of the immediate report: JSON, an HTML page and a PDF.

Access: supervisors and administrators see every agency (or pick one with ``agency``); an
agency head or officer sees only their own agency; traders may not read it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from panjereh.api.deps import CurrentPrincipal, NowDep, SessionDep
from panjereh.api.responses import PROBLEM_SCHEMA, PROBLEMS
from panjereh.auth.models import AGENCY_ROLES, Role
from panjereh.auth.principal import Principal
from panjereh.errors import PROBLEM_JSON, Forbidden
from panjereh.reports import render
from panjereh.reports.schemas import ImmediateReport
from panjereh.reports.service import DEFAULT_PER_AGENCY, MAX_PER_AGENCY, immediate_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=PROBLEMS)

AgencyParam = Annotated[
    str | None,
    Query(
        description="Report on this agency only (supervisors and administrators; agency "
        "staff always get their own agency).",
        max_length=16,
    ),
]
PerAgencyParam = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_PER_AGENCY,
        description="How many late inquiries each agency lists in detail, most late first. "
        "Counts and values always cover every late inquiry.",
    ),
]
LangParam = Annotated[
    Literal["fa", "en"],
    Query(description="fa: Persian, right to left, Jalali dates; en: English, Gregorian."),
]
DispositionParam = Annotated[
    Literal["attachment", "inline"],
    Query(description="attachment (download, the default) or inline (show in the browser)."),
]


def _scope(principal: Principal, agency: str | None) -> str | None:
    """The agency the caller may report on (None: all), or 403."""
    if principal.role in (Role.SUPERVISOR, Role.ADMIN):
        return agency
    if principal.role in AGENCY_ROLES and principal.agency_code:
        if agency is not None and agency != principal.agency_code:
            raise Forbidden("agency staff see only their own agency's report", field="agency")
        return principal.agency_code
    raise Forbidden("the immediate report is for supervisors, administrators and agencies")


def _disposition(kind: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f'{kind}; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/immediate", response_model=ImmediateReport)
def immediate(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    agency: AgencyParam = None,
    per_agency: PerAgencyParam = DEFAULT_PER_AGENCY,
) -> ImmediateReport:
    """Late inquiries by agency, most late first: business days and hours late, the goods
    and the value waiting behind them, and each agency's on-time rate."""
    return immediate_report(
        session=session, now=now, agency=_scope(principal, agency), per_agency=per_agency
    )


@router.get(
    "/immediate.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "A printable HTML page"}},
)
def immediate_html(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    lang: LangParam = "fa",
    agency: AgencyParam = None,
    per_agency: PerAgencyParam = DEFAULT_PER_AGENCY,
    disposition: DispositionParam = "attachment",
) -> HTMLResponse:
    """The immediate report as one self-contained, printable HTML page."""
    report = immediate_report(
        session=session, now=now, agency=_scope(principal, agency), per_agency=per_agency
    )
    return HTMLResponse(
        render.html(report, lang),
        headers=_disposition(disposition, render.filename(report, lang, "html")),
    )


@router.get(
    "/immediate.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The report as a PDF"},
        503: {
            "description": "The PDF font has not been installed by the asset step",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        },
    },
)
def immediate_pdf(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    lang: LangParam = "fa",
    agency: AgencyParam = None,
    per_agency: PerAgencyParam = DEFAULT_PER_AGENCY,
    disposition: DispositionParam = "attachment",
) -> Response:
    """The immediate report as a PDF (A4 landscape), Persian or English."""
    scope = _scope(principal, agency)
    render.font_paths()  # a clear 503 before any work when the assets are not built
    report = immediate_report(session=session, now=now, agency=scope, per_agency=per_agency)
    return Response(
        render.pdf(report, lang),
        media_type="application/pdf",
        headers=_disposition(disposition, render.filename(report, lang, "pdf")),
    )
