"""Statements for the hottest writes, run on the database driver's own cursor.

Filing and deciding are the most frequent writes in the system (a declaration needing 16
inquiries is 17 transactions), and through SQLAlchemy's ``Connection.execute`` each
statement costs several times what the driver takes to run it (compiled-cache lookup,
execution context, result object). A :class:`Prepared` statement is written as an ordinary
SQLAlchemy Core statement, compiled once per dialect by SQLAlchemy itself, and its values
converted by the columns' own types (``UTCDateTime``, ``ExactDecimal``, JSON) exactly as
``execute`` would; only the per-call machinery is left out. It runs on the connection of
the caller's session, inside the caller's transaction (which it begins, as ``execute``
would, if none has begun).

What it gives up: SQLAlchemy's ``before_cursor_execute`` events and SQL echo do not see
these statements. Expanding ``IN`` parameters and multi-row ``VALUES`` are not supported
(use ``execute`` for those).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from panjereh.db import connection_of, once_per_transaction

Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Compiled:
    sql: str
    positional: bool
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    binds: tuple[tuple[str, Processor], ...]
    row: Any  # a namedtuple class, or None for a statement that returns no rows
    types: tuple[Any, ...]  # the returned columns' types
    results: tuple[tuple[int, Processor], ...] | None = None  # known after a first run
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False)

    def __post_init__(self) -> None:
        # The values in the statement's order, as a tuple; a missing one is a KeyError.
        if len(self.names) > 1:
            self.pick = itemgetter(*self.names)
        else:
            names = self.names
            self.pick = lambda params: tuple(params[name] for name in names)

    def parameters(self, values: Mapping[str, Any]) -> Any:
        params = {**self.defaults, **values}
        for name, process in self.binds:
            params[name] = process(params[name])
        ordered = self.pick(params)
        if self.positional:
            return ordered
        return dict(zip(self.names, ordered, strict=True))

    def rows(self, raw: Iterable[Any], cursor: Any, dialect: Dialect) -> list[Any]:
        if self.results is None:
            # Some drivers' conversions depend on the type the database reports (PostgreSQL's
            # numerics), so they are chosen once the statement has run.
            self.results = tuple(
                (index, process)
                for index, (type_, described) in enumerate(
                    zip(self.types, cursor.description, strict=True)
                )
                if (process := type_.dialect_impl(dialect).result_processor(dialect, described[1]))
                is not None
            )
        made = []
        for values in raw:
            if self.results:
                values = list(values)
                for index, process in self.results:
                    values[index] = process(values[index])
            made.append(self.row._make(values))
        return made


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(by_name)
    defaults: dict[str, Any] = {}
    binds: list[tuple[str, Processor]] = []
    for name in dict.fromkeys(names):  # a parameter may appear more than once
        bind = by_name[name]
        if not bind.required:
            defaults[name] = bind.effective_value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
    row: Any = None
    types: tuple[Any, ...] = ()
    if compiled.returning or getattr(statement, "is_select", False):
        columns = list(statement.exported_columns)  # type: ignore[attr-defined]
        row = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc,no-redef]
        types = tuple(c.type for c in columns)
    return _Compiled(
        sql=compiled.string,
        positional=compiled.positional,
        names=names,
        defaults=defaults,
        binds=tuple(binds),
        row=row,
        types=types,
    )


class _Cursor:
    """A driver's cursor for one statement, whose errors are raised as SQLAlchemy's
    (``IntegrityError``, ``OperationalError`` …), as ``execute`` raises them, so callers
    catch one kind. Closed after its statement: a statement left in progress on a cursor
    kept longer can make SQLite refuse the COMMIT ("SQL statements in progress")."""

    __slots__ = ("cursor", "dialect")

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self.cursor, self.dialect = cursor, dialect

    def _translated(self, sql: str, error: Exception) -> StatementError:
        base = self.dialect.loaded_dbapi.Error
        return DBAPIError.instance(sql, None, error, base, dialect=self.dialect)

    def execute(self, sql: str, parameters: Any) -> Any:
        try:
            return self.cursor.execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translated(sql, error) from error

    def executemany(self, sql: str, parameters: Any, **kwargs: Any) -> Any:
        try:
            return self.cursor.executemany(sql, parameters, **kwargs)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translated(sql, error) from error


_DRIVER = "panjereh.statements.driver"


def _driver(session: Session) -> tuple[Any, Dialect]:
    """The driver's connection under the session's transaction, and its dialect, asked of
    the session once per transaction (it costs more than the statements that use them)."""
    return once_per_transaction(session, _DRIVER, lambda: _driver_of(session))


def _driver_of(session: Session) -> tuple[Any, Dialect]:
    connection = connection_of(session)
    return connection.connection.dbapi_connection, connection.dialect


class Prepared:
    """A Core statement compiled once per dialect and run on the driver's cursor, in the
    session's transaction."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _open(self, session: Session) -> tuple[_Compiled, _Cursor]:
        driver, dialect = _driver(session)
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _compile(self.statement, dialect)
        return compiled, _Cursor(driver.cursor(), dialect)

    def run(self, session: Session, values: Mapping[str, Any] | None = None) -> int:
        """Run the statement; the number of rows it changed."""
        compiled, cursor = self._open(session)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values or {}))
            rowcount: int = cursor.cursor.rowcount
            return rowcount
        finally:
            cursor.cursor.close()

    def run_many(self, session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run the statement once for each of ``rows`` (``executemany``)."""
        compiled, cursor = self._open(session)
        try:
            cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
        finally:
            cursor.cursor.close()

    def run_returning(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Run an ``INSERT … RETURNING`` once for each of ``rows``; the row each returned.

        SQLite runs them one by one (its driver returns no rows from ``executemany``, and a
        statement costs it microseconds); psycopg sends them in one pipeline.
        """
        compiled, cursor = self._open(session)
        driver = cursor.cursor
        returned = []
        try:
            if cursor.dialect.name == "sqlite":
                for row in rows:
                    cursor.execute(compiled.sql, compiled.parameters(row))
                    returned.append(driver.fetchone())
            else:
                cursor.executemany(
                    compiled.sql, [compiled.parameters(row) for row in rows], returning=True
                )
                while True:
                    returned.append(driver.fetchone())
                    if not driver.nextset():
                        break
            return compiled.rows(returned, driver, cursor.dialect)
        finally:
            driver.close()

    def first(self, session: Session, values: Mapping[str, Any] | None = None) -> Any:
        """The first row the statement returns (a named tuple), or None."""
        compiled, cursor = self._open(session)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values or {}))
            raw = cursor.cursor.fetchone()
            return None if raw is None else compiled.rows([raw], cursor.cursor, cursor.dialect)[0]
        finally:
            cursor.cursor.close()

    def all(self, session: Session, values: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row the statement returns (named tuples)."""
        compiled, cursor = self._open(session)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values or {}))
            return compiled.rows(cursor.cursor.fetchall(), cursor.cursor, cursor.dialect)
        finally:
            cursor.cursor.close()


def insert_row(table: Table, *returning: Column[Any]) -> Prepared:
    """An ``INSERT`` of one row into ``table``, given by column name: every column but its
    autoincrement key, whose value ``returning`` may name. Every value must be given (the
    columns' Python-side defaults are not applied)."""
    key = table.autoincrement_column
    statement = insert(table).values(
        {c.key: bindparam(c.key, type_=c.type) for c in table.columns if c is not key}
    )
    return Prepared(statement.returning(*returning) if returning else statement)
