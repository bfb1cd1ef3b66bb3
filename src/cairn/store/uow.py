"""The unit of work: one database transaction, the write lock, the events it appends.

Services own transactions (``with store.write(actor) as tx``); repositories never commit.
Database errors leave through here, translated by :mod:`cairn.store.errors`::

    with store.write("alice") as tx:
        tx.emit(EventDraft(EventType.TEAM_CREATED, "team:risk", {...}))
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from cairn.core.events import ACCESS_EVENTS, EventDraft, EventType
from cairn.store import eventlog
from cairn.store.access_stamp import stamp_for
from cairn.store.driver import Snapshot
from cairn.store.engine import WRITE_FLAG
from cairn.store.errors import translate
from cairn.store.projector import project, project_versions
from cairn.store.writer_turn import WriterTurn, turn_for

#: Arbitrary constant naming Cairn's write lock among PostgreSQL advisory locks.
_PG_WRITE_LOCK = 0x0CA1_2001
_MEMO_LIMIT = 100_000


def utc_now() -> datetime:
    return datetime.now(UTC)


class Tx:
    """A write transaction: read through ``conn``, change state only through :meth:`emit`."""

    def __init__(self, store: Store, conn: Connection, actor: str, at: datetime) -> None:
        self.store = store
        self.conn = conn
        self.actor = actor
        self.at = at
        self.drafts: list[EventDraft] = []
        self.learned: dict[Hashable, Any] = {}
        self.pending: list[dict[str, Any]] = []
        self.access_changed = False

    def emit(self, draft: EventDraft) -> None:
        """Record an event and apply it to the read tables at once."""
        self.flush()
        project(self.conn, str(draft.type), draft.payload, self.actor, self.at)
        self.drafts.append(draft)
        if draft.type in ACCESS_EVENTS:
            self.access_changed = True

    def emit_registration(self, draft: EventDraft) -> None:
        """Record a version registration, applied in bulk at :meth:`flush` or commit.

        Until then its rows are not visible to reads in this transaction, which the
        registration path does not need: it tracks counters and idempotency keys itself.
        """
        assert draft.type is EventType.VERSION_REGISTERED
        self.pending.append(draft.payload)
        self.drafts.append(draft)

    def flush(self) -> None:
        if self.pending:
            project_versions(self.conn, [(p, self.actor, self.at) for p in self.pending])
            self.pending.clear()


class Store:
    """The database behind a registry: hands out read connections and write transactions."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self.dialect = engine.dialect.name
        self._dbapi: Any = engine.dialect.loaded_dbapi
        # Facts that never change once committed (the key of a dataset version, say), so
        # lookups on the hot path can skip the database. Filled only after a commit, so a
        # rolled-back transaction cannot leave a phantom behind.
        self.immutable: dict[Hashable, Any] = {}
        # SQLite: writers queue on a turn shared by this process's threads and, through a
        # file lock, by other processes (see cairn.store.writer_turn); PostgreSQL queues on
        # its advisory lock.
        database = engine.url.database
        self._turn: WriterTurn | None = None
        if self.dialect == "sqlite":
            in_memory = not database or database == ":memory:"
            self._turn = WriterTurn(None) if in_memory else turn_for(Path(str(database)))
        self._writers: AbstractContextManager[Any] = self._turn or nullcontext()
        self.access_stamp = stamp_for(self.dialect, database)

    @contextmanager
    def writer_if_free(self) -> Iterator[bool]:
        """SQLite: take the writer turn if no other thread or process holds it (True), without
        waiting; writes in the block then never queue behind another writer.
        PostgreSQL: always False (its writers queue on the database, not here)."""
        turn = self._turn
        if turn is None or not turn.try_enter():
            yield False
            return
        try:
            yield True
        finally:
            turn.__exit__(None, None, None)

    def writer_turn(self) -> AbstractContextManager[Any]:
        """The writer turn, for writes made elsewhere on this process's behalf (a writer
        process): other writers queue behind it instead of meeting SQLite's lock on whatever
        thread they run on, the server's event loop included."""
        return self._writers

    def _access_changed(self, tx: Tx) -> None:
        if tx.access_changed and self.access_stamp is not None:
            self.access_stamp.bump()

    def remember(self, learned: dict[Hashable, Any]) -> None:
        if len(self.immutable) > _MEMO_LIMIT:
            self.immutable.clear()
        self.immutable.update(learned)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: every statement in it sees the same snapshot of the registry.

        Begun explicitly because reads on the hot path run on the driver's cursor, which
        SQLAlchemy's autobegin never sees (SQLite would run each statement on its own).
        """
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except (DBAPIError, self._dbapi.Error) as exc:
            raise translate(exc, self._dbapi) from exc

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A read transaction for statements run through :mod:`cairn.store.driver` only.

        The same snapshot as :meth:`read`, held on the pooled driver connection itself:
        SQLAlchemy's Connection and transaction objects and their events cost several times
        SQLite's own BEGIN and COMMIT, and a version read is little more than those.
        """
        try:
            pooled = self.engine.raw_connection()
            try:
                if self.dialect == "sqlite":
                    pooled.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
                yield Snapshot(self.engine.dialect, pooled)
                pooled.commit()
            finally:
                pooled.close()  # back to the pool, which rolls back whatever is left open
        except (DBAPIError, self._dbapi.Error) as exc:
            raise translate(exc, self._dbapi) from exc

    @contextmanager
    def write(self, actor: str) -> Iterator[Tx]:
        """A serialized write transaction whose events are appended to the log on success."""
        try:
            with self._writers, self.engine.connect() as conn:
                conn.info[WRITE_FLAG] = True
                try:
                    with conn.begin():
                        if self.dialect == "postgresql":
                            conn.execute(
                                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITE_LOCK}
                            )
                        tx = Tx(self, conn, actor, self.clock())
                        yield tx
                        tx.flush()
                        eventlog.append(conn, tx.drafts, actor, tx.at)
                        # Before the commit too: a check between the commit and the bump
                        # after it must not trust what it kept.
                        self._access_changed(tx)
                    self.remember(tx.learned)
                    self._access_changed(tx)
                finally:
                    conn.info.pop(WRITE_FLAG, None)
        # The hot path's direct statements raise the driver's own errors, not SQLAlchemy's.
        except (DBAPIError, self._dbapi.Error) as exc:
            raise translate(exc, self._dbapi) from exc

    @contextmanager
    def write_unlogged(self) -> Iterator[Connection]:
        """A transaction for state kept outside the event log (token use, the access log).

        It appends no events and, on PostgreSQL, skips the registry's write lock, so it never
        queues behind a registration; SQLite still begins IMMEDIATE, as all its writers must.
        """
        try:
            with self._writers, self.engine.connect() as conn:
                conn.info[WRITE_FLAG] = True
                try:
                    with conn.begin():
                        yield conn
                finally:
                    conn.info.pop(WRITE_FLAG, None)
        except (DBAPIError, self._dbapi.Error) as exc:
            raise translate(exc, self._dbapi) from exc

    def run_raw(self, statement: str, **params: Any) -> None:
        """Execute one statement outside the log: maintenance and tests only."""
        with self.engine.begin() as conn:
            conn.execute(text(statement), params)
