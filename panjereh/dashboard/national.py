"""A national history at scale: millions of inquiries over years, written fast, with its dashboard.

``generate`` writes what the single window would have stored after ``years`` of national use
(``panjereh demo-data --scale national``): traders, declarations with real goods (the demo's
trade lanes and offices), every inquiry the active rule set asks for, the agencies' answers at
their own pace, requests for information and replies, lapses, refusals, cancellations, every
escalation step the ladder fires, and the hash-chained event log, in one global time order.
The projector's replay (``projector.Replay``, what ``projector.rebuild`` uses) is handed each
event as it is chained, so the dashboard is built as the log is written, not read back after.

It is fast because it plans each declaration whole (its inquiries' timelines and the fan-in)
and writes rows in bulk (binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite) instead of
going through the flows one transaction at a time, and because the work is shared between two
processes: this one plans and writes the declarations' and inquiries' rows, the log's own
(``_Log``) chains and writes the events, writes the goods lines and folds the dashboard. The
rows and events are the ones the flows would write, and the chain is real (``panjereh audit
verify`` passes). What it leaves out, and says so in ``docs/dashboard.md``: notification jobs
and in-app notices, users' own events, and agency systems' messages.

Agencies answer at the demo's paces (``panjereh.demo.history.PACES``), getting faster over the
years (the "90 days down to 16" trend), and one agency (``GAMER``) asks for information just
before most deadlines so that its clock stops: the case the dashboard's pause figures exist for.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import itertools
import json
import marshal
import math
import multiprocessing
import operator
import pickle
import queue
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

from psycopg.adapt import Dumper
from psycopg.pq import Format
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from panjereh.agencies.models import InquiryType
from panjereh.audit import chain
from panjereh.audit.chain import GENESIS_HASH
from panjereh.audit.models import ChainHead, Event
from panjereh.auth.models import Role, User
from panjereh.auth.passwords import hash_password
from panjereh.calendars.service import calendar_for
from panjereh.config import get_settings
from panjereh.dashboard import periods, projector
from panjereh.dashboard.models import DashboardRollup, DashboardSignIn
from panjereh.db import (
    ExactDecimal,
    UTCDateTime,
    make_engine,
    make_session_factory,
    transaction,
)
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.demo.history import (
    _DEFAULT_PACE,
    _TRADER_REPLIES,
    _TYPE_MEDIAN_DAYS,
    OFFICES,
    PACES,
    AgencyPace,
    DemoRefused,
    _declaration,
    trader_hours,
)
from panjereh.escalation import ladder
from panjereh.escalation.models import EscalationFiring
from panjereh.escalation.policies import active_policies
from panjereh.escalation.policy import EscalationPolicy
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState, declaration_status
from panjereh.reference import customs_offices
from panjereh.rules import engine as rules_engine
from panjereh.rules import service as rules
from panjereh.sla.calendar import TEHRAN, BusinessCalendar

GAMER = "CRA"
"""The agency that stops its clock by asking for information just before its deadlines."""
PASSWORD = "panjereh-national-1405"  # noqa: S105 - synthetic accounts of a synthetic store
TEMPLATES = 4000
TRADERS_PER_OFFICE = 40
SYSTEM_NAME = "system"
_DAY = 420  # business minutes of a default working day
_FLUSH_ROWS = 50_000
_SQLITE_WAIT_MS = 600_000
_BATCH = 20_000  # messages handed to the log's process at a time
_AHEAD = 64  # batches the planner may be ahead of the log's process (a month's fold is long)
# The tags of what the planner hands the log's process besides events (an event's first value
# is its instant's ISO text).
_FOLD, _DECLARATION, _END, _SHAPE = 0, 1, 2, 3
_TEXT, _JSONB = 25, 3802  # PostgreSQL's type oids
_AS_TEXT = {1042: _TEXT, 114: _TEXT}  # char, json
_OFFICE_WEIGHT = {code: profile.weight for code, profile in OFFICES.items()}
_WEEKDAY = {0: 1.0, 1: 1.0, 2: 0.95, 3: 0.35, 4: 0.03, 5: 1.05, 6: 1.0}


@dataclass(frozen=True, slots=True)
class NationalSummary:
    """What ``generate`` wrote, and how long each phase took (seconds)."""

    declarations: int
    inquiries: int
    events: int
    items: int
    escalations: int
    first_day: date
    last_day: date
    seconds_generate: float
    seconds_index: float
    seconds_project: float

    @property
    def seconds_total(self) -> float:
        return self.seconds_generate + self.seconds_index + self.seconds_project

    def lines(self) -> list[str]:
        """A printable summary."""
        return [
            f"National history {self.first_day} .. {self.last_day}: {self.declarations:,} "
            f"declarations, {self.items:,} goods lines, {self.inquiries:,} inquiries, "
            f"{self.events:,} chained events ({self.escalations:,} escalation steps).",
            f"Written with its dashboard in {self.seconds_generate:.0f} s (the other tables "
            f"indexed meanwhile), the events and goods lines indexed in "
            f"{self.seconds_index:.0f} s, dashboard tables vacuumed and analysed in "
            f"{self.seconds_project:.0f} s; {self.seconds_total / 60:.1f} minutes in all.",
        ]


# -- what a declaration needs -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Need:
    inquiry_type: str
    agency: str
    rule_codes: str  # JSON
    rule_list: tuple[str, ...]
    item_lines: str  # JSON
    reason_en: str
    reason_fa: str
    sla_days: int


@dataclass(frozen=True, slots=True)
class _Template:
    kind: str
    office: str
    province: str
    items: tuple[tuple[str, str, str, Decimal, str, Decimal, str], ...]
    needs: tuple[_Need, ...]


def _templates(rng: random.Random, document: Any, version: int, count: int) -> list[_Template]:
    """Plausible declarations (the demo's lanes at the demo's offices) that need inquiries."""
    offices = list(OFFICES)
    weights = [_OFFICE_WEIGHT[o] for o in offices]
    found: list[_Template] = []
    attempts = 0
    while len(found) < count and attempts < count * 20:
        attempts += 1
        office = rng.choices(offices, weights)[0]
        payload, _ = _declaration(rng, office)
        filing = rules_engine.Filing(
            kind=payload.kind,
            lines=[
                rules_engine.GoodsLine(n, i.hs_code, i.origin_country, i.value, i.currency)
                for n, i in enumerate(payload.items, start=1)
            ],
        )
        needed = rules_engine.requirements(document, filing)
        if not needed:
            continue
        needs = tuple(
            _Need(
                r.inquiry_type,
                r.agency_code,
                json.dumps(list(r.rule_codes)),
                tuple(r.rule_codes),
                json.dumps(list(r.item_lines)),
                r.reason_en(version),
                r.reason_fa(version),
                r.sla_business_days,
            )
            for r in needed
        )
        items = tuple(
            (i.hs_code, i.description, i.origin_country, i.quantity, i.unit, i.value, i.currency)
            for i in payload.items
        )
        found.append(_Template(payload.kind, office, payload.province, items, needs))
    return found


# -- writing rows fast ---------------------------------------------------------------------


class _JsonText(Dumper):
    """JSON already serialised (``str``), for a ``jsonb`` column in a binary ``COPY``: the
    format's version byte, then the text (psycopg's own jsonb dumper serialises an object)."""

    format = Format.BINARY
    oid = _JSONB

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


class _Sink:
    """Buffers rows per table and writes them in bulk: binary COPY on PostgreSQL (no
    timestamps or numbers to format here and parse there), executemany on SQLite (values
    converted to what the application's column types store there)."""

    def __init__(self, engine: Engine, tables: Mapping[str, Sequence[str]]) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.converters = (
            {} if self.postgres else {name: _sqlite_converters(_MODELS[name]) for name in tables}
        )
        self.tables = tables
        self.buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
        self.counts: dict[str, int] = dict.fromkeys(tables, 0)
        self.connection = engine.raw_connection()
        self.wire: dict[str, list[int]] = {}
        cursor = self.connection.cursor()
        if self.postgres:
            for table, columns in tables.items():
                self.wire[table] = _wire_types(cursor, table, columns)
            cursor.execute("SET synchronous_commit = off")
            try:
                cursor.execute("SET session_replication_role = replica")  # no FK triggers
            except Exception:  # not a superuser: keep the checks and load more slowly
                self.connection.rollback()
                cursor = self.connection.cursor()
                cursor.execute("SET synchronous_commit = off")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            # Each flush is a transaction of its own (see ``flush``); the writer and the
            # log's process take turns at the write lock.
            cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_WAIT_MS}")
        cursor.close()

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= _FLUSH_ROWS:
            self.flush(table)

    def add_all(self, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        for row in rows:
            self.add(table, row)

    def flush(self, table: str) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        columns = self.tables[table]
        cursor = self.connection.cursor()
        if self.postgres:
            names = ", ".join(f'"{c}"' for c in columns)
            cursor.adapters.register_dumper(None, _JsonText)  # this cursor's, not the pool's
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(self.wire[table])
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            names = ", ".join(f'"{c}"' for c in columns)
            convert = self.converters[table]
            if convert:
                rows = [_converted(row, convert) for row in rows]
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - our names
                rows,
            )
            cursor.execute("COMMIT")
        cursor.close()
        self.counts[table] += len(rows)
        self.buffers[table] = []

    def commit(self) -> None:
        for table in self.tables:
            self.flush(table)
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def _wire_types(cursor: Any, table: str, columns: Sequence[str]) -> list[int]:
    """The types (oids) a binary ``COPY`` sends ``columns`` of ``table`` as: each column's
    own, but text for ``char``/``json`` (their binary form is their text; psycopg has no
    binary dumper for ``char``)."""
    cursor.execute(
        "SELECT attname, atttypid::int FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    found: dict[str, int] = dict(cursor.fetchall())
    return [_AS_TEXT.get(oid, oid) for oid in (found[c] for c in columns)]


def _sqlite_instant(value: datetime | None) -> str | None:
    """An instant as the application's UTC column type stores it on SQLite."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_decimal(value: Decimal | None) -> str | None:
    """A decimal as ``ExactDecimal`` stores it on SQLite (exact text)."""
    return None if value is None else format(value, "f")


def _converted(
    row: tuple[Any, ...], convert: list[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    values = list(row)
    for index, function in convert:
        values[index] = function(values[index])
    return tuple(values)


def _sqlite_converters(model: Any) -> list[tuple[int, Callable[[Any], Any]]]:
    """Which columns of a table need converting for SQLite, and how."""
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(model.__table__.columns):
        if isinstance(column.type, UTCDateTime):
            out.append((index, _sqlite_instant))
        elif isinstance(column.type, ExactDecimal):
            out.append((index, _sqlite_decimal))
    return out


# -- the dashboard, folded in a process of its own ------------------------------------------


_MODELS: dict[str, Any] = {
    "events": Event,
    "declarations": Declaration,
    "declaration_items": DeclarationItem,
    "inquiries": Inquiry,
    "escalation_firings": EscalationFiring,
    "dashboard_rollups": DashboardRollup,
    "dashboard_sign_ins": DashboardSignIn,
}


class _Event(NamedTuple):
    """An event as the projector's replay reads it (``projector.Projected``)."""

    seq: int
    at: datetime
    kind: str
    declaration_id: int | None
    inquiry_id: int | None
    after: str | None
    detail: Any


class _Log:
    """The log's own process: it chains the events the planner hands over (canonical JSON,
    SHA-256), writes them in bulk, and folds the dashboard from them with the projector's
    replay (``projector.Replay``, as ``rebuild`` uses it), while this process plans the
    declarations and writes their rows. The planner hands over each event at its time, with
    each new declaration's groups, values and goods lines (which the log's process writes),
    in batches of plain values (``marshal``: about a sixth less work than ``pickle`` for the
    events, at both ends); a thread sends them down a pipe, so the planner waits only when it
    is ``_AHEAD`` batches ahead. Chaining, writing and folding the events is about half of the
    work: the two processes share it between the machine's cores."""

    def __init__(
        self,
        engine: Engine,
        version: int,
        places: set[tuple[str, str]],
        head: tuple[int, str],
    ) -> None:
        context = multiprocessing.get_context("spawn")  # nothing of this process's pools
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(
            target=_write_log,
            args=(engine.url.render_as_string(hide_password=False), version, sorted(places),
                  head, theirs),
            name="panjereh-national-log",
            daemon=True,
        )  # fmt: skip
        self.process.start()
        theirs.close()
        self.batch: list[tuple[Any, ...]] = []
        self.outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=_AHEAD)
        self.sent: BaseException | None = None
        self.sender = threading.Thread(target=self._send_all, name="national-log-sender")
        self.sender.start()

    def add(self, message: tuple[Any, ...]) -> None:
        self.add_all((message,))

    def add_all(self, messages: Iterable[tuple[Any, ...]]) -> None:
        batch = self.batch
        batch.extend(messages)
        if len(batch) >= _BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        if self.sent is not None:  # the pipe broke: the process has ended, say why
            self._answer()
            raise self.sent
        self.outbox.put(marshal.dumps(self.batch))
        self.batch = []

    def _send_all(self) -> None:
        while (data := self.outbox.get()) is not None:
            try:
                self.pipe.send_bytes(data)
            except OSError as error:
                self.sent = error
                while self.outbox.get() is not None:  # let the planner go on to find out
                    pass
                return

    def _answer(self) -> Any:
        try:
            what, value = self.pipe.recv()
        except EOFError:
            raise RuntimeError(
                f"the national log's process ended (exit code {self.process.exitcode})"
            ) from None
        if what == "failed":
            raise RuntimeError(f"the national log's process failed:\n{value}")
        return value

    def end(self, now: datetime) -> None:
        """Hand over what is left: the history ends at ``now``."""
        self.add((_END, _iso(now.astimezone(UTC))))
        self._hand_over()
        self.outbox.put(None)
        self.sender.join()

    def wait(self) -> dict[str, int]:
        """Wait for the log, its head and the dashboard to be written (after ``end``); how
        many rows it wrote, by table."""
        counts: dict[str, int] = self._answer()
        self.process.join()
        return counts

    def close(self) -> None:
        if self.process.is_alive():  # the planner failed: stop the log first, then the sender
            self.process.terminate()
            self.process.join()
        if self.sender.is_alive():
            self.outbox.put(None)
        self.sender.join()
        self.pipe.close()


