"""Calendars and closures through the administrator's pages: a closure moves the open
deadlines it touches (and says how many), withdrawing it moves them back; holiday corrections
and working weeks; dates typed in the Solar Hijri or the Gregorian calendar, in any digits;
validation in both languages, nothing written from an invalid form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import select

from panjereh.auth.models import Role
from panjereh.calendars.models import ClosureRecord, HolidayCorrectionRecord, WorkingWeekRecord
from panjereh.calendars.service import calendar_for
from panjereh.inquiries.models import Inquiry
from panjereh.web.admin_forms import parse_date, parse_time
from tests.web.conftest import Browser, count_rows


def test_dates_are_read_in_either_calendar_and_any_digits() -> None:
    assert parse_date("1405/09/01") == date(2026, 11, 22)
    assert parse_date("۱۴۰۵/۰۹/۰۱") == date(2026, 11, 22)
    assert parse_date("١٤٠٥-٩-١") == date(2026, 11, 22)
    assert parse_date("2026-11-22") == date(2026, 11, 22)
    assert parse_date("22/11/2026") == date(2026, 11, 22)
    for bad in ("", "tomorrow", "1405/13/01", "2026-02-30", "1405/12/31", "0/0/0", "99-1-1"):
        assert parse_date(bad) is None, bad
    assert parse_time("۰۷:۳۰") == time(7, 30)
    assert parse_time("14:30") == time(14, 30)
    assert parse_time("25:00") is None and parse_time("7") is None


@pytest.fixture
def admin(new_browser: Callable[[], Browser], make_user: Callable[..., str]) -> Browser:
    make_user("admin", Role.ADMIN)
    b = new_browser()
    b.sign_in("admin")
    return b


def _due(session_factory: Any, inquiry_id: int) -> Any:
    with session_factory() as s:
        return s.get(Inquiry, inquiry_id).due_at


def test_a_closure_moves_open_deadlines_and_withdrawing_it_moves_them_back(
    admin: Browser,
    new_browser: Callable[[], Browser],
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
    session_factory: Any,
) -> None:
    make_user("trader", Role.TRADER)
    make_user("cra", Role.OFFICER, "CRA")
    filed = file_for("trader")
    before = _due(session_factory, filed["CRA"])
    admin.get("/admin/calendars")
    added = admin.post(
        "/admin/calendars/closures",
        {"start": "۱۴۰۵/۰۹/۰۱", "end": "1405/9/1", "province": "", "reason": "Heat closure"},
    )
    assert added.status_code == 303, added.text
    page = admin.get("/admin/calendars")
    assert "تعطیلی افزوده شد. مهلت ۳ استعلام باز جابه‌جا شد." in page.text
    assert "Heat closure" in page.text and "۱ آذر ۱۴۰۵" in page.text
    moved = _due(session_factory, filed["CRA"])
    assert moved > before
    officer = new_browser()
    officer.sign_in("cra")
    inquiry = officer.get(f"/inquiries/{filed['CRA']}")
    assert "مهلت جابه‌جا شد" in inquiry.text and "تعطیلی: Heat closure" in inquiry.text
    with session_factory() as s:
        closure_id = s.scalars(select(ClosureRecord.id)).one()
    withdrawn = admin.post(f"/admin/calendars/closures/{closure_id}/remove", {})
    assert withdrawn.status_code == 303
    assert "تعطیلی لغو شد. مهلت ۳ استعلام باز جابه‌جا شد." in admin.get("/admin/calendars").text
    assert _due(session_factory, filed["CRA"]) == before
    assert count_rows(session_factory, ClosureRecord) == 0


def test_a_provincial_closure_moves_only_that_provinces_deadlines(
    admin: Browser, make_user: Callable[..., str], file_for: Callable[..., dict[str, int]]
) -> None:
    make_user("trader", Role.TRADER)
    file_for("trader")  # at Shahid Rajaee, in Hormozgan (IR-22)
    admin.get("/admin/calendars")
    admin.post(
        "/admin/calendars/closures",
        {"start": "2026-11-22", "end": "2026-11-23", "province": "IR-06", "reason": "Dust"},
    )
    page = admin.get("/admin/calendars")
    assert "مهلت ۰ استعلام باز جابه‌جا شد." in page.text
    admin.english()
    assert "Dust" in admin.get("/admin/calendars").text


@pytest.mark.parametrize(
    ("fields", "key", "fa", "en"),
    [
        (
            {"start": "1405/09/05", "end": "1405/09/01", "reason": "Heat"},
            "end",
            "پایان تعطیلی نمی‌تواند پیش از آغاز آن باشد.",
            "The closure cannot end before it starts.",
        ),
        (
            {"start": "1405/13/40", "end": "1405/09/01", "reason": "Heat"},
            "start",
            "تاریخی مانند ۱۴۰۵/۰۹/۰۱ (یا 2026-11-22) وارد کنید.",
            "Enter a date such as 2026-11-22 (or 1405/09/01).",
        ),
        (
            {"start": "", "end": "1405/09/01", "reason": "Heat"},
            "start",
            "روز نخست را وارد کنید.",
            "Enter the first day.",
        ),
        (
            {"start": "1405/09/01", "end": "1405/09/01", "reason": " "},
            "reason",
            "دلیل را بنویسید.",
            "Give the reason.",
        ),
        (
            {"start": "1405/09/01", "end": "1405/09/01", "reason": "x", "province": "IR-99"},
            "province",
            "استان را از فهرست انتخاب کنید.",
            "Choose a province from the list.",
        ),
    ],
)
def test_the_closure_form_says_what_is_wrong_in_both_languages(
    admin: Browser, session_factory: Any, fields: dict[str, str], key: str, fa: str, en: str
) -> None:
    admin.get("/admin/calendars")
    body = {"province": "", **fields}
    page = admin.post("/admin/calendars/closures", body)
    assert page.status_code == 422 and fa in page.text
    assert f'id="{key}-error"' in page.text and f'href="#closure-{key}"' in page.text
    if fields["start"]:
        assert f'value="{fields["start"]}"' in page.text
    admin.english()
    page = admin.post("/admin/calendars/closures", body)
    assert page.status_code == 422 and en in page.text
    assert count_rows(session_factory, ClosureRecord) == 0


def test_a_holiday_correction_moves_an_official_holiday(
    admin: Browser, session_factory: Any
) -> None:
    with session_factory() as s:
        holidays = calendar_for(session=s, agency_code="IVO", province=None).holidays
    first = min(d for d in holidays if d > date(2026, 11, 21))
    admin.get("/admin/calendars")
    not_a_holiday = admin.post(
        "/admin/calendars/corrections",
        {"moved_from": "2026-11-22", "moved_to": "", "reason": "Announced"},
    )
    assert not_a_holiday.status_code == 422
    assert "این روز در تقویم تعطیل رسمی نیست" in not_a_holiday.text
    same_day = admin.post(
        "/admin/calendars/corrections",
        {"moved_from": first.isoformat(), "moved_to": first.isoformat(), "reason": "x"},
    )
    assert same_day.status_code == 422 and "تعطیلی را به روز دیگری ببرید" in same_day.text
    admin.english()
    again = admin.post(
        "/admin/calendars/corrections",
        {"moved_from": "2026-11-22", "moved_to": "", "reason": "Announced"},
    )
    assert "This day is not an official holiday in the calendar" in again.text
    assert count_rows(session_factory, HolidayCorrectionRecord) == 0
    fixed = admin.post(
        "/admin/calendars/corrections",
        {"moved_from": first.isoformat(), "moved_to": "", "reason": "Moon sighted a day later"},
    )
    assert fixed.status_code == 303, fixed.text
    page = admin.get("/admin/calendars")
    assert "Holiday corrected." in page.text and "Moon sighted a day later" in page.text
    assert count_rows(session_factory, HolidayCorrectionRecord) == 1


def test_a_working_week_changes_from_a_date_with_its_hours_checked(
    admin: Browser, session_factory: Any
) -> None:
    admin.get("/admin/calendars")
    good = {
        "agency": "IVO",
        "effective_from": "1405/09/08",
        "weekend": ["FRI"],
        "opens": "۰۷:۳۰",
        "closes": "14:30",
        "cutoff": "13:30",
    }
    for change, key, fa in (
        ({"opens": "25:00"}, "opens", "ساعتی مانند ۰۷:۳۰ وارد کنید."),
        ({"cutoff": "15:00"}, "cutoff", "آخرین ساعت دریافت باید در ساعات کاری باشد."),
        ({"closes": "07:00"}, "closes", "ساعت آغاز کار باید پیش از پایان کار باشد."),
        (
            {"weekend": ["SAT", "SUN", "MON", "TUE", "WED", "THU", "FRI"]},
            "weekend",
            "دست‌کم یک روز کاری بگذارید.",
        ),
        ({"agency": "NOPE"}, "agency", "یک دستگاه را از فهرست برگزینید."),
    ):
        page = admin.post("/admin/calendars/working-weeks", {**good, **change})
        assert page.status_code == 422 and fa in page.text, key
        assert f'id="{key}-error"' in page.text
    assert count_rows(session_factory, WorkingWeekRecord) == 0
    done = admin.post("/admin/calendars/working-weeks", good)
    assert done.status_code == 303, done.text
    page = admin.get("/admin/calendars")
    assert "هفته کاری تغییر کرد." in page.text
    with session_factory() as s:
        week = s.scalars(select(WorkingWeekRecord)).one()
    assert (week.agency_code, week.effective_from, week.weekend) == (
        "IVO",
        date(2026, 11, 29),
        "FRI",
    )
    assert week.opens == time(7, 30)
    duplicate = admin.post("/admin/calendars/working-weeks", {**good, "form_token": "other"})
    assert duplicate.status_code == 422
    assert "این دستگاه از همین روز هفته کاری دیگری دارد" in duplicate.text
