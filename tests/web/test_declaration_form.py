"""The new-declaration form: field-level errors in both languages, what was typed is kept,
nothing is filed from an invalid form, the pre-filing check comes before filing, and a form
filed twice files once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from panjereh.auth.models import Role
from panjereh.declarations.models import Declaration
from panjereh.inquiries.models import Inquiry
from tests.web.conftest import Browser, count_rows, declaration_fields, item_fields


@pytest.fixture
def trader(browser: Browser, make_user: Callable[..., str]) -> Browser:
    make_user("trader", Role.TRADER)
    browser.sign_in("trader")
    browser.get("/declarations/new")
    return browser


def _post(b: Browser, fields: dict[str, str], action: str, **extra: str) -> Any:
    b.get("/declarations/new") if b.last is None else None
    token = b.form_token()
    return b.post("/declarations/new", {**fields, "action": action, "form_token": token, **extra})


def _checked(text: str) -> str:
    match = re.search(r'name="checked" value="([^"]+)"', text)
    assert match, "the page shows no check to file"
    return match.group(1)


# field -> (bad value, Persian message, English message)
ITEM_CASES = {
    "hs_code": (
        "85",
        "کد شش‌رقمی نظام هماهنگ یا ردیف تعرفه هشت‌رقمی وارد کنید.",
        "Enter a 6-digit HS subheading or an 8-digit tariff line.",
    ),
    "description": ("", "شرح کالا را بنویسید.", "Describe the goods."),
    "origin_country": (
        "XX",
        "کشور مبدأ را از فهرست انتخاب کنید.",
        "Choose the country of origin from the list.",
    ),
    "quantity": (
        "twelve",
        "یک عدد وارد کنید، مانند ۱۲۰۰ یا ۲۵۰۰٫۵۰.",
        "Enter a number, for example 1200 or 2500.50.",
    ),
    "unit": (
        "kg!",
        "کد واحد را با حروف و رقم لاتین بنویسید، مانند NAR یا KGM.",
        "Use a unit code of letters and digits, such as NAR or KGM.",
    ),
    "value": ("0", "باید بیشتر از صفر باشد.", "Must be more than zero."),
    "currency": ("ABC", "ارز را از فهرست انتخاب کنید.", "Choose a currency from the list."),
}


@pytest.mark.parametrize("lang", ["fa", "en"])
@pytest.mark.parametrize("field", sorted(ITEM_CASES))
def test_each_item_field_is_refused_with_its_own_message(
    trader: Browser, session_factory: Any, lang: str, field: str
) -> None:
    if lang == "en":
        trader.english()
        trader.get("/declarations/new")
    bad, fa, en = ITEM_CASES[field]
    fields = declaration_fields(item_fields(**{field: bad}))
    page = _post(trader, fields, "check")
    assert page.status_code == 422
    message = fa if lang == "fa" else en
    assert f'id="items-0-{field}-error">{message}</p>' in page.text.replace("&#34;", '"')
    assert f'id="items-0-{field}"' in page.text
    assert 'aria-invalid="true"' in page.text
    # The other fields keep what was typed.
    assert 'value="Smartphones"' in page.text or field == "description"
    assert count_rows(session_factory, Declaration) == 0


def test_an_unknown_subheading_is_named(trader: Browser) -> None:
    page = _post(trader, declaration_fields(item_fields(hs_code="851799")), "check")
    assert "۸۵۱۷۹۹ در نظام هماهنگ ۲۰۲۲ یک کد شش‌رقمی معتبر نیست." in page.text
    trader.english()
    trader.get("/declarations/new")
    page = _post(trader, declaration_fields(item_fields(hs_code="851799")), "check")
    assert "851799 is not an HS 2022 subheading." in page.text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "fa",
            [
                "گمرک را از فهرست انتخاب کنید.",
                "استان را از فهرست انتخاب کنید.",
                "یکی از گزینه‌های واردات، صادرات یا ترانزیت را انتخاب کنید.",
                "دست‌کم یک ردیف کالا وارد کنید.",
            ],
        ),
        (
            "en",
            [
                "Choose a customs office from the list.",
                "Choose a province from the list.",
                "Choose import, export or transit.",
                "Add at least one item.",
            ],
        ),
    ],
)
def test_an_empty_form_names_every_missing_field(
    trader: Browser, session_factory: Any, lang: str, expected: list[str]
) -> None:
    if lang == "en":
        trader.english()
        trader.get("/declarations/new")
    page = _post(trader, {"kind": "", "items-0-currency": "USD", "items-0-unit": "NAR"}, "check")
    assert page.status_code == 422
    for message in expected:
        assert message in page.text
    assert 'id="error-summary"' in page.text
    assert count_rows(session_factory, Declaration) == 0


def test_persian_digits_and_separators_are_read_as_numbers(trader: Browser) -> None:
    fields = declaration_fields(item_fields(hs_code="۸۵۱۷۱۳", quantity="۱۲۰۰", value="۲۴۰٬۰۰۰٫۵۰"))
    page = _post(trader, fields, "check")
    assert page.status_code == 200, page.text
    assert "سازمان تنظیم مقررات و ارتباطات رادیویی" in page.text


def test_items_are_added_and_removed_keeping_what_was_typed(trader: Browser) -> None:
    fields = declaration_fields(item_fields(description="First goods"))
    added = _post(trader, fields, "add_item")
    assert added.status_code == 200
    assert 'id="items-1-hs_code"' in added.text and 'value="First goods"' in added.text
    assert 'data-focus="items-1-hs_code"' in added.text
    two = declaration_fields(
        item_fields(0, description="First goods"), item_fields(1, description="Second goods")
    )
    removed = _post(trader, two, "remove_item:0")
    assert 'value="Second goods"' in removed.text and "First goods" not in removed.text
    assert 'id="items-1-hs_code"' not in removed.text
    one_left = _post(trader, declaration_fields(item_fields(0)), "remove_item:0")
    assert 'id="items-0-hs_code"' in one_left.text  # the form keeps an empty row


def test_the_check_comes_before_filing_and_a_changed_form_is_checked_again(
    trader: Browser, session_factory: Any
) -> None:
    body = declaration_fields(
        item_fields(0),
        item_fields(
            1, hs_code="030211", description="Trout, fresh", origin_country="NO", value="50000"
        ),
    )
    # "File" without a check only checks.
    first = _post(trader, body, "file")
    assert first.status_code == 200 and count_rows(session_factory, Declaration) == 0
    assert "بررسی پیش از ثبت" in first.text
    for agency in ("سازمان دامپزشکی کشور", "بانک مرکزی جمهوری اسلامی ایران"):
        assert agency in first.text
    checked = _checked(first.text)
    # The goods change after the check: the new check is shown, nothing is filed.
    changed = dict(body, **{"items-1-value": "900"})
    again = _post(trader, changed, "file", checked=checked)
    assert again.status_code == 200 and count_rows(session_factory, Declaration) == 0
    assert "کالاها پس از بررسی تغییر کرده‌اند" in again.text
    filed = _post(trader, changed, "file", checked=_checked(again.text))
    assert filed.status_code == 303
    assert re.fullmatch(r"/declarations/\d+", filed.headers["location"])
    assert count_rows(session_factory, Declaration) == 1
    assert count_rows(session_factory, Inquiry) == 4


def test_a_form_filed_twice_files_once(trader: Browser, session_factory: Any) -> None:
    body = declaration_fields()
    checked_page = _post(trader, body, "check")
    token, checked = trader.form_token(), _checked(checked_page.text)
    extra = {"action": "file", "form_token": token, "checked": checked}
    first = trader.post("/declarations/new", {**body, **extra})
    second = trader.post("/declarations/new", {**body, **extra})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert count_rows(session_factory, Declaration) == 1
    # The same page reused for other goods is not a retry: it is refused, with a fresh form.
    other = dict(body, **{"items-0-quantity": "5"})
    reused = trader.post(
        "/declarations/new", {**other, "action": "file", "form_token": token, "checked": checked}
    )
    assert count_rows(session_factory, Declaration) == 1
    assert reused.status_code in (200, 409)


def test_htmx_gets_the_form_alone_and_a_redirect_header(trader: Browser) -> None:
    headers = {"HX-Request": "true"}
    token = trader.form_token()
    part = trader.post(
        "/declarations/new",
        {**declaration_fields(), "action": "check", "form_token": token},
        headers=headers,
    )
    assert part.status_code == 200
    assert part.text.lstrip().startswith("<form") and "<html" not in part.text
    filed = trader.post(
        "/declarations/new",
        {
            **declaration_fields(),
            "action": "file",
            "form_token": token,
            "checked": _checked(part.text),
        },
        headers=headers,
    )
    assert filed.status_code == 204 and filed.headers["hx-redirect"].startswith("/declarations/")


def test_hs_search_by_code_and_by_words(trader: Browser) -> None:
    by_code = trader.get("/hs-search?q=8517&target=items-0-hs_code", headers={"HX-Request": "true"})
    assert 'data-code="851713"' in by_code.text and "<html" not in by_code.text
    by_words = trader.get("/hs-search?q=trout+fresh", headers={"HX-Request": "true"})
    assert 'data-code="030211"' in by_words.text
    persian = trader.get("/hs-search?q=۸۵۱۷۱", headers={"HX-Request": "true"})
    assert 'data-code="851713"' in persian.text
    nothing = trader.get("/hs-search?q=zzzzqq", headers={"HX-Request": "true"})
    assert "هیچ کد تعرفه‌ای" in nothing.text
    page = trader.get("/hs-search?q=refrigerator")
    assert "<html" in page.text and "841821" in page.text
    bad_target = trader.get("/hs-search?q=8517&target=%22%3E%3Cscript%3E")
    assert bad_target.status_code == 404
