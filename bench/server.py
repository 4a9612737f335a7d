"""A real HTTP server of the application, in a subprocess on a free local port.

Benchmarks that go through HTTP start one per configuration, load it, read how much CPU it
used (Linux ``/proc``), and stop it. It only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import panjereh


class ServerError(RuntimeError):
    """The server did not start, or died."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(root: int) -> float:
    """CPU time used so far by process ``root`` and its descendants (0 where not Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(times.get(pid, 0.0) for pid in tree)


class Server:
    """``panjereh serve`` on ``database_url`` with ``workers`` processes.

    Without ``nodelay`` the server is stock uvicorn (``uvicorn --workers``), whose
    multi-process listener loses TCP_NODELAY (see ``panjereh serve`` for why); with it, the
    server is ``panjereh serve`` itself, which creates its listener so as to keep it.
    """

    def __init__(self, *, database_url: str, workers: int, log: Path, nodelay: bool) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers, self.nodelay = workers, nodelay
        app_root = str(Path(panjereh.__file__).resolve().parent.parent)
        bench_root = str(Path(__file__).resolve().parent.parent)
        path = [app_root, bench_root, os.environ.get("PYTHONPATH", "")]
        env = {
            **os.environ,
            "PANJEREH_DATABASE_URL": database_url,
            "PANJEREH_ENV": "development",
            "PANJEREH_SQL_ECHO": "false",
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(p for p in path if p)),
        }
        address = ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        if nodelay:
            command = [sys.executable, "-m", "panjereh", "serve", *address]
        else:
            # As `panjereh serve` runs it, with the access log off (a line per request would
            # measure the terminal, not the application).
            command = [sys.executable, "-m", "uvicorn", "panjereh.main:create_app", "--factory"]
            command += [*address, "--no-proxy-headers", "--log-level", "warning"]
            command += ["--no-access-log"]
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=app_root, stdout=self._log, stderr=subprocess.STDOUT
        )

    def __enter__(self) -> Server:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/healthz`` answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"the server exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ServerError(f"the server did not answer within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's output."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def cpu_seconds(self) -> float:
        """CPU time the server's processes have used so far."""
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        """Stop the server (its supervisor stops the workers) and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
