"""Inserts for the hot path: compiled once per dialect, sent as plain driver parameters.

``conn.execute(insert(table), rows)`` re-processes every parameter through SQLAlchemy's
execution machinery; on registration that bookkeeping costs more than SQLite's own work.
Here the statement is compiled once, each value goes through the same bind processor
SQLAlchemy would use (JSON encoding, UTC normalisation), and the rows are handed to
``exec_driver_sql``, which still translates driver errors into SQLAlchemy's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert


@dataclass(frozen=True, slots=True)
class PreparedInsert:
    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


@lru_cache(maxsize=512)
def prepare(table: Table, dialect: Dialect) -> PreparedInsert:
    compiled = insert(table).compile(dialect=dialect)
    positional = compiled.positiontup is not None
    keys = tuple(compiled.positiontup) if positional else tuple(table.c.keys())  # type: ignore[arg-type]
    processors = tuple(
        table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys
    )
    return PreparedInsert(str(compiled), keys, processors, positional)


def _memoised(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Convert each distinct time once: every row of a transaction carries the same one."""
    seen: dict[datetime, Any] = {}

    def process(value: Any) -> Any:
        if type(value) is not datetime:
            return processor(value)
        if value not in seen:
            seen[value] = processor(value)
        return seen[value]

    return process


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (absent keys are NULL; no Cairn table relies on column defaults)."""
    if not rows:
        return
    prepared = prepare(table, conn.dialect)
    pairs = tuple(
        (key, _memoised(processor) if processor else None)
        for key, processor in zip(prepared.keys, prepared.processors, strict=True)
    )
    if prepared.positional:
        params: list[Any] = [
            tuple([p(row.get(k)) if p else row.get(k) for k, p in pairs]) for row in rows
        ]
    else:
        params = [{k: p(row.get(k)) if p else row.get(k) for k, p in pairs} for row in rows]
    conn.exec_driver_sql(prepared.sql, params if len(params) > 1 else params[0])
