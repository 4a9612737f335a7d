"""How Panjereh writes numbers, money and time for people (pages, reports, notices):
Persian digits and the Jalali calendar in Persian, Western digits and the Gregorian calendar
in English, always in the deployment's time zone.

Pure functions: the language, the instant and the zone are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime

from panjereh.sla.calendar import BusinessCalendar

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)
# People type numbers with whatever keyboard they have: Persian, Arabic-Indic or Western
# digits, Persian or Western separators. Forms read them all the same.
_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS + "٫", "0123456789" * 2 + ".")
_GROUPING = ",٬ \u00a0\u202f'"

JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
GREGORIAN_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
PERSIAN_WEEKDAYS = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")
ENGLISH_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def persian_digits(text: str) -> str:
    """``text`` with Western digits written as Persian digits."""
    return text.translate(_TO_PERSIAN)


def ascii_digits(text: str) -> str:
    """``text`` with Persian and Arabic-Indic digits (and the Persian decimal mark) made ASCII."""
    return text.translate(_TO_ASCII)


def plain_number(text: str) -> str:
    """A typed number as a parser reads it: ASCII digits, no grouping separators, trimmed."""
    cleaned = ascii_digits(text).strip()
    for separator in _GROUPING:
        cleaned = cleaned.replace(separator, "")
    return cleaned


def digits(value: object, lang: str) -> str:
    """``value`` as text, with Persian digits in Persian."""
    text = str(value)
    return persian_digits(text) if lang == "fa" else text


def number(value: Decimal | int, lang: str) -> str:
    """A number grouped by thousands, without trailing zeros: ``240,000.5`` / ``۲۴۰٬۰۰۰٫۵``."""
    if isinstance(value, Decimal):
        value = value.normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
    return _separators(f"{value:,f}" if isinstance(value, Decimal) else f"{value:,d}", lang)


def fixed(value: Decimal | float, places: int, lang: str) -> str:
    """A number grouped by thousands with ``places`` decimals: ``85.70`` / ``۸۵٫۷۰``."""
    return _separators(f"{value:,.{places}f}", lang)


def _separators(text: str, lang: str) -> str:
    """English number text (``,`` grouping, ``.`` decimals) in ``lang``: Persian digits with
    the Persian thousands and decimal separators (``٬``, ``٫``) in Persian."""
    if lang != "fa":
        return text
    return persian_digits(text.replace(",", "٬").replace(".", "٫"))


def money(value: Decimal, currency: str, lang: str) -> str:
    """An amount with its ISO 4217 code: ``240,000 USD`` / ``۲۴۰٬۰۰۰ USD``."""
    return f"{number(value, lang)} {currency}"


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz)


def date_text(instant: datetime | date, lang: str, tz: ZoneInfo) -> str:
    """A calendar date: ``30 آبان 1405`` (Jalali, Persian digits) or ``21 Nov 2026``."""
    day = _local(instant, tz).date() if isinstance(instant, datetime) else instant
    if lang == "fa":
        j = jdatetime.date.fromgregorian(date=day)
        return persian_digits(f"{j.day} {JALALI_MONTHS[j.month - 1]} {j.year}")
    return f"{day.day} {GREGORIAN_MONTHS[day.month - 1]} {day.year}"


def datetime_text(instant: datetime, lang: str, tz: ZoneInfo) -> str:
    """A date with its weekday and local time: ``شنبه ۳۰ آبان ۱۴۰۵، ۰۸:۳۰``."""
    local = _local(instant, tz)
    if lang == "fa":
        weekday = PERSIAN_WEEKDAYS[local.weekday()]
        return f"{weekday} {date_text(local, lang, tz)}، {persian_digits(f'{local:%H:%M}')}"
    weekday = ENGLISH_WEEKDAYS[local.weekday()]
    return f"{weekday} {date_text(local, lang, tz)}, {local:%H:%M}"


def iso_local(instant: datetime, tz: ZoneInfo) -> str:
    """The local instant in ISO 8601, for ``<time datetime=…>``."""
    return _local(instant, tz).isoformat(timespec="minutes")


@dataclass(frozen=True, slots=True)
class TimeLeft:
    """Where a deadline stands in the agency's business days.

    ``days`` counts business days after today up to the due date (0: due today); when
    ``overdue``, it counts business days since the due date instead (0: late since today).
    """

    days: int
    overdue: bool

    @property
    def due_today(self) -> bool:
        return not self.overdue and self.days == 0


def time_left(
    *, calendar: BusinessCalendar, due_at: datetime, now: datetime, tz: ZoneInfo
) -> TimeLeft:
    """Business days left before ``due_at`` (or past it), in the agency's calendar."""
    today, due_day = _local(now, tz).date(), _local(due_at, tz).date()
    if due_at <= now:
        return TimeLeft(calendar.business_days_between(due_day, today), overdue=True)
    return TimeLeft(calendar.business_days_between(today, due_day), overdue=False)
