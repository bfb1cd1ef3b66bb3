"""Queries behind webhooks: subscriptions, the delivery log, and the workers' cursor and claims.

None of these tables is a projection of the event log (see ``tables.webhooks``); services write
them directly, subscriptions inside the transaction that records their event.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, case, delete, or_, select, update

from cairn.core.webhooks import (
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)
from cairn.store import tables as t

_w, _d, _a = t.webhooks.c, t.webhook_deliveries.c, t.webhook_attempts.c


def _subscriptions() -> Select[Any]:
    return (
        select(
            t.webhooks,
            t.teams.c.name.label("team"),
            t.models.c.name.label("model_name"),
        )
        .join(t.teams, t.teams.c.id == _w.team_id)
        .outerjoin(t.models, t.models.c.id == _w.model_id)
    )


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=str(row.id),
        team=row.team,
        model=f"model:{row.team}/{row.model_name}" if row.model_name else None,
        url=row.url,
        events=list(row.events),
        description=row.description,
        active=row.active,
        after_seq=row.after_seq,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revision=row.revision,
    )


def webhooks(
    conn: Connection,
    *,
    webhook_id: str | None = None,
    team_id: str | None = None,
    active_only: bool = False,
) -> list[Webhook]:
    query = _subscriptions().order_by(t.teams.c.name, _w.created_at, _w.id)
    if webhook_id is not None:
        query = query.where(_w.id == webhook_id)
    if team_id is not None:
        query = query.where(_w.team_id == team_id)
    if active_only:
        query = query.where(_w.active.is_(True))
    return [_webhook(row) for row in conn.execute(query)]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.webhooks.insert(), row)


def change(conn: Connection, webhook_id: str, at: datetime, values: dict[str, Any]) -> None:
    """Change a subscription's columns and bump its revision."""
    bumped = {**values, "updated_at": at, "revision": _w.revision + 1}
    conn.execute(update(t.webhooks).where(_w.id == webhook_id).values(bumped))


def team_of_webhook(conn: Connection, webhook_id: str) -> str | None:
    query = select(t.teams.c.name).join(t.webhooks, t.teams.c.id == _w.team_id)
    return conn.execute(query.where(_w.id == webhook_id)).scalar()


def team_of_delivery(conn: Connection, delivery_id: str) -> str | None:
    query = (
        select(t.teams.c.name)
        .join(t.webhooks, t.teams.c.id == _w.team_id)
        .join(t.webhook_deliveries, _d.webhook_id == _w.id)
    )
    return conn.execute(query.where(_d.id == delivery_id)).scalar()


def forget(conn: Connection, webhook_id: str) -> None:
    """Delete a subscription with its delivery log."""
    mine = select(_d.id).where(_d.webhook_id == webhook_id)
    conn.execute(delete(t.webhook_attempts).where(_a.delivery_id.in_(mine)))
    conn.execute(delete(t.webhook_deliveries).where(_d.webhook_id == webhook_id))
    conn.execute(delete(t.webhooks).where(_w.id == webhook_id))


# -- the delivery log -----------------------------------------------------------------------------
def _attempt(row: Row[Any]) -> DeliveryAttempt:
    return DeliveryAttempt(
        number=row.number,
        at=row.at,
        outcome=AttemptOutcome(row.outcome),
        status_code=row.status_code,
        error=row.error,
        duration_ms=row.duration_ms,
        retry_at=row.retry_at,
    )


