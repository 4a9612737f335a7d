"""``db.transaction``: one unit of work, committed or rolled back whole; on SQLite each
thread keeps its session and connection between its transactions (``db._Held``), and what
one transaction did or loaded never reaches the next."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.agencies.models import Agency
from panjereh.audit import chain
from panjereh.audit.models import Event
from panjereh.auth.principal import SYSTEM
from panjereh.db import (
    close_session,
    make_engine,
    make_session_factory,
    open_session,
    transaction,
)
from tests.conftest import START


def _driver(session: Session) -> Any:
    """The driver's connection the session's transaction runs on."""
    return session.connection().connection.dbapi_connection


def _in_thread(work: Callable[[], Any]) -> Any:
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(work()))
    thread.start()
    thread.join()
    return done[0]


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def test_a_thread_keeps_its_connection_on_sqlite_only(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    def two() -> list[tuple[Any, Any]]:
        seen = []
        for _ in range(2):
            with transaction(session_factory) as session:
                seen.append((session.bind, _driver(session)))
        return seen

    here, there = two(), _in_thread(two)
    if _is_sqlite(engine):
        assert here[0][1] is here[1][1] and there[0][1] is there[1][1]
        assert here[0][1] is not there[0][1]  # each thread its own
    else:  # sessions of their own, connections from the pool
        assert all(bind is engine for bind, _ in here + there)


def test_nothing_of_one_transaction_reaches_the_next(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as session:
        agency = session.scalars(select(Agency).where(Agency.code == "IVO")).one()
        chain.record(session, kind="test.noted", at=START, actor=SYSTEM)
        chain.append_pending(session)
    with transaction(session_factory) as session:
        assert agency not in session  # loaded objects were let go (detached)
        assert not session.info  # nor anything a transaction kept for itself
        again = session.scalars(select(Agency).where(Agency.code == "IVO")).one()
        assert again is not agency
    assert agency.code == "IVO"  # still readable, as after any session


def test_a_failed_transaction_leaves_nothing_and_the_next_one_works(
    session_factory: sessionmaker[Session],
) -> None:
    def count() -> int:
        with transaction(session_factory) as session:
            return session.scalar(select(func.count()).select_from(Agency)) or 0

    before = count()
    with (
        pytest.raises(RuntimeError, match="changed my mind"),
        transaction(session_factory) as session,
    ):
        session.add(Agency(code="ZZZ", name_en="Nobody", name_fa="هیچ‌کس", weekend="FRI"))
        session.flush()
        raise RuntimeError("changed my mind")
    assert count() == before


def test_a_transaction_inside_another_has_a_session_of_its_own(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as outer:
        with transaction(session_factory) as inner:
            assert inner is not outer
        assert outer.scalar(select(func.count()).select_from(Agency))


def test_sqlite_keeps_a_bounded_number_and_dispose_closes_them(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kept.db'}")
    factory = make_session_factory(engine)
    together = threading.Barrier(12)

    def bound() -> Any:
        # What the session is bound to: a kept connection, or the engine (a session of its
        # own). Nothing is begun: on SQLite one transaction at a time holds the write lock.
        with transaction(factory) as session:
            together.wait(timeout=10)  # all twelve threads hold a session at once
            return session.bind

    binds: list[Any] = []
    threads = [threading.Thread(target=lambda: binds.append(bound())) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(b is engine for b in binds) == 12 - 8
    assert len({id(b) for b in binds if b is not engine}) == 8
    with transaction(factory) as session:
        kept = _driver(session)
    engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        kept.execute("SELECT 1")
    with transaction(factory) as session:  # after dispose, a new one is kept
        assert session.scalar(select(1)) == 1
        assert _driver(session) is not kept
    engine.dispose()


def test_factories_of_one_engine_share_what_is_kept(tmp_path: Any) -> None:
    """The command line makes a session factory per command: it must not keep a connection
    for each."""
    engine = make_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    drivers = set()
    for _ in range(20):
        with transaction(make_session_factory(engine)) as session:
            drivers.add(id(_driver(session)))
    assert len(drivers) == 1
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    engine.dispose()


def test_a_forked_child_keeps_nothing_of_its_parent(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'forked.db'}")
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        parent = id(_driver(session))
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its own connection, and a transaction that works
        try:
            with transaction(factory) as session:
                ok = session.scalar(select(1)) == 1 and id(_driver(session)) != parent
            os.write(write, b"ok" if ok else b"shared")
        finally:
            os._exit(0)
    os.close(write)
    said = os.read(read, 16)
    os.waitpid(child, 0)
    assert said == b"ok"
    with transaction(factory) as session:  # the parent's is still its own
        assert id(_driver(session)) == parent
    engine.dispose()


def test_open_and_close_session_keep_only_this_threads_own(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    """What a request does (``api.deps.get_session``): a second session opened while the
    first is out is a new one, and closing it leaves the kept one as it is."""
    first = open_session(session_factory)
    second = open_session(session_factory)
    assert second is not first
    close_session(session_factory, second)
    close_session(session_factory, first)
    again = open_session(session_factory)
    try:
        if _is_sqlite(engine):
            assert again is first  # kept for the thread's next unit of work
        else:
            assert again is not first and again.bind is engine
        assert again.scalar(select(func.count()).select_from(Agency))
    finally:
        close_session(session_factory, again)


def _agency(code: str) -> Agency:
    return Agency(code=code, name_en=f"Agency {code}", name_fa=f"سازمان {code}", weekend="FRI")


def _stored(session_factory: sessionmaker[Session]) -> tuple[set[str], int]:
    """The test agencies stored, and how many events the chain holds."""
    with transaction(session_factory) as session:
        codes = set(session.scalars(select(Agency.code).where(Agency.code.like("Z%"))))
        return codes, session.scalar(select(func.count()).select_from(Event)) or 0


def _event(session: Session) -> None:
    """A statement on the driver's connection (``panjereh.statements``), the ORM untouched."""
    chain.record(session, kind="test.noted", at=START, actor=SYSTEM)
    chain.append_pending(session)


