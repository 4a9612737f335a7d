"""The national dashboard in a real browser: a supervisor reads the league table (coloured by
on-time rate, sorted by clicking a column), the trend chart drawn by Chart.js, Jalali periods
and Persian digits, drills down to an agency's overdue inquiries, and switches to English;
no script error and no Content-Security-Policy violation on the way."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jdatetime
import pytest

from panjereh.auth.models import Role
from panjereh.clock import SystemClock
from panjereh.formatting import persian_digits, plain_number
from panjereh.sla.calendar import TEHRAN
from tests.e2e.server import LiveServer, assets_ready, history_store, live_server

# What the trend chart holds and whether it is drawn: the chart Chart.js keeps for the canvas,
# and how many of the canvas's pixels were painted.
_CHART = """() => {
  const canvas = document.querySelector("canvas.dashboard-chart");
  const chart = window.Chart && Chart.getChart(canvas);
  if (!chart) { return null; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) { painted++; } }
  return {
    labels: chart.data.labels.length,
    datasets: chart.data.datasets.map((d) => d.label),
    received: chart.data.datasets[0].data.reduce((a, b) => a + b, 0),
    painted: painted,
    locale: chart.options.locale,
    reversed: chart.options.scales.x.reverse,
  };
}"""


@pytest.fixture(scope="module")
def server(
    chromium_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server over six weeks of demo history, projected into the dashboard, with a national
    supervisor (this module's own: the session's server has no history)."""
    assets_ready()
    clock = SystemClock()
    path = tmp_path_factory.mktemp("e2e-dashboard") / "panjereh.db"
    supervisor = [("sup-e2e", Role.SUPERVISOR, None, "ناظر ملی")]
    url = history_store(path, supervisor, clock=clock, declarations=120, days=42, pulling=("INSO",))
    with live_server(url) as running:
        yield running


