"""The forms of the administrator's and the agency head's pages: what was typed, read into the
schemas the services validate with, and every error named by field in the page's language.

As in :mod:`panjereh.web.forms`, the schemas and flows stay the one statement of what is
valid: a form checks here only what it needs to say well (a date it cannot read, a field left
empty), and a refusal from a flow (:class:`~panjereh.errors.DomainError` naming a field) is
worded for people by :meth:`AdminForm.refused`. What was typed is kept as typed, except
passwords, which are never sent back to the browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jdatetime
from pydantic import ValidationError
from starlette.datastructures import FormData

from panjereh.auth.models import AGENCY_ROLES, PERSON_ROLES, Role
from panjereh.auth.service import MIN_PASSWORD_LENGTH
from panjereh.errors import DomainError, field_path
from panjereh.escalation.policy import EscalationPolicy
from panjereh.escalation.schemas import AssignIn, EscalateIn
from panjereh.formatting import ascii_digits
from panjereh.reference import provinces
from panjereh.rules.document import RuleSetDocument
from panjereh.sla.calendar import WEEKDAY_CODES
from panjereh.web.forms import error_message
from panjereh.web.i18n import N_, Lang

AUDIENCES = ("agency_officers", "agency_head", "supervisor")
MAX_STEPS = 10
MAX_DOCUMENT_CHARS = 1_000_000
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{2,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = re.compile(r"(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,4})")
_TIME = re.compile(r"(\d{1,2})\s*[:٫.]\s*(\d{2})")

# -- reading values -----------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """A typed date in either calendar: ``1405/09/01`` (Jalali, any digits) or ``2026-11-22``.

    A year before 1700 is a Solar Hijri year; a day first (``22/11/2026``) is read too.
    None when it is not a real date.
    """
    found = _DATE.fullmatch(ascii_digits(text.strip()))
    if found is None:
        return None
    a, b, c = (int(part) for part in found.groups())
    year, month, day = (a, b, c) if len(found.group(1)) >= 3 else (c, b, a)
    try:
        if 1300 <= year < 1700:
            gregorian: date = jdatetime.date(year, month, day).togregorian()
            return gregorian
        if 1900 <= year <= 2200:
            return date(year, month, day)
    except ValueError:
        return None
    return None


def parse_time(text: str) -> time | None:
    """A typed wall time ``07:30`` (any digits), or None."""
    found = _TIME.fullmatch(ascii_digits(text.strip()))
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _choices(form: FormData | Mapping[str, Any], name: str) -> list[str]:
    """Every value a field was posted with (checkboxes of one name)."""
    if isinstance(form, FormData):
        return [v for v in form.getlist(name) if isinstance(v, str)]
    value: Any = form.get(name)
    if isinstance(value, str):
        return [value]
    return [v for v in value or () if isinstance(v, str)]


# -- pydantic errors, for people ----------------------------------------------------------

# Refusals that document and policy validators word in English, matched to be said in the
# page's language with the value they name.
_VALUE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"unknown agency '(?P<code>[^']*)'"), N_("%(code)s is not a known agency.")),
    (
        re.compile(r"HS prefix '(?P<code>[^']*)' must be"),
        N_("HS prefix %(code)s must be * or 2 to 8 digits."),
    ),
    (
        re.compile(r"'(?P<code>[^']*)' is not an ISO 3166-1 alpha-2 country code"),
        N_("%(code)s is not a country code (ISO 3166-1 alpha-2)."),
    ),
    (
        re.compile(r"'(?P<code>[^']*)' is not an ISO 4217 currency code"),
        N_("%(code)s is not a currency code (ISO 4217)."),
    ),
    (
        re.compile(r"rate for (?P<code>\S+) must be positive"),
        N_("The rate for %(code)s must be more than zero."),
    ),
    (re.compile(r"inquiry type codes must be unique"), N_("Inquiry type codes must be unique.")),
    (re.compile(r"rule codes must be unique"), N_("Rule codes must be unique.")),
    (
        re.compile(r"rule (?P<rule>\S+) names unknown inquiry type (?P<code>\S+)"),
        N_("Rule %(rule)s names %(code)s, which is not among the inquiry types."),
    ),
    (re.compile(r"step names must be unique"), N_("Each step needs a name of its own.")),
    (
        re.compile(r"'repeat' and 'manual' are reserved"),
        N_("“repeat” and “manual” are reserved: give the step another name."),
    ),
    (
        re.compile(r"strictly increasing order"),
        N_(
            "The steps are out of order: each step must come more business days after the "
            "deadline than the one before it."
        ),
    ),
    (
        re.compile(r"step (?P<code>\S+): budget_share is only for steps before the deadline"),
        N_(
            "Step %(code)s: a share of the budget can only trigger a step before the "
            "deadline (a negative number of days)."
        ),
    ),
)


def describe(error: Mapping[str, Any], lang: Lang) -> str:
    """One pydantic error of an administrator's form or document, in the page's language."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        reason = str(ctx.get("error", error.get("msg", "")))
        for pattern, message in _VALUE_ERRORS:
            found = pattern.search(reason)
            if found:
                return lang.gettext(message) % found.groupdict()
        return lang.gettext("This value is not valid.")
    if kind == "json_invalid":
        return lang.gettext("This is not valid JSON.")
    if kind in ("greater_than_equal", "greater_than"):
        return lang.gettext("Must be at least %(limit)s.") % {
            "limit": lang.digits(ctx.get("ge", ctx.get("gt", "")))
        }
    if kind in ("less_than_equal", "less_than"):
        return lang.gettext("Must be at most %(limit)s.") % {
            "limit": lang.digits(ctx.get("le", ctx.get("lt", "")))
        }
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return lang.gettext("Enter a whole number.")
    if kind in ("float_parsing", "float_type"):
        return lang.gettext("Enter a number.")
    if kind == "literal_error":
        return lang.gettext("Choose one of: %(choices)s.") % {
            "choices": str(ctx.get("expected", ""))
        }
    if kind in ("too_short",) and ctx.get("min_length", 1) == 1:
        return lang.gettext("Give at least one.")
    if kind == "too_long":
        return lang.gettext("At most %(count)s.") % {"count": lang.digits(ctx.get("max_length"))}
    if kind == "string_pattern_mismatch":
        return lang.gettext("Use only the characters this code allows: %(pattern)s") % {
            "pattern": str(ctx.get("pattern", ""))
        }
    wrong_type = kind in ("dict_type", "list_type", "tuple_type", "model_type", "bool_type")
    if wrong_type or (kind == "string_type" and error.get("input") is not None):
        return lang.gettext("This has the wrong type for this field.")
    if kind == "bool_parsing":
        return lang.gettext("Use true or false.")
    return error_message(error, lang)


