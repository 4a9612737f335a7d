"""People change their own password; operators reset one; old sessions end."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh.audit.models import Event
from panjereh.auth import service
from panjereh.auth.models import Role
from panjereh.cli import app
from panjereh.config import Settings
from panjereh.db import transaction
from tests.conftest import PASSWORD, START, filed_meanwhile

Login = Callable[[str], dict[str, str]]
NEW = "a-brand-new-passphrase"


def _sign_in(client: TestClient, username: str, password: str) -> Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_a_person_changes_their_password(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    officer = make_user("officer-pw", Role.OFFICER, "IVO")
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=login(officer),
    )
    assert changed.status_code == 204
    assert _sign_in(client, officer, PASSWORD).status_code == 401
    assert _sign_in(client, officer, NEW).status_code == 200
    with engine.connect() as conn:
        kinds = conn.scalars(select(Event.kind).where(Event.kind.like("user.password%"))).all()
        data = conn.scalars(select(Event.data).where(Event.kind == "user.password_changed")).one()
    assert kinds == ["user.password_changed"]
    assert NEW not in str(data) and PASSWORD not in str(data)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"current_password": "not-it-at-all", "new_password": NEW}, "current_password", "wrong"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password", "10"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password", "differ"),
        ({"current_password": PASSWORD}, "new_password", "required"),
        ({"current_password": PASSWORD, "new_password": "x" * 1025}, "new_password", "1024"),
    ],
)
def test_bad_password_changes_are_refused(
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
    body: dict[str, str],
    field: str,
    words: str,
) -> None:
    trader = make_user("trader-pw", Role.TRADER)
    refused = client.post("/api/v1/auth/password", json=body, headers=login(trader))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == field
    assert words in refused.json()["errors"][0]["reason"]
    assert _sign_in(client, trader, PASSWORD).status_code == 200  # nothing changed


def test_wrong_current_passwords_count_as_failed_sign_ins(
    client: TestClient, make_user: Callable[..., str], login: Login, settings: Settings
) -> None:
    trader = make_user("trader-guess", Role.TRADER)
    headers = login(trader)
    wrong = {"current_password": "not-it-at-all", "new_password": NEW}
    for _ in range(settings.sign_in_attempts):
        assert client.post("/api/v1/auth/password", json=wrong, headers=headers).status_code == 422
    right = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post("/api/v1/auth/password", json=right, headers=headers).status_code == 429
    assert _sign_in(client, trader, PASSWORD).status_code == 429


def test_changing_a_password_needs_a_signed_in_person(client: TestClient) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post("/api/v1/auth/password", json=body).status_code == 401


def test_an_operator_resets_a_password_and_lifts_a_lock(
    cli_env: None, client: TestClient, make_user: Callable[..., str], settings: Settings
) -> None:
    trader = make_user("trader-locked", Role.TRADER)
    for _ in range(settings.sign_in_attempts):
        _sign_in(client, trader, "guess-guess")
    assert _sign_in(client, trader, PASSWORD).status_code == 429
    runner = CliRunner()
    done = runner.invoke(app, ["users", "set-password", "--username", trader, "--password", NEW])
    assert done.exit_code == 0, done.output
    assert f"password set for {trader}" in done.output
    assert _sign_in(client, trader, NEW).status_code == 200
    refused = runner.invoke(
        app, ["users", "set-password", "--username", "nobody", "--password", NEW]
    )
    assert refused.exit_code != 0 and "no person signs in as 'nobody'" in refused.output
    short = runner.invoke(app, ["users", "set-password", "--username", trader, "--password", "x"])
    assert short.exit_code != 0 and "at least 10" in short.output


def test_the_store_is_free_while_a_new_password_is_hashed(
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checking the current password and hashing the new one (two Argon2 hashes) happen
    outside any transaction and outside the request's turn: a declaration is filed meanwhile
    (on SQLite the change held the one write lock through both)."""
    trader = make_user("trader-filing-pw", Role.TRADER)
    officer = make_user("officer-changing-pw", Role.OFFICER, "IVO")
    trader_headers, officer_headers = login(trader), login(officer)
    hashing, go_on = threading.Event(), threading.Event()
    real = service.new_password_hash

    def slow_hash(attempt: service.SignInAttempt, *, current: str, new: str) -> str | None:
        hashing.set()
        assert go_on.wait(30)
        return real(attempt, current=current, new=new)

    monkeypatch.setattr(service, "new_password_hash", slow_hash)
    filed, changed = filed_meanwhile(
        client,
        trader_headers,
        lambda: client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW},
            headers=officer_headers,
        ),
        hashing,
        go_on,
    )
    assert filed.status_code == 201  # filed while the hash was made
    assert changed.status_code == 204
    assert _sign_in(client, officer, NEW).status_code == 200


def test_a_password_changed_meanwhile_is_a_conflict(
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The current password is proven against the hash read first; if an operator resets the
    password while the new one is being hashed, nothing is stored: 409, and the operator's
    password stands."""
    officer = make_user("officer-raced", Role.OFFICER, "IVO")
    real = service.new_password_hash

    def operator_meanwhile(attempt: service.SignInAttempt, *, current: str, new: str) -> str | None:
        with transaction(session_factory) as session:
            service.reset_password(
                session=session, username=officer, password="set-by-an-operator", at=START
            )
        return real(attempt, current=current, new=new)

    monkeypatch.setattr(service, "new_password_hash", operator_meanwhile)
    raced = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=login(officer),
    )
    assert raced.status_code == 409
    assert raced.headers["content-type"] == "application/problem+json"
    assert "changed meanwhile" in raced.json()["detail"]
    assert _sign_in(client, officer, NEW).status_code == 401
    assert _sign_in(client, officer, "set-by-an-operator").status_code == 200
