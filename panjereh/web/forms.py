"""The pages' forms: what the user typed, read into the API's own schemas, with every error
named by field and said in the page's language.

The schemas (``DeclarationIn``, ``DecisionIn``, ``ReplyIn``) stay the one statement of what is
valid; this module only reads form fields into them and words their errors for people. What
the user typed is kept as typed, so a form shown again with its errors loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from panjereh.declarations.schemas import MAX_ITEMS, DeclarationIn
from panjereh.errors import field_path
from panjereh.formatting import ascii_digits, plain_number
from panjereh.inquiries.schemas import DecisionIn, ReplyIn
from panjereh.reference import hs_code_problem
from panjereh.web.i18n import N_, Lang

ITEM_FIELDS = ("hs_code", "description", "origin_country", "quantity", "unit", "value", "currency")
NUMERIC_FIELDS = frozenset({"quantity", "value"})
MAX_TEXT = 4000

# Messages by field, for errors whose wording depends on the field rather than the check.
_CHOICE_MESSAGES = {
    "kind": N_("Choose import, export or transit."),
    "customs_office": N_("Choose a customs office from the list."),
    "province": N_("Choose a province from the list."),
    "origin_country": N_("Choose the country of origin from the list."),
    "currency": N_("Choose a currency from the list."),
    "outcome": N_("Choose approve, reject or request information."),
}
_MISSING_MESSAGES = {
    "description": N_("Describe the goods."),
    "hs_code": N_("Enter the HS code."),
    "quantity": N_("Enter the quantity."),
    "value": N_("Enter the value."),
    "unit": N_("Enter the unit."),
    "message": N_("Write your answer."),
    "reason": N_("Give the reason."),
}
_FILL_IN = N_("Fill in this field.")


def item_key(index: int, name: str) -> str:
    """The form field (and error key) of one item's field: ``items-0-hs_code``."""
    return f"items-{index}-{name}"


def _leaf(loc: tuple[Any, ...]) -> str:
    names = [p for p in loc if isinstance(p, str)]
    return names[-1] if names else ""


def error_message(error: Mapping[str, Any], lang: Lang) -> str:
    """One pydantic error, said for people in the page's language."""
    loc = tuple(error.get("loc", ()))
    name, kind = _leaf(loc), str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if name == "items" and kind == "too_short":
        return lang.gettext("Add at least one item.")
    if name == "items" and kind == "too_long":
        return lang.gettext("At most %(count)s items.") % {"count": lang.digits(MAX_ITEMS)}
    if kind in ("missing", "string_too_short") or (kind == "string_type" and name):
        if name in _CHOICE_MESSAGES:
            return lang.gettext(_CHOICE_MESSAGES[name])
        return lang.gettext(_MISSING_MESSAGES.get(name, _FILL_IN))
    if kind == "string_too_long":
        limit = lang.digits(ctx.get("max_length", ""))
        return lang.gettext("At most %(count)s characters.") % {"count": limit}
    if name == "hs_code" and kind == "value_error":
        value = str(error.get("input", ""))
        if value.isdigit() and len(value) in (6, 8) and hs_code_problem(value):
            return lang.gettext("%(code)s is not an HS 2022 subheading.") % {
                "code": lang.digits(value[:6])
            }
        return lang.gettext("Enter a 6-digit HS subheading or an 8-digit tariff line.")
    if name in _CHOICE_MESSAGES and kind in ("value_error", "literal_error"):
        return lang.gettext(_CHOICE_MESSAGES[name])
    if kind in ("decimal_parsing", "decimal_type", "finite_number"):
        return lang.gettext("Enter a number, for example 1200 or 2500.50.")
    if kind == "greater_than":
        return lang.gettext("Must be more than zero.")
    if kind in ("decimal_max_digits", "decimal_max_places", "decimal_whole_digits"):
        return lang.gettext("Too many digits: at most 18 before the decimal point and 6 after.")
    if name == "unit" and kind == "string_pattern_mismatch":
        return lang.gettext("Use a unit code of letters and digits, such as NAR or KGM.")
    if kind == "extra_forbidden":
        return lang.gettext("This field is not expected here.")
    return lang.gettext("This value is not valid.")


def errors_by_key(error: ValidationError, lang: Lang) -> dict[str, str]:
    """Errors keyed by form field name (``kind``, ``items``, ``items-0-hs_code`` …)."""
    found: dict[str, str] = {}
    for e in error.errors():
        loc = tuple(e.get("loc", ()))
        if len(loc) >= 3 and loc[0] == "items" and isinstance(loc[1], int):
            key = item_key(loc[1], str(loc[2]))
        else:
            key = str(loc[0]) if loc else "form"
        found.setdefault(key, error_message(e, lang))
    return found


def errors_by_path(error: ValidationError, lang: Lang) -> list[tuple[str, str]]:
    """Errors as (``items[0].hs_code``, message): for a pasted JSON document."""
    return [(field_path(e.get("loc", ())), error_message(e, lang)) for e in error.errors()]