def _link(
    seq: int,
    at: str,
    actor_id: int | None,
    actor: str,
    kind: str,
    declaration_id: int | None,
    inquiry_id: int | None,
    before: str | None,
    after: str | None,
    data: str,
    prev: str,
) -> str:
    """An event's hash (``at``: its instant in ISO 8601): the bytes
    ``panjereh.audit.chain.digest`` hashes (its canonical JSON array), built as one string
    (``json.dumps`` of the whole list costs more); the national test verifies the chain with
    ``chain.verify``."""
    body = (
        f'[{seq},"{at}",{_NULL if actor_id is None else actor_id},"{actor}","{kind}",'
        f"{_NULL if declaration_id is None else declaration_id},"
        f"{_NULL if inquiry_id is None else inquiry_id},"
        f'{_json_str(before)},{_json_str(after)},{data},"{prev}"]'
    )
    return hashlib.sha256(body.encode()).hexdigest()


@projector.without_cycle_collector()
def _write_log(
    url: str,
    version: int,
    places: list[tuple[str, str]],
    head: tuple[int, str],
    pipe: Connection,
) -> None:
    """The log's process (see ``_Log``): chain and write each event handed over, fold the
    dashboard from it and write its rollup rows as they settle; at the end the chain's head,
    and what is open."""
    engine = make_engine(url)
    sink: _Sink | None = None
    try:
        factory = make_session_factory(engine)
        sink = _Sink(
            engine,
            {
                "events": _columns(Event),
                "dashboard_rollups": projector.ROLLUP_COLUMNS,
                "declaration_items": _columns(DeclarationItem),
            },
        )
        rows = sink
        with factory() as session:
            replay = projector.Replay(
                session,
                insert=lambda settled: rows.add_all(
                    "dashboard_rollups", projector.rollup_rows(settled)
                ),
                merge=_out_of_order,
            )
            for agency, province in places:
                replay.calendars[(agency, province)] = calendar_for(
                    session=session, agency_code=agency, province=province
                )
            replay.rates.of(version)
            session.commit()  # nothing more is read: on SQLite, the write lock is free
            apply, fold = replay.apply, replay.fold
            expect_inquiry, expect_declaration = replay.expect_inquiry, replay.expect_declaration
            add, make = sink.add, _Event._make
            instant = datetime.fromisoformat
            seq, prev = head
            shapes: dict[int, tuple[Any, ...]] = {}
            last_at: datetime | None = None
            end: tuple[Any, ...] | None = None
            while end is None:
                for message in marshal.loads(pipe.recv_bytes()):  # noqa: S302 - our own planner
                    tag = message[0]
                    if tag.__class__ is str:  # an event, numbered here in the order handed over
                        (stamp, _, actor_id, actor, kind, declaration_id, inquiry_id, before,
                         after, text, detail) = message  # fmt: skip
                        seq += 1
                        at = instant(stamp)
                        link = _link(seq, stamp, actor_id, actor, kind, declaration_id,
                                     inquiry_id, before, after, text, prev)  # fmt: skip
                        add("events", (seq, at, actor_id, actor, kind, declaration_id,
                                       inquiry_id, before, after, text, prev, link))  # fmt: skip
                        prev, last_at = link, at
                        apply(make((seq, at, kind, declaration_id, inquiry_id, after, detail)))
                    elif tag == _DECLARATION:
                        _, declaration_id, stamp, first_inquiry, first_item, template = message
                        key, value, per_need, items = shapes[template]
                        expect_declaration(declaration_id, key, value, instant(stamp))
                        for n, (key, value) in enumerate(per_need):
                            expect_inquiry(first_inquiry + n, declaration_id, key, value)
                        for n, item in enumerate(items):
                            add("declaration_items", (first_item + n, declaration_id, n + 1, *item))
                    elif tag == _FOLD:
                        fold(instant(message[1]))
                    elif tag == _SHAPE:  # pickled: marshal has no Decimal
                        shapes[message[1]] = pickle.loads(message[2])  # noqa: S301 - ours
                    else:
                        end = message
                sink.commit()
            replay.finish_rollups()
            sink.commit()
        with transaction(factory) as session:
            chain_head = session.get(ChainHead, 1)
            if chain_head is None:
                session.add(ChainHead(id=1, seq=seq, hash=prev))
            else:
                chain_head.seq, chain_head.hash = seq, prev
            replay.session = session
            replay.finish_state()
            projector.replayed(session, replay, seq, last_at, instant(end[1]))
        pipe.send(("done", dict(sink.counts)))
    except BaseException:
        pipe.send(("failed", traceback.format_exc()))
        raise
    finally:
        if sink is not None:
            sink.close()
        engine.dispose()
        pipe.close()


