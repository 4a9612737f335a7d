"""Take the README's screenshots: the trader's declaration page, the officer's queue and the
national dashboard, in Persian, from a real server and a real headless Chromium.

    python -m tests.e2e.screenshots [--out docs/screenshots]

The first store is a scratch one, filled through the same flows the pages use, with filings
spread over the last two weeks so that the queue shows deadlines near, far and past; the
dashboard's holds the demo's history (``make demo``'s), projected.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.auth.service import principal_of
from panjereh.clock import SystemClock
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.declarations import flows as declaration_flows
from panjereh.declarations.schemas import DeclarationIn, ItemIn
from panjereh.inquiries import flows as inquiry_flows
from panjereh.inquiries.schemas import DecisionIn
from panjereh.sla.calendar import TEHRAN
from tests.e2e.server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    add_users,
    history_store,
    live_server,
    prepare_store,
    sign_in,
)

USERS = [
    ("aria-trading", Role.TRADER, None, "بازرگانی آریا تجارت"),
    ("kaveh-import", Role.TRADER, None, "واردات کاوه"),
    ("pars-khazar", Role.TRADER, None, "پارس خزر"),
    ("inso-officer", Role.OFFICER, "INSO", "مریم احمدی"),
    ("ivo-officer", Role.OFFICER, "IVO", "رضا کریمی"),
    ("mimt-officer", Role.OFFICER, "MIMT", "سارا موسوی"),
    ("cbi-officer", Role.OFFICER, "CBI", "علی رضایی"),
]

# (trader, office, province, days ago, [(hs, description, origin, quantity, unit, value, cur)])
QUEUE_FILINGS = [
    (
        "kaveh-import",
        "BAZG",
        "IR-04",
        12,
        [("841821", "یخچال خانگی دو درب", "TR", "340", "NAR", "153000", "EUR")],
    ),
    (
        "pars-khazar",
        "ANZL",
        "IR-01",
        10,
        [("845011", "ماشین لباسشویی خودکار", "CN", "500", "NAR", "98000", "USD")],
    ),
    (
        "kaveh-import",
        "GTEH",
        "IR-23",
        9,
        [("841510", "کولر گازی اسپلیت", "CN", "220", "NAR", "121000", "USD")],
    ),
    (
        "pars-khazar",
        "SHRJ",
        "IR-22",
        8,
        [("854449", "کابل برق مسی", "AE", "12000", "MTR", "46000", "AED")],
    ),
    (
        "kaveh-import",
        "IKIA",
        "IR-23",
        7,
        [("853952", "لامپ ال‌ای‌دی", "CN", "40000", "NAR", "62000", "USD")],
    ),
    (
        "pars-khazar",
        "BUSH",
        "IR-18",
        6,
        [("841451", "پنکه سقفی", "IN", "900", "NAR", "27000", "USD")],
    ),
    (
        "kaveh-import",
        "TABZ",
        "IR-03",
        5,
        [("851629", "بخاری برقی", "TR", "650", "NAR", "39000", "EUR")],
    ),
    (
        "pars-khazar",
        "SHRJ",
        "IR-22",
        4,
        [("870323", "خودروی سواری", "KR", "40", "NAR", "780000", "USD")],
    ),
    (
        "kaveh-import",
        "MASH",
        "IR-09",
        3,
        [("841810", "یخچال فریزر", "DE", "120", "NAR", "88000", "EUR")],
    ),
    (
        "pars-khazar",
        "ISFH",
        "IR-10",
        2,
        [("845020", "ماشین لباسشویی صنعتی", "IT", "30", "NAR", "64000", "EUR")],
    ),
    (
        "kaveh-import",
        "SHRJ",
        "IR-22",
        1,
        [("841520", "کولر خودرو", "JP", "800", "NAR", "54000", "USD")],
    ),
    (
        "pars-khazar",
        "GTEH",
        "IR-23",
        0,
        [("851660", "اجاق برقی", "CN", "300", "NAR", "33000", "USD")],
    ),
]

TRADER_FILING = [
    ("851713", "گوشی تلفن همراه هوشمند", "CN", "1200", "NAR", "240000", "USD"),
    ("841821", "یخچال خانگی", "TR", "150", "NAR", "67500", "EUR"),
    ("040690", "پنیر پروسس", "FR", "8000", "KGM", "52000", "EUR"),
]


def _payload(office: str, province: str, lines: list[tuple[str, ...]]) -> DeclarationIn:
    return DeclarationIn(
        kind="import",
        customs_office=office,
        province=province,
        items=[
            ItemIn(
                hs_code=hs,
                description=description,
                origin_country=origin,
                quantity=Decimal(quantity),
                unit=unit,
                value=Decimal(value),
                currency=currency,
            )
            for hs, description, origin, quantity, unit, value, currency in lines
        ],
    )


def seed(url: str) -> int:
    """File the queue's declarations and the trader's one; returns the trader's declaration."""
    from sqlalchemy import select

    from panjereh.auth.models import User

    now = SystemClock().now()
    # Filings and answers during office hours in Tehran (10:00 on the day), not at night.
    local = now.astimezone(TEHRAN)
    morning = local.replace(hour=10, minute=0, second=0, microsecond=0)
    if morning > local:
        morning -= timedelta(days=1)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        people: dict[str, Principal] = {
            u.username: principal_of(u) for u in session.scalars(select(User))
        }
    for trader, office, province, days, lines in QUEUE_FILINGS:
        with transaction(factory) as session:
            declaration_flows.file_declaration(
                session=session,
                principal=people[trader],
                payload=_payload(office, province, lines),
                at=morning - timedelta(days=days, hours=days % 3),
            )
    at = morning - timedelta(days=3, hours=1)
    with transaction(factory) as session:
        declaration = declaration_flows.file_declaration(
            session=session,
            principal=people["aria-trading"],
            payload=_payload("SHRJ", "IR-22", TRADER_FILING),
            at=at,
        )
        ids = {i.agency_code: i.id for i in declaration.inquiries}
        declaration_id = declaration.id
    decisions = [
        ("mimt-officer", "MIMT", DecisionIn(outcome="approve"), 2),
        ("cbi-officer", "CBI", DecisionIn(outcome="approve"), 1),
        (
            "ivo-officer",
            "IVO",
            DecisionIn(
                outcome="request_info",
                reason="گواهی بهداشت دامپزشکی کشور مبدأ (فرانسه) را بارگذاری کنید.",
            ),
            1,
        ),
    ]
    for officer, agency, decision, days in decisions:
        with transaction(factory) as session:
            inquiry_flows.decide(
                session=session,
                principal=people[officer],
                inquiry_id=ids[agency],
                decision=decision,
                at=morning - timedelta(days=days, hours=-2),
            )
    engine.dispose()
    return declaration_id