def errors_by_path(error: ValidationError, lang: Lang) -> list[tuple[str, str]]:
    """Errors of a pasted document as (``rules[2].hs_prefixes[0]``, message)."""
    return [(field_path(e.get("loc", ())) or "", describe(e, lang)) for e in error.errors()]


# -- forms ---------------------------------------------------------------------------------


@dataclass
class AdminForm:
    """What every form here has: its values as typed and its errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    # How a flow's refusal of a field is said (by the field it names), per form.
    REFUSALS: ClassVar[dict[str, str]] = {}

    def get(self, name: str, default: str = "") -> str:
        """A value as typed (for templates)."""
        return self.values.get(name, default)

    def refusal(self, lang: Lang, name: str) -> str:
        """How this form says a refusal of field ``name``."""
        message = self.REFUSALS[name]
        return lang.gettext(message)

    def refused(self, error: DomainError, lang: Lang) -> None:
        """Show a flow's refusal on the field it names (or above the form)."""
        named = error.errors[0].field if error.errors else None
        if named and named in self.REFUSALS:
            self.errors[named] = self.refusal(lang, named)
        else:
            self.errors["form"] = lang.gettext("This could not be done.")


@dataclass
class UserForm(AdminForm):
    """A new user: username, full name, role, agency, email and a first password."""

    FIELDS: ClassVar[tuple[str, ...]] = ("username", "full_name", "role", "agency", "email")
    REFUSALS: ClassVar[dict[str, str]] = {
        "username": N_("This username is already taken."),
        "password": N_("The password must be at least 10 characters."),
        "agency": N_("Officers and agency heads belong to an agency: choose it."),
        "email": N_("Enter an email address, such as name@example.ir."),
    }
    password: str = ""

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> UserForm:
        """The form as posted."""
        values = {name: _text(form, name) for name in cls.FIELDS}
        password = form.get("password", "")
        return cls(values=values, password=password if isinstance(password, str) else "")

    def validate(self, lang: Lang, *, agencies: Mapping[str, Any]) -> dict[str, Any] | None:
        """The arguments of ``create_user``, or None with ``errors`` set."""
        v, errors = self.values, self.errors
        if not v["username"]:
            errors["username"] = lang.gettext("Enter a username.")
        elif not _USERNAME.fullmatch(v["username"]):
            errors["username"] = lang.gettext(
                "Use 3 to 64 Latin letters, digits and . _ @ -, beginning with a letter or digit."
            )
        if len(v["full_name"]) > 200:
            errors["full_name"] = lang.gettext("At most %(count)s characters.") % {
                "count": lang.digits(200)
            }
        role = Role(v["role"]) if v["role"] in PERSON_ROLES else None
        if role is None:
            errors["role"] = lang.gettext("Choose a role.")
        agency = v["agency"] or None
        if role in AGENCY_ROLES:
            if agency not in agencies:
                errors["agency"] = self.refusal(lang, "agency")
        else:
            agency = None  # only officers and agency heads belong to an agency
        email = v["email"] or None
        if email is not None and (len(email) > 254 or not _EMAIL.fullmatch(email)):
            errors["email"] = self.refusal(lang, "email")
        if len(self.password) < MIN_PASSWORD_LENGTH:
            errors["password"] = lang.gettext(
                "Choose a password of at least %(count)s characters."
            ) % {"count": lang.digits(MIN_PASSWORD_LENGTH)}
        elif len(self.password) > 256:
            errors["password"] = lang.gettext("At most %(count)s characters.") % {
                "count": lang.digits(256)
            }
        if errors or role is None:
            return None
        return {
            "username": v["username"],
            "password": self.password,
            "role": role,
            "agency_code": agency,
            "full_name": v["full_name"],
            "email": email,
        }