# -- the history -------------------------------------------------------------------------


_MINUTES = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}" for s in range(60)]
_DATES: dict[int, str] = {}


def _iso(instant: datetime) -> str:
    """``instant.isoformat()``, about three times faster for a UTC instant (the calendar's
    answers, the planner's every instant): the date's text is kept per day, the time's per
    minute of the day and second. ``isoformat`` builds its text through a slow formatting
    path, and the planner makes more than one per event."""
    if instant.tzinfo is not UTC:
        return instant.isoformat()
    day = _DATES.get(ordinal := instant.toordinal())
    if day is None:
        day = _DATES[ordinal] = date.fromordinal(ordinal).isoformat()
    minute, second = _MINUTES[instant.hour * 60 + instant.minute], _SECONDS[instant.second]
    if microsecond := instant.microsecond:
        return f"{day}{minute}{second}.{microsecond:06d}+00:00"
    return f"{day}{minute}{second}+00:00"


def _hour(instant: datetime) -> int:
    """The hour a UTC instant falls in, counted from the first of January of year 1: a fifth
    of what ``timestamp`` costs."""
    return instant.toordinal() * 24 + instant.hour


_NULL = "null"


_NO_DATA = "{}"
_HOLE = "<the changing field>"


def _data(kind: str, data: Mapping[str, Any]) -> tuple[str, Any]:
    """An event's data as the chain stores it (canonical JSON) and the field of it the
    projector reads."""
    if not data:
        return _NO_DATA, None
    return chain.canonical_json(data), projector.detail_of(kind, data)


def _around(data: Mapping[str, Any], name: str) -> tuple[str, str]:
    """The canonical JSON of ``data`` with a text field ``name`` (an ISO instant: nothing in
    it is escaped) as the text before and after that field's value."""
    before, after = chain.canonical_json({**data, name: _HOLE}).split(_HOLE)
    return before, after


def _json_str(value: str | None) -> str:
    # States and kinds are plain ASCII words: quoting them is their JSON.
    return _NULL if value is None else f'"{value}"'


@dataclass(slots=True)
class _Plan:
    """One inquiry's life as planned at filing: its events, and where it stands now."""

    inquiry_id: int
    need: _Need
    calendar: BusinessCalendar
    received: datetime
    due: datetime
    budget: int
    policy_version: int
    events: list[tuple[datetime, str, dict[str, Any], str]] = field(default_factory=list)
    fired: list[tuple[ladder.Rung, datetime]] = field(default_factory=list)
    state: InquiryState = InquiryState.AWAITING_ANSWER
    segments: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    current_due: datetime | None = None
    decided: datetime | None = None
    reason: str | None = None
    info: dict[str, Any] | None = None
    paused_at: datetime | None = None
    remaining: int = 0
    trader_due: datetime | None = None
    next_rung: datetime | None = None
    first_rung: datetime | None = None

    @property
    def due_now(self) -> datetime:
        """The deadline in force (moved by replies)."""
        return self.current_due or self.due

    first_for: tuple[datetime, datetime | None] | None = None


