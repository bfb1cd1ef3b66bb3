"""What every service shares: the store, the acting user, fresh ids, reference resolution."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from sqlalchemy import bindparam, select

from cairn.core.errors import NotFound, ValidationFailed
from cairn.core.names import MAX_VERSION, Kind, parse_ref
from cairn.core.specs import within
from cairn.store import tables as t
from cairn.store.uow import Store, Tx

MAX_PAGE = 1000


class _IdClock:
    """UUIDv7 (RFC 9562) with a 12-bit counter, so ids made in one process are strictly ordered.

    Time-ordered keys land at the end of primary-key B-trees (random UUIDv4 keys scatter
    inserts over the whole index, which at a million versions costs more than the rows), and
    the order of ids minted in one registration is the order in which it made them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._millis = 0
        self._counter = 0

    def next(self) -> str:
        with self._lock:
            millis = time.time_ns() // 1_000_000
            if millis > self._millis:
                self._millis, self._counter = millis, int.from_bytes(os.urandom(1))
            else:
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    self._millis, self._counter = self._millis + 1, 0
            millis, counter = self._millis, self._counter
        tail = int.from_bytes(os.urandom(8)) & (2**62 - 1)
        value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | counter << 64 | 0x2 << 62 | tail
        # The canonical text form, formatted here: uuid.UUID costs twice as much per id.
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_id = _IdClock().next


def page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"limit {limit} is out of range", field="limit", rule="range", hint=f"1..{MAX_PAGE}"
        )
    return limit


#: Largest sequence number (events, access records): a signed 64-bit integer.
MAX_SEQUENCE = 2**63 - 1


def page_cursor(after: int, maximum: int = MAX_VERSION) -> int:
    """A page cursor over numbers (versions by default): the last one seen, 0 to begin."""
    hint = f"0 for the first page, else the last number seen (at most {maximum})"
    return within(after, 0, maximum, what="after", field="after", hint=hint)


class Service:
    def __init__(self, store: Store, actor: str) -> None:
        self.store = store
        self.actor = actor


_DATASET_VERSION = (
    select(t.dataset_versions.c.id, t.dataset_versions.c.digest)
    .join(t.datasets, t.datasets.c.id == t.dataset_versions.c.dataset_id)
    .join(t.teams, t.teams.c.id == t.datasets.c.team_id)
    .where(
        t.teams.c.name == bindparam("team"),
        t.datasets.c.name == bindparam("name"),
        t.dataset_versions.c.version == bindparam("version"),
    )
)


_RUN = (
    select(t.runs.c.id)
    .join(t.teams, t.teams.c.id == t.runs.c.team_id)
    .where(t.teams.c.name == bindparam("team"), t.runs.c.name == bindparam("name"))
)


def run_id(tx: Tx, raw: str) -> str:
    """The surrogate key of ``run:team/name``; remembered after commit, as runs never move."""
    ref = parse_ref(raw, kind=Kind.RUN, versioned=False)
    key = ("run", ref)
    found = tx.store.immutable.get(key) or tx.learned.get(key)
    if found is None:
        found = tx.conn.execute(_RUN, {"team": ref.namespace, "name": ref.name}).scalar()
        if found is None:
            raise NotFound(f"{ref} does not exist", id=str(ref), hint="see 'cairn run list'")
        tx.learned[key] = found
    return str(found)


def dataset_versions(tx: Tx, refs: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """``dataset:team/name@n`` -> (surrogate key, digest); NotFound names the first missing.

    A dataset version never changes once written, so answers are remembered after commit.
    """
    out: dict[str, tuple[str, str | None]] = {}
    for raw in refs:
        ref = parse_ref(raw, kind=Kind.DATASET, versioned=True)
        key = ("dataset-version", ref)
        found = tx.store.immutable.get(key) or tx.learned.get(key)
        if found is None:
            row = tx.conn.execute(
                _DATASET_VERSION, {"team": ref.namespace, "name": ref.name, "version": ref.version}
            ).first()
            if row is None:
                raise NotFound(
                    f"{ref} does not exist",
                    id=str(ref),
                    hint=f"list versions of {ref.unversioned()}",
                )
            found = tx.learned[key] = (row.id, row.digest)
        out[raw] = found
    return out
