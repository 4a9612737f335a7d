"""Forged or missing CSRF tokens are refused with a 403 page and change nothing; HTML typed
into any field is shown as text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from panjereh.auth.models import Role
from panjereh.declarations.models import Declaration
from panjereh.inquiries.models import Inquiry
from tests.conftest import declaration, item
from tests.web.conftest import Browser, count_rows, declaration_fields, item_fields

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_forms_without_this_sessions_token_are_refused(
    browser: Browser,
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
    session_factory: Any,
    token: str | None,
) -> None:
    make_user("trader", Role.TRADER)
    make_user("cra", Role.OFFICER, "CRA")
    filed = file_for("trader")
    body: dict[str, str] = {} if token is None else {"csrf_token": token}
    # Sign-in itself is protected (login CSRF).
    browser.get("/sign-in")
    refused = browser.post(
        "/sign-in", {**body, "username": "trader", "password": "correct-horse-battery"}, csrf=False
    )
    assert refused.status_code == 403
    assert "این فرم منقضی شده یا از این سامانه نیامده است" in refused.text
    assert "set-cookie" not in refused.headers or "uid" not in refused.headers["set-cookie"]
    browser.sign_in("trader")
    filing = {**declaration_fields(), "action": "file", **body}
    assert browser.post("/declarations/new", filing, csrf=False).status_code == 403
    assert count_rows(session_factory, Declaration) == 1
    cancel = browser.post(
        f"/declarations/{filed['declaration']}/cancel", {"step": "confirm", **body}, csrf=False
    )
    assert cancel.status_code == 403
    assert browser.post("/language", {"lang": "en", **body}, csrf=False).status_code == 403
    assert browser.post("/sign-out", body, csrf=False).status_code == 403
    assert browser.get("/declarations").status_code == 200  # still signed in
    officer = browser
    officer.post("/sign-out")
    officer.sign_in("cra")
    decide = officer.post(
        f"/inquiries/{filed['CRA']}/decision",
        {"outcome": "approve", "step": "confirm", **body},
        csrf=False,
    )
    assert decide.status_code == 403
    with session_factory() as session:
        assert (
            session.scalar(select(Inquiry.state).where(Inquiry.id == filed["CRA"]))
            == "awaiting_answer"
        )


def test_a_token_from_another_session_is_refused(
    new_browser: Callable[[], Browser], make_user: Callable[..., str], session_factory: Any
) -> None:
    make_user("trader", Role.TRADER)
    attacker, victim = new_browser(), new_browser()
    stolen = attacker.csrf()
    victim.sign_in("trader")
    forged = victim.post(
        "/declarations/new",
        {**declaration_fields(), "action": "file", "csrf_token": stolen},
        csrf=False,
    )
    assert forged.status_code == 403


def test_htmx_requests_may_send_the_token_in_a_header(
    browser: Browser, make_user: Callable[..., str]
) -> None:
    make_user("trader", Role.TRADER)
    browser.sign_in("trader")
    page = browser.client.post(
        "/declarations/new",
        data={**declaration_fields(), "action": "add_item"},
        headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf()},
    )
    assert page.status_code == 200 and 'id="items-1-hs_code"' in page.text
    refused = browser.client.post(
        "/declarations/new",
        data={**declaration_fields(), "action": "add_item"},
        headers={"HX-Request": "true", "X-CSRF-Token": "nope"},
    )
    assert refused.status_code == 403 and refused.headers["hx-retarget"] == "body"


def test_html_typed_into_fields_is_shown_as_text(
    new_browser: Callable[[], Browser],
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
) -> None:
    make_user("trader", Role.TRADER)
    make_user("ivo", Role.OFFICER, "IVO")
    trader, officer = new_browser(), new_browser()
    trader.sign_in("trader")
    # An invalid form echoes what was typed, escaped.
    trader.get("/declarations/new")
    echoed = trader.post(
        "/declarations/new",
        {
            **declaration_fields(item_fields(description=SCRIPT, quantity=SCRIPT)),
            "action": "check",
            "form_token": trader.form_token(),
        },
    )
    assert echoed.status_code == 422
    assert "<script>alert" not in echoed.text and "<img src=x" not in echoed.text
    assert "&lt;script&gt;" in echoed.text
    # A stored description, a reason and a reply are escaped wherever they are shown.
    filed = file_for(
        "trader", declaration(item("020130", description=SCRIPT, origin_country="BR", value="900"))
    )
    officer.sign_in("ivo")
    officer.get(f"/inquiries/{filed['IVO']}")
    assert "<script>alert" not in officer.last.text  # type: ignore[union-attr]
    officer.post(
        f"/inquiries/{filed['IVO']}/decision",
        {
            "outcome": "request_info",
            "reason": SCRIPT,
            "step": "review",
            "form_token": officer.form_token(),
        },
    )
    assert "<script>alert" not in officer.last.text  # type: ignore[union-attr]
    officer.post(
        f"/inquiries/{filed['IVO']}/decision",
        {
            "outcome": "request_info",
            "reason": SCRIPT,
            "step": "confirm",
            "form_token": officer.form_token(),
        },
    )
    page = trader.get(f"/declarations/{filed['declaration']}")
    trader.post(
        f"/inquiries/{filed['IVO']}/reply", {"message": SCRIPT, "form_token": trader.form_token()}
    )
    shown = (
        trader.get(f"/declarations/{filed['declaration']}").text,
        officer.get(f"/inquiries/{filed['IVO']}").text,
        officer.get("/queue?show=all").text,
        page.text,
    )
    for view in (*shown, trader.get("/declarations").text):
        assert "<script>alert" not in view and "<img src=x" not in view
    for view in shown:
        assert "&lt;script&gt;alert(" in view
