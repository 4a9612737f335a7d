"""Password guessing is slowed down: a username that fails too often is locked for a while,
known or not, and the lock is shared by every server process (it is in the database)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth import checking
from panjereh.auth.models import Role, SignInFailure
from panjereh.auth.passwords import verify_password
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.notifications.channels import channels
from panjereh.worker import Worker
from tests.conftest import PASSWORD, filed_meanwhile


def _sign_in(client: TestClient, username: str, password: str) -> Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_a_username_is_locked_after_too_many_failures(
    client: TestClient, make_user: Callable[..., str], clock: ManualClock, settings: Settings
) -> None:
    trader = make_user("trader-guessed", Role.TRADER)
    for _ in range(settings.sign_in_attempts - 1):
        assert _sign_in(client, trader, "guess-guess").status_code == 401
    assert _sign_in(client, trader, "guess-guess").status_code == 401  # the limit: locked
    locked = _sign_in(client, trader, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert locked.json()["type"] == "/problems/sign-in-locked"
    assert int(locked.headers["retry-after"]) == settings.sign_in_lock_minutes * 60

    clock.advance(timedelta(minutes=settings.sign_in_lock_minutes - 1))
    assert _sign_in(client, trader, PASSWORD).status_code == 429
    assert int(_sign_in(client, trader, PASSWORD).headers["retry-after"]) == 60
    clock.advance(timedelta(minutes=1))
    assert _sign_in(client, trader, PASSWORD).status_code == 200  # the count starts again
    for _ in range(settings.sign_in_attempts - 1):
        assert _sign_in(client, trader, "guess-again").status_code == 401
    assert _sign_in(client, trader, PASSWORD).status_code == 200


def test_each_failure_after_a_lock_doubles_it(
    client: TestClient, make_user: Callable[..., str], clock: ManualClock, settings: Settings
) -> None:
    trader = make_user("trader-persistent", Role.TRADER)
    for _ in range(settings.sign_in_attempts):
        _sign_in(client, trader, "guess-guess")
    clock.advance(timedelta(minutes=settings.sign_in_lock_minutes))
    assert _sign_in(client, trader, "one-more-guess").status_code == 401
    again = _sign_in(client, trader, PASSWORD)
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) == 2 * settings.sign_in_lock_minutes * 60


def test_unknown_usernames_are_locked_like_known_ones(
    client: TestClient, settings: Settings
) -> None:
    answers = [
        _sign_in(client, "nobody-here", "guess-guess").status_code
        for _ in range(settings.sign_in_attempts + 1)
    ]
    assert answers == [401] * settings.sign_in_attempts + [429]


def test_the_worker_forgets_failures_a_day_old(
    client: TestClient,
    make_user: Callable[..., str],
    clock: ManualClock,
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    trader = make_user("trader-forgetful", Role.TRADER)
    _sign_in(client, trader, "guess-guess")
    worker = Worker(session_factory, clock, settings, channels(session_factory, settings))
    clock.advance(timedelta(hours=23))
    _sign_in(client, "someone-else", "guess-guess")
    worker.forget_once()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SignInFailure)) == 2
    clock.advance(timedelta(hours=2))
    assert worker.forget_once() == 1
    with engine.connect() as conn:
        assert conn.scalars(select(SignInFailure.username)).all() == ["someone-else"]


def test_the_store_is_free_while_a_password_is_checked(
    client: TestClient,
    make_user: Callable[..., str],
    login: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checking a password (Argon2, a tenth of a second) happens outside any transaction and
    outside the request's turn: while a sign-in is being checked, a declaration is filed
    (on SQLite, the sign-in held the one write lock through the check and every other
    request waited behind it)."""
    trader = make_user("trader-filing", Role.TRADER)
    officer = make_user("officer-signing-in", Role.OFFICER, "IVO")
    headers = login(trader)
    checking_now, go_on = threading.Event(), threading.Event()

    def slow_check(password_hash: str | None, password: str) -> bool:
        checking_now.set()
        assert go_on.wait(30)
        return verify_password(password_hash, password)

    monkeypatch.setattr(checking, "verify_password", slow_check)
    filed, signed_in = filed_meanwhile(
        client, headers, lambda: _sign_in(client, officer, PASSWORD), checking_now, go_on
    )
    assert filed.status_code == 201  # filed while the check went on
    assert signed_in.status_code == 200
