"""The exchange with agencies' own systems, from their side: an agency connected by push
receives each new inquiry signed at a real HTTP endpoint, one connected by pull reads its
inbox and acknowledges, and both answer through the decision endpoint as machines — signed,
with a message id that makes a repeat harmless. Then the undeliverable case and receipt."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.chain import verify
from panjereh.audit.models import Event
from panjereh.auth.models import Role, User
from panjereh.auth.principal import Principal
from panjereh.auth.service import set_active
from panjereh.clock import ManualClock
from panjereh.config import Settings
from panjereh.db import transaction
from panjereh.escalation.models import EscalationFiring
from panjereh.exchange.models import AgencyMessage, SecurityEvent
from panjereh.exchange.push import encode
from panjereh.exchange.signing import MESSAGE_ID_HEADER, SIGNATURE_HEADER, BadSignature, sign
from panjereh.exchange.signing import verify as check
from panjereh.exchange.wire import AgencyMessage as WireMessage
from panjereh.inquiries.models import Inquiry
from panjereh.jobs.models import Job
from panjereh.notifications.channels import channels
from panjereh.notifications.models import Notification
from panjereh.worker import Worker
from tests.agency_server import AgencyServer
from tests.conftest import declaration, filed_through_api, item

MEAT = item("020130", value="900")  # needs the veterinary organisation (IVO) only
MEDICINE = item("300490", value="900")  # needs the food and drug administration (IFDA) only


@pytest.fixture
def agency() -> Iterator[AgencyServer]:
    server = AgencyServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker(
    session_factory: sessionmaker[Session], clock: ManualClock, settings: Settings
) -> Worker:
    return Worker(session_factory, clock, settings, channels(session_factory, settings), name="w")


@pytest.fixture
def people(
    make_user: Callable[..., str], login: Callable[[str], dict[str, str]]
) -> dict[str, dict[str, str]]:
    make_user("admin", Role.ADMIN)
    make_user("trader", Role.TRADER)
    make_user("supervisor", Role.SUPERVISOR)
    make_user("head-ivo", Role.AGENCY_HEAD, "IVO")
    return {name: login(name) for name in ("admin", "trader", "supervisor", "head-ivo")}


class Machine:
    """An agency's system as the API sees it: its key and signing secret."""

    def __init__(self, client: TestClient, clock: ManualClock, key: str, secret: str) -> None:
        self.client, self.clock, self.key, self.secret = client, clock, key, secret

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def decide(
        self,
        inquiry_id: int,
        body: dict[str, Any],
        message_id: str,
        *,
        secret: str | None = None,
        stamp: int | None = None,
        sent: bytes | None = None,
        signed: bool = True,
        signed_as: str | None = None,
        name_inquiry: bool = True,
    ) -> Any:
        """Sign ``body`` (naming ``inquiry_id`` unless it names one already) and send it (or,
        tampered in transit, ``sent``)."""
        content = encode({"inquiry_id": inquiry_id, **body} if name_inquiry else body)
        headers = {**self.auth, "Content-Type": "application/json", MESSAGE_ID_HEADER: message_id}
        if signed:
            when = stamp if stamp is not None else int(self.clock.now().timestamp())
            headers[SIGNATURE_HEADER] = sign(
                secret or self.secret, when, content, signed_as or message_id
            )
        content = sent if sent is not None else content
        return self.client.post(
            f"/api/v1/inquiries/{inquiry_id}/decision", content=content, headers=headers
        )


def connect(
    client: TestClient,
    clock: ManualClock,
    admin: dict[str, str],
    agency_code: str,
    mode: str,
    url: str | None = None,
) -> Machine:
    made = client.put(
        f"/api/v1/agency-connections/{agency_code}",
        json={"mode": mode, "endpoint_url": url},
        headers=admin,
    )
    assert made.status_code == 200, made.text
    secret = made.json()["signing_secret"]
    assert secret
    again = client.put(
        f"/api/v1/agency-connections/{agency_code}",
        json={"mode": mode, "endpoint_url": url},
        headers=admin,
    )
    assert again.json()["signing_secret"] is None  # shown once
    key = client.post(
        f"/api/v1/agency-connections/{agency_code}/credentials",
        json={"label": "test system"},
        headers=admin,
    )
    assert key.status_code == 201, key.text
    return Machine(client, clock, key.json()["key"], secret)