def _shoot(browser: Any, base_url: str, username: str, path: str, target: Path) -> Path:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    sign_in(page, base_url, username)
    page.goto(f"{base_url}{path}")
    page.evaluate("document.fonts.ready")
    if page.locator("canvas.dashboard-chart").count():
        drawn = "() => window.Chart && Chart.getChart(document.querySelector('canvas'))"
        page.wait_for_function(drawn)
    page.screenshot(path=str(target), full_page=False)
    context.close()
    return target


def shoot(out: Path) -> list[Path]:
    """Serve seeded stores and take the screenshots."""
    from playwright.sync_api import sync_playwright

    clock = SystemClock()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="panjereh-shots-") as scratch, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        url = prepare_store(Path(scratch) / "panjereh.db", clock=clock)
        add_users(url, USERS, clock=clock)
        declaration_id = seed(url)
        with live_server(url) as server:
            shots = [
                _shoot(browser, server.url, "aria-trading", f"/declarations/{declaration_id}",
                       out / "declaration.png"),
                _shoot(browser, server.url, "inso-officer", "/queue", out / "queue.png"),
            ]  # fmt: skip
        history = history_store(  # the demo's history, as ``make demo`` loads it
            Path(scratch) / "dashboard.db",
            [("supervisor-shots", Role.SUPERVISOR, None, "ناظر ملی")],
            clock=clock,
            declarations=3000,
            days=90,
        )
        with live_server(history) as server:
            shots.append(
                _shoot(browser, server.url, "supervisor-shots", "/dashboard", out / "dashboard.png")
            )
        browser.close()
    return shots


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    for path in shoot(args.out):
        print(path)


if __name__ == "__main__":
    main()
