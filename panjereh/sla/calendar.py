"""Iranian business time: working weeks, official holidays, closures, deadlines.

Pure functions over immutable values: no I/O, no database, no clock reads. The caller
passes every instant in; every instant out is timezone-aware UTC.

Units. Business time is counted in minutes of working hours (``opens`` to ``closes``
on a business day, Asia/Tehran wall time). A business day is therefore
``closes - opens`` minutes (420 by default), never 24 hours. Internally instants are
exact to the microsecond; ``business_minutes_between`` floors to whole minutes.

Speed. Each calendar lazily builds, once, a sorted table of its business days over
``years`` (opening and closing instants in UTC and cumulative business time), so a
deadline or a minute sum is a couple of ``bisect`` calls; an instant in UTC that falls
inside the table is not even converted to Tehran time. Queries that leave that range
build a temporary table over the dates they touch (a day-by-day walk): same code, same
answers, only slower. See ``docs/business-time.md`` for the rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

import holidays as holidays_package
from holidays.version import __version__ as _holidays_version

HOLIDAYS_VERSION: str = _holidays_version
"""Version of the ``holidays`` package the official holidays come from (pinned)."""

TEHRAN = ZoneInfo("Asia/Tehran")

WEEKDAY_CODES: Mapping[str, int] = MappingProxyType(
    {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}
)
ALL_DAYS: frozenset[int] = frozenset(range(7))
THU_FRI: frozenset[int] = frozenset({3, 4})
"""Weekend of government offices: Thursday and Friday."""
FRI_ONLY: frozenset[int] = frozenset({4})
"""Weekend of customs and banks: Friday only."""

# Defaults an administrator can change per agency (and per effective date).
DEFAULT_OPENS = time(7, 30)
DEFAULT_CLOSES = time(14, 30)
DEFAULT_CUTOFF = time(13, 30)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
_PROVINCE = re.compile(r"IR-(\d\d)")
_MAX_PROVINCE = 30  # current ISO 3166-2:IR scheme: IR-00 .. IR-30
_FIRST_SPAN_DAYS = 64

_T = TypeVar("_T")


def weekend_from_codes(spec: str) -> frozenset[int]:
    """Parse a weekend spec such as ``"THU FRI"`` or ``"FRI"`` into weekday numbers.

    Agency data names weekends by day codes; the calendar counts Monday=0 … Sunday=6.
    """
    codes = [c for c in re.split(r"[\s,]+", spec.strip().upper()) if c]
    unknown = sorted(set(codes) - set(WEEKDAY_CODES))
    if unknown:
        raise ValueError(
            f"unknown weekday code(s) {unknown} in weekend {spec!r}; use {' '.join(WEEKDAY_CODES)}"
        )
    return frozenset(WEEKDAY_CODES[c] for c in codes)


def working_days_from_weekend(weekend: frozenset[int]) -> frozenset[int]:
    """Return the working weekdays left by a weekend (Monday=0 … Sunday=6).

    A ``WorkingWeek`` stores working days; agencies are described by their weekend.
    """
    if not weekend <= ALL_DAYS:
        raise ValueError(f"weekend days must be 0 (Monday) .. 6 (Sunday), got {sorted(weekend)}")
    return ALL_DAYS - weekend


def _check_province(province: str | None) -> None:
    if province is None:
        return
    match = _PROVINCE.fullmatch(province)
    if match is None or int(match.group(1)) > _MAX_PROVINCE:
        raise ValueError(
            f"province {province!r} is not an ISO 3166-2:IR code of the current scheme "
            "(IR-00 .. IR-30)"
        )


def _check_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise ValueError(f"a {what} needs a reason (it is shown to traders and agencies)")


def _check_whole_minute(value: time, name: str) -> None:
    if value.tzinfo is not None:
        raise ValueError(f"{name} is a local wall time and must not carry a tzinfo")
    if value.second or value.microsecond:
        raise ValueError(f"{name} must be a whole minute, got {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class WorkingWeek:
    """Working days and hours in force from ``effective_from`` (until the next week starts).

    Weekdays count Monday=0 … Sunday=6; times are local wall times of the calendar's zone.
    """

    effective_from: date
    working_days: frozenset[int]
    opens: time = DEFAULT_OPENS
    closes: time = DEFAULT_CLOSES
    cutoff: time = DEFAULT_CUTOFF

    def __post_init__(self) -> None:
        if not self.working_days:
            raise ValueError("a working week needs at least one working day")
        if not self.working_days <= ALL_DAYS:
            raise ValueError(
                f"working days must be 0 (Monday) .. 6 (Sunday), got {sorted(self.working_days)}"
            )
        for name in ("opens", "closes", "cutoff"):
            _check_whole_minute(getattr(self, name), name)
        if not self.opens < self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        if self.cutoff > self.closes:
            raise ValueError(f"cutoff ({self.cutoff}) must not be after closes ({self.closes})")


@dataclass(frozen=True, slots=True)
class Closure:
    """Whole days ``start`` .. ``end`` (inclusive) on which offices are closed.

    National when ``province`` is None, else only for that ISO 3166-2:IR province. Used for
    heat or energy closures and to add a lunar holiday the ``holidays`` package missed.
    """

    start: date
    end: date
    reason: str
    province: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"closure ends ({self.end}) before it starts ({self.start}); "
                "end is inclusive, so a one-day closure has end == start"
            )
        _check_reason(self.reason, "closure")
        _check_province(self.province)


@dataclass(frozen=True, slots=True)
class HolidayCorrection:
    """A holiday the ``holidays`` package put on the wrong day (usually an estimated lunar one).

    Removes ``moved_from`` as a holiday and, when given, makes ``moved_to`` one instead.
    """

    moved_from: date
    moved_to: date | None
    reason: str

    def __post_init__(self) -> None:
        if self.moved_to == self.moved_from:
            raise ValueError(f"a correction must move the holiday, got {self.moved_from} twice")
        _check_reason(self.reason, "holiday correction")


@dataclass(frozen=True, slots=True)
class _Table:
    """Business days of ``first`` .. ``last`` (inclusive) with their hours as UTC microseconds.

    ``cum[i]`` is the business time (µs) of rows before row ``i``; ``cum`` has one more entry
    than the other lists, its last being the table's total.
    """

    first: int  # date ordinals
    last: int
    ords: list[int]
    opens: list[int]
    closes: list[int]
    cum: list[int]
    cutoffs: list[time]
    closes_utc: list[datetime]
    lo: int = field(init=False)  # first opening and last close (UTC µs): an instant between
    hi: int = field(init=False)  # them falls on a day the table covers

    def __post_init__(self) -> None:
        object.__setattr__(self, "lo", self.opens[0] if self.opens else 1)
        object.__setattr__(self, "hi", self.closes[-1] if self.closes else 0)

    def covers(self, first: date, last: date) -> bool:
        return self.first <= first.toordinal() and last.toordinal() <= self.last

    def position(self, us: int) -> int:
        """Business time (µs) from the table's start to the instant ``us``."""
        i = bisect_right(self.opens, us) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(us - self.opens[i], self.closes[i] - self.opens[i])