class _History:
    """Plans declarations in filing order and writes rows and events in time order."""

    def __init__(
        self,
        session: Session,
        sink: _Sink,
        *,
        rng: random.Random,
        now: datetime,
        start: datetime,
        places: set[tuple[str, str]],
        log: _Log,
    ) -> None:
        self.session, self.sink, self.rng, self.now, self.start = session, sink, rng, now, start
        self.version, self.document = rules.active(session=session)
        self.types = {t.code: t for t in session.scalars(select(InquiryType))}
        self.policies: dict[str, tuple[int, EscalationPolicy]] = active_policies(
            session=session, inquiry_types=list(self.types)
        )
        # Every calendar is built now: the session is not used once writing starts (on SQLite
        # its transaction would hold the write lock the bulk writer needs).
        self.calendars: dict[tuple[str, str], BusinessCalendar] = {
            (agency, province): calendar_for(session=session, agency_code=agency, province=province)
            for agency, province in sorted(places)
        }
        self.in_order_from = {
            code: ladder.in_order_from(policy) for code, (_, policy) in self.policies.items()
        }
        self.deadlines: dict[tuple[str, int, bool, int], datetime] = {}
        # Pending events: those of the hours up to ``self.hour`` in a heap, later ones in a
        # list per hour (a heap of millions of events a year ahead was a fifth of the work:
        # each push and pop walked it through memory).
        self.heap: list[tuple[Any, ...]] = []
        self.hour = _hour(start) - 1
        self.later: dict[int, list[tuple[Any, ...]]] = {}
        self.order = 0
        self.events = 0
        self.ids = {
            "declarations": self._max(Declaration.id),
            "inquiries": self._max(Inquiry.id),
            "declaration_items": self._max(DeclarationItem.id),
            "escalation_firings": self._max(EscalationFiring.id),
        }
        self.declarations = 0
        self.inquiries = 0
        # The log, and the dashboard folded from it as it is written (no reading it back).
        self.log = log
        self.unfolded_since: str | None = None  # the instant of the first event since a fold
        self.shaped: set[int] = set()  # the templates whose shape the log has
        # The JSON text of an inquiry's creation and of an escalation step around its one
        # changing field, by what makes the rest.
        self.texts: dict[tuple[Any, ...], tuple[str, str]] = {}
        self.statuses: dict[tuple[Any, ...], str] = {}
        self.rates = projector.Rates(session).of(self.version)
        # Who acted on which Tehran day (a user signs in to act): a flag per day and user.
        self.first_day = periods.tehran_day(start)
        self.days = periods.tehran_day(now) + 1 - self.first_day
        self.acted: dict[int, bytearray] = {}

    def _max(self, column: Any) -> int:
        return int(self.session.scalar(select(func.max(column))) or 0)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def calendar(self, agency: str, province: str) -> BusinessCalendar:
        return self.calendars[(agency, province)]

    def deadline(
        self, calendar: BusinessCalendar, agency: str, at: datetime, days: int
    ) -> datetime:
        local = at.astimezone(TEHRAN)
        key = (agency, local.toordinal(), local.hour >= 13, days)
        if local.hour == 13:  # the cut-off hour: not cacheable by the hour alone
            return calendar.deadline(at, days)
        found = self.deadlines.get(key)
        if found is None:
            found = self.deadlines[key] = calendar.deadline(at, days)
        return found

    # -- events --------------------------------------------------------------------------

    def push(
        self,
        at: datetime,
        kind: str,
        actor: tuple[int | None, str],
        *,
        declaration_id: int | None,
        inquiry_id: int | None = None,
        before: str | None = None,
        after: str | None = None,
        text: str = _NO_DATA,
        detail: Any = None,
    ) -> None:
        """Plan an event for its time (``text``: its data as canonical JSON, ``detail``: the
        field of it the projector reads). It is kept as the message the log's process takes,
        a tuple that compares in C: by its instant's ISO 8601 text (UTC: its order is the
        time's; the batches go over as ``marshal``, which has no datetime, and the log's
        process needs the text for the hash), then by the order events were planned (the
        number is unique, so nothing after it is compared)."""
        if at.tzinfo is not UTC:
            at = at.astimezone(UTC)
        if actor[0] is not None and at <= self.now:  # what is after now never happens
            days = self.acted.get(actor[0])
            if days is None:
                days = self.acted[actor[0]] = bytearray(self.days)
            days[periods.tehran_day(at) - self.first_day] = 1
        self.order += 1
        event = (_iso(at), self.order, actor[0], actor[1], kind, declaration_id, inquiry_id,
                 before, after, text, detail)  # fmt: skip
        hour = _hour(at)
        if hour <= self.hour:
            heapq.heappush(self.heap, event)
        elif (later := self.later.get(hour)) is not None:
            later.append(event)
        else:
            self.later[hour] = [event]

    def release(self, until: datetime) -> None:
        """Hand every pending event due by ``until`` (and not after now) over to the log's
        process, which numbers, chains, writes and folds them, in time order."""
        limit_at = min(until, self.now).astimezone(UTC)  # compared as text, as events are
        limit, last = _iso(limit_at), _hour(limit_at)
        heap, pop, due = self.heap, heapq.heappop, []
        while True:
            while heap and heap[0][0] <= limit:
                due.append(pop(heap))
            if heap or self.hour >= last:
                break
            self.hour += 1  # this hour's events are all pending: they become the heap
            heap = self.heap = self.later.pop(self.hour, [])
            heapq.heapify(heap)
        if due:
            self.events += len(due)
            if self.unfolded_since is None:
                self.unfolded_since = due[0][0]
            self.log.add_all(due)

    def fold(self) -> None:
        """Let the dashboard take in what was written since the last fold."""
        if self.unfolded_since is not None:
            self.log.add((_FOLD, self.unfolded_since))
            self.unfolded_since = None

    def _hand_over_declaration(
        self, template: _Template, declaration_id: int, plans: list[_Plan]
    ) -> None:
        """Hand the log's process what it needs of a declaration besides its events: the
        groups and values of the declaration and its inquiries (for the dashboard), and its
        goods lines, which it writes (this process has the larger share of the work). What
        comes from the template goes over once, the first time it is filed (pickling it with
        every declaration cost more than the rest of the message); the declaration's
        inquiries and goods lines are numbered on from the first."""
        template_id = id(template)  # the templates live as long as the run
        if template_id not in self.shaped:
            goods = {n: (item[0], item[5], item[6]) for n, item in enumerate(template.items, 1)}
            where = (template.province, template.office)
            chapter, value = projector.declaration_goods(goods, self.rates)
            per_need = []
            for need in template.needs:
                lines = json.loads(need.item_lines)
                chapter_of_need, value_of_need = projector.inquiry_goods(lines, goods, self.rates)
                key = (need.agency, need.inquiry_type, *where, chapter_of_need)
                per_need.append((key, value_of_need))
            shape = (
                (projector.GOODS, projector.GOODS, *where, chapter),
                value,
                tuple(per_need),
                template.items,
            )
            self.log.add((_SHAPE, template_id, pickle.dumps(shape)))
            self.shaped.add(template_id)
        first_item = self.ids["declaration_items"] + 1
        self.ids["declaration_items"] += len(template.items)
        # The filing instant goes over as text, as the events' do.
        self.log.add(
            (_DECLARATION, declaration_id, _iso(plans[0].received), plans[0].inquiry_id,
             first_item, template_id)
        )  # fmt: skip

    def finish(self, people: Mapping[int, tuple[str, str]]) -> None:
        """Write what is due by now (the events after now never happened), and a sign-in of
        each user (``people``: role and province by id) on each Tehran day they acted."""
        self.release(self.now)
        self.heap.clear()
        self.later.clear()
        for user, days in sorted(self.acted.items()):
            role, province = people[user]
            self.sink.add_all(
                "dashboard_sign_ins",
                ((self.first_day + i, user, role, province, 1) for i, on in enumerate(days) if on),
            )

    # -- one declaration -----------------------------------------------------------------

    def file(
        self,
        template: _Template,
        at: datetime,
        trader: tuple[int, str],
        officers: dict[str, tuple[int, str]],
    ) -> None:
        self.release(at)
        declaration_id = self.next_id("declarations")
        self.declarations += 1
        plans = [self._plan(need, at, template.province) for need in template.needs]
        cancel_at = None
        if self.rng.random() < 0.02:
            cancel_at = _trader_time(self.rng, at + timedelta(days=self.rng.uniform(0.5, 6)))
        status, closed_at = self._fan_in(declaration_id, plans, trader, cancel_at)
        self.sink.add(
            "declarations",
            (declaration_id, trader[0], template.kind, template.office, template.province,
             status, self.version, at, closed_at, 1),
        )  # fmt: skip
        self._hand_over_declaration(template, declaration_id, plans)
        self.push(
            at,
            "declaration.filed",
            trader,
            declaration_id=declaration_id,
            after="under_inquiry",
            # Canonical JSON: keys in order, no spaces (the chain's test would fail otherwise).
            text=f'{{"inquiries":{len(plans)},"items":{len(template.items)},'
            f'"rule_set_version":{self.version}}}',
        )
        for plan in plans:
            need = plan.need
            key = (id(need), plan.calendar.version, plan.policy_version)
            if (around := self.texts.get(key)) is None:
                data = {
                    "agency": need.agency,
                    "inquiry_type": need.inquiry_type,
                    "rules": list(need.rule_list),
                    "calendar_version": plan.calendar.version,
                    "policy_version": plan.policy_version,
                }
                around = self.texts[key] = _around(data, "due_at")
            due = _iso(plan.due)
            self.push(
                at,
                "inquiry.created",
                trader,
                declaration_id=declaration_id,
                inquiry_id=plan.inquiry_id,
                after="awaiting_answer",
                text=f"{around[0]}{due}{around[1]}",
                detail=due,
            )
        # The declaration's own events were planned in time order by _fan_in.
        for kind, ev_at, actor, inquiry_id, before, after, json_text, detail in self._walked:
            self.push(
                ev_at,
                kind,
                self._actor(actor, trader, officers),
                declaration_id=declaration_id,
                inquiry_id=inquiry_id,
                before=before,
                after=after,
                text=json_text,
                detail=detail,
            )
        self._write_inquiries(declaration_id, template, plans, officers)

    @staticmethod
    def _actor(
        who: str, trader: tuple[int, str], officers: dict[str, tuple[int, str]]
    ) -> tuple[int | None, str]:
        if who == "system":
            return None, SYSTEM_NAME
        if who == "trader":
            return trader
        return officers[who.split(":", 1)[1]]

    def _pace(self, need: _Need, at: datetime) -> tuple[AgencyPace, float]:
        pace = PACES.get(need.agency, _DEFAULT_PACE)
        median = _TYPE_MEDIAN_DAYS.get(need.inquiry_type, pace.median_days)
        # Agencies get faster over the years: 1.5× slower at the start, 0.75× at the end.
        progress = (at - self.start) / (self.now - self.start)
        return pace, median * (1.5 - 0.75 * progress)

    def _plan(self, need: _Need, at: datetime, province: str) -> _Plan:
        rng = self.rng
        calendar = self.calendar(need.agency, province)
        due = self.deadline(calendar, need.agency, at, need.sla_days)
        budget = calendar.business_minutes_between(at, due)
        version, _ = self.policies[need.inquiry_type]
        plan = _Plan(self.next_id("inquiries"), need, calendar, at, due, budget, version)
        self.inquiries += 1
        pace, median = self._pace(need, at)
        days = min(pace.max_days, rng.lognormvariate(math.log(median), pace.spread))
        if rng.random() < pace.stuck:
            days *= rng.uniform(2.0, 4.0)
        gamer = need.agency == GAMER
        info_share = 0.45 if gamer else pace.info
        roll = rng.random()
        if roll < pace.reject:
            outcome = "reject"
        elif roll < pace.reject + info_share:
            outcome = "request_info"
        else:
            outcome = "approve"
        if outcome != "request_info":
            decided = calendar.add_business_minutes(at, max(5, round(days * _DAY)))
            reason = rng.choice(pace.reject_reasons) if outcome == "reject" else None
            plan.events.append((decided, outcome, {"reason": reason} if reason else {}, "agency"))
            return plan
        if gamer:
            spent = round(budget * rng.uniform(0.8, 0.97))
        else:
            spent = max(5, round(days * rng.uniform(0.2, 0.6) * _DAY))
        asked = calendar.add_business_minutes(at, spent)
        plan.events.append(
            (asked, "request_info", {"reason": rng.choice(pace.info_reasons)}, "agency")
        )
        kind = self.types[need.inquiry_type]
        trader_due = self.deadline(calendar, need.agency, asked, kind.trader_reply_business_days)
        if rng.random() < 0.04:
            plan.events.append((trader_due, "lapse", {}, "system"))
            return plan
        wait = rng.uniform(3, 12) if gamer else rng.uniform(0.5, 4)
        replied = _trader_time(rng, asked + timedelta(days=wait))
        if replied >= trader_due:
            plan.events.append((trader_due, "lapse", {}, "system"))
            return plan
        plan.events.append((replied, "reply", {"message": rng.choice(_TRADER_REPLIES)}, "trader"))
        minutes = (
            round(rng.uniform(30, 120))
            if gamer
            else max(5, round(days * rng.uniform(0.25, 0.6) * _DAY))
        )
        decided = calendar.add_business_minutes(replied, minutes)
        outcome = "reject" if rng.random() < 0.12 else "approve"
        reason = rng.choice(pace.reject_reasons) if outcome == "reject" else None
        plan.events.append((decided, outcome, {"reason": reason} if reason else {}, "agency"))
        return plan

    def _fan_in(
        self,
        declaration_id: int,
        plans: list[_Plan],
        trader: tuple[int, str],
        cancel_at: datetime | None,
    ) -> tuple[str, datetime | None]:
        """Walk the declaration's inquiries' events in time order as the flows would apply
        them (fan-in, withdrawals, escalations), up to now; keep the events in
        ``self._walked`` and each inquiry's state at now on its plan."""
        steps: list[tuple[datetime, int, int, str, dict[str, Any], str]] = []
        for n, plan in enumerate(plans):
            for k, (at, what, data, who) in enumerate(plan.events):
                steps.append((at, n, k, what, data, who))
        if cancel_at is not None:
            steps.append((cancel_at, -1, 0, "cancel", {}, "trader"))
        steps.sort()  # by time, inquiry and step: no two steps share both numbers
        states = [InquiryState.AWAITING_ANSWER] * len(plans)
        for plan in plans:
            plan.segments = [(plan.received, None)]
            plan.current_due = plan.due
        walked: list[tuple[str, datetime, Any, int | None, str | None, str | None, str, Any]] = []
        status = "under_inquiry"
        closed_at: datetime | None = None
        cancelled = False
        for at, n, _, what, data, who in steps:
            if who == "agency":
                who = f"agency:{plans[n].need.agency}"
            if closed_at is not None or at > self.now:
                break
            if what == "cancel":
                cancelled = True
                self._withdraw(
                    plans, states, at, walked, "declaration cancelled by the trader", "trader"
                )
            else:
                plan = plans[n]
                self._escalate_until(plan, at, walked)
                before = states[n]
                if what == "request_info":
                    after = InquiryState.INFO_REQUESTED
                    self._close_segment(plan, at)
                    kind = self.types[plan.need.inquiry_type]
                    trader_due = self.deadline(
                        plan.calendar, plan.need.agency, at, kind.trader_reply_business_days
                    )
                    remaining = (
                        plan.calendar.business_minutes_between(at, plan.due_now)
                        if at < plan.due_now
                        else 0
                    )
                    plan.info = {
                        "reason": data["reason"],
                        "requested_at": _iso(at),
                        "requested_by": "officer",
                        "trader_due_at": _iso(trader_due),
                        "remaining_business_minutes": remaining,
                    }
                    plan.paused_at, plan.remaining, plan.trader_due = at, remaining, trader_due
                    kind_name = "inquiry.info_requested"
                elif what == "reply":
                    after = InquiryState.AWAITING_ANSWER
                    old = plan.due_now
                    remaining = plan.remaining
                    new = (
                        plan.calendar.add_business_minutes(at, remaining) if remaining > 0 else old
                    )
                    plan.current_due = new
                    plan.segments.append((at, None))
                    data = {**data, "due_before": _iso(old), "due_after": _iso(new)}
                    plan.info = {
                        **(plan.info or {}),
                        "reply": data["message"],
                        "replied_at": _iso(at),
                    }
                    kind_name = "inquiry.replied"
                elif what == "lapse":
                    after = InquiryState.LAPSED
                    plan.decided = at
                    data = {
                        "reason": "the trader did not answer the request for information by "
                        f"{_iso(plan.trader_due or at)}"
                    }
                    kind_name = "inquiry.lapsed"
                else:
                    after = InquiryState.APPROVED if what == "approve" else InquiryState.REJECTED
                    self._close_segment(plan, at)
                    plan.decided, plan.reason = at, data.get("reason")
                    kind_name = f"inquiry.{after.value}"
                states[n] = after
                plan.state = after
                walked.append(
                    (kind_name, at, who, plan.inquiry_id, before.value, after.value,
                     *_data(kind_name, data))
                )  # fmt: skip
                new_status = self._status(states, cancelled=False)
                if new_status == "refused":
                    self._withdraw(
                        plans,
                        states,
                        at,
                        walked,
                        "declaration refused: no other answer can clear the goods",
                        who,
                    )
            new_status = self._status(states, cancelled=cancelled)
            if new_status != status:
                actor = "trader" if what in ("reply", "cancel") else who
                walked.append((f"declaration.{new_status}", at, actor,
                               None, status, new_status, _NO_DATA, None))  # fmt: skip
                status = new_status
                if status in ("cleared", "refused", "cancelled"):
                    closed_at = at
        for plan in plans:
            self._escalate_until(plan, min(closed_at or self.now, self.now), walked, final=True)
        walked.sort(key=_SECOND)  # stable: events at one instant stay in the order walked
        self._walked = walked
        return status, closed_at

    def _status(self, states: list[InquiryState], *, cancelled: bool) -> str:
        """``declaration_status`` (the fan-in rule), kept per combination of states: the walk
        asks twice a step, and the rule with its enums costs 2 µs a call."""
        key = (*states, cancelled)
        found = self.statuses.get(key)
        if found is None:
            found = self.statuses[key] = declaration_status(states, cancelled=cancelled).value
        return found

    def _close_segment(self, plan: _Plan, at: datetime) -> None:
        start, _ = plan.segments[-1]
        plan.segments[-1] = (start, at)

    def _withdraw(
        self,
        plans: list[_Plan],
        states: list[InquiryState],
        at: datetime,
        walked: list[Any],
        reason: str,
        who: str,
    ) -> None:
        for n, state in enumerate(states):
            if state in (InquiryState.AWAITING_ANSWER, InquiryState.INFO_REQUESTED):
                plan = plans[n]
                self._escalate_until(plan, at, walked)
                if state == InquiryState.AWAITING_ANSWER:
                    self._close_segment(plan, at)
                states[n] = InquiryState.WITHDRAWN
                plan.state = InquiryState.WITHDRAWN
                plan.decided = at
                walked.append(
                    ("inquiry.withdrawn", at, who, plan.inquiry_id, state.value, "withdrawn",
                     *_data("inquiry.withdrawn", {"reason": reason}))
                )  # fmt: skip

    def _escalate_until(
        self, plan: _Plan, until: datetime, walked: list[Any], *, final: bool = False
    ) -> None:
        """Fire the ladder's rungs due before ``until`` on the running stretch now open."""
        if plan.state != InquiryState.AWAITING_ANSWER:
            return
        start, end = plan.segments[-1]
        if end is not None:
            return
        _, policy = self.policies[plan.need.inquiry_type]
        due = plan.due_now
        calendar = plan.calendar
        if plan.first_for != (start, due):
            # The earliest rung (at risk) of this stretch, computed once per stretch.
            left = calendar.business_minutes_between(start, due)
            spent = max(0, plan.budget - left)
            plan.first_rung = calendar.add_business_minutes(
                start, max(0, min(left - _DAY, int(0.75 * plan.budget) - spent))
            )
            plan.first_for = (start, due)
        first = plan.first_rung
        assert first is not None
        if first >= until and not final:
            return
        if first >= until and (until < self.now or plan.state != InquiryState.AWAITING_ANSWER):
            return
        done = {(r.cycle, r.step) for r, _ in plan.fired}
        in_order_from = self.in_order_from[plan.need.inquiry_type]
        later: list[datetime] = []  # the pending rungs' times
        rungs = ladder.rungs(
            policy, calendar, due_at=due, running_since=start, budget_minutes=plan.budget
        )
        for n, rung in enumerate(rungs):
            if (rung.cycle, rung.step) in done:
                continue
            if rung.at >= until:
                later.append(rung.at)
                if n >= in_order_from:  # every rung after this one comes later still
                    break
                continue
            plan.fired.append((rung, rung.at))
            key = (rung.cycle, rung.step, rung.notify, rung.level, rung.immediate_report)
            if (around := self.texts.get(key)) is None:
                data = {
                    "cycle": rung.cycle,
                    "step": rung.step,
                    "notify": list(rung.notify),
                    "level": rung.level,
                    "immediate_report": rung.immediate_report,
                }
                around = self.texts[key] = _around(data, "due_at")
            walked.append((f"escalation.{rung.step}", rung.at, "system", plan.inquiry_id, None,
                           None, f"{around[0]}{_iso(rung.at)}{around[1]}", rung.level))  # fmt: skip
        if final:
            plan.next_rung = min(later, default=None)

    def _write_inquiries(
        self,
        declaration_id: int,
        template: _Template,
        plans: list[_Plan],
        officers: dict[str, tuple[int, str]],
    ) -> None:
        for plan in plans:
            need = plan.need
            state: InquiryState = plan.state
            decided: datetime | None = plan.decided
            open_ = state in (InquiryState.AWAITING_ANSWER, InquiryState.INFO_REQUESTED)
            level = max((r.level for r, _ in plan.fired), default=0)
            officer = officers[need.agency]
            segments = plan.segments
            running_since = segments[-1][0] if state == InquiryState.AWAITING_ANSWER else None
            paused_at = plan.paused_at if state == InquiryState.INFO_REQUESTED else None
            next_action = None
            if state == InquiryState.AWAITING_ANSWER:
                next_action = plan.next_rung
            elif state == InquiryState.INFO_REQUESTED:
                next_action = plan.trader_due
            info = plan.info
            decided_at = decided if state in _DECIDED else None
            decided_by = officer[0] if state in _ANSWERED else None
            paused = state == InquiryState.INFO_REQUESTED
            # In the order of _EXPECTED["inquiries"] (the table's columns).
            self.sink.add(
                "inquiries",
                (plan.inquiry_id, declaration_id, need.inquiry_type, need.agency,
                 template.province, state.value, self.version, need.rule_codes, need.reason_en,
                 need.reason_fa, need.item_lines, need.sla_days, plan.received, plan.due_now,
                 plan.calendar.version, decided_at, decided_by, plan.reason,
                 json.dumps(info, ensure_ascii=False) if info else None, plan.budget,
                 running_since, paused_at, plan.remaining if paused else plan.budget,
                 plan.trader_due if paused else None, plan.policy_version, level,
                 next_action if open_ else None, None, None, 1),
            )  # fmt: skip
            for rung, at in plan.fired:
                if at <= self.now:
                    self.sink.add(
                        "escalation_firings",
                        (self.next_id("escalation_firings"), plan.inquiry_id, rung.cycle,
                         rung.step, rung.at, at, SYSTEM_NAME),
                    )  # fmt: skip


