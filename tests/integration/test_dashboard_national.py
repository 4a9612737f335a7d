"""The national generator on a small scale: a valid hash chain, rows the flows accept, and a
dashboard whose figures agree with the per-inquiry rows of the stored inquiries."""

from __future__ import annotations

import csv
import gc
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit import chain
from panjereh.audit.models import Event
from panjereh.auth.models import User
from panjereh.dashboard import national, periods, projector, queries
from panjereh.dashboard.models import DashboardSignIn
from panjereh.db import transaction
from panjereh.declarations.models import DeclarationItem
from panjereh.escalation import ladder, sweep
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from tests.conftest import START
from tests.dashboards import dump
from tests.processes import ROOT, environment


def test_a_small_national_history_is_chained_and_its_dashboard_adds_up(
    engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    summary = national.generate(engine, inquiries=600, years=0.15, seed=7, now=START)
    assert summary.inquiries >= 500 and summary.events > 2 * summary.inquiries
    assert gc.isenabled()  # the generator runs without the cycle collector, then gives it back
    with session_factory() as session:
        assert chain.verify(session).ok
        assert session.scalar(select(func.count()).select_from(Inquiry)) == summary.inquiries
        # The goods lines (the log's process writes them) are numbered 1..n under the
        # declarations they were filed with.
        lines = session.execute(
            select(
                DeclarationItem.declaration_id, func.count(), func.max(DeclarationItem.line_no)
            ).group_by(DeclarationItem.declaration_id)
        ).all()
        filed = session.execute(
            select(Event.declaration_id, Event.data).where(Event.kind == "declaration.filed")
        ).all()
        assert sum(n for _, n, _ in lines) == summary.items
        assert {d: (n, last) for d, n, last in lines} == {
            d: (data["items"], data["items"]) for d, data in filed
        }
        table = queries.league(
            session,
            period=periods.Period(1, periods.tehran_day(START), all_time=True),
            now=START,
            cost_rate=Decimal("0.0005"),
        )
    # A sign-in of each user on each Tehran day they acted (the adoption figures), as the
    # stored log tells it; each with the user's role and province.
    with session_factory() as session:
        acted = {
            (periods.tehran_day(at), user)
            for at, user in session.execute(
                select(Event.at, Event.actor_id).where(Event.actor_id.is_not(None))
            )
        }
        signed = session.execute(
            select(DashboardSignIn.day, DashboardSignIn.user_id, DashboardSignIn.role,
                   DashboardSignIn.province, DashboardSignIn.count, User.role, User.province)
            .join(User, User.id == DashboardSignIn.user_id)
        ).all()  # fmt: skip
        adoption = queries.adoption(session, now=START)["sign_ins"]
    assert len(acted) > 100 and {(day, user) for day, user, *_ in signed} == acted
    assert all((r, p, n) == (role, home or "", 1) for _, _, r, p, n, role, home in signed)
    recent = {user for day, user in acted if day > periods.tehran_day(START) - 30}
    assert (adoption["active_users"], adoption["sign_ins"]) == (
        len(recent),
        sum(1 for day, _ in acted if day > periods.tehran_day(START) - 30),
    )
    facts = tmp_path / "facts.csv"
    assert national.write_facts(engine, facts) == summary.inquiries
    rows = list(csv.DictReader(facts.open(encoding="utf-8")))
    assert len(rows) == summary.inquiries
    received = Counter(r["agency"] for r in rows)
    answered = Counter(r["agency"] for r in rows if r["answered"] == "1")
    on_time = Counter(r["agency"] for r in rows if r["on_time"] == "1")
    open_now = Counter(
        r["agency"] for r in rows if r["state"] in ("awaiting_answer", "info_requested")
    )
    for row in table["agencies"]:
        code = row["agency"]
        assert (row["received"], row["answered"], row["on_time"], row["open_now"]) == (
            received[code],
            answered[code],
            on_time[code],
            open_now[code],
        ), code
    gamer = next(r for r in table["agencies"] if r["agency"] == national.GAMER)
    others = [r for r in table["agencies"] if r["agency"] != national.GAMER and r["received"] > 20]
    assert gamer["info_requests_per_100"] > max(r["info_requests_per_100"] for r in others)
    # The dashboard the generator folded as it wrote is the one a replay of the stored log
    # gives (the events, groups and values it handed over are the ones it stored).
    with session_factory() as session:
        folded = dump(session)
    assert len(folded["dashboard_rollups"]) > 1000 and folded["dashboard_open_inquiries"]
    assert projector.rebuild(session_factory, limit=1000) >= summary.events
    with session_factory() as session:
        assert dump(session) == folded
    # Each open inquiry's ladder is where the engine's own clock puts it: every rung due
    # before now has fired, and the worker will next look at it when its next rung is due.
    with session_factory() as session:
        running = session.scalars(
            select(Inquiry).where(Inquiry.state == InquiryState.AWAITING_ANSWER.value)
        ).all()
        assert len(running) > 20
        for inquiry in running:
            rungs = inquiry_clock.schedule(
                session, inquiry_clock.calendar_of(session, inquiry), inquiry
            )
            fired = inquiry_clock.fired_steps(session, inquiry.id)
            assert ladder.due_rungs(rungs, fired=fired, now=START - timedelta(seconds=1)) == []
            assert inquiry.next_action_at == ladder.next_rung_at(rungs, fired=fired), inquiry.id
    # The store stays usable: the worker's sweep runs over what the generator left open.
    with transaction(session_factory) as session:
        sweep.sweep(session, now=START + timedelta(minutes=1), limit=500)


def test_a_log_process_that_fails_stops_the_generator_with_its_reason(engine: Engine) -> None:
    # The events and the dashboard are written by a process of their own: when it cannot
    # write (here a column of the dashboard's table is not where it should be), the generator
    # stops and says why instead of writing a history with no dashboard. The store is the
    # test's for its duration only: its schema is put back after.
    with engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE dashboard_rollups RENAME COLUMN hist_clearance TO misplaced")
        )
    try:
        with pytest.raises(RuntimeError, match="national log's process failed") as failed:
            national.generate(engine, inquiries=600, years=0.15, seed=7, now=START)
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE dashboard_rollups RENAME COLUMN misplaced TO hist_clearance")
            )
    assert "hist_clearance" in str(failed.value)
    # The indexes the load dropped are back.
    for table, names in national._SECONDARY_INDEXES.items():
        assert set(names) <= {i["name"] for i in inspect(engine).get_indexes(table)}, table


def test_the_command_line_writes_a_national_history(
    database_url: str, session_factory: sessionmaker[Session]
) -> None:
    # The real command in a process of its own (its log process is started from it).
    done = subprocess.run(
        [sys.executable, "-m", "panjereh", "demo-data", "--scale", "national",
         "--inquiries", "500"],
        env=environment(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "National history" in done.stdout
    with session_factory() as session:
        report = chain.verify(session)
        assert report.ok and report.checked > 1000
        assert session.scalar(select(func.count()).select_from(Inquiry)) >= 400
