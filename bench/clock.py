"""Benchmark: the service-level clock with a million open inquiries in the store.

Issue 3 ("Speed") promises three figures; this module measures them in one run:

1. **An idle sweep.** With 1,000,000 open inquiries (``--quick``: 100,000), the clock sweep
   that finds nothing due (``panjereh.escalation.sweep.sweep`` in a transaction, as
   ``Worker.sweep_once`` runs it) costs under 5 ms: it reads a range of the index on
   ``inquiries.next_action_at`` and never scans the table. Also timed: ``sweep.next_due``
   and ``Worker.seconds_until_due`` (how the worker decides how long to sleep) and a whole
   idle ``Worker.run_once``; the query plans of the statements they issue are shown.
2. **A breach noticed within a second.** A real ``python -m panjereh worker`` process on the
   real clock runs against the same store; inquiries whose ladder step is due a few seconds
   ahead are filed, and the time each step is fired (``escalation_firings.fired_at``) and
   visible to others (committed) is compared with the time it was due.
3. **A deadline under 50 µs.** ``BusinessCalendar.deadline`` on a calendar built by
   ``panjereh.calendars.service.calendar_for``, and the whole ``panjereh.sla.clock.start``.

Parts 1 and 2 run on SQLite and on PostgreSQL, each on a scratch store (a file in the run's
temporary directory; a database created for the run and dropped after it). The open inquiries
are written in bulk straight into the tables (``declarations`` and ``inquiries``, columns as
Panjereh stores them; no items, events or firings): see ``_population``.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import timeit
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, Table, event, select, update
from sqlalchemy.engine import Dialect

import panjereh
from bench.common import (
    START,
    Options,
    Result,
    Users,
    create_users,
    engine_for,
    postgres_database,
    postgres_problem,
    prepare,
    sqlite_url,
)
from bench.filing import BODY
from bench.server import cpu_seconds
from panjereh.calendars.service import bump_revision, calendar_for
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.db import make_session_factory, transaction
from panjereh.declarations import flows as declaration_flows
from panjereh.declarations.models import Declaration, DeclarationStatus
from panjereh.declarations.schemas import DeclarationIn
from panjereh.escalation import ladder, policies, sweep
from panjereh.escalation.models import EscalationFiring
from panjereh.escalation.policy import EscalationPolicy
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from panjereh.notifications.channels import channels
from panjereh.reference import customs_offices
from panjereh.sla import clock
from panjereh.sla.calendar import BusinessCalendar
from panjereh.worker import Worker

TITLE = "The service-level clock: an idle sweep over a million inquiries, breaches, deadlines"

INQUIRIES_FULL, INQUIRIES_QUICK = 1_000_000, 100_000
TARGET_SWEEP_MS = 5.0
TARGET_NOTICE_SECONDS = 1.0
TARGET_DEADLINE_US = 50.0

SAMPLES_FULL, SAMPLES_QUICK = 2_000, 400
"""Timed calls of each idle operation (part 1), interleaved."""
SHARED_INSTANT = 8
"""Declarations filed at the same instant (the clocks are computed once per instant)."""
HISTORY = timedelta(days=14)
"""The open inquiries were filed at random instants over this span before now."""
MARGIN = timedelta(hours=1)
"""Every bulk inquiry's next action is at least this far after now (the run ends before)."""
TRADERS = 4
BATCH = 200
"""The sweep's ``limit``, as the worker's default batch."""

BREACHES = 20
"""Declarations whose ladder step falls due while the worker runs (part 2)."""
BREACH_LEAD_SECONDS = 2.0
BREACH_SPACING_SECONDS = 0.25
BREACH_GRACE_SECONDS = 5.0
WATCH_SECONDS = 0.02
"""How often the benchmark looks for the worker's firings (the resolution of "visible")."""
IDLE_SECONDS = 2.0
"""How long the idle worker's CPU use is measured before the breaches."""

# A small import that needs one inquiry (Ministry of Culture, books) under the default rules:
# paid in rials and under the order-registration threshold.
BREACH_BODY: dict[str, Any] = {
    "kind": "import",
    "customs_office": "SHRJ",
    "province": "IR-22",
    "items": [
        {
            "hs_code": "490199",
            "description": "Printed books",
            "origin_country": "GB",
            "quantity": "40",
            "unit": "NAR",
            "value": "500",
            "currency": "IRR",
        }
    ],
}

DEADLINE_CASES = 1_000
DEADLINE_REPEATS = 5
DEADLINE_NUMBER_FULL, DEADLINE_NUMBER_QUICK = 40, 10
"""Timed ``deadline`` calls: CASES different instants, NUMBER times, REPEATS repeats."""
DEADLINE_AGENCIES = (("MCIG", "a government office"), ("CBI", "a bank"))

DECLARATIONS: Table = Declaration.__table__  # type: ignore[assignment]
INQUIRIES: Table = Inquiry.__table__  # type: ignore[assignment]


class BenchError(RuntimeError):
    """The store or the worker did not behave as the benchmark expects."""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _quantile(samples: list[float], q: float) -> float:
    """The q-quantile of ``samples`` (nearest rank)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _p(samples: list[float], high: float = 0.99) -> str:
    """The median and a high quantile (1.0: the maximum) in milliseconds."""
    return f"{_ms(_quantile(samples, 0.5))}/{_ms(_quantile(samples, high))}"


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


# --- the population: open inquiries as Panjereh would have stored them --------------------


@dataclass(frozen=True)
class Requirement:
    """One inquiry the reference declaration needs, with its calendar and ladder."""

    constant: dict[str, Any]
    calendar: BusinessCalendar
    policy: EscalationPolicy


@dataclass
class Population:
    """The open inquiries to load, as Python values (encoded per backend when loaded)."""

    now: datetime
    declarations: int
    requirements: list[Requirement]
    instants: list[tuple[datetime, str, str]]
    """(filed at, customs office, province), sorted; declaration d is filed at d // 8."""
    clocks: list[list[dict[str, Any]]]
    """Per instant, per requirement: the clock columns of the inquiry filed then."""
    levels: Counter[int] = field(default_factory=Counter)
    earliest: datetime | None = None
    latest: datetime | None = None
    seconds: float = 0.0

    @property
    def inquiries(self) -> int:
        return self.declarations * len(self.requirements)


