"""The immediate report to the national supervisor, on SQLite and PostgreSQL.

Declarations are filed through the API for several agencies; some inquiries are answered on
time, some late, one waits on the trader, the rest stay open past their deadlines while a
manual clock moves. The report's figures are checked against values worked out here by hand
(the Iranian working week, no holidays between 21 Nov and 22 Dec 2026) and against the
agency calendars themselves.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth.models import Role
from panjereh.calendars.service import calendar_for
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.notifications.channels import channels
from panjereh.reports import render
from panjereh.reports.router import router as reports_router
from panjereh.reports.service import immediate_report
from panjereh.sla.calendar import TEHRAN
from panjereh.worker import Worker
from tests.conftest import START, declaration, item

Login = Callable[[str], dict[str, str]]
REPORT = "/api/v1/reports/immediate"

# Sunday 29 Nov 2026, 09:00 Tehran: after the IVO (Wed 25 Nov) and PPO (Mon 23 Nov) deadlines
# of everything filed at START (Saturday 21 Nov, 08:30).
LATE_ANSWERS = datetime(2026, 11, 29, 5, 30, tzinfo=UTC)
# Wednesday 2 Dec 2026, 10:00 Tehran (11 Azar 1405): when the report is drawn.
NOW = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
SCRIPT = "<script>alert('x')</script> Beef & bones"


def beef(value: str = "900", currency: str = "USD", description: str = "Beef, boneless") -> Any:
    return item(
        "020130",
        description=description,
        origin_country="BR",
        quantity="10",
        unit="KGM",
        value=value,
        currency=currency,
    )


def apples(value: str = "400", currency: str = "EUR") -> Any:
    return item(
        "080810",
        description="Fresh apples",
        origin_country="TR",
        quantity="100",
        unit="KGM",
        value=value,
        currency=currency,
    )


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The client, with the reports router included if the app factory does not yet."""
    paths = {getattr(route, "path", None) for route in client.app.routes}  # type: ignore[attr-defined]
    if REPORT not in paths:
        client.app.include_router(reports_router)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def people(make_user: Callable[..., str]) -> dict[str, str]:
    return {
        "trader": make_user("trader", Role.TRADER),
        "ivo": make_user("officer-ivo", Role.OFFICER, "IVO"),
        "ivo_head": make_user("head-ivo", Role.AGENCY_HEAD, "IVO"),
        "ppo": make_user("officer-ppo", Role.OFFICER, "PPO"),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
        "admin": make_user("admin", Role.ADMIN),
    }


@pytest.fixture
def worker(
    session_factory: sessionmaker[Session], clock: ManualClock, settings: Settings
) -> Worker:
    return Worker(
        session_factory, clock, settings, channels(session_factory, settings), name="worker-1"
    )


def _file(api: TestClient, login: Login, trader: str, *items: Any) -> dict[str, int]:
    """File a declaration; returns its inquiry ids by agency, and the declaration id."""
    filed = api.post("/api/v1/declarations", json=declaration(*items), headers=login(trader))
    assert filed.status_code == 201, filed.text
    body = filed.json()
    ids = {i["agency_code"]: i["id"] for i in body["inquiries"]}
    ids["declaration"] = body["id"]
    return ids


def _decide(api: TestClient, login: Login, user: str, inquiry: int, outcome: str) -> None:
    body: dict[str, str] = {"outcome": outcome}
    if outcome != "approve":
        body["reason"] = "Missing health certificate"
    response = api.post(f"/api/v1/inquiries/{inquiry}/decision", json=body, headers=login(user))
    assert response.status_code == 200, response.text


