"""The dashboard's pure parts: histogram bins and percentiles, periods and their pieces, how a
replay runs, and the national generator's ISO text."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panjereh.dashboard import histogram, national, periods, projector
from panjereh.dashboard.models import MEASURES
from panjereh.dashboard.projector import ALL, GOODS, normalise_reason
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


def _nine_groups(key: projector.FineKey) -> list[tuple[str, str, str]]:
    """Every rollup group a finest group adds to, as the dashboard defines them: the nation's
    whole and its groups by province, office and HS chapter; for an agency's inquiries also the
    agency's whole and its groups by inquiry type, province, office and chapter."""
    agency, kind, province, office, chapter = key
    groups = [("all", ALL, ALL), ("province", ALL, province), ("office", ALL, office),
              ("chapter", ALL, chapter)]  # fmt: skip
    if agency != GOODS:
        groups += [("all", agency, ALL), ("type", agency, kind), ("province", agency, province),
                   ("office", agency, office), ("chapter", agency, chapter)]  # fmt: skip
    return groups


_CELL = st.tuples(
    st.tuples(
        st.sampled_from([GOODS, "IVO", "IRISI", "FDA"]),
        st.sampled_from(["A", "B"]),
        st.sampled_from(["IR-01", "IR-23"]),
        st.sampled_from(["BUSH", "IKIA", "SHRJ"]),
        st.sampled_from(["01", "84", "--"]),
    ),
    st.integers(min_value=20_000, max_value=20_003),  # the day
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        _CELL,
        st.tuples(
            st.lists(st.integers(0, 10**9), min_size=len(MEASURES), max_size=len(MEASURES)),
            st.dictionaries(st.integers(0, histogram.BINS - 1), st.integers(1, 5), max_size=3),
        ),
        max_size=40,
    )
)
def test_a_days_cells_add_up_to_the_groups_they_belong_to(
    cells: dict[tuple[projector.FineKey, int], tuple[list[int], dict[int, int]]],
) -> None:
    # The projector gathers cells in two steps (an agency's groups first); the sums are those
    # of each cell added into every group it belongs to.
    batch = projector._Batch.__new__(projector._Batch)
    batch.cells = {}
    for (key, day), (measures, hist) in cells.items():
        acc = projector._Acc()
        acc.measures, acc.hists = list(measures), [dict(hist), {}, dict(hist)]
        batch.cells[(key, day)] = acc
    expected: dict[tuple[str, str, str, int], list[projector._Acc]] = {}
    for (key, day), acc in batch.cells.items():
        for dimension, agency, value in _nine_groups(key):
            expected.setdefault((dimension, agency, value, day), []).append(acc)

    def sums(groups: dict[Any, list[projector._Acc]]) -> dict[Any, tuple[Any, ...]]:
        totals = {group: projector._Acc.total(parts) for group, parts in groups.items()}
        return {group: (t.measures, t.hists) for group, t in totals.items()}

    assert sums(batch._day_groups()) == sums(expected)


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


def test_adoption_is_added_up_by_role_and_by_province() -> None:
    from decimal import Decimal

    from panjereh.dashboard.queries import added_up

    def accounts(province: str, role: str, users: int) -> dict[str, object]:
        return {"province": province, "role": role, "users": users}

    def signed(province: str, role: str, users: int, now: int, before: int) -> dict[str, object]:
        return {
            "province": province,
            "role": role,
            "active_users_recent": users,
            "sign_ins_recent": now,
            "sign_ins_year_before": before,
        }

    figures = {
        "groups": [accounts("IR-22", "trader", 5), accounts("IR-23", "trader", 3),
                   accounts("IR-23", "officer", 2), accounts("", "supervisor", 1)],
        "sign_ins": {"groups": [signed("IR-22", "trader", 2, 10, 4),
                                signed("IR-23", "trader", 1, 2, 2),
                                signed("IR-23", "officer", 2, 9, 0)]},
    }  # fmt: skip
    by_role = added_up(figures["groups"], figures["sign_ins"]["groups"], "role")
    by_province = added_up(figures["groups"], figures["sign_ins"]["groups"], "province")
    roles = {r["key"]: r for r in by_role}
    assert [r["key"] for r in by_role] == ["trader", "officer", "supervisor"]
    assert (roles["trader"]["users"], roles["trader"]["active_users_recent"]) == (8, 3)
    assert (roles["trader"]["sign_ins_recent"], roles["trader"]["sign_ins_year_before"]) == (12, 6)
    assert roles["trader"]["growth"] == Decimal("1")  # 12 against 6: doubled
    assert roles["officer"]["growth"] is None and roles["supervisor"]["sign_ins_recent"] == 0
    provinces = {r["key"]: r for r in by_province}
    assert provinces["IR-23"]["users"] == 5 and provinces["IR-23"]["sign_ins_recent"] == 11
    assert provinces["IR-23"]["growth"] == Decimal("4.5")  # 11 against 2
    assert provinces[""]["users"] == 1
