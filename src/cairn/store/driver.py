"""Statements on the hot paths, compiled once per dialect and run on the driver's cursor.

Registering a version takes a handful of statements, and reading one takes four; SQLAlchemy's
execution machinery costs more per statement than SQLite's own work on it. Each statement
here is built once (with named ``bindparam`` placeholders), compiled by SQLAlchemy once, each
parameter goes through the bind processor SQLAlchemy would apply (JSON encoding, UTC
normalisation) and each result column through its result processor, and the driver runs it
inside the transaction the caller began. Driver errors are translated in
:mod:`cairn.store.uow` like any other.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import JSON, Connection, Dialect, Float, Select, Table, insert
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A read transaction on a pooled driver connection (``Store.snapshot``): what
    :func:`fetch` needs of a Connection, its dialect and its driver connection."""

    dialect: Dialect
    connection: PoolProxiedConnection


#: Where the statements here run: a SQLAlchemy Connection or a bare snapshot.
Reader = Connection | Snapshot


@dataclass(frozen=True, slots=True)
class Prepared:
    sql: str
    keys: tuple[str, ...]
    processors: tuple[Processor | None, ...]
    positional: bool
    #: Values fixed in the statement itself (``.limit(20)``), used when a call does not set them.
    fixed: dict[str, Any]


