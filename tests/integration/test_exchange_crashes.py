"""ENGINE.md's crash points for the agency exchange, one test per row, each with a real
process killed by SIGKILL between two steps and started again, on SQLite and PostgreSQL, and a
real HTTP server standing for the agency. Nothing is lost, nothing is doubled in effect.

| crash                                     | test                                          |
| ----------------------------------------- | --------------------------------------------- |
| before the submit commits                 | test_crash_before_the_filing_commits          |
| after commit, before dispatch             | test_crash_after_commit_before_dispatch       |
| during the call to the agency             | test_crash_during_the_call_to_the_agency      |
| after the agency's 2xx, before our commit | test_crash_after_the_agencys_2xx_before_commit|
| during the clock sweep                    | test_worker_crashes.py (fired-steps key)      |
| agency answers twice                      | test_the_agency_answers_twice_at_once         |

and, from the exchange issue: two workers on PostgreSQL never deliver the same job at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.chain import verify
from panjereh.audit.models import Event
from panjereh.auth import tokens
from panjereh.auth.models import Role
from panjereh.auth.principal import SYSTEM, Principal
from panjereh.config import Settings
from panjereh.db import transaction
from panjereh.declarations import flows
from panjereh.declarations.models import Declaration
from panjereh.declarations.schemas import DeclarationIn
from panjereh.exchange import credentials, service
from panjereh.exchange.models import AgencyMessage, Mode
from panjereh.exchange.push import encode
from panjereh.exchange.signing import MESSAGE_ID_HEADER, SIGNATURE_HEADER, sign
from panjereh.jobs.models import Job
from tests.agency_server import AgencyServer
from tests.conftest import declaration, item
from tests.processes import start_server, start_worker, stop, wait_for

MEAT = item("020130", value="900")  # one inquiry, for the veterinary organisation (IVO)
N = 12


@pytest.fixture
def agency() -> Iterator[AgencyServer]:
    server = AgencyServer().start()
    yield server
    server.stop()


def connect_ivo(factory: sessionmaker[Session], url: str | None, mode: Mode = Mode.PUSH) -> str:
    with transaction(factory) as s:
        _, secret = service.connect(
            session=s,
            principal=SYSTEM,
            agency_code="IVO",
            mode=mode,
            endpoint_url=url,
            at=datetime.now(UTC),
        )
    assert secret
    return secret


def file_many(factory: sessionmaker[Session], make_user: Callable[..., str], n: int) -> None:
    make_user("trader", Role.TRADER)
    trader = Principal(id=1, username="trader", role=Role.TRADER)
    payload = DeclarationIn.model_validate(declaration(MEAT))
    for _ in range(n):
        with transaction(factory) as s:
            flows.file_declaration(
                session=s, principal=trader, payload=payload, at=datetime.now(UTC)
            )


def counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as s:
        jobs = dict(
            s.execute(
                select(Job.state, func.count()).where(Job.kind == "agency.push").group_by(Job.state)
            ).all()
        )
        delivered = s.scalar(
            select(func.count())
            .select_from(AgencyMessage)
            .where(AgencyMessage.delivered_at.is_not(None))
        )
    return {**jobs, "delivered": delivered or 0}


def all_delivered(factory: sessionmaker[Session], n: int) -> Callable[[], bool]:
    return lambda: counts(factory) == {"done": n, "delivered": n}


def test_crash_after_commit_before_dispatch(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
    agency: AgencyServer,
) -> None:
    """Killed right after leasing the jobs, before sending any: the jobs stay queued (leased
    by a dead worker); after the lease runs out a new worker delivers each exactly once."""
    connect_ivo(session_factory, agency.url)
    file_many(session_factory, make_user, N)
    worker = start_worker(database_url, "delivery.claimed")
    assert worker.wait(timeout=60) == -signal.SIGKILL
    assert counts(session_factory) == {"leased": N, "delivered": 0}
    assert agency.received == []

    worker = start_worker(database_url)
    try:
        wait_for(all_delivered(session_factory, N))
    finally:
        stop(worker)
    assert len(agency.received) == len(agency.unique()) == N


def test_crash_during_the_call_to_the_agency(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
    agency: AgencyServer,
) -> None:
    """Killed while the agency holds a request open: the lease runs out, the job is retried
    with the same message id, and the agency, deduplicating on it, takes each message once."""
    connect_ivo(session_factory, agency.url)
    file_many(session_factory, make_user, N)
    agency.hold_first = True
    worker = start_worker(database_url)
    assert agency.arrived.wait(60)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    agency.release.set()
    assert counts(session_factory)["delivered"] == 0

    worker = start_worker(database_url)
    try:
        wait_for(all_delivered(session_factory, N))
    finally:
        stop(worker)
    assert len(agency.unique()) == N
    held = agency.received[0].message_id
    assert sum(r.message_id == held for r in agency.received) == 2  # sent again, same id


def test_crash_after_the_agencys_2xx_before_commit(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
    agency: AgencyServer,
) -> None:
    """Killed after every push was answered 2xx but before recording it: the retry carries
    the same message ids (the agency answers from what it already has), and each delivery is
    recorded once."""
    connect_ivo(session_factory, agency.url)
    file_many(session_factory, make_user, N)
    worker = start_worker(database_url, "delivery.sent")
    assert worker.wait(timeout=60) == -signal.SIGKILL
    assert len(agency.received) == N
    assert counts(session_factory) == {"leased": N, "delivered": 0}

    worker = start_worker(database_url)
    try:
        wait_for(all_delivered(session_factory, N))
    finally:
        stop(worker)
    assert len(agency.received) == 2 * N and len(agency.unique()) == N
    with session_factory() as s:
        assert set(s.scalars(select(Job.attempts))) == {2}
        assert set(s.scalars(select(AgencyMessage.attempts))) == {1}  # recorded once


def test_crash_before_the_filing_commits(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
    agency: AgencyServer,
) -> None:
    """The server dies after doing the filing's work but before its commit: nothing is
    stored, nothing queued; the trader's retry with the same key files it exactly once."""
    connect_ivo(session_factory, agency.url)
    make_user("trader", Role.TRADER)
    token = tokens.issue(
        principal=Principal(id=1, username="trader", role=Role.TRADER),
        secret=Settings(env="test").secret_key,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=15),
    )
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "filing-1"}
    server, base = start_server(database_url, "request.before_commit")
    try:
        with pytest.raises(httpx.HTTPError):
            httpx.post(f"{base}/api/v1/declarations", json=declaration(MEAT), headers=headers)
        assert server.wait(timeout=20) == -signal.SIGKILL
    finally:
        stop(server)
    with session_factory() as s:
        for table in (Declaration, AgencyMessage, Job):
            assert s.scalar(select(func.count()).select_from(table)) == 0

    server, base = start_server(database_url)
    try:
        first = httpx.post(f"{base}/api/v1/declarations", json=declaration(MEAT), headers=headers)
        again = httpx.post(f"{base}/api/v1/declarations", json=declaration(MEAT), headers=headers)
    finally:
        stop(server)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    with session_factory() as s:
        for table in (Declaration, AgencyMessage, Job):
            assert s.scalar(select(func.count()).select_from(table)) == 1
        assert verify(s).ok


