"""The messages' documented shapes, as JSON Schemas (``docs/schemas/``).

``python -m panjereh.exchange.wire docs/schemas`` writes them; a test checks that every message
Panjereh sends validates against them and that the files in ``docs/`` are current.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from panjereh.inquiries.schemas import DecisionIn


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WireItem(_Strict):
    """A goods line as the trader declared it (decimals as strings, exactly)."""

    line_no: int
    hs_code: str = Field(pattern=r"^\d{6}(\d{2})?$")
    description: str
    origin_country: str = Field(pattern=r"^[A-Z]{2}$")
    quantity: str
    unit: str
    value: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class WireDeclaration(_Strict):
    """The declaration a new inquiry concerns."""

    id: int
    kind: Literal["import", "export", "transit"]
    customs_office: str
    province: str = Field(pattern=r"^IR-\d{2}$")
    filed_at: datetime
    items: list[WireItem]


class WireInquiry(_Strict):
    """The inquiry a message is about: answer it at ``decision_url``."""

    id: int
    declaration_id: int
    inquiry_type: str
    state: str
    due_at: datetime
    sla_business_days: int
    rule_codes: list[str]
    reason_en: str
    reason_fa: str
    item_lines: list[int]
    decision_url: str


class WireReply(_Strict):
    """The trader's answer to the agency's request for information."""

    message: str
    replied_at: datetime


class WireWithdrawn(_Strict):
    """Why the inquiry no longer needs an answer."""

    reason: str
    withdrawn_at: datetime


class WireLapsed(_Strict):
    """The trader did not answer in time; the inquiry is closed."""

    reason: str


class AgencyMessage(_Strict):
    """One message from Panjereh to an agency's system (pushed, or read from the inbox).

    ``message_id`` is stable across retries: deduplicate on it. ``declaration`` comes with
    ``inquiry.created``; ``reply`` with ``inquiry.replied``; ``withdrawn`` with
    ``inquiry.withdrawn``; ``lapsed`` with ``inquiry.lapsed``.
    """

    message_id: str
    type: Literal["inquiry.created", "inquiry.replied", "inquiry.withdrawn", "inquiry.lapsed"]
    agency: str
    created_at: datetime
    inquiry: WireInquiry
    declaration: WireDeclaration | None = None
    reply: WireReply | None = None
    withdrawn: WireWithdrawn | None = None
    lapsed: WireLapsed | None = None


SCHEMAS: dict[str, type[BaseModel]] = {
    "agency-message.schema.json": AgencyMessage,
    "decision.schema.json": DecisionIn,
}


def schema_text(model: type[BaseModel]) -> str:
    """The JSON Schema of ``model`` as the file in ``docs/schemas`` holds it."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(),
    }
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, model in SCHEMAS.items():
        (target / name).write_text(schema_text(model))
        print(target / name)
