"""The projector: reads the event log in ``seq`` order and keeps the dashboard's aggregates.

``project_once`` takes the next events after the stored position (``dashboard_position``),
folds them into the aggregates and moves the position, all in the caller's transaction:
either the aggregates and the position move together or neither does, so a crash, a retry or
a second worker never counts an event twice or skips one (exactly once in effect). The
request path writes nothing for the dashboard; the worker calls ``project_once`` in its loop.

What each event adds (the day is the event's Tehran day):

- ``inquiry.created``: one received, its goods' value; the inquiry is open from now on.
- ``inquiry.info_requested`` / ``inquiry.replied``: an information request; the agency's
  clock stops, then runs again (the paused stretch is wall time the trader had the file).
- ``inquiry.approved`` / ``inquiry.rejected``: one answer, on time if at or before the
  deadline then in force; agency business minutes (running stretches only, in the agency's
  calendar for the province), elapsed minutes (filing to answer) and paused minutes, each
  into a sum and a histogram; a rejection's reason, normalised, into the reasons table.
- ``inquiry.withdrawn`` / ``inquiry.lapsed``: closed without an answer.
- ``inquiry.deadline_moved``: the deadline in force changes.
- ``escalation.<step>`` (every step but ``acknowledged``): one escalation at ``data.level``.
- ``declaration.filed`` (with inquiries): goods waiting, counted once per declaration.
- ``declaration.cleared``: minutes from filing to clearance, attributed to the inquiry whose
  approval cleared it (the critical path); ``refused``, ``cancelled``: counted.

Capital-days: every finest group keeps the value of what is open in it and the instant up to
which value × time is already counted; each event that changes the value first adds the
stretch since then (split at Tehran midnights) to the days it covers. The figure depends only
on the events, never on how they were batched, so a rebuild gives the same numbers; the
stretch from the last event to now is added when read.
"""

from __future__ import annotations

import gc
import logging
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    Engine,
    Row,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    null,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.models import Event
from panjereh.calendars.service import calendar_for
from panjereh.dashboard import histogram, periods
from panjereh.dashboard.models import (
    HISTOGRAMS,
    MEASURES,
    DashboardOpenCell,
    DashboardOpenDeclaration,
    DashboardOpenInquiry,
    DashboardPosition,
    DashboardReason,
    DashboardRollup,
)
from panjereh.dashboard.settings import get_dashboard_settings
from panjereh.db import is_postgres, transaction
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.inquiries.models import Inquiry
from panjereh.rules.models import RuleSetRecord
from panjereh.sla.calendar import BusinessCalendar

log = logging.getLogger("panjereh.dashboard")

M: dict[str, int] = {name: i for i, name in enumerate(MEASURES)}
RECEIVED, ANSWERED, APPROVED, REJECTED, ON_TIME = (M[n] for n in MEASURES[:5])
INFO, REPLIES, LAPSED, WITHDRAWN = (M[n] for n in MEASURES[5:9])
AGENCY_MIN, ELAPSED_MIN, PAUSED_MIN = M["agency_minutes"], M["elapsed_minutes"], M["paused_minutes"]
ESCALATIONS = (M["escalations_1"], M["escalations_2"], M["escalations_3"], M["escalations_4"])
CLEARED, CLEARANCE_MIN = M["cleared"], M["clearance_minutes"]
CAPITAL, VALUE_RECEIVED = M["capital_usd_minutes"], M["value_received_usd"]
FILED, REFUSED, CANCELLED = (
    M["declarations_filed"],
    M["declarations_refused"],
    M["declarations_cancelled"],
)
GOODS_CAPITAL, GOODS_VALUE = M["goods_capital_usd_minutes"], M["goods_value_filed_usd"]
H_AGENCY, H_ELAPSED, H_CLEARANCE = 0, 1, 2

GOODS = "-"
"""The agency (and inquiry type) of a group that holds declarations, not inquiries."""
ALL = "*"
"""The agency (or key) of a national group."""
DEFAULT_LIMIT = 5000
_CHUNK = 900
_DETAIL = {
    "inquiry.created": "due_at",
    "inquiry.replied": "due_after",
    "inquiry.deadline_moved": "new_due_at",
    "inquiry.rejected": "reason",
}
"""The field of an event's data the projector reads (``level`` for escalations)."""


def detail_of(kind: str, data: Mapping[str, Any]) -> Any:
    """The field of ``data`` the projector reads for an event of ``kind`` (what ``_events``
    has the database read), for events handed over in memory."""
    name = _DETAIL.get(kind) or ("level" if kind.startswith("escalation.") else None)
    return None if name is None else data.get(name)


_NOT_ESCALATIONS = frozenset({"escalation.acknowledged"})

FineKey = tuple[str, str, str, str, str]
"""The finest group: agency, inquiry type, province, customs office, HS chapter."""
Target = tuple[str, str, str, int, str]
"""A rollup row's key: grain, dimension, agency, period, key."""


class Projected(Protocol):
    """What the projector reads of an event: a row of ``_events``, or an event handed over in
    memory by whoever is writing the log (the national generator)."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def declaration_id(self) -> Any: ...  # an int for every kind that is handled
    @property
    def inquiry_id(self) -> Any: ...
    @property
    def after(self) -> str | None: ...
    @property
    def detail(self) -> Any: ...


DayGroup = tuple[str, str, str, int]
"""A group's day: dimension, agency, key, day."""
_T = TypeVar("_T")


def chunks(values: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    """``values`` in slices of at most ``size`` (IN lists stay under every driver's limit)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
_NON_WORD = re.compile(r"[^\w#]+")
_NUMBER = re.compile(r"\d+")


def normalise_reason(text: str) -> str:
    """A reason as it is counted: case and width folded, numbers as ``#``, punctuation and
    runs of spaces as one space, at most 200 characters (so "Lab test failed: batch 12."
    and "lab test failed - batch 7" count as one reason)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_DIGITS)
    folded = _NUMBER.sub("#", folded)
    return _NON_WORD.sub(" ", folded).strip()[:200]


def _minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()) // 60)


