"""The event log as OCEL 2.0 (JSON), so analysts can open it in their own process-mining tools.

Object types: ``declaration`` (customs office, province, procedure, status) and ``inquiry``
(agency, inquiry type, province, state), each inquiry related to its declaration. Events: every
event of the log that concerns a declaration or an inquiry, in ``seq`` order, with its kind as
the event type, its instant, who acted, the state before and after, and its relationships
(``declaration``, ``inquiry``). Events about nothing in particular (calendar changes) are left
out. The document is written as a stream, so a national log never sits in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.audit.models import Event
from panjereh.declarations.models import Declaration
from panjereh.inquiries.models import Inquiry

_BATCH = 5000
_EVENT_ATTRIBUTES = ("actor", "before", "after")
_OBJECT_TYPES = [
    {
        "name": "declaration",
        "attributes": [
            {"name": "customs_office", "type": "string"},
            {"name": "province", "type": "string"},
            {"name": "kind", "type": "string"},
            {"name": "status", "type": "string"},
        ],
    },
    {
        "name": "inquiry",
        "attributes": [
            {"name": "agency", "type": "string"},
            {"name": "inquiry_type", "type": "string"},
            {"name": "province", "type": "string"},
            {"name": "state", "type": "string"},
        ],
    },
]


def _time(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _attributes(at: datetime, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": k, "time": _time(at), "value": v} for k, v in values.items()]


def chunks(session: Session) -> Iterator[str]:
    """The OCEL 2.0 JSON document, in pieces."""
    kinds = sorted(session.scalars(select(Event.kind).where(_about_objects()).distinct()).all())
    event_types = [
        {"name": kind, "attributes": [{"name": n, "type": "string"} for n in _EVENT_ATTRIBUTES]}
        for kind in kinds
    ]
    yield '{"objectTypes":' + _dump(_OBJECT_TYPES) + ',"eventTypes":' + _dump(event_types)
    yield ',"objects":['
    first = True
    declarations = select(
        Declaration.id,
        Declaration.filed_at,
        Declaration.customs_office,
        Declaration.province,
        Declaration.kind,
        Declaration.status,
    ).order_by(Declaration.id)
    for did, filed_at, office, province, kind, status in session.execute(
        declarations.execution_options(yield_per=_BATCH)
    ):
        values = {"customs_office": office, "province": province, "kind": kind, "status": status}
        obj = {
            "id": f"declaration-{did}",
            "type": "declaration",
            "attributes": _attributes(filed_at, values),
        }
        yield ("" if first else ",") + _dump(obj)
        first = False
    inquiries = select(
        Inquiry.id,
        Inquiry.declaration_id,
        Inquiry.received_at,
        Inquiry.agency_code,
        Inquiry.inquiry_type,
        Inquiry.province,
        Inquiry.state,
    ).order_by(Inquiry.id)
    for iid, did, received_at, agency, kind, province, state in session.execute(
        inquiries.execution_options(yield_per=_BATCH)
    ):
        values = {"agency": agency, "inquiry_type": kind, "province": province, "state": state}
        obj = {
            "id": f"inquiry-{iid}",
            "type": "inquiry",
            "attributes": _attributes(received_at, values),
            "relationships": [{"objectId": f"declaration-{did}", "qualifier": "declaration"}],
        }
        yield ("" if first else ",") + _dump(obj)
        first = False
    yield '],"events":['
    first = True
    events = (
        select(
            Event.seq,
            Event.at,
            Event.kind,
            Event.actor,
            Event.before,
            Event.after,
            Event.declaration_id,
            Event.inquiry_id,
        )
        .where(_about_objects())
        .order_by(Event.seq)
    )
    for seq, at, kind, actor, before, after, about, asked in session.execute(
        events.execution_options(yield_per=_BATCH)
    ):
        relationships = []
        if about is not None:
            relationships.append({"objectId": f"declaration-{about}", "qualifier": "declaration"})
        if asked is not None:
            relationships.append({"objectId": f"inquiry-{asked}", "qualifier": "inquiry"})
        values = {"actor": actor, "before": before or "", "after": after or ""}
        event = {
            "id": f"event-{seq}",
            "type": kind,
            "time": _time(at),
            "attributes": [{"name": k, "value": v} for k, v in values.items()],
            "relationships": relationships,
        }
        yield ("" if first else ",") + _dump(event)
        first = False
    yield "]}"


def _about_objects() -> Any:
    return Event.declaration_id.is_not(None) | Event.inquiry_id.is_not(None)


def write(session: Session, out: IO[str]) -> int:
    """Write the OCEL 2.0 document to ``out`` (``panjereh dashboard ocel FILE``); returns the
    characters written."""
    written = 0
    for piece in chunks(session):
        written += out.write(piece) or 0
    return written
