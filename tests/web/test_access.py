"""Who may open which page: the same roles and rules as the API, checked by URL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from panjereh.auth import service as auth
from panjereh.auth.models import Role
from panjereh.config import Settings
from panjereh.db import transaction
from panjereh.web.core import safe_next
from panjereh.web.sessions import Session, cookie_name, decode, encode, signing_key
from tests.conftest import PASSWORD, START
from tests.web.conftest import Browser


def test_pages_need_sign_in_and_come_back_after_it(
    browser: Browser, make_user: Callable[..., str]
) -> None:
    make_user("trader-a", Role.TRADER)
    response = browser.get("/declarations?status=cleared")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/declarations%3Fstatus%3Dcleared"
    browser.get(response.headers["location"])
    signed = browser.post(
        "/sign-in",
        {
            "username": "trader-a",
            "password": "correct-horse-battery",
            "next": "/declarations?status=cleared",
        },
    )
    assert signed.headers["location"] == "/declarations?status=cleared"
    assert browser.get("/declarations").status_code == 200


def test_each_role_lands_on_its_own_page(
    new_browser: Callable[[], Browser], make_user: Callable[..., str]
) -> None:
    expected = {
        make_user("t", Role.TRADER): "/declarations",
        make_user("o", Role.OFFICER, "IVO"): "/queue",
        make_user("h", Role.AGENCY_HEAD, "IVO"): "/overdue",
        make_user("s", Role.SUPERVISOR): "/overdue",
        make_user("a", Role.ADMIN): "/admin",
    }
    for username, home in expected.items():
        b = new_browser()
        b.sign_in(username)
        assert b.get("/").headers["location"] == home
        assert b.get(home).status_code == 200, (username, b.last.text if b.last else "")


def test_a_trader_cannot_open_another_traders_declaration(
    new_browser: Callable[[], Browser],
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
) -> None:
    make_user("owner", Role.TRADER)
    make_user("other", Role.TRADER)
    filed = file_for("owner")
    owner, other = new_browser(), new_browser()
    owner.sign_in("owner")
    other.sign_in("other")
    assert owner.get(f"/declarations/{filed['declaration']}").status_code == 200
    refused = other.get(f"/declarations/{filed['declaration']}")
    assert refused.status_code == 404
    assert "text/html" in refused.headers["content-type"]
    # Same answer as for a declaration that does not exist: existence is not disclosed.
    assert other.get("/declarations/999999").status_code == 404
    # Nor through its inquiry, nor by answering it.
    assert other.get(f"/inquiries/{filed['CRA']}").status_code == 404
    reply = other.post(f"/inquiries/{filed['CRA']}/reply", {"message": "hello"})
    assert reply.status_code == 404


def test_officers_see_only_their_agencys_inquiries(
    new_browser: Callable[[], Browser],
    make_user: Callable[..., str],
    file_for: Callable[..., dict[str, int]],
) -> None:
    make_user("trader", Role.TRADER)
    make_user("cra", Role.OFFICER, "CRA")
    make_user("ivo", Role.OFFICER, "IVO")
    filed = file_for("trader")
    cra, ivo = new_browser(), new_browser()
    cra.sign_in("cra")
    ivo.sign_in("ivo")
    assert cra.get(f"/inquiries/{filed['CRA']}").status_code == 200
    assert ivo.get(f"/inquiries/{filed['CRA']}").status_code == 404
    assert f"/inquiries/{filed['CRA']}" in cra.get("/queue").text
    assert f"/inquiries/{filed['CRA']}" not in ivo.get("/queue").text
    # An officer cannot ask for another agency's queue.
    assert f"/inquiries/{filed['CRA']}" not in ivo.get("/queue?agency=CRA").text
    # Officers work inquiries, not declarations (as in the API).
    assert cra.get(f"/declarations/{filed['declaration']}").status_code == 403
    # And may not decide another agency's inquiry.
    ivo.get("/queue")
    decided = ivo.post(
        f"/inquiries/{filed['CRA']}/decision", {"outcome": "approve", "step": "confirm"}
    )
    assert decided.status_code == 404


def test_roles_are_kept_out_of_other_roles_pages(
    new_browser: Callable[[], Browser], make_user: Callable[..., str]
) -> None:
    trader, officer, admin = new_browser(), new_browser(), new_browser()
    make_user("t", Role.TRADER)
    make_user("o", Role.OFFICER, "CRA")
    make_user("a", Role.ADMIN)
    trader.sign_in("t")
    officer.sign_in("o")
    admin.sign_in("a")
    for path in ("/queue", "/overdue", "/admin", "/admin/rules/preview"):
        assert trader.get(path).status_code == 403, path
    for path in ("/declarations/new", "/admin", "/declarations"):
        assert officer.get(path).status_code == 403, path
    assert admin.get("/declarations/new").status_code == 403
    assert admin.get("/admin").status_code == 200
    page = trader.get("/admin")
    assert "اجازه دیدن این صفحه را ندارید" in page.text


def test_sign_in_refuses_wrong_passwords_in_both_languages(
    browser: Browser, make_user: Callable[..., str]
) -> None:
    make_user("trader", Role.TRADER)
    browser.get("/sign-in")
    wrong = browser.post("/sign-in", {"username": "trader", "password": "nope"})
    assert wrong.status_code == 400
    assert "نام کاربری یا گذرواژه نادرست است." in wrong.text
    assert 'value="trader"' in wrong.text  # what was typed is kept (not the password)
    empty = browser.post("/sign-in", {"username": "", "password": ""})
    assert "نام کاربری را وارد کنید." in empty.text and "گذرواژه را وارد کنید." in empty.text
    assert 'aria-invalid="true"' in empty.text
    browser.english()
    wrong = browser.post("/sign-in", {"username": "trader", "password": "nope"})
    assert "The username or password is wrong." in wrong.text
    empty = browser.post("/sign-in", {"username": " ", "password": ""})
    assert "Enter your username." in empty.text and "Enter your password." in empty.text
    assert (
        "panjereh_session" not in browser.client.cookies
        or browser.get("/declarations").status_code == 303
    )


def test_sign_out_ends_the_session(browser: Browser, make_user: Callable[..., str]) -> None:
    make_user("trader", Role.TRADER)
    browser.sign_in("trader")
    old_cookie = browser.client.cookies.get("panjereh_session")
    browser.get("/declarations")
    out = browser.post("/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert browser.get("/declarations").status_code == 303
    assert old_cookie


def test_a_deactivated_user_is_signed_out_at_once(
    browser: Browser, make_user: Callable[..., str], session_factory: object
) -> None:
    from sqlalchemy import update

    from panjereh.auth.models import User
    from panjereh.db import transaction

    make_user("trader", Role.TRADER)
    browser.sign_in("trader")
    assert browser.get("/declarations").status_code == 200
    with transaction(session_factory) as session:  # type: ignore[arg-type]
        session.execute(update(User).where(User.username == "trader").values(is_active=False))
    assert browser.get("/declarations").status_code == 303


def test_a_forged_or_tampered_session_cookie_signs_no_one_in(
    browser: Browser, make_user: Callable[..., str], settings: Settings
) -> None:
    make_user("trader", Role.TRADER)
    forged = encode({"uid": 1, "exp": 2**40}, signing_key("not-the-secret"))
    browser.client.cookies.set(cookie_name(settings), forged)
    assert browser.get("/declarations").status_code == 303
    key = signing_key(settings.secret_key)
    genuine = encode({"uid": 1, "exp": 2**40}, key)
    payload, _, signature = genuine.partition(".")
    assert decode(genuine, key) == {"uid": 1, "exp": 2**40}
    assert decode(payload + "x." + signature, key) is None
    assert decode("garbage", key) is None


def test_cookies_are_httponly_lax_and_secure_outside_development(
    browser: Browser, make_user: Callable[..., str]
) -> None:
    make_user("trader", Role.TRADER)
    browser.get("/sign-in")
    signed = browser.post("/sign-in", {"username": "trader", "password": "correct-horse-battery"})
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests and development
    production = Settings.model_construct(env="production")
    assert cookie_name(production) == "__Host-panjereh_session"


def test_sessions_expire_by_the_application_clock() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    key = signing_key("secret")
    session = Session(None, key, lambda: now)
    session.sign_in(7, "stamp")
    value = session.cookie_value()
    assert value is not None
    assert Session(value, key, lambda: now + timedelta(hours=7)).user_id == 7
    assert Session(value, key, lambda: now + timedelta(hours=9)).user_id is None


def test_unknown_pages_are_html_for_browsers_and_problems_for_the_api(browser: Browser) -> None:
    page = browser.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "پیدا نشد" in page.text
    api = browser.get("/api/v1/no-such-thing", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert browser.get("/declarations/not-a-number").status_code in (303, 404)


def test_return_paths_stay_on_this_site() -> None:
    assert safe_next("/declarations?x=1") == "/declarations?x=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:1", ""):
        assert safe_next(bad) == "/"


def test_pages_carry_security_headers(browser: Browser) -> None:
    page = browser.get("/sign-in")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_sign_in_form_says_when_to_try_again_after_too_many_failures(
    browser: Browser, make_user: Callable[..., str], settings: Settings
) -> None:
    make_user("trader", Role.TRADER)
    browser.get("/sign-in")
    for _ in range(settings.sign_in_attempts):
        assert (
            browser.post("/sign-in", {"username": "trader", "password": "nope"}).status_code == 400
        )
    locked = browser.post("/sign-in", {"username": "trader", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == str(settings.sign_in_lock_minutes * 60)
    minutes = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in str(settings.sign_in_lock_minutes))
    assert f"{minutes} دقیقه دیگر دوباره تلاش کنید" in locked.text
    browser.english()
    locked = browser.post("/sign-in", {"username": "trader", "password": PASSWORD})
    assert f"Try again in {settings.sign_in_lock_minutes} minutes." in locked.text


def test_a_person_changes_their_password_and_other_sessions_end(
    new_browser: Callable[[], Browser], make_user: Callable[..., str]
) -> None:
    make_user("trader", Role.TRADER)
    here, elsewhere = new_browser(), new_browser()
    here.sign_in("trader")
    elsewhere.sign_in("trader")
    form = here.get("/account/password")
    assert form.status_code == 200 and "تغییر گذرواژه" in form.text
    wrong = here.post(
        "/account/password",
        {"current_password": "nope", "new_password": "n" * 12, "confirm_password": "n" * 12},
    )
    assert wrong.status_code == 400 and "گذرواژه کنونی نادرست است." in wrong.text
    differ = here.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "n" * 12, "confirm_password": "m" * 12},
    )
    assert differ.status_code == 400 and "دو گذرواژه تازه یکسان نیستند." in differ.text
    changed = here.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "n" * 12, "confirm_password": "n" * 12},
    )
    assert changed.status_code == 303
    assert here.get(changed.headers["location"]).status_code == 200  # this session goes on
    assert elsewhere.get("/declarations").status_code == 303  # the other one has ended
    fresh = new_browser()
    fresh.sign_in("trader", "n" * 12)


def test_a_password_changed_meanwhile_is_not_overwritten(
    new_browser: Callable[[], Browser],
    make_user: Callable[..., str],
    session_factory: sessionmaker[DbSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user("trader", Role.TRADER)
    here = new_browser()
    here.sign_in("trader")
    real = auth.new_password_hash

    def operator_meanwhile(attempt: auth.SignInAttempt, *, current: str, new: str) -> str | None:
        with transaction(session_factory) as session:
            auth.reset_password(session=session, username="trader", password="o" * 12, at=START)
        return real(attempt, current=current, new=new)

    monkeypatch.setattr(auth, "new_password_hash", operator_meanwhile)
    raced = here.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "n" * 12, "confirm_password": "n" * 12},
    )
    assert raced.status_code == 400
    assert "گذرواژه شما در این میان تغییر کرده است." in raced.text
    new_browser().sign_in("trader", "o" * 12)  # the operator's password stands