def test_push_agency_receives_signed_inquiries_and_answers_as_a_machine(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    agency: AgencyServer,
    worker: Worker,
    session_factory: sessionmaker[Session],
) -> None:
    ivo = connect(client, clock, people["admin"], "IVO", "push", agency.url)
    filed = filed_through_api(client, people["trader"], MEAT)
    inquiry_id = filed["inquiries"][0]["id"]
    assert not agency.received  # nothing leaves before the worker runs

    assert worker.deliver_once() == 1
    [got] = agency.received
    # Signed over the timestamp and the exact bytes, with the agency's secret; the message id
    # is the idempotency key; the body is the documented schema.
    check(ivo.secret, got.signature, got.raw, now=time.time(), message_id=got.message_id)
    assert got.idempotency_key == got.message_id == got.body["message_id"]
    message = WireMessage.model_validate(got.body)
    assert message.type == "inquiry.created"
    assert message.inquiry.id == inquiry_id and message.agency == "IVO"
    assert message.declaration is not None and message.declaration.items[0].hs_code == "020130"
    assert worker.deliver_once() == 0  # delivered: nothing left to push

    # The agency's system answers as a machine, and a repeat of its message changes nothing.
    answer = {"outcome": "approve"}
    first = ivo.decide(inquiry_id, answer, "ivo-answer-1")
    assert first.status_code == 200, first.text
    assert first.json()["declaration_status"] == "cleared"
    repeat = ivo.decide(inquiry_id, answer, "ivo-answer-1")
    assert repeat.status_code == 200 and repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"

    with session_factory() as s:
        event = s.scalars(
            select(Event).where(Event.inquiry_id == inquiry_id, Event.kind == "inquiry.approved")
        ).one()
        # Who said what, kept for good: the machine's user, its key, message id and signature.
        assert event.actor == "system@IVO"
        provenance = event.data["provenance"]
        assert provenance["message_id"] == "ivo-answer-1"
        assert provenance["key_id"] == ivo.key.split("_")[1]
        assert provenance["signature"].startswith("t=")
        assert verify(s).ok

    health = client.get("/api/v1/agency-connections", headers=people["supervisor"])
    assert health.status_code == 200
    [ivo_health] = health.json()
    assert ivo_health["agency_code"] == "IVO" and ivo_health["mode"] == "push"
    assert (ivo_health["messages"], ivo_health["delivered"], ivo_health["dead"]) == (1, 1, 0)
    assert ivo_health["latency_p50_ms"] is not None


