"""Bulk registration: a stream of version specs, committed batch by batch.

Nothing is assembled for the caller per version. A failing record stops the import: its batch
is not written, earlier batches stay, and the error says which record failed and how many
were registered. Records with idempotency keys make a re-run resume where it stopped.

On a SQLite file, an import of more than one batch runs as a pipeline over two processes:
this one prepares batch N+1 (numbers, payloads, canonical encoding, hashes, rows) against the
state batch N will leave, while a writer process (:mod:`cairn.store.bulk`) writes batch N.
Each batch is guarded by the end of the log it was prepared against; if another writer
committed in between, the writer refuses it and it is registered here, in an ordinary write
transaction, from the registry's state as it now is. The first batch is always written here,
so a small import never starts a process.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, NoReturn

from cairn.core.entities import ImportReport
from cairn.core.errors import CairnError
from cairn.core.memory import cyclic_gc_paused
from cairn.core.specs import VersionSpec, import_batch_size
from cairn.services.registration import Registration
from cairn.store import eventlog
from cairn.store.bulk import BulkWriter, open_bulk_writer
from cairn.store.driver import Writes
from cairn.store.eventlog import LogState
from cairn.store.projector import version_writes
from cairn.store.uow import Store, Tx

Progress = Callable[[int], None]


@dataclass(slots=True)
class _Staged:
    """A batch prepared outside a write transaction, and the state it leaves behind."""

    specs: list[VersionSpec]
    fresh: int
    start: LogState
    end: LogState
    writes: Writes
    registration: Registration
    learned: dict[Any, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    records: int = 0
    registered: int = 0
    batches: int = 0


class VersionImport:
    """One import: the batches written so far, the one in flight, the one being prepared."""

    def __init__(self, store: Store, actor: str, batch_size: int, progress: Progress | None):
        self.store = store
        self.actor = actor
        self.batch_size = import_batch_size(batch_size)
        self.progress = progress
        self.tally = _Tally()
        self.writer: BulkWriter | None = None
        self.in_flight: _Staged | None = None
        # Held from a batch's submission until it settles, as a write transaction would be.
        self.turn = ExitStack()

    def run(self, specs: Iterable[VersionSpec]) -> ImportReport:
        records = iter(specs)
        try:
            self._run(records)
        finally:
            if self.writer is not None:
                self.writer.close()  # a batch still in flight is written before this returns
            self.turn.close()  # held only if the import was interrupted with a batch in flight
        tally = self.tally
        return ImportReport(
            records=tally.records,
            registered=tally.registered,
            unchanged=tally.records - tally.registered,
            batches=tally.batches,
        )

    def _run(self, records: Iterator[VersionSpec]) -> None:
        carried: _Staged | None = None
        while True:
            with cyclic_gc_paused():
                batch: list[VersionSpec] = []
                try:
                    _gather(records, batch, self.batch_size)
                except CairnError as exc:
                    self._fail_at(exc, len(batch))
                if not batch:
                    break
                if self.tally.batches == 0 and self.in_flight is None:
                    self._write_here(batch)  # most imports are one batch: no process for them
                    continue
                if self.writer is None and self.in_flight is None:
                    self.writer = open_bulk_writer(self.store)
                if self.writer is None:
                    self._write_here(batch)
                    continue
                staged = self._stage_or_fail(batch, carried)
                if self.in_flight is not None and not self._settle():
                    staged = self._stage_or_fail(batch, None)  # prepared on a stale state
                self.turn.enter_context(self.store.writer_turn())
                try:
                    self.writer.submit(staged.start, staged.writes)
                except BaseException:
                    self.turn.close()
                    raise
                self.in_flight = carried = staged
        if self.in_flight is not None:
            self._settle()

    def _stage_or_fail(self, batch: list[VersionSpec], carried: _Staged | None) -> _Staged:
        offset = [0]
        try:
            return self._stage(batch, carried, offset)
        except CairnError as exc:
            self._fail_at(exc, offset[0])

    def _stage(self, batch: list[VersionSpec], carried: _Staged | None, at: list[int]) -> _Staged:
        """Prepare ``batch`` as if ``carried`` (the batch before it) were committed."""
        with self.store.read() as conn:
            tx = Tx(self.store, conn, self.actor, self.store.clock())
            registration = Registration(tx)
            if carried is not None:
                registration.resume(carried.registration)
            fresh = _record_all(registration, batch, at)
            start = carried.end if carried is not None else eventlog.state(conn)
            writes = version_writes(conn, [(payload, self.actor, tx.at) for payload in tx.pending])
        rows, end = eventlog.encode(tx.drafts, self.actor, tx.at, start)
        if rows:
            writes += eventlog.writes(rows, end)
        return _Staged(batch, fresh, start, end, writes, registration, tx.learned)

    def _settle(self) -> bool:
        """Wait for the batch in flight; False if it was stale and had to be written here."""
        staged, self.in_flight = self.in_flight, None
        assert staged is not None and self.writer is not None
        try:
            written = self.writer.settle()
        except CairnError as exc:
            raise self._located(exc, self.tally.records) from None
        finally:
            self.turn.close()
        if not written:
            self._write_here(staged.specs)
            return False
        self.store.remember(staged.learned)
        self._count(len(staged.specs), staged.fresh)
        return True

    def _write_here(self, batch: list[VersionSpec]) -> None:
        """Register ``batch`` in one write transaction of this process."""
        at = [0]
        try:
            with self.store.write(self.actor) as tx:
                fresh = _record_all(Registration(tx), batch, at)
        except CairnError as exc:
            raise self._located(exc, self.tally.records + at[0]) from None
        self._count(len(batch), fresh)

    def _count(self, records: int, fresh: int) -> None:
        self.tally.records += records
        self.tally.registered += fresh
        self.tally.batches += 1
        if self.progress is not None:
            self.progress(records)

    def _fail_at(self, exc: CairnError, offset: int) -> NoReturn:
        """Raise ``exc`` for the record at ``offset`` of the batch being gathered or prepared,
        once the batch in flight (which precedes it) is settled and counted."""
        if self.in_flight is not None:
            self._settle()
        raise self._located(exc, self.tally.records + offset) from None

    def _located(self, exc: CairnError, record: int) -> CairnError:
        """``exc`` as an import re-raises it: the same error, saying where the import stopped."""
        registered = self.tally.registered
        again = copy.copy(exc)
        again.message = (
            f"record {record}: {exc.message} ({registered} versions registered before it)"
        )
        again.args = (again.message,)
        again.details = {
            **exc.details,
            "record": record,
            "registered": registered,
            "problem": exc.message,
        }
        return again


def _record_all(registration: Registration, batch: list[VersionSpec], at: list[int]) -> int:
    """Record ``batch``; return how many were new. ``at[0]`` follows the record being recorded
    and ends at 0: a failure after the loop (encoding, commit) is the batch's, so it names the
    batch's first record."""
    registration.prefetch(spec.model for spec in batch)
    fresh = 0
    for offset, spec in enumerate(batch):
        at[0] = offset
        fresh += registration.record(spec)
    at[0] = 0
    return fresh


def _gather(records: Iterator[VersionSpec], batch: list[VersionSpec], size: int) -> None:
    """Fill ``batch`` with up to ``size`` records; a record that fails validation raises here."""
    for spec in records:
        batch.append(spec)
        if len(batch) == size:
            return
