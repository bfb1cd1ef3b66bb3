"""OpenLineage events in: checked against the specification Cairn ships, then logged.

Each event is appended to the log as it came (``lineage.reported``), so custom facets and
anything a later Cairn may read survive; the projector reads nodes and edges off it. A batch
is checked whole before anything is written: one invalid event refuses the batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from sqlalchemy import Connection, select

from cairn.core.errors import ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.lineage import LineageIngest, NodeKind, PossibleTwin, external_key, external_ref
from cairn.core.openlineage import Elements, EventChecker, elements
from cairn.core.reconcile import match_text
from cairn.services.base import Service
from cairn.store import tables as t
from cairn.store.lineage import canonical

#: Most events one call takes (the OpenLineage HTTP transport sends one per request).
MAX_BATCH = 1000


@cache
def checker() -> EventChecker:
    """The checker for the specification copied under ``openlineage_spec`` (see SOURCE.md)."""
    spec = files("cairn.services").joinpath("openlineage_spec")
    event_schema = json.loads(spec.joinpath("OpenLineage.json").read_text("utf-8"))
    facets = [
        json.loads(item.read_text("utf-8"))
        for item in sorted(spec.joinpath("facets").iterdir(), key=lambda p: p.name)
        if item.name.endswith(".json")
    ]
    return EventChecker(event_schema, facets)


class OpenLineageService(Service):
    def report(self, events: Sequence[Any]) -> LineageIngest:
        if not 1 <= len(events) <= MAX_BATCH:
            raise ValidationFailed(
                f"send 1 to {MAX_BATCH} events at a time, not {len(events)}",
                field="events",
                rule="size",
            )
        check = checker()
        found = []
        for i, event in enumerate(events):
            try:
                check.check(event)
                found.append(elements(event))
            except ValidationFailed as error:
                if len(events) == 1:
                    raise
                where = (error.field or "$").replace("$", f"$[{i}]", 1)
                raise ValidationFailed(
                    f"event {i + 1}: {error}", field=where, rule=error.rule
                ) from None
        with self.store.write(self.actor) as tx:
            twins = _possible_twins(tx.conn, found)
            for event, parsed in zip(events, found, strict=True):
                tx.emit(EventDraft(EventType.LINEAGE_REPORTED, parsed.subject, {"event": event}))
        return LineageIngest(
            events=len(events), subjects=[p.subject for p in found], possible_twins=twins
        )


def _possible_twins(conn: Connection, found: Sequence[Elements]) -> list[PossibleTwin]:
    """Dataset names this batch brings in for the first time that share a match key with a
    dataset already known (aliases resolve first, so a recorded alias is no twin)."""
    n = t.lineage_nodes.c
    new: dict[str, tuple[str, str]] = {}
    for parsed in found:
        for node in parsed.nodes:
            if node.kind is NodeKind.OL_DATASET:
                new.setdefault(node.ref, (node.namespace, node.name))
    twins = []
    for ref, (namespace, name) in sorted(new.items()):
        key = external_key(NodeKind.OL_DATASET, namespace, name)
        if canonical(conn, key) != key or conn.execute(select(n.id).where(n.id == key)).first():
            continue  # known already, under this name or as an alias
        rows = conn.execute(
            select(n.namespace, n.name)
            .where(n.match_key == match_text(namespace, name), n.kind == str(NodeKind.OL_DATASET))
            .order_by(n.namespace, n.name)
            .limit(10)
        )
        existing = [external_ref(NodeKind.OL_DATASET, r.namespace, r.name) for r in rows]
        if existing:
            twins.append(PossibleTwin(identity=ref, existing=existing))
    return twins