_SECOND = operator.itemgetter(1)


def _trader_time(rng: random.Random, at: datetime) -> datetime:
    """A trader's action in trader hours (08:00-22:00 Tehran), to the second."""
    return trader_hours(rng, at).replace(microsecond=0)


def _filing_days(first: date, last: date, holidays: Any) -> list[tuple[date, float]]:
    """Each day's share of filings: working days full, Thursdays light, Fridays and holidays
    nearly empty, and 30% more trade a year."""
    out = []
    for o in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(o)
        weight = 0.08 if day in holidays else _WEEKDAY[day.weekday()]
        growth = 1.3 ** ((o - first.toordinal()) / 365)
        out.append((day, weight * growth))
    return out


def _times(rng: random.Random, day: date, count: int) -> list[datetime]:
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.82:
            hours = rng.triangular(7.5, 15.5, 10.0)
        elif roll < 0.96:
            hours = rng.uniform(15.5, 19.0)
        else:
            hours = rng.uniform(19.0, 23.5)
        seconds = int(hours * 3600)
        local = datetime.combine(
            day, clock_time(seconds // 3600, seconds // 60 % 60, seconds % 60), TEHRAN
        )
        out.append(local.astimezone(UTC))
    out.sort()
    return out


def _users(
    session: Session, rng: random.Random, start: datetime, now: datetime, agencies: Sequence[str]
) -> tuple[
    dict[str, list[tuple[int, str]]], dict[str, tuple[int, str]], dict[int, tuple[str, str]]
]:
    """Traders at every office (opened over the years, more each year), one officer and one
    head per agency (heads act in no event here). Returns traders by office, officers by
    agency, and the role and province (none: "") of each of them by id."""
    shared = hash_password(PASSWORD)
    offices = customs_offices()
    traders: dict[str, list[User]] = {}
    span = (now - start).total_seconds()
    for code in OFFICES:
        province = offices[code].province
        for n in range(TRADERS_PER_OFFICE):
            # More accounts open later: the square root spreads them toward the present.
            opened = (
                start
                - timedelta(days=365)
                + timedelta(seconds=(span + 365 * 86400) * math.sqrt(rng.random()))
            )
            user = User(
                username=f"national-{code.lower()}-{n:03d}",
                password_hash=shared,
                role=Role.TRADER.value,
                full_name=f"Trader {n} at {code}",
                province=province,
                is_active=rng.random() > 0.03,
                created_at=min(opened, now),
            )
            session.add(user)
            traders.setdefault(code, []).append(user)
    officers: dict[str, User] = {}
    heads: dict[str, User] = {}
    for code in agencies:
        for role, table in ((Role.OFFICER, officers), (Role.AGENCY_HEAD, heads)):
            user = User(
                username=f"national-{role.value}-{code.lower()}",
                password_hash=shared,
                role=role.value,
                agency_code=code,
                full_name=f"{role.value} of {code}",
                created_at=start - timedelta(days=30),
            )
            session.add(user)
            table[code] = user
    session.flush()
    acting = [u for us in traders.values() for u in us] + list(officers.values())
    return (
        {c: [(u.id, u.username) for u in us] for c, us in traders.items()},
        {c: (u.id, u.username) for c, u in officers.items()},
        {u.id: (u.role, u.province or "") for u in acting},
    )


_SECONDARY_INDEXES = {
    "events": ("ix_events_declaration_id", "ix_events_inquiry_id"),
    "inquiries": ("ix_inquiries_agency_state_due", "ix_inquiries_agency_due",
                  "ix_inquiries_declaration_id", "ix_inquiries_next_action_at"),
    "declaration_items": ("ix_declaration_items_declaration_id",),
    "declarations": ("ix_declarations_trader_status",),
    "escalation_firings": ("ix_escalation_firings_inquiry_id",),
}  # fmt: skip


_LOGS = ("events", "declaration_items")
"""The tables the log's process writes."""


def _drop_indexes(engine: Engine) -> dict[str, list[str]]:
    """Drop the secondary indexes of the bulk tables (rebuilt once after the load); returns
    their definitions by table."""
    kept: dict[str, list[str]] = {}
    with engine.begin() as connection:
        for table, names in _SECONDARY_INDEXES.items():
            for name in names:
                if engine.dialect.name == "postgresql":
                    found = connection.execute(
                        text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}
                    ).scalar()
                else:
                    found = connection.execute(
                        text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"),
                        {"n": name},
                    ).scalar()
                if found:
                    kept.setdefault(table, []).append(str(found))
                    connection.execute(text(f'DROP INDEX "{name}"'))
    return kept


