"""The machine the figures were measured on: CPU, cores, memory, software versions, and how
fast it ran a fixed workload at the start."""

from __future__ import annotations

import hashlib
import os
import platform
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg


@dataclass(frozen=True)
class Machine:
    """What the figures depend on."""

    cpu: str
    cores: int
    memory_gib: float
    system: str
    python: str
    sqlite: str
    postgresql: str
    load: str
    speed: float  # seconds of a fixed single-core Python workload (``calibrate``)

    def rows(self) -> list[tuple[str, str]]:
        """The facts as (label, value) pairs, in the order the doc shows them."""
        return [
            ("CPU", self.cpu),
            ("cores (logical)", str(self.cores)),
            ("memory", f"{self.memory_gib:.1f} GiB"),
            ("system", self.system),
            ("Python", self.python),
            ("SQLite", self.sqlite),
            ("PostgreSQL", self.postgresql),
            ("load average at start (1, 5, 15 min)", self.load),
            ("a fixed Python workload, best of 3 (lower is faster)", f"{self.speed:.2f} s"),
        ]

    def one_line(self) -> str:
        """A short description for a section's own header."""
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory_gib:.0f} GiB; Python {self.python}, "
            f"SQLite {self.sqlite}, PostgreSQL {self.postgresql}; a fixed Python workload "
            f"{self.speed:.2f} s"
        )


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model"):
            return " ".join(value.split())
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return pages * size / 1024**3


def _postgresql(url: str | None) -> str:
    if url is None:
        return "not used"
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return "not reachable"
    return str(row[0]).split()[0] if row else "unknown"


def _load() -> str:
    try:
        return ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def calibrate(rounds: int = 3) -> float:
    """Seconds the fastest of ``rounds`` runs of a fixed single-core workload takes (datetime
    arithmetic, ISO text, SHA-256, dictionaries: what the benchmarks' Python does most).
    Hosts of one model name differ, and one host's speed changes within a day by more than a
    change to the code does: figures are comparable between runs whose workload took about
    the same time."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        at, total = datetime(2025, 1, 1, tzinfo=UTC), 0
        seen: dict[str, int] = {}
        for second in range(200_000):
            text = (at + timedelta(0, second * 7)).isoformat()
            seen[text[:13]] = seen.get(text[:13], 0) + 1
            total += len(hashlib.sha256(text.encode()).hexdigest())
        best = min(best, time.perf_counter() - started)
    return best


def describe(postgres_url: str | None) -> Machine:
    """The machine this process runs on."""
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=_memory_gib(),
        system=f"{platform.system()} {platform.release()} ({platform.machine()})",
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        postgresql=_postgresql(postgres_url),
        load=_load(),
        speed=calibrate(),
    )
