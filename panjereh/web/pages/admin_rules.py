"""Rule sets and escalation policies, for administrators.

- Rule sets: every stored version; upload a new one (JSON, pasted or as a file), validated
  whole with ``RuleSetDocument`` (errors by field path) and stored *inactive*
  (``rules.service.load(..., activate=False)``); preview which inquiries a sample declaration
  would get under any version (the engine is pure: ``rules.engine.requirements``); activate a
  version, after a confirmation (``rules.service.activate_version``).
- Service levels and escalation policies: per inquiry type its service level (from the active
  rule set) and its active ladder (``escalation.policies.active_policies``), every stored
  version, and a form to store the next one (``policies.add_version``, validated with
  ``EscalationPolicy``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from panjereh.auth.models import Role
from panjereh.declarations import flows
from panjereh.declarations.schemas import DeclarationIn, RequirementsOut
from panjereh.errors import NotFound
from panjereh.escalation import policies
from panjereh.escalation.policy import EscalationPolicy
from panjereh.idempotency.service import Outcome
from panjereh.rules import service as rules
from panjereh.rules.models import RuleSetRecord
from panjereh.web import queries
from panjereh.web.admin_forms import MAX_DOCUMENT_CHARS, PolicyForm, RuleSetForm
from panjereh.web.core import SECURITY_HEADERS, Page, PageDep, WebRoute
from panjereh.web.forms import errors_by_path

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SAMPLE = {
    "kind": "import",
    "customs_office": "SHRJ",
    "province": "IR-22",
    "items": [
        {
            "hs_code": "851713",
            "description": "Smartphones",
            "origin_country": "CN",
            "quantity": "1200",
            "unit": "NAR",
            "value": "240000",
            "currency": "USD",
        },
        {
            "hs_code": "030211",
            "description": "Trout, fresh",
            "origin_country": "NO",
            "quantity": "800",
            "unit": "KGM",
            "value": "50000",
            "currency": "EUR",
        },
    ],
}
MAX_SAMPLE_CHARS = 200_000


# -- rule sets -------------------------------------------------------------------------------


def _render_rules(
    page: Page,
    *,
    form: RuleSetForm | None = None,
    confirm: int | None = None,
    status_code: int = 200,
) -> Response:
    page.require(Role.ADMIN)
    versions = rules.list_versions(session=page.db)
    return page.render(
        "admin/rules.html",
        status_code=status_code,
        versions=versions,
        documents={r.version: rules.document_of(r) for r in versions},
        form=form or RuleSetForm(),
        confirm=confirm,
    )


@router.get("/admin/rules")
def rule_sets(page: PageDep) -> Response:
    """Every stored rule-set version, the active one marked; upload and activate."""
    return _render_rules(page)


async def _uploaded_text(value: Any) -> str | None:
    """The text of an uploaded file (None when no file was chosen)."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(MAX_DOCUMENT_CHARS * 4 + 1)
    if not data:
        return None
    return data.decode("utf-8-sig", errors="replace")


@router.post("/admin/rules")
async def upload_rule_set(page: PageDep) -> Response:
    """Store a new rule-set version, not yet active."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()
    uploaded = await _uploaded_text(posted.get("file"))
    pasted = posted.get("document")
    text = uploaded if uploaded is not None else (pasted if isinstance(pasted, str) else "")
    form = RuleSetForm(values={"document": text})
    document = form.validate(page.lang)
    if document is None:
        return _render_rules(page, form=form, status_code=422)

    def action() -> Outcome:
        record = rules.load(
            session=page.db,
            document=document,
            loaded_by=principal.username,
            at=page.now,
            activate=False,
        )
        return Outcome(201, {"version": record.version})

    outcome = page.once(
        principal,
        posted,
        path="/admin/rules",
        body=rules.checksum(document).encode(),
        action=action,
    )
    return page.redirect(
        "/admin/rules",
        flash=page._("Stored as version %(v)s. It is not active yet: preview it, then activate it.")
        % {"v": page.lang.digits(outcome.body["version"])},
    )


@router.get("/admin/rules/{version}.json")
def rule_set_document(page: PageDep, version: int) -> Response:
    """A stored version as JSON (to start the next one from)."""
    page.require(Role.ADMIN)
    record = page.db.get(RuleSetRecord, version)
    if record is None:
        raise NotFound(f"rule set version {version} does not exist")
    body = json.dumps(record.document, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="rule-set-v{version}.json"',
        },
    )


@router.post("/admin/rules/{version}/activate")
async def activate(page: PageDep, version: int) -> Response:
    """Make a version the rule set new filings use: review, confirm, then activate once."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()
    if page.db.get(RuleSetRecord, version) is None:
        raise NotFound(f"rule set version {version} does not exist")
    if posted.get("step") != "confirm":
        return _render_rules(page, confirm=version)

    def action() -> Outcome:
        rules.activate_version(session=page.db, version=version, at=page.now, by=principal.username)
        return Outcome(200, {"version": version})

    page.once(principal, posted, path=f"/admin/rules/{version}/activate", body=b"", action=action)
    return page.redirect(
        "/admin/rules",
        flash=page._(
            "Version %(v)s is active: new filings are checked against it. Inquiries "
            "already sent keep the rules they were sent under."
        )
        % {"v": page.lang.digits(version)},
    )


