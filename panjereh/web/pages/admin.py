"""The administrator's pages: a read-only overview (users, agencies, inquiry types, rule-set
versions) and the rule-set preview (which inquiries a sample declaration would get)."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from panjereh.auth.models import Role
from panjereh.declarations import flows
from panjereh.declarations.schemas import DeclarationIn
from panjereh.web import queries
from panjereh.web.core import PageDep, WebRoute
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


@router.get("/admin")
def overview(page: PageDep) -> Response:
    """Users, agencies, inquiry types and rule-set versions at a glance."""
    principal = page.require(Role.ADMIN)
    return page.render(
        "admin/overview.html", overview=queries.overview(session=page.db, principal=principal)
    )


@router.get("/admin/rules/preview")
def preview_form(page: PageDep) -> Response:
    """The preview form, with a sample declaration to start from."""
    page.require(Role.ADMIN)
    sample = json.dumps(SAMPLE, indent=2, ensure_ascii=False)
    return page.render("admin/preview.html", document=sample, errors=[], check=None)


@router.post("/admin/rules/preview")
async def preview(page: PageDep) -> Response:
    """Which inquiries the pasted declaration would get under the active rule set, and why."""
    page.require(Role.ADMIN)
    posted = await page.form()
    document = str(posted.get("document", ""))
    errors: list[tuple[str, str]] = []
    payload = None
    if len(document) > MAX_SAMPLE_CHARS:
        errors = [("document", page._("The document is too long."))]
    else:
        try:
            payload = DeclarationIn.model_validate_json(document)
        except ValidationError as error:
            json_error = any(e.get("type") == "json_invalid" for e in error.errors())
            errors = (
                [("document", page._("This is not valid JSON."))]
                if json_error
                else errors_by_path(error, page.lang)
            )
    if payload is None:
        return page.render(
            "admin/preview.html", status_code=422, document=document, errors=errors, check=None
        )
    check = flows.check_requirements(session=page.db, payload=payload, at=page.now)
    return page.render("admin/preview.html", document=document, errors=[], check=check)