@dataclass(slots=True)
class _Inquiry:
    inquiry_id: int
    declaration_id: int
    key: FineKey
    value_usd: int
    created_at: datetime
    due_at: datetime
    paused: bool = False
    segment_start: datetime | None = None
    agency_minutes: int = 0
    paused_minutes: int = 0
    level: int = 0
    stored: bool = False
    closed: bool = False
    changed: bool = False


@dataclass(slots=True)
class _Declaration:
    declaration_id: int
    key: FineKey
    value_usd: int
    filed_at: datetime
    stored: bool = False
    closed: bool = False


@dataclass(slots=True)
class _OpenCell:
    open: int = 0
    paused: int = 0
    value_usd: int = 0
    integrated_to: int = 0
    stored: bool = False


class _Acc:
    """Counters and histograms being added up for one cell or rollup row."""

    __slots__ = ("hists", "measures")

    def __init__(self) -> None:
        self.measures = [0] * len(MEASURES)
        self.hists: list[dict[int, int]] = [{}, {}, {}]

    def copy(self) -> _Acc:
        out = _Acc.__new__(_Acc)
        out.measures = list(self.measures)
        out.hists = [dict(h) for h in self.hists]
        return out

    def add_all(self, parts: Sequence[_Acc]) -> None:
        """Add ``parts`` into this one (more than one: column by column, ``sum`` over ``zip``
        runs in C)."""
        if len(parts) == 1:
            self.measures = list(map(operator.add, self.measures, parts[0].measures))
        else:
            self.measures = [
                sum(column)
                for column in zip(self.measures, *(p.measures for p in parts), strict=True)
            ]
        hists = self.hists
        for part in parts:
            for n, hist in enumerate(part.hists):
                if hist:  # most cells answered nothing: their histograms are empty
                    target = hists[n]
                    for index, count in hist.items():
                        target[index] = target.get(index, 0) + count

    @staticmethod
    def total(parts: list[_Acc]) -> _Acc:
        """The sum of ``parts`` (the part itself when there is one)."""
        if len(parts) == 1:
            return parts[0]
        out = _Acc()
        out.add_all(parts)
        return out


@dataclass(frozen=True, slots=True)
class _Static:
    """What never changes about an inquiry: its group and the value of its goods."""

    inquiry_id: int
    declaration_id: int
    key: FineKey
    value_usd: int


class Rates:
    """Reference rates (USD per unit) of each rule-set version, read once per version."""

    _cache: dict[tuple[int, str], dict[str, Decimal]] = {}  # noqa: RUF012 - a process cache

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_version: dict[int, dict[str, Decimal]] = {}

    def of(self, version: int) -> dict[str, Decimal]:
        found = self.by_version.get(version)
        if found is not None:
            return found
        row = self.session.execute(
            select(RuleSetRecord.checksum, RuleSetRecord.document).where(
                RuleSetRecord.version == version
            )
        ).first()
        if row is None:
            rates: dict[str, Decimal] = {}
        else:
            key = (version, row[0])
            cached = self._cache.get(key)
            if cached is None:
                raw = row[1].get("reference_rates_usd", {})
                cached = self._cache[key] = {c: Decimal(str(v)) for c, v in raw.items()}
            rates = cached
        self.by_version[version] = rates
        return rates


Goods = Mapping[int, tuple[str, Decimal, str]]
"""A declaration's goods lines: HS code, value and currency by line number."""


def inquiry_goods(
    lines: Iterable[int], goods: Goods, rates: Mapping[str, Decimal]
) -> tuple[str, int]:
    """The HS chapter (of its first line) and the US-dollar value of an inquiry's goods."""
    mine = [goods[n] for n in sorted(lines) if n in goods]
    chapter = mine[0][0][:2] if mine else ""
    return chapter, _usd(((v, c) for _, v, c in mine), rates)


def declaration_goods(goods: Goods, rates: Mapping[str, Decimal]) -> tuple[str, int]:
    """The HS chapter (of its first line) and the US-dollar value of a declaration's goods."""
    chapter = goods[min(goods)][0][:2] if goods else ""
    return chapter, _usd(((v, c) for _, v, c in goods.values()), rates)


def _usd(lines: Iterable[tuple[Decimal, str]], rates: Mapping[str, Decimal]) -> int:
    """Whole US dollars of goods lines; a currency without a reference rate adds nothing."""
    total = Decimal(0)
    for value, currency in lines:
        rate = rates.get(currency)
        if rate is not None:
            total += value * rate
    return int(total.to_integral_value())


