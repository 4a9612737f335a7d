"""The national dashboard page: the league table, trends, provinces, drill-down, the meter.

Server-rendered with the web pages' templates, sign-in, language and security headers
(``panjereh.web``), read-only: it never changes state. Its own templates extend the web
pages' ``base.html``; its messages are translated here (``PERSIAN``), falling back to the
web catalogue, so the web package's catalogue needs no entry for them. Charts are drawn by
chart.js from data carried in ``data-chart`` attributes (no inline script: the pages'
Content-Security-Policy forbids it); the same figures are in the tables beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, pass_context
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from jinja2.runtime import Context

from panjereh.auth.models import Role
from panjereh.dashboard import exports, periods, queries
from panjereh.dashboard import router as api
from panjereh.dashboard.periods import Period
from panjereh.dashboard.projector import ALL
from panjereh.dashboard.router import parse_period
from panjereh.dashboard.settings import get_dashboard_settings
from panjereh.errors import Forbidden
from panjereh.exchange import service as exchange
from panjereh.web.core import Page, PageDep, WebRoute
from panjereh.web.i18n import Lang
from panjereh.web.templating import templates

router = APIRouter(route_class=WebRoute, include_in_schema=False)
STATIC = Path(str(resources.files("panjereh.dashboard") / "static"))
READERS = (Role.SUPERVISOR, Role.ADMIN, Role.AGENCY_HEAD)
PERIODS = ("last:7", "last:30", "last:90", "last:365", "all")
SORTABLE = (
    "agency",
    "received",
    "on_time_rate",
    "agency_p50",
    "elapsed_p50",
    "info_requests_per_100",
    "paused_share",
    "overdue_now",
    "value_waiting_usd",
    "capital_usd_days",
)
BUSINESS_DAY = 420

PERSIAN: dict[str, str] = {
    "National dashboard": "داشبورد ملی",
    "Which agency holds trade back, and what the delay costs.": (
        "کدام دستگاه تجارت را معطل می‌کند و این تأخیر چه هزینه‌ای دارد."
    ),
    "Period": "بازه",
    "Last 7 days": "۷ روز گذشته",
    "Last 30 days": "۳۰ روز گذشته",
    "Last 90 days": "۹۰ روز گذشته",
    "Last 365 days": "۳۶۵ روز گذشته",
    "All time": "از آغاز",
    "This Jalali month": "ماه جاری (شمسی)",
    "Show": "نمایش",
    "Figures up to": "ارقام تا",
    "events behind the log": "رویداد عقب‌تر از دفتر رویدادها",
    "The figures are behind: is the worker running?": (
        "ارقام عقب مانده‌اند: آیا پردازشگر پس‌زمینه در حال اجراست؟"
    ),
    "Received": "دریافتی",
    "Answered": "پاسخ‌داده",
    "On time": "به‌موقع",
    "Overdue now": "معوق اکنون",
    "Open now": "باز اکنون",
    "Value waiting now": "ارزش کالای منتظر",
    "Capital locked": "سرمایه حبس‌شده",
    "capital-days": "دلار-روز",
    "Cost of the delay": "هزینه تأخیر",
    "at a daily cost of capital of": "با هزینه روزانه سرمایه",
    "Goods waiting now (each declaration once)": "کالای منتظر اکنون (هر اظهارنامه یک بار)",
    "of the value filed in the period": "از ارزش اظهارشده در این بازه",
    "League table of agencies": "جدول رتبه‌بندی دستگاه‌ها",
    "Worst on-time rate first. Sort by any column.": (
        "کمترین نرخ پاسخ به‌موقع در بالا. بر اساس هر ستون مرتب کنید."
    ),
    "Agency": "دستگاه",
    "On-time rate": "نرخ به‌موقع",
    "Agency time p50": "زمان دستگاه (میانه)",
    "Agency time p90": "زمان دستگاه (صدک ۹۰)",
    "Trader's wait p50": "انتظار بازرگان (میانه)",
    "Info requests per 100": "درخواست اطلاعات در هر ۱۰۰",
    "Time paused": "سهم زمان توقف",
    "Capital-days": "دلار-روز",
    "business days": "روز کاری",
    "days": "روز",
    "Trends": "روندها",
    "Weekly: received, answered on time, and the trader's median wait.": (
        "هفتگی: دریافتی، پاسخ به‌موقع و میانه انتظار بازرگان."
    ),
    "Week": "هفته",
    "Median wait (days)": "میانه انتظار (روز)",
    "Clearance": "ترخیص",
    "Filing to clearance": "از اظهار تا ترخیص",
    "median": "میانه",
    "Cleared": "ترخیص‌شده",
    "Last to answer (the critical path)": "آخرین پاسخ‌دهنده (مسیر بحرانی)",
    "Share": "سهم",
    "Provinces": "استان‌ها",
    "Province": "استان",
    "Overdue inquiries": "استعلام‌های معوق",
    "Longest overdue first.": "بیشترین تأخیر در بالا.",
    "Inquiry": "استعلام",
    "Declaration": "اظهارنامه",
    "Inquiry type": "نوع استعلام",
    "Due": "مهلت",
    "Overdue by": "تأخیر",
    "Level": "سطح",
    "Value (USD)": "ارزش (دلار)",
    "No overdue inquiries.": "استعلام معوقی نیست.",
    "Top reasons for rejecting": "پرتکرارترین دلایل رد",
    "Reason": "دلیل",
    "Count": "تعداد",
    "Back to the national dashboard": "بازگشت به داشبورد ملی",
    "Data": "داده‌ها",
    "Download": "دریافت",
    "Nothing in this period yet.": "در این بازه هنوز داده‌ای نیست.",
    "Inquiries": "استعلام‌ها",
    "The agency's clock stops while it waits on the trader; the trader's wait does not.": (
        "ساعت دستگاه هنگام انتظار برای بازرگان متوقف می‌شود؛ انتظار بازرگان متوقف نمی‌شود."
    ),
    "Escalations": "ارجاع‌ها",
    "Adoption": "استفاده از سامانه",
    "Who uses the single window: sign-ins over the last 30 days against the same 30 days a "
    "year before, and the accounts.": (
        "چه کسانی از پنجره واحد استفاده می‌کنند: ورودها در ۳۰ روز گذشته در برابر همان ۳۰ روز در "
        "یک سال پیش و حساب‌ها."
    ),
    "Active users": "کاربران فعال",
    "Sign-ins": "ورودها",
    "a year before": "یک سال پیش",
    "Growth": "رشد",
    "sign-ins, against a year before": "ورودها، در برابر یک سال پیش",
    "Accounts": "حساب‌ها",
    "opened in the last 365 days": "ایجادشده در ۳۶۵ روز گذشته",
    "By role": "به تفکیک نقش",
    "By province": "به تفکیک استان",
    "No province": "بدون استان",
    "%(p)s up": "%(p)s افزایش",
    "%(p)s down": "%(p)s کاهش",
    "Delivery to agencies' systems": "تحویل به سامانه‌های دستگاه‌ها",
    "Messages to each connected agency's own system: those its system has not taken in yet "
    "(some given up after every retry), and the time from the commit to the agency's receipt.": (
        "پیام‌های ارسالی به سامانه هر دستگاه متصل: آنچه سامانه دستگاه هنوز دریافت نکرده است "
        "(برخی پس از همه تلاش‌ها رهاشده) و زمان از ثبت تا دریافت در دستگاه."
    ),
    "Mode": "شیوه",
    "Messages": "پیام‌ها",
    "Delivered": "تحویل‌شده",
    "Not taken in": "دریافت‌نشده",
    "of them given up": "از آن میان رهاشده",
    "Oldest not taken in": "قدیمی‌ترین دریافت‌نشده",
    "Delivery time p50": "زمان تحویل (میانه)",
    "seconds": "ثانیه",
    "Last error": "آخرین خطا",
    "No agency system is connected yet.": "هنوز سامانه هیچ دستگاهی متصل نشده است.",
    "Dashboard": "داشبورد",
}


def _translate(lang: Lang, message: str) -> str:
    """``message`` in ``lang``: the dashboard's own Persian, else the web catalogue's."""
    if lang.code == "fa" and message in PERSIAN:
        return PERSIAN[message]
    return lang.gettext(message)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translate(context["lang"], message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    text: str = context["lang"].ngettext(singular, plural, n)
    return text


def _percent(value: Decimal | float | None, lang: Lang) -> str:
    if value is None:
        return "–"
    return f"{lang.fixed(value * 100, 1)}{'٪' if lang.code == 'fa' else '%'}"


def _days(minutes: float | None, per_day: int, lang: Lang) -> str:
    if minutes is None:
        return "–"
    return lang.fixed(minutes / per_day, 1)


def _growth(value: Decimal | None, lang: Lang) -> str:
    """A change against a year before, in words (a sign reads badly beside Persian digits)."""
    if value is None:
        return "–"
    message = "%(p)s up" if value >= 0 else "%(p)s down"
    return _translate(lang, message) % {"p": _percent(abs(value), lang)}


def _money(value: Decimal | int | None, lang: Lang) -> str:
    if value is None:
        return "–"
    return lang.number(Decimal(value).quantize(Decimal(1)))


def _rate_class(value: Decimal | None) -> str:
    if value is None:
        return "rate-none"
    if value >= Decimal("0.9"):
        return "rate-good"
    if value >= Decimal("0.75"):
        return "rate-fair"
    if value >= Decimal("0.5"):
        return "rate-poor"
    return "rate-bad"


@cache
def environment() -> Environment:
    """The web pages' environment, overlaid with the dashboard's templates and messages."""
    base = templates()
    env = base.overlay(
        loader=ChoiceLoader([PackageLoader("panjereh.dashboard", "templates"), base.loader])  # type: ignore[list-item]
    )
    env.globals = dict(base.globals)  # an overlay shares its parent's globals: copy them
    # The same new-style wrappers the i18n extension installs (they pass the context on).
    translate: Any = _make_new_gettext(cast(Any, _gettext))
    env.globals.update(
        gettext=translate,
        _=translate,
        ngettext=_make_new_ngettext(cast(Any, _ngettext)),
        rate_class=_rate_class,
        sortable=SORTABLE,
        business_day=BUSINESS_DAY,
    )
    env.filters.update(
        percent=lambda v, lang: _percent(v, lang),
        days=lambda m, per, lang: _days(m, per, lang),
        money=lambda v, lang: _money(v, lang),
        growth=lambda v, lang: _growth(v, lang),
    )
    return env


def render(page: Page, template: str, **context: Any) -> HTMLResponse:
    """A dashboard template rendered by ``Page.render`` itself (the same context, language
    and headers as every page): Jinja2's ``get_template`` returns a template object given to
    it as it is, so the web environment renders ours."""
    found: Any = environment().get_template(template)
    return page.render(found, **context)


def _chart(points: list[dict[str, Any]], lang: Any) -> str:
    """The weekly trend as chart data (labels in the page's language)."""
    labels = [lang.date(datetime.fromisoformat(p["label"] + "T12:00:00+00:00")) for p in points]
    received = [p["received"] for p in points]
    on_time = [p["on_time"] for p in points]
    wait = [
        round(p["elapsed_minutes"]["p50"]["minutes"] / 1440, 1)
        if p["elapsed_minutes"]["p50"]
        else None
        for p in points
    ]
    return json.dumps(
        {"labels": labels, "received": received, "on_time": on_time, "wait_days": wait},
        ensure_ascii=False,
    )


def _sorted(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    getters: dict[str, Callable[[dict[str, Any]], Any]] = {
        "agency_p50": lambda r: (r["agency_minutes"]["p50"] or {}).get("minutes"),
        "elapsed_p50": lambda r: (r["elapsed_minutes"]["p50"] or {}).get("minutes"),
    }
    get: Callable[[dict[str, Any]], Any] = getters.get(key, lambda r: r.get(key))
    present = [r for r in rows if get(r) is not None]
    missing = [r for r in rows if get(r) is None]
    return sorted(present, key=get, reverse=descending) + missing


def _options(today: int, lang: str) -> list[tuple[str, str]]:
    """The periods offered: the fixed ones and the current Jalali month, by name."""
    jmonth = periods.jalali_month(today)
    this_month = f"jmonth:{jmonth // 100}-{jmonth % 100:02d}"
    return [(p, p) for p in PERIODS] + [(this_month, periods.jalali_label(jmonth, lang))]


def _period(text: str, now: datetime) -> tuple[str, Period]:
    try:
        return text, parse_period(text, today=periods.tehran_day(now))
    except Exception:
        return "last:30", parse_period("last:30", today=periods.tehran_day(now))


@router.get("/dashboard")
def dashboard(
    page: PageDep,
    period: Annotated[str, Query(max_length=40)] = "last:30",
    sort: Annotated[str, Query(max_length=40)] = "on_time_rate",
    order: Annotated[str, Query(max_length=4)] = "asc",
) -> Response:
    """The national dashboard (supervisors, administrators; agency heads see the league
    table and their own agency)."""
    principal = page.require(*READERS)
    own = principal.agency_code if principal.role == Role.AGENCY_HEAD else None
    chosen, span = _period(period, page.now)
    rate = get_dashboard_settings().daily_cost_of_capital
    session, now = page.db, page.now
    table = queries.league(session, period=span, now=now, cost_rate=rate)
    key = sort if sort in SORTABLE else "on_time_rate"
    rows = _sorted(table["agencies"], key, order == "desc")
    today = periods.tehran_day(now)
    trend = queries.trend(
        session, grain="w", first=today - 7 * 25, last=today, cost_rate=rate, agency=own or ALL
    )
    provinces = queries.breakdown(
        session, dimension="province", period=span, now=now, cost_rate=rate, agency=own or ALL
    )
    national = own is None  # supervisors and administrators: the national sections too
    clearance = queries.clearance(session, period=span) if national else None
    filed = table["national"]["goods_value_filed_usd"] or 0
    waiting = table["national"]["goods_waiting_usd"] or 0
    return render(
        page,
        "dashboard/overview.html",
        table=table,
        rows=rows,
        sort=key,
        order=order,
        period=chosen,
        span=span,
        options=_options(today, page.lang.code),
        trend_json=_chart(trend["points"], page.lang),
        trend=trend["points"],
        provinces=provinces["rows"],
        clearance=clearance,
        fresh=queries.freshness(session, now=now),
        own=own,
        rate=rate,
        meter=min(1.0, waiting / filed) if filed else 0.0,
        jalali_label=periods.jalali_label,
        adoption=queries.adoption(session, now=now) if national else None,
        delivery=exchange.health(session=session, principal=principal) if national else None,
    )


@router.get("/dashboard/agencies/{agency}")
def agency_page(
    page: PageDep,
    agency: str,
    period: Annotated[str, Query(max_length=40)] = "last:30",
) -> Response:
    """Drill-down: one agency's figures, its overdue inquiries, provinces and reasons."""
    principal = page.require(*READERS)
    if principal.role == Role.AGENCY_HEAD and principal.agency_code != agency:
        raise Forbidden("an agency head sees only their own agency")
    chosen, span = _period(period, page.now)
    rate = get_dashboard_settings().daily_cost_of_capital
    session, now = page.db, page.now
    table = queries.league(session, period=span, now=now, cost_rate=rate)
    row = next((r for r in table["agencies"] if r["agency"] == agency), None)
    today = periods.tehran_day(now)
    trend = queries.trend(
        session, grain="w", first=today - 7 * 25, last=today, cost_rate=rate, agency=agency
    )
    return render(
        page,
        "dashboard/agency.html",
        agency=agency,
        row=row,
        period=chosen,
        options=_options(today, page.lang.code),
        overdue=queries.overdue_list(session, agency=agency, now=now, limit=100),
        provinces=queries.breakdown(
            session, dimension="province", period=span, now=now, cost_rate=rate, agency=agency
        )["rows"],
        reasons=queries.reasons(session, period=span, agency=agency)["reasons"],
        trend_json=_chart(trend["points"], page.lang),
        fresh=queries.freshness(session, now=now),
    )


@router.get("/dashboard/data/{name}")
def data(
    page: PageDep,
    name: Literal["league", "overdue", "adoption", "delivery"],
    period: Annotated[str, Query(max_length=40)] = "last:30",
    agency: Annotated[str, Query(max_length=16)] = "",
    fmt: Annotated[Literal["csv", "xlsx", "json"], Query(alias="format")] = "csv",
) -> Any:
    """The page's tables as data for the signed-in reader (the API's endpoints, which take a
    bearer token, with the page's session): the same rows, the same access rules."""
    principal = page.require(*READERS)
    session, now = page.db, page.now
    if name == "league":  # a period it cannot read: 422, as from the API
        return api.league(principal, session, now, period=period, fmt=fmt)
    if name == "overdue":
        return api.overdue(principal, session, now, agency=agency, limit=1000, fmt=fmt)
    if name == "adoption":
        return api.adoption(principal, session, now, fmt=fmt)
    rows = [asdict(h) for h in exchange.health(session=session, principal=principal)]
    return exports.respond({"agencies": rows}, rows, fmt=fmt, name="delivery")


@router.get("/dashboard/assets/{name}")
def asset(name: str) -> Response:
    """The page's own script and styles (served from here: the web assets are not ours)."""
    if name not in ("dashboard.js", "dashboard.css"):
        return Response(status_code=404)
    media = "text/javascript" if name.endswith(".js") else "text/css"
    return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": "max-age=3600"})


def install(app: FastAPI) -> None:
    """Add the dashboard pages to an application that has the web pages (once; a second
    call changes nothing)."""
    if getattr(app.state, "dashboard_pages_installed", False):
        return
    app.state.dashboard_pages_installed = True
    app.include_router(router)
