"""Batches prepared outside a write transaction, written by a writer process (SQLite).

See :mod:`cairn.store.writer_process` for why a process. Each batch is prepared against a
known end of the log and guarded by it: the writer runs the batch only if the log still ends
there, so a batch prepared before another writer committed is refused whole (``settle`` says
False) and the caller prepares it again.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from cairn.store import driver
from cairn.store.errors import translate
from cairn.store.eventlog import LogState
from cairn.store.tables import log_state
from cairn.store.uow import Store
from cairn.store.writer_process import Stale, WriterProcess

_LOG_SIZE = select(log_state.c.size)


class BulkWriter:
    """Writes one prepared batch at a time in a writer process, while the caller prepares."""

    def __init__(self, store: Store, path: str) -> None:
        self._dialect = store.engine.dialect
        self._guard = driver.prepare(_LOG_SIZE, self._dialect).sql
        try:
            self._process = WriterProcess(path)
        except OSError as exc:
            raise translate(sqlite3.OperationalError(str(exc)), sqlite3) from exc

    def submit(self, start: LogState, writes: driver.Writes) -> None:
        """Start writing ``writes``, prepared against a log that ends at ``start``."""
        batches = driver.driver_batches(self._dialect, writes)
        try:
            self._process.submit((self._guard, start.size, batches))
        except sqlite3.Error as exc:
            raise translate(exc, sqlite3) from exc

    def settle(self) -> bool:
        """Wait for the batch in flight: True once committed, False if it was refused as stale."""
        try:
            self._process.settle()
        except Stale:
            return False
        except sqlite3.Error as exc:
            raise translate(exc, sqlite3) from exc
        return True

    def close(self) -> None:
        self._process.close()


def open_bulk_writer(store: Store) -> BulkWriter | None:
    """A writer process for ``store``, or None where one cannot help: PostgreSQL already writes
    in its own server process, and an in-memory SQLite database is private to this one."""
    url = store.engine.url
    if store.dialect != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return BulkWriter(store, url.database)