class _Batch:
    """One run of the projector over a slice of the log, inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cells: dict[tuple[FineKey, int], _Acc] = {}
        self.inquiries: dict[int, _Inquiry] = {}
        self.declarations: dict[int, _Declaration] = {}
        self.open_cells: dict[FineKey, _OpenCell] = {}
        self.reasons: dict[tuple[str, int, str], int] = {}
        self.calendars: dict[tuple[str, str], BusinessCalendar] = {}
        self.rates = Rates(session)
        self.statics: dict[int, _Static] = {}
        self.filed: dict[int, _Declaration] = {}
        self.last_approved: _Inquiry | None = None
        self.skipped = 0

    # -- loading what the events need -----------------------------------------------------

    def load(self, events: Sequence[Projected]) -> None:
        """Read what ``events`` need: the new inquiries and declarations, and the stored state
        of the open ones they move."""
        created, filed = self._load_new(events)
        other_inquiries = {
            e.inquiry_id for e in events if e.inquiry_id is not None and e.kind != "inquiry.created"
        } - set(created)
        other_declarations = {
            e.declaration_id
            for e in events
            if e.kind in ("declaration.cleared", "declaration.refused", "declaration.cancelled")
        } - set(filed)
        self._load_open_inquiries(sorted(other_inquiries))
        self._load_open_declarations(sorted(other_declarations))
        keys = {s.key for s in self.statics.values()}
        keys.update(i.key for i in self.inquiries.values())
        keys.update(d.key for d in self.filed.values())
        keys.update(d.key for d in self.declarations.values())
        self._load_open_cells(sorted(keys))

    def _load_new(self, events: Sequence[Projected]) -> tuple[list[int], list[int]]:
        """The group and value of the inquiries and declarations ``events`` create."""
        created = [e.inquiry_id for e in events if e.kind == "inquiry.created"]
        filed = [
            e.declaration_id
            for e in events
            if e.kind == "declaration.filed" and e.after != "cleared"
        ]
        self.statics = {s.inquiry_id: s for s in self._statics(created)}
        self.filed = self._filed_declarations(filed)
        return created, filed

    def _id_filter(self, column: Any, ids: Sequence[int]) -> Iterator[Any]:
        """WHERE clauses covering ``ids``: one range when they are dense, else IN chunks."""
        if not ids:
            return
        low, high = min(ids), max(ids)
        if high - low < 4 * len(ids) + 64:
            yield column.between(low, high)
            return
        for part in chunks(sorted(ids)):
            yield column.in_(part)

    def _read(self, query: Any) -> Iterable[Any]:
        """Rows of a Core query, on the session's connection (no ORM loading)."""
        return self.session.connection().execute(query)

    def _items(
        self, declaration_ids: Sequence[int]
    ) -> dict[int, dict[int, tuple[str, Decimal, str]]]:
        """Goods lines (HS code, value, currency) by declaration and line number."""
        wanted = set(declaration_ids)
        items: dict[int, dict[int, tuple[str, Decimal, str]]] = {}
        t = _table(DeclarationItem).c
        for where in self._id_filter(t.declaration_id, sorted(wanted)):
            rows = self._read(
                select(t.declaration_id, t.line_no, t.hs_code, t.value, t.currency).where(where)
            )
            for declaration_id, line_no, hs_code, value, currency in rows:
                if declaration_id in wanted:
                    items.setdefault(declaration_id, {})[line_no] = (hs_code, value, currency)
        return items

    def _statics(self, inquiry_ids: Sequence[int]) -> list[_Static]:
        if not inquiry_ids:
            return []
        wanted = set(inquiry_ids)
        rows: list[Any] = []
        i, d = _table(Inquiry).c, _table(Declaration).c
        for where in self._id_filter(i.id, sorted(wanted)):
            rows.extend(
                row
                for row in self._read(
                    select(
                        i.id,
                        i.declaration_id,
                        i.agency_code,
                        i.inquiry_type,
                        i.province,
                        i.item_lines,
                        d.customs_office,
                        d.rule_set_version,
                    )
                    .join_from(_table(Inquiry), _table(Declaration), d.id == i.declaration_id)
                    .where(where)
                )
                if row[0] in wanted
            )
        items = self._items(sorted({row[1] for row in rows}))
        found = []
        for inquiry_id, declaration_id, agency, kind, province, lines, office, version in rows:
            chapter, value = inquiry_goods(
                lines, items.get(declaration_id, {}), self.rates.of(version)
            )
            key = (agency, kind, province, office, chapter)
            found.append(_Static(inquiry_id, declaration_id, key, value))
        return found

    def _filed_declarations(self, declaration_ids: Sequence[int]) -> dict[int, _Declaration]:
        if not declaration_ids:
            return {}
        wanted = set(declaration_ids)
        rows: list[Any] = []
        d = _table(Declaration).c
        for where in self._id_filter(d.id, sorted(wanted)):
            rows.extend(
                row
                for row in self._read(
                    select(
                        d.id, d.province, d.customs_office, d.rule_set_version, d.filed_at
                    ).where(where)
                )
                if row[0] in wanted
            )
        items = self._items(sorted(wanted))
        found = {}
        for declaration_id, province, office, version, filed_at in rows:
            chapter, value = declaration_goods(
                items.get(declaration_id, {}), self.rates.of(version)
            )
            key = (GOODS, GOODS, province, office, chapter)
            found[declaration_id] = _Declaration(declaration_id, key, value, filed_at)
        return found

    def _load_open_inquiries(self, inquiry_ids: Sequence[int]) -> None:
        t = DashboardOpenInquiry
        for part in chunks(inquiry_ids):
            for row in self.session.scalars(select(t).where(t.inquiry_id.in_(part))):
                self.inquiries[row.inquiry_id] = _Inquiry(
                    row.inquiry_id,
                    row.declaration_id,
                    (
                        row.agency,
                        row.inquiry_type,
                        row.province,
                        row.customs_office,
                        row.hs_chapter,
                    ),
                    row.value_usd,
                    row.created_at,
                    row.due_at,
                    row.paused,
                    row.segment_start,
                    row.agency_minutes,
                    row.paused_minutes,
                    row.level,
                    stored=True,
                )
                self.session.expunge(row)

    def _load_open_declarations(self, declaration_ids: Sequence[int]) -> None:
        t = DashboardOpenDeclaration
        for part in chunks(declaration_ids):
            for row in self.session.execute(
                select(
                    t.declaration_id,
                    t.province,
                    t.customs_office,
                    t.hs_chapter,
                    t.value_usd,
                    t.filed_at,
                ).where(t.declaration_id.in_(part))
            ):
                key = (GOODS, GOODS, row[1], row[2], row[3])
                self.declarations[row[0]] = _Declaration(row[0], key, row[4], row[5], stored=True)

    def _load_open_cells(self, keys: Sequence[FineKey]) -> None:
        t = DashboardOpenCell
        columns = (t.agency, t.inquiry_type, t.province, t.customs_office, t.hs_chapter)
        for part in chunks(keys, 150):
            rows = self.session.execute(
                select(*columns, t.open, t.paused, t.value_usd, t.integrated_to).where(
                    tuple_(*columns).in_(part)
                )
            )
            for a, k, p, o, c, count, paused, value, integrated in rows:
                self.open_cells[(a, k, p, o, c)] = _OpenCell(count, paused, value, integrated, True)

    # -- folding events in ----------------------------------------------------------------

    def cell(self, key: FineKey, day: int) -> _Acc:
        found = self.cells.get((key, day))
        if found is None:
            found = self.cells[(key, day)] = _Acc()
        return found

    def calendar(self, key: FineKey) -> BusinessCalendar:
        ck = (key[0], key[2])
        found = self.calendars.get(ck)
        if found is None:
            found = self.calendars[ck] = calendar_for(
                session=self.session, agency_code=key[0], province=key[2] or None
            )
        return found

    def open_cell(self, key: FineKey) -> _OpenCell:
        found = self.open_cells.get(key)
        if found is None:
            found = self.open_cells[key] = _OpenCell()
        return found

    def change_open(
        self, key: FineKey, at: datetime, *, count: int, value: int, paused: int = 0
    ) -> None:
        """Count capital up to ``at`` in ``key``'s group, then change what is open there."""
        cell = self.open_cell(key)
        now = periods.epoch_minutes(at)
        if now > cell.integrated_to:
            if cell.value_usd and cell.integrated_to:
                self._integrate(key, cell.value_usd, cell.integrated_to, now)
            cell.integrated_to = now
        cell.open += count
        cell.paused += paused
        cell.value_usd += value

    def _integrate(self, key: FineKey, value: int, start: int, end: int) -> None:
        measure = GOODS_CAPITAL if key[0] == GOODS else CAPITAL
        day = periods.day_of_minute(start)
        while start < end:
            stop = min(end, periods.midnight_minutes(day + 1))
            if stop > start:
                self.cell(key, day).measures[measure] += value * (stop - start)
            start = stop
            day += 1

    def apply(self, event: Projected) -> None:
        kind = event.kind
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)
        elif kind.startswith("escalation.") and kind not in _NOT_ESCALATIONS:
            self._escalation(event)

    def _inquiry(self, event: Projected) -> _Inquiry | None:
        found = self.inquiries.get(event.inquiry_id)
        if found is None or found.closed:
            self.skipped += 1
            return None
        return found

    def _created(self, event: Projected) -> None:
        static = self.statics.pop(event.inquiry_id, None)
        if static is None:
            self.skipped += 1
            return
        due = datetime.fromisoformat(event.detail) if event.detail else event.at
        inquiry = _Inquiry(
            static.inquiry_id,
            static.declaration_id,
            static.key,
            static.value_usd,
            event.at,
            due,
            segment_start=event.at,
            changed=True,
        )
        self.inquiries[inquiry.inquiry_id] = inquiry
        acc = self.cell(static.key, periods.tehran_day(event.at)).measures
        acc[RECEIVED] += 1
        acc[VALUE_RECEIVED] += static.value_usd
        self.change_open(static.key, event.at, count=1, value=static.value_usd)

    def _run_until(self, inquiry: _Inquiry, at: datetime) -> None:
        """Close the running stretch of the agency's clock at ``at``."""
        if not inquiry.paused and inquiry.segment_start is not None:
            inquiry.agency_minutes += self.calendar(inquiry.key).business_minutes_between(
                inquiry.segment_start, at
            )
        elif inquiry.paused and inquiry.segment_start is not None:
            inquiry.paused_minutes += _minutes_between(inquiry.segment_start, at)
        inquiry.segment_start = at

    def _info_requested(self, event: Projected) -> None:
        inquiry = self._inquiry(event)
        if inquiry is None:
            return
        self._run_until(inquiry, event.at)
        inquiry.paused = inquiry.changed = True
        self.cell(inquiry.key, periods.tehran_day(event.at)).measures[INFO] += 1
        self.change_open(inquiry.key, event.at, count=0, value=0, paused=1)

    def _replied(self, event: Projected) -> None:
        inquiry = self._inquiry(event)
        if inquiry is None:
            return
        self._run_until(inquiry, event.at)
        inquiry.paused = False
        inquiry.changed = True
        if event.detail:
            inquiry.due_at = datetime.fromisoformat(event.detail)
        self.cell(inquiry.key, periods.tehran_day(event.at)).measures[REPLIES] += 1
        self.change_open(inquiry.key, event.at, count=0, value=0, paused=-1)

    def _deadline_moved(self, event: Projected) -> None:
        inquiry = self._inquiry(event)
        if inquiry is not None and event.detail:
            inquiry.due_at = datetime.fromisoformat(event.detail)
            inquiry.changed = True

    def _close(self, inquiry: _Inquiry, at: datetime) -> None:
        self._run_until(inquiry, at)
        inquiry.closed = inquiry.changed = True
        self.change_open(
            inquiry.key,
            at,
            count=-1,
            value=-inquiry.value_usd,
            paused=-1 if inquiry.paused else 0,
        )

    def _answered(self, event: Projected) -> None:
        inquiry = self._inquiry(event)
        if inquiry is None:
            return
        at = event.at
        self._close(inquiry, at)
        acc = self.cell(inquiry.key, periods.tehran_day(at))
        m = acc.measures
        m[ANSWERED] += 1
        if event.kind == "inquiry.approved":
            m[APPROVED] += 1
            self.last_approved = inquiry
        else:
            m[REJECTED] += 1
            reason = event.detail
            if reason:
                rk = (inquiry.key[0], periods.tehran_day(at), normalise_reason(str(reason)))
                self.reasons[rk] = self.reasons.get(rk, 0) + 1
        if at <= inquiry.due_at:
            m[ON_TIME] += 1
        elapsed = _minutes_between(inquiry.created_at, at)
        m[AGENCY_MIN] += inquiry.agency_minutes
        m[ELAPSED_MIN] += elapsed
        m[PAUSED_MIN] += inquiry.paused_minutes
        h = acc.hists[H_AGENCY]
        b = histogram.bin_of(inquiry.agency_minutes)
        h[b] = h.get(b, 0) + 1
        h = acc.hists[H_ELAPSED]
        b = histogram.bin_of(elapsed)
        h[b] = h.get(b, 0) + 1

    def _ended(self, event: Projected) -> None:
        inquiry = self._inquiry(event)
        if inquiry is None:
            return
        self._close(inquiry, event.at)
        measure = WITHDRAWN if event.kind == "inquiry.withdrawn" else LAPSED
        self.cell(inquiry.key, periods.tehran_day(event.at)).measures[measure] += 1

    def _escalation(self, event: Projected) -> None:
        inquiry = self._inquiry(event)
        if inquiry is None:
            return
        level = int(event.detail or 1)
        inquiry.level = max(inquiry.level, level)
        inquiry.changed = True
        index = ESCALATIONS[min(max(level, 1), len(ESCALATIONS)) - 1]
        self.cell(inquiry.key, periods.tehran_day(event.at)).measures[index] += 1

    def _declaration_filed(self, event: Projected) -> None:
        declaration = self.filed.pop(event.declaration_id, None)
        if declaration is None:
            return  # cleared at once (it needed no inquiry): no agency is involved
        self.declarations[declaration.declaration_id] = declaration
        acc = self.cell(declaration.key, periods.tehran_day(event.at)).measures
        acc[FILED] += 1
        acc[GOODS_VALUE] += declaration.value_usd
        self.change_open(declaration.key, event.at, count=1, value=declaration.value_usd)

    def _declaration_closed(self, event: Projected) -> None:
        declaration = self.declarations.get(event.declaration_id)
        if declaration is None or declaration.closed:
            self.skipped += 1
            return
        at = event.at
        declaration.closed = True
        self.change_open(declaration.key, at, count=-1, value=-declaration.value_usd)
        day = periods.tehran_day(at)
        if event.kind == "declaration.refused":
            self.cell(declaration.key, day).measures[REFUSED] += 1
            return
        if event.kind == "declaration.cancelled":
            self.cell(declaration.key, day).measures[CANCELLED] += 1
            return
        critical = self._critical_key(declaration.declaration_id, event.seq)
        if critical is None:
            return
        minutes = _minutes_between(declaration.filed_at, at)
        acc = self.cell(critical, day)
        acc.measures[CLEARED] += 1
        acc.measures[CLEARANCE_MIN] += minutes
        h = acc.hists[H_CLEARANCE]
        b = histogram.bin_of(minutes)
        h[b] = h.get(b, 0) + 1

    def _critical_key(self, declaration_id: int, seq: int) -> FineKey | None:
        """The group of the inquiry whose approval cleared the declaration (the critical
        path): the approval just before the clearance in the log."""
        last = self.last_approved
        if last is not None and last.declaration_id == declaration_id:
            return last.key
        inquiry_id = self.session.scalar(
            select(Event.inquiry_id)
            .where(
                Event.declaration_id == declaration_id,
                Event.kind == "inquiry.approved",
                Event.seq < seq,
            )
            .order_by(Event.seq.desc())
            .limit(1)
        )
        if inquiry_id is None:
            return None
        found = self._statics([inquiry_id])
        return found[0].key if found else None

    # -- writing ------------------------------------------------------------------------

    def flush(self) -> None:
        self._write_rollups()
        self._write_reasons()
        self._write_open_inquiries()
        self._write_open_declarations()
        self._write_open_cells()

    def _write_rollups(self) -> None:
        write_rollups(self.session, self._rollups())

    def _day_groups(self) -> dict[DayGroup, list[_Acc]]:
        """The parts of every group's day, gathered in two steps so that each cell is taken four
        times, not nine: the cells into their agency's groups by inquiry type, province,
        office and HS chapter; then those groups' sums into the groups they make up: the
        agency's whole (from its types), and the nation's groups by province, office, chapter
        and whole (from every agency's, the declarations' own included, whose groups are the
        nation's only)."""
        agencies: dict[DayGroup, list[_Acc]] = {}
        for (key, day), acc in self.cells.items():
            agency, kind, province, office, chapter = key
            for group in (
                ("type", agency, kind, day),
                ("province", agency, province, day),
                ("office", agency, office, day),
                ("chapter", agency, chapter, day),
            ):
                found = agencies.get(group)
                if found is None:
                    agencies[group] = [acc]
                else:
                    found.append(acc)
        by_day: dict[DayGroup, list[_Acc]] = {}
        for group, parts in agencies.items():
            dimension, agency, value, day = group
            total = _Acc.total(parts)
            if dimension == "type":  # an agency's types make up its whole and the nation's
                wholes: tuple[DayGroup, ...] = (("all", ALL, ALL, day),)
                if agency != GOODS:
                    wholes += (("all", agency, ALL, day),)
                for whole in wholes:
                    by_day.setdefault(whole, []).append(total)
            else:
                by_day.setdefault((dimension, ALL, value, day), []).append(total)
            if agency != GOODS:
                by_day[group] = [total]
        return by_day

    def _rollups(self) -> dict[Target, _Acc]:
        """The cells added into every rollup row they belong to. Two steps, each gathering the
        parts of every target first and adding them column by column (sum over zip runs in
        C): finest cells into day groups, day groups into every period they belong to."""
        rollups: dict[Target, list[_Acc]] = {}
        for (dimension, agency, value, day), parts in self._day_groups().items():
            total = _Acc.total(parts)
            for grain, period in periods.periods_of(day):
                rollups.setdefault((grain, dimension, agency, period, value), []).append(total)
        return {t: _Acc.total(parts) for t, parts in rollups.items()}

    def _write_reasons(self) -> None:
        if not self.reasons:
            return
        totals: dict[tuple[str, str, int, str], int] = {}
        for (agency, day, reason), count in self.reasons.items():
            for grain, period in periods.periods_of(day):
                for who in (agency, ALL):
                    k = (grain, who, period, reason)
                    totals[k] = totals.get(k, 0) + count
        t = DashboardReason
        keys = list(totals)
        existing: dict[tuple[str, str, int, str], int] = {}
        columns = (t.grain, t.agency, t.period, t.reason)
        for part in chunks(keys, 200):
            for g, a, p, r, c in self.session.execute(
                select(*columns, t.count).where(tuple_(*columns).in_(part))
            ):
                existing[(g, a, p, r)] = c
        updates = [
            {
                "k_grain": k[0],
                "k_agency": k[1],
                "k_period": k[2],
                "k_reason": k[3],
                "n": n + existing[k],
            }
            for k, n in totals.items()
            if k in existing
        ]
        inserts = [
            {"grain": k[0], "agency": k[1], "period": k[2], "reason": k[3], "count": n}
            for k, n in totals.items()
            if k not in existing
        ]
        if updates:
            self.session.execute(
                update(_table(t))
                .where(
                    t.grain == _bind("k_grain"),
                    t.agency == _bind("k_agency"),
                    t.period == _bind("k_period"),
                    t.reason == _bind("k_reason"),
                )
                .values(count=_bind("n"))
                .execution_options(synchronize_session=False),
                updates,
            )
        if inserts:
            self.session.execute(insert(_table(t)), inserts)

    def _write_open_inquiries(self) -> None:
        t = DashboardOpenInquiry
        gone = [i.inquiry_id for i in self.inquiries.values() if i.closed and i.stored]
        for part in chunks(gone):
            self.session.execute(delete(_table(t)).where(t.inquiry_id.in_(part)))
        changed = [i for i in self.inquiries.values() if not i.closed and i.changed]
        new = [_open_inquiry_row(i) for i in changed if not i.stored]
        old = [{**_open_inquiry_row(i), "k_id": i.inquiry_id} for i in changed if i.stored]
        if new:
            self.session.execute(insert(_table(t)), new)
        if old:
            names = (
                "due_at",
                "paused",
                "segment_start",
                "agency_minutes",
                "paused_minutes",
                "level",
            )
            self.session.execute(
                update(_table(t))
                .where(t.inquiry_id == _bind("k_id"))
                .values({name: _bind(name) for name in names})
                .execution_options(synchronize_session=False),
                old,
            )

    def _write_open_declarations(self) -> None:
        t = DashboardOpenDeclaration
        gone = [d.declaration_id for d in self.declarations.values() if d.closed and d.stored]
        for part in chunks(gone):
            self.session.execute(delete(_table(t)).where(t.declaration_id.in_(part)))
        new = [
            {
                "declaration_id": d.declaration_id,
                "province": d.key[2],
                "customs_office": d.key[3],
                "hs_chapter": d.key[4],
                "value_usd": d.value_usd,
                "filed_at": d.filed_at,
            }
            for d in self.declarations.values()
            if not d.closed and not d.stored
        ]
        if new:
            self.session.execute(insert(_table(t)), new)

    def _write_open_cells(self) -> None:
        t = DashboardOpenCell
        columns = (t.agency, t.inquiry_type, t.province, t.customs_office, t.hs_chapter)
        gone = [k for k, c in self.open_cells.items() if c.stored and c.open == 0]
        for part in chunks(gone, 150):
            self.session.execute(delete(_table(t)).where(tuple_(*columns).in_(part)))
        values = {
            k: {
                "open": c.open,
                "paused": c.paused,
                "value_usd": c.value_usd,
                "integrated_to": c.integrated_to,
            }
            for k, c in self.open_cells.items()
            if c.open != 0
        }
        new = [{**_key_columns(k), **v} for k, v in values.items() if not self.open_cells[k].stored]
        old = [
            {**{f"k_{n}": x for n, x in _key_columns(k).items()}, **v}
            for k, v in values.items()
            if self.open_cells[k].stored
        ]
        if new:
            self.session.execute(insert(_table(t)), new)
        if old:
            self.session.execute(
                update(_table(t))
                .where(*(getattr(t, n) == _bind(f"k_{n}") for n in _KEY_NAMES))
                .values(
                    open=_bind("open"),
                    paused=_bind("paused"),
                    value_usd=_bind("value_usd"),
                    integrated_to=_bind("integrated_to"),
                )
                .execution_options(synchronize_session=False),
                old,
            )


