"""The reference agency systems live: ``panjereh agency demo-connect`` connects IVO by push
and INSO and IFDA by pull, ``panjereh agency-sim`` runs them against a real server and a real
worker, and every inquiry the trader files is answered by the agencies' systems, signed."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh.audit.models import Event
from panjereh.auth import tokens
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.cli import app
from panjereh.config import Settings
from panjereh.exchange.models import SecurityEvent
from panjereh.inquiries.models import Inquiry
from tests.conftest import declaration, item
from tests.processes import free_port, spawn, start_server, wait_for

runner = CliRunner()
ANSWERS = {"inquiry.approved", "inquiry.rejected", "inquiry.info_requested"}


def test_simulated_agencies_answer_every_inquiry(
    cli_env: None,
    database_url: str,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    made = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "trader",
            "--password",
            "pw-trader-1",
            "--role",
            "trader",
        ],
    )
    assert made.exit_code == 0, made.output
    server, base = start_server(database_url)
    sims_dir = tmp_path / "sims"
    connected = runner.invoke(
        app,
        [
            "agency",
            "demo-connect",
            "--directory",
            str(sims_dir),
            "--api-url",
            base,
            "--push-port",
            str(free_port()),
        ],
    )
    assert connected.exit_code == 0, connected.output
    configs = sorted(sims_dir.glob("*.json"))
    assert [c.stem for c in configs] == ["IFDA", "INSO", "IVO"]
    assert json.loads((sims_dir / "IVO.json").read_text())["mode"] == "push"
    processes = [server, spawn(database_url, "worker")]
    processes += [
        spawn(
            database_url,
            "agency-sim",
            "--config",
            str(c),
            "--delay-min",
            "0.05",
            "--delay-max",
            "0.3",
        )
        for c in configs
    ]
    try:
        token = tokens.issue(
            principal=Principal(id=1, username="trader", role=Role.TRADER),
            secret=Settings(env="test").secret_key,
            now=datetime.now(UTC),
            ttl=timedelta(minutes=15),
        )
        headers = {"Authorization": f"Bearer {token}"}
        goods = [item("020130", value="900"), item("300490", value="900")]  # IVO, IFDA
        for n in range(6):
            filed = httpx.post(
                f"{base}/api/v1/declarations",
                json=declaration(goods[n % 2]),
                headers=headers,
                timeout=10,
            )
            assert filed.status_code == 201, filed.text

        def answered() -> bool:
            with session_factory() as s:
                states = set(s.scalars(select(Inquiry.state)))
            return "awaiting_answer" not in states

        wait_for(answered, seconds=90)
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes:
            p.wait(timeout=20)
    with session_factory() as s:
        decisions = s.scalars(select(Event).where(Event.kind.in_(ANSWERS))).all()
        assert len(decisions) == 6
        assert {e.actor for e in decisions} == {"system@IVO", "system@IFDA"}
        assert all(e.data["provenance"]["signature"].startswith("t=") for e in decisions)
        assert s.scalars(select(SecurityEvent)).all() == []
    health = runner.invoke(app, ["agency", "health"])
    assert health.exit_code == 0, health.output
    assert "IVO      push  messages 3 delivered 3" in health.output
    assert "IFDA     pull  messages 3 delivered 3" in health.output
    listed = runner.invoke(app, ["agency", "credentials", "list"])
    assert listed.output.count("active") == 3 and "pjk_" not in listed.output


def test_agency_commands(cli_env: None, client: TestClient) -> None:
    connected = runner.invoke(
        app, ["agency", "connect", "PPO", "--mode", "push", "--url", "https://ppo.example/in"]
    )
    assert connected.exit_code == 0, connected.output
    assert "signing secret (shown only now)" in connected.output
    switched = runner.invoke(app, ["agency", "connect", "PPO", "--mode", "pull"])
    assert switched.exit_code == 0 and "signing secret" not in switched.output
    rotated = runner.invoke(app, ["agency", "rotate-secret", "PPO"])
    assert rotated.exit_code == 0 and "new signing secret" in rotated.output

    made = runner.invoke(app, ["agency", "credentials", "create", "PPO", "--label", "ppo system"])
    assert made.exit_code == 0, made.output
    key = made.output.split("key (shown only now): ")[1].strip()
    inbox = client.get("/api/v1/agency/inbox", headers={"Authorization": f"Bearer {key}"})
    assert inbox.status_code == 200 and inbox.json()["messages"] == []
    key_id = key.split("_")[1]
    assert runner.invoke(app, ["agency", "credentials", "revoke", key_id]).exit_code == 0
    refused = client.get("/api/v1/agency/inbox", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401

    for args, words in (
        (["agency", "connect", "XX", "--mode", "pull"], "agency XX does not exist"),
        (["agency", "connect", "PPO", "--mode", "fax"], "--mode must be push or pull"),
        (["agency", "connect", "PPO", "--mode", "push"], "needs an http(s) URL"),
        (["agency", "credentials", "create", "XX"], "agency XX does not exist"),
        (["agency", "credentials", "revoke", "nope"], "credential nope not found"),
        (["agency", "rotate-secret", "IVO"], "IVO has no connected system"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and words in result.output, (args, result.output)
