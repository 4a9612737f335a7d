"""The ladder on a controllable clock: each step fires once, on time, on the record; pauses
stop it; lapses refuse; closures move deadlines; manual escalation, acknowledge, reassign."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth.models import Role
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.escalation.models import EscalationFiring
from panjereh.jobs.models import Job
from panjereh.notifications.channels import channels
from panjereh.worker import Worker
from tests.conftest import declaration, item

Login = Callable[[str], dict[str, str]]
BEEF = declaration(item("020130", description="Beef, boneless", origin_country="BR", value="900"))


@pytest.fixture
def worker(
    session_factory: sessionmaker[Session], clock: ManualClock, settings: Settings
) -> Worker:
    return Worker(
        session_factory, clock, settings, channels(session_factory, settings), name="worker-1"
    )


@pytest.fixture
def people(make_user: Callable[..., str]) -> dict[str, str]:
    return {
        "trader": make_user("trader", Role.TRADER),
        "officer": make_user("officer-ivo", Role.OFFICER, "IVO"),
        "head": make_user("head-ivo", Role.AGENCY_HEAD, "IVO"),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
        "admin": make_user("admin", Role.ADMIN),
    }


def _file(client: TestClient, login: Login, trader: str) -> dict[str, object]:
    filed = client.post("/api/v1/declarations", json=BEEF, headers=login(trader))
    assert filed.status_code == 201, filed.text
    inquiry: dict[str, object] = filed.json()["inquiries"][0]
    return inquiry


def _clock(client: TestClient, login: Login, user: str, inquiry_id: object) -> dict[str, object]:
    response = client.get(f"/api/v1/inquiries/{inquiry_id}/clock", headers=login(user))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _firings(factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    with factory() as s:
        return [
            (c, st)
            for c, st in s.execute(
                select(EscalationFiring.cycle, EscalationFiring.step).order_by(EscalationFiring.id)
            )
        ]


def _inbox(client: TestClient, login: Login, user: str) -> list[dict[str, object]]:
    response = client.get("/api/v1/notifications", headers=login(user))
    assert response.status_code == 200
    notes: list[dict[str, object]] = response.json()
    return notes


def test_each_step_fires_once_on_time_and_stops_when_answered(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    worker: Worker,
    session_factory: sessionmaker[Session],
) -> None:
    inquiry = _file(client, login, people["trader"])
    view = _clock(client, login, people["officer"], inquiry["id"])
    ladder = {r["step"]: r for r in view["ladder"] if r["cycle"] == 0}  # type: ignore[attr-defined]
    assert view["next_action_at"] == ladder["at_risk"]["due_at"]

    assert worker.sweep_once() == worker.deliver_once() == 0  # nothing is due yet
    clock.set(_at(ladder["at_risk"]["due_at"]) - timedelta(seconds=1))
    assert worker.sweep_once() == 0
    clock.advance(timedelta(seconds=1))
    assert worker.sweep_once() == 1
    assert _firings(session_factory) == [(0, "at_risk")]
    assert worker.sweep_once() == 0  # a second pass finds nothing to do
    worker.deliver_once()
    officer_inbox = _inbox(client, login, people["officer"])
    assert [n["kind"] for n in officer_inbox] == ["escalation.at_risk"]
    assert _inbox(client, login, people["head"]) == []

    clock.set(_at(ladder["supervisor"]["due_at"]) + timedelta(minutes=1))
    worker.run_once()
    worker.run_once()
    assert _firings(session_factory) == [(0, "at_risk"), (0, "breached"), (0, "supervisor")]
    assert [n["kind"] for n in _inbox(client, login, people["head"])] == ["escalation.breached"]
    supervisor_inbox = _inbox(client, login, people["supervisor"])
    assert [n["kind"] for n in supervisor_inbox] == ["escalation.supervisor"]
    view = _clock(client, login, people["supervisor"], inquiry["id"])
    assert view["escalation_level"] == 3 and view["overdue"] is True

    timeline = client.get(
        f"/api/v1/inquiries/{inquiry['id']}", headers=login(people["officer"])
    ).json()["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.count("escalation.at_risk") == kinds.count("escalation.breached") == 1

    approved = client.post(
        f"/api/v1/inquiries/{inquiry['id']}/decision",
        json={"outcome": "approve"},
        headers=login(people["officer"]),
    )
    assert approved.status_code == 200
    clock.advance(timedelta(days=60))
    assert worker.sweep_once() == 0
    assert len(_firings(session_factory)) == 3


def test_repeats_stop_at_the_cap(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    worker: Worker,
    session_factory: sessionmaker[Session],
) -> None:
    _file(client, login, people["trader"])
    clock.advance(timedelta(days=120))
    while worker.sweep_once():
        pass
    fired = _firings(session_factory)
    assert fired[:3] == [(0, "at_risk"), (0, "breached"), (0, "supervisor")]
    assert fired[3:] == [(n, "repeat") for n in range(1, 6)]
    with session_factory() as s:
        jobs = s.scalar(select(func.count()).select_from(Job))
    worker.sweep_once()
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == jobs


def test_pause_stops_reminders_and_reply_resumes_with_what_was_left(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    worker: Worker,
    session_factory: sessionmaker[Session],
) -> None:
    inquiry = _file(client, login, people["trader"])
    clock.advance(timedelta(hours=2))
    asked = client.post(
        f"/api/v1/inquiries/{inquiry['id']}/decision",
        json={"outcome": "request_info", "reason": "Send the health certificate"},
        headers=login(people["officer"]),
    )
    assert asked.status_code == 200
    paused = _clock(client, login, people["officer"], inquiry["id"])
    assert paused["paused"] is True
    remaining = paused["remaining_business_minutes"]
    assert remaining == paused["budget_business_minutes"] - 120  # type: ignore[operator]
    assert paused["next_action_at"] == paused["trader_due_at"]

    # A week later nothing has fired: no reminders while the agency waits on the trader.
    clock.advance(timedelta(days=7))
    assert worker.sweep_once() == 0
    assert _firings(session_factory) == []

    replied = client.post(
        f"/api/v1/inquiries/{inquiry['id']}/reply",
        json={"message": "Certificate attached"},
        headers=login(people["trader"]),
    )
    assert replied.status_code == 200
    resumed = _clock(client, login, people["officer"], inquiry["id"])
    assert resumed["paused"] is False
    assert resumed["due_at"] > inquiry["due_at"]  # type: ignore[operator]
    assert resumed["remaining_business_minutes"] <= remaining  # type: ignore[operator]
    kinds = [s["kind"] for s in resumed["segments"]]  # type: ignore[attr-defined]
    assert kinds == ["running", "paused", "running"]
    assert resumed["segments"][0]["business_minutes"] == 120  # type: ignore[index]
    replied_event = next(e for e in replied.json()["timeline"] if e["kind"] == "inquiry.replied")
    assert replied_event["data"]["due_after"] > replied_event["data"]["due_before"]


def test_a_trader_who_never_replies_lapses(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    worker: Worker,
) -> None:
    inquiry = _file(client, login, people["trader"])
    client.post(
        f"/api/v1/inquiries/{inquiry['id']}/decision",
        json={"outcome": "request_info", "reason": "Which plant?"},
        headers=login(people["officer"]),
    )
    trader_due = _clock(client, login, people["officer"], inquiry["id"])["trader_due_at"]
    clock.set(_at(trader_due) + timedelta(seconds=1))
    assert worker.sweep_once() == 1
    view = client.get(f"/api/v1/inquiries/{inquiry['id']}", headers=login(people["trader"])).json()
    assert view["state"] == "lapsed" and view["declaration_status"] == "refused"
    late = client.post(
        f"/api/v1/inquiries/{inquiry['id']}/reply",
        json={"message": "sorry"},
        headers=login(people["trader"]),
    )
    assert late.status_code == 409


def test_closure_added_mid_flight_moves_the_deadline(
    client: TestClient,
    login: Login,
    people: dict[str, str],
) -> None:
    inquiry = _file(client, login, people["trader"])
    before = _clock(client, login, people["officer"], inquiry["id"])
    # An energy closure of Monday and Tuesday in Hormozgan, where the goods are declared.
    added = client.post(
        "/api/v1/calendars/closures",
        headers=login(people["admin"]),
        json={
            "start": "2026-11-23",
            "end": "2026-11-24",
            "province": "IR-22",
            "reason": "Energy-saving closure",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["deadlines_moved"] == 1
    after = _clock(client, login, people["officer"], inquiry["id"])
    assert after["due_at"] > before["due_at"]  # type: ignore[operator]
    assert after["calendar_version"] != before["calendar_version"]
    # Saturday, Sunday, Wednesday, then (Thursday and Friday off) Saturday and Sunday.
    assert after["due_at"].startswith("2026-11-29")  # type: ignore[union-attr]
    events = client.get(
        f"/api/v1/inquiries/{inquiry['id']}", headers=login(people["officer"])
    ).json()["timeline"]
    moved = [e for e in events if e["kind"] == "inquiry.deadline_moved"]
    assert len(moved) == 1
    assert moved[0]["data"]["old_due_at"] == before["due_at"].replace("Z", "+00:00")  # type: ignore[union-attr]
    # A closure elsewhere moves nothing.
    other = client.post(
        "/api/v1/calendars/closures",
        headers=login(people["admin"]),
        json={"start": "2026-11-23", "end": "2026-11-23", "province": "IR-06", "reason": "Heat"},
    )
    assert other.json()["deadlines_moved"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2026-11-24", "end": "2026-11-23", "reason": "x"}, "end"),
        (
            {"start": "2026-11-24", "end": "2026-11-24", "province": "IR-99", "reason": "x"},
            "province",
        ),
        ({"start": "2026-11-24", "end": "2026-11-24", "reason": ""}, "reason"),
        ({"start": "not a date", "end": "2026-11-24", "reason": "x"}, "start"),
    ],
)
def test_bad_closures_are_refused(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    body: dict[str, str],
    field: str,
) -> None:
    response = client.post("/api/v1/calendars/closures", json=body, headers=login(people["admin"]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/api/v1/calendars/closures", headers=login(people["admin"])).json() == []


def test_only_admins_change_calendars_and_policies(
    client: TestClient,
    login: Login,
    people: dict[str, str],
) -> None:
    body = {"start": "2026-11-24", "end": "2026-11-24", "reason": "x"}
    for user in ("trader", "officer", "supervisor"):
        assert (
            client.post(
                "/api/v1/calendars/closures", json=body, headers=login(people[user])
            ).status_code
            == 403
        )
        assert (
            client.put(
                "/api/v1/escalation-policies/IVO-VET",
                headers=login(people[user]),
                json={
                    "steps": [
                        {
                            "name": "breached",
                            "business_days_after_deadline": 0,
                            "notify": ["agency_head"],
                        }
                    ]
                },
            ).status_code
            == 403
        )
    assert client.get("/api/v1/calendars/IVO", headers=login(people["trader"])).status_code == 200


def test_policy_versions_apply_to_new_inquiries_only(
    client: TestClient,
    login: Login,
    people: dict[str, str],
) -> None:
    old = _file(client, login, people["trader"])
    bad = client.put(
        "/api/v1/escalation-policies/IVO-VET",
        headers=login(people["admin"]),
        json={
            "steps": [
                {"name": "later", "business_days_after_deadline": 3, "notify": ["supervisor"]},
                {"name": "first", "business_days_after_deadline": 0, "notify": ["agency_head"]},
            ]
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "steps"
    negative = client.put(
        "/api/v1/escalation-policies/IVO-VET",
        headers=login(people["admin"]),
        json={
            "steps": [
                {"name": "first", "business_days_after_deadline": 0, "notify": ["agency_head"]}
            ],
            "repeat": {"every_business_days": -2, "max_times": 1, "notify": ["supervisor"]},
        },
    )
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["field"] == "repeat.every_business_days"
    good = client.put(
        "/api/v1/escalation-policies/IVO-VET",
        headers=login(people["admin"]),
        json={
            "steps": [
                {
                    "name": "breached",
                    "business_days_after_deadline": 0,
                    "notify": ["agency_head", "supervisor"],
                }
            ]
        },
    )
    assert good.status_code == 201 and good.json()["version"] == 2
    new = _file(client, login, people["trader"])
    assert [r["step"] for r in _clock(client, login, people["officer"], new["id"])["ladder"]] == [
        "breached"
    ]  # type: ignore[index]
    assert _clock(client, login, people["officer"], old["id"])["policy_version"] == 1
    versions = client.get(
        "/api/v1/escalation-policies/IVO-VET", headers=login(people["officer"])
    ).json()
    assert [(v["version"], v["active"]) for v in versions] == [(2, True), (1, False)]


def test_manual_escalation_acknowledge_and_reassign(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    make_user: Callable[..., str],
    worker: Worker,
) -> None:
    inquiry = _file(client, login, people["trader"])
    path = f"/api/v1/inquiries/{inquiry['id']}"
    assert (
        client.post(
            f"{path}/escalate", json={"reason": "urgent"}, headers=login(people["officer"])
        ).status_code
        == 403
    )
    assert (
        client.post(f"{path}/acknowledge", headers=login(people["officer"])).status_code == 409
    )  # nothing escalated
    escalated = client.post(
        f"{path}/escalate",
        json={"reason": "Perishable cargo waiting"},
        headers=login(people["head"]),
    )
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["escalation_level"] == 3
    worker.deliver_once()
    notes = _inbox(client, login, people["supervisor"])
    assert notes[0]["kind"] == "escalation.manual" and "Perishable" in notes[0]["body_en"]
    acked = client.post(f"{path}/acknowledge", headers=login(people["officer"]))
    assert acked.status_code == 200 and acked.json()["acknowledged_at"] is not None

    second = make_user("officer-ivo-2", Role.OFFICER, "IVO")
    make_user("officer-ppo", Role.OFFICER, "PPO")
    assert (
        client.post(
            f"{path}/assign", json={"officer": "officer-ppo"}, headers=login(people["head"])
        ).status_code
        == 404
    )
    assigned = client.post(
        f"{path}/assign", json={"officer": second}, headers=login(people["head"])
    )
    assert assigned.status_code == 200
    worker.deliver_once()
    assert [n["kind"] for n in _inbox(client, login, second)] == ["escalation.assigned"]


def test_inbox_mark_read_and_privacy(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    worker: Worker,
) -> None:
    _file(client, login, people["trader"])
    clock.advance(timedelta(days=30))
    worker.run_once()
    worker.run_once()
    notes = _inbox(client, login, people["head"])
    assert notes
    assert (
        client.post(
            f"/api/v1/notifications/{notes[0]['id']}/read", headers=login(people["supervisor"])
        ).status_code
        == 404
    )
    read = client.post(
        f"/api/v1/notifications/{notes[0]['id']}/read", headers=login(people["head"])
    )
    assert read.json() == {"marked": 1}
    unread = client.get("/api/v1/notifications?unread=true", headers=login(people["head"])).json()
    assert notes[0]["id"] not in [n["id"] for n in unread]
    assert client.post("/api/v1/notifications/read-all", headers=login(people["head"])).json()[
        "marked"
    ] == len(unread)


# Several workers are a PostgreSQL setting (SKIP LOCKED); SQLite runs one.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_racing_fire_each_step_once(
    client: TestClient,
    login: Login,
    people: dict[str, str],
    clock: ManualClock,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    for _ in range(20):
        _file(client, login, people["trader"])
    clock.advance(timedelta(days=120))
    workers = [
        Worker(session_factory, clock, settings, channels(session_factory, settings), name=f"w{n}")
        for n in range(2)
    ]
    for w in workers:
        w.batch = 3
    barrier = threading.Barrier(2)

    def drain(w: Worker) -> None:
        barrier.wait()
        while w.sweep_once():
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_factory() as s:
        per_inquiry = s.execute(
            select(EscalationFiring.inquiry_id, func.count()).group_by(EscalationFiring.inquiry_id)
        ).all()
        jobs = s.scalar(select(func.count()).select_from(Job))
    assert len(per_inquiry) == 20 and {n for _, n in per_inquiry} == {8}
    # at_risk → 1 officer; breached → 1 head; supervisor → 1 supervisor; 5 repeats → head + sup.
    assert jobs == 20 * (1 + 1 + 1 + 5 * 2)


def _at(value: object) -> object:
    from datetime import datetime

    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
