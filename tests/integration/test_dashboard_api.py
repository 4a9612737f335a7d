"""The dashboard's HTTP API: who may read what, every table as JSON, CSV and XLSX, and the
event log as OCEL 2.0 read back by pm4py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.dashboard import ocel, projector
from panjereh.dashboard.router import router as dashboard_router
from panjereh.declarations.models import Declaration
from panjereh.demo.history import load_demo
from panjereh.inquiries.models import Inquiry
from panjereh.main import create_app
from tests.conftest import PASSWORD, START

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def api(
    settings: Settings,
    clock: ManualClock,
    engine: Engine,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
) -> Iterator[tuple[TestClient, Callable[[str], dict[str, str]]]]:
    """The application with the dashboard's routes, on a small projected demo history, and
    a sign-in helper for users of every role."""
    load_demo(engine, declarations=40, days=30, seed=5, now=START)
    make_user("sup", Role.SUPERVISOR)
    make_user("head-ifda-x", Role.AGENCY_HEAD, "IFDA")
    make_user("officer-x", Role.OFFICER, "IFDA")
    make_user("trader-x", Role.TRADER)
    projector.catch_up(session_factory)
    app = create_app(settings, clock=clock)
    if not any(getattr(r, "path", "") == "/api/v1/dashboard/league" for r in app.routes):
        app.include_router(dashboard_router)  # until the application includes it itself
    with TestClient(app) as client:

        def login(username: str) -> dict[str, str]:
            response = client.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        yield client, login
    app.state.engine.dispose()


ENDPOINTS = (
    "/api/v1/dashboard/league?period=all",
    "/api/v1/dashboard/breakdown/province?period=last:30",
    "/api/v1/dashboard/breakdown/type?period=jmonth:1405-08",
    "/api/v1/dashboard/trend?grain=j&points=3",
    "/api/v1/dashboard/clearance?period=month:2026-11",
    "/api/v1/dashboard/cost?period=year:2026",
    "/api/v1/dashboard/reasons?period=jyear:1405",
    "/api/v1/dashboard/agencies/IFDA/overdue",
    "/api/v1/dashboard/delivery",
    "/api/v1/dashboard/adoption",
)


def test_supervisors_read_every_table_as_json_csv_and_xlsx(api: Any) -> None:
    client, login = api
    headers = login("sup")
    for path in ENDPOINTS:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        sep = "&" if "?" in path else "?"
        as_csv = client.get(f"{path}{sep}format=csv", headers=headers)
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
        as_xlsx = client.get(f"{path}{sep}format=xlsx", headers=headers)
        assert as_xlsx.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
        assert sheet.max_row == len(rows) or (len(rows) == 1 and sheet.max_row <= 1)
        if path.startswith("/api/v1/dashboard/league"):
            assert len(rows) - 1 == len(body["agencies"]) > 3
            header = rows[0]
            assert "agency_minutes.p50.low" in header and "on_time_rate" in header
            received = header.index("received")
            assert sum(int(r[received]) for r in rows[1:]) == body["national"]["received"]
            assert sheet.cell(1, received + 1).value == "received"
    fresh = client.get("/api/v1/dashboard/freshness", headers=headers).json()
    assert fresh["up_to_date"] is True


def test_agency_heads_see_their_agency_and_the_league_others_nothing(api: Any) -> None:
    client, login = api
    head = login("head-ifda-x")
    assert client.get("/api/v1/dashboard/league", headers=head).status_code == 200
    own = client.get("/api/v1/dashboard/breakdown/province", headers=head)
    assert own.status_code == 200 and own.json()["agency"] == "IFDA"
    assert client.get("/api/v1/dashboard/agencies/IFDA/overdue", headers=head).status_code == 200
    for path in (
        "/api/v1/dashboard/breakdown/province?agency=INSO",
        "/api/v1/dashboard/breakdown/province?agency=*",
        "/api/v1/dashboard/agencies/INSO/overdue",
        "/api/v1/dashboard/clearance",
        "/api/v1/dashboard/adoption",
        "/api/v1/dashboard/ocel",
    ):
        response = client.get(path, headers=head)
        assert response.status_code == 403, path
        assert response.headers["content-type"] == "application/problem+json"
    for user in ("officer-x", "trader-x"):
        headers = login(user)
        for path in ENDPOINTS:
            assert client.get(path, headers=headers).status_code == 403
    assert client.get("/api/v1/dashboard/league").status_code == 401


def test_a_bad_period_is_a_problem_naming_the_field(api: Any) -> None:
    client, login = api
    headers = login("sup")
    for bad in ("yesterday", "last:0", "month:2026-13", "2026-11-20/2026-11-01", "day:2026-1-1"):
        response = client.get(f"/api/v1/dashboard/league?period={bad}", headers=headers)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "period"


def test_the_event_log_exports_as_ocel_2_and_pm4py_reads_it(
    api: Any, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    pm4py = pytest.importorskip("pm4py")
    client, login = api
    response = client.get("/api/v1/dashboard/ocel", headers=login("sup"))
    assert response.status_code == 200
    path = tmp_path / "log.jsonocel"
    path.write_bytes(response.content)
    document = json.loads(response.content)
    log = pm4py.read_ocel2_json(str(path))
    with session_factory() as session:
        events = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.declaration_id.is_not(None) | Event.inquiry_id.is_not(None))
        )
        declarations = session.scalar(select(func.count()).select_from(Declaration))
        inquiries = session.scalar(select(func.count()).select_from(Inquiry))
        written = io.StringIO()
        ocel.write(session, written)
    assert len(document["events"]) == events == len(log.events)
    assert len(log.objects) == declarations + inquiries
    types = log.objects["ocel:type"].value_counts().to_dict()
    assert types == {"declaration": declarations, "inquiry": inquiries}
    assert set(log.events["ocel:activity"]) >= {"declaration.filed", "inquiry.created"}
    assert json.loads(written.getvalue()) == document


def test_sign_ins_count_active_users_by_province_and_role_against_last_year(
    api: Any, session_factory: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    from sqlalchemy import delete

    from panjereh.dashboard import signins
    from panjereh.dashboard.models import DashboardSignIn
    from panjereh.db import transaction

    client, login = api
    with transaction(session_factory) as session:
        # The demo's users signed in on the days they acted; this test counts its own.
        roles = session.scalars(select(DashboardSignIn.role).distinct()).all()
        assert set(roles) >= {"trader", "officer"}
        session.execute(delete(DashboardSignIn))
        # The same 30 days a year before are 364 to 393 days ago: 394 is outside.
        signs = ((1, 1, 3), (2, 2, 1), (366, 1, 1), (393, 3, 1), (394, 4, 1), (30, 5, 1))
        for days_ago, user, count in signs:
            for _ in range(count):
                signins.record(
                    session,
                    user_id=user,
                    role="trader",
                    province="IR-22",
                    at=START - timedelta(days=days_ago),
                )
    body = client.get("/api/v1/dashboard/adoption", headers=login("sup")).json()
    sign_ins = body["sign_ins"]
    # The supervisor's own sign-in through the API counts too.
    assert (sign_ins["active_users"], sign_ins["sign_ins"]) == (3, 5)
    assert any(g["role"] == "supervisor" for g in sign_ins["groups"])
    assert (sign_ins["active_users_year_before"], sign_ins["sign_ins_year_before"]) == (2, 2)
    trader = next(g for g in sign_ins["groups"] if g["role"] == "trader")
    assert trader["sign_ins_recent"] == 4 and float(trader["growth"]) == 1.0