_HANDLERS = {
    "inquiry.created": _Batch._created,
    "inquiry.info_requested": _Batch._info_requested,
    "inquiry.replied": _Batch._replied,
    "inquiry.deadline_moved": _Batch._deadline_moved,
    "inquiry.approved": _Batch._answered,
    "inquiry.rejected": _Batch._answered,
    "inquiry.withdrawn": _Batch._ended,
    "inquiry.lapsed": _Batch._ended,
    "declaration.filed": _Batch._declaration_filed,
    "declaration.cleared": _Batch._declaration_closed,
    "declaration.refused": _Batch._declaration_closed,
    "declaration.cancelled": _Batch._declaration_closed,
}


_SETTLED_INTO = frozenset({"w", "m", "j"})
"""The periods a settled day row is added into as it settles (all time: from the months, at
the end)."""

RollupWriter = Callable[[Mapping[Target, "_Acc"]], None]
"""Writes rollup rows that are not stored yet."""


class Replay(_Batch):
    """The whole log folded in one pass (``rebuild``, and the national generator as it writes
    the log), in the caller's transaction.

    Unlike a batch of the incremental projector, what is open stays in memory from one slice
    of the log to the next instead of going to the store and back, and rollups are added up
    in memory. A day row is written once, when it has *settled*: when no later event can add
    to it, because the events have moved past it and every open group has counted its capital
    past it too; it is then added into its week and months, and a week row is written when
    its last day has settled. Only the month and Jalali month rows (a few per group) wait to
    the end, where all time is added up from the months. A contribution to a row already
    written (a log whose instants are not in ``seq`` order) is added into the stored row, as
    the incremental projector does.

    ``insert`` writes new rollup rows (default: in bulk, through ``session``); ``merge`` adds
    into stored ones (default: ``write_rollups``).
    """

    def __init__(
        self,
        session: Session,
        *,
        insert: RollupWriter | None = None,
        merge: RollupWriter | None = None,
    ) -> None:
        super().__init__(session)
        self.days: dict[DayGroup, _Acc] = {}
        self.coarse: dict[Target, _Acc] = {}
        self.settled_before = 0  # a day: the rows of the days before it are written
        self.insert = insert or (lambda rows: _insert_rollups(session, rows))
        self.merge = merge or (lambda rows: write_rollups(session, rows))

    def load(self, events: Sequence[Projected]) -> None:
        self._load_new(events)

    def expect_inquiry(
        self, inquiry_id: int, declaration_id: int, key: FineKey, value: int
    ) -> None:
        """What ``inquiry.created`` of ``inquiry_id`` will need, from whoever wrote it (instead
        of ``load`` reading it back)."""
        self.statics[inquiry_id] = _Static(inquiry_id, declaration_id, key, value)

    def expect_declaration(
        self, declaration_id: int, key: FineKey, value: int, filed_at: datetime
    ) -> None:
        """What ``declaration.filed`` of ``declaration_id`` will need (see ``expect_inquiry``)."""
        self.filed[declaration_id] = _Declaration(declaration_id, key, value, filed_at)

    def fold(self, first: datetime) -> None:
        """Take in the cells of the events applied since the last fold (the first of them at
        ``first``; none that follow is earlier); write the rows that have settled; forget what
        closed."""
        days = self.days
        for group, parts in self._day_groups().items():
            found = days.get(group)
            if found is None:
                days[group] = found = parts[0].copy()
                parts = parts[1:]
            if parts:
                found.add_all(parts)
        self.cells.clear()
        self.inquiries = {k: i for k, i in self.inquiries.items() if not i.closed}
        self.declarations = {k: d for k, d in self.declarations.items() if not d.closed}
        oldest = periods.tehran_day(first)
        counting = [c.integrated_to for c in self.open_cells.values() if c.value_usd]
        if counting:
            oldest = min(oldest, periods.day_of_minute(min(counting)))
        self._settle(oldest - 1)

    def _settle(self, before: int) -> None:
        """Write the day rows of the days before ``before`` and the weeks that end before it."""
        fresh: dict[Target, _Acc] = {}
        late: dict[Target, _Acc] = {}
        coarse = self.coarse
        for group in [g for g in self.days if g[3] < before]:
            acc = self.days.pop(group)
            dimension, agency, value, day = group
            row: Target = ("d", dimension, agency, day, value)
            (late if day < self.settled_before else fresh)[row] = acc
            for grain, period in periods.periods_of(day):
                if grain not in _SETTLED_INTO:
                    continue
                target: Target = (grain, dimension, agency, period, value)
                found = coarse.get(target)
                if found is None:
                    coarse[target] = acc.copy()
                else:
                    found.add_all((acc,))
        for target in [t for t in coarse if t[0] == "w" and t[3] + 6 < before]:
            written = target[3] + 6 < self.settled_before
            (late if written else fresh)[target] = coarse.pop(target)
        if late:
            self.merge(late)
        if fresh:
            self.insert(fresh)
        self.settled_before = max(self.settled_before, before)

    def finish(self) -> None:
        """Write everything still in memory."""
        self.finish_rollups()
        self.finish_state()

    def finish_rollups(self) -> None:
        """Write the rollup rows still in memory."""
        self._settle(2**31)
        coarse = self.coarse
        for (grain, dimension, agency, _, value), acc in list(coarse.items()):
            if grain == "m":  # all time is the sum of the months
                target: Target = ("a", dimension, agency, 0, value)
                found = coarse.get(target)
                if found is None:
                    coarse[target] = acc.copy()
                else:
                    found.add_all((acc,))
        if coarse:
            self.insert(coarse)
        self.coarse = {}

    def finish_state(self) -> None:
        """Write the reasons and what is open now, through ``self.session``."""
        self._write_reasons()
        self._write_open_inquiries()
        self._write_open_declarations()
        self._write_open_cells()