def test_pull_agency_reads_its_inbox_acknowledges_and_answers(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    ifda = connect(client, clock, people["admin"], "IFDA", "pull")
    first = filed_through_api(client, people["trader"], MEDICINE)
    second = filed_through_api(client, people["trader"], MEDICINE)
    # IVO is not connected: nothing is queued for it.
    filed_through_api(client, people["trader"], MEAT)

    page = client.get("/api/v1/agency/inbox", params={"limit": 1}, headers=ifda.auth).json()
    [one] = page["messages"]
    assert one["inquiry_id"] == first["inquiries"][0]["id"]
    WireMessage.model_validate(one["body"])
    rest = client.get(
        "/api/v1/agency/inbox", params={"after": page["next_after"]}, headers=ifda.auth
    ).json()
    assert [m["inquiry_id"] for m in rest["messages"]] == [second["inquiries"][0]["id"]]

    ids = [one["message_id"], rest["messages"][0]["message_id"]]
    acked = client.post("/api/v1/agency/inbox/ack", json={"message_ids": ids}, headers=ifda.auth)
    assert acked.json() == {"acknowledged": 2}
    again = client.post("/api/v1/agency/inbox/ack", json={"message_ids": ids}, headers=ifda.auth)
    assert again.json() == {"acknowledged": 0}  # harmless
    assert client.get("/api/v1/agency/inbox", headers=ifda.auth).json()["messages"] == []

    # It asks the trader for more; the trader's reply reaches its inbox; then it approves.
    inquiry_id = first["inquiries"][0]["id"]
    asked = ifda.decide(inquiry_id, {"outcome": "request_info", "reason": "lab report"}, "q-1")
    assert asked.status_code == 200, asked.text
    replied = client.post(
        f"/api/v1/inquiries/{inquiry_id}/reply",
        json={"message": "report attached"},
        headers=people["trader"],
    )
    assert replied.status_code == 200, replied.text
    [reply] = client.get("/api/v1/agency/inbox", headers=ifda.auth).json()["messages"]
    assert reply["type"] == "inquiry.replied"
    assert reply["body"]["reply"]["message"] == "report attached"
    assert WireMessage.model_validate(reply["body"]).reply is not None
    assert ifda.decide(inquiry_id, {"outcome": "approve"}, "q-2").status_code == 200

    # Cancelling the other declaration withdraws its inquiry, and the agency hears of it.
    cancelled = client.post(f"/api/v1/declarations/{second['id']}/cancel", headers=people["trader"])
    assert cancelled.status_code == 200, cancelled.text
    messages = client.get("/api/v1/agency/inbox", headers=ifda.auth).json()["messages"]
    assert [m["type"] for m in messages] == ["inquiry.replied", "inquiry.withdrawn"]
    withdrawn = WireMessage.model_validate(messages[1]["body"])
    assert withdrawn.withdrawn is not None and withdrawn.inquiry.state == "withdrawn"

    # A machine reads only its own agency's queue.
    queue = client.get("/api/v1/inquiries", headers=ifda.auth).json()
    assert {i["agency_code"] for i in queue["items"]} == {"IFDA"}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0  # pull: no push jobs


def test_bad_machine_requests_are_refused_change_nothing_and_are_logged(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    ivo = connect(client, clock, people["admin"], "IVO", "pull")
    ifda = connect(client, clock, people["admin"], "IFDA", "pull")
    ivo_inquiry = filed_through_api(client, people["trader"], MEAT)["inquiries"][0]["id"]
    ifda_inquiry = filed_through_api(client, people["trader"], MEDICINE)["inquiries"][0]["id"]
    approve = {"outcome": "approve"}
    now = int(clock.now().timestamp())

    def refused(response: Any, status: int, field: str | None = None) -> str:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        if field:
            assert field in {e["field"] for e in problem.get("errors", [])}, problem
        return str(problem["type"])

    assert refused(ivo.decide(ivo_inquiry, approve, "m1", signed=False), 401, SIGNATURE_HEADER)
    assert refused(ivo.decide(ivo_inquiry, approve, "m2", secret="not-the-secret"), 401)
    assert refused(ivo.decide(ivo_inquiry, approve, "m3", stamp=now - 3600), 401)  # replayed
    assert refused(ivo.decide(ivo_inquiry, approve, ""), 422, MESSAGE_ID_HEADER)
    tampered = ivo.decide(ivo_inquiry, approve, "m4", sent=b'{"outcome":"reject","reason":"x"}')
    assert refused(tampered, 401)
    # A captured signed decision sent again under another message id.
    assert refused(ivo.decide(ivo_inquiry, approve, "m4b", signed_as="m4a"), 401)
    assert refused(ivo.decide(ifda_inquiry, approve, "m5"), 403)  # another agency's inquiry
    assert refused(ivo.decide(999_999, approve, "m6"), 404)
    assert refused(ivo.decide(ivo_inquiry, {"outcome": "maybe"}, "m7"), 422, "outcome")
    # The signed body names the inquiry it decides: it cannot be replayed onto another one.
    other = {"outcome": "approve", "inquiry_id": ifda_inquiry}
    assert refused(ivo.decide(ivo_inquiry, other, "m7b"), 422, "inquiry_id")
    assert refused(ivo.decide(ivo_inquiry, approve, "m7c", name_inquiry=False), 422, "inquiry_id")
    bad_key = {"Authorization": f"Bearer pjk_{ivo.key.split('_')[1]}_wrong"}
    assert refused(client.get("/api/v1/agency/inbox", headers=bad_key), 401)
    assert refused(
        client.post("/api/v1/agency/inbox/ack", json={"message_ids": ["x"]}, headers=ivo.auth),
        422,
        "message_ids",
    )

    # The same message id for another decision is a replay, not a second answer.
    assert (
        ivo.decide(ivo_inquiry, {"outcome": "request_info", "reason": "r"}, "m8").status_code == 200
    )
    assert refused(ivo.decide(ivo_inquiry, approve, "m8"), 409, MESSAGE_ID_HEADER)

    # A revoked key stops at once.
    key_id = ifda.key.split("_")[1]
    revoked = client.delete(
        f"/api/v1/agency-connections/IFDA/credentials/{key_id}", headers=people["admin"]
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert refused(ifda.decide(ifda_inquiry, approve, "m9"), 401)

    with session_factory() as s:
        ivo_row = s.get(Inquiry, ivo_inquiry)
        ifda_row = s.get(Inquiry, ifda_inquiry)
        assert ivo_row is not None and ivo_row.state == "info_requested"  # only m8 landed
        assert ifda_row is not None and ifda_row.state == "awaiting_answer"
        logged = s.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
    statuses = [401, 401, 401, 422, 401, 401, 403, 404, 422, 422, 422, 401, 422, 409, 401]
    assert [e.status for e in logged] == statuses
    assert logged[0].agency_code == "IVO" and logged[0].key_id == ivo.key.split("_")[1]
    assert logged[1].message_id == "m2"
    assert logged[-1].agency_code is None and logged[-1].kind == "unauthorized"

    # People cannot read the log unless they supervise; an officer-less role gets a 403.
    assert client.get("/api/v1/security-events", headers=people["trader"]).status_code == 403
    shown = client.get("/api/v1/security-events", headers=people["supervisor"]).json()
    assert len(shown) == len(logged) and shown[0]["status"] == 401


def test_an_undeliverable_inquiry_is_escalated_never_dropped(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    agency: AgencyServer,
    worker: Worker,
    session_factory: sessionmaker[Session],
    login: Callable[[str], dict[str, str]],
) -> None:
    connect(client, clock, people["admin"], "IVO", "push", agency.url)
    agency.statuses = [500] * 100
    inquiry_id = filed_through_api(client, people["trader"], MEAT)["inquiries"][0]["id"]
    for _ in range(30):  # every retry, each after its backoff
        worker.deliver_once()
        clock.advance(timedelta(hours=1))
    with session_factory() as s:
        push = s.scalars(select(Job).where(Job.kind == "agency.push")).one()
        message = s.scalars(select(AgencyMessage)).one()
        assert push.state == "dead" and push.attempts == push.max_attempts == 20
        assert message.dead_at is not None and message.delivered_at is None
        assert message.attempts == 20 and "answered 500" in (message.last_error or "")
        firing = s.scalars(
            select(EscalationFiring).where(EscalationFiring.inquiry_id == inquiry_id)
        ).one()
        assert firing.step == "undeliverable"
        kinds = {n.kind for n in s.scalars(select(Notification))}
        users = {n.user_id for n in s.scalars(select(Notification))}
        assert kinds == {"escalation.undeliverable"} and len(users) == 2  # head, supervisor
        inquiry = s.get(Inquiry, inquiry_id)
        assert inquiry is not None and inquiry.escalation_level > 0
    assert len(agency.received) == 20 and len(agency.unique()) == 1  # one message, retried
    # The trader's timeline says the agency's system could not be reached, never where it is.
    declaration_id = client.get(f"/api/v1/inquiries/{inquiry_id}", headers=login("admin")).json()[
        "declaration_id"
    ]
    timeline = client.get(f"/api/v1/declarations/{declaration_id}", headers=login("trader")).text
    assert "escalation.undeliverable" in timeline and "127.0.0.1" not in timeline
    health = client.get("/api/v1/agency-connections", headers=login("admin")).json()
    assert health[0]["dead"] == 1 and "500" in health[0]["last_error"]

    # The agency mends its endpoint; connecting it again sends what was given up on.
    agency.statuses = []
    again = client.put(
        "/api/v1/agency-connections/IVO",
        json={"mode": "push", "endpoint_url": agency.url},
        headers=login("admin"),
    )
    assert again.status_code == 200
    assert worker.deliver_once() == 1
    with session_factory() as s:
        message = s.scalars(select(AgencyMessage)).one()
        assert message.delivered_at is not None and message.dead_at is None
    assert len(agency.received) == 21 and len(agency.unique()) == 1


def test_receipt_is_the_first_delivery_attempt(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    agency: AgencyServer,
    worker: Worker,
    session_factory: sessionmaker[Session],
    login: Callable[[str], dict[str, str]],
) -> None:
    """Filed on a working morning but first tried days later (the worker was down):
    nothing escalates meanwhile, the clock starts at the attempt, and the timeline says why."""
    connect(client, clock, people["admin"], "IVO", "push", agency.url)
    # Saturday 13:00 in Tehran (09:30 UTC), before the 13:30 cut-off.
    clock.set(clock.now().replace(hour=9, minute=30))
    filed = filed_through_api(client, login("trader"), MEAT)
    inquiry_id = filed["inquiries"][0]["id"]
    due_at_filing = datetime.fromisoformat(filed["inquiries"][0]["due_at"])
    with session_factory() as s:
        first_rung = s.get(Inquiry, inquiry_id).next_action_at  # type: ignore[union-attr]
    assert first_rung is not None
    clock.set(first_rung + timedelta(hours=1))  # the filing-time reminder would be due

    # The sweep alone (say it ran first) does not escalate what was never received.
    assert worker.sweep_once() == 1
    with session_factory() as s:
        assert s.scalars(select(EscalationFiring)).all() == []
        waiting = s.get(Inquiry, inquiry_id)
        assert waiting is not None and waiting.next_action_at == clock.now() + timedelta(minutes=1)

    worker.run_once()  # pushes first: receipt
    with session_factory() as s:
        inquiry = s.get(Inquiry, inquiry_id)
        assert inquiry is not None
        assert inquiry.received_at == clock.now() and inquiry.due_at > due_at_filing
        assert inquiry.next_action_at is not None and inquiry.next_action_at > clock.now()
        assert s.scalars(select(EscalationFiring)).all() == []
        moved = s.scalars(
            select(Event).where(
                Event.inquiry_id == inquiry_id, Event.kind == "inquiry.deadline_moved"
            )
        ).one()
        assert "first delivery attempt" in moved.data["reason"]
        message = s.scalars(select(AgencyMessage)).one()
        assert message.first_attempt_at == clock.now() == message.delivered_at


def test_an_agency_that_pulled_for_a_while_is_pushed_what_it_missed(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    agency: AgencyServer,
    worker: Worker,
    session_factory: sessionmaker[Session],
) -> None:
    connect(client, clock, people["admin"], "IVO", "push", agency.url)
    filed_through_api(client, people["trader"], MEAT)
    pull = client.put(
        "/api/v1/agency-connections/IVO", json={"mode": "pull"}, headers=people["admin"]
    )
    assert pull.status_code == 200
    assert worker.deliver_once() == 1 and agency.received == []  # waits in the inbox
    back = client.put(
        "/api/v1/agency-connections/IVO",
        json={"mode": "push", "endpoint_url": agency.url},
        headers=people["admin"],
    )
    assert back.status_code == 200
    assert worker.deliver_once() == 1 and len(agency.received) == 1
    with session_factory() as s:
        message = s.scalars(select(AgencyMessage)).one()
        assert message.delivered_at is not None


def test_connections_and_credentials_are_for_administrators(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    for who in ("trader", "supervisor", "head-ivo"):
        put = client.put(
            "/api/v1/agency-connections/IVO", json={"mode": "pull"}, headers=people[who]
        )
        assert put.status_code == 403, put.text
        key = client.post(
            "/api/v1/agency-connections/IVO/credentials", json={}, headers=people[who]
        )
        assert key.status_code == 403
    admin = people["admin"]
    no_url = client.put("/api/v1/agency-connections/IVO", json={"mode": "push"}, headers=admin)
    assert no_url.status_code == 422 and no_url.json()["errors"][0]["field"] == "endpoint_url"
    unknown = client.put("/api/v1/agency-connections/XX", json={"mode": "pull"}, headers=admin)
    assert unknown.status_code == 422
    bad_mode = client.put("/api/v1/agency-connections/IVO", json={"mode": "fax"}, headers=admin)
    assert bad_mode.status_code == 422 and bad_mode.json()["errors"][0]["field"] == "mode"
    machine = connect(client, clock, admin, "IVO", "pull")
    # A machine cannot manage connections, read the security log, or file declarations.
    assert client.get("/api/v1/agency-connections", headers=machine.auth).status_code == 403
    assert client.get("/api/v1/security-events", headers=machine.auth).status_code == 403
    filed = client.post("/api/v1/declarations", json=declaration(MEAT), headers=machine.auth)
    assert filed.status_code == 403
    # Deactivating the agency's system user stops every key it has.
    with session_factory() as s:
        system_id = s.scalars(select(User.id).where(User.username == "system@IVO")).one()
    with transaction(session_factory) as s:
        by_admin = Principal(id=1, username="admin", role=Role.ADMIN)  # the first user made
        set_active(session=s, principal=by_admin, user_id=system_id, active=False, at=clock.now())
    assert client.get("/api/v1/agency/inbox", headers=machine.auth).status_code == 401
    listed = client.get("/api/v1/agency-connections/IVO/credentials", headers=admin).json()
    assert len(listed) == 1 and listed[0]["key"] is None  # the key is never shown again


def test_the_security_log_forgets_refusals_after_its_retention(
    session_factory: sessionmaker[Session], clock: ManualClock, settings: Settings
) -> None:
    def refusal(at: datetime, detail: str) -> SecurityEvent:
        return SecurityEvent(
            at=at, status=401, kind="unauthorized", method="POST", path="/x", detail=detail
        )

    keep = timedelta(days=settings.security_log_days)
    with transaction(session_factory) as s:
        s.add_all([refusal(clock.now() - keep - timedelta(minutes=1), "old"),
                   refusal(clock.now() - keep + timedelta(minutes=1), "kept")])  # fmt: skip
    worker = Worker(session_factory, clock, settings, channels(session_factory, settings))
    assert worker.forget_once() == 1
    with session_factory() as s:
        assert s.scalars(select(SecurityEvent.detail)).all() == ["kept"]


def test_a_rotated_secret_overlaps_the_old_one_for_a_while(
    client: TestClient,
    clock: ManualClock,
    people: dict[str, dict[str, str]],
    agency: AgencyServer,
    worker: Worker,
    settings: Settings,
    login: Callable[[str], dict[str, str]],
) -> None:
    """After a rotation the old secret keeps working for PANJEREH_SECRET_OVERLAP_HOURS: the
    agency's decisions signed with it are accepted, and pushes carry a signature by each, so
    its system can switch when it is ready. Then only the new one works."""
    ivo = connect(client, clock, people["admin"], "IVO", "push", agency.url)
    old = ivo.secret
    rotated = client.post("/api/v1/agency-connections/IVO/rotate-secret", headers=people["admin"])
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["signing_secret"]
    overlap = timedelta(hours=settings.secret_overlap_hours)
    until = datetime.fromisoformat(rotated.json()["old_valid_until"])
    assert new != old and until == clock.now() + overlap

    first, second = (
        filed_through_api(client, people["trader"], MEAT)["inquiries"][0]["id"] for _ in "ab"
    )
    assert worker.deliver_once() == 2
    for got in agency.received:  # either secret verifies a push
        for secret in (old, new):
            check(secret, got.signature, got.raw, now=time.time(), message_id=got.message_id)
    approve = {"outcome": "approve"}
    assert ivo.decide(first, approve, "old-secret-1", secret=old).status_code == 200

    clock.advance(overlap)
    assert ivo.decide(second, approve, "old-secret-2", secret=old).status_code == 401
    assert ivo.decide(second, approve, "new-secret-2", secret=new).status_code == 200
    filed_through_api(client, login("trader"), MEAT)  # the day-old token has expired
    assert worker.deliver_once() == 1
    late = agency.received[-1]
    check(new, late.signature, late.raw, now=time.time(), message_id=late.message_id)
    with pytest.raises(BadSignature):
        check(old, late.signature, late.raw, now=time.time(), message_id=late.message_id)


def test_signatures_may_carry_several_macs_and_any_may_match() -> None:
    body, now = b'{"a":1}', int(time.time())
    both = sign("new-secret", now, body, "m1", also=["old-secret"])
    assert both.count("v1=") == 2
    for secret in ("new-secret", "old-secret"):
        assert check(secret, both, body, now=now, message_id="m1") == now
    assert check("x", both, body, now=now, message_id="m1", also=["old-secret"]) == now
    with pytest.raises(BadSignature, match="does not match"):
        check("stranger", both, body, now=now, message_id="m1")
    with pytest.raises(BadSignature, match="must read"):
        check("new-secret", f"t={now},t={now},v1=00", body, now=now, message_id="m1")
