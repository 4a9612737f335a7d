"""A retried POST returns the first response and changes nothing; a reused key is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.declarations.models import Declaration
from panjereh.idempotency.models import IdempotencyRecord
from panjereh.notifications.channels import channels
from panjereh.worker import Worker
from tests.conftest import declaration, item

Login = Callable[[str], dict[str, str]]


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model)) or 0


def test_retried_filing_returns_the_first_response(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    trader = make_user("trader-retry", Role.TRADER)
    headers = {**login(trader), "Idempotency-Key": "filing-7f3a"}
    first = client.post("/api/v1/declarations", json=declaration(), headers=headers)
    assert first.status_code == 201
    events = _count(engine, Event)
    again = client.post("/api/v1/declarations", json=declaration(), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(engine, Declaration) == 1
    assert _count(engine, Event) == events


def test_same_key_different_body_is_refused(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    trader = make_user("trader-reuse", Role.TRADER)
    headers = {**login(trader), "Idempotency-Key": "k-1"}
    assert (
        client.post("/api/v1/declarations", json=declaration(), headers=headers).status_code == 201
    )
    other = declaration(item(value="1"))
    refused = client.post("/api/v1/declarations", json=other, headers=headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count(engine, Declaration) == 1


def test_keys_belong_to_their_user(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    a, b = make_user("trader-a", Role.TRADER), make_user("trader-b", Role.TRADER)
    for user in (a, b):
        response = client.post(
            "/api/v1/declarations",
            json=declaration(),
            headers={**login(user), "Idempotency-Key": "shared"},
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert _count(engine, Declaration) == 2


def test_retried_decision_is_recorded_once(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    trader = make_user("trader-d", Role.TRADER)
    officer = make_user("officer-cra", Role.OFFICER, "CRA")
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
    cra = next(i for i in doc["inquiries"] if i["agency_code"] == "CRA")
    headers = {**login(officer), "Idempotency-Key": f"decide-{cra['id']}"}
    path = f"/api/v1/inquiries/{cra['id']}/decision"
    first = client.post(path, json={"outcome": "approve"}, headers=headers)
    events = _count(engine, Event)
    second = client.post(path, json={"outcome": "approve"}, headers=headers)
    assert second.status_code == 200 and second.json() == first.json()
    assert _count(engine, Event) == events
    # Without the key, the retry is a second decision on a closed inquiry: a 409.
    assert client.post(path, json={"outcome": "approve"}, headers=login(officer)).status_code == 409


def test_failed_request_stores_no_answer(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-f", Role.TRADER)
    headers = {**login(trader), "Idempotency-Key": "after-fix"}
    bad = client.post("/api/v1/declarations", json=declaration(item("12")), headers=headers)
    assert bad.status_code == 422
    good = client.post("/api/v1/declarations", json=declaration(), headers=headers)
    assert good.status_code == 201


def test_key_too_long_is_refused(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-long", Role.TRADER)
    response = client.post(
        "/api/v1/declarations",
        json=declaration(),
        headers={**login(trader), "Idempotency-Key": "k" * 201},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_answers_are_forgotten_after_the_retention(
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: ManualClock,
    settings: Settings,
) -> None:
    """The worker forgets stored answers older than PANJEREH_IDEMPOTENCY_HOURS, and only
    those; a retry after that runs as a new request."""
    trader = make_user("trader-old", Role.TRADER)
    old = {**login(trader), "Idempotency-Key": "filed-long-ago"}
    assert client.post("/api/v1/declarations", json=declaration(), headers=old).status_code == 201
    clock.advance(timedelta(hours=settings.idempotency_hours - 1))
    recent = {**login(trader), "Idempotency-Key": "filed-lately"}
    assert (
        client.post("/api/v1/declarations", json=declaration(), headers=recent).status_code == 201
    )
    worker = Worker(session_factory, clock, settings, channels(session_factory, settings))

    worker.run_once()  # the first answer is 71 hours old: kept
    assert _count(engine, IdempotencyRecord) == 2
    clock.advance(timedelta(hours=2))
    assert worker.forget_once() == 1
    with engine.connect() as conn:
        assert conn.scalars(select(IdempotencyRecord.key)).all() == ["filed-lately"]

    signed_in = login(trader)  # the tokens above have expired
    replayed = client.post(
        "/api/v1/declarations", json=declaration(), headers={**recent, **signed_in}
    )
    assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
    anew = client.post("/api/v1/declarations", json=declaration(), headers={**old, **signed_in})
    assert anew.status_code == 201 and "idempotent-replayed" not in anew.headers
    assert _count(engine, Declaration) == 3


def test_the_retention_is_at_least_an_hour() -> None:
    with pytest.raises(ValidationError):
        Settings(env="development", idempotency_hours=0)
