"""Real Panjereh processes for tests: ``panjereh worker``, ``panjereh serve`` or any other
command in a subprocess of its own, on the test's store, so a test can kill one (SIGKILL,
optionally at a named crash point: ``PANJEREH_CRASH_AT``) and start it again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def environment(database_url: str, crash_at: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a test process: the test's store, short leases and polls."""
    env = {
        **os.environ,
        "PANJEREH_ENV": "test",
        "PANJEREH_DATABASE_URL": database_url,
        "PANJEREH_JOB_LEASE_SECONDS": "2",
        "PANJEREH_WORKER_POLL_SECONDS": "0.1",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    env.pop("PANJEREH_CRASH_AT", None)
    if crash_at:
        env["PANJEREH_CRASH_AT"] = crash_at
    return env


def spawn(
    database_url: str, *args: str, crash_at: str | None = None, **extra: str
) -> subprocess.Popen[bytes]:
    """``python -m panjereh ARGS`` in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "panjereh", *args],
        env=environment(database_url, crash_at, **extra),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_worker(
    database_url: str, crash_at: str | None = None, **extra: str
) -> subprocess.Popen[bytes]:
    """``panjereh worker``; ``extra`` are more PANJEREH_* settings."""
    return spawn(database_url, "worker", crash_at=crash_at, **extra)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process the way an operator does (SIGTERM) and wait for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Poll ``condition`` until it holds; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start_server(
    database_url: str, crash_at: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``panjereh serve`` on a free port, once it answers; the process and its base URL."""
    port = free_port()
    process = spawn(database_url, "serve", "--port", str(port), crash_at=crash_at)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, "the server exited on its own"
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up)
    return process, base