# -- the preview -------------------------------------------------------------------------------


def _render_preview(
    page: Page,
    *,
    document: str,
    version: str,
    errors: list[tuple[str, str]],
    check: RequirementsOut | None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "admin/preview.html",
        status_code=status_code,
        document=document,
        errors=errors,
        check=check,
        version=version,
        versions=rules.list_versions(session=page.db),
    )


@router.get("/admin/rules/preview")
def preview_form(page: PageDep, version: Annotated[str, Query(max_length=12)] = "") -> Response:
    """The preview form, with a sample declaration to start from."""
    page.require(Role.ADMIN)
    sample = json.dumps(SAMPLE, indent=2, ensure_ascii=False)
    return _render_preview(page, document=sample, version=version, errors=[], check=None)


@router.post("/admin/rules/preview")
async def preview(page: PageDep) -> Response:
    """Which inquiries the pasted declaration would get under the chosen version (the active
    one by default), and why. Nothing is filed."""
    page.require(Role.ADMIN)
    posted = await page.form()
    document = str(posted.get("document", ""))
    version = str(posted.get("version", "")).strip()
    errors: list[tuple[str, str]] = []
    payload = None
    record = None
    if version:
        record = page.db.get(RuleSetRecord, int(version)) if version.isdigit() else None
        if record is None:
            errors.append(("version", page._("Choose a stored version from the list.")))
    if len(document) > MAX_SAMPLE_CHARS:
        errors.append(("document", page._("The document is too long.")))
    else:
        try:
            payload = DeclarationIn.model_validate_json(document)
        except ValidationError as error:
            json_error = any(e.get("type") == "json_invalid" for e in error.errors())
            errors.extend(
                [("document", page._("This is not valid JSON."))]
                if json_error
                else errors_by_path(error, page.lang)
            )
    if payload is None or errors:
        return _render_preview(
            page, document=document, version=version, errors=errors, check=None, status_code=422
        )
    if record is None:
        check = flows.check_requirements(session=page.db, payload=payload, at=page.now)
    else:
        check = flows.check_requirements(
            session=page.db,
            payload=payload,
            at=page.now,
            rule_set=(record.version, rules.document_of(record)),
        )
    return _render_preview(page, document=document, version=version, errors=[], check=check)


# -- service levels and escalation policies -------------------------------------------------


@router.get("/admin/policies")
def policy_overview(page: PageDep) -> Response:
    """Each inquiry type's service level and the escalation ladder in force."""
    page.require(Role.ADMIN)
    types = sorted(
        queries.inquiry_types(session=page.db).values(), key=lambda t: (t.agency_code, t.code)
    )
    active = policies.active_policies(session=page.db, inquiry_types=[t.code for t in types])
    return page.render(
        "admin/policies.html",
        types=types,
        active=active,
        agencies=queries.agencies(session=page.db),
    )


def _render_policy(
    page: Page, inquiry_type: str, *, form: PolicyForm | None = None, status_code: int = 200
) -> Response:
    page.require(Role.ADMIN)
    kind = queries.inquiry_types(session=page.db).get(inquiry_type)
    if kind is None:
        raise NotFound(f"inquiry type {inquiry_type} does not exist")
    stored = policies.versions(session=page.db, inquiry_type=inquiry_type)
    ladders = [(r, EscalationPolicy.model_validate(r.document)) for r in stored]
    if form is None:
        current = next((p for r, p in ladders if r.is_active), None)
        form = PolicyForm.of(current) if current else PolicyForm()
        if current is None:
            form.pad()
    return page.render(
        "admin/policy.html",
        status_code=status_code,
        kind=kind,
        ladders=ladders,
        form=form,
        agencies=queries.agencies(session=page.db),
    )


@router.get("/admin/policies/{inquiry_type}")
def policy(page: PageDep, inquiry_type: str) -> Response:
    """One inquiry type's ladders (every version) and the form for the next one."""
    return _render_policy(page, inquiry_type)


@router.post("/admin/policies/{inquiry_type}")
async def new_policy(page: PageDep, inquiry_type: str) -> Response:
    """Store the next version of the ladder and make it active: new inquiries take it,
    inquiries already created keep theirs."""
    principal = page.require(Role.ADMIN)
    posted = await page.form()
    form = PolicyForm.read(posted)
    ladder = form.validate(page.lang)
    if ladder is None:
        return _render_policy(page, inquiry_type, form=form, status_code=422)

    def action() -> Outcome:
        record = policies.add_version(
            session=page.db,
            inquiry_type=inquiry_type,
            policy=ladder,
            by=principal.username,
            at=page.now,
        )
        return Outcome(201, {"version": record.version})

    outcome = page.once(
        principal,
        posted,
        path=f"/admin/policies/{inquiry_type}",
        body=ladder.model_dump_json().encode(),
        action=action,
    )
    return page.redirect(
        f"/admin/policies/{inquiry_type}",
        flash=page._(
            "Version %(v)s of the ladder is active. New inquiries take it; inquiries "
            "already open keep the ladder they started with."
        )
        % {"v": page.lang.digits(outcome.body["version"])},
    )
