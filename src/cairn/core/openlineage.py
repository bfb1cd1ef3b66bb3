"""OpenLineage events: checked against the specification, then read as nodes and edges.

A run event names a job, a run of it and the datasets the run read and wrote; Cairn records
them as ``ol-job``, ``ol-run`` and ``ol-dataset`` nodes joined by ``executed_as``, ``read_by``
and ``produced`` edges. Events of one run (START, RUNNING, COMPLETE, FAIL …) merge into one
run node whose state is that of its latest event by event time. Dataset and job events (static
lineage) add or refresh nodes only.

Validation follows the specification as its own tooling does: the event against the event
schema, then every *standard* facet — recognised by its key where the facet schemas'
``properties`` name it, in the place the schema is written for (run, job, dataset, input or
output facets) — against that facet's schema. Other facets are custom: kept as they came.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from cairn.core.errors import ValidationFailed
from cairn.core.lineage import EdgeType, NodeKind, external_ref


class Place(StrEnum):
    """Where in an event a facet sits, named by the base definition its schema extends."""

    RUN = "RunFacet"
    JOB = "JobFacet"
    DATASET = "DatasetFacet"
    INPUT = "InputDatasetFacet"
    OUTPUT = "OutputDatasetFacet"


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    rule: str
    message: str


def _json_path(parts: Iterable[str | int]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class EventChecker:
    """Checks events against the OpenLineage event schema and its standard facet schemas.

    Built once from the schema documents (the caller reads them; this module reads no files).
    """

    def __init__(self, event_schema: dict[str, Any], facet_schemas: Iterable[dict[str, Any]]):
        documents = [event_schema, *facet_schemas]
        registry: Registry[Any] = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc)) for doc in documents
        )
        # Only run ids are format-checked here; event times are parsed by event_time().
        checker = FormatChecker(("uuid",))
        # An event is one of three kinds (the schema's oneOf); checking it against the kind its
        # shape says it is names the real problem ("$.run: 'runId' is required"), where the
        # oneOf would only say that no kind fits.
        self._kinds = {
            kind: Draft202012Validator(
                {"$ref": f"{event_schema['$id']}#/$defs/{kind}"},
                registry=registry,
                format_checker=checker,
            )
            for kind in ("RunEvent", "DatasetEvent", "JobEvent")
        }
        self._facets: dict[tuple[Place, str], Draft202012Validator] = {}
        for doc in facet_schemas:
            for place in _places(doc):
                for key in doc.get("properties", {}):
                    wrapper = {"$ref": doc["$id"] + f"#/properties/{key}"}
                    self._facets[place, key] = Draft202012Validator(
                        wrapper, registry=registry, format_checker=checker
                    )

    @property
    def standard_facets(self) -> list[tuple[str, str]]:
        """(place, key) of every facet this checker knows."""
        return sorted((str(place), key) for place, key in self._facets)

    def problems(self, event: Any) -> list[Problem]:
        if not isinstance(event, dict):
            return [Problem("$", "type", "an event is a JSON object")]
        kind = (
            "RunEvent" if "run" in event else "DatasetEvent" if "dataset" in event else "JobEvent"
        )
        found = [_problem(e, ()) for e in self._kinds[kind].iter_errors(event)]
        if found:
            return found
        for place, path, facets in _facet_sites(event):
            for key, value in facets.items():
                validator = self._facets.get((place, key))
                if validator is not None:
                    found.extend(_problem(e, (*path, key)) for e in validator.iter_errors(value))
        return found

    def check(self, event: Any) -> None:
        """Refuse an invalid event, naming the first problem's JSON path and rule."""
        found = self.problems(event)
        if found:
            first = found[0]
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise ValidationFailed(
                f"not a valid OpenLineage event: {first.path}: {first.message}{more}",
                field=first.path,
                rule=first.rule,
                hint="see https://openlineage.io/spec/2-0-2/OpenLineage.json and the facet "
                "schemas under https://openlineage.io/spec/facets/",
            )


