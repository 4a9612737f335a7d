"""What every page shares: templates, the request's language and user, CSRF, rendering and
the HTML error pages.

Routes take a :class:`Page` (``PageDep``) and stay thin: they read the form, call a flow or a
query, and render. Errors raised by flows become pages in the user's language here, so a
route never builds an error page itself.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData

from panjereh.api.deps import get_now, get_session
from panjereh.auth.models import Role, User
from panjereh.auth.principal import Principal
from panjereh.auth.service import credentials_stamp, principal_of
from panjereh.config import Settings
from panjereh.errors import DomainError
from panjereh.idempotency.service import Outcome, run_once
from panjereh.web import queries
from panjereh.web.i18n import LANGUAGE_COOKIE, N_, Lang, pick_language
from panjereh.web.sessions import CSRF_FIELD, CSRF_HEADER, SCOPE_KEY
from panjereh.web.sessions import Session as WebSession
from panjereh.web.templating import new_form_token, templates

# Scripts, styles and fonts come from this server only; nothing inline, nothing from a CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """The page needs a signed-in user; the visitor is sent to sign in and brought back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form arrived without this session's CSRF token."""


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to; anything else (another site, a scheme) becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


@dataclass
class Page:
    """One page request: the database session, the browser session, language, user and now."""

    request: Request
    db: Session
    now: datetime
    web: WebSession
    lang: Lang
    principal: Principal | None
    user: User | None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        settings: Settings = self.request.app.state.settings
        return settings

    @property
    def htmx(self) -> bool:
        """Whether htmx asked for a fragment rather than a whole page."""
        return self.request.headers.get("HX-Request") == "true"

    def _(self, message: str) -> str:
        """``message`` in the page's language."""
        return self.lang.gettext(message)

    def require(self, *roles: Role) -> Principal:
        """The signed-in user, who must hold one of ``roles`` (any role if none is given)."""
        if self.principal is None:
            return self._sign_in_first()
        if roles and self.principal.role not in roles:
            raise _PageForbidden
        return self.principal

    def _sign_in_first(self) -> Principal:
        url = self.request.url
        raise SignInRequired(url.path + (f"?{url.query}" if url.query else ""))

    async def form(self) -> FormData:
        """The posted form, refused (403) unless it carries this session's CSRF token."""
        form = await self.request.form()
        token = form.get(CSRF_FIELD) or self.request.headers.get(CSRF_HEADER)
        if not self.web.csrf_matches(token if isinstance(token, str) else None):
            raise CsrfRefused
        return form

    def render(
        self,
        template: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The template rendered in the page's language, with the security headers."""
        values = {
            "request": self.request,
            "lang": self.lang,
            "principal": self.principal,
            "user": self.user,
            "unread": self.unread,
            "csrf_token": self.web.csrf_token(),
            "flash": self.web.pop_flash(),
            "now": self.now,
            "path": self.request.url.path,
            "full_path": _full_path(self.request),
            **self.context,
            **context,
        }
        html = templates().get_template(template).render(values)
        return HTMLResponse(
            html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def redirect(self, url: str, *, flash: str | None = None) -> Response:
        """Go to ``url`` after a POST (303), or tell htmx to."""
        if flash:
            self.web.flash(flash)
        if self.htmx:
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def form_token(self) -> str:
        """A fresh per-form token: the Idempotency-Key of whatever the form submits."""
        return new_form_token()

    def unread(self) -> int:
        """The signed-in user's unread notifications (up to ``queries.UNREAD_CAP + 1``);
        templates call it, so only whole pages with a header pay for the query."""
        if self.principal is None or self.principal.id is None:
            return 0
        return queries.unread_count(session=self.db, user_id=self.principal.id)

    def once(
        self,
        principal: Principal,
        posted: FormData,
        *,
        path: str,
        body: bytes,
        action: Callable[[], Outcome],
    ) -> Outcome:
        """Run a form's change once per form token (its Idempotency-Key) and commit: a
        double submit, or a retried request, changes nothing more and answers the same."""
        token = posted.get("form_token")
        return run_once(
            session=self.db,
            principal=principal,
            key=token if isinstance(token, str) and token else None,
            method="POST",
            path=path,
            body=body,
            at=self.now,
            action=action,
        )


class _PageForbidden(Exception):
    """The user's role may not open this page."""


def _full_path(request: Request) -> str:
    url = request.url
    return url.path + (f"?{url.query}" if url.query else "")


def lang_of(request: Request) -> Lang:
    """The request's language: the visitor's choice, else Persian."""
    settings: Settings = request.app.state.settings
    return Lang(pick_language(request.cookies.get(LANGUAGE_COOKIE)), ZoneInfo(settings.timezone))


def web_session(request: Request) -> WebSession:
    """The browser session the middleware attached."""
    session: WebSession = request.scope[SCOPE_KEY]
    return session


def page(
    request: Request,
    db: Annotated[Session, Depends(get_session)],
    now: Annotated[datetime, Depends(get_now)],
) -> Page:
    """The :class:`Page` of a request, with the signed-in user read afresh."""
    web = web_session(request)
    user = db.get(User, web.user_id) if web.user_id is not None else None
    if web.user_id is not None and (
        user is None or not user.is_active or web.stamp != credentials_stamp(user)
    ):
        web.clear()  # deactivated, or the password was changed since this session began
        user = None
    principal = principal_of(user) if user is not None else None
    return Page(request, db, now, web, lang_of(request), principal, user)


PageDep = Annotated[Page, Depends(page)]

ERROR_TITLES = {
    400: N_("The request could not be understood"),
    403: N_("You may not open this page"),
    404: N_("Not found"),
    405: N_("Not found"),
    409: N_("Someone changed this first"),
    413: N_("Too much was sent"),
    422: N_("This could not be done"),
    503: N_("This document cannot be made on this server yet"),
}
DOMAIN_EXPLANATIONS = {
    403: N_("Your role does not allow this."),
    404: N_("It does not exist, or it is not yours to see."),
    409: N_("It is no longer in a state that allows this. Reload the page to see where it stands."),
}


def error_page(request: Request, status: int, *, message: str | None = None) -> HTMLResponse:
    """An error page in the visitor's language (it works even without a database session)."""
    lang = lang_of(request)
    web = request.scope.get(SCOPE_KEY)
    values = {
        "request": request,
        "lang": lang,
        "now": request.app.state.clock.now(),
        "principal": None,
        "user": None,
        "csrf_token": web.csrf_token() if isinstance(web, WebSession) else "",
        "flash": None,
        "path": request.url.path,
        "full_path": _full_path(request),
        "status": status,
        "title": lang.gettext(ERROR_TITLES.get(status, HTTPStatus(status).phrase)),
        "message": message,
    }
    html = templates().get_template("error.html").render(values)
    headers = dict(SECURITY_HEADERS)
    if request.headers.get("HX-Request") == "true":
        # A fragment request that failed shows the whole error page, not a broken fragment.
        headers.update({"HX-Retarget": "body", "HX-Reswap": "innerHTML"})
    return HTMLResponse(html, status_code=status, headers=headers)


def _domain_message(request: Request, error: DomainError) -> str:
    lang = lang_of(request)
    text = DOMAIN_EXPLANATIONS.get(error.status)
    return lang.gettext(text) if text else lang.gettext("This could not be done.")


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class WebRoute(APIRoute):
    """A page route: errors become HTML pages, not problem documents."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as needed:
                target = "/sign-in?next=" + quote(needed.next_path, safe="/")
                if request.headers.get("HX-Request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except CsrfRefused:
                lang = lang_of(request)
                return error_page(
                    request,
                    403,
                    message=lang.gettext(
                        "This form has expired or did not come from this site. "
                        "Go back, reload the page and try again."
                    ),
                )
            except _PageForbidden:
                return error_page(request, 403)
            except DomainError as error:
                return error_page(request, error.status, message=_domain_message(request, error))
            except StaleDataError:
                return error_page(request, 409)
            except RequestValidationError:
                return error_page(request, 404)

        return run