@dataclass
class WebhookForm(AdminForm):
    """A webhook subscription: an agency's notices (or the national ones) to an address."""

    REFUSALS: ClassVar[dict[str, str]] = {
        "url": N_("Enter an http or https address, such as https://ivo.example/panjereh."),
        "agency_code": N_("Choose an agency from the list."),
    }

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> WebhookForm:
        """The form as posted."""
        return cls(values={"agency": _text(form, "agency"), "url": _text(form, "url")})

    def validate(self, lang: Lang, *, agencies: Mapping[str, Any]) -> tuple[str | None, str] | None:
        """(agency or None for the national notices, URL), or None with ``errors`` set."""
        agency, url = self.values["agency"] or None, self.values["url"]
        if agency is not None and agency not in agencies:
            self.errors["agency"] = self.refusal(lang, "agency_code")
        parts = urlsplit(url) if url else None
        if not url:
            self.errors["url"] = lang.gettext("Enter the address that receives the notices.")
        elif (
            len(url) > 500
            or parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(c.isspace() for c in url)
        ):
            self.errors["url"] = self.refusal(lang, "url")
        return None if self.errors else (agency, url)

    def refused(self, error: DomainError, lang: Lang) -> None:
        """The flow names ``agency_code``; the form calls it ``agency``."""
        super().refused(error, lang)
        if "agency_code" in self.errors:
            self.errors["agency"] = self.errors.pop("agency_code")


@dataclass
class RuleSetForm(AdminForm):
    """A rule-set document, pasted or uploaded (JSON); its errors are listed by path."""

    problems: list[tuple[str, str]] = field(default_factory=list)

    def validate(self, lang: Lang) -> RuleSetDocument | None:
        """The document, or None with ``problems`` (path, message) and ``errors`` set."""
        text = self.values.get("document", "")
        if not text.strip():
            self.errors["document"] = lang.gettext("Paste the rule set or choose a file.")
            return None
        if len(text) > MAX_DOCUMENT_CHARS:
            self.errors["document"] = lang.gettext("The document is too long.")
            return None
        try:
            return RuleSetDocument.model_validate_json(text)
        except ValidationError as error:
            self.problems = errors_by_path(error, lang)
            self.errors["document"] = lang.gettext(
                "The rule set is not valid: see the list of problems."
            )
            return None


def step_key(index: int, name: str) -> str:
    """The form field (and error key) of one step's field: ``steps-0-name``."""
    return f"steps-{index}-{name}"


