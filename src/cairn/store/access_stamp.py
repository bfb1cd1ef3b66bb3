"""A value that changes whenever who may do what changes in one registry database.

A server checks a token on every request: a read transaction, two queries and a keyed hash,
a sixth of the CPU time of a registration or a version read. A process may keep what it
verified and skip that work while this stamp is unchanged. Every write that changes
principals, roles, tokens or teams changes the stamp, before its commit and again after
(:meth:`cairn.store.uow.Store.write`), so a revocation is in force for every process from the
moment the call that made it returns.

SQLite: eight bytes in a file beside the database, mapped into memory by every process using
it, so that reading the stamp costs no system call; all processes writing one SQLite file are
on one machine. An in-memory database has one process: a counter. PostgreSQL may be served
from many machines that share no file: no stamp, and tokens are checked in the database on
every request.
"""

from __future__ import annotations

import itertools
import mmap
import os
import threading
import weakref
from pathlib import Path
from typing import Protocol

_SIZE = 8


class AccessStamp(Protocol):
    def read(self) -> bytes: ...

    def bump(self) -> None: ...


class SharedStamp:
    """The stamp of a SQLite file, shared through a memory-mapped file beside it."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.ftruncate(fd, _SIZE)  # zero-filled: an unchanged stamp, until a bump
            self._map = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)  # the mapping keeps the file
        weakref.finalize(self, self._map.close)

    def read(self) -> bytes:
        return self._map[:_SIZE]

    def bump(self) -> None:
        # Any new value will do, and a reader that catches half a write sees a value that is
        # new too: either way it stops trusting what it kept.
        self._map[:_SIZE] = os.urandom(_SIZE)


class LocalStamp:
    """The stamp of an in-memory database: only this process can change it."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._value = bytes(_SIZE)
        self._lock = threading.Lock()

    def read(self) -> bytes:
        return self._value

    def bump(self) -> None:
        with self._lock:
            self._value = next(self._counter).to_bytes(_SIZE, "big")


def stamp_for(dialect: str, database: str | None) -> AccessStamp | None:
    """The stamp for a database, or None where processes cannot share one (or the folder is
    read-only): then nothing is cached and every token is checked in the database."""
    if dialect != "sqlite":
        return None
    if not database or database == ":memory:":
        return LocalStamp()
    path = Path(database).resolve()
    try:
        return SharedStamp(path.with_name(path.name + "-access"))
    except OSError:
        return None