@lru_cache(maxsize=1024)
def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    positional = compiled.positiontup is not None
    keys = tuple(compiled.positiontup or compiled.binds)
    processors = tuple(
        compiled.binds[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys
    )
    fixed = {
        key: bind.value
        for key, bind in compiled.binds.items()
        if not bind.required and bind.callable is None
    }
    return Prepared(str(compiled), keys, processors, positional, fixed)


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    prepared: Prepared
    row: Callable[[Sequence[Any]], Any]  # a named tuple's _make: rows read by column name
    processors: tuple[tuple[int, Processor], ...]


@lru_cache(maxsize=1024)
def prepare_query(statement: Select[Any], dialect: Dialect) -> PreparedQuery:
    columns = list(statement.selected_columns)
    names = [str(column.key) for column in columns]
    row = namedtuple("Row", names)  # type: ignore[misc]  # the names are known only here
    processors = tuple(
        (i, processor)
        for i, column in enumerate(columns)
        if (processor := _result_processor(column.type, dialect))
    )
    return PreparedQuery(prepare(statement, dialect), row._make, processors)


def _result_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    # A float column (not as Decimal) needs no conversion: both drivers hand float8/REAL back as
    # Python floats. psycopg's numeric processor wants the column's wire type to decide, which
    # exists only once a cursor has run, so it is not asked.
    if isinstance(column_type, Float) and not column_type.asdecimal:
        return None
    impl = column_type.dialect_impl(dialect)
    loads = getattr(dialect, "_json_deserializer", None)
    if isinstance(impl, JSON) and dialect.name == "sqlite" and loads is not None:
        # SQLAlchemy's own processor wraps the deserializer in two more calls per value; a
        # page of versions has six JSON columns a row.
        return partial(_json_or_none, loads)
    return cast(Processor | None, impl.result_processor(dialect, None))


def _json_or_none(loads: Processor, value: Any) -> Any:
    return None if value is None else loads(value)


@lru_cache(maxsize=256)
def _insert(table: Table) -> ClauseElement:
    return insert(table)


def _memoised(processor: Processor) -> Processor:
    """Convert each distinct time once: every row of a transaction carries the same one."""
    seen: dict[datetime, Any] = {}

    def process(value: Any) -> Any:
        if type(value) is not datetime:
            return processor(value)
        if value not in seen:
            seen[value] = processor(value)
        return seen[value]

    return process


@lru_cache(maxsize=1024)
def _picker(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function returning the values of ``keys`` in order (KeyError if one is absent)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda row: tuple([row[k] for k in keys])


def _parameters(prepared: Prepared, rows: Sequence[dict[str, Any]]) -> list[Any]:
    if not prepared.positional:
        pairs = tuple(
            (key, _memoised(p) if p else None)
            for key, p in zip(prepared.keys, prepared.processors, strict=True)
        )
        fixed = prepared.fixed
        return [
            {k: p(row.get(k, fixed.get(k))) if p else row.get(k, fixed.get(k)) for k, p in pairs}
            for row in rows
        ]
    # Positional (SQLite): pick every value out in C, then convert only the few columns that
    # need it (JSON, times); rows lacking a key take the slow road: a value fixed in the
    # statement, else NULL.
    keys, fixed = prepared.keys, prepared.fixed
    pick = _picker(keys)
    convert = [(i, _memoised(p)) for i, p in enumerate(prepared.processors) if p]
    out: list[Any] = []
    for row in rows:
        try:
            values = pick(row)
        except KeyError:
            values = tuple([row.get(k, fixed.get(k)) for k in keys])
        if convert:
            converted = list(values)
            for i, p in convert:
                converted[i] = p(converted[i])
            out.append(converted)
        else:
            out.append(values)
    return out


def execute(
    conn: Connection, statement: ClauseElement, params: dict[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """Run one statement; return the first row of a query as a plain tuple (or None)."""
    prepared = prepare(statement, conn.dialect)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(prepared.sql, _parameters(prepared, [params or {}])[0])
        return tuple(cursor.fetchone() or ()) or None if cursor.description else None
    finally:
        cursor.close()


def fetch(conn: Reader, statement: Select[Any], params: dict[str, Any] | None = None) -> list[Any]:
    """Run a query built once with named parameters; rows are named tuples of its columns."""
    query = prepare_query(statement, conn.dialect)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(query.prepared.sql, _parameters(query.prepared, [params or {}])[0])
        raw = cursor.fetchall()
    finally:
        cursor.close()
    make, processors = query.row, query.processors
    if not processors or not raw:
        return [make(values) for values in raw]
    # Column by column: each conversion is mapped over a whole column in C, where a loop
    # over rows and then their converted columns ran in Python per value.
    columns: list[Any] = list(zip(*raw, strict=True))
    for i, processor in processors:
        columns[i] = map(processor, columns[i])
    return [make(values) for values in zip(*columns, strict=True)]


def execute_many(
    conn: Connection, statement: ClauseElement, rows: Sequence[dict[str, Any]]
) -> None:
    """Run one statement once per parameter row, in one driver call."""
    if not rows:
        return
    prepared = prepare(statement, conn.dialect)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(prepared.sql, _parameters(prepared, rows))
    finally:
        cursor.close()


def insert_values(
    conn: Connection, statement: ClauseElement, rows: Sequence[dict[str, Any]]
) -> None:
    """Run a one-row ``INSERT ... VALUES`` for all ``rows`` in a few multi-row statements.

    For rows written beside a busy event loop (the access log): SQLite's driver lets go of
    the GIL around every row of an ``executemany``, and each time the loop's thread took it
    the writer waited to get it back, which cost the loop's requests more than the rows'
    own work. Rows go in chunks of powers of two (64, 32, ..., 1, fewer for wide rows: SQLite
    builds older than 3.32 take 999 parameters at most), so the driver's statement cache
    holds at most seven texts of each statement. PostgreSQL runs ``executemany``: its calls
    are off the event loop already.
    """
    if not rows:
        return
    prepared = prepare(statement, conn.dialect)
    if not prepared.positional:
        execute_many(conn, statement, rows)
        return
    head, values, group = prepared.sql.partition(" VALUES ")
    if not values:
        raise ValueError(f"not a one-row INSERT ... VALUES statement: {prepared.sql}")
    parameters = _parameters(prepared, rows)
    widest = _MULTI_ROW_CHUNK
    while widest > 1 and widest * len(prepared.keys) > _SQLITE_OLDEST_PARAMETER_LIMIT:
        widest //= 2
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        start, size = 0, widest
        while start < len(parameters):
            while size > len(parameters) - start:
                size //= 2
            chunk = parameters[start : start + size]
            cursor.execute(
                head + values + ", ".join([group] * size), [v for row in chunk for v in row]
            )
            start += size
    finally:
        cursor.close()


_MULTI_ROW_CHUNK = 64
_SQLITE_OLDEST_PARAMETER_LIMIT = 999


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (absent keys are NULL; no Cairn table relies on column defaults)."""
    execute_many(conn, _insert(table), rows)


#: Statements with the parameter rows to run each with, as built by the store's modules.
Writes = list[tuple[ClauseElement, list[dict[str, Any]]]]
#: A statement and the parameter rows to run it with, as the driver takes them.
DriverBatch = tuple[str, list[Any]]


def driver_batches(dialect: Dialect, writes: Writes) -> list[DriverBatch]:
    """``(statement, rows)`` pairs compiled and converted for the driver, to run elsewhere
    (another process's connection) exactly as :func:`execute_many` would run them here."""
    out: list[DriverBatch] = []
    for statement, rows in writes:
        if rows:
            prepared = prepare(statement, dialect)
            out.append((prepared.sql, _parameters(prepared, rows)))
    return out


def inserting(table: Table) -> ClauseElement:
    """The insert statement :func:`insert_rows` runs for ``table``."""
    return _insert(table)