@dataclass
class PolicyForm(AdminForm):
    """A new version of an escalation ladder: its steps, row by row, and the repeat."""

    steps: list[dict[str, Any]] = field(default_factory=list)

    STEP_FIELDS: ClassVar[tuple[str, ...]] = ("name", "days", "share")
    _LOC_NAMES: ClassVar[dict[str, str]] = {
        "name": "name",
        "business_days_after_deadline": "days",
        "budget_share": "share",
        "notify": "notify",
        "immediate_report": "report",
    }

    @staticmethod
    def blank_step() -> dict[str, Any]:
        """An empty step row."""
        return {"name": "", "days": "", "share": "", "notify": [], "report": False}

    @classmethod
    def of(cls, policy: EscalationPolicy) -> PolicyForm:
        """The form filled in with a stored ladder (to start the next version from)."""
        steps = [
            {
                "name": s.name,
                "days": str(s.business_days_after_deadline),
                "share": "" if s.budget_share is None else f"{round(s.budget_share * 100):d}",
                "notify": list(s.notify),
                "report": s.immediate_report,
            }
            for s in policy.steps
        ]
        repeat = policy.repeat
        form = cls(
            values={
                "repeat-every": str(repeat.every_business_days) if repeat else "",
                "repeat-max": str(repeat.max_times) if repeat else "",
            },
            steps=steps,
        )
        form.values["repeat-notify"] = " ".join(repeat.notify) if repeat else ""
        form.pad()
        return form

    def pad(self) -> None:
        """Two empty rows to add steps in (within the ladder's limit)."""
        while len(self.steps) < min(MAX_STEPS, len(self._filled()) + 2):
            self.steps.append(self.blank_step())

    def repeat_notify(self) -> list[str]:
        """Who the repeat tells (for templates)."""
        return self.values.get("repeat-notify", "").split()

    @classmethod
    def read(cls, form: FormData | Mapping[str, Any]) -> PolicyForm:
        """The form as posted; step rows in the order shown."""
        steps = []
        for index in range(MAX_STEPS + 2):
            if step_key(index, "name") not in form and step_key(index, "days") not in form:
                continue
            steps.append(
                {
                    "name": _text(form, step_key(index, "name")),
                    "days": _text(form, step_key(index, "days")),
                    "share": _text(form, step_key(index, "share")),
                    "notify": [
                        a for a in _choices(form, step_key(index, "notify")) if a in AUDIENCES
                    ],
                    "report": _text(form, step_key(index, "report")) == "on",
                }
            )
        values = {
            "repeat-every": _text(form, "repeat-every"),
            "repeat-max": _text(form, "repeat-max"),
            "repeat-notify": " ".join(a for a in _choices(form, "repeat-notify") if a in AUDIENCES),
        }
        return cls(values=values, steps=steps)

    def _filled(self) -> list[dict[str, Any]]:
        return [s for s in self.steps if s["name"] or s["days"] or s["share"]]

    def validate(self, lang: Lang) -> EscalationPolicy | None:
        """The ladder, or None with ``errors`` set (keyed by the rows as shown)."""
        self.steps = self._filled()
        if not self.steps:
            self.errors["steps"] = lang.gettext("A ladder needs at least one step.")
            self.pad()
            return None
        body_steps = []
        for index, row in enumerate(self.steps):
            share: float | None = None
            if row["share"]:
                try:
                    percent = float(ascii_digits(row["share"]).rstrip("%٪ "))
                except ValueError:
                    percent = -1.0
                if not 0 < percent < 100:
                    self.errors[step_key(index, "share")] = lang.gettext(
                        "Give a share of the budget between 1 and 99 percent, or leave it empty."
                    )
                share = percent / 100
            step: dict[str, Any] = {
                "name": row["name"],
                "business_days_after_deadline": ascii_digits(row["days"]).replace("−", "-") or None,
                "notify": row["notify"],
                "immediate_report": row["report"],
            }
            if share is not None:
                step["budget_share"] = share
            if step["business_days_after_deadline"] is None:
                del step["business_days_after_deadline"]
            body_steps.append(step)
        body: dict[str, Any] = {"steps": body_steps}
        every, most = self.values.get("repeat-every", ""), self.values.get("repeat-max", "")
        if every or most:
            # An empty field is left out, so that it is reported as missing.
            repeat: dict[str, Any] = {"notify": self.repeat_notify()}
            if every:
                repeat["every_business_days"] = ascii_digits(every)
            if most:
                repeat["max_times"] = ascii_digits(most)
            body["repeat"] = repeat
        try:
            policy = EscalationPolicy.model_validate(body)
        except ValidationError as error:
            self._collect(error, lang)
            policy = None
        if self.errors:
            self.pad()
            return None
        return policy

    def _collect(self, error: ValidationError, lang: Lang) -> None:
        for e in error.errors():
            loc = tuple(e.get("loc", ()))
            key = "steps"
            if len(loc) >= 3 and loc[0] == "steps" and isinstance(loc[1], int):
                key = step_key(loc[1], self._LOC_NAMES.get(str(loc[2]), str(loc[2])))
                if loc[2] == "notify":
                    message = lang.gettext("Choose who is told at this step.")
                    self.errors.setdefault(key, message)
                    continue
                if loc[2] == "name" and e.get("type") in ("string_pattern_mismatch", "missing"):
                    self.errors.setdefault(
                        key,
                        lang.gettext(
                            "Name the step in lower-case Latin letters, digits and _, "
                            "such as at_risk."
                        ),
                    )
                    continue
                if loc[2] == "business_days_after_deadline" and e.get("type") == "missing":
                    self.errors.setdefault(key, lang.gettext("Enter the number of days."))
                    continue
            elif len(loc) >= 2 and loc[0] == "repeat":
                key = {"every_business_days": "repeat-every", "max_times": "repeat-max"}.get(
                    str(loc[1]), "repeat-notify"
                )
                if key == "repeat-notify":
                    self.errors.setdefault(key, lang.gettext("Choose who is told on repeat."))
                    continue
                if e.get("type") == "missing":
                    self.errors.setdefault(
                        key, lang.gettext("Fill in both repeat fields, or leave both empty.")
                    )
                    continue
            self.errors.setdefault(key, describe(e, lang))