_KEY_NAMES = ("agency", "inquiry_type", "province", "customs_office", "hs_chapter")


def _key_columns(key: FineKey) -> dict[str, str]:
    return dict(zip(_KEY_NAMES, key, strict=True))


def _table(model: type[Any]) -> Table:
    """A model's table, for Core statements (executemany, no ORM bookkeeping)."""
    table: Table = model.__table__
    return table


def _bind(name: str) -> Any:
    return bindparam(name)


def _open_inquiry_row(i: _Inquiry) -> dict[str, Any]:
    return {
        "inquiry_id": i.inquiry_id,
        "declaration_id": i.declaration_id,
        **_key_columns(i.key),
        "value_usd": i.value_usd,
        "created_at": i.created_at,
        "due_at": i.due_at,
        "paused": i.paused,
        "segment_start": i.segment_start or i.created_at,
        "agency_minutes": i.agency_minutes,
        "paused_minutes": i.paused_minutes,
        "level": i.level,
    }


_ROLLUP_KEYS = ("grain", "dimension", "agency", "period", "key")


def _rollup_row(target: Target, acc: _Acc) -> dict[str, Any]:
    values: dict[str, Any] = dict(zip(MEASURES, acc.measures, strict=True))
    for name, hist in zip(HISTOGRAMS, acc.hists, strict=True):
        values[name] = histogram.encode(hist)
    values.update(zip(_ROLLUP_KEYS, target, strict=True))
    return values


