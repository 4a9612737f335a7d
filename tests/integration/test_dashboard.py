"""The national dashboard, checked against a straightforward computation over the raw events.

A demo history (the real flows, in time order) is projected in small batches; every KPI the
queries report is then recomputed here directly from the events, the inquiries and the goods,
without the projector's aggregates, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.calendars.service import calendar_for
from panjereh.dashboard import histogram, periods, projector, queries
from panjereh.dashboard.periods import Period
from panjereh.db import transaction
from panjereh.declarations.flows import file_declaration
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.declarations.schemas import DeclarationIn, ItemIn
from panjereh.demo.history import load_demo
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.flows import decide, reply
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.schemas import DecisionIn, ReplyIn
from panjereh.inquiries.states import InquiryState
from panjereh.rules.models import RuleSetRecord
from tests.conftest import START
from tests.dashboards import dump

NOW = START
RATE = Decimal("0.0005")
_ANSWERS = ("inquiry.approved", "inquiry.rejected")


def _minutes(instant: datetime) -> int:
    return math.floor((instant - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 60)


@dataclass
class _Truth:
    """One inquiry as the raw events tell it."""

    agency: str
    kind: str
    province: str
    office: str
    chapter: str
    value: int
    created: datetime
    closed: datetime | None = None
    answered: datetime | None = None
    outcome: str | None = None
    on_time: bool = False
    agency_minutes: int = 0
    elapsed: int = 0
    paused: int = 0
    info: list[datetime] = field(default_factory=list)
    ended: tuple[str, datetime] | None = None
    escalations: list[tuple[datetime, int]] = field(default_factory=list)


class Oracle:
    """The figures computed the plain way, from everything stored."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.now = now
        rates = {
            r.version: {c: Decimal(str(v)) for c, v in r.document["reference_rates_usd"].items()}
            for r in session.scalars(select(RuleSetRecord))
        }
        declarations = {d.id: d for d in session.scalars(select(Declaration))}
        items: dict[int, dict[int, DeclarationItem]] = defaultdict(dict)
        for line in session.scalars(select(DeclarationItem)):
            items[line.declaration_id][line.line_no] = line
        events = list(session.scalars(select(Event).order_by(Event.seq)))
        by_inquiry: dict[int, list[Event]] = defaultdict(list)
        for e in events:
            if e.inquiry_id is not None:
                by_inquiry[e.inquiry_id].append(e)
        self.inquiries: dict[int, _Truth] = {}
        self.rows = {i.id: i for i in session.scalars(select(Inquiry))}
        for inquiry_id, evs in by_inquiry.items():
            row = self.rows[inquiry_id]
            d = declarations[row.declaration_id]
            lines = [items[d.id][n] for n in sorted(row.item_lines)]
            value = sum(
                (ln.value * rates[d.rule_set_version].get(ln.currency, Decimal(0)) for ln in lines),
                Decimal(0),
            )
            truth = _Truth(
                row.agency_code,
                row.inquiry_type,
                row.province,
                d.customs_office,
                lines[0].hs_code[:2],
                int(value.to_integral_value()),
                evs[0].at,
            )
            calendar = calendar_for(
                session=session, agency_code=row.agency_code, province=row.province
            )
            due = datetime.fromisoformat(evs[0].data["due_at"])
            for e in evs:
                if e.kind == "inquiry.replied":
                    due = datetime.fromisoformat(e.data["due_after"])
                elif e.kind == "inquiry.info_requested":
                    truth.info.append(e.at)
                elif e.kind.startswith("escalation.") and e.kind != "escalation.acknowledged":
                    truth.escalations.append((e.at, int(e.data["level"])))
                elif e.kind in _ANSWERS:
                    truth.answered, truth.outcome = e.at, e.kind
                    truth.on_time = e.at <= due
                    truth.closed = e.at
                    truth.reason = e.data.get("reason")  # type: ignore[attr-defined]
                elif e.kind in ("inquiry.withdrawn", "inquiry.lapsed"):
                    truth.ended, truth.closed = (e.kind, e.at), e.at
            segments = inquiry_clock.segments(calendar, evs, now=now)
            truth.agency_minutes = sum(s.business_minutes for s in segments if s.kind == "running")
            truth.paused = sum(
                int(((s.end or now) - s.start).total_seconds()) // 60
                for s in segments
                if s.kind == "paused"
            )
            if truth.answered is not None:
                truth.elapsed = int((truth.answered - truth.created).total_seconds()) // 60
            self.inquiries[inquiry_id] = truth
        self.clearances: list[tuple[datetime, int, str]] = []
        self.goods: list[tuple[int, datetime, datetime | None]] = []
        last_approval: dict[int, int] = {}
        filed: dict[int, datetime] = {}
        for e in events:
            if e.kind == "inquiry.approved":
                last_approval[e.declaration_id] = e.inquiry_id  # type: ignore[index]
            elif e.kind == "declaration.filed" and e.after != "cleared":
                filed[e.declaration_id] = e.at  # type: ignore[index]
            elif e.kind == "declaration.cleared":
                assert e.declaration_id is not None
                agency = self.inquiries[last_approval[e.declaration_id]].agency
                minutes = int((e.at - filed[e.declaration_id]).total_seconds()) // 60
                self.clearances.append((e.at, minutes, agency))
        self.reasons = Counter(
            projector.normalise_reason(e.data["reason"])
            for e in events
            if e.kind == "inquiry.rejected" and e.data.get("reason")
        )

    def agency(self, code: str | None, period: Period) -> dict[str, Any]:
        """Every KPI of one agency (or the nation) over a period."""

        def inside(instant: datetime | None) -> bool:
            if instant is None:
                return False
            day = periods.tehran_day(instant)
            return period.all_time or period.first <= day <= period.last

        mine = [t for t in self.inquiries.values() if code is None or t.agency == code]
        answered = [t for t in mine if inside(t.answered)]
        start, end = period.start_minutes(), min(period.end_minutes(), _minutes(self.now))
        capital = 0
        for t in mine:
            low = max(_minutes(t.created), start)
            high = min(_minutes(t.closed) if t.closed else _minutes(self.now), end)
            capital += t.value * max(0, high - low)
        open_rows = [
            (self.rows[i], t)
            for i, t in self.inquiries.items()
            if (code is None or t.agency == code)
            and self.rows[i].state in ("awaiting_answer", "info_requested")
        ]
        overdue = [0, 0, 0, 0]
        for row, _ in open_rows:
            if row.state == InquiryState.AWAITING_ANSWER and row.due_at < self.now:
                overdue[min(max(row.escalation_level, 1), 4) - 1] += 1
        return {
            "received": sum(1 for t in mine if inside(t.created)),
            "answered": len(answered),
            "approved": sum(1 for t in answered if t.outcome == "inquiry.approved"),
            "rejected": sum(1 for t in answered if t.outcome == "inquiry.rejected"),
            "on_time": sum(1 for t in answered if t.on_time),
            "info_requests": sum(1 for t in mine for at in t.info if inside(at)),
            "lapsed": sum(
                1 for t in mine if t.ended and t.ended[0] == "inquiry.lapsed" and inside(t.ended[1])
            ),
            "withdrawn": sum(
                1
                for t in mine
                if t.ended and t.ended[0] == "inquiry.withdrawn" and inside(t.ended[1])
            ),
            "escalations": [
                sum(1 for t in mine for at, lv in t.escalations if min(lv, 4) == n and inside(at))
                for n in range(1, 5)
            ],
            "agency_values": sorted(t.agency_minutes for t in answered),
            "elapsed_values": sorted(t.elapsed for t in answered),
            "paused_total": sum(t.paused for t in answered),
            "elapsed_total": sum(t.elapsed for t in answered),
            "capital_usd_minutes": capital,
            "open_now": len(open_rows),
            "paused_now": sum(1 for row, _ in open_rows if row.state == "info_requested"),
            "value_waiting_usd": sum(t.value for _, t in open_rows),
            "overdue_now_by_level": overdue,
        }


