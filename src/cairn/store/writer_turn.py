"""The queue of writers to one SQLite file, across threads and processes.

SQLite lets one writer in at a time. One that finds the database locked sleeps and retries in
its busy handler, with sleeps growing from 1 ms to 100 ms, so when server workers in several
processes write at once, much of their waiting is sleeping past the moment the lock came free
(two workers registering: 615/s with p99 136 ms; 721–739/s with p99 43–46 ms with this). Here
the threads of a process queue on a lock, and processes on an exclusive ``flock`` of a file
beside the database, retried every 0.05 to 0.25 ms (a cap of 2 ms gave 524–530/s with p99
86–98 ms) for at most a minute (SQLite's own busy timeout), so that a stuck writer elsewhere
ends in an error rather than a hang (a blocking ``flock`` cannot time out). SQLite's locking
still decides; this only orders who asks. A process that cannot create the lock file (a
read-only folder) or has no ``flock`` (Windows) falls back to SQLite's busy handler.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType

from cairn.core.errors import StorageUnavailable

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]


_FIRST_PAUSE_S = 0.00005
_LONGEST_PAUSE_S = 0.00025
_PATIENCE_S = 60.0


class WriterTurn:
    """Re-entrant within a thread; the file lock is held while any level is."""

    def __init__(self, lock_file: Path | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._path = lock_file if fcntl is not None else None
        self._fd: int | None = None
        # The file is closed with the last registry on it (see turn_for).
        self._opened: list[int] = []
        weakref.finalize(self, _close, self._opened)

    def __enter__(self) -> WriterTurn:
        self._lock.acquire()
        try:
            if self._depth == 0:
                self._lock_file(wait=True)
        except BaseException:
            self._lock.release()
            raise
        self._depth += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def try_enter(self) -> bool:
        """Take the turn if no thread or process holds it, without waiting; True if taken
        (then leave it with ``__exit__``)."""
        if not self._lock.acquire(blocking=False):
            return False
        if self._depth == 0 and not self._lock_file(wait=False):
            self._lock.release()
            return False
        self._depth += 1
        return True

    def _lock_file(self, *, wait: bool) -> bool:
        fd = self._file()
        if fd is None:
            return True
        pause, deadline = _FIRST_PAUSE_S, time.monotonic() + _PATIENCE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not wait:
                    return False
            if time.monotonic() > deadline:
                raise StorageUnavailable(
                    "another process has been writing to the registry for over a minute",
                    hint="retry later; if it persists, find the stuck writer",
                )
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)

    def _file(self) -> int | None:
        if self._fd is None and self._path is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                self._path = None  # cannot queue here: SQLite's busy handler will do
            else:
                self._opened.append(self._fd)
        return self._fd


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


_TURNS: weakref.WeakValueDictionary[Path, WriterTurn] = weakref.WeakValueDictionary()
_TURNS_LOCK = threading.Lock()


def turn_for(database: Path) -> WriterTurn:
    """The one turn of this process for ``database``: every registry opened on the same file
    shares it, so a thread already holding it never waits on its own file lock. It lives as
    long as a registry uses it, so a process opening many registries keeps no file open for
    those it has let go."""
    key = database.resolve()
    with _TURNS_LOCK:
        turn = _TURNS.get(key)
        if turn is None:
            turn = _TURNS[key] = WriterTurn(key.with_name(key.name + "-writers"))
        return turn