ROLLUP_COLUMNS = (*_ROLLUP_KEYS, *MEASURES, *HISTOGRAMS)
"""The columns of ``dashboard_rollups``, in the order of ``rollup_rows``."""


def rollup_rows(rollups: Mapping[Target, _Acc]) -> Iterator[tuple[Any, ...]]:
    """Rollups as rows of ``ROLLUP_COLUMNS`` (plain integers, text and bytes: stored alike by
    both databases)."""
    for target, acc in rollups.items():
        yield (*target, *acc.measures, *(histogram.encode(h) for h in acc.hists))


def _insert_rollups(session: Session, rollups: Mapping[Target, _Acc]) -> None:
    """Write rows that are not stored yet, in bulk: ``COPY`` on PostgreSQL, one prepared
    ``INSERT`` run over every row on SQLite."""
    rows = list(rollup_rows(rollups))
    table, names = DashboardRollup.__tablename__, ", ".join(f'"{c}"' for c in ROLLUP_COLUMNS)
    cursor = session.connection().connection.cursor()
    try:
        if is_postgres(session):
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in ROLLUP_COLUMNS)
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - our names
                rows,
            )
    finally:
        cursor.close()


def write_rollups(session: Session, rollups: Mapping[Target, _Acc]) -> None:
    """Add ``rollups`` into the stored rows (reading the rows that exist, writing sums)."""
    t = DashboardRollup
    columns = tuple(getattr(t, n) for n in _ROLLUP_KEYS)
    keys = list(rollups)
    existing: dict[Target, Row[Any]] = {}
    for part in chunks(keys, 150):
        for row in session.execute(select(_table(t)).where(tuple_(*columns).in_(part))):
            existing[(row.grain, row.dimension, row.agency, row.period, row.key)] = row
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for target, acc in rollups.items():
        stored = existing.get(target)
        if stored is None:
            inserts.append(_rollup_row(target, acc))
            continue
        values: dict[str, Any] = {}
        for name, delta in zip(MEASURES, acc.measures, strict=True):
            values[name] = getattr(stored, name) + delta
        for name, hist in zip(HISTOGRAMS, acc.hists, strict=True):
            blob = getattr(stored, name)
            if hist:
                merged = histogram.decode(blob)
                histogram.merge(merged, hist)
                blob = histogram.encode(merged)
            values[name] = blob
        values.update({f"k_{n}": v for n, v in zip(_ROLLUP_KEYS, target, strict=True)})
        updates.append(values)
    if inserts:
        session.execute(insert(_table(t)), inserts)
    if updates:
        session.execute(
            update(_table(t))
            .where(*(getattr(t, n) == _bind(f"k_{n}") for n in _ROLLUP_KEYS))
            .values({n: _bind(n) for n in (*MEASURES, *HISTOGRAMS)})
            .execution_options(synchronize_session=False),
            updates,
        )


