"""Database engine, the declarative base and the unit of work.

SQLite (WAL) is the embedded default and PostgreSQL the production store; the same models and
migrations serve both. Sessions never commit inside services: a flow commits once, and the
audit chain appends that transaction's events just before the commit (see ``panjereh.audit``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeDecorator

from panjereh.errors import StoreBusy

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_T = TypeVar("_T")

SQLITE_BUSY_SECONDS = 30
"""How long a SQLite transaction waits for the write lock before it fails."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones, so naive values would silently mix local and UTC time;
    this type refuses naive datetimes on the way in and attaches UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite stores the text SQLAlchemy's DATETIME writes ("2026-11-29 08:30:00.000000"),
        # made here in one step: a filing binds about 200 timestamps, and the two steps
        # (this type's, then DATETIME's format with a dict) cost twice as much. Most of them
        # are the same instant (the filing's, on every inquiry and event): the last one made
        # is kept, as one tuple, so threads never see half of it.
        last: tuple[datetime | None, str | None] = (None, None)

        def process(value: datetime | None) -> str | None:
            nonlocal last
            if value is None:
                return None
            seen, text = last
            if value is seen:
                return text
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            last = (value, text)
            return text

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; NORMAL keeps commits durable across a
    # process crash (not a power cut) at a fraction of FULL's cost.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")  # for the mode
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # From here on every statement runs in a transaction that began with BEGIN IMMEDIATE,
    # holding the write lock; in WAL mode nothing else waits for a lock. Waiting for the
    # write lock is the writers' queue's job (it retries BEGIN far sooner than SQLite's
    # busy handler would), so SQLite's own is off.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; SQLAlchemy
    # emits BEGIN itself (see _WriterQueue).
    dbapi_connection.isolation_level = None


class _WriterQueue:
    """Writers take turns at SQLite's write lock, each woken soon after the last one ends.

    Every transaction begins with BEGIN IMMEDIATE, which takes SQLite's write lock: two
    writers queue rather than deadlock on a lock upgrade. Within one process (the server's
    threads) a lock wakes the next writer the moment the last one commits. Between processes
    (the server's workers, the worker, the CLI) BEGIN IMMEDIATE is retried after sleeps of
    50 µs growing to 250 µs: SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms between
    tries, far longer than a transaction here holds the lock, so a second server process
    spent most of its time asleep.
    """

    FIRST_SLEEP = 50e-6
    LONGEST_SLEEP = 250e-6

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()

    def begin(self, conn: Any) -> None:
        patience = _PATIENCE.get()
        limit = self.timeout if patience is None else patience
        deadline = time.monotonic() + limit
        if not self._lock.acquire(timeout=limit):
            raise self._gave_up(patience)
        try:
            cursor = conn.connection.cursor()  # the driver's: this runs on every transaction
            try:
                self._begin_immediate(cursor, deadline, patience)
            finally:
                cursor.close()
        except BaseException:
            self._lock.release()
            raise

    def _begin_immediate(self, cursor: Any, deadline: float, patience: float | None) -> None:
        sleep = self.FIRST_SLEEP
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # extended codes too
                    raise
                if time.monotonic() >= deadline:
                    raise self._gave_up(patience) from error
            time.sleep(sleep)
            sleep = min(sleep * 2, self.LONGEST_SLEEP)

    def _gave_up(self, patience: float | None) -> Exception:
        return StoreBusy(self._waited) if patience is None else WouldWait()

    @property
    def _waited(self) -> str:
        return f"the database's write lock stayed taken for {self.timeout:g} s; try again"

    def end(self, _conn: Any) -> None:
        self._lock.release()


class WouldWait(Exception):
    """Beginning the transaction now would wait for SQLite's write lock (see
    :func:`begin_at_once`)."""


_PATIENCE: ContextVar[float | None] = ContextVar("panjereh_writers_patience", default=None)
"""How long a SQLite transaction may wait for the write lock before :class:`WouldWait` (None:
up to ``SQLITE_BUSY_SECONDS``, then :class:`~panjereh.errors.StoreBusy`)."""


@contextmanager
def without_waiting(patience: float = 0.0) -> Iterator[None]:
    """Within this block, a SQLite transaction that cannot take the write lock within
    ``patience`` seconds raises :class:`WouldWait` instead of waiting longer for it (for work
    in the event loop, which must not wait long on a lock)."""
    token = _PATIENCE.set(patience)
    try:
        yield
    finally:
        _PATIENCE.reset(token)


def begin_at_once(session: Session, *, patience: float = 0.0) -> bool:
    """Begin ``session``'s transaction if SQLite's write lock is free now or within
    ``patience`` seconds: whether it began (False: nothing was begun; run the work where
    waiting blocks nothing, in a thread). On PostgreSQL it begins, and may wait as it always
    does."""
    try:
        with without_waiting(patience):
            connection_of(session)
    except WouldWait:
        session.rollback()
        return False
    return True


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``, with the SQLite settings the embedded store needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        writers = _WriterQueue(timeout=SQLITE_BUSY_SECONDS)
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "commit", writers.end)
        event.listen(engine, "rollback", writers.end)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


