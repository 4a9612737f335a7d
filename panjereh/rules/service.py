"""Storing, activating and reading versioned rule sets.

A rule set is loaded whole and never edited: a change is a new version. Activating a version
updates the inquiry-type catalogue; inquiries already created keep the rule, reason and
service level they were created with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from panjereh.agencies.service import upsert_inquiry_types
from panjereh.audit import chain
from panjereh.auth.principal import Principal
from panjereh.errors import Conflict, NotFound
from panjereh.escalation import policies
from panjereh.rules.document import RuleSetDocument
from panjereh.rules.models import RuleSetRecord
from panjereh.statements import Prepared


def _named(username: str) -> Principal:
    return Principal(id=None, username=username, role=None)


def default_document() -> dict[str, Any]:
    """The rule set shipped with Panjereh (demo defaults from the agencies' triggers)."""
    text = resources.files("panjereh.rules").joinpath("default_rules.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def checksum(document: RuleSetDocument) -> str:
    """A stable fingerprint of a rule set's content."""
    canonical = json.dumps(document.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load(
    *, session: Session, document: RuleSetDocument, loaded_by: str, at: datetime, activate: bool
) -> RuleSetRecord:
    """Store ``document`` as the next version, and make it the active one if asked."""
    latest = session.scalar(select(func.max(RuleSetRecord.version))) or 0
    record = RuleSetRecord(
        version=latest + 1,
        name=document.name,
        checksum=checksum(document),
        document=document.model_dump(mode="json"),
        is_active=False,
        loaded_at=at,
        loaded_by=loaded_by,
    )
    session.add(record)
    session.flush()
    chain.record(
        session,
        kind="rules.loaded",
        at=at,
        actor=_named(loaded_by),
        data={"version": record.version, "name": record.name, "checksum": record.checksum},
    )
    if activate:
        activate_version(session=session, version=record.version, at=at)
    return record


def activate_version(
    *, session: Session, version: int, at: datetime, by: str = "system"
) -> RuleSetRecord:
    """Make ``version`` the rule set used for new filings; new inquiry types get the default
    escalation ladder."""
    record = session.get(RuleSetRecord, version)
    if record is None:
        raise NotFound(f"rule set version {version} does not exist", field="version")
    session.execute(update(RuleSetRecord).values(is_active=False))
    record.is_active = True
    chain.record(
        session, kind="rules.activated", at=at, actor=_named(by), data={"version": version}
    )
    specs = document_of(record).inquiry_types
    upsert_inquiry_types(session=session, specs=specs)
    session.flush()
    policies.ensure_defaults(session=session, inquiry_types=[t.code for t in specs], at=at)
    return record


# Parsed documents by (version, checksum): a version never changes, so it is parsed once per
# process, and the checksum guards against a store that was rebuilt under the same numbers.
_parsed: dict[tuple[int, str], RuleSetDocument] = {}


def _document(version: int, digest: str, raw: Callable[[], dict[str, Any]]) -> RuleSetDocument:
    key = (version, digest)
    document = _parsed.get(key)
    if document is None:
        document = _parsed[key] = RuleSetDocument.model_validate(raw())
    return document


def document_of(record: RuleSetRecord) -> RuleSetDocument:
    """The parsed document of a stored version."""
    return _document(record.version, record.checksum, lambda: record.document)


# Read on every filing.
_ACTIVE = Prepared(
    select(RuleSetRecord.version, RuleSetRecord.checksum).where(RuleSetRecord.is_active)
)


def active(*, session: Session) -> tuple[int, RuleSetDocument]:
    """The active version and its document; a store without one cannot accept filings."""
    row = _ACTIVE.first(session)
    if row is None:
        raise Conflict("no rule set is active; load one with `panjereh rules load`")
    version, digest = row

    def raw() -> dict[str, Any]:
        document: dict[str, Any] = session.scalars(
            select(RuleSetRecord.document).where(RuleSetRecord.version == version)
        ).one()
        return document

    return version, _document(version, digest, raw)


def list_versions(*, session: Session) -> list[RuleSetRecord]:
    """Every stored version, newest first."""
    return list(session.scalars(select(RuleSetRecord).order_by(RuleSetRecord.version.desc())))
