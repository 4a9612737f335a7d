"""The dashboard page, rendered on the server: the league table coloured by on-time rate,
trend charts' data, provinces, the capital-locked meter, Jalali periods in Persian, English on
the switch, the drill-down to an agency's overdue inquiries, and who may open it."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.dashboard import page as dashboard_page
from panjereh.dashboard import projector
from panjereh.dashboard.router import router as dashboard_router
from panjereh.demo.history import load_demo
from panjereh.main import create_app
from tests.conftest import PASSWORD, START

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def site(
    settings: Settings,
    clock: ManualClock,
    engine: Engine,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
) -> Iterator[Callable[[str], TestClient]]:
    """The application with the web pages and the dashboard, on a projected demo history;
    returns a function that opens a browser-like client signed in as a user."""
    load_demo(engine, declarations=40, days=30, seed=9, now=START)
    make_user("sup", Role.SUPERVISOR)
    make_user("head-inso-x", Role.AGENCY_HEAD, "INSO")
    make_user("officer-x", Role.OFFICER, "INSO")
    projector.catch_up(session_factory)
    app = create_app(settings, clock=clock)
    if not any(getattr(r, "path", "") == "/api/v1/dashboard/league" for r in app.routes):
        app.include_router(dashboard_router)  # until the application includes it itself
    dashboard_page.install(app)
    clients: list[TestClient] = []

    def signed_in(username: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        token = html.unescape(_CSRF.search(client.get("/sign-in").text).group(1))  # type: ignore[union-attr]
        response = client.post(
            "/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text
        return client

    yield signed_in
    for client in clients:
        client.close()
    app.state.engine.dispose()


def _english(client: TestClient) -> None:
    page = client.get("/dashboard")
    token = html.unescape(_CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    client.post("/language", data={"lang": "en", "next": "/dashboard", "csrf_token": token})


def test_the_supervisor_sees_the_whole_national_dashboard(site: Any) -> None:
    client = site("sup")
    page = client.get("/dashboard")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="fa" dir="rtl">' in text
    assert "داشبورد ملی" in text and "جدول رتبه‌بندی دستگاه‌ها" in text
    assert "Content-Security-Policy" in page.headers
    assert "<script>" not in text and " style=" not in text  # nothing inline (CSP)
    rows = re.findall(
        r'<tr class="(rate-[a-z]+)[^"]*">\s*<th scope="row"><a href="/dashboard/agencies/(\w+)',
        text,
    )
    assert len(rows) >= 5 and {c for c, _ in rows} <= {
        "rate-good",
        "rate-fair",
        "rate-poor",
        "rate-bad",
        "rate-none",
    }
    chart = re.search(r'data-chart="([^"]+)"', text)
    assert chart is not None
    data = json.loads(html.unescape(chart.group(1)))
    assert len(data["labels"]) == len(data["received"]) >= 4 and sum(data["received"]) > 0
    assert '<meter class="capital-meter"' in text and "سرمایه حبس‌شده" in text
    assert "استان‌ها" in text and "مسیر بحرانی" in text
    assert 'id="adoption"' in text and "کاربران فعال" in text  # the national sections
    assert 'id="delivery"' in text and "هنوز سامانه هیچ دستگاهی متصل نشده است." in text
    assert "آبان ۱۴۰۵" in text  # this Jalali month, in Persian, among the periods
    sorted_page = client.get("/dashboard?period=all&sort=received&order=desc")
    received = [
        int(x.replace("٬", "").translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
        for x in re.findall(r"</th>\s*<td>([۰-۹٬]+)</td>", sorted_page.text)
    ]
    assert received[:5] == sorted(received[:5], reverse=True)
    _english(client)
    english = client.get("/dashboard?period=jmonth:1405-08")
    assert '<html lang="en" dir="ltr">' in english.text
    assert "League table of agencies" in english.text and "Aban 1405" in english.text
    assert client.get("/dashboard/assets/dashboard.js").status_code == 200


def test_the_drill_down_lists_an_agency_s_overdue_inquiries(site: Any) -> None:
    client = site("sup")
    _english(client)
    page = client.get("/dashboard/agencies/INSO?period=all")
    assert page.status_code == 200
    assert "Overdue inquiries" in page.text and "Top reasons for rejecting" in page.text
    links = re.findall(r'<a href="/inquiries/(\d+)">', page.text)
    count = re.search(r'is-overdue-count">(\d+)<', page.text)
    assert count is not None and len(links) == min(int(count.group(1)), 100)


def test_agency_heads_see_the_league_and_their_own_agency_only(site: Any) -> None:
    head = site("head-inso-x")
    page = head.get("/dashboard")
    assert page.status_code == 200
    assert re.findall(r'href="/dashboard/agencies/(\w+)', page.text) == ["INSO"]
    assert 'id="adoption"' not in page.text and 'id="delivery"' not in page.text
    assert head.get("/dashboard/agencies/INSO").status_code == 200
    assert head.get("/dashboard/agencies/IFDA").status_code == 403
    officer = site("officer-x")
    assert officer.get("/dashboard").status_code == 403


def test_the_page_s_data_links_download_with_the_session_and_its_access_rules(site: Any) -> None:
    supervisor = site("sup")
    page = supervisor.get("/dashboard?period=all").text
    links = re.findall(r'href="(/dashboard/data/[^"]+)"', page)
    assert len(links) == 6  # league, adoption and delivery, each as CSV and XLSX
    league = supervisor.get(html.unescape(links[0]))
    assert league.status_code == 200 and league.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(league.content.decode("utf-8-sig"))))
    agencies = re.findall(r'<tr class="rate-[a-z]+[^"]*">\s*<th scope="row"><a', page)
    assert len(rows) == len(agencies) >= 5 and {"agency", "received", "on_time_rate"} <= set(
        rows[0]
    )
    xlsx = supervisor.get(html.unescape(links[1]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"  # a zip: the workbook
    assert supervisor.get("/dashboard/data/delivery?format=csv").status_code == 200
    assert supervisor.get("/dashboard/data/league?period=someday").status_code == 422
    drill = supervisor.get("/dashboard/agencies/INSO").text
    (overdue,) = re.findall(r'href="(/dashboard/data/overdue[^"]+format=csv)"', drill)
    listed = supervisor.get(html.unescape(overdue))
    shown = re.search(r'is-overdue-count">(\d+)<', drill)
    assert shown is not None
    assert len(listed.content.decode("utf-8-sig").splitlines()) - 1 == int(shown.group(1))
    head = site("head-inso-x")
    assert head.get("/dashboard/data/overdue?agency=INSO").status_code == 200
    assert head.get("/dashboard/data/overdue?agency=IFDA").status_code == 403
    assert head.get("/dashboard/data/adoption").status_code == 403
    assert head.get("/dashboard/data/delivery").status_code == 403
    assert site("officer-x").get("/dashboard/data/league").status_code == 403
    anonymous = TestClient(supervisor.app, follow_redirects=False)
    assert anonymous.get("/dashboard/data/league").status_code == 303  # to the sign-in
