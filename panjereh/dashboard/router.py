"""HTTP endpoints of the national dashboard: every chart and table as JSON, CSV or XLSX.

Access: supervisors and administrators see everything; an agency head sees the national
league table and every figure of their own agency; officers and traders may not read the
dashboard. Periods are Tehran days (see ``parse_period``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

import jdatetime
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from panjereh.api.deps import CurrentPrincipal, NowDep, SessionDep
from panjereh.api.responses import PROBLEMS
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.dashboard import exports, ocel, periods, queries
from panjereh.dashboard.periods import Period
from panjereh.dashboard.projector import ALL
from panjereh.dashboard.settings import get_dashboard_settings
from panjereh.errors import Forbidden, Invalid

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"], responses=PROBLEMS)

Format = Literal["json", "csv", "xlsx"]
FormatParam = Annotated[
    Format, Query(alias="format", description="json (default), csv or xlsx (a download).")
]
PeriodParam = Annotated[
    str,
    Query(
        max_length=40,
        description="Tehran days: `all`, `last:N` (N days to today), `day:YYYY-MM-DD`, "
        "`week:YYYY-MM-DD` (the Saturday-to-Friday week of that day), `month:YYYY-MM`, "
        "`jmonth:YYYY-MM` (Jalali), `year:YYYY`, `jyear:YYYY` (Jalali) or "
        "`YYYY-MM-DD/YYYY-MM-DD`.",
    ),
]
AgencyParam = Annotated[
    str | None,
    Query(
        max_length=16,
        description="An agency code; `*` for national figures (supervisors and "
        "administrators). Agency heads always get their own agency.",
    ),
]
READERS = (Role.SUPERVISOR, Role.ADMIN)


def reader_scope(principal: Principal) -> str | None:
    """The agency the caller is limited to (None: every agency), or 403."""
    if principal.role in READERS:
        return None
    if principal.role == Role.AGENCY_HEAD and principal.agency_code:
        return principal.agency_code
    raise Forbidden("the dashboard is for supervisors, administrators and agency heads")


def _agency(principal: Principal, agency: str | None) -> str:
    own = reader_scope(principal)
    if own is None:
        return agency or ALL
    if agency not in (None, own):
        raise Forbidden("an agency head sees only their own agency's figures", field="agency")
    return own


def _national_only(principal: Principal) -> None:
    if reader_scope(principal) is not None:
        raise Forbidden("national figures are for supervisors and administrators")


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(text: str) -> int:
    if not _ISO_DAY.match(text):
        raise ValueError(text)
    return date.fromisoformat(text).toordinal()


def parse_period(text: str, *, today: int) -> Period:
    """A period from its query text (see ``PeriodParam``), or a 422 naming ``period``."""
    try:
        kind, _, value = text.partition(":")
        if text == "all":
            return Period(1, today, all_time=True)
        if kind == "last" and value.isdigit() and 1 <= int(value) <= 3660:
            return periods.last_days(today, int(value))
        if kind == "day":
            day = _day(value)
            return Period(day, day)
        if kind == "week":
            return periods.week_of(_day(value))
        if kind in ("month", "jmonth") and re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = (int(x) for x in value.split("-"))
            if kind == "month":
                return periods.month_of(date(year, month, 1).toordinal(), jalali=False)
            first = jdatetime.date(year, month, 1).togregorian().toordinal()
            return periods.month_of(first, jalali=True)
        if kind in ("year", "jyear") and re.fullmatch(r"\d{4}", value):
            if kind == "year":
                return periods.year_of(date(int(value), 1, 1).toordinal(), jalali=False)
            first = jdatetime.date(int(value), 1, 1).togregorian().toordinal()
            return periods.year_of(first, jalali=True)
        if "/" in text:
            start, end = (_day(x) for x in text.split("/", 1))
            if start <= end and end - start <= 3660:
                return Period(start, end)
    except (ValueError, OverflowError):
        pass
    raise Invalid(
        f"period {text!r} is not one of all, last:N, day:, week:, month:, jmonth:, year:, "
        "jyear: or FROM/TO",
        field="period",
    )


def _today(now: datetime) -> int:
    return periods.tehran_day(now)


def _rate() -> Any:
    return get_dashboard_settings().daily_cost_of_capital


@router.get("/league")
def league(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    period: PeriodParam = "all",
    fmt: FormatParam = "json",
) -> Any:
    """The national league table of agencies (worst on-time rate first) and national totals:
    volume, on-time rate, p50/p90 agency and elapsed time, information requests per 100 and
    share of time paused, escalations, open and overdue now, value waiting, capital-days."""
    reader_scope(principal)
    body = queries.league(
        session, period=parse_period(period, today=_today(now)), now=now, cost_rate=_rate()
    )
    return exports.respond(body, body["agencies"], fmt=fmt, name="league")


@router.get("/breakdown/{dimension}")
def breakdown(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    dimension: Literal["type", "province", "office", "chapter"],
    agency: AgencyParam = None,
    period: PeriodParam = "last:30",
    fmt: FormatParam = "json",
) -> Any:
    """The KPIs by inquiry type, province, customs office or HS chapter, nationally or for
    one agency."""
    body = queries.breakdown(
        session,
        dimension=dimension,
        period=parse_period(period, today=_today(now)),
        now=now,
        cost_rate=_rate(),
        agency=_agency(principal, agency),
    )
    return exports.respond(body, body["rows"], fmt=fmt, name=f"breakdown-{dimension}")


@router.get("/trend")
def trend(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    grain: Annotated[
        Literal["d", "w", "m", "j"], Query(description="day, week, month, Jalali month")
    ] = "w",
    points: Annotated[int, Query(ge=1, le=400)] = 26,
    agency: AgencyParam = None,
    fmt: FormatParam = "json",
) -> Any:
    """The KPIs over time, the last ``points`` days, weeks or months up to today."""
    today = _today(now)
    first = {"d": today - points + 1, "w": today - 7 * (points - 1)}.get(grain)
    if first is None:
        first = today - 31 * (points - 1)
    body = queries.trend(
        session,
        grain=grain,
        first=first,
        last=today,
        cost_rate=_rate(),
        agency=_agency(principal, agency),
    )
    return exports.respond(body, body["points"], fmt=fmt, name="trend")


@router.get("/clearance")
def clearance(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    period: PeriodParam = "last:30",
    fmt: FormatParam = "json",
) -> Any:
    """Filing to clearance (median, p90) and the critical path: which agency answered last."""
    _national_only(principal)
    body = queries.clearance(session, period=parse_period(period, today=_today(now)))
    return exports.respond(body, body["critical_path"], fmt=fmt, name="clearance")


@router.get("/cost")
def cost(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    period: PeriodParam = "last:30",
    fmt: FormatParam = "json",
) -> Any:
    """What the delay costs: value waiting now and capital-days over the period, per agency
    (an agency's goods) and nationally (each declaration's goods once), with the cost at the
    configured daily cost of capital."""
    scope = reader_scope(principal)
    table = queries.league(
        session, period=parse_period(period, today=_today(now)), now=now, cost_rate=_rate()
    )
    rows = [
        {
            "agency": r["agency"],
            "name_en": r["name_en"],
            "value_waiting_usd": r["value_waiting_usd"],
            "overdue_value_usd": r["overdue_value_usd"],
            "capital_usd_days": r["capital_usd_days"],
            "cost_usd": r["cost_usd"],
        }
        for r in table["agencies"]
        if scope is None or r["agency"] == scope
    ]
    rows.sort(key=lambda r: -r["capital_usd_days"])
    national = table["national"]
    body = {
        "period": table["period"],
        "daily_cost_of_capital": _rate(),
        "agencies": rows,
        "national": None
        if scope is not None
        else {
            k: national[k]
            for k in (
                "declarations_waiting",
                "goods_waiting_usd",
                "goods_capital_usd_days",
                "goods_cost_usd",
            )
        },
    }
    return exports.respond(body, rows, fmt=fmt, name="cost")


@router.get("/reasons")
def reasons(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    agency: AgencyParam = None,
    period: PeriodParam = "last:90",
    top: Annotated[
        int | None, Query(ge=1, le=100, description="How many (PANJEREH_DASHBOARD_TOP_REASONS).")
    ] = None,
    fmt: FormatParam = "json",
) -> Any:
    """The most frequent reasons for rejecting (case, numbers and punctuation folded)."""
    body = queries.reasons(
        session,
        period=parse_period(period, today=_today(now)),
        agency=_agency(principal, agency),
        top=top or get_dashboard_settings().top_reasons,
    )
    return exports.respond(body, body["reasons"], fmt=fmt, name="reasons")


@router.get("/agencies/{agency}/overdue")
def overdue(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    agency: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    fmt: FormatParam = "json",
) -> Any:
    """Drill-down: the agency's inquiries overdue now, the longest overdue first."""
    code = _agency(principal, agency)
    body = queries.overdue_list(session, agency=code, now=now, limit=limit)
    return exports.respond(body, body["inquiries"], fmt=fmt, name=f"overdue-{code}")


