"""The agency's queue: soonest deadline first, overdue highlighted, filters, pages, and a
fixed number of statements whatever the page holds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from tests.conftest import declaration, item
from tests.web.conftest import Browser


@contextmanager
def statements(engine: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _ids(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/inquiries/(\d+)" class="row-link"', text)]


def test_soonest_deadline_first_overdue_highlighted_and_filtered(
    browser: Browser,
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
    clock: ManualClock,
) -> None:
    make_user("trader", Role.TRADER)
    make_user("head", Role.AGENCY_HEAD, "CRA")
    early = file_for("trader")["CRA"]
    clock.advance(timedelta(days=3))
    late = file_for("trader")["CRA"]
    browser.sign_in("head")
    page = browser.get("/queue")
    assert _ids(page.text) == [early, late]
    assert "is-overdue" not in page.text
    clock.advance(timedelta(days=9))  # the first inquiry's seven business days have run out
    assert browser.get("/queue").status_code == 303  # the 8-hour session ran out meanwhile
    browser.sign_in("head")
    page = browser.get("/queue")
    assert _ids(page.text) == [early, late]
    assert page.text.count('class="is-overdue"') >= 1
    assert "روز کاری دیرکرد" in page.text
    overdue_only = browser.get("/queue?overdue=true")
    assert early in _ids(overdue_only.text)
    overdue_list = browser.get("/overdue")
    assert early in _ids(overdue_list.text)
    assert browser.get("/queue?show=approved").text.count('class="row-link"') == 0
    assert _ids(browser.get("/queue?show=all").text) == [early, late]
    assert browser.get("/queue?show=nonsense").status_code == 200


def test_the_queue_is_paginated_with_one_count(
    browser: Browser,
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
    web_app: Any,
) -> None:
    from panjereh.web.pages import agency

    make_user("trader", Role.TRADER)
    make_user("cra", Role.OFFICER, "CRA")
    body = declaration(item(value="10"))  # a value under the threshold: CRA alone
    ids = [file_for("trader", body)["CRA"] for _ in range(7)]
    browser.sign_in("cra")
    agency.QUEUE_PAGE_SIZE, saved = 3, agency.QUEUE_PAGE_SIZE
    try:
        first = browser.get("/queue")
        assert _ids(first.text) == ids[:3]
        assert "صفحه ۱ از ۳" in first.text and "۷ استعلام" in first.text
        assert _ids(browser.get("/queue?page=3").text) == ids[6:]
        assert browser.get("/queue?page=0").status_code == 404
        with statements(web_app.state.engine) as small:
            browser.get("/queue?page=1")
        agency.QUEUE_PAGE_SIZE = 50
        with statements(web_app.state.engine) as large:
            browser.get("/queue?page=1")
    finally:
        agency.QUEUE_PAGE_SIZE = saved
    # The same statements for 3 rows as for 7: no query per row.
    assert len(small) == len(large), (small, large)
    assert sum("count(" in s.lower() for s in large) == 1


def test_supervisors_pick_an_agency_and_decide_nothing(
    browser: Browser,
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
) -> None:
    make_user("trader", Role.TRADER)
    make_user("boss", Role.SUPERVISOR)
    filed = file_for("trader")
    browser.sign_in("boss")
    assert set(_ids(browser.get("/queue").text)) == {filed["CRA"], filed["MIMT"], filed["CBI"]}
    assert _ids(browser.get("/queue?agency=CRA").text) == [filed["CRA"]]
    page = browser.get(f"/inquiries/{filed['CRA']}")
    assert page.status_code == 200 and 'name="outcome"' not in page.text
    assert browser.get(f"/declarations/{filed['declaration']}").status_code == 200
    refused = browser.post(
        f"/inquiries/{filed['CRA']}/decision", {"outcome": "approve", "step": "confirm"}
    )
    assert refused.status_code == 403