def _added(t: _Table, us: int, budget: int) -> datetime | None:
    """The instant ``budget`` business µs after ``us`` (snapped forward to an opening), or
    None if the table ends before it."""
    i = bisect_right(t.opens, us) - 1
    if i >= 0 and us <= t.closes[i]:
        here, base = us, t.cum[i] + us - t.opens[i]
    elif i + 1 < len(t.opens):
        here, base = t.opens[i + 1], t.cum[i + 1]
    else:
        return None
    if budget == 0:
        return _from_us(here)
    k = bisect_left(t.cum, base + budget, 1)  # first row whose end reaches the target
    if k == len(t.cum):
        return None
    return _from_us(t.opens[k - 1] + base + budget - t.cum[k - 1])


def _to_us(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(0, 0, us)  # positional: a third faster than microseconds=us


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")


def _fingerprint(payload: object) -> str:
    """A short stable hash of JSON-able inputs, so equal inputs give an equal version."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _week_key(w: WorkingWeek) -> list[object]:
    return [w.effective_from, sorted(w.working_days), w.opens, w.closes, w.cutoff]


def _closure_key(c: Closure) -> list[object]:
    return [c.start, c.end, c.province or "", c.reason]


def _shift(day: date, days: int) -> date:
    """``day + days`` clamped to the representable range of dates."""
    ordinal = min(max(day.toordinal() + days, date.min.toordinal()), date.max.toordinal())
    return date.fromordinal(ordinal)


@dataclass(frozen=True)
class BusinessCalendar:
    """One agency's business time: working weeks, holidays and closures, in one time zone.

    ``weeks`` are sorted by ``effective_from``; the week in force on a date is the one with the
    latest ``effective_from`` <= that date (dates before the first use the first). ``years``
    is the span precomputed for speed (default: the years of ``holidays``). ``version`` names
    the inputs; left empty it is derived from them.
    """

    weeks: tuple[WorkingWeek, ...]
    holidays: Mapping[date, str] = field(default_factory=dict, hash=False)
    closures: tuple[Closure, ...] = ()
    province: str | None = None
    tz: ZoneInfo = TEHRAN
    version: str = ""
    years: range | None = None

    def __post_init__(self) -> None:
        if not self.weeks:
            raise ValueError("a calendar needs at least one working week")
        weeks = tuple(sorted(self.weeks, key=lambda w: w.effective_from))
        starts = [w.effective_from for w in weeks]
        if len(set(starts)) != len(starts):
            raise ValueError("two working weeks share an effective_from date")
        _check_province(self.province)
        for day in self.holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"holiday keys must be dates, got {day!r}")
        object.__setattr__(self, "weeks", weeks)
        object.__setattr__(self, "holidays", MappingProxyType(dict(sorted(self.holidays.items()))))
        object.__setattr__(self, "closures", tuple(sorted(self.closures, key=_closure_key)))
        years = self.years
        if years is None:
            years = (
                range(min(self.holidays).year, max(self.holidays).year + 1)
                if self.holidays
                else range(0)
            )
        if years and (years.step != 1 or years.start < 1 or years.stop > 10_000):
            raise ValueError(f"years must be a plain range of years 1..9999, got {years}")
        object.__setattr__(self, "years", years)
        if not self.version:
            object.__setattr__(self, "version", "custom-" + _fingerprint(self._inputs()))

    def _inputs(self) -> dict[str, object]:
        return {
            "weeks": [_week_key(w) for w in self.weeks],
            "holidays": sorted(self.holidays.items()),
            "closures": [_closure_key(c) for c in self.closures],
            "province": self.province,
            "tz": self.tz.key,
        }

    # -- the rules, day by day ---------------------------------------------------------

    @cached_property
    def _week_starts(self) -> list[int]:
        return [w.effective_from.toordinal() for w in self.weeks]

    @cached_property
    def _closed_spans(self) -> tuple[tuple[int, int], ...]:
        return tuple(
            (c.start.toordinal(), c.end.toordinal())
            for c in self.closures
            if c.province is None or c.province == self.province
        )

    def week_on(self, day: date) -> WorkingWeek:
        """The working week in force on ``day``: the latest one that took effect by then."""
        return self.weeks[max(bisect_right(self._week_starts, day.toordinal()) - 1, 0)]

    def _is_open(self, day: date, week: WorkingWeek) -> bool:
        if day.weekday() not in week.working_days or day in self.holidays:
            return False
        o = day.toordinal()
        return not any(start <= o <= end for start, end in self._closed_spans)

    def is_business_day(self, d: date) -> bool:
        """True if ``d`` is a working weekday that is neither a holiday nor closed here."""
        return self._is_open(d, self.week_on(d))

    # -- the precomputed table ---------------------------------------------------------

    def _build(self, first: date, last: date) -> _Table:
        ords: list[int] = []
        opens: list[int] = []
        closes: list[int] = []
        cum = [0]
        cutoffs: list[time] = []
        closes_utc: list[datetime] = []
        for o in range(first.toordinal(), last.toordinal() + 1):
            day = date.fromordinal(o)
            week = self.week_on(day)
            if not self._is_open(day, week):
                continue
            open_us = _to_us(datetime.combine(day, week.opens, self.tz))
            close_at = datetime.combine(day, week.closes, self.tz).astimezone(UTC)
            close_us = _to_us(close_at)
            ords.append(o)
            opens.append(open_us)
            closes.append(close_us)
            cum.append(cum[-1] + close_us - open_us)
            cutoffs.append(week.cutoff)
            closes_utc.append(close_at)
        return _Table(
            first.toordinal(), last.toordinal(), ords, opens, closes, cum, cutoffs, closes_utc
        )

    @cached_property
    def _table(self) -> _Table:
        years = self.years or range(0)
        if not years:
            return self._build(date(2, 1, 1), date(1, 12, 31))  # empty: covers nothing
        return self._build(date(years.start, 1, 1), date(years.stop - 1, 12, 31))

    def _solve(self, first: date, need_days: int, fn: Callable[[_Table], _T | None]) -> _T:
        """Answer with the fast table, else with tables built forward from ``first``.

        ``fn`` returns None when the table ends before the answer; the span then doubles.
        """
        table = self._table
        span = max(_FIRST_SPAN_DAYS, 2 * need_days)
        if table.covers(first, first):
            answer = fn(table)
            if answer is not None:
                return answer
            span = max(span, 2 * (table.last - first.toordinal() + 1))
        while True:
            last = _shift(first, span)
            answer = fn(self._build(first, last))
            if answer is not None:
                return answer
            if last == date.max:
                raise OverflowError("no business day left before the end of the calendar")
            span *= 2

    def _spanning(self, first: date, last: date) -> _Table:
        table = self._table
        return table if table.covers(first, last) else self._build(first, last)

    def _local(self, instant: datetime, name: str) -> datetime:
        _require_aware(instant, name)
        return instant.astimezone(self.tz)

    # -- days --------------------------------------------------------------------------

    def next_business_day(self, d: date) -> date:
        """The first business day strictly after ``d``."""

        def find(t: _Table) -> date | None:
            k = bisect_right(t.ords, d.toordinal())
            return date.fromordinal(t.ords[k]) if k < len(t.ords) else None

        return self._solve(d, 1, find)

    def add_business_days(self, start: date, n: int) -> date:
        """The business day ``n`` business days after ``start`` (``start`` itself when n == 0).

        Counting starts after ``start``, so ``business_days_between(start, result) == n``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start

        def find(t: _Table) -> date | None:
            j = bisect_right(t.ords, start.toordinal()) + n - 1
            return date.fromordinal(t.ords[j]) if j < len(t.ords) else None

        return self._solve(start, n, find)

    def business_days_between(self, a: date, b: date) -> int:
        """How many business days fall after ``a`` up to and including ``b`` (0 if b <= a).

        This is "how many business days later is b", e.g. days past a deadline.
        """
        if b <= a:
            return 0
        t = self._spanning(a, b)
        return bisect_right(t.ords, b.toordinal()) - bisect_right(t.ords, a.toordinal())

    # -- instants ----------------------------------------------------------------------

    def deadline(self, received: datetime, business_days: int) -> datetime:
        """Close of business (UTC) on the Nth business day of an inquiry received then.

        Day 1 is the day of receipt if it is a business day and receipt (local time) is
        before the cutoff; otherwise day 1 is the next business day.
        """
        if business_days < 1:
            raise ValueError(f"business_days must be >= 1, got {business_days}")
        local = self._local(received, "received")
        day = local.date()
        o = day.toordinal()
        at = local.time()

        def find(t: _Table) -> datetime | None:
            k = bisect_left(t.ords, o)
            if k < len(t.ords) and t.ords[k] == o and not at < t.cutoffs[k]:
                k += 1  # received on a business day, but after its cutoff
            j = k + business_days - 1
            return t.closes_utc[j] if j < len(t.closes_utc) else None

        return self._solve(day, business_days, find)

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant (UTC) reached by working ``minutes`` business minutes from ``start``.

        Only working hours count; a start outside them snaps forward to the next opening. A
        sum that uses up a day exactly ends at that day's close, not the next opening.
        """
        if minutes < 0:
            raise ValueError(f"minutes must be >= 0, got {minutes}")
        budget = minutes * _US_PER_MINUTE
        if start.tzinfo is UTC:  # no local time needed inside the table
            table, us = self._table, _to_us(start)
            if table.lo <= us <= table.hi and (found := _added(table, us, budget)) is not None:
                return found
        local = self._local(start, "start")
        us = _to_us(start)
        return self._solve(local.date(), minutes // 240 + 1, lambda t: _added(t, us, budget))

    def business_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole business minutes in ``[a, b)`` (0 if b <= a), rounded down.

        Inverse of ``add_business_minutes``: ``between(s, add(s, m)) == m``.
        """
        if a.tzinfo is UTC and b.tzinfo is UTC:  # no local time needed inside the table
            table, ua, ub = self._table, _to_us(a), _to_us(b)
            if table.lo <= ua and ub <= table.hi:
                if ub <= ua:
                    return 0
                return (table.position(ub) - table.position(ua)) // _US_PER_MINUTE
        first = self._local(a, "a").date()
        last = self._local(b, "b").date()
        if b <= a:
            return 0
        t = self._spanning(first, last)
        return (t.position(_to_us(b)) - t.position(_to_us(a))) // _US_PER_MINUTE


def _official_holidays(years: range, language: str) -> dict[date, str]:
    found = holidays_package.country_holidays("IR", years=years, language=language)
    return {day: str(name) for day, name in found.items()}


def _apply_corrections(
    official: dict[date, str], corrections: tuple[HolidayCorrection, ...]
) -> dict[date, str]:
    """Remove every ``moved_from`` first, then add every ``moved_to``: order never matters."""
    fixed = dict(official)
    for c in corrections:
        if c.moved_from not in official:
            raise ValueError(
                f"correction moves {c.moved_from}, which is not an official holiday in "
                f"holidays {HOLIDAYS_VERSION} for these years; remove or fix the correction"
            )
        fixed.pop(c.moved_from, None)
    for c in corrections:
        if c.moved_to is not None:
            moved = f"{official[c.moved_from]} (moved from {c.moved_from.isoformat()}: {c.reason})"
            other = fixed.get(c.moved_to)
            fixed[c.moved_to] = f"{other}; {moved}" if other else moved
    return fixed


def _correction_key(c: HolidayCorrection) -> list[str]:
    return [c.moved_from.isoformat(), c.moved_to.isoformat() if c.moved_to else "", c.reason]


def iran_calendar(
    *,
    years: range,
    weekend: frozenset[int] = THU_FRI,
    closures: Iterable[Closure] = (),
    corrections: Iterable[HolidayCorrection] = (),
    province: str | None = None,
    opens: time = DEFAULT_OPENS,
    closes: time = DEFAULT_CLOSES,
    cutoff: time = DEFAULT_CUTOFF,
    extra_weeks: Iterable[WorkingWeek] = (),
    tz: ZoneInfo = TEHRAN,
    language: str = "en_US",
) -> BusinessCalendar:
    """Build an agency's calendar from Iran's official holidays (``holidays``, country IR).

    ``years`` should cover every deadline the calendar will compute; beyond the package's
    confirmed year the lunar holidays are estimates, hence ``corrections``. ``extra_weeks``
    are later working weeks (e.g. Thursday becomes a working day from a given date).
    """
    if not years or years.step != 1:
        raise ValueError(f"years must be a non-empty range with step 1, got {years}")
    closures = tuple(closures)
    corrections = tuple(corrections)
    base = WorkingWeek(date.min, working_days_from_weekend(weekend), opens, closes, cutoff)
    weeks = (base, *extra_weeks)
    table = _apply_corrections(_official_holidays(years, language), corrections)
    inputs = {
        "years": [years.start, years.stop],
        "weeks": sorted(_week_key(w) for w in weeks),
        "closures": sorted(_closure_key(c) for c in closures),
        "corrections": sorted(_correction_key(c) for c in corrections),
        "province": province,
        "tz": tz.key,
        "language": language,
    }
    return BusinessCalendar(
        weeks=weeks,
        holidays=table,
        closures=closures,
        province=province,
        tz=tz,
        version=f"IR-holidays-{HOLIDAYS_VERSION}-{_fingerprint(inputs)}",
        years=years,
    )