def _watch(page: Any) -> list[str]:
    """Script errors and console errors (CSP violations among them) from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _chart(page: Any) -> dict[str, Any]:
    page.wait_for_function(f"({_CHART})() !== null")
    chart: dict[str, Any] = page.evaluate(_CHART)
    return chart


def _today() -> jdatetime.date:
    """Today in Tehran, Jalali, with Persian names (jdatetime's, not the code under test's)."""
    return jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date(), locale="fa_IR")


def _number(text: str) -> int:
    return int(plain_number(text))


def _column(page: Any, index: int) -> list[int]:
    """The league table's numbers in one column (``index`` counts the row's cells, td only)."""
    cells = page.locator(f"table.league tbody tr td:nth-of-type({index})").all_inner_texts()
    return [_number(c) for c in cells]


def test_the_supervisor_reads_the_national_dashboard_in_a_browser(
    server: LiveServer, signed_in: Callable[..., Any]
) -> None:
    page = signed_in("sup-e2e")
    errors = _watch(page)
    page.goto(f"{server.url}/dashboard")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "داشبورد ملی"
    fresh = page.locator(".dashboard-fresh")  # the whole log projected: no warning
    assert "ارقام تا" in fresh.inner_text() and "is-behind" not in fresh.get_attribute("class")
    received = page.locator(".dashboard-cards .stat .figure").first.inner_text()
    assert re.fullmatch(r"[۰-۹٬]+", received) and _number(received)
    rate = page.locator(".dashboard-cards .stat .figure").nth(2).inner_text()
    assert re.fullmatch(r"[۰-۹]+٫[۰-۹]٪", rate)  # the Persian decimal separator and percent

    chart = _chart(page)
    assert chart["labels"] >= 5 and chart["received"] > 0 and chart["painted"] > 1000
    assert chart["locale"] == "fa-IR" and chart["reversed"] is True  # time runs right to left
    labels = page.locator("canvas.dashboard-chart")
    assert chart["datasets"] == [
        labels.get_attribute("data-label-received"),
        labels.get_attribute("data-label-on-time"),
        labels.get_attribute("data-label-wait"),
    ]
    assert all(re.search("[\u0600-\u06ff]", label) for label in chart["datasets"])

    rows = page.locator("table.league tbody tr")
    assert rows.count() >= 8
    colours = page.evaluate(
        """() => [...document.querySelectorAll("table.league tbody tr")].map(
             (tr) => [tr.className.split(" ")[0], getComputedStyle(tr).backgroundColor])"""
    )
    by_class: dict[str, set[str]] = {}
    for name, colour in colours:
        by_class.setdefault(name, set()).add(colour)
    assert len(by_class) >= 2, by_class  # the demo's agencies are not all alike
    assert all(len(c) == 1 for c in by_class.values())  # one colour per band of on-time rate
    assert len({c for cs in by_class.values() for c in cs}) == len(by_class)  # each its own

    periods = page.locator("#period option").all_inner_texts()
    today = _today()
    assert persian_digits(today.strftime("%B %Y")) in periods  # this Jalali month, by name

    page.click("table.league thead a[href*='sort=received&']")
    page.wait_for_url(re.compile(r"sort=received&order=asc"))
    assert page.locator("th[aria-sort=ascending]").inner_text() == "دریافتی"
    assert _column(page, 1) == sorted(_column(page, 1))
    page.click("table.league thead a[href*='sort=received&']")
    page.wait_for_url(re.compile(r"sort=received&order=desc"))
    assert _column(page, 1) == sorted(_column(page, 1), reverse=True)

    adoption = page.locator("#adoption")
    assert _number(adoption.locator(".stat .figure").first.inner_text()) >= 1
    # The demo's supervisor acts in no event: the sign-in through the form, just now, counts.
    supervisors = adoption.locator("table.adoption-role tr[data-key=supervisor] td")
    assert _number(supervisors.nth(2).inner_text()) >= 1
    signed = [
        _number(t)
        for t in adoption.locator("table.adoption-role td:nth-of-type(3)").all_inner_texts()
    ]
    assert sum(signed) >= 1
    inso = page.locator("#delivery table.delivery tbody tr", has_text="INSO")  # connected, pulls
    assert "rate-fair" in inso.get_attribute("class")  # messages waiting, none given up
    cells = inso.locator("td").all_inner_texts()
    assert cells[0] == "pull" and _number(cells[3]) == _number(cells[1]) > 0  # none taken in
    years = persian_digits(f"({today.year}|{today.year - 1})")  # 42 days of history
    assert re.search(rf"[۰-۹]+ \S+ {years}", cells[5])  # the oldest waiting, a Jalali date

    page.select_option("#period", "all")
    page.click(".dashboard-period button[type=submit]")
    page.wait_for_url(re.compile(r"period=all"))
    page.click("table.league thead a[href*='sort=overdue_now&']")
    page.wait_for_url(re.compile(r"sort=overdue_now&order=asc"))
    page.click("table.league thead a[href*='sort=overdue_now&']")  # most overdue first
    page.wait_for_url(re.compile(r"sort=overdue_now&order=desc"))
    overdue = _column(page, 7)[0]
    assert overdue > 0
    agency = page.locator("table.league tbody tr th .code").first.inner_text()
    page.locator("table.league tbody tr th a").first.click()
    page.wait_for_url(re.compile(rf"/dashboard/agencies/{agency}\?period=all"))
    assert agency in page.locator("h1").inner_text()
    shown = _number(page.locator("#overdue .is-overdue-count").inner_text())
    assert shown >= overdue  # on the real clock more may have fallen due since; none answered
    assert page.locator("#overdue tbody tr.is-overdue").count() == min(shown, 100)
    with page.expect_download() as download:  # the list as data, with the page's session
        page.click("#overdue a[href*='format=csv']")
    listed = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(listed) - 1 >= shown and listed[0].startswith("inquiry_id")
    assert _chart(page)["painted"] > 1000
    assert errors == []


def test_the_dashboard_switches_to_english(
    server: LiveServer, signed_in: Callable[..., Any]
) -> None:
    page = signed_in("sup-e2e")
    errors = _watch(page)
    page.goto(f"{server.url}/dashboard")
    page.click(".lang-switch")
    page.wait_for_selector("html[lang=en]")
    assert page.url.endswith("/dashboard")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("h1").inner_text() == "National dashboard"
    assert "League table of agencies" in page.locator("#league h2").inner_text()
    chart = _chart(page)
    assert chart["datasets"] == ["Received", "On time", "Median wait (days)"]
    assert chart["locale"] == "en" and chart["reversed"] is False and chart["painted"] > 1000
    figure = page.locator(".dashboard-cards .stat .figure").first.inner_text()
    assert re.fullmatch(r"[0-9,]+", figure)
    assert page.locator("meter.capital-meter").is_visible()
    assert errors == []