@router.get("/delivery")
def delivery(
    principal: CurrentPrincipal, session: SessionDep, now: NowDep, fmt: FormatParam = "json"
) -> Any:
    """Delivery health of the outbox: jobs by kind and state, attempts, dead jobs, latency."""
    _national_only(principal)
    body = queries.delivery(session, now=now)
    return exports.respond(body, body["kinds"], fmt=fmt, name="delivery")


@router.get("/adoption")
def adoption(
    principal: CurrentPrincipal, session: SessionDep, now: NowDep, fmt: FormatParam = "json"
) -> Any:
    """Users by province and role, accounts opened in the last year against the year before,
    and active users and sign-ins over the last 30 days against the same days a year before
    (the CSV and XLSX rows: the accounts by province and role)."""
    _national_only(principal)
    body = queries.adoption(session, now=now)
    return exports.respond(body, body["groups"], fmt=fmt, name="adoption")


@router.get("/freshness")
def freshness(principal: CurrentPrincipal, session: SessionDep, now: NowDep) -> Any:
    """How far the figures are behind the event log (a stalled worker shows here)."""
    reader_scope(principal)
    return queries.freshness(session, now=now)


@router.get(
    "/ocel",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}, "description": "OCEL 2.0 JSON"}},
)
def ocel_export(principal: CurrentPrincipal, request: Request) -> StreamingResponse:
    """The event log as OCEL 2.0 JSON (declarations and inquiries as objects), streamed."""
    _national_only(principal)
    factory = request.app.state.session_factory

    def stream() -> Any:
        with factory() as session:
            for piece in ocel.chunks(session):
                yield piece.encode("utf-8")

    return StreamingResponse(
        stream(),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="panjereh-ocel2.json"'},
    )
