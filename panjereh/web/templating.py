"""The Jinja2 environment and the functions templates call.

Autoescaping is on for every template, so any text a user typed (a description, a reason, a
reply) is shown as text and never runs. Messages go through the request's language
(``lang`` in the context) with gettext's new-style formatting, which escapes its arguments.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.formatting import ENGLISH_WEEKDAYS, PERSIAN_WEEKDAYS
from panjereh.reference import (
    country_codes,
    currency_codes,
    customs_offices,
    hs_description,
    provinces,
)
from panjereh.sla.calendar import WEEKDAY_CODES
from panjereh.web import labels
from panjereh.web.i18n import N_, Lang
from panjereh.web.queries import UNREAD_CAP

STATIC_DIR = Path(str(resources.files("panjereh.web") / "static"))
VENDOR_DIR = STATIC_DIR / "vendor"

NAV: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.TRADER: (
        ("/declarations", N_("My declarations")),
        ("/declarations/new", N_("New declaration")),
    ),
    Role.OFFICER: (
        ("/queue", N_("Queue")),
        ("/overdue", N_("Overdue")),
        ("/escalations", N_("Escalations")),
    ),
    Role.AGENCY_HEAD: (
        ("/overdue", N_("Overdue")),
        ("/escalations", N_("Escalations")),
        ("/queue", N_("Queue")),
        ("/reports/immediate", N_("Immediate report")),
        ("/dashboard", N_("Dashboard")),
    ),
    Role.SUPERVISOR: (
        ("/dashboard", N_("Dashboard")),
        ("/overdue", N_("Overdue")),
        ("/escalations", N_("Escalations")),
        ("/queue", N_("Queue")),
        ("/declarations", N_("Declarations")),
        ("/reports/immediate", N_("Immediate report")),
    ),
    Role.ADMIN: (
        ("/admin", N_("Overview")),
        ("/dashboard", N_("Dashboard")),
        ("/admin/users", N_("Users")),
        ("/admin/agencies", N_("Agencies")),
        ("/admin/rules", N_("Rule sets")),
        ("/admin/policies", N_("Service levels")),
        ("/admin/calendars", N_("Calendars")),
        ("/queue", N_("Queue")),
        ("/declarations", N_("Declarations")),
    ),
}
QUEUE_FILTERS = {
    "awaiting_answer": N_("Waiting for our answer"),
    "open": N_("All open"),
    "info_requested": N_("Waiting for the trader"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
    "all": N_("All"),
}
FIELD_LABELS = {
    "kind": N_("Procedure"),
    "customs_office": N_("Customs office"),
    "province": N_("Province"),
    "items": N_("Goods"),
    "hs_code": N_("HS code"),
    "description": N_("Description of the goods"),
    "origin_country": N_("Country of origin"),
    "quantity": N_("Quantity"),
    "unit": N_("Unit"),
    "value": N_("Value"),
    "currency": N_("Currency"),
}


@cache
def static_version(path: str) -> str:
    """A short hash of a static file's content, so a changed file gets a new URL."""
    target = STATIC_DIR / path
    if not target.is_file():
        return "missing"
    return hashlib.sha256(target.read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    """The URL of a static asset, with its content version."""
    return f"/static/{path}?v={static_version(path)}"


def vendor_ready() -> bool:
    """Whether the front-end assets were built (``python -m panjereh.web.assets``)."""
    return (VENDOR_DIR / "htmx.min.js").is_file()


def _lang(context: Context) -> Lang:
    lang: Lang = context["lang"]
    return lang


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _lang(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _lang(context).ngettext(singular, plural, n)


def nav_links(principal: Principal) -> tuple[tuple[str, str], ...]:
    """The main navigation of a role: (path, untranslated label)."""
    return NAV.get(principal.role, ()) if principal.role else ()


@pass_context
def field_label(context: Context, key: str) -> str:
    """A form field's label for an error summary: ``Item 2, HS code``."""
    lang = _lang(context)
    parts = key.split("-", 2)
    if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
        name = lang.gettext(FIELD_LABELS.get(parts[2], parts[2]))
        return lang.gettext("Item %(n)s, %(field)s") % {
            "n": lang.digits(int(parts[1]) + 1),
            "field": name,
        }
    return lang.gettext(FIELD_LABELS.get(key, key))


@pass_context
def office_name(context: Context, code: str) -> str:
    """A customs office's name in the page's language."""
    office = customs_offices().get(code)
    if office is None:
        return code
    return office.name_fa if _lang(context).code == "fa" else office.name_en


@pass_context
def province_name(context: Context, code: str) -> str:
    """A province's name in the page's language."""
    province = provinces().get(code)
    if province is None:
        return code
    return province.name_fa if _lang(context).code == "fa" else province.name_en


@pass_context
def country_name(context: Context, code: str) -> str:
    """A country's name in the page's language."""
    return labels.country_name(code, _lang(context).code)


@pass_context
def agency_label(context: Context, agencies: dict[str, Any], code: str) -> str:
    """An agency's name in the page's language (its code if unknown)."""
    agency = agencies.get(code)
    if agency is None:
        return code
    return str(agency.name_fa if _lang(context).code == "fa" else agency.name_en)


@pass_context
def weekend_text(context: Context, spec: str) -> str:
    """``"THU FRI"`` as weekday names in the page's language."""
    lang = _lang(context)
    names = PERSIAN_WEEKDAYS if lang.code == "fa" else ENGLISH_WEEKDAYS
    days = [names[WEEKDAY_CODES[c]] for c in spec.split() if c in WEEKDAY_CODES]
    return (" و " if lang.code == "fa" else ", ").join(days)


@pass_context
def queue_url(context: Context, page_number: int) -> str:
    """The current queue (or overdue list) with its filters, at another page."""
    params: dict[str, str] = {}
    if context.get("agency") and not context.get("agency_fixed"):
        params["agency"] = str(context["agency"])
    if context.get("path") == "/queue":
        params["show"] = str(context.get("show", ""))
        if context.get("overdue"):
            params["overdue"] = "true"
    params["page"] = str(page_number)
    return f"{context.get('path', '/queue')}?{urlencode(params)}"


@pass_context
def business_time(context: Context, minutes: int, day_minutes: int) -> str:
    """Business minutes as days, hours and minutes of the agency's working day:
    ``2 business days, 3 hours`` / ``۲ روز کاری و ۳ ساعت``."""
    lang = _lang(context)
    minutes = max(0, int(minutes))
    days, rest = divmod(minutes, day_minutes) if day_minutes > 0 else (0, minutes)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(
            lang.ngettext("%(num)s business day", "%(num)s business days", days)
            % {"num": lang.digits(days)}
        )
    if hours:
        parts.append(
            lang.ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": lang.digits(hours)}
        )
    if mins or not parts:
        parts.append(
            lang.ngettext("%(num)s minute", "%(num)s minutes", mins) % {"num": lang.digits(mins)}
        )
    return (" و " if lang.code == "fa" else ", ").join(parts)


@pass_context
def step_label(context: Context, step: str) -> str:
    """A ladder step's name in the page's language (an administrator's own names as typed)."""
    label = labels.STEPS.get(step)
    return _lang(context).gettext(label) if label else step


@pass_context
def audience_text(context: Context, audience: list[str] | tuple[str, ...]) -> str:
    """Who a step tells, in the page's language."""
    lang = _lang(context)
    names = [lang.gettext(labels.AUDIENCES.get(a, a)) for a in audience]
    return ("، " if lang.code == "fa" else ", ").join(names)


def instant(value: str | None) -> datetime | None:
    """An ISO 8601 instant stored in an event's data, as a datetime (None if unreadable)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


_MOVE_REASONS = (
    ("closure withdrawn: ", N_("Closure withdrawn: %(reason)s")),
    ("closure: ", N_("Closure: %(reason)s")),
    ("holiday correction: ", N_("Holiday correction: %(reason)s")),
)


@pass_context
def moved_reason(context: Context, reason: str) -> str:
    """Why a deadline moved (the flows write it in English), in the page's language."""
    lang = _lang(context)
    for prefix, message in _MOVE_REASONS:
        if reason.startswith(prefix):
            return lang.gettext(message) % {"reason": reason.removeprefix(prefix)}
    if reason.startswith("working week of "):
        return lang.gettext("The agency's working week changed")
    return reason


def notification_link(inquiry_id: int | None, declaration_id: int | None) -> str | None:
    """Where a notification leads on these pages (the inquiry, else the declaration)."""
    if inquiry_id is not None:
        return f"/inquiries/{inquiry_id}"
    if declaration_id is not None:
        return f"/declarations/{declaration_id}"
    return None


def queue_filter_label(value: str) -> str:
    """The untranslated label of a queue filter."""
    return QUEUE_FILTERS.get(value, value)


def new_form_token() -> str:
    """A per-form token: the Idempotency-Key of whatever the form submits."""
    return "web-" + secrets.token_urlsafe(24)


@cache
def templates() -> Environment:
    """The Jinja2 environment: autoescaped HTML, gettext through the request's language."""
    env = Environment(
        loader=PackageLoader("panjereh.web", "templates"),
        autoescape=select_autoescape(default_for_string=True, default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    env.globals.update(
        static_url=static_url,
        vendor_ready=vendor_ready,
        labels=labels,
        nav_links=nav_links,
        field_label=field_label,
        office_name=office_name,
        province_name=province_name,
        country_name=country_name,
        agency_label=agency_label,
        weekend_text=weekend_text,
        queue_url=queue_url,
        queue_filter_label=queue_filter_label,
        business_time=business_time,
        step_label=step_label,
        audience_text=audience_text,
        instant=instant,
        moved_reason=moved_reason,
        notification_link=notification_link,
        new_form_token=new_form_token,
        unread_cap=UNREAD_CAP,
        hs_description=hs_description,
        country_codes=country_codes(),
        currency_codes=currency_codes(),
        office_province={c: o.province for c, o in customs_offices().items()},
    )
    return env