def _places(doc: dict[str, Any]) -> set[Place]:
    places: set[Place] = set()
    for definition in doc.get("$defs", {}).values():
        for part in definition.get("allOf", []):
            base = str(part.get("$ref", "")).rsplit("/", 1)[-1]
            if base in Place._value2member_map_:
                places.add(Place(base))
    return places


def _problem(error: ValidationError, prefix: tuple[str | int, ...]) -> Problem:
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return Problem(_json_path((*prefix, *error.absolute_path)), str(error.validator), message)


def _facet_sites(
    event: dict[str, Any],
) -> Iterator[tuple[Place, tuple[str | int, ...], dict[str, Any]]]:
    def facets_at(holder: Any, key: str) -> dict[str, Any]:
        value = holder.get(key) if isinstance(holder, dict) else None
        return value if isinstance(value, dict) else {}

    yield Place.RUN, ("run", "facets"), facets_at(event.get("run"), "facets")
    yield Place.JOB, ("job", "facets"), facets_at(event.get("job"), "facets")
    if isinstance(event.get("dataset"), dict):
        yield Place.DATASET, ("dataset", "facets"), facets_at(event["dataset"], "facets")
    for side, extra in (("inputs", Place.INPUT), ("outputs", Place.OUTPUT)):
        datasets = event.get(side)
        for i, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            yield Place.DATASET, (side, i, "facets"), facets_at(dataset, "facets")
            own = "inputFacets" if side == "inputs" else "outputFacets"
            yield extra, (side, i, own), facets_at(dataset, own)


# ---------------------------------------------------------------------------------------------
# Reading a (valid) event as graph elements


@dataclass(frozen=True, slots=True)
class Node:
    kind: NodeKind
    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    state: str | None = None

    @property
    def ref(self) -> str:
        return external_ref(self.kind, self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Elements:
    """What one event says: when, which nodes (with facets), which edges between them."""

    at: datetime
    nodes: list[Node]
    edges: list[tuple[Node, EdgeType, Node]]

    @property
    def subject(self) -> str:
        """The node the event is about: its run, else its dataset or job."""
        return self.nodes[0].ref


def event_time(event: dict[str, Any]) -> datetime:
    raw = event.get("eventTime")
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ValidationFailed(
            f"eventTime {raw!r} is not an RFC 3339 time with an offset",
            field="$.eventTime",
            rule="format",
        )
    return at


def _dataset(raw: dict[str, Any]) -> Node:
    return Node(NodeKind.OL_DATASET, raw["namespace"], raw["name"], dict(raw.get("facets") or {}))


def _job(raw: dict[str, Any]) -> Node:
    return Node(NodeKind.OL_JOB, raw["namespace"], raw["name"], dict(raw.get("facets") or {}))


def elements(event: dict[str, Any]) -> Elements:
    """The nodes and edges of an event already checked by :class:`EventChecker`."""
    at = event_time(event)
    if "run" in event:
        run = Node(
            NodeKind.OL_RUN,
            "",
            event["run"]["runId"],
            dict(event["run"].get("facets") or {}),
            state=event.get("eventType") or "OTHER",
        )
        job_node = _job(event["job"])
        inputs = [_dataset(d) for d in event.get("inputs") or []]
        outputs = [_dataset(d) for d in event.get("outputs") or []]
        edges = [(job_node, EdgeType.EXECUTED_AS, run)]
        edges += [(d, EdgeType.READ_BY, run) for d in inputs]
        edges += [(run, EdgeType.PRODUCED, d) for d in outputs]
        return Elements(at, [run, job_node, *inputs, *outputs], edges)
    if "dataset" in event:
        return Elements(at, [_dataset(event["dataset"])], [])
    job_node = _job(event["job"])
    datasets = [_dataset(d) for d in (event.get("inputs") or []) + (event.get("outputs") or [])]
    return Elements(at, [job_node, *datasets], [])