def _check_percentile(reported: dict[str, Any] | None, values: list[int], fraction: float) -> None:
    if not values:
        assert reported is None
        return
    exact = values[histogram.exact_rank(len(values), fraction) - 1]
    assert reported is not None
    assert reported["low"] <= exact, (reported, exact)
    assert reported["high"] is None or exact < reported["high"], (reported, exact)


def _compare(row: dict[str, Any], truth: dict[str, Any]) -> None:
    for name in (
        "received",
        "answered",
        "approved",
        "rejected",
        "on_time",
        "info_requests",
        "lapsed",
        "withdrawn",
        "escalations",
        "open_now",
        "paused_now",
        "value_waiting_usd",
        "overdue_now_by_level",
    ):
        assert row[name] == truth[name], (name, row[name], truth[name])
    answered = truth["answered"]
    if answered:
        assert row["on_time_rate"] == queries.ratio(truth["on_time"], answered)
        assert row["agency_minutes_mean"] == round(sum(truth["agency_values"]) / answered, 1)
        assert row["elapsed_minutes_mean"] == round(truth["elapsed_total"] / answered, 1)
        assert row["paused_share"] == queries.ratio(truth["paused_total"], truth["elapsed_total"])
    for fraction, name in ((0.5, "p50"), (0.9, "p90")):
        _check_percentile(row["agency_minutes"][name], truth["agency_values"], fraction)
        _check_percentile(row["elapsed_minutes"][name], truth["elapsed_values"], fraction)
    assert row["capital_usd_days"] == queries.capital_days(truth["capital_usd_minutes"])


