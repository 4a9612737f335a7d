"""The dashboard's pure parts: histogram bins and percentiles, periods and their pieces, how a
replay runs, and the national generator's ISO text."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panjereh.dashboard import histogram, national, periods, projector
from panjereh.dashboard.projector import normalise_reason
from panjereh.sla.calendar import TEHRAN


def test_bins_cover_every_duration_and_are_at_most_a_tenth_wide() -> None:
    assert histogram.BOUNDS[0] == 0 and list(histogram.BOUNDS) == sorted(set(histogram.BOUNDS))
    for i in range(11, histogram.BINS - 1):
        low, high = histogram.bin_range(i)
        assert high is not None and high - low <= max(1, low // 10)
    for minutes in (0, 1, 10, 11, 12, 419, 420, 421, 10_000, 10_000_000, 99_999_999):
        low, high = histogram.bin_range(histogram.bin_of(minutes))
        assert low <= minutes and (high is None or minutes < high)
    assert histogram.bin_of(-5) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2_000_000), min_size=1, max_size=300))
def test_a_percentile_names_the_bin_of_the_exact_value(values: list[int]) -> None:
    hist: dict[int, int] = {}
    for v in values:
        b = histogram.bin_of(v)
        hist[b] = hist.get(b, 0) + 1
    assert histogram.decode(histogram.encode(hist)) == hist
    dense = [0] * histogram.BINS
    histogram.add_into(dense, histogram.encode(hist))
    ordered = sorted(values)
    for fraction in (0.5, 0.9):
        exact = ordered[histogram.exact_rank(len(values), fraction) - 1]
        found = histogram.percentile(dense, fraction)
        assert found is not None and found.low <= exact
        assert found.high is None or exact < found.high
    assert histogram.percentile([0] * histogram.BINS, 0.5) is None


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
def test_a_period_splits_into_disjoint_pieces_that_cover_it_exactly(
    first: date, length: int
) -> None:
    period = periods.Period(first.toordinal(), first.toordinal() + length)
    covered: list[int] = []
    for grain, value in periods.split(period):
        if grain == "d":
            covered.append(value)
        elif grain == "w":
            assert date.fromordinal(value).weekday() == periods.SATURDAY
            covered.extend(range(value, value + 7))
        elif grain == "m":
            low, high = periods.gregorian_month_days(value)
            covered.extend(range(low, high + 1))
        else:
            assert grain == "j"
            low, high = periods.jalali_month_days(value)
            covered.extend(range(low, high + 1))
    assert sorted(covered) == list(range(period.first, period.last + 1))
    pieces = periods.split(period)
    runs = list(periods.runs(pieces))
    assert sum(1 for _ in runs) <= len(pieces)
    assert len(pieces) <= 2 * (6 + 4) + length // 28 + 1


def test_days_weeks_and_months_of_a_day() -> None:
    day = date(2026, 11, 21).toordinal()  # Saturday 30 Aban 1405
    assert periods.periods_of(day) == (
        ("d", day),
        ("w", day),
        ("m", 202611),
        ("j", 140508),
        ("a", 0),
    )
    assert periods.jalali_label(140508, "fa") == "آبان ۱۴۰۵"
    assert periods.jalali_label(140508, "en") == "Aban 1405"
    first, last = periods.jalali_month_days(140512)
    assert date.fromordinal(first) == date(2027, 2, 20) and last - first + 1 == 29


def test_reasons_are_counted_once_however_they_are_typed() -> None:
    assert normalise_reason("Lab test failed: batch 12.") == normalise_reason(
        "lab  test FAILED - batch ۷"
    )
    assert normalise_reason("  ") == ""


def test_a_replay_runs_without_the_cycle_collector_and_gives_it_back() -> None:
    assert gc.isenabled()
    with projector.without_cycle_collector():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), projector.without_cycle_collector():
        raise RuntimeError("a failed replay")
    assert gc.isenabled()
    gc.disable()  # whoever turned it off before keeps it off
    try:
        with projector.without_cycle_collector():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, TEHRAN, timezone(timedelta(hours=-5))]),
    )
)
def test_the_national_generators_iso_text_is_isoformats(instant: datetime) -> None:
    assert national._iso(instant) == instant.isoformat()
    assert national._iso(instant) == instant.isoformat()  # the second time from its caches
