"""The command line: users, rule sets (new versions never rewrite old inquiries)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from panjereh.auth.models import PERSON_ROLES, Role
from panjereh.cli import PersonRole, app
from panjereh.rules.service import default_document
from tests.conftest import declaration, item
from tests.processes import free_port, spawn, stop, wait_for

Login = Callable[[str], dict[str, str]]
runner = CliRunner()


def test_the_cli_offers_every_role_a_person_can_hold() -> None:
    assert get_args(PersonRole) == tuple(r.value for r in PERSON_ROLES)
    refused = runner.invoke(
        app,
        ["users", "create", "--username", "x1", "--password", "p" * 12, "--role", "agency_system"],
    )
    assert refused.exit_code == 2 and "agency_system" in refused.output


def test_users_create_and_sign_in(cli_env: None, client: TestClient) -> None:
    made = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "officer-ppo",
            "--password",
            "a-long-password",
            "--role",
            "officer",
            "--agency",
            "PPO",
        ],
    )
    assert made.exit_code == 0, made.output
    token = client.post(
        "/api/v1/auth/token", data={"username": "officer-ppo", "password": "a-long-password"}
    )
    assert token.status_code == 200
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["agency_code"] == "PPO" and me.json()["role"] == "officer"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--role", "officer"], "must belong to a known agency"),
        (["--role", "officer", "--agency", "NOPE"], "must belong to a known agency"),
        (["--role", "trader", "--agency", "PPO"], "does not belong to an agency"),
        (["--role", "wizard"], "wizard"),
    ],
)
def test_users_create_refuses(cli_env: None, args: list[str], words: str) -> None:
    result = runner.invoke(
        app, ["users", "create", "--username", "x", "--password", "a-long-password", *args]
    )
    assert result.exit_code != 0
    assert words in result.output


def test_short_password_refused(cli_env: None) -> None:
    result = runner.invoke(
        app, ["users", "create", "--username", "x", "--password", "short", "--role", "trader"]
    )
    assert result.exit_code == 1 and "at least 10" in result.output


def test_new_rule_set_version_applies_to_new_filings_only(
    cli_env: None,
    tmp_path: Path,
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
) -> None:
    trader = make_user("trader-rules", Role.TRADER)
    fruit = declaration(item("080410", description="Dates", origin_country="AE", value="900"))
    old = client.post("/api/v1/declarations", json=fruit, headers=login(trader)).json()
    assert [i["inquiry_type"] for i in old["inquiries"]] == ["PPO-PHYTO"]

    document = default_document()
    document["name"] = "Dates also need a food permit"
    food_rule = next(r for r in document["rules"] if r["code"] == "IFDA-01")
    food_rule["hs_prefixes"] = [*food_rule["hs_prefixes"], "0804"]
    for kind in document["inquiry_types"]:
        if kind["code"] == "PPO-PHYTO":
            kind["sla_business_days"] = 2
    path = tmp_path / "rules-v2.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    loaded = runner.invoke(app, ["rules", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output
    assert "v2" in loaded.output

    new = client.post("/api/v1/declarations", json=fruit, headers=login(trader)).json()
    assert {i["inquiry_type"] for i in new["inquiries"]} == {"PPO-PHYTO", "IFDA-FOOD"}
    assert new["rule_set_version"] == 2
    assert (
        next(i for i in new["inquiries"] if i["inquiry_type"] == "PPO-PHYTO")["sla_business_days"]
        == 2
    )
    unchanged = client.get(f"/api/v1/declarations/{old['id']}", headers=login(trader)).json()
    assert unchanged["inquiries"] == old["inquiries"]
    assert unchanged["rule_set_version"] == 1

    listed = runner.invoke(app, ["rules", "list"])
    assert "* v2" in listed.output and "  v1" in listed.output
    back = runner.invoke(app, ["rules", "activate", "1"])
    assert back.exit_code == 0
    again = client.post("/api/v1/declarations", json=fruit, headers=login(trader)).json()
    assert again["rule_set_version"] == 1


def test_bad_rule_set_file_is_refused_whole(cli_env: None, tmp_path: Path) -> None:
    document = default_document()
    document["rules"][0]["hs_prefixes"] = ["0x"]
    document["rules"][1]["inquiry_type"] = "NO-SUCH"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["rules", "load", str(path)])
    assert result.exit_code == 1
    assert "rules[0].hs_prefixes" in result.output
    listed = runner.invoke(app, ["rules", "list"])
    assert "v2" not in listed.output


def test_export_default_round_trips(cli_env: None, tmp_path: Path) -> None:
    exported = runner.invoke(app, ["rules", "export-default"])
    path = tmp_path / "default.json"
    path.write_text(exported.output, encoding="utf-8")
    assert runner.invoke(app, ["rules", "load", "--no-activate", str(path)]).exit_code == 0


def _listening(port: int) -> int:
    """How many sockets listen on ``port`` (Linux: /proc/net/tcp, state 0A)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            count += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_serve_with_two_workers_gives_each_its_own_listener(database_url: str) -> None:
    """``serve --workers 2``: each worker listens on the port itself (so the kernel spreads
    connections over both, instead of whichever accepts first taking them all), and every
    kept-alive connection is answered."""
    port = free_port()
    server = spawn(database_url, "serve", "--port", str(port), "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:

        def both_listening() -> bool:
            assert server.poll() is None, "the server exited on its own"
            return _listening(port) == 2

        wait_for(both_listening)
        clients = [httpx.Client(base_url=base) for _ in range(12)]
        for _ in range(3):
            assert all(c.get("/healthz").status_code == 200 for c in clients)
        for c in clients:
            c.close()
    finally:
        stop(server)
    assert _listening(port) == 0
