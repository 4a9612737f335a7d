"""The words of escalation notices, in Persian and English."""

from __future__ import annotations

from panjereh.formatting import datetime_text, persian_digits
from panjereh.inquiries.models import Inquiry
from panjereh.notifications.service import Notice
from panjereh.sla.calendar import TEHRAN

_TITLES = {
    "at_risk": (
        "Inquiry {id} is at risk of missing its deadline",
        "استعلام {id} در خطر عبور از مهلت است",
    ),
    "breached": ("Inquiry {id} is past its deadline", "مهلت پاسخ استعلام {id} گذشته است"),
    "supervisor": (
        "Immediate report: inquiry {id} is late",
        "گزارش فوری: استعلام {id} با تأخیر مواجه است",
    ),
    "repeat": ("Inquiry {id} is still unanswered", "استعلام {id} هنوز بی‌پاسخ است"),
    "manual": ("Inquiry {id} was escalated by hand", "استعلام {id} به‌صورت دستی ارجاع شد"),
    "assigned": ("Inquiry {id} was assigned to you", "استعلام {id} به شما ارجاع شد"),
    "undeliverable": (
        "Inquiry {id} could not be delivered to the agency's system",
        "استعلام {id} به سامانه دستگاه تحویل نشد",
    ),
}


def escalation_notice(inquiry: Inquiry, step: str, *, reason: str | None = None) -> Notice:
    """The notice sent when a step of an inquiry's ladder fires."""
    title_en, title_fa = _TITLES.get(step, _TITLES["repeat"])
    due_en = datetime_text(inquiry.due_at, "en", TEHRAN) + " (Tehran)"
    due_fa = datetime_text(inquiry.due_at, "fa", TEHRAN) + " به وقت تهران"
    extra_en = f" Reason: {reason}" if reason else ""
    extra_fa = f" دلیل: {reason}" if reason else ""
    return Notice(
        kind=f"escalation.{step}",
        title_en=title_en.format(id=inquiry.id),
        title_fa=title_fa.format(id=persian_digits(str(inquiry.id))),
        body_en=(
            f"{inquiry.inquiry_type} inquiry {inquiry.id} for declaration "
            f"{inquiry.declaration_id}, addressed to {inquiry.agency_code}, is due "
            f"{due_en}.{extra_en}"
        ),
        body_fa=(
            f"استعلام {inquiry.inquiry_type} شماره {persian_digits(str(inquiry.id))} "
            f"برای اظهارنامه {persian_digits(str(inquiry.declaration_id))} "
            f"(دستگاه {inquiry.agency_code}) تا {due_fa} مهلت پاسخ دارد.{extra_fa}"
        ),
        inquiry_id=inquiry.id,
        declaration_id=inquiry.declaration_id,
        link=f"/api/v1/inquiries/{inquiry.id}",
    )
