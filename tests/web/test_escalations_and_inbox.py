"""Escalations, the inbox, the clock and the immediate report on the pages: an agency head
escalates by hand, acknowledges and reassigns; the officer finds the assignment in the inbox;
the clock shows its segments and ladder; supervisors and heads read the immediate report
without a bearer token. Validation in both languages, access by role, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from panjereh.escalation.models import EscalationFiring
from panjereh.inquiries.models import Inquiry
from panjereh.notifications.models import Notification
from tests.web.conftest import Browser


@pytest.fixture
def people(make_user: Callable[..., str]) -> dict[str, str]:
    return {
        "trader": make_user("trader", Role.TRADER),
        "officer": make_user("cra-1", Role.OFFICER, "CRA"),
        "other": make_user("cra-2", Role.OFFICER, "CRA"),
        "ivo": make_user("ivo-1", Role.OFFICER, "IVO"),
        "head": make_user("cra-head", Role.AGENCY_HEAD, "CRA"),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
    }


def _firings(session_factory: Any) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(EscalationFiring)) or 0)


def _inquiry(session_factory: Any, inquiry_id: int) -> Inquiry:
    with session_factory() as s:
        found: Inquiry | None = s.get(Inquiry, inquiry_id)
        assert found is not None
        return found


def test_a_head_escalates_acknowledges_and_reassigns_and_the_officer_is_told(
    new_browser: Callable[[], Browser],
    people: dict[str, str],
    file_for: Callable[..., dict[str, int]],
    session_factory: Any,
    worker: Any,
) -> None:
    inquiry_id = file_for("trader")["CRA"]
    head, officer, other, supervisor = (new_browser() for _ in range(4))
    head.sign_in("cra-head")
    officer.sign_in("cra-1")
    other.sign_in("cra-2")
    supervisor.sign_in("supervisor")
    assert "هیچ استعلام بازی ارجاع نشده است." in head.get("/escalations").text

    page = head.get(f"/inquiries/{inquiry_id}")
    assert f'action="/inquiries/{inquiry_id}/escalate"' in page.text
    assert f'action="/inquiries/{inquiry_id}/assign"' in page.text
    escalated = head.post(
        f"/inquiries/{inquiry_id}/escalate",
        {"reason": "No answer after two reminders", "form_token": head.form_token()},
    )
    assert escalated.status_code == 303, escalated.text
    assert _inquiry(session_factory, inquiry_id).escalation_level > 0

    listed = officer.get("/escalations")
    assert f'id="escalated-{inquiry_id}"' in listed.text and "سطح ۳" in listed.text
    acknowledged = officer.post(f"/inquiries/{inquiry_id}/acknowledge", {"next": "/escalations"})
    assert acknowledged.status_code == 303
    assert acknowledged.headers["location"] == "/escalations"
    assert _inquiry(session_factory, inquiry_id).acknowledged_at is not None

    head.get(f"/inquiries/{inquiry_id}")
    assigned = head.post(f"/inquiries/{inquiry_id}/assign", {"officer": "cra-2"})
    assert assigned.status_code == 303, assigned.text
    shown = head.get(assigned.headers["location"])
    assert "اکنون با cra-2 است" in shown.text and "واگذارشده به" in shown.text

    while worker.deliver_once():
        pass
    inbox = other.get("/notifications")
    assert "به شما ارجاع شد" in inbox.text
    assert f'href="/inquiries/{inquiry_id}"' in inbox.text
    assert 'id="unread-count"' in inbox.text and "۱</span>" in inbox.text
    other.english()
    inbox = other.get("/notifications")
    assert f"Inquiry {inquiry_id} was assigned to you" in inbox.text
    with session_factory() as s:
        note_id = s.scalars(
            select(Notification.id).where(Notification.kind.like("%assigned"))
        ).one()
    # Nobody marks someone else's notification.
    assert officer.post("/notifications/read", {"id": str(note_id)}).status_code == 404
    marked = other.post("/notifications/read", {"id": str(note_id), "next": "/notifications"})
    assert marked.status_code == 303
    assert 'id="unread-count"' not in other.get("/notifications").text
    # The supervisor heard about the escalation, and can open the report from it.
    told = supervisor.get("/notifications")
    assert "به‌صورت دستی ارجاع شد" in told.text and 'href="/reports/immediate"' in told.text
    everything = supervisor.post("/notifications/read", {})
    assert everything.status_code == 303
    assert "آگاهی خوانده‌شده علامت خورد" in supervisor.get("/notifications").text
    assert supervisor.get("/notifications?unread=true").text.count('class="note ') == 0


def test_escalation_forms_say_what_is_wrong_and_write_nothing(
    new_browser: Callable[[], Browser],
    people: dict[str, str],
    file_for: Callable[..., dict[str, int]],
    session_factory: Any,
) -> None:
    inquiry_id = file_for("trader")["CRA"]
    head = new_browser()
    head.sign_in("cra-head")
    head.get(f"/inquiries/{inquiry_id}")
    empty = head.post(f"/inquiries/{inquiry_id}/escalate", {"reason": "  "})
    assert empty.status_code == 422 and "دلیل ارجاع را بنویسید." in empty.text
    for forged in ("ghost", "ivo-1", "cra-head"):
        refused = head.post(f"/inquiries/{inquiry_id}/assign", {"officer": forged})
        assert refused.status_code == 422, forged
        assert "یکی از کارشناسان دستگاه را از فهرست برگزینید." in refused.text
    text = "<script>alert(1)</script>" * 100
    too_long = head.post(f"/inquiries/{inquiry_id}/escalate", {"reason": text})
    assert too_long.status_code == 422 and "&lt;script&gt;" in too_long.text
    assert "<script>alert(1)</script>" not in too_long.text
    head.english()
    empty = head.post(f"/inquiries/{inquiry_id}/escalate", {"reason": ""})
    assert empty.status_code == 422 and "Give the reason for escalating." in empty.text
    refused = head.post(f"/inquiries/{inquiry_id}/assign", {"officer": ""})
    assert "Choose one of the agency&#39;s officers from the list." in refused.text
    inquiry = _inquiry(session_factory, inquiry_id)
    assert (inquiry.escalation_level, inquiry.assigned_to) == (0, None)
    assert _firings(session_factory) == 0


def test_who_may_escalate_acknowledge_and_reassign(
    new_browser: Callable[[], Browser],
    people: dict[str, str],
    file_for: Callable[..., dict[str, int]],
    session_factory: Any,
) -> None:
    filed = file_for("trader")
    inquiry_id = filed["CRA"]
    browsers = {name: new_browser() for name in ("trader", "cra-1", "ivo-1", "supervisor")}
    for name, b in browsers.items():
        b.sign_in(name)
    trader, officer, ivo, supervisor = browsers.values()
    assert trader.get("/escalations").status_code == 403
    assert officer.get("/escalations").status_code == 200
    assert supervisor.get("/escalations?agency=CRA").status_code == 200
    # Officers neither escalate nor reassign; traders do nothing here.
    assert officer.post(f"/inquiries/{inquiry_id}/escalate", {"reason": "x"}).status_code == 403
    assert officer.post(f"/inquiries/{inquiry_id}/assign", {"officer": "cra-2"}).status_code == 403
    assert trader.post(f"/inquiries/{inquiry_id}/acknowledge", {}).status_code == 403
    # Another agency's officer cannot see the inquiry at all.
    assert ivo.post(f"/inquiries/{inquiry_id}/acknowledge", {}).status_code == 404
    # Nothing to acknowledge before an escalation.
    assert officer.post(f"/inquiries/{inquiry_id}/acknowledge", {}).status_code == 409
    # A supervisor may escalate by hand, but acknowledging is the agency's.
    supervisor.get(f"/inquiries/{inquiry_id}")
    done = supervisor.post(f"/inquiries/{inquiry_id}/escalate", {"reason": "Ministerial query"})
    assert done.status_code == 303
    assert supervisor.post(f"/inquiries/{inquiry_id}/acknowledge", {}).status_code == 403
    # Without the CSRF token nothing happens.
    before = _firings(session_factory)
    forged = supervisor.post(f"/inquiries/{inquiry_id}/escalate", {"reason": "again"}, csrf=False)
    assert forged.status_code == 403 and _firings(session_factory) == before
    assert officer.post(f"/inquiries/{inquiry_id}/acknowledge", {}, csrf=False).status_code == 403
    assert _inquiry(session_factory, inquiry_id).acknowledged_at is None


def test_the_same_escalation_form_sent_twice_escalates_once(
    new_browser: Callable[[], Browser],
    people: dict[str, str],
    file_for: Callable[..., dict[str, int]],
    session_factory: Any,
) -> None:
    inquiry_id = file_for("trader")["CRA"]
    head = new_browser()
    head.sign_in("cra-head")
    head.get(f"/inquiries/{inquiry_id}")
    body = {"reason": "Once", "form_token": "web-the-same-token"}
    assert head.post(f"/inquiries/{inquiry_id}/escalate", body).status_code == 303
    assert head.post(f"/inquiries/{inquiry_id}/escalate", body).status_code == 303
    assert _firings(session_factory) == 1


def test_the_clock_shows_segments_time_and_ladder_in_jalali_and_gregorian(
    new_browser: Callable[[], Browser],
    people: dict[str, str],
    file_for: Callable[..., dict[str, int]],
) -> None:
    filed = file_for("trader")
    inquiry_id = filed["CRA"]
    officer, trader = new_browser(), new_browser()
    officer.sign_in("cra-1")
    trader.sign_in("trader")
    page = officer.get(f"/inquiries/{inquiry_id}")
    assert "زمان‌سنج مهلت پاسخگویی" in page.text
    assert "۷ روز کاری" in page.text  # the budget: CRA answers in 7 business days
    assert "در خطر" in page.text and "پایان مهلت" in page.text  # the default ladder
    assert "شنبه ۳۰ آبان ۱۴۰۵" in page.text  # the first segment starts at filing
    officer.post(
        f"/inquiries/{inquiry_id}/decision",
        {"outcome": "request_info", "reason": "Send the invoice", "step": "confirm"},
    )
    mine = trader.get(f"/declarations/{filed['declaration']}")
    assert "مهلت و ارجاع" in mine.text
    assert mine.text.count('class="segment-paused"') == 1
    assert "تا توقف مهلت محفوظ می‌ماند" in mine.text
    trader.english()
    mine = trader.get(f"/declarations/{filed['declaration']}")
    assert "Service-level clock" in mine.text and "Sat 21 Nov 2026, 08:30" in mine.text
    assert "kept while the clock is paused" in mine.text


def test_supervisors_and_heads_read_the_immediate_report_on_the_pages(
    new_browser: Callable[[], Browser],
    people: dict[str, str],
    file_for: Callable[..., dict[str, int]],
    clock: ManualClock,
) -> None:
    from panjereh.reports import render

    filed = file_for("trader")
    clock.advance(timedelta(days=30))  # every deadline has passed
    supervisor, head, trader = new_browser(), new_browser(), new_browser()
    supervisor.sign_in("supervisor")
    head.sign_in("cra-head")
    trader.sign_in("trader")
    report = supervisor.get("/reports/immediate")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "گزارش فوری استعلام‌های دارای تأخیر" in report.text
    policy = report.headers["content-security-policy"]
    assert "style-src 'sha256-" in policy and "script-src" not in policy
    assert f">{_fa(filed['CRA'])}<" in report.text or str(filed["CRA"]) in report.text
    supervisor.english()
    english = supervisor.get("/reports/immediate?agency=CRA")
    assert "Immediate report on late inquiries" in english.text
    assert "Central Bank" not in english.text
    own = head.get("/reports/immediate")
    assert own.status_code == 200
    assert head.get("/reports/immediate?agency=IVO").status_code == 403
    assert trader.get("/reports/immediate").status_code == 403
    assert trader.get("/reports/immediate.pdf").status_code == 403
    assert "/reports/immediate.pdf" in head.get("/overdue").text
    try:
        render.font_paths()
    except render.AssetsMissing:
        pytest.skip("the PDF font is not installed (python -m panjereh.web.assets)")
    pdf = head.get("/reports/immediate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]


def _fa(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