def test_the_agency_answers_twice_at_once(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
) -> None:
    """The agency's system sends the same signed decision twice, at the same moment: both
    calls get the first result, and the decision is recorded once."""
    secret = connect_ivo(session_factory, None, Mode.PULL)
    file_many(session_factory, make_user, 1)
    with transaction(session_factory) as s:
        _, key = credentials.create(
            session=s, principal=SYSTEM, agency_code="IVO", label="", at=datetime.now(UTC)
        )
    server, base = start_server(database_url)
    content = encode({"outcome": "approve", "inquiry_id": 1})
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(2)

    def answer() -> None:
        headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            MESSAGE_ID_HEADER: "ivo-decision-1",
            SIGNATURE_HEADER: sign(secret, int(time.time()), content, "ivo-decision-1"),
        }
        barrier.wait()
        answers.append(
            httpx.post(f"{base}/api/v1/inquiries/1/decision", content=content, headers=headers)
        )

    try:
        threads = [threading.Thread(target=answer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop(server)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    with session_factory() as s:
        decided = s.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "inquiry.approved")
        )
        assert decided == 1 and verify(s).ok


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_never_deliver_the_same_job_at_once(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
    agency: AgencyServer,
) -> None:
    """Two workers on one PostgreSQL, a slow agency: every message is pushed once, never two
    pushes of one message in flight together."""
    connect_ivo(session_factory, agency.url)
    n = 200
    file_many(session_factory, make_user, n)
    agency.delay = 0.01
    workers = [
        start_worker(database_url, PANJEREH_WORKER_BATCH="20", PANJEREH_JOB_LEASE_SECONDS="60")
        for _ in range(2)
    ]
    try:
        wait_for(all_delivered(session_factory, n))
    finally:
        for w in workers:
            stop(w)
    assert len(agency.received) == len(agency.unique()) == n
    assert set(agency.max_in_flight.values()) == {1}