class _Session(Session):
    """A session of :func:`make_session_factory`.

    A kept session (:class:`_Held`, from :func:`open_session`) runs its unit of work in the
    transaction of its connection, ``unit``: the first statement begins it (one of
    ``panjereh.statements`` on the connection itself, :func:`connection_of`, or the ORM,
    which then joins it), and :meth:`commit` and :meth:`rollback` end it, running the
    session's ``before_commit`` and ``after_rollback`` hooks as the ORM would. The ORM's own
    transaction, about 30 µs to make, begin and end, is then made only by units that use the
    ORM; the hottest (filing, an agency's answer) do not.
    """

    @property
    def unit(self) -> Connection | None:
        """The connection this session is bound to when it is kept (:class:`_Held`); None for
        a session of the engine, which begins its transactions itself."""
        bind = self.bind
        return bind if isinstance(bind, Connection) else None

    def commit(self) -> None:
        unit = self.unit
        if unit is None or self.in_transaction():
            super().commit()  # joined to the unit's transaction, it ends only its own part
        else:
            self.dispatch.before_commit(self)  # the hooks (the audit chain's events)
        if unit is not None and unit.in_transaction():
            unit.commit()

    def rollback(self) -> None:
        unit = self.unit
        if unit is None or self.in_transaction():
            super().rollback()  # joined to the unit's transaction, it rolls that back too
        if unit is not None and unit.in_transaction():  # begun by statements alone
            unit.rollback()
            self.dispatch.after_rollback(self)  # the hooks (pending events dropped)


def unit_connection(session: Session) -> Connection | None:
    """The connection whose own transaction ``session``'s unit of work runs in (see
    :class:`_Session`); None when the session begins its transactions itself."""
    return session.unit if isinstance(session, _Session) else None


