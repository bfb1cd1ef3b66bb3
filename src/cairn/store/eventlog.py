"""The append-only event log: sequence numbers, Merkle leaves, the frontier and the hash chain.

Appends happen only inside a write transaction that already holds the registry's write lock,
so the state row read here is the true head and sequence numbers come out gapless.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, union_all, update

from cairn.core.canonical import canonical_json, holds_nul, nul_refused
from cairn.core.entities import Event, LogHead, LogProblem, LogReport
from cairn.core.events import EventDraft, encode_event, format_time, parse_time
from cairn.core.merkle import GENESIS_CHAIN, Frontier, chain_hash, leaf_hash
from cairn.store import driver
from cairn.store.tables import events, log_state

_CHECK_BATCH = 5_000
_READ_HEAD = select(log_state.c.size, log_state.c.frontier, log_state.c.chain_hash)
_ADVANCE_HEAD = update(log_state).values(
    size=bindparam("size"),
    frontier=bindparam("frontier"),
    chain_hash=bindparam("chain_hash"),
    root_hash=bindparam("root_hash"),
)


def head(conn: Connection) -> LogHead:
    row = conn.execute(select(log_state)).one()
    return LogHead(size=row.size, root_hash=row.root_hash, chain_hash=row.chain_hash)


@dataclass(frozen=True, slots=True)
class LogState:
    """Where the log ends: its size, Merkle frontier and last chain hash."""

    frontier: Frontier
    chain: bytes

    @property
    def size(self) -> int:
        return self.frontier.size


def state(conn: Connection) -> LogState:
    """The log's end as this transaction sees it."""
    row = driver.execute(conn, _READ_HEAD)
    assert row is not None, "the log_state row is created by the first migration"
    size, encoded_frontier, chain_hex = row
    return LogState(Frontier.decode(size, encoded_frontier), bytes.fromhex(chain_hex))


def encode(
    drafts: Sequence[EventDraft], actor: str, at: datetime, start: LogState
) -> tuple[list[dict[str, Any]], LogState]:
    """The event rows ``drafts`` become when appended after ``start``, and the log's new end."""
    frontier, chain = start.frontier, start.chain
    rows = []
    when = format_time(at)
    for offset, draft in enumerate(drafts):
        seq = start.size + 1 + offset
        payload = canonical_json(draft.payload)
        if holds_nul(payload):
            raise nul_refused()
        encoded = encode_event(
            seq, str(draft.type), draft.subject, actor, when, draft.schema_version, payload
        )
        leaf = leaf_hash(encoded)
        frontier = frontier.append(leaf)
        chain = chain_hash(chain, leaf)
        rows.append(
            {
                "seq": seq,
                "type": str(draft.type),
                "subject": draft.subject,
                "actor": actor,
                "at": when,
                "schema_version": draft.schema_version,
                "payload": payload.decode("utf-8"),
                "leaf_hash": leaf.hex(),
                "chain_hash": chain.hex(),
                "root_hash": frontier.root().hex(),
            }
        )
    return rows, LogState(frontier, chain)


def writes(rows: list[dict[str, Any]], end: LogState) -> driver.Writes:
    """The statements that store ``rows`` (from :func:`encode`) and advance the head to ``end``."""
    head = {
        "size": end.size,
        "frontier": end.frontier.encode(),
        "chain_hash": end.chain.hex(),
        "root_hash": rows[-1]["root_hash"],
    }
    return [(driver.inserting(events), rows), (_ADVANCE_HEAD, [head])]


def append(
    conn: Connection, drafts: Sequence[EventDraft], actor: str, at: datetime
) -> list[dict[str, Any]]:
    """Append ``drafts`` in order; return the stored rows."""
    if not drafts:
        return []
    rows, end = encode(drafts, actor, at, state(conn))
    for statement, params in writes(rows, end):
        driver.execute_many(conn, statement, params)
    return rows


def to_event(row: Any) -> Event:
    return Event(
        seq=row.seq,
        type=row.type,
        subject=row.subject,
        actor=row.actor,
        at=parse_time(row.at),
        schema_version=row.schema_version,
        payload=json.loads(row.payload),
        leaf_hash=row.leaf_hash,
        chain_hash=row.chain_hash,
        root_hash=row.root_hash,
    )


def history(conn: Connection, subject: str, *, limit: int, after: int = 0) -> list[Event]:
    """Events about ``subject`` and, for an unversioned subject, about its versions.

    Two index range scans joined by UNION ALL: an ``OR`` of the two makes SQLite scan the log.
    """
    exact = select(events).where(events.c.subject == subject, events.c.seq > after)
    queries = [exact]
    if "@" not in subject:
        queries.append(
            select(events).where(
                events.c.subject > subject + "@",
                events.c.subject < subject + "@\uffff",
                events.c.seq > after,
            )
        )
    combined = union_all(*queries).subquery()
    query = select(combined).order_by(combined.c.seq).limit(limit)
    return [to_event(row) for row in conn.execute(query)]


def replay(conn: Connection) -> Iterator[Any]:
    """Every event row in sequence order, fetched in batches."""
    last = 0
    while True:
        batch = conn.execute(
            select(events).where(events.c.seq > last).order_by(events.c.seq).limit(_CHECK_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def _problem_with(row: Any, expected_seq: int, frontier: Frontier, chain: bytes) -> str | None:
    if row.seq != expected_seq:
        return f"sequence gap: expected {expected_seq}, found {row.seq}"
    try:
        payload = json.loads(row.payload)
        encoded = encode_event(
            row.seq,
            row.type,
            row.subject,
            row.actor,
            parse_time(row.at),
            row.schema_version,
            payload,
        )
    except (ValueError, TypeError) as exc:
        return f"content cannot be decoded: {exc}"
    if canonical_json(payload).decode("utf-8") != row.payload:
        return "payload is not in its canonical form: it was edited after it was written"
    leaf = leaf_hash(encoded)
    if leaf.hex() != row.leaf_hash:
        return "content does not match its stored leaf hash"
    if chain_hash(chain, leaf).hex() != row.chain_hash:
        return "stored chain hash does not follow from the previous event"
    if frontier.append(leaf).root().hex() != row.root_hash:
        return "stored tree root does not match the recomputed Merkle root"
    return None


def check(conn: Connection) -> LogReport:
    """Recompute every leaf, chain link and root; report the first event that does not match."""
    frontier, chain, checked = Frontier.empty(), GENESIS_CHAIN, 0
    for row in replay(conn):
        problem = _problem_with(row, checked + 1, frontier, chain)
        if problem:
            return LogReport(
                checked=checked,
                head=head(conn),
                first_problem=LogProblem(seq=row.seq, problem=problem),
            )
        leaf = bytes.fromhex(row.leaf_hash)
        frontier, chain, checked = frontier.append(leaf), chain_hash(chain, leaf), checked + 1
    state = head(conn)
    if (state.size, state.root_hash, state.chain_hash) != (
        checked,
        frontier.root().hex(),
        chain.hex(),
    ):
        mismatch = LogProblem(seq=checked, problem="log head does not match the recomputed log")
        return LogReport(checked=checked, head=state, first_problem=mismatch)
    return LogReport(checked=checked, head=state)
