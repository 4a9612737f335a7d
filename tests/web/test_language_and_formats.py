"""Persian first: right to left, Jalali dates, Persian digits; English on a remembered switch;
every message of the pages translated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import panjereh.web
from panjereh import formatting
from panjereh.auth.models import Role
from panjereh.web import hs
from panjereh.web.i18n import translations
from tests.web.conftest import Browser

TEHRAN = ZoneInfo("Asia/Tehran")
WEB = Path(panjereh.web.__file__).parent


def test_persian_is_the_default_and_english_is_remembered(
    browser: Browser, make_user: Callable[..., str]
) -> None:
    make_user("trader", Role.TRADER)
    page = browser.get("/sign-in")
    assert '<html lang="fa" dir="rtl">' in page.text and "ورود" in page.text
    switched = browser.post("/language", {"lang": "en", "next": "/sign-in"})
    assert switched.status_code == 303 and switched.headers["location"] == "/sign-in"
    assert "panjereh_lang=en" in switched.headers["set-cookie"]
    page = browser.get("/sign-in")
    assert '<html lang="en" dir="ltr">' in page.text and "Sign in" in page.text
    browser.sign_in("trader")
    assert '<html lang="en"' in browser.get("/declarations").text  # survives signing in
    browser.post("/language", {"lang": "fa", "next": "https://evil.example/"})
    assert browser.last is not None and browser.last.headers["location"] == "/"
    assert '<html lang="fa"' in browser.get("/declarations").text


def test_dates_are_jalali_in_persian_and_gregorian_in_english() -> None:
    saturday = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # 08:30 in Tehran
    assert formatting.date_text(saturday, "fa", TEHRAN) == "۳۰ آبان ۱۴۰۵"
    assert formatting.datetime_text(saturday, "fa", TEHRAN) == "شنبه ۳۰ آبان ۱۴۰۵، ۰۸:۳۰"
    assert formatting.datetime_text(saturday, "en", TEHRAN) == "Sat 21 Nov 2026, 08:30"
    nowruz = datetime(2027, 3, 21, 8, 0, tzinfo=UTC)
    assert formatting.date_text(nowruz, "fa", TEHRAN) == "۱ فروردین ۱۴۰۶"


def test_numbers_and_money_in_each_language() -> None:
    assert formatting.number(Decimal("240000.50"), "fa") == "۲۴۰٬۰۰۰٫۵"
    assert formatting.number(Decimal("240000.00"), "en") == "240,000"
    assert formatting.money(Decimal("1200"), "USD", "en") == "1,200 USD"
    assert formatting.number(12, "fa") == "۱۲"
    assert formatting.fixed(85.7, 1, "fa") == "۸۵٫۷"
    assert formatting.fixed(Decimal("1234.5"), 2, "fa") == "۱٬۲۳۴٫۵۰"
    assert formatting.fixed(Decimal("24"), 1, "en") == "24.0"
    assert formatting.plain_number(" ۲۴۰٬۰۰۰٫۵۰ ") == "240000.50"
    assert formatting.plain_number("1,200") == "1200"
    assert formatting.ascii_digits("٨٥١٧١٣") == "851713"


def test_business_days_left_follow_the_agency_calendar() -> None:
    from panjereh.sla.calendar import THU_FRI, iran_calendar

    calendar = iran_calendar(years=range(2026, 2028), weekend=THU_FRI)
    saturday = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    due = calendar.deadline(saturday, 5)
    left = formatting.time_left(calendar=calendar, due_at=due, now=saturday, tz=TEHRAN)
    assert (left.days, left.overdue) == (4, False)
    late = formatting.time_left(calendar=calendar, due_at=saturday, now=due, tz=TEHRAN)
    assert late.overdue and late.days == 4
    today = formatting.time_left(calendar=calendar, due_at=due, now=due.replace(hour=5), tz=TEHRAN)
    assert today.due_today


def test_hs_search_reads_codes_and_words() -> None:
    assert "851713" in [m.code for m in hs.search("85171")]
    assert all(m.code.startswith("8517") for m in hs.search("8517"))
    assert "030211" in [m.code for m in hs.search("Trout FRESH")]
    assert hs.search("۸۵۱۷۱۳")[0].code == "851713"
    assert hs.search("a") == [] and hs.search("") == []
    assert len(hs.search("parts")) == hs.MAX_RESULTS


def test_every_message_of_the_pages_has_a_persian_translation() -> None:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(WEB), method_map=method_map, options_map=options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    po = WEB / "locale" / "fa" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale="fa")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id
        and m.string
        and (m.string if isinstance(m.string, str) else m.string[0])
        and not m.fuzzy
    }
    missing = sorted(found - translated)
    assert not missing, f"not translated in messages.po: {missing}"
    assert translations("fa").gettext("Sign in") == "ورود"
    assert translations("en").gettext("Sign in") == "Sign in"
