"""The hash-chained event log: intact after real work, and any tampering is found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh.audit.chain import verify
from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.cli import app
from tests.conftest import declaration

Login = Callable[[str], dict[str, str]]


@pytest.fixture
def history(client: TestClient, make_user: Callable[..., str], login: Login) -> int:
    trader = make_user("trader-audit", Role.TRADER)
    officer = make_user("officer-mimt", Role.OFFICER, "MIMT")
    for _ in range(3):
        doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
        mimt = next(i for i in doc["inquiries"] if i["agency_code"] == "MIMT")
        client.post(
            f"/api/v1/inquiries/{mimt['id']}/decision",
            json={"outcome": "reject", "reason": "No proforma"},
            headers=login(officer),
        )
    return 3


def test_chain_is_intact_after_real_work(
    history: int, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        report = verify(session)
        kinds = session.scalars(select(Event.kind).order_by(Event.seq)).all()
    assert report.ok and report.checked == len(kinds)
    assert kinds.count("declaration.filed") == history
    assert kinds.count("declaration.refused") == history


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE events SET actor = 'someone-else' WHERE seq = 5", "content"),
        ("UPDATE events SET data = '{}' WHERE seq = 3", "content"),
        ("DELETE FROM events WHERE seq = 4", "missing"),
        ("UPDATE events SET hash = prev_hash WHERE seq = 6", "content"),
    ],
)
def test_tampering_is_reported_at_the_first_broken_link(
    history: int,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tamper: str,
    reason: str,
) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            tamper = tamper.replace("'{}'", "'{}'::jsonb")
        conn.execute(text(tamper))
    with session_factory() as session:
        report = verify(session)
    assert not report.ok
    assert report.broken_at in (3, 4, 5, 6)
    assert reason in (report.reason or "")


def test_removing_the_newest_events_is_found(
    history: int, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with engine.begin() as conn:
        newest = conn.scalar(text("SELECT max(seq) FROM events"))
        conn.execute(text("DELETE FROM events WHERE seq = :s"), {"s": newest})
    with session_factory() as session:
        report = verify(session)
    assert not report.ok and "removed" in (report.reason or "")


def test_cli_verify(
    history: int, database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panjereh.config import get_settings

    monkeypatch.setenv("PANJEREH_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "intact" in ok.output
        with engine.begin() as conn:
            conn.execute(text("UPDATE events SET kind = 'inquiry.approved' WHERE seq = 7"))
        broken = CliRunner().invoke(app, ["audit", "verify"])
        assert broken.exit_code == 1
        assert "broken at event 7" in broken.output
    finally:
        get_settings.cache_clear()