# -- the entry points -------------------------------------------------------------------


def _position(session: Session) -> DashboardPosition | None:
    """The position row, locked for this transaction (None if another worker holds it)."""
    query = select(DashboardPosition).where(DashboardPosition.id == 1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    position = session.scalars(query).first()
    if position is not None:
        return position
    exists = session.scalar(select(func.count()).select_from(DashboardPosition))
    if exists:
        return None  # locked by another projector right now
    position = DashboardPosition(id=1, seq=0)
    session.add(position)
    session.flush()
    return position


def _events(session: Session, after: int, limit: int) -> Sequence[Any]:
    e = _table(Event).c
    # The one field of ``data`` each kind needs, read by the database (no JSON decoding here).
    detail = case(
        *((e.kind == kind, e.data[field].as_string()) for kind, field in _DETAIL.items()),
        (e.kind.like("escalation.%"), e.data["level"].as_string()),
        else_=null(),
    )
    return (
        session.connection()
        .execute(
            select(
                e.seq,
                e.at,
                e.kind,
                e.declaration_id,
                e.inquiry_id,
                e.after,
                detail.label("detail"),
            )
            .where(e.seq > after)
            .order_by(e.seq)
            .limit(limit)
        )
        .all()
    )


def project_once(session: Session, *, limit: int | None = None, now: datetime | None = None) -> int:
    """Fold up to ``limit`` new events (default ``PANJEREH_DASHBOARD_PROJECTOR_BATCH``) into
    the aggregates and move the position past them, in the caller's transaction. Returns how
    many events it projected (0: up to date, or another projector holds the position now)."""
    if limit is None:
        limit = get_dashboard_settings().projector_batch
    position = _position(session)
    if position is None:
        return 0
    events = _events(session, position.seq, limit)
    if not events:
        return 0
    batch = _Batch(session)
    batch.load(events)
    for event in events:
        batch.apply(event)
    batch.flush()
    if batch.skipped:
        log.warning("dashboard: %s events referred to nothing open; skipped", batch.skipped)
    position.seq = events[-1].seq
    position.event_at = events[-1].at
    if now is not None:
        position.projected_at = now
    session.flush()
    return len(events)


DASHBOARD_TABLES = (
    DashboardRollup,
    DashboardReason,
    DashboardOpenCell,
    DashboardOpenInquiry,
    DashboardOpenDeclaration,
)


def reset(session: Session) -> None:
    """Empty the aggregates and put the position back at the start of the log."""
    position = _position(session)
    for model in DASHBOARD_TABLES:
        session.execute(delete(model).execution_options(synchronize_session=False))
    if position is None:
        session.execute(update(DashboardPosition).values(seq=0, event_at=None))
    else:
        position.seq, position.event_at = 0, None
    session.flush()


@contextmanager
def without_cycle_collector() -> Iterator[None]:
    """Run without Python's cycle collector, for a whole replay. A replay at national scale
    holds millions of long-lived objects (open inquiries, the cells being added up; in the
    national generator also the events waiting for their hour) and makes almost no reference
    cycles: the collector walked all of them again and again to free a few hundred objects, a
    third of a rebuild's time at two million inquiries and of both of the generator's processes
    at one million, more as the heap grows. Reference counting still frees everything else.
    Also a decorator (``rebuild``, ``national.generate`` and its log's process)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@without_cycle_collector()
def rebuild(
    factory: sessionmaker[Session], *, limit: int = 100_000, now: datetime | None = None
) -> int:
    """Empty the aggregates and replay the whole log (``panjereh dashboard rebuild``), reading
    it ``limit`` events at a time, in one transaction: the dashboard moves from the old
    figures to the rebuilt ones at once, and a rebuild that fails leaves the old ones. Returns
    how many events were projected."""
    total = 0
    with transaction(factory) as session:
        reset(session)
        replay = Replay(session)
        last = None
        while events := _events(session, last.seq if last else 0, limit):
            replay.load(events)
            for event in events:
                replay.apply(event)
            replay.fold(events[0].at)
            total += len(events)
            last = events[-1]
        replay.finish()
        replayed(session, replay, last.seq if last else 0, last.at if last else None, now)
    tidy(factory.kw["bind"])
    return total


def replayed(
    session: Session, replay: Replay, seq: int, at: datetime | None, now: datetime | None
) -> None:
    """Put the position after a replay that ended at event ``seq`` (of instant ``at``)."""
    if replay.skipped:
        log.warning("dashboard: %s events referred to nothing open; skipped", replay.skipped)
    moved: dict[str, Any] = {"seq": seq, "event_at": at}
    if now is not None:
        moved["projected_at"] = now
    session.execute(update(DashboardPosition).where(DashboardPosition.id == 1).values(moved))


def tidy(engine: Engine) -> None:
    """Reclaim the space of a replay and refresh the planner's statistics of the dashboard's
    tables: a rebuild inserts and deletes every inquiry's open row once, and on PostgreSQL a
    bloated ``dashboard_open_inquiries`` with stale statistics turns the overdue count (an
    index range over the open queue) into a scan of everything the replay ever held."""
    names = ", ".join(model.__tablename__ for model in DASHBOARD_TABLES)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {names}")
    else:
        with engine.begin() as connection:
            for model in DASHBOARD_TABLES:
                connection.exec_driver_sql(f"ANALYZE {model.__tablename__}")


def catch_up(factory: sessionmaker[Session], *, limit: int = DEFAULT_LIMIT) -> int:
    """Project everything not projected yet (tests, the demo loader, the CLI)."""
    total = 0
    while True:
        with transaction(factory) as session:
            done = project_once(session, limit=limit)
        total += done
        if done < limit:
            return total