def connection_of(session: Session) -> Connection:
    """The connection ``session``'s transaction runs on, begun if it was not: the unit's
    (see :class:`_Session`), or the one the session begins with the ORM's transaction."""
    unit = unit_connection(session)
    if unit is None:
        return session.connection()
    if not unit.in_transaction():
        unit.begin()
    return unit


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built from them).

    Every session chains its transaction's audit events just before commit.
    """
    from panjereh.audit.chain import append_on_commit, discard_pending

    factory: sessionmaker[Session] = sessionmaker(
        bind=engine, class_=_Session, expire_on_commit=False, autoflush=False
    )
    event.listen(factory, "before_commit", append_on_commit)
    event.listen(factory, "after_rollback", discard_pending)
    if engine.dialect.name == "sqlite":
        held = _held_on.get(engine)
        if held is None:
            held = _held_on[engine] = _Held()
            event.listen(engine, "engine_disposed", held.release)
        _held[factory] = held
    return factory


class _Held:
    """Each thread's own session on SQLite (:func:`open_session`, :func:`transaction`), on a
    connection it keeps.

    A session and a connection checked out of the pool cost more to make, begin, end and
    give back (about 100 µs here) than a transaction that answers an inquiry takes in SQLite
    itself; a thread that runs units of work one after another (the worker, the CLI, the
    server's event loop, a benchmark) keeps one of each, as Django keeps a connection per
    thread. Only SQLite: every transaction there holds the one write lock, so one thread
    never has two at once on a connection, and a kept connection holds nothing on a server.
    At most ``LIMIT`` threads keep one; the others and a transaction opened inside another
    get a session of their own as before. A forked child neither uses nor closes what its
    parent keeps. ``Engine.dispose`` closes what no transaction uses. A session made by one
    factory of the engine may serve another (they are made alike).
    """

    LIMIT = 8

    def __init__(self) -> None:
        self.lock = threading.Lock()  # for making and closing; taking and giving back
        self.idle: dict[int, tuple[Connection, Session]] = {}  # are single dict operations
        self.used: dict[int, tuple[Connection, Session]] = {}
        self.pid = os.getpid()  # of the process whose connections these are

    def take(self, factory: sessionmaker[Session]) -> Session | None:
        """This thread's kept session, now its own until :meth:`give_back`; None if it has
        it already, or if it cannot keep one."""
        if os.getpid() != self.pid:
            return None
        thread = threading.get_ident()
        pair = self.idle.pop(thread, None)
        if pair is not None and pair[0].invalidated:  # its connection was lost
            self._close(pair)
            pair = None
        if pair is None:
            if thread in self.used:
                return None
            with self.lock:
                if len(self.idle) + len(self.used) >= self.LIMIT:
                    return None
                connection = factory.kw["bind"].connect()
                # The ORM joins the unit's transaction begun on the connection, leaving its
                # end to the unit (_Session), or begins it itself.
                session = factory(bind=connection, join_transaction_mode="rollback_only")
                pair = self.used[thread] = (connection, session)
            return pair[1]
        self.used[thread] = pair
        return pair[1]

    def give_back(self, session: Session) -> None:
        """Keep ``session`` for this thread's next unit of work, if it is the one it kept."""
        thread = threading.get_ident()
        pair = self.used.get(thread)
        if pair is None or pair[1] is not session:
            return
        session.info.clear()
        self.idle[thread] = self.used.pop(thread)

    def release(self, _engine: Engine) -> None:
        """Close the kept connections that no transaction uses (``engine_disposed``)."""
        if os.getpid() != self.pid:
            return
        with self.lock:
            for thread in list(self.idle):
                pair = self.idle.pop(thread, None)
                if pair is not None:
                    self._close(pair)

    @staticmethod
    def _close(pair: tuple[Connection, Session]) -> None:
        connection, session = pair
        session.close()
        connection.invalidate()  # the driver's connection is closed now, not pooled
        connection.close()


_held_on: weakref.WeakKeyDictionary[Engine, _Held] = weakref.WeakKeyDictionary()
"""What each SQLite engine's threads keep, until it is disposed (as its pool keeps
connections): one for all the factories made on it, which make alike sessions."""
_held: weakref.WeakKeyDictionary[sessionmaker[Session], _Held] = weakref.WeakKeyDictionary()
"""The session factories made by :func:`make_session_factory` on SQLite, and what is kept."""


def open_session(factory: sessionmaker[Session]) -> Session:
    """A session of ``factory`` for one unit of work: on SQLite this thread's kept one when it
    is free (see :class:`_Held`), else a new one. End it with :func:`close_session`."""
    held = _held.get(factory)
    kept = held.take(factory) if held is not None else None
    return kept if kept is not None else factory()


def close_session(factory: sessionmaker[Session], session: Session) -> None:
    """Close ``session`` (from :func:`open_session`, in the same thread), rolling back what
    it did not commit; a kept one is kept for the thread's next unit of work."""
    unit = unit_connection(session)
    if unit is not None and unit.in_transaction():
        session.rollback()
    session.close()
    held = _held.get(factory)
    if held is not None:
        held.give_back(session)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (on a kept connection, in
    the connection's own transaction: see :class:`_Session`)."""
    session = open_session(factory)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        close_session(factory, session)


def once_per_transaction(session: Session, key: str, make: Callable[[], _T]) -> _T:
    """``make()``, made once per transaction of ``session`` and kept in ``session.info`` under
    ``key`` (what the hot paths ask on every statement or every calendar costs more than
    asking once). ``make`` may begin the transaction."""
    transaction = _current(session)
    seen = session.info.get(key)
    if seen is not None and transaction is not None and seen[0] is transaction:
        kept: _T = seen[1]
        return kept
    value = make()
    keep_for_transaction(session, key, value)
    return value


def keep_for_transaction(session: Session, key: str, value: Any) -> None:
    """What :func:`once_per_transaction` returns for ``key`` for the rest of this transaction."""
    session.info[key] = (_current(session), value)


def _current(session: Session) -> Any:
    """What tells ``session``'s transactions apart: its unit's on the connection, or its own."""
    unit = unit_connection(session)
    return unit.get_transaction() if unit is not None else session.get_transaction()


def delete_some(
    session: Session,
    key: InstrumentedAttribute[Any],
    *conditions: ColumnElement[bool],
    order_by: Any = None,
    limit: int,
) -> int:
    """Delete at most ``limit`` rows of ``key``'s table that meet ``conditions`` (the first by
    ``order_by``); how many. The keys are read first, so every backend bounds the delete
    (SQLite has no ``DELETE … LIMIT``), and a worker's housekeeping stays a short
    transaction however much there is to forget."""
    chosen = select(key).where(*conditions).limit(limit)
    if order_by is not None:
        chosen = chosen.order_by(order_by)
    keys = list(session.scalars(chosen))
    if keys:
        session.execute(delete(key.class_).where(key.in_(keys)))
    return len(keys)


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (for the few places where dialects differ)."""
    return session.get_bind().dialect.name == "postgresql"


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal stored exactly: NUMERIC on PostgreSQL, text on SQLite.

    SQLite's NUMERIC affinity turns values into floats, and rial amounts have more digits than
    a float holds, so on SQLite the canonical decimal string is stored instead.
    """

    impl = Numeric(30, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(30, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).normalize() if not isinstance(value, Decimal) else value


JSONValue = JSON().with_variant(JSONB(), "postgresql")
"""A JSON document: JSONB on PostgreSQL, text on SQLite."""

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit key that is still SQLite's rowid (an INTEGER PRIMARY KEY)."""
