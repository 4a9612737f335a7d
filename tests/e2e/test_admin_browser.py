"""The administrator's pages in a real browser: a closure added through the calendars page
moves an open deadline, and the officer's queue shows the new one; withdrawing the closure
moves it back."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jdatetime

from panjereh.auth.models import Role
from panjereh.clock import SystemClock
from panjereh.sla.calendar import TEHRAN
from tests.e2e.server import LiveServer, add_users
from tests.e2e.test_browser import SMARTPHONES, file_through_the_form, inquiries_on

_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _jalali(days_ahead: int) -> str:
    """A Tehran date ``days_ahead`` from today, as a person types it: Jalali, Persian digits."""
    day = (SystemClock().now().astimezone(TEHRAN) + timedelta(days=days_ahead)).date()
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year}/{j.month:02d}/{j.day:02d}".translate(_PERSIAN)


def _deadline(page: Any, inquiry_id: int) -> str:
    row = page.locator(f"tr:has(a.row-link[href='/inquiries/{inquiry_id}'])")
    return str(row.locator("td.deadline time").get_attribute("datetime"))


def test_a_closure_added_on_the_page_moves_the_deadline_in_the_officers_queue(
    server: LiveServer, signed_in: Callable[..., Any]
) -> None:
    add_users(
        server.app.state.settings.database_url,
        [("admin-e2e", Role.ADMIN, None, "مدیر سامانه")],
        clock=SystemClock(),
    )
    trader = signed_in("trader-b")
    file_through_the_form(trader, server, [SMARTPHONES])
    inquiry_id = inquiries_on(trader)["CRA"]

    officer = signed_in("officer-cra")
    officer.goto(f"{server.url}/queue?show=open")
    before = _deadline(officer, inquiry_id)
    assert before

    admin = signed_in("admin-e2e")
    admin.click("nav.main-nav a[href='/admin/calendars']")
    admin.wait_for_url(f"{server.url}/admin/calendars")
    admin.fill("#closure-start", _jalali(1))
    admin.fill("#closure-end", _jalali(7))
    admin.fill("#closure-reason", "Heat closure (browser test)")
    admin.click("form[action='/admin/calendars/closures'] button[type=submit]")
    admin.wait_for_url(f"{server.url}/admin/calendars")
    flash = admin.locator(".flash").inner_text()
    assert "تعطیلی افزوده شد" in flash and "جابه‌جا شد" in flash
    assert re.search(r"مهلت [۰-۹]+ استعلام", flash) and "مهلت ۰ استعلام" not in flash
    row = admin.locator("table.closures tr", has_text="Heat closure (browser test)")
    assert row.count() == 1

    officer.reload()
    after = _deadline(officer, inquiry_id)
    assert after > before, (before, after)
    officer.click(f"a.row-link[href='/inquiries/{inquiry_id}']")
    officer.wait_for_url(f"{server.url}/inquiries/{inquiry_id}")
    assert "مهلت جابه‌جا شد" in officer.locator(".timeline").inner_text()
    assert "Heat closure (browser test)" in officer.locator(".timeline").inner_text()

    # Withdrawn through the page: the deadline is back where it was.
    row.locator("button[type=submit]").click()
    admin.wait_for_url(f"{server.url}/admin/calendars")
    assert "تعطیلی لغو شد" in admin.locator(".flash").inner_text()
    officer.goto(f"{server.url}/queue?show=open")
    assert _deadline(officer, inquiry_id) == before