def deliveries(
    conn: Connection,
    *,
    webhook_id: str | None = None,
    delivery_id: str | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """Deliveries, newest first, each with its attempts in order."""
    query = select(t.webhook_deliveries).order_by(_d.created_at.desc(), _d.id.desc()).limit(limit)
    if webhook_id is not None:
        query = query.where(_d.webhook_id == webhook_id)
    if delivery_id is not None:
        query = query.where(_d.id == delivery_id)
    if status is not None:
        query = query.where(_d.status == status)
    rows = conn.execute(query).all()
    attempts: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    if rows:
        ids = [row.id for row in rows]
        found = select(t.webhook_attempts).where(_a.delivery_id.in_(ids))
        for row in conn.execute(found.order_by(_a.delivery_id, _a.number)):
            attempts[str(row.delivery_id)].append(_attempt(row))
    return [
        WebhookDelivery(
            id=str(row.id),
            webhook=str(row.webhook_id),
            topic=row.topic,
            event_seq=row.event_seq,
            subject=row.subject,
            status=DeliveryStatus(row.status),
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
            finished_at=row.finished_at,
            attempts=attempts[str(row.id)],
        )
        for row in rows
    ]


def queue(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(t.webhook_deliveries.insert(), list(rows))


def requeue(conn: Connection, delivery_id: str, at: datetime) -> None:
    conn.execute(
        update(t.webhook_deliveries)
        .where(_d.id == delivery_id)
        .values(
            status=DeliveryStatus.PENDING,
            next_attempt_at=at,
            finished_at=None,
            lease_owner=None,
            lease_until=None,
        )
    )


# -- the workers' cursor --------------------------------------------------------------------------
def cursor(conn: Connection) -> int:
    return int(
        conn.execute(select(t.webhook_cursor.c.seq).where(t.webhook_cursor.c.id == 1)).one()[0]
    )


def advance(conn: Connection, seen: int, to: int) -> bool:
    """Move the cursor from ``seen`` to ``to``; False if another worker moved it first.

    The compare-and-set serialises workers on PostgreSQL without a lock held across the fan-out:
    the loser's UPDATE waits for the winner's commit, then matches no row.
    """
    c = t.webhook_cursor.c
    moved = conn.execute(update(t.webhook_cursor).where(c.id == 1, c.seq == seen).values(seq=to))
    return moved.rowcount == 1


def log_size(conn: Connection) -> int:
    return int(conn.execute(select(t.log_state.c.size)).scalar_one())


def hold_log_end(conn: Connection) -> int:
    """The log's size, with the head row share-locked on PostgreSQL until the transaction ends.

    Every append updates that row, so while it is held no event (and no subscription, which
    commits with its event) can commit: what this transaction reads next is one consistent
    view. SQLite's writers are serialised already.
    """
    query = select(t.log_state.c.size).with_for_update(read=True)
    return int(conn.execute(query).scalar_one())


def events_between(conn: Connection, after: int, upto: int, *, limit: int) -> list[Row[Any]]:
    e = t.events.c
    query = select(e.seq, e.type, e.subject, e.actor, e.at, e.payload, e.leaf_hash, e.root_hash)
    query = query.where(e.seq > after, e.seq <= upto).order_by(e.seq).limit(limit)
    return list(conn.execute(query))


def event_rows(conn: Connection, seqs: Iterable[int]) -> dict[int, Any]:
    e = t.events.c
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    query = select(e.seq, e.type, e.subject, e.actor, e.at, e.payload, e.leaf_hash, e.root_hash)
    return {row.seq: row for row in conn.execute(query.where(e.seq.in_(wanted)))}


def deployment_models(conn: Connection, deployment_ids: Iterable[str]) -> dict[str, str]:
    """``team/name`` of the model each deployment serves a version of."""
    ids = sorted(set(deployment_ids))
    if not ids:
        return {}
    query = (
        select(t.deployments.c.id, t.teams.c.name, t.models.c.name)
        .join(t.model_versions, t.model_versions.c.id == t.deployments.c.version_id)
        .join(t.models, t.models.c.id == t.model_versions.c.model_id)
        .join(t.teams, t.teams.c.id == t.models.c.team_id)
        .where(t.deployments.c.id.in_(ids))
    )
    return {str(row[0]): f"{row[1]}/{row[2]}" for row in conn.execute(query)}


# -- claims ---------------------------------------------------------------------------------------
def due(conn: Connection, now: datetime, *, limit: int) -> list[str]:
    """Pending deliveries of active subscriptions whose time has come and that no live claim
    holds, soonest first."""
    query = (
        select(_d.id)
        .join(t.webhooks, _w.id == _d.webhook_id)
        .where(
            _d.status == DeliveryStatus.PENDING,
            _d.next_attempt_at <= now,
            or_(_d.lease_until.is_(None), _d.lease_until < now),
            _w.active.is_(True),
        )
        .order_by(_d.next_attempt_at, _d.id)
        .limit(limit)
    )
    return [str(found) for found in conn.execute(query).scalars()]


def claim(
    conn: Connection, ids: Sequence[str], owner: str, now: datetime, until: datetime
) -> list[str]:
    """Take those of ``ids`` that no other worker holds for ``owner`` until ``until``.

    One conditional UPDATE for the batch: on PostgreSQL a worker that finds a row locked by
    another's claim waits, then sees the lease taken and skips it.
    """
    if not ids:
        return []
    conn.execute(
        update(t.webhook_deliveries)
        .where(
            _d.id.in_(list(ids)),
            _d.status == DeliveryStatus.PENDING,
            or_(_d.lease_until.is_(None), _d.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=until)
    )
    mine = select(_d.id).where(_d.id.in_(list(ids)), _d.lease_owner == owner)
    return [str(found) for found in conn.execute(mine.where(_d.lease_until == until)).scalars()]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery with what sending it needs."""

    id: str
    webhook_id: str
    topic: str
    event_seq: int | None
    attempts: int
    url: str
    secret: str
    created_at: datetime
    team: str
    events: list[str]


def claimed(conn: Connection, ids: Sequence[str]) -> list[Claimed]:
    if not ids:
        return []
    query = (
        select(
            _d.id,
            _d.webhook_id,
            _d.topic,
            _d.event_seq,
            _d.attempts,
            _d.created_at,
            _w.url,
            _w.secret,
            _w.events,
            t.teams.c.name.label("team"),
        )
        .join(t.webhooks, _w.id == _d.webhook_id)
        .join(t.teams, t.teams.c.id == _w.team_id)
        .where(_d.id.in_(list(ids)))
    )
    return [
        Claimed(
            id=str(row.id),
            webhook_id=str(row.webhook_id),
            topic=row.topic,
            event_seq=row.event_seq,
            attempts=row.attempts,
            url=row.url,
            secret=row.secret,
            created_at=row.created_at,
            team=row.team,
            events=list(row.events),
        )
        for row in conn.execute(query)
    ]


_RECORD_ATTEMPT = t.webhook_attempts.insert()
_MOVE_ON = (
    update(t.webhook_deliveries)
    .where(_d.id == bindparam("_id"))
    .values(
        status=bindparam("_status"),
        attempts=_d.attempts + 1,
        next_attempt_at=bindparam("_next"),
        finished_at=bindparam("_finished"),
        # The lease ends if it is still this worker's: one that ran out and was taken over
        # belongs to the worker that took it.
        lease_owner=case((_d.lease_owner == bindparam("_owner"), None), else_=_d.lease_owner),
        lease_until=case((_d.lease_owner == bindparam("_owner"), None), else_=_d.lease_until),
    )
)


def record(
    conn: Connection,
    results: Sequence[tuple[Claimed, DeliveryAttempt, DeliveryStatus]],
    *,
    owner: str,
) -> None:
    """Append each attempt and move its delivery on, in two statements for the batch."""
    if not results:
        return
    attempts = [
        {
            "delivery_id": delivery.id,
            **attempt.model_dump(exclude={"outcome"}),
            "outcome": str(attempt.outcome),
        }
        for delivery, attempt, _ in results
    ]
    moves = [
        {
            "_id": delivery.id,
            "_status": str(status),
            "_next": attempt.retry_at,
            "_finished": attempt.at if status is not DeliveryStatus.PENDING else None,
            "_owner": owner,
        }
        for delivery, attempt, status in results
    ]
    conn.execute(_RECORD_ATTEMPT, attempts)
    conn.execute(_MOVE_ON, moves)


def payload_of(row: Row[Any]) -> dict[str, Any]:
    return dict(json.loads(row.payload))
