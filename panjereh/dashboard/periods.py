"""Periods of the dashboard: Tehran days, Saturday weeks, Gregorian and Jalali months, years.

Aggregates are kept per Tehran day and rolled up per Saturday-to-Friday week, Gregorian
month, Jalali month and over all time. A period the caller asks for is split into the fewest
such pieces (a whole month or week where one fits, else single days), so reading any period
costs a few dozen rows per group at most, whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

import jdatetime

from panjereh.formatting import JALALI_MONTHS
from panjereh.sla.calendar import TEHRAN

Grain = Literal["d", "w", "m", "j", "a"]
"""Day, week (from Saturday), Gregorian month, Jalali month, all time."""
GRAINS: tuple[Grain, ...] = ("d", "w", "m", "j", "a")
SATURDAY = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE, _HALF_HOUR = timedelta(minutes=1), timedelta(minutes=30)  # made once, not per call


JALALI_MONTHS_EN = (
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
)


def epoch_minutes(instant: datetime) -> int:
    """Whole minutes since 1970-01-01 UTC (the unit of stored instants and durations)."""
    return (instant - _EPOCH) // _MINUTE


def tehran_day(instant: datetime) -> int:
    """The date ordinal of ``instant`` in Tehran (Tehran's offsets are whole half hours, so
    the day is cached per UTC half hour)."""
    return _day_of_half_hour((instant - _EPOCH) // _HALF_HOUR)


@lru_cache(maxsize=131072)
def _day_of_half_hour(half_hours: int) -> int:
    start = _EPOCH + timedelta(minutes=30 * half_hours)
    return start.astimezone(TEHRAN).date().toordinal()


def day_of_minute(minutes: int) -> int:
    """The Tehran date ordinal of an instant given in epoch minutes."""
    return _day_of_half_hour(minutes // 30)


@lru_cache(maxsize=8192)
def midnight_minutes(day: int) -> int:
    """Epoch minutes of the start of a Tehran day (a date ordinal)."""
    local = datetime.combine(date.fromordinal(day), time(0), TEHRAN)
    return epoch_minutes(local.astimezone(UTC))


@lru_cache(maxsize=8192)
def jalali_month(day: int) -> int:
    """The Jalali month of a date ordinal as ``year * 100 + month``."""
    j = jdatetime.date.fromgregorian(date=date.fromordinal(day))
    return int(j.year) * 100 + int(j.month)


def gregorian_month(day: int) -> int:
    """The Gregorian month of a date ordinal as ``year * 100 + month``."""
    d = date.fromordinal(day)
    return d.year * 100 + d.month


def week_start(day: int) -> int:
    """The Saturday that starts the (Iranian) week of a date ordinal."""
    return day - (date.fromordinal(day).weekday() - SATURDAY) % 7


@lru_cache(maxsize=8192)
def periods_of(day: int) -> tuple[tuple[Grain, int], ...]:
    """Every rollup a day belongs to: itself, its week, months and all time."""
    return (
        ("d", day),
        ("w", week_start(day)),
        ("m", gregorian_month(day)),
        ("j", jalali_month(day)),
        ("a", 0),
    )


@lru_cache(maxsize=4096)
def jalali_month_days(month: int) -> tuple[int, int]:
    """First and last date ordinals of a Jalali month (``year * 100 + month``)."""
    year, number = divmod(month, 100)
    first = jdatetime.date(year, number, 1).togregorian()
    if number == 12:
        following = jdatetime.date(year + 1, 1, 1).togregorian()
    else:
        following = jdatetime.date(year, number + 1, 1).togregorian()
    return first.toordinal(), following.toordinal() - 1


def gregorian_month_days(month: int) -> tuple[int, int]:
    """First and last date ordinals of a Gregorian month (``year * 100 + month``)."""
    year, number = divmod(month, 100)
    first = date(year, number, 1)
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return first.toordinal(), following.toordinal() - 1


@dataclass(frozen=True, slots=True)
class Period:
    """Tehran days ``first`` .. ``last`` (date ordinals, inclusive); ``all_time`` reads the
    all-time rollup instead of splitting (the full history)."""

    first: int
    last: int
    all_time: bool = False

    @property
    def days(self) -> int:
        return self.last - self.first + 1

    def start_minutes(self) -> int:
        """Epoch minutes at the start of the first day (1970 for all time)."""
        if self.all_time:
            return 0
        return midnight_minutes(self.first)

    def end_minutes(self) -> int:
        """Epoch minutes at the end of the last day."""
        return midnight_minutes(self.last + 1)

    def label(self) -> str:
        """ISO dates of the period."""
        if self.all_time:
            return "all"
        return (
            f"{date.fromordinal(self.first).isoformat()}/{date.fromordinal(self.last).isoformat()}"
        )


def split(period: Period) -> list[tuple[Grain, int]]:
    """The fewest rollup pieces that cover ``period`` exactly: the whole (Gregorian or
    Jalali) months inside it, and weeks and days for the stretches before and after."""
    if period.all_time:
        return [("a", 0)]
    best = _weeks_and_days(period.first, period.last)
    for jalali in (False, True):
        candidate = _months_between(period.first, period.last, jalali=jalali)
        if candidate is not None and len(candidate) < len(best):
            best = candidate
    return best


def _months_between(first: int, last: int, *, jalali: bool) -> list[tuple[Grain, int]] | None:
    """Whole months of one calendar inside [first, last], weeks and days around them."""
    month_of_day = jalali_month if jalali else gregorian_month
    days_of = jalali_month_days if jalali else gregorian_month_days
    month = month_of_day(first)
    start, end = days_of(month)
    if start != first:
        month = _next_month(month)
        start, end = days_of(month)
    months: list[tuple[Grain, int]] = []
    begin = start
    while end <= last:
        months.append(("j" if jalali else "m", month))
        month = _next_month(month)
        start, end = days_of(month)
    if not months:
        return None
    return [
        *_weeks_and_days(first, begin - 1),
        *months,
        *_weeks_and_days(start, last),
    ]


def _weeks_and_days(first: int, last: int) -> list[tuple[Grain, int]]:
    """Days up to the first Saturday, whole weeks, then days."""
    pieces: list[tuple[Grain, int]] = []
    day = first
    while day <= last:
        if date.fromordinal(day).weekday() == SATURDAY and day + 6 <= last:
            pieces.append(("w", day))
            day += 7
        else:
            pieces.append(("d", day))
            day += 1
    return pieces


def runs(pieces: list[tuple[Grain, int]]) -> Iterator[tuple[Grain, int, int]]:
    """Pieces grouped as ``(grain, low, high)`` runs of consecutive periods (for SQL ranges)."""
    by_grain: dict[Grain, list[int]] = {}
    for grain, value in pieces:
        by_grain.setdefault(grain, []).append(value)
    for grain, values in by_grain.items():
        values.sort()
        step = 7 if grain == "w" else 1
        low = high = values[0]
        for value in values[1:]:
            if grain in ("m", "j"):
                consecutive = value == _next_month(high)
            else:
                consecutive = value == high + step
            if consecutive:
                high = value
            else:
                yield grain, low, high
                low = high = value
        yield grain, low, high


def _next_month(month: int) -> int:
    year, number = divmod(month, 100)
    return (year + 1) * 100 + 1 if number == 12 else month + 1


def last_days(today: int, count: int) -> Period:
    """The ``count`` days ending with ``today``."""
    return Period(today - count + 1, today)


def month_of(day: int, *, jalali: bool) -> Period:
    """The Gregorian or Jalali month containing ``day``."""
    if jalali:
        return Period(*jalali_month_days(jalali_month(day)))
    return Period(*gregorian_month_days(gregorian_month(day)))


def week_of(day: int) -> Period:
    """The Saturday-to-Friday week containing ``day``."""
    start = week_start(day)
    return Period(start, start + 6)


def year_of(day: int, *, jalali: bool) -> Period:
    """The Gregorian or Jalali year containing ``day``."""
    if jalali:
        year = jalali_month(day) // 100
        return Period(jalali_month_days(year * 100 + 1)[0], jalali_month_days(year * 100 + 12)[1])
    d = date.fromordinal(day)
    return Period(date(d.year, 1, 1).toordinal(), date(d.year, 12, 31).toordinal())


def jalali_label(month: int, lang: str) -> str:
    """A Jalali month as words: ``آبان ۱۴۰۵`` in Persian, ``Aban 1405`` in English."""
    year, number = divmod(month, 100)
    if lang == "fa":
        digits = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
        return f"{JALALI_MONTHS[number - 1]} {str(year).translate(digits)}"
    return f"{JALALI_MONTHS_EN[number - 1]} {year}"