def _item_value(name: str, raw: str) -> str:
    text = raw.strip()
    if name in NUMERIC_FIELDS:
        return plain_number(text)
    if name == "hs_code":
        return ascii_digits(text).replace(" ", "").replace(".", "")
    if name in ("unit", "origin_country", "currency"):
        return text.upper()
    return text


@dataclass
class DeclarationForm:
    """The new-declaration form: header fields and item rows, as typed, and their errors."""

    kind: str = "import"
    customs_office: str = ""
    province: str = ""
    items: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> DeclarationForm:
        """An empty form with one empty item row."""
        return cls(items=[cls.blank_item()])

    @staticmethod
    def blank_item() -> dict[str, str]:
        """An empty item row (US dollars and pieces preselected)."""
        return {name: "" for name in ITEM_FIELDS} | {"currency": "USD", "unit": "NAR"}

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> DeclarationForm:
        """The form as posted; item rows in the order they were shown."""
        rows: dict[int, dict[str, str]] = {}
        for key, value in form.items():
            parts = key.split("-", 2)
            if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
                index, name = int(parts[1]), parts[2]
                if name in ITEM_FIELDS and index < MAX_ITEMS * 2:
                    rows.setdefault(index, cls.blank_item() | {"currency": "", "unit": ""})
                    rows[index][name] = str(value)
        return cls(
            kind=str(form.get("kind", "")).strip(),
            customs_office=str(form.get("customs_office", "")).strip(),
            province=str(form.get("province", "")).strip(),
            items=[rows[i] for i in sorted(rows)],
        )

    def add_item(self) -> None:
        """One more empty row, with the previous row's origin and currency as a head start."""
        row = self.blank_item()
        if self.items:
            last = self.items[-1]
            row["origin_country"] = last.get("origin_country", "")
            row["currency"] = last.get("currency", "") or "USD"
        self.items.append(row)

    def remove_item(self, index: int) -> None:
        """Drop a row (the form keeps at least one)."""
        if 0 <= index < len(self.items):
            del self.items[index]
        if not self.items:
            self.items.append(self.blank_item())

    def _filled_rows(self) -> list[dict[str, str]]:
        # A row left completely empty (beyond the preselected unit and currency) is ignored.
        return [
            row
            for row in self.items
            if any(row.get(n, "").strip() for n in ("hs_code", "description", "quantity", "value"))
        ]

    def body(self) -> dict[str, Any]:
        """The request body the API would receive for this form."""
        return {
            "kind": self.kind,
            "customs_office": self.customs_office,
            "province": self.province,
            # An empty field is left out, so that it is reported as missing, not as malformed.
            "items": [
                {
                    name: value
                    for name in ITEM_FIELDS
                    if (value := _item_value(name, row.get(name, "")))
                }
                for row in self._filled_rows()
            ],
        }

    def validate(self, lang: Lang) -> DeclarationIn | None:
        """The declaration, or None with ``errors`` set (keyed by the rows as shown)."""
        self.items = self._filled_rows() or [self.blank_item()]
        try:
            return DeclarationIn.model_validate(self.body())
        except ValidationError as error:
            self.errors = errors_by_key(error, lang)
            return None

    def fingerprint(self) -> str:
        """A canonical text of what would be filed (to see if it changed since the check)."""
        return json.dumps(self.body(), sort_keys=True, ensure_ascii=False)


@dataclass
class DecisionForm:
    """An officer's decision as typed: outcome and reason."""

    outcome: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> DecisionForm:
        """The decision as posted."""
        return cls(
            outcome=str(form.get("outcome", "")).strip(),
            reason=str(form.get("reason", "")).strip(),
        )

    def validate(self, lang: Lang) -> DecisionIn | None:
        """The decision, or None with ``errors`` set.

        Whether a reason is required is the flow's rule (``inquiries.flows.decide``); it is
        asked here too only so the confirmation step never confirms what the flow would refuse.
        """
        try:
            decision = DecisionIn.model_validate(
                {"outcome": self.outcome, "reason": self.reason or None}
            )
        except ValidationError as error:
            self.errors = errors_by_key(error, lang)
            return None
        if decision.outcome != "approve" and not decision.reason:
            self.errors = {"reason": lang.gettext(_REASON_REQUIRED[decision.outcome])}
            return None
        return decision


_REASON_REQUIRED = {
    "reject": N_("Give the reason for the rejection: the trader will read it."),
    "request_info": N_("Say what information the trader must send."),
}


@dataclass
class ReplyForm:
    """A trader's answer to a request for information."""

    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, form: Mapping[str, Any]) -> ReplyForm:
        """The answer as posted."""
        return cls(message=str(form.get("message", "")).strip())

    def validate(self, lang: Lang) -> ReplyIn | None:
        """The reply, or None with ``errors`` set."""
        try:
            return ReplyIn.model_validate({"message": self.message})
        except ValidationError as error:
            self.errors = errors_by_key(error, lang)
            return None
