"""The log as users see it: history of an entity, integrity check, rebuild of the read tables."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select

from cairn.core.entities import Event, LogHead, LogReport, RebuildReport
from cairn.core.errors import ValidationFailed
from cairn.core.events import parse_time
from cairn.core.names import Kind, parse_ref
from cairn.services.base import MAX_SEQUENCE, Service, page_cursor, page_size
from cairn.store import eventlog
from cairn.store.projector import project
from cairn.store.tables import READ_TABLES

_NAMESPACED = {Kind.MODEL, Kind.DATASET, Kind.FEATURE_VIEW, Kind.RUN}


def subject_of(raw: str) -> str:
    """Canonical subject string for an identifier (``kind:`` prefix required)."""
    if ":" not in raw:
        raise ValidationFailed(
            f"{raw!r} does not say what it names",
            field="id",
            rule="kind",
            hint="e.g. model:fraud/churn, model:fraud/churn@3, team:fraud, dataset:risk/data@2",
        )
    kind = raw.split(":", 1)[0]
    if kind in {k.value for k in _NAMESPACED} or kind in {Kind.TEAM, Kind.ENVIRONMENT}:
        return str(parse_ref(raw))
    return raw


class LogService(Service):
    def history(self, raw: str, *, limit: int = 100, after: int = 0) -> list[Event]:
        page = {"limit": page_size(limit), "after": page_cursor(after, MAX_SEQUENCE)}
        with self.store.read() as conn:
            return eventlog.history(conn, subject_of(raw), **page)

    def head(self) -> LogHead:
        with self.store.read() as conn:
            return eventlog.head(conn)

    def check(self) -> LogReport:
        with self.store.read() as conn:
            return eventlog.check(conn)

    def rebuild(self) -> RebuildReport:
        """Empty every read table and replay the whole log into them, in one transaction."""
        with self.store.write(self.actor) as tx:
            tx.access_changed = True  # principals and roles are read tables too
            for table in reversed(READ_TABLES):
                tx.conn.execute(delete(table))
            replayed = 0
            for row in eventlog.replay(tx.conn):
                project(tx.conn, row.type, json.loads(row.payload), row.actor, parse_time(row.at))
                replayed += 1
            counts = {
                table.name: tx.conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in READ_TABLES
            }
        return RebuildReport(events_replayed=replayed, tables=counts)
