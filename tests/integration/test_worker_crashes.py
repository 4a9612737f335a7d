"""A real worker process killed (SIGKILL) again and again mid-sweep, then restarted: every
ladder step still fires exactly once, every notice is delivered once, the chain holds."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.audit.chain import verify
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.db import transaction
from panjereh.declarations import flows
from panjereh.declarations.schemas import DeclarationIn
from panjereh.escalation.models import EscalationFiring
from panjereh.jobs.models import Job
from panjereh.notifications.models import Notification
from tests.conftest import declaration, item
from tests.processes import start_worker

LONG_AGO = datetime(2026, 8, 1, 5, 0, tzinfo=UTC)  # every step of every ladder is due by now
DECLARATIONS = 30
STEPS_PER_INQUIRY = 8  # at risk, breached, supervisor, and five repeats


def _start(database_url: str, batch: int = 2) -> subprocess.Popen[bytes]:
    # Small batches, so that kills land mid-work; a short lease (tests.processes), so that the
    # job a killed worker held is taken over within the test.
    return start_worker(database_url, PANJEREH_WORKER_BATCH=str(batch))


def _counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as s:
        return (
            s.scalar(select(func.count()).select_from(EscalationFiring)) or 0,
            s.scalar(select(func.count()).select_from(Job).where(Job.state == "done")) or 0,
            s.scalar(select(func.count()).select_from(Job)) or 0,
        )


def test_killed_and_restarted_worker_fires_each_step_once(
    database_url: str,
    session_factory: sessionmaker[Session],
    make_user: Callable[..., str],
) -> None:
    make_user("trader", Role.TRADER)
    for username, role, agency in (
        ("officer-ivo", Role.OFFICER, "IVO"),
        ("head-ivo", Role.AGENCY_HEAD, "IVO"),
        ("supervisor", Role.SUPERVISOR, None),
    ):
        make_user(username, role, agency)
    trader = Principal(id=1, username="trader", role=Role.TRADER)
    payload = DeclarationIn.model_validate(declaration(item("020130", value="900")))
    for _ in range(DECLARATIONS):
        with transaction(session_factory) as s:
            flows.file_declaration(session=s, principal=trader, payload=payload, at=LONG_AGO)

    expected_firings = DECLARATIONS * STEPS_PER_INQUIRY
    expected_jobs = DECLARATIONS * (1 + 1 + 1 + 5 * 2)  # inbox notices, no email or webhook
    rng = random.Random(7)
    complete = (expected_firings, expected_jobs, expected_jobs)
    mid_way = 0
    for _ in range(6):
        before = _counts(session_factory)
        if mid_way >= 3 or before == complete:
            break
        worker = _start(database_url)
        # Kill it once it is visibly at work, at a random moment within its next few batches.
        give_up = time.monotonic() + 30
        while _counts(session_factory) == before and time.monotonic() < give_up:
            assert worker.poll() is None, "the worker exited on its own; run it by hand to see"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.01))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        mid_way += _counts(session_factory) != complete
    assert mid_way >= 2, "at least two kills should land while work remains"

    worker = _start(database_url, batch=200)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            firings, done, jobs = _counts(session_factory)
            if firings == expected_firings and done == jobs == expected_jobs:
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    assert _counts(session_factory) == (expected_firings, expected_jobs, expected_jobs)
    with session_factory() as s:
        per_step = s.execute(
            select(
                EscalationFiring.inquiry_id,
                EscalationFiring.cycle,
                EscalationFiring.step,
                func.count(),
            ).group_by(EscalationFiring.inquiry_id, EscalationFiring.cycle, EscalationFiring.step)
        ).all()
        assert {n for *_, n in per_step} == {1}
        assert s.scalar(select(func.count()).select_from(Notification)) == expected_jobs
        assert verify(s).ok
