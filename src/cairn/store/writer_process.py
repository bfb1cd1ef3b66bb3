"""A second process that writes prepared batches into a SQLite registry.

A bulk import is CPU-bound on both sides of the database call: Python builds, encodes and
hashes a batch, then SQLite inserts it and commits. A thread cannot take the second half: the
sqlite3 module releases the interpreter lock for each row it steps and takes it back after,
so a writer thread would wait for a busy preparing thread once per row. A process has its own
interpreter, so the import prepares batch N+1 while this process writes batch N, on the
second core.

The process knows nothing of Cairn's schema. It receives, per batch, a guard (a query whose
first value must equal what the batch was prepared against: the log's size) and the compiled
statements with their driver-ready rows; it runs them in one ``BEGIN IMMEDIATE`` transaction
and answers ``ok``, ``stale`` (another writer got in first: nothing was written) or the
database's error. It is started as ``python -m cairn.store.writer_process DB``, not through
multiprocessing, so that the importing program's own ``__main__`` is never run again in it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
import subprocess
import sys
from typing import IO, Any

from cairn.store.pragmas import SQLITE_PRAGMAS

#: (guard query, value its first column must have, [(sql, rows), ...])
Batch = tuple[str, Any, list[tuple[str, list[Any]]]]


class Stale(Exception):
    """The registry changed after the batch was prepared; nothing of it was written."""


def _write(db: sqlite3.Connection, batch: Batch) -> tuple[str, Any]:
    guard, expected, statements = batch
    db.execute("BEGIN IMMEDIATE")
    try:
        found = db.execute(guard).fetchone()[0]
        if found != expected:
            db.execute("ROLLBACK")
            return ("stale", found)
        for sql, rows in statements:
            db.executemany(sql, rows)
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        return ("error", (type(exc).__name__, str(exc)))
    return ("ok", None)


def serve(path: str, inbox: IO[bytes], outbox: IO[bytes]) -> None:
    """Write the batches read from ``inbox`` until it ends; answer each on ``outbox``."""
    db = sqlite3.connect(path, isolation_level=None, timeout=60)
    for pragma in SQLITE_PRAGMAS:
        db.execute(pragma)
    try:
        while True:
            try:
                # The pipe's other end is the process that started this one: trusted.
                batch = pickle.load(inbox)  # noqa: S301
            except EOFError:
                return
            pickle.dump(_write(db, batch), outbox, protocol=pickle.HIGHEST_PROTOCOL)
            outbox.flush()
    finally:
        db.close()


class WriterProcess:
    """The importing side's handle on a writer process: one batch in flight at a time."""

    def __init__(self, path: str) -> None:
        # The child finds Cairn where this process found it, even if that was a path added
        # at run time (a notebook, a test runner) rather than an installed package.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        # No shell; the arguments are this interpreter, this module and the database path.
        self._process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "cairn.store.writer_process", path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._in_flight = False

    def submit(self, batch: Batch) -> None:
        assert not self._in_flight, "settle the batch in flight before submitting another"
        inbox = self._process.stdin
        assert inbox is not None
        try:
            pickle.dump(batch, inbox, protocol=pickle.HIGHEST_PROTOCOL)
            inbox.flush()
        except OSError as exc:
            raise sqlite3.OperationalError(f"the writer process stopped: {exc}") from None
        self._in_flight = True

    def settle(self) -> None:
        """Wait for the batch in flight; raise :class:`Stale` or the database's error."""
        assert self._in_flight, "no batch in flight"
        self._in_flight = False
        outbox = self._process.stdout
        assert outbox is not None
        try:
            outcome, detail = pickle.load(outbox)  # noqa: S301 (our own child's answer)
        except (EOFError, OSError, pickle.UnpicklingError):
            raise sqlite3.OperationalError(
                f"the writer process stopped (exit code {self._process.poll()})"
            ) from None
        if outcome == "stale":
            raise Stale(detail)
        if outcome == "error":
            name, message = detail
            error_type = getattr(sqlite3, name, sqlite3.DatabaseError)
            raise error_type(message)

    def close(self) -> None:
        """Let the process finish (it ends when its input does) and reap it."""
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):  # already gone: nothing left to tell it
                self._process.stdin.close()
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
