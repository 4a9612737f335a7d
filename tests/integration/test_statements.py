"""Prepared statements (the hot path's, on the driver's cursor) store and read exactly what
SQLAlchemy's own ``execute`` does, in the session's transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from panjereh import db
from panjereh.db import ExactDecimal, JSONValue, UTCDateTime, make_engine
from panjereh.errors import StoreBusy
from panjereh.statements import Prepared, insert_row

scratch = MetaData()
SAMPLES = Table(
    "statement_samples",
    scratch,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=True),
    Column("doc", JSONValue, nullable=True),
    Column("amount", ExactDecimal(), nullable=True),
    Column("note", String(40), nullable=True),
)
_INSERT = insert_row(SAMPLES, SAMPLES.c.id)
_READ = Prepared(select(SAMPLES).where(SAMPLES.c.id == bindparam("id")))
_TOUCH = Prepared(
    update(SAMPLES)
    .where(SAMPLES.c.id == bindparam("id"))
    .values(at=bindparam("when"), note=bindparam("note"))
)
# One parameter in two places (as an inquiry's pause sets both its deadlines).
_BOTH = Prepared(
    select(SAMPLES.c.id).where(
        (SAMPLES.c.at == bindparam("when")) | (SAMPLES.c.at > bindparam("when"))
    )
)

AT = datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=UTC)
ROW = {
    "at": AT,
    "doc": {"fa": "استعلام", "n": [1, 2]},
    "amount": Decimal("123456789012345678.123456"),
    "note": None,
}


@pytest.fixture
def samples(engine: Engine) -> Iterator[Engine]:
    scratch.create_all(engine)
    yield engine
    scratch.drop_all(engine)


def test_values_round_trip_as_sqlalchemy_stores_them(
    samples: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        (mine,) = _INSERT.run_returning(session, [ROW])
        theirs = session.execute(insert(SAMPLES).returning(SAMPLES.c.id), [ROW]).scalar_one()
        session.commit()
    with session_factory() as session:
        read_by_sqlalchemy = session.execute(select(SAMPLES).where(SAMPLES.c.id == mine.id)).one()
        read_by_prepared = _READ.first(session, {"id": theirs})
    for row in (read_by_sqlalchemy, read_by_prepared):
        assert row.at == AT and row.at.tzinfo is not None
        assert row.doc == ROW["doc"]
        assert row.amount == ROW["amount"]
        assert row.note is None


def test_changes_count_and_a_missing_row_is_none(
    samples: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        ids = [r.id for r in _INSERT.run_returning(session, [ROW, {**ROW, "note": "second"}])]
        assert len(set(ids)) == 2
        later = AT + timedelta(hours=1)
        assert _TOUCH.run(session, {"id": ids[1], "when": later, "note": "moved"}) == 1
        assert _TOUCH.run(session, {"id": 10**9, "when": later, "note": "nobody"}) == 0
        assert _READ.first(session, {"id": 10**9}) is None
        assert [r.id for r in _BOTH.all(session, {"when": later})] == [ids[1]]
        assert _READ.first(session, {"id": ids[1]}).note == "moved"


def test_they_run_inside_the_session_transaction(
    samples: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        (kept,) = _INSERT.run_returning(session, [ROW])
        session.commit()
        _INSERT.run_returning(session, [{**ROW, "note": "dropped"}])  # a new transaction
        session.rollback()
        _INSERT.run_many(session, [{**ROW, "note": "many"}] * 3)
        session.commit()
    with session_factory() as session:
        notes = session.execute(select(SAMPLES.c.id, SAMPLES.c.note)).all()
    assert (kept.id, None) in notes
    assert sorted(n or "" for _, n in notes) == ["", "many", "many", "many"]


def test_a_missing_value_is_refused_not_defaulted(
    samples: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, pytest.raises(KeyError, match="note"):
        _INSERT.run_returning(session, [{k: v for k, v in ROW.items() if k != "note"}])


def test_driver_errors_are_raised_as_sqlalchemy_raises_them(
    samples: Engine, session_factory: sessionmaker[Session]
) -> None:
    """Callers catch ``IntegrityError`` (a key used twice) whichever way the statement ran."""
    with_id = Prepared(insert(SAMPLES).values(id=bindparam("id"), note=bindparam("note")))
    with session_factory() as session:
        with_id.run(session, {"id": 7, "note": "first"})
        with pytest.raises(IntegrityError):
            with_id.run(session, {"id": 7, "note": "again"})
        session.rollback()


@pytest.mark.parametrize("kept", [False, True], ids=["own sessions", "kept sessions"])
def test_sqlite_writers_of_one_process_take_turns(tmp_path: Path, kept: bool) -> None:
    """Threads writing at once all commit, each in its own turn at the write lock; a
    transaction that fails gives the lock back. The same through ``db.transaction``, where
    eight of the ten threads keep their session and connection between transactions."""
    engine = make_engine(f"sqlite:///{tmp_path}/turns.db")
    scratch.create_all(engine)
    factory = db.make_session_factory(engine) if kept else sessionmaker(bind=engine)
    unit = partial(db.transaction, factory) if kept else factory.begin
    errors: list[BaseException] = []
    writers = 10

    def writer(n: int) -> None:
        for k in range(25):
            try:
                with unit() as session:
                    _INSERT.run_many(session, [{**ROW, "note": f"{n}-{k}"}])
                    if k % 5 == 3:
                        raise RuntimeError("rolled back")
            except RuntimeError:
                continue
            except BaseException as error:  # the failure this test looks for
                errors.append(error)
                return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with factory() as session:
        notes = {n for (n,) in session.execute(select(SAMPLES.c.note))}
    assert notes == {f"{n}-{k}" for n in range(writers) for k in range(25) if k % 5 != 3}
    engine.dispose()


def test_sqlite_writers_of_two_processes_take_turns(tmp_path: Path) -> None:
    """Two engines on one file (as two server processes: each has its own queue, so they meet
    only at SQLite's lock) write at once from several threads each; every write commits,
    none fails with "database is locked"."""
    url = f"sqlite:///{tmp_path}/processes.db"
    engines = [make_engine(url), make_engine(url)]
    scratch.create_all(engines[0])
    errors: list[BaseException] = []

    def writer(engine: Engine, n: int) -> None:
        factory = sessionmaker(bind=engine)
        for k in range(40):
            try:
                with factory.begin() as session:
                    _INSERT.run_many(session, [{**ROW, "note": f"{n}-{k}"}])
            except BaseException as error:  # the failure this test looks for
                errors.append(error)
                return

    threads = [threading.Thread(target=writer, args=(engines[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with engines[1].connect() as connection:
        notes = {n for (n,) in connection.execute(select(SAMPLES.c.note))}
    assert notes == {f"{n}-{k}" for n in range(4) for k in range(40)}
    for engine in engines:
        engine.dispose()


def test_sqlite_writer_waits_for_another_process_then_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer waits while another process holds the write lock, takes it as soon as it is
    free, and gives up after the busy timeout (a 503 for a request)."""
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.3)
    url = f"sqlite:///{tmp_path}/waits.db"
    holder, waiter = make_engine(url), make_engine(url)
    scratch.create_all(holder)
    holding = holder.connect()
    holding.begin()
    holding.execute(insert(SAMPLES).values(**{**ROW, "note": "holder"}))
    with pytest.raises(StoreBusy, match=r"write lock stayed taken for 0\.3 s"), waiter.begin():
        pass
    taken = threading.Event()

    def wait_for_the_lock() -> None:
        with waiter.begin() as connection:
            taken.set()
            connection.execute(insert(SAMPLES).values(**{**ROW, "note": "waiter"}))

    thread = threading.Thread(target=wait_for_the_lock)
    thread.start()
    assert not taken.wait(0.1)  # still held
    holding.commit()
    holding.close()
    thread.join(timeout=5)
    assert taken.is_set()
    with holder.connect() as connection:
        notes = sorted(n for (n,) in connection.execute(select(SAMPLES.c.note)))
    assert notes == ["holder", "waiter"]
    holder.dispose()
    waiter.dispose()