def _date_error(lang: Lang) -> str:
    if lang.code == "fa":
        example = lang.gettext("Enter a date such as %(jalali)s (or %(gregorian)s).")
        return example % {"jalali": lang.digits("1405/09/01"), "gregorian": "2026-11-22"}
    return lang.gettext("Enter a date such as %(gregorian)s (or %(jalali)s).") % {
        "jalali": "1405/09/01",
        "gregorian": "2026-11-22",
    }


def _reason(form: AdminForm, lang: Lang, limit: int = 300) -> str | None:
    reason = form.values.get("reason", "")
    if not reason:
        form.errors["reason"] = lang.gettext("Give the reason.")
        return None
    if len(reason) > limit:
        form.errors["reason"] = lang.gettext("At most %(count)s characters.") % {
            "count": lang.digits(limit)
        }
        return None
    return reason


@dataclass
class ClosureForm(AdminForm):
    """Whole days on which offices close: nationally or in one province."""

    REFUSALS: ClassVar[dict[str, str]] = {
        "end": N_("The closure cannot end before it starts."),
        "province": N_("Choose a province from the list."),
        "reason": N_("Give a reason of at most 300 characters."),
    }

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> ClosureForm:
        """The form as posted."""
        return cls(values={n: _text(form, n) for n in ("start", "end", "province", "reason")})

    def validate(self, lang: Lang) -> dict[str, Any] | None:
        """The arguments of ``add_closure``, or None with ``errors`` set."""
        start, end = parse_date(self.values["start"]), parse_date(self.values["end"])
        for name, value in (("start", start), ("end", end)):
            if value is None:
                self.errors[name] = (
                    _date_error(lang)
                    if self.values[name]
                    else lang.gettext("Enter the first day.")
                    if name == "start"
                    else lang.gettext("Enter the last day (the same day for one day).")
                )
        province = self.values["province"] or None
        if province is not None and province not in provinces():
            self.errors["province"] = self.refusal(lang, "province")
        reason = _reason(self, lang)
        if self.errors or start is None or end is None or reason is None:
            return None
        return {"start": start, "end": end, "province": province, "reason": reason}


@dataclass
class CorrectionForm(AdminForm):
    """A lunar holiday that falls on another day than the calendar estimated (or not at all)."""

    REFUSALS: ClassVar[dict[str, str]] = {
        "moved_from": N_(
            "This day is not an official holiday in the calendar: only a holiday can be moved."
        ),
        "reason": N_("Give a reason of at most 300 characters."),
    }

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> CorrectionForm:
        """The form as posted."""
        return cls(values={n: _text(form, n) for n in ("moved_from", "moved_to", "reason")})

    def validate(self, lang: Lang) -> dict[str, Any] | None:
        """The arguments of ``add_correction``, or None with ``errors`` set."""
        moved_from = parse_date(self.values["moved_from"])
        if moved_from is None:
            self.errors["moved_from"] = (
                _date_error(lang)
                if self.values["moved_from"]
                else lang.gettext("Enter the day the calendar shows as a holiday.")
            )
        moved_to = parse_date(self.values["moved_to"]) if self.values["moved_to"] else None
        if self.values["moved_to"] and moved_to is None:
            self.errors["moved_to"] = _date_error(lang)
        elif moved_to is not None and moved_to == moved_from:
            self.errors["moved_to"] = lang.gettext(
                "Move the holiday to another day, or leave this empty if it is no holiday."
            )
        reason = _reason(self, lang)
        if self.errors or moved_from is None or reason is None:
            return None
        return {"moved_from": moved_from, "moved_to": moved_to, "reason": reason}