def _requirements(engine: Engine, at: datetime) -> list[Requirement]:
    """The filing benchmark's declaration (16 inquiries): each inquiry's fixed columns."""
    factory = make_session_factory(engine)
    payload = DeclarationIn.model_validate_json(BODY)
    with transaction(factory) as session:
        check = declaration_flows.check_requirements(session=session, payload=payload, at=at)
        ladders = policies.active_policies(
            session=session, inquiry_types=[r.inquiry_type for r in check.inquiries]
        )
        out = []
        for r in check.inquiries:
            version, policy = ladders[r.inquiry_type]
            calendar = calendar_for(
                session=session,
                agency_code=r.agency_code,
                province=payload.province,
            )
            constant = {
                "inquiry_type": r.inquiry_type,
                "agency_code": r.agency_code,
                "state": InquiryState.AWAITING_ANSWER.value,
                "rule_set_version": check.rule_set_version,
                "rule_codes": r.rule_codes,
                "reason_en": r.reason_en,
                "reason_fa": r.reason_fa,
                "item_lines": r.item_lines,
                "sla_business_days": r.sla_business_days,
                "calendar_version": r.calendar_version,
                "decided_at": None,
                "decided_by": None,
                "decision_reason": None,
                "info_request": None,
                "paused_at": None,
                "trader_due_at": None,
                "policy_version": version,
                "assigned_to": None,
                "acknowledged_at": None,
                "version": 1,
            }
            out.append(Requirement(constant, calendar, policy))
    return out


def _clock_columns(req: Requirement, filed_at: datetime, horizon: datetime) -> dict[str, Any]:
    """The clock of an inquiry filed at ``filed_at``, as the sweep leaves it by ``horizon``.

    Rungs of its ladder due by ``horizon`` count as fired (the level they reached; their
    firing rows are not written); ``next_action_at`` is its next rung after that.
    """
    sla = req.constant["sla_business_days"]
    started = clock.start(req.calendar, received_at=filed_at, business_days=sla)
    rungs = ladder.schedule(
        req.policy,
        req.calendar,
        due_at=started.due_at,
        running_since=filed_at,
        budget_minutes=started.budget_minutes,
    )
    passed = [r for r in rungs if r.at <= horizon]
    pending = [r.at for r in rungs if r.at > horizon]
    return {
        "received_at": filed_at,
        "due_at": started.due_at,
        "budget_minutes": started.budget_minutes,
        "running_since": filed_at,
        "remaining_minutes": started.budget_minutes,
        "escalation_level": max((r.level for r in passed), default=0),
        "next_action_at": min(pending) if pending else None,
    }