@pytest.mark.parametrize("statements_first", [True, False], ids=["statements", "orm"])
def test_statements_and_the_orm_write_in_one_transaction_in_either_order(
    session_factory: sessionmaker[Session], statements_first: bool
) -> None:
    """On SQLite a statement begins the unit's transaction on the connection and the ORM
    joins it, or the ORM begins it and statements run in it: either way one commit keeps
    both, and one failure keeps neither."""
    codes, events = _stored(session_factory)

    def both(session: Session, code: str) -> None:
        if statements_first:
            _event(session)
        session.add(_agency(code))
        session.flush()
        if not statements_first:
            _event(session)

    with pytest.raises(RuntimeError, match="no"), transaction(session_factory) as session:
        both(session, "ZZA")
        raise RuntimeError("no")
    assert _stored(session_factory) == (codes, events)
    with transaction(session_factory) as session:
        both(session, "ZZB")
    assert _stored(session_factory) == (codes | {"ZZB"}, events + 1)


def test_a_rollback_inside_a_transaction_drops_what_came_before_it(
    session_factory: sessionmaker[Session],
) -> None:
    """Also when only statements on the driver's connection had run (the ORM had begun
    nothing to roll back): the event queued before is dropped, not chained later."""
    codes, events = _stored(session_factory)
    with transaction(session_factory) as session:
        _event(session)
        chain.record(session, kind="test.dropped", at=START, actor=SYSTEM)
        session.rollback()
        session.add(_agency("ZZC"))
    assert _stored(session_factory) == (codes | {"ZZC"}, events)


def test_a_commit_inside_a_transaction_keeps_what_came_before_it(
    session_factory: sessionmaker[Session],
) -> None:
    codes, events = _stored(session_factory)
    with pytest.raises(RuntimeError, match="later"), transaction(session_factory) as session:
        _event(session)
        session.commit()
        session.add(_agency("ZZD"))
        session.flush()
        raise RuntimeError("later")
    assert _stored(session_factory) == (codes, events + 1)


def test_a_transaction_takes_sqlites_write_lock_at_its_first_statement(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Not before (a unit that reads nothing holds nothing), and not after it ends."""
    path = tmp_path / "lock.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    session_factory = make_session_factory(engine)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)

    def lock_is_free() -> bool:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        other.execute("ROLLBACK")
        return True

    try:
        for _ in range(2):  # the second on the kept connection
            with transaction(session_factory) as session:
                assert lock_is_free()
                _event(session)
                assert not lock_is_free()
            assert lock_is_free()
            with pytest.raises(RuntimeError), transaction(session_factory) as session:
                _event(session)
                raise RuntimeError("undone")
            assert lock_is_free()
    finally:
        other.close()
        engine.dispose()


def test_a_session_opened_for_a_request_commits_what_it_commits_and_no_more(
    session_factory: sessionmaker[Session],
) -> None:
    """What ``api.deps.get_session`` does: the request commits (``session.commit()``), or
    its session is closed with its work uncommitted, which is then rolled back (on SQLite
    its kept connection's transaction, begun by a statement alone)."""
    _, events = _stored(session_factory)
    session = open_session(session_factory)
    _event(session)
    close_session(session_factory, session)
    assert _stored(session_factory)[1] == events
    session = open_session(session_factory)
    try:
        _event(session)
        session.commit()
        _event(session)  # after the commit: a new transaction, not committed
    finally:
        close_session(session_factory, session)
    assert _stored(session_factory)[1] == events + 1
