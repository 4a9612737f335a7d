"""The administrator's users and agencies pages: adding a user, deactivating and reactivating,
webhook subscriptions — validation in both languages, nothing written from an invalid form,
access by role and CSRF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from panjereh.auth.models import Role, User
from panjereh.notifications.models import WebhookSubscription
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, count_rows

ADMIN_PAGES = (
    "/admin",
    "/admin/users",
    "/admin/agencies",
    "/admin/rules",
    "/admin/rules/preview",
    "/admin/policies",
    "/admin/policies/CRA-TYPE",
    "/admin/calendars",
)
ADMIN_FORMS = (
    "/admin/users",
    "/admin/users/1/active",
    "/admin/webhooks",
    "/admin/webhooks/1/remove",
    "/admin/rules",
    "/admin/rules/1/activate",
    "/admin/policies/CRA-TYPE",
    "/admin/calendars/closures",
    "/admin/calendars/closures/1/remove",
    "/admin/calendars/corrections",
    "/admin/calendars/working-weeks",
)


def _user_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "username": "officer.ivo-2",
        "full_name": "مریم احمدی",
        "role": "officer",
        "agency": "IVO",
        "email": "m.ahmadi@ivo.example",
        "password": "long-enough-password",
    }
    fields.update(overrides)
    return fields


def test_an_admin_adds_a_user_who_can_then_sign_in(
    new_browser: Callable[[], Browser], make_user: Callable[..., str]
) -> None:
    make_user("admin", Role.ADMIN)
    admin = new_browser()
    admin.sign_in("admin")
    form = admin.get("/admin/users")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    created = admin.post("/admin/users", _user_fields(password=PASSWORD))
    assert created.status_code == 303, created.text
    page = admin.get(created.headers["location"])
    assert "officer.ivo-2" in page.text and "مریم احمدی" in page.text
    assert "کاربر officer.ivo-2 افزوده شد." in page.text
    officer = new_browser()
    officer.sign_in("officer.ivo-2")
    assert officer.get("/queue").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "fa", "en"),
    [
        (
            {"password": "short"},
            "password",
            "گذرواژه‌ای با دست‌کم ۱۰ نویسه برگزینید.",
            "Choose a password of at least 10 characters.",
        ),
        (
            {"agency": ""},
            "agency",
            "کارشناس و رئیس دستگاه عضو یک دستگاه‌اند: آن را برگزینید.",
            "Officers and agency heads belong to an agency: choose it.",
        ),
        (
            {"email": "not-an-address"},
            "email",
            "یک نشانی ایمیل وارد کنید، مانند name@example.ir.",
            "Enter an email address, such as name@example.ir.",
        ),
        (
            {"username": "a b"},
            "username",
            "۳ تا ۶۴ حرف لاتین، رقم و . _ @ - به کار ببرید که با حرف یا رقم آغاز شود.",
            "Use 3 to 64 Latin letters, digits and . _ @ -, beginning with a letter or digit.",
        ),
        ({"role": "emperor"}, "role", "یک نقش برگزینید.", "Choose a role."),
        (
            {"username": "admin"},  # taken: the service's refusal, on the field
            "username",
            "این نام کاربری پیش‌تر گرفته شده است.",
            "This username is already taken.",
        ),
    ],
)
def test_the_user_form_says_what_is_wrong_and_keeps_what_was_typed(
    browser: Browser,
    make_user: Callable[..., str],
    session_factory: Any,
    overrides: dict[str, str],
    field: str,
    fa: str,
    en: str,
) -> None:
    make_user("admin", Role.ADMIN)
    browser.sign_in("admin")
    browser.get("/admin/users")
    before = count_rows(session_factory, User)
    fields = _user_fields(**overrides, full_name="<b>Maryam</b>")
    page = browser.post("/admin/users", fields)
    assert page.status_code == 422
    assert fa in page.text
    assert f'id="user-{field}"' in page.text and 'aria-invalid="true"' in page.text
    assert "&lt;b&gt;Maryam&lt;/b&gt;" in page.text  # kept, and shown as text
    assert "long-enough-password" not in page.text  # a password is never sent back
    browser.english()
    page = browser.post("/admin/users", fields)
    assert page.status_code == 422 and en in page.text
    assert count_rows(session_factory, User) == before


def test_deactivating_signs_a_user_out_and_reactivating_lets_them_back(
    new_browser: Callable[[], Browser], make_user: Callable[..., str], session_factory: Any
) -> None:
    make_user("admin", Role.ADMIN)
    make_user("trader", Role.TRADER)
    admin, trader = new_browser(), new_browser()
    admin.sign_in("admin")
    trader.sign_in("trader")
    with session_factory() as s:
        trader_id = s.query(User).filter_by(username="trader").one().id
        admin_id = s.query(User).filter_by(username="admin").one().id
    admin.get("/admin/users")
    off = admin.post(f"/admin/users/{trader_id}/active", {"active": "false"})
    assert off.status_code == 303
    assert "غیرفعال" in admin.get(off.headers["location"]).text
    assert trader.get("/declarations").status_code == 303  # signed out at once
    on = admin.post(f"/admin/users/{trader_id}/active", {"active": "true"})
    assert on.status_code == 303
    trader.sign_in("trader")
    assert trader.get("/declarations").status_code == 200
    # An administrator cannot lock themselves out.
    admin.get("/admin/users")
    own = admin.post(f"/admin/users/{admin_id}/active", {"active": "false"})
    assert own.status_code == 422 and "حساب خودتان را نمی‌توانید غیرفعال کنید." in own.text
    assert admin.get("/admin").status_code == 200


def test_webhooks_show_their_secret_once_and_refuse_bad_addresses(
    browser: Browser, make_user: Callable[..., str], session_factory: Any
) -> None:
    make_user("admin", Role.ADMIN)
    browser.sign_in("admin")
    page = browser.get("/admin/agencies")
    assert page.status_code == 200 and "IVO" in page.text
    cases = (
        (
            "ftp://ivo.example/x",
            "یک نشانی http یا https وارد کنید، مانند https://ivo.example/panjereh.",
            "Enter an http or https address, such as https://ivo.example/panjereh.",
        ),
        (
            "",
            "نشانی دریافت‌کننده آگاهی‌ها را وارد کنید.",
            "Enter the address that receives the notices.",
        ),
    )
    for bad, fa, _ in cases:
        browser.get("/admin/agencies")
        refused = browser.post("/admin/webhooks", {"agency": "IVO", "url": bad})
        assert refused.status_code == 422 and fa in refused.text
        assert f'value="{bad}"' in refused.text
    browser.english()
    for bad, _, en in cases:
        refused = browser.post("/admin/webhooks", {"agency": "IVO", "url": bad})
        assert refused.status_code == 422 and en in refused.text
    assert count_rows(session_factory, WebhookSubscription) == 0
    token = browser.form_token()
    added = browser.post(
        "/admin/webhooks",
        {"agency": "IVO", "url": "https://ivo.example/hook", "form_token": token},
    )
    assert added.status_code == 200 and 'class="secret-value"' in added.text
    with session_factory() as s:
        hook = s.query(WebhookSubscription).one()
    assert hook.secret in added.text and hook.agency_code == "IVO"
    listed = browser.get("/admin/agencies")
    assert "https://ivo.example/hook" in listed.text and hook.secret not in listed.text
    # The same form sent again adds nothing and shows no secret.
    again = browser.post(
        "/admin/webhooks",
        {"agency": "IVO", "url": "https://ivo.example/hook", "form_token": token},
    )
    assert again.status_code == 303 and count_rows(session_factory, WebhookSubscription) == 1
    removed = browser.post(f"/admin/webhooks/{hook.id}/remove", {})
    assert removed.status_code == 303
    assert count_rows(session_factory, WebhookSubscription) == 0


def test_only_administrators_open_or_post_the_admin_pages(
    new_browser: Callable[[], Browser], make_user: Callable[..., str], session_factory: Any
) -> None:
    make_user("admin", Role.ADMIN)
    people = {
        "t": make_user("t", Role.TRADER),
        "o": make_user("o", Role.OFFICER, "CRA"),
        "h": make_user("h", Role.AGENCY_HEAD, "CRA"),
        "s": make_user("s", Role.SUPERVISOR),
    }
    before = count_rows(session_factory, User)
    for username in people.values():
        b = new_browser()
        b.sign_in(username)
        for path in ADMIN_PAGES:
            assert b.get(path).status_code == 403, (username, path)
        for path in ADMIN_FORMS:
            assert b.post(path, _user_fields()).status_code == 403, (username, path)
    assert count_rows(session_factory, User) == before
    visitor = new_browser()
    assert visitor.get("/admin/users").status_code == 303  # to sign in
    admin = new_browser()
    admin.sign_in("admin")
    for path in ADMIN_PAGES:
        assert admin.get(path).status_code == 200, path


def test_admin_forms_refuse_a_missing_or_forged_csrf_token(
    browser: Browser, make_user: Callable[..., str], session_factory: Any
) -> None:
    make_user("admin", Role.ADMIN)
    browser.sign_in("admin")
    browser.get("/admin/users")
    before = count_rows(session_factory, User)
    for path in ADMIN_FORMS:
        missing = browser.post(path, _user_fields(), csrf=False)
        assert missing.status_code == 403, path
        forged = browser.post(path, {**_user_fields(), "csrf_token": "forged"})
        assert forged.status_code == 403, path
    assert count_rows(session_factory, User) == before
