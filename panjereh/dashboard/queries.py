"""The dashboard's figures, read from the projector's aggregates (never from raw history).

A period is split into whole months, weeks and days (``periods.split``), so a figure over any
period reads a few dozen rollup rows per group, and over all time one row per group. What is
open now comes from the projection of open inquiries and declarations, which is as small as
the open queue. Every function takes ``now`` from the caller (the application's clock).

Definitions (see ``docs/dashboard.md``):

- *answered* = approved + rejected; *on-time rate* = answered at or before the deadline then
  in force / answered; *rejection rate* = rejected / answered;
- *agency time* = business minutes the agency's clock ran (paused stretches excluded);
  *elapsed time* = wall-clock minutes from filing to answer, as the trader felt it;
  p50 and p90 are nearest-rank percentiles read from histograms: the exact value lies in the
  reported ``[low, high)`` bin;
- *information requests per 100* = requests for information / received × 100; *share of
  time paused* = paused minutes / elapsed minutes of the inquiries answered;
- *capital-days* = US dollars of goods × days waiting; *cost* = capital-days × the daily cost
  of capital.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.audit.models import ChainHead, Event
from panjereh.auth.models import User
from panjereh.dashboard import histogram, periods
from panjereh.dashboard.models import (
    HISTOGRAMS,
    MEASURES,
    DashboardOpenCell,
    DashboardOpenInquiry,
    DashboardPosition,
    DashboardReason,
    DashboardRollup,
    DashboardSignIn,
)
from panjereh.dashboard.periods import Period
from panjereh.dashboard.projector import ALL, GOODS
from panjereh.jobs.models import Job, JobState

DIMENSIONS = ("type", "province", "office", "chapter")
"""What a breakdown can group by (besides agency)."""
_OPEN_COLUMNS = {
    "all": DashboardOpenCell.agency,
    "type": DashboardOpenCell.inquiry_type,
    "province": DashboardOpenCell.province,
    "office": DashboardOpenCell.customs_office,
    "chapter": DashboardOpenCell.hs_chapter,
}
_OVERDUE_COLUMNS = {
    "all": DashboardOpenInquiry.agency,
    "type": DashboardOpenInquiry.inquiry_type,
    "province": DashboardOpenInquiry.province,
    "office": DashboardOpenInquiry.customs_office,
    "chapter": DashboardOpenInquiry.hs_chapter,
}
MINUTES_PER_DAY = 1440
LEVELS = 4
_RATE = Decimal("0.0001")
_CENT = Decimal("0.01")


@dataclass(slots=True)
class Figures:
    """Counters and dense histograms of one group over one period."""

    measures: list[int] = field(default_factory=lambda: [0] * len(MEASURES))
    hists: list[list[int]] = field(
        default_factory=lambda: [[0] * histogram.BINS for _ in HISTOGRAMS]
    )

    def __getitem__(self, name: str) -> int:
        return self.measures[_INDEX[name]]

    def add_row(self, row: Sequence[Any], hist_names: Sequence[str]) -> None:
        mine = self.measures
        for i in range(len(MEASURES)):
            value = row[i]
            if value:
                mine[i] += value
        for offset, name in enumerate(hist_names):
            histogram.add_into(self.hists[_HIST_INDEX[name]], row[len(MEASURES) + offset])

    def add(self, other: Figures) -> None:
        for i, value in enumerate(other.measures):
            self.measures[i] += value
        for mine, theirs in zip(self.hists, other.hists, strict=True):
            for i, value in enumerate(theirs):
                if value:
                    mine[i] += value


_INDEX = {name: i for i, name in enumerate(MEASURES)}
_HIST_INDEX = {name: i for i, name in enumerate(HISTOGRAMS)}


def _period_filter(period: Period) -> ColumnElement[bool]:
    r = DashboardRollup
    clauses = [
        and_(r.grain == grain, r.period.between(low, high))
        for grain, low, high in periods.runs(periods.split(period))
    ]
    return or_(*clauses) if len(clauses) > 1 else clauses[0]


def figures(
    session: Session,
    *,
    period: Period,
    dimension: str,
    agency: str | None,
    hists: Sequence[str] = ("hist_agency", "hist_elapsed"),
) -> dict[tuple[str, str], Figures]:
    """Figures by (agency, key) for one dimension over ``period``.

    ``agency`` None: one group per agency (``all``) or per agency and key; ``*``: national
    groups; a code: that agency's groups only.
    """
    r = DashboardRollup
    columns = [getattr(r, name) for name in (*MEASURES, *hists)]
    query = select(r.agency, r.key, *columns).where(
        r.dimension == dimension, _period_filter(period)
    )
    query = query.where(r.agency != ALL) if agency is None else query.where(r.agency == agency)
    found: dict[tuple[str, str], Figures] = {}
    for row in session.execute(query):
        group = (row[0], row[1])
        target = found.get(group)
        if target is None:
            target = found[group] = Figures()
        target.add_row(row[2:], hists)
    return found


# -- what a row of figures says -----------------------------------------------------------


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` to four places (half up), or None over zero."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_RATE, rounding=ROUND_HALF_UP)


def _percentiles(dense: list[int], total: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fraction in (("p50", 0.5), ("p90", 0.9)):
        found = histogram.percentile(dense, fraction, total) if total else None
        out[name] = (
            None
            if found is None
            else {"low": found.low, "high": found.high, "minutes": found.minutes}
        )
    return out


def capital_days(usd_minutes: int) -> Decimal:
    """US-dollar days from US-dollar minutes, to the cent."""
    return (Decimal(usd_minutes) / MINUTES_PER_DAY).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class OpenNow:
    """What is open in a group right now."""

    open: int = 0
    paused: int = 0
    value_usd: int = 0
    capital_tail: int = 0
    overdue: tuple[int, ...] = (0,) * LEVELS
    overdue_value_usd: int = 0


def kpis(fig: Figures, *, cost_rate: Decimal, open_now: OpenNow | None = None) -> dict[str, Any]:
    """Every KPI of one group, from its figures (and what is open in it now)."""
    answered = fig["answered"]
    open_now = open_now or OpenNow()
    capital = fig["capital_usd_minutes"] + open_now.capital_tail
    days = capital_days(capital)
    overdue = list(open_now.overdue)
    out: dict[str, Any] = {
        "received": fig["received"],
        "answered": answered,
        "approved": fig["approved"],
        "rejected": fig["rejected"],
        "on_time": fig["on_time"],
        "on_time_rate": ratio(fig["on_time"], answered),
        "rejection_rate": ratio(fig["rejected"], answered),
        "info_requests": fig["info_requests"],
        "info_requests_per_100": (
            None
            if not fig["received"]
            else (Decimal(100 * fig["info_requests"]) / fig["received"]).quantize(_CENT)
        ),
        "paused_share": ratio(fig["paused_minutes"], fig["elapsed_minutes"]),
        "lapsed": fig["lapsed"],
        "withdrawn": fig["withdrawn"],
        "agency_minutes_mean": (
            None if not answered else round(fig["agency_minutes"] / answered, 1)
        ),
        "elapsed_minutes_mean": (
            None if not answered else round(fig["elapsed_minutes"] / answered, 1)
        ),
        "agency_minutes": _percentiles(fig.hists[0], answered),
        "elapsed_minutes": _percentiles(fig.hists[1], answered),
        "escalations": [fig[f"escalations_{n}"] for n in range(1, LEVELS + 1)],
        "value_received_usd": fig["value_received_usd"],
        "capital_usd_days": days,
        "cost_usd": (days * cost_rate).quantize(_CENT, rounding=ROUND_HALF_UP),
        "open_now": open_now.open,
        "paused_now": open_now.paused,
        "overdue_now": sum(overdue),
        "overdue_now_by_level": overdue,
        "value_waiting_usd": open_now.value_usd,
        "overdue_value_usd": open_now.overdue_value_usd,
    }
    return out


# -- what is open now -----------------------------------------------------------------


def open_now(
    session: Session,
    *,
    dimension: str,
    agency: str | None,
    now: datetime,
    period: Period | None = None,
) -> dict[tuple[str, str], OpenNow]:
    """Open, paused, value waiting, overdue by level, and the capital not yet counted, by
    (agency, key) for ``dimension`` (national groups when ``agency`` is ``*``)."""
    c = DashboardOpenCell
    key_col = _OPEN_COLUMNS[dimension]
    agency_col: Any = c.agency
    group: list[Any] = [key_col] if dimension != "all" else []
    now_min = periods.epoch_minutes(now)
    start = period.start_minutes() if period is not None else now_min
    end = min(now_min, period.end_minutes()) if period is not None else now_min
    since = case((c.integrated_to > start, c.integrated_to), else_=start)
    tail = func.sum(case((c.integrated_to < end, c.value_usd * (end - since)), else_=0))
    query = select(func.sum(c.open), func.sum(c.paused), func.sum(c.value_usd), tail)
    if agency in (None, ALL):
        query = query.where(c.agency != GOODS)
    else:
        query = query.where(c.agency == agency)
    if agency is None:
        group = [agency_col, *group]
    found: dict[tuple[str, str], OpenNow] = {}
    rows = session.execute(query.add_columns(*group).group_by(*group) if group else query)
    for row in rows:
        total_open, paused, value, capital = row[:4]
        rest = list(row[4:])
        who = rest.pop(0) if agency is None else (agency or ALL)
        key = rest.pop(0) if dimension != "all" else ALL
        found[(who, key)] = OpenNow(
            int(total_open or 0), int(paused or 0), int(value or 0), int(capital or 0)
        )
    for (who, key), levels, value in _overdue(session, dimension, agency, now):
        base = found.get((who, key), OpenNow())
        found[(who, key)] = OpenNow(
            base.open, base.paused, base.value_usd, base.capital_tail, levels, value
        )
    return found


def _overdue(
    session: Session, dimension: str, agency: str | None, now: datetime
) -> Iterable[tuple[tuple[str, str], tuple[int, ...], int]]:
    o = DashboardOpenInquiry
    key_col = _OVERDUE_COLUMNS[dimension]
    query = select(o.agency, key_col, o.level, func.count(), func.sum(o.value_usd)).where(
        o.paused.is_(False), o.due_at < now
    )
    if agency not in (None, ALL):
        query = query.where(o.agency == agency)
    query = query.group_by(o.agency, key_col, o.level)
    totals: dict[tuple[str, str], list[int]] = {}
    values: dict[tuple[str, str], int] = {}
    for who, key, level, count, value in session.execute(query):
        group = (ALL if agency == ALL else who, ALL if dimension == "all" else key)
        levels = totals.setdefault(group, [0] * LEVELS)
        levels[min(max(level, 1), LEVELS) - 1] += int(count)
        values[group] = values.get(group, 0) + int(value or 0)
    for group, levels in totals.items():
        yield group, tuple(levels), values[group]


def goods_waiting(session: Session, *, now: datetime, period: Period | None = None) -> OpenNow:
    """Declarations under inquiry now (goods counted once, however many agencies hold them)
    and the capital of theirs not yet counted."""
    c = DashboardOpenCell
    now_min = periods.epoch_minutes(now)
    start = period.start_minutes() if period is not None else now_min
    end = min(now_min, period.end_minutes()) if period is not None else now_min
    since = case((c.integrated_to > start, c.integrated_to), else_=start)
    tail = func.sum(case((c.integrated_to < end, c.value_usd * (end - since)), else_=0))
    row = session.execute(
        select(func.sum(c.open), func.sum(c.value_usd), tail).where(c.agency == GOODS)
    ).one()
    return OpenNow(int(row[0] or 0), 0, int(row[1] or 0), int(row[2] or 0))


# -- the views ------------------------------------------------------------------------


def agency_names(session: Session) -> dict[str, tuple[str, str]]:
    """English and Persian names of every agency."""
    return {
        code: (en, fa)
        for code, en, fa in session.execute(select(Agency.code, Agency.name_en, Agency.name_fa))
    }


def league(
    session: Session, *, period: Period, now: datetime, cost_rate: Decimal
) -> dict[str, Any]:
    """The national league table: one row per agency (worst on-time rate first), and the
    national totals."""
    found = figures(session, period=period, dimension="all", agency=None)
    current = open_now(session, dimension="all", agency=None, now=now, period=period)
    names = agency_names(session)
    rows = []
    for code in sorted({a for a, _ in found} | {a for a, _ in current}):
        fig = found.get((code, ALL), Figures())
        en, fa = names.get(code, (code, code))
        row = {"agency": code, "name_en": en, "name_fa": fa}
        row.update(kpis(fig, cost_rate=cost_rate, open_now=current.get((code, ALL))))
        rows.append(row)
    rows.sort(key=_league_order)
    national = figures(session, period=period, dimension="all", agency=ALL).get(
        (ALL, ALL), Figures()
    )
    total_open = OpenNow(
        sum(o.open for o in current.values()),
        sum(o.paused for o in current.values()),
        sum(o.value_usd for o in current.values()),
        sum(o.capital_tail for o in current.values()),
        tuple(sum(o.overdue[i] for o in current.values()) for i in range(LEVELS)),
        sum(o.overdue_value_usd for o in current.values()),
    )
    goods = goods_waiting(session, now=now, period=period)
    totals = kpis(national, cost_rate=cost_rate, open_now=total_open)
    goods_days = capital_days(national["goods_capital_usd_minutes"] + goods.capital_tail)
    totals.update(
        {
            "declarations_filed": national["declarations_filed"],
            "goods_value_filed_usd": national["goods_value_filed_usd"],
            "declarations_waiting": goods.open,
            "goods_waiting_usd": goods.value_usd,
            "goods_capital_usd_days": goods_days,
            "goods_cost_usd": (goods_days * cost_rate).quantize(_CENT, rounding=ROUND_HALF_UP),
        }
    )
    return {"period": _period_out(period), "agencies": rows, "national": totals}


def _league_order(row: dict[str, Any]) -> tuple[Any, ...]:
    rate = row["on_time_rate"]
    return (rate is None, rate if rate is not None else 0, -row["overdue_now"], row["agency"])


def breakdown(
    session: Session,
    *,
    dimension: str,
    period: Period,
    now: datetime,
    cost_rate: Decimal,
    agency: str = ALL,
) -> dict[str, Any]:
    """KPIs by inquiry type, province, customs office or HS chapter, nationally (``*``) or
    for one agency."""
    # Inquiry types belong to one agency each: "national" types are every agency's types.
    scope: str | None = None if dimension == "type" and agency == ALL else agency
    found = figures(session, period=period, dimension=dimension, agency=scope)
    current = open_now(session, dimension=dimension, agency=scope, now=now, period=period)
    rows = []
    for who, key in sorted(set(found) | set(current)):
        row: dict[str, Any] = {"agency": who, "key": key}
        row.update(
            kpis(
                found.get((who, key), Figures()),
                cost_rate=cost_rate,
                open_now=current.get((who, key)),
            )
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["received"], r["key"]))
    return {"period": _period_out(period), "dimension": dimension, "agency": agency, "rows": rows}


def trend(
    session: Session,
    *,
    grain: str,
    first: int,
    last: int,
    cost_rate: Decimal,
    agency: str = ALL,
) -> dict[str, Any]:
    """KPIs per day, week, Gregorian or Jalali month from ``first`` to ``last`` (date
    ordinals), nationally or for one agency."""
    r = DashboardRollup
    low, high = _grain_bounds(grain, first, last)
    query = (
        select(
            r.period,
            *[getattr(r, n) for n in (*MEASURES, "hist_agency", "hist_elapsed", "hist_clearance")],
        )
        .where(
            r.grain == grain,
            r.dimension == "all",
            r.agency == agency,
            r.key == ALL,
            r.period.between(low, high),
        )
        .order_by(r.period)
    )
    points = []
    for row in session.execute(query):
        fig = Figures()
        fig.add_row(row[1:], HISTOGRAMS)
        point = {"period": row[0], "label": _grain_label(grain, row[0])}
        point.update(kpis(fig, cost_rate=cost_rate))
        point["cleared"] = fig["cleared"]
        point["clearance_minutes"] = _percentiles(fig.hists[2], fig["cleared"])
        point["declarations_filed"] = fig["declarations_filed"]
        points.append(point)
    return {"grain": grain, "agency": agency, "points": points}


def _grain_bounds(grain: str, first: int, last: int) -> tuple[int, int]:
    if grain == "d":
        return first, last
    if grain == "w":
        return periods.week_start(first), periods.week_start(last)
    if grain == "m":
        return periods.gregorian_month(first), periods.gregorian_month(last)
    if grain == "j":
        return periods.jalali_month(first), periods.jalali_month(last)
    raise ValueError(f"unknown grain {grain!r}")


def _grain_label(grain: str, period: int) -> str:
    if grain in ("d", "w"):
        return date.fromordinal(period).isoformat()
    if grain == "m":
        return f"{period // 100:04d}-{period % 100:02d}"
    return periods.jalali_label(period, "en")


def clearance(session: Session, *, period: Period) -> dict[str, Any]:
    """Filing to clearance (median, p90) and which agency answered last (the critical path)."""
    national = figures(
        session, period=period, dimension="all", agency=ALL, hists=("hist_clearance",)
    ).get((ALL, ALL), Figures())
    by_agency = figures(
        session, period=period, dimension="all", agency=None, hists=("hist_clearance",)
    )
    cleared = national["cleared"]
    names = agency_names(session)
    critical = []
    for (code, _), fig in sorted(by_agency.items(), key=lambda kv: -kv[1]["cleared"]):
        if not fig["cleared"]:
            continue
        critical.append(
            {
                "agency": code,
                "name_en": names.get(code, (code, code))[0],
                "name_fa": names.get(code, (code, code))[1],
                "cleared": fig["cleared"],
                "share": ratio(fig["cleared"], cleared),
                "clearance_minutes_mean": round(fig["clearance_minutes"] / fig["cleared"], 1),
                "clearance_minutes": _percentiles(fig.hists[2], fig["cleared"]),
            }
        )
    return {
        "period": _period_out(period),
        "cleared": cleared,
        "declarations_filed": national["declarations_filed"],
        "refused": national["declarations_refused"],
        "cancelled": national["declarations_cancelled"],
        "clearance_minutes_mean": round(national["clearance_minutes"] / cleared, 1)
        if cleared
        else None,
        "clearance_minutes": _percentiles(national.hists[2], cleared),
        "critical_path": critical,
    }


def reasons(
    session: Session, *, period: Period, agency: str = ALL, top: int = 10
) -> dict[str, Any]:
    """The most frequent (normalised) reasons for rejecting, nationally or for one agency."""
    r = DashboardReason
    clauses = [
        and_(r.grain == grain, r.period.between(low, high))
        for grain, low, high in periods.runs(periods.split(period))
    ]
    total = func.sum(r.count).label("total")
    rows = session.execute(
        select(r.reason, total)
        .where(r.agency == agency, or_(*clauses))
        .group_by(r.reason)
        .order_by(total.desc(), r.reason)
        .limit(top)
    )
    return {
        "period": _period_out(period),
        "agency": agency,
        "reasons": [{"reason": reason, "count": int(count)} for reason, count in rows],
    }


def overdue_list(
    session: Session, *, agency: str, now: datetime, limit: int = 100
) -> dict[str, Any]:
    """Drill-down: an agency's overdue inquiries, the longest overdue first."""
    o = DashboardOpenInquiry
    where = (o.agency == agency, o.paused.is_(False), o.due_at < now)
    count = session.scalar(select(func.count()).select_from(o).where(*where)) or 0
    rows = session.execute(
        select(
            o.inquiry_id,
            o.declaration_id,
            o.inquiry_type,
            o.province,
            o.customs_office,
            o.hs_chapter,
            o.created_at,
            o.due_at,
            o.level,
            o.value_usd,
        )
        .where(*where)
        .order_by(o.due_at, o.inquiry_id)
        .limit(limit)
    )
    items = [
        {
            "inquiry_id": r[0],
            "declaration_id": r[1],
            "inquiry_type": r[2],
            "province": r[3],
            "customs_office": r[4],
            "hs_chapter": r[5],
            "received_at": r[6],
            "due_at": r[7],
            "overdue_minutes": int((now - r[7]).total_seconds() // 60),
            "level": r[8],
            "value_usd": r[9],
        }
        for r in rows
    ]
    return {"agency": agency, "now": now, "count": count, "inquiries": items}


def freshness(session: Session, *, now: datetime) -> dict[str, Any]:
    """How far the aggregates are behind the log: the newest projected event, the newest
    event in the log, and the lag between them (a stalled worker shows here)."""
    position = session.get(DashboardPosition, 1)
    head = session.get(ChainHead, 1)
    head_seq = head.seq if head is not None else 0
    newest_at = session.scalar(select(Event.at).where(Event.seq == head_seq)) if head_seq else None
    seq = position.seq if position is not None else 0
    projected_at = position.event_at if position is not None else None
    lag = None
    if newest_at is not None:
        lag = max(0.0, (newest_at - (projected_at or newest_at)).total_seconds())
        if seq < head_seq and projected_at is None:
            lag = None
    return {
        "now": now,
        "projected_seq": seq,
        "log_seq": head_seq,
        "events_behind": max(0, head_seq - seq),
        "newest_projected_event_at": projected_at,
        "newest_event_at": newest_at,
        "lag_seconds": lag,
        "last_run_at": position.projected_at if position is not None else None,
        "up_to_date": seq >= head_seq,
    }


def delivery(session: Session, *, now: datetime) -> dict[str, Any]:
    """Delivery health of the outbox: jobs by kind and state, attempts, dead jobs, latency."""
    j = Job
    rows = session.execute(
        select(
            j.kind,
            j.state,
            func.count(),
            func.sum(j.attempts),
            func.max(j.attempts),
            func.avg(j.last_latency_ms),
            func.max(j.last_latency_ms),
        ).group_by(j.kind, j.state)
    )
    kinds: dict[str, dict[str, Any]] = {}
    for kind, state, count, attempts, most, latency, slowest in rows:
        entry = kinds.setdefault(
            kind,
            {"kind": kind, "jobs": 0, "attempts": 0, "max_attempts": 0, "states": {}},
        )
        entry["jobs"] += int(count)
        entry["attempts"] += int(attempts or 0)
        entry["max_attempts"] = max(entry["max_attempts"], int(most or 0))
        entry["states"][state] = int(count)
        if state == JobState.DONE.value:
            entry["latency_ms_mean"] = round(float(latency), 1) if latency is not None else None
            entry["latency_ms_max"] = slowest
    for entry in kinds.values():
        entry["dead"] = entry["states"].get(JobState.DEAD.value, 0)
        entry["retried"] = entry["attempts"] - entry["states"].get(JobState.DONE.value, 0)
        entry["attempts_per_job"] = (
            round(entry["attempts"] / entry["jobs"], 2) if entry["jobs"] else None
        )
    overdue = session.scalar(
        select(func.count())
        .select_from(j)
        .where(j.state == JobState.PENDING.value, j.next_attempt_at < now)
    )
    return {
        "now": now,
        "kinds": sorted(kinds.values(), key=lambda k: k["kind"]),
        "due_now": overdue or 0,
    }


def adoption(session: Session, *, now: datetime) -> dict[str, Any]:
    """Users by province and role, accounts opened in the last year against the year before,
    and active users and sign-ins over the last 30 days against the same days a year before
    (``signins``)."""
    u = User
    year = now - timedelta(days=365)
    before = year - timedelta(days=365)
    rows = session.execute(
        select(
            u.province,
            u.role,
            func.count(),
            func.sum(case((u.is_active.is_(True), 1), else_=0)),
            func.sum(case((and_(u.created_at >= year, u.created_at < now), 1), else_=0)),
            func.sum(case((and_(u.created_at >= before, u.created_at < year), 1), else_=0)),
        ).group_by(u.province, u.role)
    )
    groups = []
    for province, role, count, active, recent, earlier in rows:
        groups.append(
            {
                "province": province or "",
                "role": role,
                "users": int(count),
                "active": int(active or 0),
                "opened_last_year": int(recent or 0),
                "opened_year_before": int(earlier or 0),
                "growth": ratio(int(recent or 0) - int(earlier or 0), int(earlier or 0)),
            }
        )
    groups.sort(key=lambda g: (g["province"], g["role"]))
    recent = sum(g["opened_last_year"] for g in groups)
    earlier = sum(g["opened_year_before"] for g in groups)
    sign_ins = _sign_ins(session, now=now)
    return {
        "now": now,
        "users": sum(g["users"] for g in groups),
        "active": sum(g["active"] for g in groups),
        "opened_last_year": recent,
        "opened_year_before": earlier,
        "growth": ratio(recent - earlier, earlier),
        "groups": groups,
        "sign_ins": sign_ins,
        "by_role": added_up(groups, sign_ins["groups"], "role"),
        "by_province": added_up(groups, sign_ins["groups"], "province"),
    }


def added_up(
    accounts: list[dict[str, Any]], sign_ins: list[dict[str, Any]], dimension: str
) -> list[dict[str, Any]]:
    """The accounts and sign-in groups (one per province and role) added up by ``dimension``
    (``role`` or ``province``), side by side, with the sign-ins' growth; most sign-ins first."""
    counted = ("users", "active_users_recent", "sign_ins_recent", "sign_ins_year_before")
    rows: dict[str, dict[str, Any]] = {}
    for group in accounts + sign_ins:
        key = group[dimension]
        row = rows.setdefault(key, {"key": key, **dict.fromkeys(counted, 0)})
        for name in counted:
            row[name] += group.get(name, 0)
    for row in rows.values():
        row["growth"] = ratio(
            row["sign_ins_recent"] - row["sign_ins_year_before"], row["sign_ins_year_before"]
        )
    return sorted(rows.values(), key=lambda r: -r["sign_ins_recent"])


def _sign_ins(session: Session, *, now: datetime, days: int = 30) -> dict[str, Any]:
    """Active users (distinct users who signed in) and sign-ins over the last ``days`` days,
    by province and role, against the same days a year before: one query, one row per span
    and user (a few thousand at most), counted up here."""
    s = DashboardSignIn
    today = periods.tehran_day(now)
    recent = (today - days + 1, today)
    before = (recent[0] - 364, recent[1] - 364)  # the same days of the week, 52 weeks before
    span = case((s.day >= recent[0], "recent"), else_="year_before")
    rows = session.execute(
        select(span, s.province, s.role, s.user_id, func.sum(s.count))
        .where(or_(s.day.between(*recent), s.day.between(*before)))
        .group_by(span, s.province, s.role, s.user_id)
    )
    names = ("recent", "year_before")
    zero = {f"{figure}_{name}": 0 for figure in ("active_users", "sign_ins") for name in names}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    users: dict[str, set[int]] = {name: set() for name in names}
    total = dict.fromkeys(names, 0)
    for name, province, role, user, count in rows:
        group = found.setdefault((province, role), {"province": province, "role": role, **zero})
        group[f"active_users_{name}"] += 1  # one row per user in a span and group
        group[f"sign_ins_{name}"] += int(count)
        users[name].add(user)
        total[name] += int(count)
    groups = sorted(found.values(), key=lambda g: (g["province"], g["role"]))
    for group in groups:
        group["growth"] = ratio(
            group["sign_ins_recent"] - group["sign_ins_year_before"], group["sign_ins_year_before"]
        )
    return {
        "days": days,
        "active_users": len(users["recent"]),
        "sign_ins": total["recent"],
        "active_users_year_before": len(users["year_before"]),
        "sign_ins_year_before": total["year_before"],
        "growth": ratio(total["recent"] - total["year_before"], total["year_before"]),
        "groups": groups,
    }


def _period_out(period: Period) -> dict[str, Any]:
    if period.all_time:
        return {"all_time": True, "first": None, "last": date.fromordinal(period.last)}
    return {
        "all_time": False,
        "first": date.fromordinal(period.first),
        "last": date.fromordinal(period.last),
        "days": period.days,
    }
