"""Benchmark: pushing inquiries to agencies' systems — throughput and end-to-end latency.

The target (issue 4): at least 1,000 deliveries a second with two workers on PostgreSQL, to
a local agency endpoint that answers at once. Two real ``panjereh worker`` processes deliver
a backlog of messages written through the application's own outbox code
(``panjereh.exchange.messages.write``, kind ``inquiry.created``, over inquiries filed through
the real flow) to ``bench.agency_receiver`` (uvicorn, in a process of its own), each push
signed and recorded as the application does it. Then, with the workers idle, messages are
committed one per transaction at a steady rate and the time from each commit to the agency's
receipt is measured (p50/p99).

    python -m bench.exchange [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import Options, Result, postgres_database, postgres_problem
from bench.server import free_port
from panjereh import migrate
from panjereh.auth.models import Role
from panjereh.auth.principal import SYSTEM, Principal
from panjereh.auth.service import create_user
from panjereh.clock import ManualClock
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.declarations.flows import file_declaration
from panjereh.declarations.schemas import DeclarationIn
from panjereh.exchange import messages, service
from panjereh.exchange.models import AgencyMessage, MessageKind, Mode
from panjereh.jobs.models import Job

TITLE = "Agency exchange: pushes to agencies' systems (issue 4)"
TARGET_PER_SECOND = 1000
ROOT = Path(__file__).resolve().parents[1]
ITEM = {
    "hs_code": "020130",
    "description": "Boneless beef, fresh",
    "origin_country": "BR",
    "quantity": "1000",
    "unit": "KGM",
    "value": "900",
    "currency": "USD",
}


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def _stats(base: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{base}/stats", timeout=30).json()
    return stats


def _prepare(url: str, inquiries: int, receiver: str) -> list[tuple[str, int]]:
    """Migrate, connect IVO by push to the receiver, file declarations; returns the
    (agency, inquiry id) pairs messages will be about."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    migrate.upgrade(engine)
    migrate.seed(engine, clock=ManualClock(now))
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        trader = create_user(
            session=s,
            username="bench-trader",
            password="bench-password-x",
            role=Role.TRADER,
            agency_code=None,
            at=now,
        )
        service.connect(
            session=s,
            principal=SYSTEM,
            agency_code="IVO",
            mode=Mode.PUSH,
            endpoint_url=f"{receiver}/inquiries",
            at=now,
        )
        who = Principal(trader.id, trader.username, Role.TRADER)
    payload = DeclarationIn.model_validate(
        {"kind": "import", "customs_office": "SHRJ", "province": "IR-22", "items": [ITEM]}
    )
    with transaction(factory) as s:
        for _ in range(inquiries):
            file_declaration(session=s, principal=who, payload=payload, at=now)
    with transaction(factory) as s:
        # Filing queued one push each: deliver those in the backlog like the others.
        pairs = [("IVO", i) for i in s.scalars(select(AgencyMessage.inquiry_id))]
    engine.dispose()
    return pairs