def _population(engine: Engine, *, inquiries: int, now: datetime) -> Population:
    """Open inquiries filed at random instants over the last two weeks, with their clocks.

    Each declaration is the filing benchmark's (16 inquiries from 11 agencies), at one of the
    country's customs offices; every 8 declarations share a filing instant, so the clocks
    (deadline, budget, ladder) are computed by Panjereh's own functions once per instant.
    """
    started = time.perf_counter()
    requirements = _requirements(engine, now)
    declarations = max(1, inquiries // len(requirements))
    rng = random.Random(20261129)
    offices = sorted((o.code, o.province) for o in customs_offices().values())
    span = int(HISTORY.total_seconds() * 1_000_000)
    count = -(-declarations // SHARED_INSTANT)
    filed = sorted(
        now - timedelta(microseconds=rng.randrange(60_000_000, span)) for _ in range(count)
    )
    instants = [(at, *rng.choice(offices)) for at in filed]
    horizon = now + MARGIN
    population = Population(now, declarations, requirements, instants, [])
    for at, _, _ in instants:
        row = [_clock_columns(req, at, horizon) for req in requirements]
        population.clocks.append(row)
    for d in range(declarations):
        for columns in population.clocks[d // SHARED_INSTANT]:
            population.levels[columns["escalation_level"]] += 1
    due = [c["next_action_at"] for row in population.clocks for c in row if c["next_action_at"]]
    population.earliest, population.latest = min(due), max(due)
    population.seconds = time.perf_counter() - started
    return population


class Encoder:
    """Column values as the application's types bind them on a dialect, each value once."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.processors = {
            c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.c
        }
        self._cache: dict[tuple[str, Any], Any] = {}

    def __call__(self, column: str, value: Any) -> Any:
        process = self.processors[column]
        if process is None:
            return value
        key = (column, repr(value))
        if key not in self._cache:
            self._cache[key] = process(value)
        return self._cache[key]


DECLARATION_COLUMNS = [c.name for c in DECLARATIONS.c]
INQUIRY_COLUMNS = [c.name for c in INQUIRIES.c]


def _rows(
    population: Population, dialect: Dialect, traders: list[int]
) -> tuple[Callable[[], Iterator[tuple[Any, ...]]], Callable[[], Iterator[tuple[Any, ...]]]]:
    """Generators of the declaration rows and inquiry rows, encoded for ``dialect``."""
    dec = Encoder(DECLARATIONS, dialect)
    inq = Encoder(INQUIRIES, dialect)
    status = DeclarationStatus.UNDER_INQUIRY.value
    version = population.requirements[0].constant["rule_set_version"]
    per_instant = []
    for (at, office, province), clocks in zip(population.instants, population.clocks, strict=True):
        encoded = []
        for req, columns in zip(population.requirements, clocks, strict=True):
            values = {**req.constant, **columns, "province": province}
            encoded.append(tuple(inq(c, values[c]) for c in INQUIRY_COLUMNS[2:]))
        declaration = {
            "kind": "import",
            "customs_office": office,
            "province": province,
            "status": status,
            "rule_set_version": version,
            "filed_at": at,
            "closed_at": None,
            "version": 1,
        }
        head = tuple(dec(c, declaration[c]) for c in DECLARATION_COLUMNS[2:])
        per_instant.append((head, encoded))
    assert INQUIRY_COLUMNS[:2] == ["id", "declaration_id"]
    assert DECLARATION_COLUMNS[:2] == ["id", "trader_id"]
    n = len(population.requirements)

    def declarations() -> Iterator[tuple[Any, ...]]:
        for d in range(population.declarations):
            yield (d + 1, traders[d % len(traders)], *per_instant[d // SHARED_INSTANT][0])

    def inquiries() -> Iterator[tuple[Any, ...]]:
        for d in range(population.declarations):
            for r, encoded in enumerate(per_instant[d // SHARED_INSTANT][1]):
                yield (d * n + r + 1, d + 1, *encoded)

    return declarations, inquiries


def _insert_sql(table: Table, columns: list[str]) -> str:
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )


def _load_sqlite(path: Path, engine: Engine, population: Population, traders: list[int]) -> None:
    """Plain ``executemany`` in one transaction (foreign keys not checked while loading)."""
    declarations, inquiries = _rows(population, engine.dialect, traders)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute("BEGIN")
        connection.executemany(_insert_sql(DECLARATIONS, DECLARATION_COLUMNS), declarations())
        connection.executemany(_insert_sql(INQUIRIES, INQUIRY_COLUMNS), inquiries())
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _load_postgres(url: str, engine: Engine, population: Population, traders: list[int]) -> None:
    """``COPY`` (constraints checked), the id sequences moved on, then ``VACUUM ANALYZE``."""
    declarations, inquiries = _rows(population, engine.dialect, traders)
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for table, columns, rows in (
            (DECLARATIONS, DECLARATION_COLUMNS, declarations),
            (INQUIRIES, INQUIRY_COLUMNS, inquiries),
        ):
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                f" (SELECT max(id) FROM {table.name}))"
            )
    with psycopg.connect(url, autocommit=True) as connection:
        for table in (DECLARATIONS, INQUIRIES):
            connection.execute(f"VACUUM ANALYZE {table.name}")


def _check_loaded(engine: Engine, population: Population) -> None:
    """The first and last bulk inquiries read back through the ORM as they were generated."""
    n = len(population.requirements)
    factory = make_session_factory(engine)
    with factory() as session:
        for d, r in ((0, 0), (population.declarations - 1, n - 1)):
            inquiry = session.get(Inquiry, d * n + r + 1)
            expected = population.clocks[d // SHARED_INSTANT][r]
            if inquiry is None or any(getattr(inquiry, k) != v for k, v in expected.items()):
                raise BenchError(f"bulk inquiry {d * n + r + 1} does not read back as written")
            constant = population.requirements[r].constant
            if any(getattr(inquiry, k) != v for k, v in constant.items()):
                raise BenchError(f"bulk inquiry {d * n + r + 1} does not read back as written")


# --- part 1: the idle sweep ---------------------------------------------------------------


@dataclass
class Idle:
    """Part 1 on one backend: timings (seconds) and the plans of the statements."""

    sweep_call: list[float] = field(default_factory=list)
    sweep_transaction: list[float] = field(default_factory=list)
    next_due: list[float] = field(default_factory=list)
    until_due: list[float] = field(default_factory=list)
    idle_pass: list[float] = field(default_factory=list)
    sleep_seconds: float = 0.0
    plans: list[tuple[str, str, str]] = field(default_factory=list)
    """(what, statement, plan)."""
    index_only: bool = False
    analyze: str = ""
    load: float = 0.0
    """The 1-minute load average when the timing started (the machine is shared)."""


def _captured(engine: Engine, action: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements (and parameters) ``action`` sends through ``engine``."""
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        connection.rollback()
    if postgres:
        return "\n".join(str(r[0]) for r in rows)
    return "\n".join(str(r[-1]) for r in rows)


def _short(statement: str) -> str:
    """A statement on one line, its long column list abridged."""
    text = " ".join(statement.split())
    match = re.match(r"SELECT (.+?) FROM (.*)", text)
    if match and len(match.group(1)) > 80:
        columns = match.group(1).split(", ")
        text = f"SELECT {columns[0]}, … ({len(columns)} columns) FROM {match.group(2)}"
    return text


def _uses_index(plan: str, postgres: bool, table: str, index: str) -> bool:
    if postgres:
        return index in plan and "Seq Scan" not in plan
    lines = plan.splitlines()
    return any(index in line for line in lines) and not any(
        line.startswith(f"SCAN {table}") for line in lines
    )


def _idle(engine: Engine, now: datetime, samples: int) -> Idle:
    """Time the idle operations, interleaved, and explain the statements they send."""
    factory = make_session_factory(engine)
    settings = Settings()
    worker = Worker(factory, ManualClock(now), settings, channels(factory, settings), name="bench")
    out = Idle(load=os.getloadavg()[0])
    for _ in range(20):
        worker.run_once()
        worker.seconds_until_due()
    perf = time.perf_counter
    for _ in range(samples):
        t0 = perf()
        with transaction(factory) as session:
            t1 = perf()
            found = sweep.sweep(session, now=now, limit=BATCH)
            t2 = perf()
        t3 = perf()
        if found:
            raise BenchError(f"the idle sweep found {found} inquiries due")
        out.sweep_call.append(t2 - t1)
        out.sweep_transaction.append(t3 - t0)
        with factory() as reader:
            reader.connection()  # the transaction has begun; time the query alone
            t0 = perf()
            sweep.next_due(reader)
            out.next_due.append(perf() - t0)
        t0 = perf()
        out.sleep_seconds = worker.seconds_until_due()
        out.until_due.append(perf() - t0)
        t0 = perf()
        worker.run_once()
        out.idle_pass.append(perf() - t0)
    postgres = engine.dialect.name == "postgresql"
    statements = [
        ("claim (`sweep.claim_due`)", s, p)
        for s, p in _captured(engine, worker.sweep_once)
        if "inquiries" in s
    ]
    jobs = 0
    for s, p in _captured(engine, worker.seconds_until_due):
        if "inquiries" in s:
            statements.append(("sleep (`sweep.next_due`)", s, p))
        elif "jobs" in s:
            jobs += 1
            statements.append((f"sleep (`queue.next_due`, query {jobs})", s, p))
    ok = bool(statements)
    for what, statement, parameters in statements:
        plan = _plan(engine, statement, parameters)
        out.plans.append((what, _short(statement), plan))
        if "inquiries" in statement:
            ok = ok and _uses_index(plan, postgres, "inquiries", "ix_inquiries_next_action_at")
    out.index_only = ok
    if postgres and statements:
        statement, parameters = statements[0][1], statements[0][2]
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + statement, parameters
            ).all()
            connection.rollback()
        out.analyze = "\n".join(str(r[0]) for r in rows)
    return out


# --- part 2: a real worker notices a breach -------------------------------------------------


class WorkerProcess:
    """``python -m panjereh worker`` on a store, its output in a log file."""

    def __init__(self, database_url: str, log: Path) -> None:
        app_root = str(Path(panjereh.__file__).resolve().parent.parent)
        path = [app_root, os.environ.get("PYTHONPATH", "")]
        env = {
            **os.environ,
            "PANJEREH_DATABASE_URL": database_url,
            "PANJEREH_ENV": "development",
            "PANJEREH_SQL_ECHO": "false",
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(p for p in path if p)),
        }
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "panjereh", "worker"],
            env=env,
            cwd=app_root,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> WorkerProcess:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for the worker's "started" line, then for its first pass to be over."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the worker exited: {self.log_text()[-2000:]}")
            if " started" in self.log_text():
                time.sleep(1.0)
                return
            time.sleep(0.05)
        raise BenchError(f"the worker did not start within {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


class Watcher:
    """Reads what the worker committed, on a connection of its own (autocommit)."""

    def __init__(self, url: str, sqlite_path: Path | None) -> None:
        self.sqlite = sqlite_path is not None
        self.connection: Any = (
            sqlite3.connect(sqlite_path, isolation_level=None)
            if sqlite_path is not None
            else psycopg.connect(url, autocommit=True)
        )

    def _at(self, value: str | datetime) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def firings(self, first_id: int) -> list[tuple[int, datetime]]:
        mark = "?" if self.sqlite else "%s"
        rows = self.connection.execute(
            "SELECT inquiry_id, min(fired_at) FROM escalation_firings"
            f" WHERE inquiry_id >= {mark} GROUP BY inquiry_id",
            (first_id,),
        ).fetchall()
        return [(int(i), self._at(at)) for i, at in rows]

    def inbox(self, first_id: int) -> list[int]:
        mark = "?" if self.sqlite else "%s"
        rows = self.connection.execute(
            f"SELECT DISTINCT inquiry_id FROM notifications WHERE inquiry_id >= {mark}",
            (first_id,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def close(self) -> None:
        self.connection.close()


@dataclass
class Notice:
    """Part 2 on one backend (seconds after each inquiry's due time)."""

    fired: list[float] = field(default_factory=list)
    visible: list[float] = field(default_factory=list)
    inbox: list[float] = field(default_factory=list)
    inquiries: int = 0
    missed: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    idle_cpu: float = 0.0
    filed_at: datetime | None = None
    errors: list[str] = field(default_factory=list)


def _breach_filing(engine: Engine, payload: DeclarationIn, now: datetime) -> datetime:
    """The latest whole hour before ``now`` at which filing ``payload`` leaves each inquiry
    with its first ladder step passed by now and its second more than an hour away."""
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        for hours in range(1, 24 * 60):
            at = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
            check = declaration_flows.check_requirements(session=session, payload=payload, at=at)
            ladders = policies.active_policies(
                session=session, inquiry_types=[r.inquiry_type for r in check.inquiries]
            )
            good = bool(check.inquiries)
            for r in check.inquiries:
                calendar = calendar_for(
                    session=session, agency_code=r.agency_code, province=payload.province
                )
                started = clock.start(calendar, received_at=at, business_days=r.sla_business_days)
                rungs = ladder.schedule(
                    ladders[r.inquiry_type][1],
                    calendar,
                    due_at=started.due_at,
                    running_since=at,
                    budget_minutes=started.budget_minutes,
                    limit=2,
                )
                good = good and rungs[0].at < now - timedelta(minutes=1)
                good = good and (len(rungs) < 2 or rungs[1].at > now + timedelta(hours=1))
            if good:
                return at
    raise BenchError("no filing instant in the last 60 days leaves exactly one step due")


def _notice(
    url: str, engine: Engine, users: Users, workdir: Path, sqlite_path: Path | None
) -> Notice:
    """File declarations whose step is due a few seconds ahead; watch the real worker."""
    out = Notice()
    factory = make_session_factory(engine)
    payload = DeclarationIn.model_validate(BREACH_BODY)
    trader = users.traders[0]
    rng = random.Random(7)
    label = "sqlite" if sqlite_path is not None else "postgres"
    with WorkerProcess(url, workdir / f"worker-{label}.log") as worker:
        cpu = worker.cpu_seconds()
        time.sleep(IDLE_SECONDS)
        out.idle_cpu = (worker.cpu_seconds() - cpu) / IDLE_SECONDS
        filed_at = _breach_filing(engine, payload, datetime.now(UTC))
        out.filed_at = filed_at
        base = datetime.now(UTC) + timedelta(seconds=BREACH_LEAD_SECONDS)
        due: dict[int, datetime] = {}
        for i in range(BREACHES):
            at = base + timedelta(seconds=i * BREACH_SPACING_SECONDS + rng.uniform(0, 0.1))
            with transaction(factory) as session:
                filed = declaration_flows.file_declaration(
                    session=session, principal=trader, payload=payload, at=filed_at
                )
                ids = [q.id for q in filed.inquiries]
                session.execute(
                    update(Inquiry)
                    .where(Inquiry.id.in_(ids))
                    .values(next_action_at=at)
                    .execution_options(synchronize_session=False)
                )
            if datetime.now(UTC) >= at:
                out.errors.append(f"declaration {filed.id} was committed after its step was due")
            due.update(dict.fromkeys(ids, at))
        out.inquiries = len(due)
        first = min(due)
        seen_fired: dict[int, datetime] = {}
        seen_inbox: dict[int, datetime] = {}
        fired_at: dict[int, datetime] = {}
        watcher = Watcher(url, sqlite_path)
        stop_at = max(due.values()) + timedelta(seconds=BREACH_GRACE_SECONDS)
        try:
            while datetime.now(UTC) < stop_at and (
                len(seen_fired) < len(due) or len(seen_inbox) < len(due)
            ):
                firings = watcher.firings(first)
                inbox = watcher.inbox(first)
                looked = datetime.now(UTC)
                for inquiry_id, at in firings:
                    if inquiry_id in due and inquiry_id not in seen_fired:
                        seen_fired[inquiry_id], fired_at[inquiry_id] = looked, at
                for inquiry_id in inbox:
                    if inquiry_id in due and inquiry_id not in seen_inbox:
                        seen_inbox[inquiry_id] = looked
                time.sleep(WATCH_SECONDS)
        finally:
            watcher.close()
        log = worker.log_text()
    for inquiry_id, at in due.items():
        if inquiry_id in fired_at:
            out.fired.append((fired_at[inquiry_id] - at).total_seconds())
            out.visible.append((seen_fired[inquiry_id] - at).total_seconds())
        else:
            out.missed += 1
        if inquiry_id in seen_inbox:
            out.inbox.append((seen_inbox[inquiry_id] - at).total_seconds())
    with factory() as session:
        out.steps.update(
            session.scalars(
                select(EscalationFiring.step).where(EscalationFiring.inquiry_id >= first)
            )
        )
    problems = [line for line in log.splitlines() if "Traceback" in line or "failed" in line]
    out.errors += [f"worker log: {line}" for line in problems[:5]]
    return out


# --- part 3: deadlines ----------------------------------------------------------------------


@dataclass
class Deadlines:
    """Part 3: microseconds per call, per calendar; the cold build in milliseconds."""

    rows: list[tuple[str, str, float, float, float, float]] = field(default_factory=list)
    """(agency, kind, deadline best, deadline median, start best, start median) in µs."""
    cold_ms: float = 0.0
    outside_us: float = 0.0
    calls: int = 0


def _per_call(fn: Callable[[], object], *, calls: int, number: int) -> tuple[float, float]:
    times = timeit.repeat(fn, number=number, repeat=DEADLINE_REPEATS)
    per = sorted(t / (number * calls) * 1e6 for t in times)
    return per[0], per[len(per) // 2]


def _deadlines(engine: Engine, quick: bool) -> Deadlines:
    out = Deadlines()
    factory = make_session_factory(engine)
    rng = random.Random(11)
    minutes = 2 * 365 * 24 * 60
    cases = [
        (START + timedelta(minutes=rng.randrange(minutes), seconds=rng.randrange(60)), 1 + i % 10)
        for i in range(DEADLINE_CASES)
    ]
    number = DEADLINE_NUMBER_QUICK if quick else DEADLINE_NUMBER_FULL
    with factory() as session:
        bump_revision(session=session)  # a calendar change: every cached calendar is dropped
        session.rollback()
        t0 = time.perf_counter()
        calendar = calendar_for(session=session, agency_code=DEADLINE_AGENCIES[0][0], province=None)
        calendar.deadline(START, 5)
        out.cold_ms = (time.perf_counter() - t0) * 1000
        for agency, kind in DEADLINE_AGENCIES:
            calendar = calendar_for(session=session, agency_code=agency, province="IR-22")
            calendar.deadline(START, 5)
            deadline = calendar.deadline

            def deadlines(deadline: Callable[[datetime, int], datetime] = deadline) -> None:
                for at, days in cases:
                    deadline(at, days)

            def starts(calendar: BusinessCalendar = calendar) -> None:
                for at, days in cases:
                    clock.start(calendar, received_at=at, business_days=days)

            d_best, d_median = _per_call(deadlines, calls=len(cases), number=number)
            s_best, s_median = _per_call(starts, calls=len(cases), number=number)
            out.rows.append((agency, kind, d_best, d_median, s_best, s_median))
        outside = datetime(2037, 6, 1, 5, 0, tzinfo=UTC)
        t0 = time.perf_counter()
        for n in range(20):
            calendar.deadline(outside + timedelta(hours=n), 5)
        out.outside_us = (time.perf_counter() - t0) / 20 * 1e6
    out.calls = DEADLINE_CASES * number * DEADLINE_REPEATS
    return out


# --- the run --------------------------------------------------------------------------------


@dataclass
class Backend:
    """Parts 1 and 2 on one store."""

    label: str
    load_seconds: float
    store_bytes: int
    idle: Idle
    notice: Notice


def _users(engine: Engine, population: Population) -> Users:
    agencies = sorted({r.constant["agency_code"] for r in population.requirements} | {"MCIG"})
    return create_users(engine, traders=TRADERS, agencies=agencies)


def _backend(
    label: str,
    url: str,
    engine: Engine,
    population: Population,
    users: Users,
    options: Options,
    sqlite_path: Path | None,
) -> Backend:
    traders = [t.id for t in users.traders if t.id is not None]
    t0 = time.perf_counter()
    if sqlite_path is not None:
        _load_sqlite(sqlite_path, engine, population, traders)
    else:
        _load_postgres(url, engine, population, traders)
    load_seconds = time.perf_counter() - t0
    if sqlite_path is not None:
        size = sqlite_path.stat().st_size
    else:
        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
            size = int(row[0]) if row else 0
    print(
        f"  {label}: {population.inquiries:,} open inquiries loaded in {load_seconds:.1f} s",
        flush=True,
    )
    _check_loaded(engine, population)
    samples = SAMPLES_QUICK if options.quick else SAMPLES_FULL
    idle = _idle(engine, population.now, samples)
    notice = _notice(url, engine, users, options.workdir, sqlite_path)
    return Backend(label, load_seconds, size, idle, notice)


def run(options: Options) -> Result:
    """Build the stores, measure the three parts, and report them against the targets."""
    inquiries = INQUIRIES_QUICK if options.quick else INQUIRIES_FULL
    backends: list[Backend] = []
    pg_skipped: str | None = None
    path = options.workdir / "clock.db"
    url = sqlite_url(path)
    engine = engine_for(url)
    started = time.perf_counter()
    try:
        prepare(engine)
        now = datetime.now(UTC).replace(microsecond=0)
        population = _population(engine, inquiries=inquiries, now=now)
        print(
            f"  {population.inquiries:,} open inquiries in {population.declarations:,}"
            f" declarations, clocks computed in {population.seconds:.1f} s",
            flush=True,
        )
        users = _users(engine, population)
        backends.append(_backend("SQLite", url, engine, population, users, options, path))
        deadlines = _deadlines(engine, options.quick)
    finally:
        engine.dispose()
    if options.postgres_url is None:
        pg_skipped = "--no-postgres"
    else:
        pg_skipped = postgres_problem(options.postgres_url)
    if pg_skipped is None and options.postgres_url is not None:
        with postgres_database(options.postgres_url) as pg_url:
            pg = engine_for(pg_url)
            try:
                prepare(pg)
                check = _requirements(pg, population.now)
                if [r.constant for r in check] != [r.constant for r in population.requirements]:
                    raise BenchError("PostgreSQL's seeded rules differ from SQLite's")
                pg_users = _users(pg, population)
                backends.append(
                    _backend("PostgreSQL", pg_url, pg, population, pg_users, options, None)
                )
            finally:
                pg.dispose()
    seconds = time.perf_counter() - started
    return _result(population, backends, deadlines, pg_skipped, options, seconds)


def _targets(backends: list[Backend], deadlines: Deadlines) -> dict[str, bool]:
    return {
        "sweep": all(
            _quantile(b.idle.sweep_transaction, 0.99) * 1000 < TARGET_SWEEP_MS for b in backends
        ),
        "index": all(b.idle.index_only for b in backends),
        "notice": all(
            b.notice.fired
            and not b.notice.missed
            and max(b.notice.fired) <= TARGET_NOTICE_SECONDS
            and max(b.notice.visible) <= TARGET_NOTICE_SECONDS
            for b in backends
        ),
        "deadline": all(row[3] < TARGET_DEADLINE_US for row in deadlines.rows),
    }


def _result(
    population: Population,
    backends: list[Backend],
    deadlines: Deadlines,
    pg_skipped: str | None,
    options: Options,
    seconds: float,
) -> Result:
    targets = _targets(backends, deadlines)
    figures: dict[str, Any] = {
        "inquiries": population.inquiries,
        "declarations": population.declarations,
        "seconds": round(seconds, 1),
        "deadline_cold_ms": round(deadlines.cold_ms, 1),
        **{f"target_{k}": v for k, v in targets.items()},
    }
    for agency, _, _, d_median, _, s_median in deadlines.rows:
        figures[f"deadline_us_{agency}"] = round(d_median, 2)
        figures[f"start_us_{agency}"] = round(s_median, 2)
    lines = [
        f"{population.inquiries:,} open inquiries ({population.declarations:,} declarations),"
        f" next actions {population.earliest:%Y-%m-%d %H:%M} .. {population.latest:%Y-%m-%d}"
        f" (UTC); clocks computed in {population.seconds:.1f} s",
    ]
    for b in backends:
        key = b.label.lower()
        i, n = b.idle, b.notice
        figures.update(
            {
                f"{key}_load_seconds": round(b.load_seconds, 1),
                f"{key}_sweep_p50_ms": round(_quantile(i.sweep_transaction, 0.5) * 1000, 3),
                f"{key}_sweep_p99_ms": round(_quantile(i.sweep_transaction, 0.99) * 1000, 3),
                f"{key}_sweep_call_p50_ms": round(_quantile(i.sweep_call, 0.5) * 1000, 3),
                f"{key}_next_due_p50_ms": round(_quantile(i.next_due, 0.5) * 1000, 3),
                f"{key}_seconds_until_due_p50_ms": round(_quantile(i.until_due, 0.5) * 1000, 3),
                f"{key}_idle_pass_p50_ms": round(_quantile(i.idle_pass, 0.5) * 1000, 3),
                f"{key}_index_range": i.index_only,
                f"{key}_notice_fired_p50_s": round(_quantile(n.fired, 0.5), 4),
                f"{key}_notice_fired_max_s": round(max(n.fired, default=float("nan")), 4),
                f"{key}_notice_visible_max_s": round(max(n.visible, default=float("nan")), 4),
                f"{key}_notice_missed": n.missed,
                f"{key}_worker_idle_cpu": round(n.idle_cpu, 4),
            }
        )
        lines += [
            f"{b.label}: loaded in {b.load_seconds:.1f} s; p50/p99 ms: idle sweep in its"
            f" transaction {_p(i.sweep_transaction)}, the sweep() call {_p(i.sweep_call)},"
            f" next_due {_p(i.next_due)}, seconds_until_due {_p(i.until_due)} (returns"
            f" {i.sleep_seconds:.2f} s), idle run_once {_p(i.idle_pass)}; index range, no scan:"
            f" {'yes' if i.index_only else 'NO'}; load average {i.load:.2f}",
            f"{b.label}: worker fired {len(n.fired)}/{n.inquiries} due steps; p50/max ms after"
            f" due: fired_at {_p(n.fired, 1.0)}, committed and visible {_p(n.visible, 1.0)},"
            f" in the officer's inbox {_p(n.inbox, 1.0)}; idle worker CPU {n.idle_cpu:.1%}"
            " of a core",
            *(f"{b.label}: {e}" for e in n.errors),
        ]
        for what, _, plan in i.plans:
            lines.append(f"{b.label} plan, {what}: {' | '.join(plan.splitlines())}")
    if pg_skipped:
        lines.append(f"PostgreSQL skipped: {pg_skipped}")
    for agency, kind, d_best, d_median, s_best, s_median in deadlines.rows:
        lines.append(
            f"deadline ({agency}, {kind}): {d_median:.2f} µs per call (best {d_best:.2f});"
            f" clock.start {s_median:.2f} µs (best {s_best:.2f})"
        )
    lines.append(
        f"cold calendar (built from the store after a change): {deadlines.cold_ms:.0f} ms;"
        f" a deadline outside the precomputed years: {deadlines.outside_us:.0f} µs"
    )
    lines += [
        f"target: idle sweep < {TARGET_SWEEP_MS:.0f} ms (p99) -> "
        f"{'met' if targets['sweep'] else 'NOT met'}; index range, never a scan -> "
        f"{'met' if targets['index'] else 'NOT met'}",
        f"target: breach noticed <= {TARGET_NOTICE_SECONDS:.0f} s (max) -> "
        f"{'met' if targets['notice'] else 'NOT met'}",
        f"target: deadline < {TARGET_DEADLINE_US:.0f} µs -> "
        f"{'met' if targets['deadline'] else 'NOT met'}",
    ]
    failures = [e for b in backends for e in b.notice.errors]
    return Result(
        name="clock",
        title=TITLE,
        figures=figures,
        lines=lines,
        markdown=_markdown(population, backends, deadlines, targets, pg_skipped, options, seconds),
        failures=failures,
    )


def _markdown(
    population: Population,
    backends: list[Backend],
    deadlines: Deadlines,
    targets: dict[str, bool],
    pg_skipped: str | None,
    options: Options,
    seconds: float,
) -> str:
    levels = population.levels
    total = sum(levels.values())
    steps = ["none", *(s.name for s in population.requirements[0].policy.steps)]
    level_text = ", ".join(
        f"{levels[k] / total:.0%} {steps[k] if k < len(steps) else k}"
        for k in sorted(levels)
        if levels[k]
    )
    samples = SAMPLES_QUICK if options.quick else SAMPLES_FULL
    last = BREACHES * BREACH_SPACING_SECONDS
    worst_sweep = max((_quantile(b.idle.sweep_transaction, 0.99) for b in backends), default=0)
    worst_notice = max((max(b.notice.fired, default=float("nan")) for b in backends), default=0)
    worst_visible = max((max(b.notice.visible, default=float("nan")) for b in backends), default=0)
    worst_deadline = max((row[3] for row in deadlines.rows), default=0)
    out = [
        f"**{population.inquiries:,} open inquiries** in the store"
        + (" (`--quick`; the full run uses 1,000,000)" if options.quick else "")
        + f": {population.declarations:,} declarations of 16 inquiries each from 11 agencies,"
        f" filed over the last {HISTORY.days} days, every inquiry awaiting its answer with a"
        f" next action time between {population.earliest:%Y-%m-%d %H:%M} and"
        f" {population.latest:%Y-%m-%d} (UTC); the last ladder step each has reached:"
        f" {level_text}. The whole section (building the"
        f" stores included) took {seconds:.0f} s.",
        "",
        "### Targets",
        "",
        "| target | measured (worst backend) | met |",
        "| --- | ---: | :---: |",
        f"| a sweep that finds nothing due < {TARGET_SWEEP_MS:.0f} ms (in its transaction) |"
        f" p99 {_ms(worst_sweep)} ms | {_yes(targets['sweep'])} |",
        f"| … reading an index range on `next_action_at`, never a scan | see the plans |"
        f" {_yes(targets['index'])} |",
        f"| a breach noticed by a running worker ≤ {TARGET_NOTICE_SECONDS:.0f} s after it is"
        f" due | max {_ms(worst_notice)} ms (`fired_at`), {_ms(worst_visible)} ms (committed"
        f" and seen) | {_yes(targets['notice'])} |",
        f"| computing a deadline < {TARGET_DEADLINE_US:.0f} µs |"
        f" {worst_deadline:.2f} µs | {_yes(targets['deadline'])} |",
        "",
    ]
    if pg_skipped:
        out += [f"PostgreSQL was skipped: {pg_skipped}.", ""]
    out += [
        "### 1. The sweep when nothing is due",
        "",
        f"{samples:,} timed calls of each, interleaved, with `now` one hour before the earliest"
        " next action (milliseconds, p50 / p99; the last column is the 1-minute load average"
        " of the machine, which has 2 cores shared with other work, when the timing began):",
        "",
        "| backend | store (loaded in) | `sweep()` in its transaction | the `sweep()` call |"
        " `sweep.next_due` | `Worker.seconds_until_due` | idle `Worker.run_once` |"
        " load average |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for b in backends:
        i = b.idle

        def pair(samples: list[float]) -> str:
            return f"{_ms(_quantile(samples, 0.5))} / {_ms(_quantile(samples, 0.99))}"

        out.append(
            f"| {b.label} | {b.store_bytes / 2**20:,.0f} MiB ({b.load_seconds:.0f} s) |"
            f" {pair(i.sweep_transaction)} |"
            f" {pair(i.sweep_call)} | {pair(i.next_due)} | {pair(i.until_due)} |"
            f" {pair(i.idle_pass)} | {i.load:.2f} |"
        )
    out += [
        "",
        "Query plans of the statements the idle sweep and the sleep computation send"
        " (captured from the engine, explained with their own parameters):",
        "",
    ]
    for b in backends:
        tool = "EXPLAIN" if b.label == "PostgreSQL" else "EXPLAIN QUERY PLAN"
        for what, statement, plan in b.idle.plans:
            out += [
                f"- {b.label}, {what}: `{statement}`",
                "",
                f"  ```text\n  {tool}\n"
                + "\n".join(f"  {line}" for line in plan.splitlines())
                + "\n  ```",
                "",
            ]
        if b.idle.analyze:
            out += [
                f"- {b.label}, the claim with `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)`:",
                "",
                "  ```text\n"
                + "\n".join(f"  {x}" for x in b.idle.analyze.splitlines())
                + "\n  ```",
                "",
            ]
    out += [
        "### 2. A breach noticed by a running worker",
        "",
        f"{BREACHES} declarations (one inquiry each) with their ladder step due"
        f" {BREACH_LEAD_SECONDS:.0f} to {BREACH_LEAD_SECONDS + last:.0f}"
        " s after they are filed, at instants spread so that each one falls at a different"
        " point of the worker's loop (seconds after the due time, p50 / max):",
        "",
        "| backend | steps fired | `fired_at` − due | committed and visible − due |"
        " in the officer's inbox − due | idle worker CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for b in backends:
        n = b.notice

        def secs(samples: list[float]) -> str:
            return f"{_quantile(samples, 0.5):.3f} / {max(samples, default=float('nan')):.3f}"

        fired_steps = ", ".join(f"{count} {step}" for step, count in sorted(n.steps.items()))
        out.append(
            f"| {b.label} | {len(n.fired)} of {n.inquiries} ({fired_steps}) | {secs(n.fired)} |"
            f" {secs(n.visible)} | {secs(n.inbox)} | {n.idle_cpu:.1%} of a core |"
        )
    slowest = [
        f"no. {b.notice.visible.index(max(b.notice.visible)) + 1} of"
        f" {len(b.notice.visible)} on {b.label}"
        for b in backends
        if b.notice.visible
    ]
    out += [
        "",
        f"The slowest to be committed was, in order of due time, {' and '.join(slowest)}."
        " The first step a fresh worker process fires also builds its agency's calendar"
        f" (cold: {deadlines.cold_ms:.0f} ms, part 3) and reads its ladder policy; every"
        " firing shares the two cores with the benchmark's own polling (every"
        f" {WATCH_SECONDS * 1000:.0f} ms, which also bounds the resolution of *committed and"
        " visible*) and the rest of the machine's load.",
    ]
    errors = [f"{b.label}: {e}" for b in backends for e in b.notice.errors]
    if errors:
        out += ["", "Problems seen:", "", *(f"- {e}" for e in errors)]
    out += [
        "",
        "### 3. Computing a deadline",
        "",
        f"µs per call over {DEADLINE_CASES:,} receipt instants in 2026–2028 (1 to 10 business"
        f" days), {deadlines.calls:,} calls each, median (best) of {DEADLINE_REPEATS} repeats:",
        "",
        "| calendar | `BusinessCalendar.deadline` | `panjereh.sla.clock.start` |",
        "| --- | ---: | ---: |",
        *(
            f"| {agency} ({kind}) | {d_median:.2f} ({d_best:.2f}) | {s_median:.2f} ({s_best:.2f}) |"
            for agency, kind, d_best, d_median, s_best, s_median in deadlines.rows
        ),
        "",
        f"A calendar is built once per process and calendar revision: the first `calendar_for`"
        f" after a change and its first deadline took {deadlines.cold_ms:.0f} ms (official"
        " holidays of 2020–2035 and the table of business days). A deadline outside those"
        f" years is computed day by day: {deadlines.outside_us:.0f} µs.",
        "",
        "### How it is measured",
        "",
        "- **The store.** Migrated and seeded as `panjereh db upgrade` does, with real users"
        f" ({TRADERS} traders, one officer per agency). The open inquiries are written in bulk"
        " straight into `declarations` and `inquiries` (SQLite: plain `executemany` in one"
        " transaction; PostgreSQL: `COPY`, then `VACUUM ANALYZE` as autovacuum would after"
        " such a load), with every column as Panjereh stores it: each declaration is the"
        " filing benchmark's (16 inquiries with their rules, reasons in both languages, item"
        " lines, service levels, calendar and policy versions), at one of the customs offices,"
        f" filed at a random instant of the last {HISTORY.days} days (every {SHARED_INSTANT}"
        " declarations share an instant); deadline, budget and ladder are computed by"
        " `panjereh.sla.clock.start` and `panjereh.escalation.ladder.schedule` on the"
        " agency's calendar. Rungs already due by the start of the run (plus"
        f" {int(MARGIN.total_seconds() // 3600)} h) count as fired: the inquiry has the level"
        " they reached and `next_action_at` is its next rung. **Not written** for the bulk"
        " rows: goods lines, events, escalation firings and notifications (the sweep reads"
        " none of them until an inquiry is due). Two of the rows are read back through the ORM"
        " and compared with what was generated.",
        "- **Part 1** uses the real functions on `panjereh.db.make_engine`:"
        " `transaction(factory)` around `sweep.sweep(session, now=…, limit=200)` (as"
        " `Worker.sweep_once`; on SQLite this includes `BEGIN IMMEDIATE` and the commit);"
        " `sweep.next_due` in an open session; `Worker.seconds_until_due` and"
        " `Worker.run_once` (sweep, then the outbox) of a `Worker` on a manual clock. The"
        " plans are those of the statements these calls send, captured from the engine.",
        "- **Part 2** starts `python -m panjereh worker` (real clock, default poll"
        " 0.5 s) on the same store and measures its CPU use while idle. The trader files"
        f" {BREACHES} declarations through `declarations.flows.file_declaration` at a past"
        " instant chosen so that each inquiry's first rung (at risk) has passed and its second"
        " is more than an hour away, and in the same transaction sets `next_action_at` to the"
        " instant the step is to be due, a few seconds ahead. (Rungs fall in business hours,"
        " so the calendar alone cannot put one a few seconds ahead at every hour of the day;"
        " the worker wakes on `next_action_at` alone.) `fired_at` is the worker's"
        " clock when its sweep ran; *committed and visible* is when the benchmark, polling"
        f" every {WATCH_SECONDS * 1000:.0f} ms on a connection of its own, first saw the"
        " firing; *in the inbox* is when the officer's notification (an outbox job the worker"
        " delivers after the sweep) was first seen.",
        "- **Part 3** times `calendar.deadline` and `clock.start` with `timeit` on the"
        " calendars `calendar_for` returns (cached), on the first store.",
        "- The machine is shared; the load average at the start is in the header.",
    ]
    return "\n".join(out)
