"""The immediate report for signed-in people: the page and the PDF download of
``panjereh.reports`` (the same document as ``/api/v1/reports/immediate.html`` and ``.pdf``),
in the page's language, without a bearer token.

Access is the API's: supervisors and administrators see every agency (or pick one with
``agency``); an agency head or officer sees their own agency only; traders may not read it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from panjereh.auth.models import AGENCY_ROLES, Role
from panjereh.auth.principal import Principal
from panjereh.errors import Forbidden
from panjereh.reports import render
from panjereh.reports.service import immediate_report
from panjereh.web.core import SECURITY_HEADERS, PageDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REPORT_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.AGENCY_HEAD, Role.OFFICER)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _scope(principal: Principal, agency: str | None) -> str | None:
    """The agency the user may report on (None: all) — the rule of the report's API."""
    if principal.role in AGENCY_ROLES:
        if agency and agency != principal.agency_code:
            raise Forbidden("agency staff see only their own agency's report")
        return principal.agency_code
    return agency or None


def _policy(document: str) -> str:
    """A CSP for the standalone report: nothing but its own inline stylesheet, by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _STYLE.findall(document)
    )
    return (
        f"default-src 'none'; style-src {hashes or repr('none')}; "
        "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _language(page: PageDep) -> Literal["fa", "en"]:
    return "fa" if page.lang.code == "fa" else "en"


@router.get("/reports/immediate")
def immediate(
    page: PageDep, agency: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    """The immediate report as a printable page."""
    principal = page.require(*REPORT_ROLES)
    lang = _language(page)
    report = immediate_report(session=page.db, now=page.now, agency=_scope(principal, agency))
    document = render.html(report, lang)
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": _policy(document),
        "Content-Disposition": f'inline; filename="{render.filename(report, lang, "html")}"',
    }
    return HTMLResponse(document, headers=headers)


@router.get("/reports/immediate.pdf")
def immediate_pdf(
    page: PageDep, agency: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    """The immediate report as a PDF download (A4 landscape)."""
    principal = page.require(*REPORT_ROLES)
    scope = _scope(principal, agency)
    lang = _language(page)
    render.font_paths()  # a clear error page before any work when the font is not installed
    report = immediate_report(session=page.db, now=page.now, agency=scope)
    name = render.filename(report, lang, "pdf")
    return Response(
        render.pdf(report, lang),
        media_type="application/pdf",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
