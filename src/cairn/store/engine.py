"""Engines for the two supported databases, configured for the registry's write discipline.

SQLite: WAL, foreign keys, a generous busy timeout, and ``BEGIN IMMEDIATE`` for write
transactions so writers queue on the database lock instead of failing half-way.
PostgreSQL: psycopg 3; writers serialize on a transaction-scoped advisory lock (see ``uow``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from cairn.core.errors import StorageUnavailable, ValidationFailed
from cairn.store.pragmas import SQLITE_PRAGMAS

DB_FILENAME = "registry.db"
WRITE_FLAG = "cairn.write"


def resolve_url(target: str | Path) -> str:
    """Turn a folder, a database file or a URL into an SQLAlchemy URL."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith(("postgresql+psycopg://", "sqlite://")):
        return text
    if "://" in text:
        raise ValidationFailed(
            f"cannot open registry {text!r}",
            field="target",
            rule="scheme",
            hint="use a folder, sqlite:///path.db, postgresql://... or http(s)://...",
        )
    path = Path(text).expanduser()
    if path.suffix not in {".db", ".sqlite", ".sqlite3"}:
        path = path / DB_FILENAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageUnavailable(
            f"cannot create the registry folder {str(path.parent)!r}: {exc.strerror}",
            hint="choose a folder you can write to (CAIRN_HOME or --registry)",
        ) from None
    return f"sqlite:///{path.resolve()}"


def sqlite_folder(url: str) -> Path | None:
    """The folder holding a SQLite registry's file; None for PostgreSQL or in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve().parent


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so that BEGIN IMMEDIATE is ours to emit.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    write = connection.info.get(WRITE_FLAG, False)
    # On the driver itself: exec_driver_sql costs more than SQLite's work on a whole read.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def _json_text(value: Any) -> str:
    # JSON columns on SQLite are text written per row on the registration path: orjson is five
    # times faster than json.dumps there. Documents reach it validated (string keys, finite
    # numbers), so both would write the same value.
    return orjson.dumps(value).decode("utf-8")


def make_engine(url: str) -> Engine:
    """Create an engine for a resolved URL (see :func:`resolve_url`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            json_serializer=_json_text,
            # Read back per row on every version read: orjson parses the same text to the same
            # values (it was written by orjson, with string keys and finite numbers) in a
            # third of the time json.loads takes.
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # JIT compiles a query whose estimated cost is high; walks and correlated checks look
    # expensive to the planner yet run in milliseconds, and compiling them took longer than
    # running them (bench/lineage.py: impact p50 105 -> 75 ms at a million versions).
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=40,
        connect_args={"options": "-c jit=off"},
    )
