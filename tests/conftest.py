"""Test fixtures: a migrated store on SQLite and on PostgreSQL, a controllable clock, users.

PostgreSQL runs wherever it is reachable at PANJEREH_TEST_POSTGRES_URL (default: the local
server on 127.0.0.1:5432). With PANJEREH_REQUIRE_POSTGRES=1 (set by .ci/run) an unreachable
PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from panjereh import migrate
from panjereh.auth.models import Role
from panjereh.auth.service import create_user
from panjereh.clock import ManualClock
from panjereh.config import Settings, get_settings
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.main import create_app
from panjereh.tables import metadata

POSTGRES_URL = os.environ.get(
    "PANJEREH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("PANJEREH_REQUIRE_POSTGRES") == "1"
PASSWORD = "correct-horse-battery"
# Saturday 2026-11-21, 08:30 in Tehran: a working morning for every agency.
START = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "panjereh.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    migrate.seed(engine, clock=ManualClock(START))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database of this test session's own."""
    problem = _postgres_available()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"panjereh_test_{uuid.uuid4().hex[:10]}"
    admin = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, seeded store for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "panjereh.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    _truncate_postgres(engine)
    migrate.seed(engine, clock=ManualClock(START))
    engine.dispose()
    return url


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line's environment pointed at the test's store."""
    monkeypatch.setenv("PANJEREH_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing still at a working morning until a test moves it."""
    return ManualClock(START)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The test's engine."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the test's store."""
    return make_session_factory(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for the test's store."""
    return Settings(env="test", database_url=database_url)


@pytest.fixture
def client(settings: Settings, clock: ManualClock) -> Iterator[TestClient]:
    """An API client on the test's store and clock."""
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


@pytest.fixture
def make_user(session_factory: sessionmaker[Session], clock: ManualClock) -> Callable[..., str]:
    """Create a user; returns the username."""

    def make(username: str, role: Role, agency: str | None = None, email: str | None = None) -> str:
        with transaction(session_factory) as session:
            create_user(
                session=session,
                username=username,
                password=PASSWORD,
                role=role,
                agency_code=agency,
                email=email,
                at=clock.now(),
            )
        return username

    return make


@pytest.fixture
def login(client: TestClient, clock: ManualClock) -> Callable[[str], dict[str, str]]:
    """Sign a user in through the API; returns the Authorization header.

    Tokens are reused while the test clock has not moved past most of their life.
    """
    cache: dict[str, tuple[datetime, dict[str, str]]] = {}

    def sign_in(username: str) -> dict[str, str]:
        issued, headers = cache.get(username, (None, {}))
        if issued is None or not issued <= clock.now() < issued + timedelta(minutes=10):
            response = client.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
            cache[username] = (clock.now(), headers)
        return headers

    return sign_in


def item(hs_code: str = "851713", **overrides: Any) -> dict[str, Any]:
    """A valid goods line (smartphones from China by default)."""
    line = {
        "hs_code": hs_code,
        "description": "Smartphones",
        "origin_country": "CN",
        "quantity": "1200",
        "unit": "NAR",
        "value": "240000.00",
        "currency": "USD",
    }
    line.update(overrides)
    return line


def declaration(*items: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A valid import declaration at Shahid Rajaee port."""
    body: dict[str, Any] = {
        "kind": "import",
        "customs_office": "SHRJ",
        "province": "IR-22",
        "items": list(items) or [item()],
    }
    body.update(overrides)
    return body


def filed_through_api(
    client: TestClient, headers: dict[str, str], *items: dict[str, Any]
) -> dict[str, Any]:
    """A declaration of ``items`` (default: one line) filed through the API by the trader of
    ``headers``, as its answer."""
    response = client.post("/api/v1/declarations", json=declaration(*items), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def filed_meanwhile(
    client: TestClient,
    headers: dict[str, str],
    slow: Callable[[], Any],
    started: threading.Event,
    go_on: threading.Event,
) -> tuple[Any, Any]:
    """Run ``slow`` (a request held in a hook that sets ``started``, then waits for
    ``go_on``) in a thread, file a declaration with ``headers`` while it is held, then let it
    go on. The filing must not wait for the slow request: it is given ten seconds. Returns
    the filing's response and the slow request's."""
    slow_answer: list[Any] = []
    holding = threading.Thread(target=lambda: slow_answer.append(slow()))
    holding.start()
    try:
        assert started.wait(30)
        filed: list[Any] = []
        filing = threading.Thread(
            target=lambda: filed.append(
                client.post("/api/v1/declarations", json=declaration(), headers=headers)
            )
        )
        filing.start()
        filing.join(timeout=10)
        assert len(filed) == 1, "the filing waited for the slow request"
    finally:
        go_on.set()
        holding.join(timeout=30)
    assert len(slow_answer) == 1
    return filed[0], slow_answer[0]