def _create_indexes(engine: Engine, dropped: dict[str, list[str]], tables: Iterable[str]) -> None:
    """Create again the dropped indexes of ``tables``, each forgotten once it exists."""
    for table in tables:
        definitions = dropped.get(table, [])
        while definitions:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
                connection.execute(text(definitions[0]))
            definitions.pop(0)


def _settle_tables(engine: Engine) -> None:
    """After the load: the tables' id sequences past the ids written, and fresh statistics."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in _SECONDARY_INDEXES:
                if table == "events":
                    continue  # keyed by seq, which the chain gives
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _columns(model: Any) -> tuple[str, ...]:
    return tuple(c.name for c in model.__table__.columns)


@projector.without_cycle_collector()
def generate(
    engine: Engine,
    *,
    inquiries: int = 10_000_000,
    years: float = 2,
    seed: int = 1405,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> NationalSummary:
    """Write a national history of about ``inquiries`` inquiries over ``years`` years up to
    ``now``, with its dashboard."""
    if get_settings().env == "production":
        raise DemoRefused("national demo data is refused when PANJEREH_ENV=production")
    say = progress or (lambda _: None)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    start = now - timedelta(days=round(365 * years))
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with transaction(factory) as session:
        version, document = rules.active(session=session)
        agencies = sorted({t.agency for t in document.inquiry_types})
        traders, officers, people = _users(session, rng, start, now, agencies)
        projector.reset(session)
        found = session.get(ChainHead, 1)
        head = (found.seq, found.hash) if found is not None else (0, GENESIS_HASH)
    templates = _templates(rng, document, version, TEMPLATES)
    per_declaration = sum(len(t.needs) for t in templates) / len(templates)
    declarations = max(1, round(inquiries / per_declaration))
    dropped = _drop_indexes(engine)
    tables = {
        "declarations": _columns(Declaration),
        "inquiries": _columns(Inquiry),
        "escalation_firings": _columns(EscalationFiring),
        "dashboard_sign_ins": _columns(DashboardSignIn),
    }
    _check_columns()
    sink = _Sink(engine, tables)
    log: _Log | None = None
    written = False
    try:
        places = {(n.agency, t.province) for t in templates for n in t.needs}
        log = _Log(engine, version, places, head)
        with factory() as session:
            history = _History(
                session,
                sink,
                rng=rng,
                now=now,
                start=start,
                places=places,
                log=log,
            )
            session.commit()
            holidays = next(iter(history.calendars.values())).holidays
            first, last = start.astimezone(TEHRAN).date(), now.astimezone(TEHRAN).date()
            days = _filing_days(first, last, holidays)
            total = sum(w for _, w in days)
            carry = 0.0
            # Cumulative once: ``choices`` would add up 4,000 weights at every call.
            popular = list(itertools.accumulate(1.0 / (1 + i) for i in range(len(templates))))
            for day, weight in days:
                carry += declarations * weight / total
                count = int(carry)
                carry -= count
                for at in _times(rng, day, count):
                    if at >= now:
                        continue
                    template = (
                        rng.choices(templates, cum_weights=popular)[0]
                        if rng.random() < 0.3
                        else rng.choice(templates)
                    )
                    trader = rng.choice(traders[template.office])
                    history.file(template, at, trader, officers)
                if day.day == 1:
                    history.fold()
                    sink.commit()
                    say(
                        f"  {day}: {history.declarations:,} declarations, "
                        f"{history.inquiries:,} inquiries, {history.events:,} events"
                    )
            history.finish(people)
            history.fold()
            sink.commit()
        counts = dict(sink.counts)
        log.end(now)
        # While the log's process writes the last of its rows and the dashboard, the tables
        # this process wrote (all written now) get their indexes back.
        _create_indexes(engine, dropped, [t for t in _SECONDARY_INDEXES if t not in _LOGS])
        counts.update(log.wait())
        written = True
    finally:
        sink.close()
        if log is not None:
            log.close()
        if not written:  # what was written stays; the store keeps its indexes all the same
            _create_indexes(engine, dropped, _SECONDARY_INDEXES)
            _settle_tables(engine)
    generated = time.perf_counter() - started
    say(f"  written in {generated:.0f} s; indexing the events and goods lines")
    t0 = time.perf_counter()
    _create_indexes(engine, dropped, _LOGS)
    _settle_tables(engine)
    indexed = time.perf_counter() - t0
    t0 = time.perf_counter()
    projector.tidy(engine)
    projected = time.perf_counter() - t0
    return NationalSummary(
        declarations=counts["declarations"],
        inquiries=counts["inquiries"],
        events=counts["events"],
        items=counts["declaration_items"],
        escalations=counts["escalation_firings"],
        first_day=first,
        last_day=last,
        seconds_generate=generated,
        seconds_index=indexed,
        seconds_project=projected,
    )


_EXPECTED = {
    "events": ("seq", "at", "actor_id", "actor", "kind", "declaration_id", "inquiry_id",
               "before", "after", "data", "prev_hash", "hash"),
    "declarations": ("id", "trader_id", "kind", "customs_office", "province", "status",
                     "rule_set_version", "filed_at", "closed_at", "version"),
    "declaration_items": ("id", "declaration_id", "line_no", "hs_code", "description",
                          "origin_country", "quantity", "unit", "value", "currency"),
    "escalation_firings": ("id", "inquiry_id", "cycle", "step", "due_at", "fired_at",
                           "fired_by"),
    "inquiries": ("id", "declaration_id", "inquiry_type", "agency_code", "province", "state",
                  "rule_set_version", "rule_codes", "reason_en", "reason_fa", "item_lines",
                  "sla_business_days", "received_at", "due_at", "calendar_version",
                  "decided_at", "decided_by", "decision_reason", "info_request",
                  "budget_minutes", "running_since", "paused_at", "remaining_minutes",
                  "trader_due_at", "policy_version", "escalation_level", "next_action_at",
                  "assigned_to", "acknowledged_at", "version"),
    "dashboard_sign_ins": ("day", "user_id", "role", "province", "count"),
}  # fmt: skip
_DECIDED = frozenset(
    {InquiryState.APPROVED, InquiryState.REJECTED, InquiryState.LAPSED, InquiryState.WITHDRAWN}
)
_ANSWERED = frozenset({InquiryState.APPROVED, InquiryState.REJECTED})


FACT_COLUMNS = (
    "agency",
    "inquiry_type",
    "province",
    "customs_office",
    "received_at",
    "state",
    "answered",
    "on_time",
    "agency_minutes",
    "elapsed_minutes",
    "paused_minutes",
    "info_requests",
)
"""One row per inquiry as of now: raw rows to check the dashboard against (the benchmark gives
them to DuckDB)."""


def write_facts(engine: Engine, facts: Path) -> int:
    """Write ``FACT_COLUMNS`` for every inquiry of the store, from its ``inquiries`` rows (not
    from the dashboard's tables): an answered inquiry's agency minutes are the business
    minutes its agency's calendar counts while the clock ran (from receipt to the request for
    information, if any, and from the reply to the answer; the national history asks for
    information at most once), its paused minutes those from the request to the reply.
    Written apart from ``generate``, after it ran (by the benchmark and the tests):
    ``panjereh demo-data --scale national`` needs no such rows, so the generator is timed as
    it runs there. How many rows were written."""
    i = Inquiry
    query = (
        select(i.agency_code, i.inquiry_type, i.province, Declaration.customs_office,
               i.received_at, i.state, i.due_at, i.decided_at, i.info_request)
        .join(Declaration, Declaration.id == i.declaration_id)
        .order_by(i.id)
        .execution_options(yield_per=50_000)
    )  # fmt: skip
    written = 0
    with make_session_factory(engine)() as session, facts.open("w", newline="") as out:
        calendars: dict[tuple[str, str], BusinessCalendar] = {}
        rows = csv.writer(out)
        rows.writerow(FACT_COLUMNS)
        for row in session.connection().execute(query):
            agency, kind, province, office, received, state, due, decided, info = row
            answered = on_time = 0
            agency_minutes: int | str = ""
            elapsed: int | str = ""
            paused: int | str = ""
            if state in _ANSWERED and decided is not None:  # a state's text is its member
                calendar = calendars.get((agency, province))
                if calendar is None:
                    calendar = calendars[(agency, province)] = calendar_for(
                        session=session, agency_code=agency, province=province
                    )
                between = calendar.business_minutes_between
                answered, on_time = 1, int(decided <= due)
                elapsed = int((decided - received).total_seconds()) // 60
                if info and "replied_at" in info:
                    asked = datetime.fromisoformat(info["requested_at"])
                    replied = datetime.fromisoformat(info["replied_at"])
                    agency_minutes = between(received, asked) + between(replied, decided)
                    paused = int((replied - asked).total_seconds()) // 60
                else:
                    agency_minutes, paused = between(received, decided), 0
            rows.writerow(
                (agency, kind, province, office, received.isoformat(), state, answered,
                 on_time, agency_minutes, elapsed, paused, 1 if info else 0)
            )  # fmt: skip
            written += 1
    return written


def _out_of_order(rows: Mapping[Any, Any]) -> None:
    raise RuntimeError(
        f"the national history went back in time: {len(rows)} dashboard rows already written "
        "were added to"
    )


def _check_columns() -> None:
    """The generator writes rows positionally: refuse a schema it was not written for."""
    for table, expected in _EXPECTED.items():
        if (found := _columns(_MODELS[table])) != expected:
            raise RuntimeError(
                f"the national generator does not know the columns of {table} {found}; "
                "update panjereh.dashboard.national"
            )


def day_span(now: datetime, years: float) -> Iterator[int]:
    """The Tehran days a history of ``years`` up to ``now`` covers (for the benchmark)."""
    last = periods.tehran_day(now)
    yield from range(last - round(365 * years), last + 1)
