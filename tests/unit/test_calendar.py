"""Iranian business time: named cases from the real 2026-2027 calendar and properties."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panjereh.sla.calendar import (
    FRI_ONLY,
    HOLIDAYS_VERSION,
    THU_FRI,
    BusinessCalendar,
    Closure,
    HolidayCorrection,
    WorkingWeek,
    iran_calendar,
    weekend_from_codes,
    working_days_from_weekend,
)

TEHRAN = ZoneInfo("Asia/Tehran")
YEARS = range(2025, 2029)
GOV = iran_calendar(years=YEARS)  # government office: weekend Thursday and Friday
CUSTOMS = iran_calendar(years=YEARS, weekend=FRI_ONLY)  # customs: weekend Friday only
WALK = dataclasses.replace(GOV, years=range(0))  # same rules, no fast table: always walks
PART = dataclasses.replace(GOV, years=range(2026, 2027))  # fast table runs out mid-query
DAY_MINUTES = 7 * 60  # 07:30 .. 14:30


def tehran(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TEHRAN)


def close_of(y: int, mo: int, d: int) -> datetime:
    return tehran(y, mo, d, 14, 30).astimezone(UTC)


def whole_day(cal: BusinessCalendar, day: date) -> int:
    start = datetime.combine(day, time(0), TEHRAN)
    return cal.business_minutes_between(start, start + timedelta(days=1))


# -- named cases -----------------------------------------------------------------------


def test_package_gives_the_dates_these_cases_rely_on() -> None:
    assert HOLIDAYS_VERSION == "0.108"
    nowruz_1405 = [date(2026, 3, d) for d in (21, 22, 23, 24)]
    nowruz_1406 = [date(2027, 3, d) for d in (21, 22, 23, 24)]
    for day in [*nowruz_1405, *nowruz_1406]:
        assert "Nowruz" in GOV.holidays[day]
    assert GOV.holidays[date(2026, 6, 24)] == "Tasua"
    assert GOV.holidays[date(2026, 6, 25)] == "Ashura"
    assert GOV.holidays[date(2027, 6, 15)] == "Tasua (estimated)"
    assert GOV.holidays[date(2027, 6, 16)] == "Ashura (estimated)"


@pytest.mark.parametrize(
    ("cal", "received", "days", "expected"),
    [
        # Tue 17 Mar 2026, before the cutoff: Tue, Wed, [Thu-Fri weekend, Nowruz Sat-Tue],
        # Wed 25, Sat 28, Sun 29.
        (GOV, tehran(2026, 3, 17, 10), 5, close_of(2026, 3, 29)),
        # Wed 18 Mar 2026 after the cutoff: next working day is after Nowruz.
        (GOV, tehran(2026, 3, 18, 14), 1, close_of(2026, 3, 25)),
        # Customs works Thursday 19 Mar (Friday 20 is Oil Nationalization Day anyway).
        (CUSTOMS, tehran(2026, 3, 18, 14), 1, close_of(2026, 3, 19)),
        # 1406: Wed 17 Mar 2027 before the cutoff; Sat 20 holiday, Nowruz Sun 21 - Wed 24.
        (GOV, tehran(2027, 3, 17, 12), 3, close_of(2027, 3, 28)),
        (CUSTOMS, tehran(2027, 3, 17, 12), 3, close_of(2027, 3, 25)),
    ],
)
def test_nowruz_filing(
    cal: BusinessCalendar, received: datetime, days: int, expected: datetime
) -> None:
    assert cal.deadline(received, days) == expected


@pytest.mark.parametrize(
    ("cal", "received", "expected"),
    [
        (GOV, tehran(2026, 5, 6, 13, 29), close_of(2026, 5, 6)),  # before cutoff: same day
        (GOV, tehran(2026, 5, 6, 13, 30), close_of(2026, 5, 9)),  # at cutoff: Saturday
        (GOV, tehran(2026, 5, 6, 14, 0), close_of(2026, 5, 9)),
        (CUSTOMS, tehran(2026, 5, 6, 14, 0), close_of(2026, 5, 7)),  # customs: Thursday
        (GOV, tehran(2026, 5, 6, 6, 0), close_of(2026, 5, 6)),  # before opening counts
        (GOV, tehran(2026, 5, 6, 20, 0), close_of(2026, 5, 9)),
    ],
)
def test_wednesday_cutoff_thu_fri_agency_vs_customs(
    cal: BusinessCalendar, received: datetime, expected: datetime
) -> None:
    assert cal.deadline(received, 1) == expected


def test_deadline_accepts_any_zone_and_returns_utc() -> None:
    received = tehran(2026, 5, 6, 10).astimezone(ZoneInfo("Europe/Berlin"))
    result = GOV.deadline(received, 1)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 5, 6, 11, 0, tzinfo=UTC)


def test_tasua_and_ashura_2026_are_closed_even_for_customs() -> None:
    for cal in (GOV, CUSTOMS):
        assert not cal.is_business_day(date(2026, 6, 24))
        assert not cal.is_business_day(date(2026, 6, 25))
        assert whole_day(cal, date(2026, 6, 24)) == 0
        assert cal.deadline(tehran(2026, 6, 23, 14), 1) == close_of(2026, 6, 27)
    # Mon 22 Jun 10:00 + 1000 minutes: 270 Mon + 420 Tue, then Sat 27 07:30 + 310.
    end = GOV.add_business_minutes(tehran(2026, 6, 22, 10), 1000)
    assert end == tehran(2026, 6, 27, 12, 40).astimezone(UTC)


def test_lunar_correction_moves_estimated_days() -> None:
    # The moon is sighted a day late in 1406: Tasua and Ashura each move one day later.
    corrections = (
        HolidayCorrection(date(2027, 6, 16), date(2027, 6, 17), "Ashura observed a day later"),
        HolidayCorrection(date(2027, 6, 15), date(2027, 6, 16), "Tasua observed a day later"),
    )
    fixed = iran_calendar(years=YEARS, weekend=FRI_ONLY, corrections=corrections)
    assert CUSTOMS.is_business_day(date(2027, 6, 17))  # Thursday, customs works
    assert fixed.is_business_day(date(2027, 6, 15))
    assert not fixed.is_business_day(date(2027, 6, 16))
    assert not fixed.is_business_day(date(2027, 6, 17))
    assert "Tasua" in fixed.holidays[date(2027, 6, 16)]
    assert "Ashura" in fixed.holidays[date(2027, 6, 17)]
    # Order of corrections does not matter, and the version names the inputs.
    again = iran_calendar(years=YEARS, weekend=FRI_ONLY, corrections=corrections[::-1])
    assert again.holidays == fixed.holidays
    assert again.version == fixed.version != CUSTOMS.version
    received = tehran(2027, 6, 14, 14)  # Monday after the cutoff
    assert CUSTOMS.deadline(received, 1) == close_of(2027, 6, 17)  # after both estimates
    assert fixed.deadline(received, 1) == close_of(2027, 6, 15)  # Tuesday is now open
    assert fixed.deadline(received, 2) == close_of(2027, 6, 19)


def test_correction_can_drop_a_day_and_a_closure_can_add_one() -> None:
    dropped = iran_calendar(
        years=YEARS, corrections=[HolidayCorrection(date(2027, 6, 15), None, "not observed")]
    )
    assert dropped.is_business_day(date(2027, 6, 15))
    extra = iran_calendar(
        years=YEARS, closures=[Closure(date(2027, 6, 13), date(2027, 6, 13), "extra mourning day")]
    )
    assert not extra.is_business_day(date(2027, 6, 13))


def test_correction_of_a_day_that_is_no_holiday_is_refused() -> None:
    with pytest.raises(ValueError, match="not an official holiday"):
        iran_calendar(years=YEARS, corrections=[HolidayCorrection(date(2027, 6, 14), None, "x")])


def test_provincial_closure_only_closes_that_province() -> None:
    heat = Closure(date(2026, 7, 12), date(2026, 7, 13), "heat closure", province="IR-06")
    khuzestan = iran_calendar(years=YEARS, closures=[heat], province="IR-06")
    fars = iran_calendar(years=YEARS, closures=[heat], province="IR-07")
    national = iran_calendar(years=YEARS, closures=[heat])
    assert not khuzestan.is_business_day(date(2026, 7, 12))
    assert fars.is_business_day(date(2026, 7, 12))
    assert national.is_business_day(date(2026, 7, 12))
    received = tehran(2026, 7, 11, 9)  # Saturday
    assert national.deadline(received, 2) == close_of(2026, 7, 12)
    assert khuzestan.deadline(received, 2) == close_of(2026, 7, 14)
    assert len({khuzestan.version, fars.version, national.version, GOV.version}) == 4


def test_national_closure_closes_every_province() -> None:
    energy = Closure(date(2026, 7, 12), date(2026, 7, 12), "energy saving")
    cal = iran_calendar(years=YEARS, closures=[energy], province="IR-23")
    assert not cal.is_business_day(date(2026, 7, 12))


def test_working_week_change_from_an_effective_date() -> None:
    # Thursday becomes a working day, with longer hours, from 1 Sep 2026.
    thursdays = WorkingWeek(
        date(2026, 9, 1), working_days_from_weekend(FRI_ONLY), closes=time(15, 30)
    )
    cal = iran_calendar(years=YEARS, extra_weeks=[thursdays])
    assert not cal.is_business_day(date(2026, 8, 27))
    assert cal.is_business_day(date(2026, 9, 3))
    assert cal.deadline(tehran(2026, 8, 26, 14), 1) == close_of(2026, 8, 29)
    assert cal.deadline(tehran(2026, 9, 2, 14), 1) == tehran(2026, 9, 3, 15, 30).astimezone(UTC)
    assert whole_day(cal, date(2026, 8, 29)) == DAY_MINUTES
    assert whole_day(cal, date(2026, 9, 5)) == DAY_MINUTES + 60


def test_day_helpers() -> None:
    assert GOV.next_business_day(date(2026, 5, 6)) == date(2026, 5, 9)
    assert CUSTOMS.next_business_day(date(2026, 5, 6)) == date(2026, 5, 7)
    assert GOV.add_business_days(date(2026, 5, 6), 0) == date(2026, 5, 6)
    assert GOV.add_business_days(date(2026, 5, 6), 2) == date(2026, 5, 10)
    assert GOV.business_days_between(date(2026, 5, 6), date(2026, 5, 10)) == 2
    assert GOV.business_days_between(date(2026, 5, 10), date(2026, 5, 6)) == 0
    assert GOV.week_on(date(2026, 5, 6)).working_days == frozenset({5, 6, 0, 1, 2})


def test_add_business_minutes_snaps_and_lands_on_close() -> None:
    friday = tehran(2026, 5, 8, 10)
    assert GOV.add_business_minutes(friday, 0) == tehran(2026, 5, 9, 7, 30).astimezone(UTC)
    opening = tehran(2026, 5, 9, 7, 30)
    assert GOV.add_business_minutes(opening, DAY_MINUTES) == close_of(2026, 5, 9)
    assert GOV.add_business_minutes(opening, DAY_MINUTES + 1) == tehran(2026, 5, 10, 7, 31)


def test_minutes_round_down_to_whole_minutes() -> None:
    a = tehran(2026, 5, 9, 8) + timedelta(seconds=30)
    assert GOV.business_minutes_between(a, a + timedelta(seconds=59)) == 0
    assert GOV.business_minutes_between(a, a + timedelta(seconds=90)) == 1


def test_far_dates_walk_day_by_day_with_the_same_rules() -> None:
    received = tehran(2031, 1, 7, 10)  # outside the precomputed years: no holidays known
    result = GOV.deadline(received, 3)
    assert result.astimezone(TEHRAN).time() == time(14, 30)
    assert GOV.business_days_between(date(2031, 1, 6), result.date()) == 3


def test_version_identifies_inputs() -> None:
    assert GOV.version.startswith(f"IR-holidays-{HOLIDAYS_VERSION}-")
    assert iran_calendar(years=YEARS).version == GOV.version
    assert CUSTOMS.version != GOV.version
    a = Closure(date(2026, 7, 1), date(2026, 7, 2), "a")
    b = Closure(date(2026, 8, 1), date(2026, 8, 1), "b")
    assert (
        iran_calendar(years=YEARS, closures=[a, b]).version
        == iran_calendar(years=YEARS, closures=[b, a]).version
    )
    custom = BusinessCalendar(weeks=(WorkingWeek(date.min, frozenset({0, 1})),))
    assert custom.version.startswith("custom-")


def test_weekend_codes() -> None:
    assert weekend_from_codes("THU FRI") == THU_FRI
    assert weekend_from_codes("fri") == FRI_ONLY
    assert working_days_from_weekend(THU_FRI) == frozenset({5, 6, 0, 1, 2})
    with pytest.raises(ValueError, match="unknown weekday"):
        weekend_from_codes("THU FRIDAY")


@pytest.mark.parametrize(
    "build",
    [
        lambda: Closure(date(2026, 7, 2), date(2026, 7, 1), "heat"),
        lambda: Closure(date(2026, 7, 1), date(2026, 7, 1), " "),
        lambda: Closure(date(2026, 7, 1), date(2026, 7, 1), "heat", province="IR-31"),
        lambda: WorkingWeek(date.min, frozenset()),
        lambda: WorkingWeek(date.min, THU_FRI, opens=time(15)),
        lambda: WorkingWeek(date.min, THU_FRI, cutoff=time(15)),
        lambda: WorkingWeek(date.min, THU_FRI, opens=time(7, 30, 5)),
        lambda: HolidayCorrection(date(2026, 1, 1), date(2026, 1, 1), "same"),
        lambda: GOV.deadline(datetime(2026, 5, 6, 10), 1),
        lambda: GOV.deadline(tehran(2026, 5, 6), 0),
        lambda: GOV.add_business_minutes(tehran(2026, 5, 6), -1),
        lambda: iran_calendar(years=range(0)),
    ],
)
def test_bad_input_is_refused(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError):
        build()


# -- properties ------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 6, 30), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 6, 30))
minutes = st.integers(min_value=0, max_value=40 * DAY_MINUTES)
calendars = st.sampled_from([GOV, CUSTOMS])


@given(calendars, instants, instants, minutes)
def test_adding_is_monotonic_in_the_start(
    cal: BusinessCalendar, s1: datetime, s2: datetime, m: int
) -> None:
    s1, s2 = min(s1, s2), max(s1, s2)
    assert cal.add_business_minutes(s1, m) <= cal.add_business_minutes(s2, m)


@given(calendars, instants, minutes, minutes)
def test_adding_is_monotonic_in_the_amount(
    cal: BusinessCalendar, s: datetime, m1: int, m2: int
) -> None:
    m1, m2 = min(m1, m2), max(m1, m2)
    assert s <= cal.add_business_minutes(s, m1) <= cal.add_business_minutes(s, m2)


@given(calendars, instants, minutes)
def test_add_then_measure_returns_what_was_added(
    cal: BusinessCalendar, s: datetime, m: int
) -> None:
    assert cal.business_minutes_between(s, cal.add_business_minutes(s, m)) == m


@given(calendars, instants, minutes, minutes)
def test_adding_composes(cal: BusinessCalendar, s: datetime, m1: int, m2: int) -> None:
    once = cal.add_business_minutes(s, m1 + m2)
    assert cal.add_business_minutes(cal.add_business_minutes(s, m1), m2) == once


@given(calendars, days)
def test_closed_days_never_count(cal: BusinessCalendar, day: date) -> None:
    expected = DAY_MINUTES if cal.is_business_day(day) else 0
    assert whole_day(cal, day) == expected
    if day in cal.holidays or day.weekday() not in cal.week_on(day).working_days:
        assert whole_day(cal, day) == 0


@given(calendars, st.sampled_from(sorted(GOV.holidays)))
def test_holidays_never_count(cal: BusinessCalendar, day: date) -> None:
    assert not cal.is_business_day(day)
    assert whole_day(cal, day) == 0


@given(calendars, instants, st.integers(min_value=1, max_value=60))
def test_deadline_is_close_of_the_nth_business_day(
    cal: BusinessCalendar, received: datetime, n: int
) -> None:
    result = cal.deadline(received, n)
    local = result.astimezone(TEHRAN)
    assert result.tzinfo is UTC
    assert result > received
    assert cal.is_business_day(local.date())
    assert local.time() == cal.week_on(local.date()).closes
    day = received.astimezone(TEHRAN)
    counts_today = cal.is_business_day(day.date()) and day.time() < time(13, 30)
    before_day_1 = day.date() - timedelta(days=1) if counts_today else day.date()
    assert cal.business_days_between(before_day_1, local.date()) == n


@settings(max_examples=40)
@given(
    instants,
    st.integers(min_value=1, max_value=30),
    days,
    st.integers(min_value=0, max_value=10),
    st.sampled_from([None, "IR-23", "IR-07"]),
)
def test_a_closure_never_brings_a_deadline_earlier(
    received: datetime, n: int, start: date, length: int, province: str | None
) -> None:
    closure = Closure(start, start + timedelta(days=length), "heat", province=province)
    base = dataclasses.replace(GOV, province="IR-23", version="")
    closed = dataclasses.replace(base, closures=(closure,), version="")
    assert closed.deadline(received, n) >= base.deadline(received, n)
    assert closed.version != base.version


@given(calendars, days, st.integers(min_value=0, max_value=60))
def test_adding_days_then_counting_them(cal: BusinessCalendar, start: date, n: int) -> None:
    end = cal.add_business_days(start, n)
    assert cal.business_days_between(start, end) == n
    if n:
        assert cal.is_business_day(end)


@settings(max_examples=50)
@given(
    st.sampled_from([WALK, PART]),
    instants,
    instants,
    minutes,
    st.integers(min_value=1, max_value=30),
)
def test_walk_agrees_with_the_fast_table(
    slow: BusinessCalendar, a: datetime, b: datetime, m: int, n: int
) -> None:
    assert slow.version == GOV.version
    assert slow.deadline(a, n) == GOV.deadline(a, n)
    assert slow.add_business_minutes(a, m) == GOV.add_business_minutes(a, m)
    assert slow.business_minutes_between(a, b) == GOV.business_minutes_between(a, b)
    assert slow.next_business_day(a.date()) == GOV.next_business_day(a.date())
    assert slow.add_business_days(a.date(), n) == GOV.add_business_days(a.date(), n)
    assert slow.business_days_between(a.date(), b.date()) == GOV.business_days_between(
        a.date(), b.date()
    )
