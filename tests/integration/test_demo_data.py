"""Demo data: a short history loads through the real flows and reads like a real quarter."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from panjereh import migrate
from panjereh.agencies.models import InquiryType
from panjereh.audit.chain import verify
from panjereh.audit.models import Event
from panjereh.auth.models import Role, User
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.declarations.models import Declaration
from panjereh.demo import history
from panjereh.demo.history import DEMO_PASSWORD, LANES, DemoRefused, load_demo
from panjereh.inquiries.models import Inquiry
from panjereh.reference import hs_code_problem

# Wednesday 2026-12-02, 11:30 in Tehran: pinned so that the history is the same every day.
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
DAYS = 20
COUNT = 120


def test_demo_history_reads_like_a_real_quarter(engine: Engine) -> None:
    summary = load_demo(engine, declarations=COUNT, days=DAYS, seed=1405, now=NOW)

    assert DEMO_PASSWORD in summary
    for username in ("admin", "supervisor", "officer-inso", "head-ivo", "broker-rajaee"):
        assert f"  {username} " in summary
    with transaction(make_session_factory(engine)) as session:
        declarations = session.scalars(select(Declaration)).all()
        inquiries = session.scalars(select(Inquiry)).all()
        users = {u.id: u for u in session.scalars(select(User))}
        agency_of_type = dict(
            session.execute(select(InquiryType.code, InquiryType.agency_code)).all()
        )
        # The history's own events (setting up the store and the accounts comes before).
        events = session.execute(
            select(Event.seq, Event.at).where(Event.declaration_id.is_not(None)).order_by(Event.seq)
        ).all()
        chain = verify(session)

    assert len(declarations) == COUNT
    assert len({d.province for d in declarations}) >= 4
    assert len({d.customs_office for d in declarations}) >= 6
    assert all(NOW - timedelta(days=DAYS) <= d.filed_at < NOW for d in declarations)
    statuses = Counter(d.status for d in declarations)
    for status in ("cleared", "under_inquiry", "awaiting_trader", "refused"):
        assert statuses[status] > 0, statuses

    traders = [u for u in users.values() if u.role == Role.TRADER]
    assert len(traders) >= 25
    assert len({u.province for u in traders}) >= 8
    assert {d.trader_id for d in declarations} <= {u.id for u in traders}

    # Every inquiry belongs to the agency its type names, and only that agency decided it.
    for inquiry in inquiries:
        assert inquiry.agency_code == agency_of_type[inquiry.inquiry_type]
        if inquiry.decided_by is not None:
            assert users[inquiry.decided_by].agency_code == inquiry.agency_code
    overdue = [i for i in inquiries if i.state == "awaiting_answer" and i.due_at < NOW]
    assert overdue
    assert any(i.decided_at is not None and i.decided_at > i.due_at for i in inquiries)

    # The clock only moved forward, and the chain holds.
    assert [at for _, at in events] == sorted(at for _, at in events)
    assert chain.ok and chain.checked >= len(events) > 0

    again = load_demo(engine, declarations=COUNT, days=DAYS, seed=1405, now=NOW)
    assert "already there" in again
    assert "  officer-inso " in again
    with transaction(make_session_factory(engine)) as session:
        assert session.scalar(select(func.count()).select_from(Declaration)) == COUNT
        assert session.scalar(select(func.count()).select_from(Event)) == chain.checked


def test_the_replay_leaves_alone_a_declaration_the_clock_refused(tmp_path: Path) -> None:
    """`make demo`'s history as of 2026-11-29 18:40 UTC: a request for information that its
    trader never answered lapses and refuses the declaration while answers to its other
    inquiries are still planned; the replay leaves them (those inquiries were withdrawn)
    instead of failing on them, as it once did."""
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        migrate.upgrade(engine)
        migrate.seed(engine, clock=ManualClock(datetime(2026, 8, 1, tzinfo=UTC)))
        load_demo(
            engine,
            declarations=3000,
            days=90,
            seed=1405,
            now=datetime(2026, 11, 29, 18, 40, tzinfo=UTC),
        )
        with transaction(make_session_factory(engine)) as session:
            lapsed = select(Event.declaration_id).where(Event.kind == "inquiry.lapsed")
            withdrawn_after_lapse = session.scalar(
                select(func.count(func.distinct(Event.declaration_id))).where(
                    Event.kind == "inquiry.withdrawn", Event.declaration_id.in_(lapsed)
                )
            )
        assert withdrawn_after_lapse
    finally:
        engine.dispose()


def test_demo_data_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    production = Settings(env="production", secret_key="x" * 40, password_hash_profile="default")
    monkeypatch.setattr(history, "get_settings", lambda: production)
    with pytest.raises(DemoRefused, match="production"):
        load_demo(make_engine("sqlite://"), declarations=1, days=1, seed=1)


def test_demo_goods_use_real_hs_codes() -> None:
    for lane in LANES.values():
        for good in lane.goods:
            assert hs_code_problem(good.hs_code) is None, good
