"""What every benchmark shares: options, results, scratch stores, users, timing and profiling.

Scratch stores live under the run's temporary directory (SQLite files) or in a PostgreSQL
database created for the run and dropped after it, so a benchmark never touches a real store.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from panjereh import migrate
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.auth.service import create_user
from panjereh.clock import ManualClock
from panjereh.db import make_engine, make_session_factory, transaction

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-not-secret"  # scratch users of a scratch store
START = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
"""Saturday 2026-11-21, 08:30 in Tehran: a working morning for every agency."""


@dataclass(frozen=True)
class Options:
    """How to run: quick or full, where scratch files go, which PostgreSQL to use."""

    workdir: Path
    quick: bool = False
    postgres_url: str | None = DEFAULT_POSTGRES_URL

    def seconds(self, full: float, quick: float) -> float:
        """How long to measure one figure."""
        return quick if self.quick else full


@dataclass
class Result:
    """What a benchmark returns: figures for machines, lines to print, its section of the doc."""

    name: str
    title: str
    figures: dict[str, Any]
    lines: list[str]
    markdown: str
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rate:
    """``count`` units of work done in ``seconds``."""

    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def run_for(step: Callable[[], object], *, seconds: float, minimum: int = 3) -> Rate:
    """Repeat ``step`` for about ``seconds`` (at least ``minimum`` times) and time it."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while count < minimum or time.perf_counter() < deadline:
        step()
        count += 1
    return Rate(count, time.perf_counter() - start)


# --- stores -------------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def checkpoint(path: Path) -> None:
    """Fold the WAL back into the database file, so its size is what is stored."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def sqlite_bytes(path: Path) -> dict[str, int]:
    """Bytes each table of a SQLite store takes (its rows and indexes), after a checkpoint.

    Without SQLite's ``dbstat`` table, the whole file (and WAL) is counted as one.
    """
    checkpoint(path)
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT s.tbl_name, sum(d.pgsize) FROM dbstat AS d"
            " JOIN sqlite_schema AS s ON s.name = d.name GROUP BY s.tbl_name"
        ).fetchall()
        return {str(table): int(size) for table, size in rows}
    except sqlite3.OperationalError:
        wal = path.with_name(path.name + "-wal")
        size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        return {"(whole file)": size}
    finally:
        connection.close()


def prepare(engine: Engine) -> None:
    """Migrate and seed a store, as ``panjereh db upgrade`` does."""
    migrate.upgrade(engine)
    migrate.seed(engine, clock=ManualClock(START))


@dataclass(frozen=True)
class Users:
    """The scratch users: traders, and one officer per agency."""

    traders: list[Principal]
    officers: dict[str, Principal]

    def all(self) -> list[Principal]:
        return [*self.traders, *self.officers.values()]


def create_users(engine: Engine, *, traders: int, agencies: list[str]) -> Users:
    """Create the traders and officers (real users, with real password hashes)."""
    factory = make_session_factory(engine)
    made_traders, officers = [], {}
    with transaction(factory) as session:
        for n in range(1, traders + 1):
            user = create_user(
                session=session,
                username=f"bench-trader-{n:02d}",
                password=PASSWORD,
                role=Role.TRADER,
                agency_code=None,
                at=START,
            )
            made_traders.append(Principal(user.id, user.username, Role.TRADER))
        for code in agencies:
            user = create_user(
                session=session,
                username=f"bench-officer-{code.lower()}",
                password=PASSWORD,
                role=Role.OFFICER,
                agency_code=code,
                at=START,
            )
            officers[code] = Principal(user.id, user.username, Role.OFFICER, code)
    return Users(made_traders, officers)


def copy_sqlite(template: Path, target: Path) -> Path:
    """A fresh store: a copy of a checkpointed template file."""
    shutil.copyfile(template, target)
    return target


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or None if it can."""
    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch PostgreSQL database of this run, dropped afterwards; yields its URL."""
    name = f"panjereh_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_bytes(url: str) -> dict[str, int]:
    """Bytes each table of a PostgreSQL database takes (with its indexes and TOAST)."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class AS c"
            " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname = current_schema()"
        ).fetchall()
    return {str(table): int(size) for table, size in rows}