@pytest.fixture
def filed(
    api: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    worker: Worker,
) -> dict[str, dict[str, int]]:
    """The scenario: filings at START, answers on time and late, the clock at NOW."""
    t = people["trader"]
    d = {
        # open past their deadlines
        "d1": _file(api, login, t, beef(description=SCRIPT)),
        "d2": _file(api, login, t, beef("500", "EUR"), apples("400", "EUR")),
        "d3": _file(api, login, t, beef("1000", "CHF")),  # no reference rate for CHF
        # answered on time
        "d4": _file(api, login, t, beef()),
        "d5": _file(api, login, t, beef()),
        "d9": _file(api, login, t, apples()),
        # waiting on the trader
        "d6": _file(api, login, t, beef()),
        # answered late
        "d7": _file(api, login, t, beef()),
        "d8": _file(api, login, t, apples()),
    }
    assert set(d["d2"]) == {"IVO", "PPO", "declaration"}
    assert set(d["d3"]) == {"IVO", "MIMT", "CBI", "declaration"}  # value unknown in USD
    clock.advance(timedelta(hours=1))
    _decide(api, login, people["ivo"], d["d4"]["IVO"], "approve")
    _decide(api, login, people["ivo"], d["d5"]["IVO"], "reject")
    _decide(api, login, people["ppo"], d["d9"]["PPO"], "approve")
    _decide(api, login, people["ivo"], d["d6"]["IVO"], "request_info")
    clock.set(LATE_ANSWERS)
    _decide(api, login, people["ivo"], d["d7"]["IVO"], "approve")
    _decide(api, login, people["ppo"], d["d8"]["PPO"], "approve")
    # Filed now, due Saturday 5 Dec: open but not late when the report is drawn.
    d["d10"] = _file(api, login, t, beef())
    clock.set(NOW)
    while worker.sweep_once():  # the ladder fires what is due, raising escalation levels
        pass
    paused = api.get(f"/api/v1/inquiries/{d['d6']['IVO']}", headers=login(people["ivo"]))
    assert paused.json()["state"] == "info_requested"
    return d


