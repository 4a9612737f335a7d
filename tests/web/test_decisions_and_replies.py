"""The officer's decision (review, confirm, once), the trader's reply, cancelling, and the
administrator's rule preview: their validation in both languages and their effect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.inquiries.models import Inquiry
from tests.conftest import declaration, item
from tests.web.conftest import Browser


@pytest.fixture
def filed(make_user: Callable[..., str], file_for: Callable[..., dict[str, int]]) -> dict[str, int]:
    make_user("trader", Role.TRADER)
    make_user("ivo", Role.OFFICER, "IVO")
    body = declaration(
        item("020130", description="Beef, boneless", origin_country="BR", value="900")
    )
    return file_for("trader", body)


def _state(session_factory: Any, inquiry_id: int) -> str:
    with session_factory() as session:
        return str(session.scalar(select(Inquiry.state).where(Inquiry.id == inquiry_id)))


def _events(session_factory: Any, inquiry_id: int) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(Event.kind).where(Event.inquiry_id == inquiry_id)))


@pytest.mark.parametrize(
    ("lang", "outcome", "message"),
    [
        ("fa", "reject", "دلیل رد را بنویسید؛ بازرگان آن را می‌بیند."),
        ("fa", "request_info", "بنویسید بازرگان چه اطلاعاتی باید بفرستد."),
        ("fa", "", "یکی از گزینه‌های تأیید، رد یا درخواست اطلاعات را انتخاب کنید."),
        ("en", "reject", "Give the reason for the rejection: the trader will read it."),
        ("en", "request_info", "Say what information the trader must send."),
        ("en", "", "Choose approve, reject or request information."),
    ],
)
def test_a_decision_needs_an_outcome_and_a_reason_to_refuse_or_ask(
    browser: Browser,
    filed: dict[str, int],
    session_factory: Any,
    lang: str,
    outcome: str,
    message: str,
) -> None:
    browser.sign_in("ivo")
    if lang == "en":
        browser.english()
    browser.get(f"/inquiries/{filed['IVO']}")
    for step in ("review", "confirm"):
        page = browser.post(
            f"/inquiries/{filed['IVO']}/decision",
            {"outcome": outcome, "reason": "  ", "step": step, "form_token": browser.form_token()},
        )
        assert page.status_code == 422
        assert message in page.text
        assert 'aria-invalid="true"' in page.text
    assert _state(session_factory, filed["IVO"]) == "awaiting_answer"


def test_a_decision_is_reviewed_confirmed_and_made_once(
    browser: Browser, filed: dict[str, int], session_factory: Any
) -> None:
    browser.sign_in("ivo")
    browser.get(f"/inquiries/{filed['IVO']}")
    token = browser.form_token()
    review = browser.post(
        f"/inquiries/{filed['IVO']}/decision",
        {
            "outcome": "reject",
            "reason": "No halal certificate.",
            "step": "review",
            "form_token": token,
        },
    )
    assert review.status_code == 200
    assert "استعلام شماره ۱ رد شود؟" in review.text or "رد شود؟" in review.text
    assert 'name="step" value="confirm"' in review.text
    assert _state(session_factory, filed["IVO"]) == "awaiting_answer"  # nothing yet
    back = browser.post(
        f"/inquiries/{filed['IVO']}/decision",
        {
            "outcome": "reject",
            "reason": "No halal certificate.",
            "step": "edit",
            "form_token": token,
        },
    )
    assert "No halal certificate." in back.text and 'name="step" value="review"' in back.text
    confirm = {
        "outcome": "reject",
        "reason": "No halal certificate.",
        "step": "confirm",
        "form_token": token,
    }
    first = browser.post(f"/inquiries/{filed['IVO']}/decision", confirm)
    second = browser.post(f"/inquiries/{filed['IVO']}/decision", confirm)  # a double submit
    assert first.status_code == second.status_code == 303
    assert _state(session_factory, filed["IVO"]) == "rejected"
    assert _events(session_factory, filed["IVO"]).count("inquiry.rejected") == 1
    queue = browser.get(first.headers["location"])
    assert "استعلام ۱ رد شد" in queue.text
    # A new decision on the closed inquiry is refused with a page, not a stack trace.
    browser.get(f"/inquiries/{filed['IVO']}")
    assert "این استعلام بسته شده است." in browser.last.text  # type: ignore[union-attr]
    late = browser.post(
        f"/inquiries/{filed['IVO']}/decision",
        {"outcome": "approve", "step": "confirm", "form_token": "another-form"},
    )
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("lang", "message"), [("fa", "پاسخ خود را بنویسید."), ("en", "Write your answer.")]
)
def test_a_request_for_information_is_answered_on_the_declaration_page(
    new_browser: Callable[[], Browser],
    filed: dict[str, int],
    session_factory: Any,
    lang: str,
    message: str,
) -> None:
    officer, trader = new_browser(), new_browser()
    officer.sign_in("ivo")
    officer.get(f"/inquiries/{filed['IVO']}")
    asked = officer.post(
        f"/inquiries/{filed['IVO']}/decision",
        {
            "outcome": "request_info",
            "reason": "Send the slaughter certificate.",
            "step": "confirm",
            "form_token": officer.form_token(),
        },
    )
    assert asked.status_code == 303
    trader.sign_in("trader")
    if lang == "en":
        trader.english()
    page = trader.get(f"/declarations/{filed['declaration']}")
    assert "Send the slaughter certificate." in page.text
    assert f'action="/inquiries/{filed["IVO"]}/reply"' in page.text
    empty = trader.post(
        f"/inquiries/{filed['IVO']}/reply", {"message": "   ", "form_token": trader.form_token()}
    )
    assert empty.status_code == 422 and message in empty.text
    assert _state(session_factory, filed["IVO"]) == "info_requested"
    sent = trader.post(
        f"/inquiries/{filed['IVO']}/reply",
        {"message": "Certificate no. 7781 attached.", "form_token": trader.form_token()},
    )
    assert sent.status_code == 303
    assert _state(session_factory, filed["IVO"]) == "awaiting_answer"
    assert (
        "Certificate no. 7781 attached." in trader.get(f"/declarations/{filed['declaration']}").text
    )


def test_a_declaration_is_cancelled_after_confirmation(
    browser: Browser, filed: dict[str, int], session_factory: Any
) -> None:
    browser.sign_in("trader")
    browser.get(f"/declarations/{filed['declaration']}")
    review = browser.post(f"/declarations/{filed['declaration']}/cancel", {"step": "review"})
    assert review.status_code == 200 and "بله، ابطال شود" in review.text
    assert _state(session_factory, filed["IVO"]) == "awaiting_answer"
    done = browser.post(
        f"/declarations/{filed['declaration']}/cancel",
        {"step": "confirm", "form_token": browser.form_token()},
    )
    assert done.status_code == 303
    assert _state(session_factory, filed["IVO"]) == "withdrawn"
    page = browser.get(f"/declarations/{filed['declaration']}")
    assert "ابطال شده" in page.text and "اظهارنامه ابطال شد." in page.text


@pytest.mark.parametrize(
    ("document", "fa", "en"),
    [
        ("{not json", "این متن JSON معتبر نیست.", "This is not valid JSON."),
        (
            '{"kind": "import", "customs_office": "SHRJ", "province": "IR-22", "items": []}',
            "دست‌کم یک ردیف کالا وارد کنید.",
            "Add at least one item.",
        ),
    ],
)
def test_the_rule_preview_names_what_is_wrong(
    browser: Browser, make_user: Callable[..., str], document: str, fa: str, en: str
) -> None:
    make_user("admin", Role.ADMIN)
    browser.sign_in("admin")
    browser.get("/admin/rules/preview")
    page = browser.post("/admin/rules/preview", {"document": document})
    assert page.status_code == 422 and fa in page.text
    browser.english()
    page = browser.post("/admin/rules/preview", {"document": document})
    assert page.status_code == 422 and en in page.text
    assert "&#34;" in page.text or "&quot;" in page.text or document == "{not json"


def test_the_rule_preview_shows_the_inquiries_a_sample_would_get(
    browser: Browser, make_user: Callable[..., str]
) -> None:
    make_user("admin", Role.ADMIN)
    browser.sign_in("admin")
    sample = browser.get("/admin/rules/preview")
    assert "851713" in sample.text
    import json

    body = json.dumps(declaration(item(), item("030211", origin_country="NO", value="50000")))
    page = browser.post("/admin/rules/preview", {"document": body})
    assert page.status_code == 200
    for agency in ("سازمان دامپزشکی کشور", "سازمان تنظیم مقررات و ارتباطات رادیویی"):
        assert agency in page.text
    overview = browser.get("/admin")
    assert "IVO" in overview.text and "admin" in overview.text
