"""Signing in and out, the language switch, and the home page that sends each role to its work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from panjereh.auth import checking
from panjereh.auth import service as auth
from panjereh.auth.models import Role, User
from panjereh.auth.principal import Principal
from panjereh.errors import Conflict, Invalid, TooManyRequests
from panjereh.web.core import Page, PageDep, WebRoute, safe_next
from panjereh.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from panjereh.web.sessions import secure_cookies

router = APIRouter(route_class=WebRoute, include_in_schema=False)

HOME_BY_ROLE = {
    Role.TRADER: "/declarations",
    Role.OFFICER: "/queue",
    Role.AGENCY_HEAD: "/overdue",
    Role.SUPERVISOR: "/overdue",
    Role.ADMIN: "/admin",
}
LANGUAGE_COOKIE_DAYS = 365


@router.get("/")
def home(page: PageDep) -> Response:
    """Each role's starting page; the sign-in page for visitors."""
    if page.principal is None or page.principal.role is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(HOME_BY_ROLE[page.principal.role], status_code=303)


@router.get("/sign-in")
def sign_in_form(
    page: PageDep, next_path: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """The sign-in form (a signed-in user goes straight on)."""
    if page.principal is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return page.render("sign_in.html", username="", next_path=safe_next(next_path, ""), errors={})


@router.post("/sign-in")
async def sign_in(page: PageDep) -> Response:
    """Check the username and password (the same users and hashes as the API)."""
    form = await page.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), "")
    errors = {}
    if not username:
        errors["username"] = page._("Enter your username.")
    if not password:
        errors["password"] = page._("Enter your password.")
    user = None
    status_code = 400
    headers = None
    if not errors:
        try:
            user = await checking.sign_in(
                page.request,
                session=page.db,
                username=username,
                password=password,
                now=page.now,
                settings=page.settings,
            )
        except TooManyRequests as locked:
            minutes = -(-locked.retry_after // 60)
            errors["form"] = page.lang.ngettext(
                "Too many failed sign-ins. Try again in %(num)s minute.",
                "Too many failed sign-ins. Try again in %(num)s minutes.",
                minutes,
            ) % {"num": page.lang.digits(minutes)}
            status_code, headers = locked.status, locked.headers
    if not errors:
        await run_in_threadpool(page.db.commit)  # a failure stays counted, a success is counted
    if user is None:
        if not errors:
            errors["form"] = page._("The username or password is wrong.")
        return page.render(
            "sign_in.html",
            status_code=status_code,
            headers=headers,
            username=username,
            next_path=next_path,
            errors=errors,
        )
    page.web.sign_in(user.id, auth.credentials_stamp(user))
    return page.redirect(next_path or HOME_BY_ROLE[Role(user.role)])


@router.get("/account/password")
def password_form(page: PageDep) -> Response:
    """The form to change one's own password."""
    page.require()
    return page.render("account/password.html", errors={})


@router.post("/account/password")
async def change_password(page: PageDep) -> Response:
    """Change one's own password; the other sessions of this user end at their next request."""
    principal = page.require()
    form = await page.form()
    current = str(form.get("current_password", ""))
    new = str(form.get("new_password", ""))
    errors = {}
    if not current:
        errors["current_password"] = page._("Enter your current password.")
    if new != str(form.get("confirm_password", "")):
        errors["confirm_password"] = page._("The two new passwords differ.")
    changed = None
    if not errors:
        try:
            changed = await _change_password(page, principal, current=current, new=new)
        except auth.WrongPassword:
            errors["current_password"] = page._("The current password is wrong.")
        except TooManyRequests:
            errors["current_password"] = page._("Too many wrong passwords. Try again later.")
        except Invalid:
            errors["new_password"] = page._(
                "Choose a new password of at least 10 characters, not the current one."
            )
        except Conflict:
            errors["current_password"] = page._(
                "Your password was changed meanwhile. Sign in again and retry."
            )
    if errors or changed is None:
        return page.render("account/password.html", status_code=400, errors=errors)
    page.web.sign_in(changed.id, auth.credentials_stamp(changed))  # this session goes on
    return page.redirect(
        HOME_BY_ROLE[principal.role] if principal.role else "/",
        flash=page._("Your password was changed. Your other sessions have ended."),
    )


async def _change_password(page: Page, principal: Principal, *, current: str, new: str) -> User:
    """Change the password and commit (a wrong current one is committed too: the failure
    stays counted); the user, changed."""
    try:
        user = await checking.change_password(
            page.request,
            session=page.db,
            principal=principal,
            current=current,
            new=new,
            now=page.now,
            settings=page.settings,
        )
    except auth.WrongPassword:
        await run_in_threadpool(page.db.commit)
        raise
    await run_in_threadpool(page.db.commit)
    return user


@router.post("/sign-out")
async def sign_out(page: PageDep) -> Response:
    """End the session."""
    await page.form()
    page.web.clear()
    return RedirectResponse("/sign-in", status_code=303)


@router.post("/language")
async def switch_language(page: PageDep) -> Response:
    """Remember the chosen language in a cookie (a year) and go back to the same page."""
    form = await page.form()
    lang = str(form.get("lang", ""))
    response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(page.settings),
        )
    return response