WEEK_ORDER = ("SAT", "SUN", "MON", "TUE", "WED", "THU", "FRI")
"""Weekdays in the order of the Iranian week, for the weekend checkboxes."""


@dataclass
class WorkingWeekForm(AdminForm):
    """An agency's working week (its weekend and hours) from a date on."""

    REFUSALS: ClassVar[dict[str, str]] = {
        "agency_code": N_("Choose an agency from the list."),
        "weekend": N_("Choose the days of the weekend."),
        "closes": N_("Offices must open before they close."),
        "cutoff": N_("The cut-off must fall within working hours."),
        "effective_from": N_(
            "This agency already has a working week from this day, or this week leaves no "
            "working day."
        ),
    }

    @classmethod
    def read(cls, form: FormData | Mapping[str, Any]) -> WorkingWeekForm:
        """The form as posted."""
        values = {
            n: _text(form, n) for n in ("agency", "effective_from", "opens", "closes", "cutoff")
        }
        values["weekend"] = " ".join(d for d in WEEK_ORDER if d in _choices(form, "weekend"))
        return cls(values=values)

    def weekend_days(self) -> list[str]:
        """The weekend's day codes (for templates)."""
        return self.values.get("weekend", "").split()

    def validate(self, lang: Lang, *, agencies: Mapping[str, Any]) -> dict[str, Any] | None:
        """The arguments of ``add_working_week``, or None with ``errors`` set."""
        v = self.values
        if v["agency"] not in agencies:
            self.errors["agency"] = self.refusal(lang, "agency_code")
        effective = parse_date(v["effective_from"])
        if effective is None:
            self.errors["effective_from"] = (
                _date_error(lang) if v["effective_from"] else lang.gettext("Enter the first day.")
            )
        if len(self.weekend_days()) >= len(WEEKDAY_CODES):
            self.errors["weekend"] = lang.gettext("Leave at least one working day.")
        times: dict[str, time] = {}
        for name in ("opens", "closes", "cutoff"):
            parsed = parse_time(v[name])
            if parsed is None:
                self.errors[name] = lang.gettext("Enter a time such as %(example)s.") % {
                    "example": lang.digits("07:30")
                }
            else:
                times[name] = parsed
        if self.errors or effective is None:
            return None
        return {
            "agency_code": v["agency"],
            "effective_from": effective,
            "weekend": v["weekend"],
            **times,
        }

    def refused(self, error: DomainError, lang: Lang) -> None:
        """The flow names ``agency_code``; the form calls it ``agency``."""
        super().refused(error, lang)
        if "agency_code" in self.errors:
            self.errors["agency"] = self.errors.pop("agency_code")


@dataclass
class EscalateForm(AdminForm):
    """Escalating by hand: the reason the supervisor will read."""

    REFUSALS: ClassVar[dict[str, str]] = {"reason": N_("Give the reason for escalating.")}

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> EscalateForm:
        """The form as posted."""
        return cls(values={"reason": _text(form, "reason")})

    def validate(self, lang: Lang) -> EscalateIn | None:
        """The escalation, or None with ``errors`` set."""
        try:
            return EscalateIn.model_validate({"reason": self.values["reason"]})
        except ValidationError as error:
            first = error.errors()[0]
            self.errors["reason"] = (
                self.refusal(lang, "reason")
                if first.get("type") in ("string_too_short", "missing")
                else describe(first, lang)
            )
            return None


@dataclass
class AssignForm(AdminForm):
    """Reassigning an inquiry to one of the agency's officers."""

    REFUSALS: ClassVar[dict[str, str]] = {
        "officer": N_("Choose one of the agency's officers from the list.")
    }

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> AssignForm:
        """The form as posted."""
        return cls(values={"officer": _text(form, "officer")})

    def validate(self, lang: Lang) -> AssignIn | None:
        """The assignment, or None with ``errors`` set."""
        try:
            return AssignIn.model_validate({"officer": self.values["officer"]})
        except ValidationError:
            self.errors["officer"] = self.refusal(lang, "officer")
            return None