def engine_for(url: str) -> Engine:
    """An engine with the application's settings."""
    return make_engine(url)


# --- profiling ----------------------------------------------------------------------------


def profile(step: Callable[[], object], *, count: int) -> pstats.Stats:
    """Run ``step`` ``count`` times under cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        step()
    profiler.disable()
    return pstats.Stats(profiler)


_STDLIB = f"{os.sep}lib{os.sep}python"


def where(filename: str, line: int) -> str:
    """``filename:line`` relative to its package (no path of this machine)."""
    if filename == "~":
        return "(built-in)"
    parts = Path(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            rest = parts[parts.index(anchor) + 1 :]
            return f"{'/'.join(rest)}:{line}"
    if "panjereh" in parts:
        rest = parts[len(parts) - 1 - parts[::-1].index("panjereh") :]
        return f"{'/'.join(rest)}:{line}"
    if "bench" in parts:
        return f"bench/{Path(filename).name}:{line}"
    if _STDLIB in filename:
        tail = filename.split(_STDLIB, 1)[1]
        return f"stdlib {'/'.join(Path(tail).parts[1:])}:{line}"
    return f"{Path(filename).name}:{line}"


def component(filename: str, function: str) -> str:
    """The part of the stack a function belongs to, for a profile summary."""
    if filename == "~":
        if "sqlite3" in function or "execute" in function or "commit" in function:
            return "sqlite3 driver (C)"
        if "psycopg" in function or "pgconn" in function or "PGconn" in function:
            return "psycopg (C)"
        if "sha256" in function or "hexdigest" in function:
            return "hashlib (C)"
        return "other built-ins"
    parts = Path(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            rest = parts[parts.index(anchor) + 1 :]
            package = rest[0].split(".")[0] if rest else "?"
            if package in ("sqlalchemy", "panjereh") and len(rest) > 1:
                return f"{package}.{rest[1].removesuffix('.py')}"
            return package
    if "panjereh" in parts:
        rest = parts[len(parts) - parts[::-1].index("panjereh") :]
        return "panjereh." + (rest[0].removesuffix(".py") if rest else "?")
    if "bench" in parts:
        return "bench (this harness)"
    if _STDLIB in filename:
        tail = Path(filename.split(_STDLIB, 1)[1]).parts[1:]
        return f"stdlib {tail[0].removesuffix('.py')}" if tail else "stdlib"
    return Path(filename).name


@dataclass(frozen=True)
class ProfileSummary:
    """Shares of self time by component, and the costliest functions."""

    total_seconds: float
    components: list[tuple[str, float]]
    self_time: list[tuple[str, str, float, int]]
    cumulative: list[tuple[str, str, float, int]]


def summarize(stats: pstats.Stats, *, top: int = 12, focus: str = "panjereh") -> ProfileSummary:
    """Group self time by component; list the top functions by self and cumulative time.

    The cumulative list keeps functions of ``focus`` (the code this project can change).
    """
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    groups: dict[str, float] = {}
    for (filename, _line, function), entry in raw.items():
        key = component(filename, function)
        groups[key] = groups.get(key, 0.0) + entry[2]
    components = sorted(groups.items(), key=lambda kv: -kv[1])
    by_self = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    self_time = [(where(f, line), fn, entry[2], entry[1]) for (f, line, fn), entry in by_self]
    ours = [kv for kv in raw.items() if focus in Path(kv[0][0]).parts]
    by_cum = sorted(ours, key=lambda kv: -kv[1][3])[:top]
    cumulative = [(where(f, line), fn, entry[3], entry[1]) for (f, line, fn), entry in by_cum]
    return ProfileSummary(total, components, self_time, cumulative)