@pytest.fixture
def history(engine: Engine, session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A demo history of a few hundred inquiries, projected in small, uneven batches."""
    load_demo(engine, declarations=110, days=45, seed=11, now=NOW)
    while True:
        with transaction(session_factory) as session:
            if projector.project_once(session, limit=97) == 0:
                break
    return session_factory


def _periods() -> list[Period]:
    today = periods.tehran_day(NOW)
    previous_jmonth = periods.month_of(periods.month_of(today, jalali=True).first - 1, jalali=True)
    return [
        Period(1, today, all_time=True),
        periods.last_days(today, 30),
        previous_jmonth,
        Period(today - 40, today - 3),
        periods.week_of(today - 7),
    ]


def test_every_kpi_matches_the_raw_events(history: sessionmaker[Session]) -> None:
    with history() as session:
        oracle = Oracle(session, NOW)
        agencies = sorted({t.agency for t in oracle.inquiries.values()})
        assert len(agencies) >= 5 and len(oracle.inquiries) >= 150
        for period in _periods():
            table = queries.league(session, period=period, now=NOW, cost_rate=RATE)
            rows = {r["agency"]: r for r in table["agencies"]}
            for code in agencies:
                if code in rows:
                    _compare(rows[code], oracle.agency(code, period))
            _compare(table["national"], oracle.agency(None, period))
            assert sum(r["received"] for r in rows.values()) == table["national"]["received"]


def test_breakdowns_clearance_and_reasons_match(history: sessionmaker[Session]) -> None:
    period = periods.last_days(periods.tehran_day(NOW), 30)
    with history() as session:
        oracle = Oracle(session, NOW)
        for dimension, attribute in (
            ("province", "province"),
            ("chapter", "chapter"),
            ("office", "office"),
        ):
            table = queries.breakdown(
                session, dimension=dimension, period=period, now=NOW, cost_rate=RATE
            )
            for row in table["rows"]:
                received = sum(
                    1
                    for t in oracle.inquiries.values()
                    if getattr(t, attribute) == row["key"]
                    and period.first <= periods.tehran_day(t.created) <= period.last
                )
                assert row["received"] == received, (dimension, row["key"])
        agency = "IFDA"
        types = queries.breakdown(
            session, dimension="type", period=period, now=NOW, cost_rate=RATE, agency=agency
        )
        for row in types["rows"]:
            assert row["agency"] == agency
            assert row["received"] == sum(
                1
                for t in oracle.inquiries.values()
                if t.kind == row["key"]
                and period.first <= periods.tehran_day(t.created) <= period.last
            )
        view = queries.clearance(session, period=period)
        inside = [
            c for c in oracle.clearances if period.first <= periods.tehran_day(c[0]) <= period.last
        ]
        assert view["cleared"] == len(inside) > 0
        minutes = sorted(m for _, m, _ in inside)
        _check_percentile(view["clearance_minutes"]["p50"], minutes, 0.5)
        _check_percentile(view["clearance_minutes"]["p90"], minutes, 0.9)
        critical = Counter(a for _, _, a in inside)
        assert {r["agency"]: r["cleared"] for r in view["critical_path"]} == dict(critical)
        top = queries.reasons(
            session, period=Period(1, periods.tehran_day(NOW), all_time=True), top=50
        )
        assert {r["reason"]: r["count"] for r in top["reasons"]} == dict(oracle.reasons)


def test_rebuild_equals_incremental_and_a_failed_batch_changes_nothing(
    history: sessionmaker[Session],
) -> None:
    with history() as session:
        incremental = dump(session)
        assert len(incremental["dashboard_rollups"]) > 100
    session = history()
    try:
        projector.reset(session)
        projector.project_once(session, limit=10_000)
        session.flush()
        raise_here = True
    finally:
        session.rollback()
        session.close()
    assert raise_here
    with history() as session:
        assert dump(session) == incremental  # the rolled-back replay left no trace
    total = projector.rebuild(history, limit=100_000)
    assert total > 500
    with history() as session:
        assert dump(session) == incremental
        assert queries.freshness(session, now=NOW)["up_to_date"]


def test_a_rebuild_read_in_small_slices_gives_the_same_figures(
    history: sessionmaker[Session],
) -> None:
    # Slices of 40 events: rows settle and are written while the replay goes on, and
    # capital counted late for an idle group lands in rows already written.
    with history() as session:
        incremental = dump(session)
    assert projector.rebuild(history, limit=40) > 500
    with history() as session:
        assert dump(session) == incremental


def test_freshness_shows_a_stalled_projector(
    history: sessionmaker[Session], make_user: Any
) -> None:
    make_user("late-trader", Role.TRADER)
    with transaction(history) as session:
        trader = session.execute(
            text("SELECT id FROM users WHERE username = 'late-trader'")
        ).scalar_one()
        file_declaration(
            session=session,
            principal=Principal(trader, "late-trader", Role.TRADER),
            payload=DeclarationIn(
                kind="import",
                customs_office="SHRJ",
                province="IR-22",
                items=[
                    ItemIn(
                        hs_code="841810",
                        description="Fridges",
                        origin_country="CN",
                        quantity=Decimal(10),
                        unit="NAR",
                        value=Decimal(4000),
                        currency="USD",
                    )
                ],
            ),
            at=NOW + timedelta(minutes=5),
        )
    with history() as session:
        fresh = queries.freshness(session, now=NOW + timedelta(minutes=6))
        assert not fresh["up_to_date"] and fresh["events_behind"] >= 2
        assert fresh["lag_seconds"] > 0
    projector.catch_up(history)
    with history() as session:
        assert queries.freshness(session, now=NOW)["events_behind"] == 0


def test_pausing_the_clock_does_not_make_an_agency_look_punctual(
    session_factory: sessionmaker[Session], make_user: Any
) -> None:
    """CRA asks for "more information" just before each deadline, so its clock stops and it
    is always on time; INSO answers late without pausing. The league table must show both
    the clock and what the trader felt."""
    for name, role, agency in (
        ("trader-g", Role.TRADER, None),
        ("officer-cra", Role.OFFICER, "CRA"),
        ("officer-inso", Role.OFFICER, "INSO"),
    ):
        make_user(name, role, agency)
    with session_factory() as session:
        ids = dict(session.execute(text("SELECT username, id FROM users")).all())
    trader = Principal(ids["trader-g"], "trader-g", Role.TRADER)
    cra = Principal(ids["officer-cra"], "officer-cra", Role.OFFICER, "CRA")
    inso = Principal(ids["officer-inso"], "officer-inso", Role.OFFICER, "INSO")
    day = 420
    at = START
    for n in range(6):
        with transaction(session_factory) as session:
            filed = file_declaration(
                session=session,
                principal=trader,
                payload=DeclarationIn(
                    kind="import",
                    customs_office="SHRJ",
                    province="IR-22",
                    items=[
                        ItemIn(
                            hs_code="851713",
                            description="Phones",
                            origin_country="CN",
                            quantity=Decimal(100),
                            unit="NAR",
                            value=Decimal(500),
                            currency="USD",
                        ),
                        ItemIn(
                            hs_code="841810",
                            description="Fridges",
                            origin_country="CN",
                            quantity=Decimal(20),
                            unit="NAR",
                            value=Decimal(400),
                            currency="USD",
                        ),
                    ],
                ),
                at=at,
            )
            by_agency = {i.agency_code: i.id for i in filed.inquiries}
            calendar = calendar_for(session=session, agency_code="CRA", province="IR-22")
            inso_calendar = calendar_for(session=session, agency_code="INSO", province="IR-22")
        assert set(by_agency) == {"CRA", "INSO"}
        ask = calendar.add_business_minutes(at, 6 * day)
        with transaction(session_factory) as session:
            decide(
                session=session,
                principal=cra,
                inquiry_id=by_agency["CRA"],
                decision=DecisionIn(outcome="request_info", reason="Send the IMEI list."),
                at=ask,
            )
        with transaction(session_factory) as session:
            decide(
                session=session,
                principal=inso,
                inquiry_id=by_agency["INSO"],
                decision=DecisionIn(outcome="approve"),
                at=inso_calendar.add_business_minutes(at, 8 * day),
            )
        replied = ask + timedelta(days=10)
        with transaction(session_factory) as session:
            reply(
                session=session,
                principal=trader,
                inquiry_id=by_agency["CRA"],
                answer=ReplyIn(message="Attached."),
                at=replied,
            )
        with transaction(session_factory) as session:
            decide(
                session=session,
                principal=cra,
                inquiry_id=by_agency["CRA"],
                decision=DecisionIn(outcome="approve"),
                at=calendar.add_business_minutes(replied, 60),
            )
        at += timedelta(hours=1 + n)
    projector.catch_up(session_factory)
    later = START + timedelta(days=40)
    with session_factory() as session:
        table = queries.league(
            session,
            period=Period(1, periods.tehran_day(later), all_time=True),
            now=later,
            cost_rate=RATE,
        )
    rows = {r["agency"]: r for r in table["agencies"]}
    gamer, honest = rows["CRA"], rows["INSO"]
    assert gamer["on_time_rate"] == Decimal(1) and honest["on_time_rate"] == Decimal(0)
    assert gamer["info_requests_per_100"] == Decimal(100) and honest["info_requests_per_100"] == 0
    assert gamer["paused_share"] > Decimal("0.5") and honest["paused_share"] == 0
    assert gamer["elapsed_minutes"]["p50"]["low"] > honest["elapsed_minutes"]["p50"]["high"]
    assert gamer["agency_minutes"]["p50"]["high"] <= honest["agency_minutes"]["p50"]["low"]
    with session_factory() as session:
        view = queries.clearance(
            session, period=Period(1, periods.tehran_day(later), all_time=True)
        )
    # the trader's goods waited on CRA last every time: the critical path names it
    assert [(r["agency"], r["cleared"]) for r in view["critical_path"]] == [("CRA", 6)]
