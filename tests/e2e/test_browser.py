"""The single window in a real browser: a trader files through the form and follows the
inquiries; every agency's officer decides; the goods clear; the same in English; a request for
information answered through the page; another trader cannot open the declaration."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.e2e.server import LiveServer

SMARTPHONES = {
    "search": "8517",
    "hs": "851713",
    "description": "Smartphones",
    "origin": "CN",
    "quantity": "1200",
    "value": "240000",
    "currency": "USD",
}
TROUT = {
    "search": "trout fresh",
    "hs": "030211",
    "description": "Trout, fresh",
    "origin": "NO",
    "quantity": "800",
    "value": "50000",
    "currency": "EUR",
}
BEEF = {
    "search": "0201",
    "hs": "020130",
    "description": "Beef, boneless",
    "origin": "BR",
    "quantity": "20",
    "value": "900",
    "currency": "USD",
}


def file_through_the_form(page: Any, server: LiveServer, items: list[dict[str, str]]) -> int:
    """Fill the new-declaration form as a person would, check, file; returns the id."""
    page.goto(f"{server.url}/declarations/new")
    page.select_option("#customs_office", "SHRJ")
    assert page.input_value("#province") == "IR-22"  # the office decides the province
    for n, goods in enumerate(items):
        if n:
            page.click("#add-item")
            page.wait_for_selector(f"#items-{n}-hs_code")
        page.fill(f"#items-{n}-hs_code", goods["search"])
        page.click(f"#items-{n}-hs_code-results [data-code='{goods['hs']}']")
        assert page.input_value(f"#items-{n}-hs_code") == goods["hs"]
        page.fill(f"#items-{n}-description", goods["description"])
        page.select_option(f"#items-{n}-origin_country", goods["origin"])
        page.fill(f"#items-{n}-quantity", goods["quantity"])
        page.fill(f"#items-{n}-value", goods["value"])
        page.select_option(f"#items-{n}-currency", goods["currency"])
    page.click("button[value=check]")
    page.wait_for_selector("#check-title")
    page.click("button[value=file]")
    page.wait_for_url(re.compile(r"/declarations/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def inquiries_on(page: Any) -> dict[str, int]:
    """The inquiries of the declaration page, by agency code."""
    found = {}
    for card in page.locator("article.inquiry").all():
        found[card.get_attribute("data-agency")] = int(card.get_attribute("id").split("-")[1])
    return found


def decide(page: Any, server: LiveServer, inquiry_id: int, outcome: str, reason: str = "") -> None:
    """An officer finds the inquiry in the queue and decides it: review, then confirm."""
    page.goto(f"{server.url}/queue")
    page.click(f"a.row-link[href='/inquiries/{inquiry_id}']")
    page.wait_for_url(f"{server.url}/inquiries/{inquiry_id}")
    page.check(f"input[name=outcome][value={outcome}]")
    if reason:
        page.fill("#reason", reason)
    page.click("#decision button[type=submit]")
    page.click("#decision button[value=confirm]")
    page.wait_for_url(f"{server.url}/queue")
    assert page.locator(".flash").is_visible()


def test_a_trader_files_every_agency_approves_and_the_goods_clear(
    server: LiveServer, signed_in: Callable[..., Any]
) -> None:
    trader = signed_in("trader-a")
    declaration_id = file_through_the_form(trader, server, [SMARTPHONES, TROUT])
    assert "ثبت شد" in trader.locator(".flash").inner_text()
    inquiries = inquiries_on(trader)
    assert set(inquiries) == {"IVO", "CRA", "MIMT", "CBI"}
    assert "در حال استعلام" in trader.locator("h1 .badge").inner_text()
    assert trader.locator(".summary .waiting li").count() == 4
    for agency, inquiry_id in inquiries.items():
        decide(signed_in(f"officer-{agency.lower()}"), server, inquiry_id, "approve")
    trader.reload()
    assert "ترخیص شده" in trader.locator("h1 .badge").inner_text()
    assert "ترخیص شد" in trader.locator(".summary").inner_text()
    assert trader.locator("article.inquiry.state-approved").count() == 4
    assert trader.locator(".timeline li").last.inner_text().find("کالا ترخیص شد") >= 0
    trader.goto(f"{server.url}/declarations")
    assert trader.locator(f"table a[href='/declarations/{declaration_id}']").is_visible()
    assert "کالا ترخیص شد" in trader.locator(".updates").inner_text()


def test_the_same_in_english(server: LiveServer, signed_in: Callable[..., Any]) -> None:
    trader = signed_in("trader-en")
    trader.click(".lang-switch")
    trader.wait_for_selector("html[lang=en]")
    file_through_the_form(trader, server, [SMARTPHONES])
    assert "Declaration" in trader.locator("h1").inner_text()
    inquiries = inquiries_on(trader)
    assert set(inquiries) == {"CRA", "MIMT", "CBI"}
    assert "Under inquiry" in trader.locator("h1 .badge").inner_text()
    for agency, inquiry_id in inquiries.items():
        decide(signed_in(f"officer-{agency.lower()}"), server, inquiry_id, "approve")
    trader.reload()
    assert trader.locator("html").get_attribute("dir") == "ltr"
    assert "Cleared" in trader.locator("h1 .badge").inner_text()
    assert "the goods may leave customs" in trader.locator(".summary").inner_text()


def test_a_request_for_information_is_answered_through_the_page(
    server: LiveServer, signed_in: Callable[..., Any]
) -> None:
    trader = signed_in("trader-a")
    declaration_id = file_through_the_form(trader, server, [BEEF])
    inquiries = inquiries_on(trader)
    assert list(inquiries) == ["IVO"]
    officer = signed_in("officer-ivo")
    decide(
        officer, server, inquiries["IVO"], "request_info", "Send the halal slaughter certificate."
    )
    trader.reload()
    assert "منتظر پاسخ شماست" in trader.locator(".summary").inner_text()
    card = trader.locator(f"#inquiry-{inquiries['IVO']}")
    assert "Send the halal slaughter certificate." in card.inner_text()
    card.locator("textarea[name=message]").fill("Certificate no. 7781 is attached.")
    card.locator("button[type=submit]").click()
    trader.wait_for_url(re.compile(rf"/declarations/{declaration_id}"))
    assert "پاسخ شما برای دستگاه فرستاده شد" in trader.locator(".flash").inner_text()
    assert (
        "Certificate no. 7781 is attached."
        in trader.locator(f"#inquiry-{inquiries['IVO']}").inner_text()
    )
    decide(officer, server, inquiries["IVO"], "approve")
    trader.reload()
    assert "ترخیص شده" in trader.locator("h1 .badge").inner_text()


def test_another_trader_cannot_open_the_declaration_by_url(
    server: LiveServer, signed_in: Callable[..., Any]
) -> None:
    owner = signed_in("trader-a")
    declaration_id = file_through_the_form(owner, server, [BEEF])
    other = signed_in("trader-b")
    response = other.goto(f"{server.url}/declarations/{declaration_id}")
    assert response is not None and response.status == 404
    assert "پیدا نشد" in other.locator("h1").inner_text()
    assert "Beef" not in other.content()


def test_the_pages_work_by_keyboard_and_fit_a_phone(
    server: LiveServer, chromium: Any, signed_in: Callable[..., Any]
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/sign-in")
        assert page.evaluate("document.activeElement.id") == "username"  # autofocus
        first = "document.querySelector('a[href], button, input:not([type=hidden]), select')"
        assert page.evaluate(f"{first}.className") == "skip-link"
        page.focus(".skip-link")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # from the top of the content: the username
        assert page.evaluate("document.activeElement.id") == "username"
        page.keyboard.type("trader-a")
        page.keyboard.press("Tab")
        page.keyboard.type("browser-test-password")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.url}/declarations")
        for path in ("/declarations", "/declarations/new"):
            page.goto(f"{server.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()
    officer = signed_in("officer-cra", width=390)
    assert officer.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