def _report(api: TestClient, login: Login, user: str, **params: Any) -> dict[str, Any]:
    response = api.get(REPORT, params=params, headers=login(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _agency(report: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in report["agencies"] if a["agency_code"] == code)
    return found


def _money(value: dict[str, Any]) -> dict[str, Decimal]:
    return {m["currency"]: Decimal(m["amount"]) for m in value["by_currency"]}


def test_late_inquiries_by_agency_with_business_time_goods_value_and_on_time_rate(
    api: TestClient,
    login: Login,
    people: dict[str, str],
    filed: dict[str, dict[str, int]],
    session_factory: sessionmaker[Session],
) -> None:
    report = _report(api, login, people["supervisor"])
    assert datetime.fromisoformat(report["generated_at"]) == NOW
    assert report["agency"] is None and report["per_agency_limit"] == 50
    # Most late first: MIMT (2-day service level) is 8 business days late; CBI and PPO
    # (3 days) 7, the tie going to the agency holding more, then by code; IVO (5 days) 5.
    assert [a["agency_code"] for a in report["agencies"]] == ["MIMT", "CBI", "PPO", "IVO"]
    assert report["late_count"] == 6 and report["agency_count"] == 4

    ivo = _agency(report, "IVO")
    assert ivo["name_en"] == "Iran Veterinary Organization"
    assert ivo["name_fa"] == "سازمان دامپزشکی کشور"
    assert ivo["late_count"] == 3 and ivo["truncated"] is False
    late_ids = [i["id"] for i in ivo["inquiries"]]
    assert late_ids == sorted([filed["d1"]["IVO"], filed["d2"]["IVO"], filed["d3"]["IVO"]])
    assert filed["d6"]["IVO"] not in late_ids  # paused: waiting on the trader, not late
    assert filed["d10"]["IVO"] not in late_ids  # open but not yet due
    assert ivo["waiting_on_trader"] == 1

    # Due Wednesday 25 Nov at 14:30 (close of the 5th business day from Saturday 21 Nov).
    # By Wednesday 2 Dec 10:00: Sat 28, Sun 29, Mon 30, Tue 1 and Wed 2 are business days
    # after the due date (Thursday and Friday off), i.e. 5 days; in business minutes, four
    # full days of 7 hours and 07:30-10:00 on Wednesday: 4 * 420 + 150 = 1830.
    for inquiry in ivo["inquiries"]:
        assert inquiry["due_at"].startswith("2026-11-25T11:00:00")
        assert inquiry["business_days_late"] == 5
        assert inquiry["business_minutes_late"] == 1830
        assert Decimal(inquiry["business_hours_late"]) == Decimal("30.5")
    assert ivo["max_business_days_late"] == 5 and ivo["business_days_late_total"] == 15
    ppo = _agency(report, "PPO")
    (ppo_late,) = ppo["inquiries"]
    assert ppo_late["id"] == filed["d2"]["PPO"]
    # Due Monday 23 Nov: Tue 24, Wed 25, Sat 28 ... Wed 2 = 7 days; 6 * 420 + 150 minutes.
    assert ppo_late["business_days_late"] == 7 and ppo_late["business_minutes_late"] == 2670
    mimt = _agency(report, "MIMT")
    assert mimt["inquiries"][0]["business_days_late"] == 8

    # The same figures from the agency calendars themselves, for every late inquiry.
    with session_factory() as session:
        for agency in report["agencies"]:
            for inquiry in agency["inquiries"]:
                calendar = calendar_for(
                    session=session, agency_code=agency["agency_code"], province="IR-22"
                )
                due = datetime.fromisoformat(inquiry["due_at"])
                assert inquiry["business_days_late"] == calendar.business_days_between(
                    due.astimezone(TEHRAN).date(), NOW.astimezone(TEHRAN).date()
                )
                assert inquiry["business_minutes_late"] == calendar.business_minutes_between(
                    due, NOW
                )

    # Goods: HS code, the trader's words and the nomenclature's, for the inquiry's lines only.
    d2_ivo = next(i for i in ivo["inquiries"] if i["id"] == filed["d2"]["IVO"])
    assert d2_ivo["declaration_id"] == filed["d2"]["declaration"]
    assert d2_ivo["customs_office"] == "SHRJ" and d2_ivo["province"] == "IR-22"
    assert d2_ivo["inquiry_type"] == "IVO-VET"
    assert d2_ivo["inquiry_type_name_fa"] == "مجوز بهداشتی دامپزشکی"
    assert [(g["line_no"], g["hs_code"], g["description"]) for g in d2_ivo["goods"]] == [
        (1, "020130", "Beef, boneless")
    ]
    assert "bovine" in d2_ivo["goods"][0]["hs_description"].lower()
    assert _money(d2_ivo["value"]) == {"EUR": Decimal(500)}
    assert Decimal(d2_ivo["value"]["usd"]) == Decimal("540.00")  # EUR at 1.08
    assert [(g["line_no"], g["hs_code"]) for g in ppo_late["goods"]] == [(2, "080810")]

    # Value waiting per currency; the dollar sum leaves out CHF (no rate) and says so.
    assert _money(ivo["value_waiting"]) == {
        "USD": Decimal(900),
        "EUR": Decimal(500),
        "CHF": Decimal(1000),
    }
    assert Decimal(ivo["value_waiting"]["usd"]) == Decimal("1440.00")
    assert ivo["value_waiting"]["usd_complete"] is False
    assert ivo["value_waiting"]["currencies_without_rate"] == ["CHF"]
    chf = next(m for m in ivo["value_waiting"]["by_currency"] if m["currency"] == "CHF")
    assert chf["usd"] is None
    assert _money(ppo["value_waiting"]) == {"EUR": Decimal(400)}
    assert Decimal(ppo["value_waiting"]["usd"]) == Decimal("432.00")
    assert ppo["value_waiting"]["usd_complete"] is True
    # Nationally each goods line counts once, though D3's beef waits on IVO, MIMT and CBI.
    national = report["value_waiting"]
    assert _money(national) == {"USD": Decimal(900), "EUR": Decimal(900), "CHF": Decimal(1000)}
    assert Decimal(national["usd"]) == Decimal("1872.00")
    assert report["rule_set_version"] == 1

    # On time: IVO approved and rejected on time, approved one late: 2 of 3. PPO: 1 of 2.
    assert ivo["on_time"] == {"window_days": 90, "answered": 3, "on_time": 2, "rate": "0.6667"}
    assert ppo["on_time"] == {"window_days": 90, "answered": 2, "on_time": 1, "rate": "0.5000"}
    assert mimt["on_time"] == {"window_days": 90, "answered": 0, "on_time": 0, "rate": None}

    # The escalation level is the inquiry's own, as its clock shows it.
    for inquiry in ivo["inquiries"]:
        clock_view = api.get(
            f"/api/v1/inquiries/{inquiry['id']}/clock", headers=login(people["supervisor"])
        ).json()
        assert inquiry["escalation_level"] == clock_view["escalation_level"] > 0


def test_detail_is_capped_but_counts_and_values_stay_exact(
    api: TestClient, login: Login, people: dict[str, str], filed: dict[str, dict[str, int]]
) -> None:
    full = _report(api, login, people["supervisor"])
    capped = _report(api, login, people["supervisor"], per_agency=1)
    ivo_full, ivo = _agency(full, "IVO"), _agency(capped, "IVO")
    assert len(ivo["inquiries"]) == 1 and ivo["truncated"] is True
    assert ivo["inquiries"][0]["id"] == filed["d1"]["IVO"]  # equally late: earliest id first
    for key in ("late_count", "value_waiting", "on_time", "max_business_days_late"):
        assert ivo[key] == ivo_full[key]
    assert capped["late_count"] == full["late_count"]
    assert capped["value_waiting"] == full["value_waiting"]
    bad = api.get(REPORT, params={"per_agency": 0}, headers=login(people["supervisor"]))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_access(
    api: TestClient, login: Login, people: dict[str, str], filed: dict[str, dict[str, int]]
) -> None:
    for path in (REPORT, f"{REPORT}.html", f"{REPORT}.pdf"):
        refused = api.get(path, headers=login(people["trader"]))
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert api.get(path).status_code == 401
    for user in ("ivo", "ivo_head"):
        own = _report(api, login, people[user])
        assert own["agency"] == "IVO"
        assert [a["agency_code"] for a in own["agencies"]] == ["IVO"]
        assert own["late_count"] == 3
        other = api.get(REPORT, params={"agency": "PPO"}, headers=login(people[user]))
        assert other.status_code == 403
        assert other.json()["errors"][0]["field"] == "agency"
        html = api.get(f"{REPORT}.html", params={"lang": "en"}, headers=login(people[user]))
        assert html.status_code == 200 and "Plant Protection" not in html.text
    for user in ("supervisor", "admin"):
        assert len(_report(api, login, people[user])["agencies"]) == 4
    ppo = _report(api, login, people["supervisor"], agency="PPO")
    assert [a["agency_code"] for a in ppo["agencies"]] == ["PPO"] and ppo["late_count"] == 1
    # An agency with nothing late: an empty report, not an error.
    quiet = _report(api, login, people["supervisor"], agency="AEOI")
    assert quiet["agencies"] == [] and quiet["late_count"] == 0
    unknown = api.get(REPORT, params={"agency": "NOPE"}, headers=login(people["supervisor"]))
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "agency"


def test_html_in_persian_and_english(
    api: TestClient, login: Login, people: dict[str, str], filed: dict[str, dict[str, int]]
) -> None:
    fa = api.get(f"{REPORT}.html", params={"lang": "fa"}, headers=login(people["supervisor"]))
    assert fa.status_code == 200
    assert fa.headers["content-type"].startswith("text/html")
    assert fa.headers["content-disposition"] == (
        'attachment; filename="immediate-report-2026-12-02-fa.html"'
    )
    page = fa.text
    assert '<html lang="fa" dir="rtl">' in page
    assert "۱۱ آذر ۱۴۰۵، ۱۰:۰۰" in page  # generated: Wednesday 2 Dec 2026 10:00, Jalali
    assert "۴ آذر ۱۴۰۵، ۱۴:۳۰" in page  # IVO's deadline, Wednesday 25 Nov, close of business
    assert "سازمان دامپزشکی کشور" in page and "گزارش فوری" in page
    assert f">{_fa(filed['d1']['IVO'])}<" in page  # inquiry ids in Persian digits
    assert "۱٬۴۴۰ USD" in page  # IVO's dollar equivalent, Persian digits and separator
    assert "۶۶٫۷٪" in page and "٪۶" not in page  # 66.7%: the sign after the number
    # What a trader typed is text, never markup.
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Beef &amp; bones" in page

    en = api.get(
        f"{REPORT}.html",
        params={"lang": "en", "disposition": "inline"},
        headers=login(people["supervisor"]),
    )
    assert en.headers["content-disposition"] == (
        'inline; filename="immediate-report-2026-12-02-en.html"'
    )
    page = en.text
    assert '<html lang="en" dir="ltr">' in page
    assert "2 Dec 2026, 10:00" in page and "25 Nov 2026, 14:30" in page
    assert "Iran Veterinary Organization (IVO)" in page
    assert "66.7% (2 of 3 answers)" in page
    assert "1,440 USD" in page and "left out: CHF" in page
    assert "no reference rate for CHF" in page  # D3's beef, valued in CHF only
    assert not any(c in page for c in "۰۱۲۳۴۵۶۷۸۹")
    assert "<script>" not in page and "&lt;script&gt;" in page
    bad = api.get(f"{REPORT}.html", params={"lang": "de"}, headers=login(people["supervisor"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lang"


def test_pdf_in_persian_and_english(
    api: TestClient,
    login: Login,
    people: dict[str, str],
    filed: dict[str, dict[str, int]],
    tmp_path: Path,
) -> None:
    if not all(p.is_file() for p in _fonts()):
        pytest.skip("the Vazirmatn TTFs are not built (python -m panjereh.web.assets)")
    late = [filed["d1"]["IVO"], filed["d2"]["PPO"], filed["d3"]["MIMT"], filed["d3"]["CBI"]]
    texts = {}
    for lang in ("fa", "en"):
        response = api.get(
            f"{REPORT}.pdf", params={"lang": lang}, headers=login(people["supervisor"])
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="immediate-report-2026-12-02-{lang}.pdf"'
        )
        assert response.content.startswith(b"%PDF")
        (tmp_path / f"report-{lang}.pdf").write_bytes(response.content)
        reader = PdfReader(io.BytesIO(response.content))
        texts[lang] = "\n".join(page.extract_text() for page in reader.pages)
    for code in ("IVO", "PPO", "MIMT", "CBI"):
        assert f"({code})" in texts["en"] and code in texts["fa"]
    for inquiry_id in late:
        assert str(inquiry_id) in texts["en"]
        assert _fa(inquiry_id) in texts["fa"]
    assert "25 Nov 2026, 14:30" in texts["en"] and "Page 1 of" in texts["en"]


def test_pdf_without_its_font_is_a_clear_503(
    api: TestClient,
    login: Login,
    people: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(render, "FONT_DIR", tmp_path / "missing")
    response = api.get(f"{REPORT}.pdf", headers=login(people["supervisor"]))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/assets-not-built"
    assert "Vazirmatn" in problem["detail"]
    # The other forms do not need the font.
    assert api.get(REPORT, headers=login(people["supervisor"])).status_code == 200
    assert api.get(f"{REPORT}.html", headers=login(people["supervisor"])).status_code == 200


def test_nothing_late_is_an_empty_report_in_every_form(
    api: TestClient, login: Login, people: dict[str, str]
) -> None:
    report = _report(api, login, people["supervisor"])
    assert report["agencies"] == [] and report["late_count"] == 0
    assert report["value_waiting"] == {
        "by_currency": [],
        "usd": "0.00",
        "usd_complete": True,
        "currencies_without_rate": [],
    }
    html = api.get(f"{REPORT}.html", params={"lang": "en"}, headers=login(people["supervisor"]))
    assert "No inquiry is late." in html.text
    if all(p.is_file() for p in _fonts()):
        pdf = api.get(f"{REPORT}.pdf", headers=login(people["supervisor"]))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_fixed_handful_of_queries_whatever_the_number_late(
    filed: dict[str, dict[str, int]], session_factory: sessionmaker[Session], engine: Engine
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def run(now: datetime) -> dict[str, Any]:
        with session_factory() as session:
            immediate_report(session=session, now=now)  # warm the calendar and rule caches
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                report = immediate_report(session=session, now=now)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return {"late": report.late_count, "queries": len(statements)}

    now = run(NOW)
    later = run(NOW + timedelta(days=7))  # D10's inquiry is late by then too
    assert later["late"] == now["late"] + 1
    assert later["queries"] == now["queries"]
    # late rows, goods values, goods details, paused, on time, agency and type names, the
    # rule set, and one calendar revision check per (agency, province): 4 here.
    assert now["queries"] <= 9 + 4


def _fonts() -> Iterator[Path]:
    return (render.FONT_DIR / name for name in render.FONT_FILES.values())


def _fa(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def test_start_is_a_saturday_morning_in_tehran() -> None:
    # The hand-computed figures above assume it.
    local = START.astimezone(TEHRAN)
    assert (local.weekday(), local.hour, local.minute) == (5, 8, 30)