def test_begin_at_once_begins_only_when_the_write_lock_is_free(tmp_path: Path) -> None:
    """``begin_at_once`` begins a session's transaction if SQLite's write lock is free this
    instant, and otherwise begins nothing and waits for nothing (another process, or another
    thread of this one, holds it); the session then works as ever."""
    url = f"sqlite:///{tmp_path}/at-once.db"
    engine, other_process = make_engine(url), make_engine(url)
    scratch.create_all(engine)
    factory = sessionmaker(bind=engine)

    with factory() as session:
        assert db.begin_at_once(session) and session.in_transaction()
        _INSERT.run_many(session, [{**ROW, "note": "free"}])
        session.commit()

    holding = other_process.connect()
    holding.begin()
    with factory() as session:
        assert not db.begin_at_once(session) and not session.in_transaction()
        with pytest.raises(db.WouldWait), db.without_waiting():
            session.connection()
        session.rollback()
    holding.rollback()
    holding.close()

    taken, done = threading.Event(), threading.Event()

    def hold_in_a_thread() -> None:
        with factory.begin() as session:
            session.connection()  # BEGIN IMMEDIATE
            taken.set()
            done.wait(10)

    thread = threading.Thread(target=hold_in_a_thread)
    thread.start()
    assert taken.wait(10)
    with factory() as session:
        assert not db.begin_at_once(session)
        done.set()
        thread.join(10)
        _INSERT.run_many(session, [{**ROW, "note": "later"}])  # waits as usual
        session.commit()
    with factory() as session:
        assert sorted(n for (n,) in session.execute(select(SAMPLES.c.note))) == ["free", "later"]
    engine.dispose()


def test_begin_at_once_waits_for_the_write_lock_no_longer_than_its_patience(
    tmp_path: Path,
) -> None:
    """What the event loop does (``api.deps.on_store``): it waits a little for another
    process's transaction to end, and gives up (nothing begun) when that takes longer."""
    url = f"sqlite:///{tmp_path}/patience.db"
    engine, other_process = make_engine(url), make_engine(url)
    scratch.create_all(engine)
    factory = sessionmaker(bind=engine)
    holding = other_process.connect()

    holding.begin()
    with factory() as session:
        started = time.monotonic()
        assert not db.begin_at_once(session, patience=0.05) and not session.in_transaction()
        assert 0.05 <= time.monotonic() - started < 5
    released = threading.Timer(0.05, holding.rollback)
    released.start()
    with factory() as session:
        assert db.begin_at_once(session, patience=10) and session.in_transaction()
        _INSERT.run_many(session, [{**ROW, "note": "after"}])
        session.commit()
    released.join()
    holding.close()
    engine.dispose()
    other_process.dispose()
    other_process.dispose()


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1, 1, 2),
            max_value=datetime(9999, 12, 30),
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=3, minutes=30))]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_sqlite_timestamps_are_the_text_sqlalchemy_writes(instants: list[datetime]) -> None:
    """UTCDateTime writes SQLite's text in one step, keeping the last one it made: the same
    text as SQLAlchemy's DATETIME of the instant in UTC, whatever came before it."""
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = sqlite.DATETIME().bind_processor(dialect)
    assert ours is not None and theirs is not None
    for instant in [*instants, *instants]:  # and each again, as the one kept
        assert ours(instant) == theirs(instant.astimezone(UTC))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 11, 29, 8, 30))
