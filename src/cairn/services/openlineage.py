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

from cairn.core.errors import ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.lineage import LineageIngest
from cairn.core.openlineage import EventChecker, elements
from cairn.services.base import Service

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
            for event, parsed in zip(events, found, strict=True):
                tx.emit(EventDraft(EventType.LINEAGE_REPORTED, parsed.subject, {"event": event}))
        return LineageIngest(events=len(events), subjects=[p.subject for p in found])