def _write(
    url: str, pairs: list[tuple[str, int]], count: int, per_txn: int
) -> list[tuple[str, float]]:
    """Commit ``count`` messages, ``per_txn`` to a transaction; returns (id, commit time)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    modes = {"IVO": Mode.PUSH.value}
    committed: list[tuple[str, float]] = []
    n = 0
    while n < count:
        size = min(per_txn, count - n)
        with transaction(factory) as s:
            at = datetime.now(UTC)
            batch = [
                (agency, MessageKind.INQUIRY_CREATED, inquiry, {"inquiry": {"id": inquiry}})
                for agency, inquiry in (pairs[(n + k) % len(pairs)] for k in range(size))
            ]
            messages.write(s, modes, batch, at=at)
            ids = s.scalars(
                select(AgencyMessage.message_id).order_by(AgencyMessage.id.desc()).limit(size)
            ).all()
        done = time.time()
        committed += [(m, done) for m in ids]
        n += size
    engine.dispose()
    return committed


def _workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PANJEREH_ENV": "development",
        "PANJEREH_DATABASE_URL": url,
        "PANJEREH_WORKER_BATCH": "500",
        "PYTHONPATH": str(ROOT),
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "panjereh", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def measure(admin_url: str, quick: bool) -> dict[str, Any]:
    """Throughput of two workers on a backlog, then commit-to-receipt latency."""
    backlog = 3000 if quick else 30_000
    steady_rate, steady_seconds = (100, 3) if quick else (200, 10)
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.agency_receiver", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        _wait(lambda: _try(base), 20, "the receiver did not start")
        with postgres_database(admin_url) as url:
            pairs = _prepare(url, 50 if quick else 200, base)
            _write(url, pairs, backlog, 1000)
            engine = make_engine(url)
            total = backlog + len(pairs)

            def done() -> int:
                with engine.connect() as c:
                    return int(
                        c.execute(
                            select(func.count()).select_from(Job).where(Job.state == "done")
                        ).scalar_one()
                    )

            started = time.time()
            workers = _workers(url, 2)
            _wait(lambda: done() >= total, 600, "the backlog was not delivered")
            recorded = time.time()
            stats = _stats(base)
            receipts = sorted(stats["first_seen"].values())
            first, last = receipts[0], receipts[-1]
            figures: dict[str, Any] = {
                "backlog": total,
                "workers": 2,
                "pushes_received": stats["received"],
                "unique_received": len(receipts),
                "deliveries_per_second": round(total / (last - first)),
                "recorded_per_second": round(total / (recorded - first)),
                "wall_seconds_from_start": round(recorded - started, 2),
            }
            # Steady flow: one message per transaction at a fixed rate, workers already up.
            committed: list[tuple[str, float]] = []
            interval = 1 / steady_rate
            t0 = time.time()
            for k in range(steady_rate * steady_seconds):
                committed += _write(url, pairs, 1, 1)
                pause = t0 + (k + 1) * interval - time.time()
                if pause > 0:
                    time.sleep(pause)
            total += len(committed)
            _wait(lambda: done() >= total, 120, "the steady flow was not delivered")
            seen = _stats(base)["first_seen"]
            latencies = sorted((seen[m] - t) * 1000 for m, t in committed)
            figures.update(
                steady_rate_per_second=steady_rate,
                latency_p50_ms=round(statistics.median(latencies), 1),
                latency_p99_ms=round(latencies[int(0.99 * (len(latencies) - 1))], 1),
                latency_max_ms=round(latencies[-1], 1),
                meets_target=figures["deliveries_per_second"] >= TARGET_PER_SECOND,
            )
            for w in workers:
                w.terminate()
                w.wait(timeout=30)
            engine.dispose()
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        receiver.terminate()
        receiver.wait(timeout=10)
    return figures


def _try(base: str) -> bool:
    try:
        return httpx.get(f"{base}/stats", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def run(options: Options) -> Result:
    """The benchmark as ``python -m bench`` runs it."""
    problem = postgres_problem(options.postgres_url) if options.postgres_url else "not given"
    if problem:
        return Result(
            "exchange",
            TITLE,
            {},
            [f"  skipped: PostgreSQL {problem}"],
            "Not run: no PostgreSQL.",
            ["no PostgreSQL"],
        )
    assert options.postgres_url is not None
    f = measure(options.postgres_url, options.quick)
    verdict = "met" if f["meets_target"] else "NOT met"
    lines = [
        f"  backlog {f['backlog']:,} pushes, 2 workers: {f['deliveries_per_second']:,}/s received"
        f" ({f['recorded_per_second']:,}/s received and recorded)",
        f"  steady {f['steady_rate_per_second']}/s, commit to receipt:"
        f" p50 {f['latency_p50_ms']} ms, p99 {f['latency_p99_ms']} ms,"
        f" max {f['latency_max_ms']} ms",
        f"  target: at least {TARGET_PER_SECOND:,} deliveries/s -> {verdict}",
    ]
    markdown = "\n".join(
        [
            f"Two `panjereh worker` processes on PostgreSQL push a backlog of {f['backlog']:,}"
            " `inquiry.created` messages, written by the application's outbox code, to a local"
            " endpoint that answers 200 at once (uvicorn, its own process); every push is signed,"
            " and every attempt recorded on the job and the message, as in production.",
            "",
            "| figure | value |",
            "|---|---:|",
            "| deliveries/s (first to last receipt at the agency) |"
            f" {f['deliveries_per_second']:,} |",
            "| delivered and recorded/s (first receipt to last job done) |"
            f" {f['recorded_per_second']:,} |",
            "| pushes received / distinct messages |"
            f" {f['pushes_received']:,} / {f['unique_received']:,} |",
            f"| commit to receipt, steady {f['steady_rate_per_second']}/s, p50 |"
            f" {f['latency_p50_ms']} ms |",
            f"| commit to receipt, p99 | {f['latency_p99_ms']} ms |",
            f"| commit to receipt, max | {f['latency_max_ms']} ms |",
            "",
            "Commit to receipt includes the worker's sleep when it finds nothing to do (at most"
            " `PANJEREH_WORKER_POLL_SECONDS`, 0.5 s by default): the tail is that wait.",
            "",
            f"Target: at least {TARGET_PER_SECOND:,} deliveries/s with two workers —"
            f" **{verdict}**.",
        ]
    )
    failures = [] if f["meets_target"] else [f"exchange under {TARGET_PER_SECOND}/s"]
    return Result("exchange", TITLE, f, lines, markdown, failures)


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(json.dumps(measure(args.postgres_url, args.quick), indent=1))


if __name__ == "__main__":
    main()
