"""A lineage graph as W3C PROV: a :class:`prov.model.ProvDocument`, PROV-JSON and PROV-N.

Pure functions over a :class:`~cairn.core.lineage.LineageGraph`; both serialisations are
written by ``prov`` (the reference implementation), never by hand.

Elements — one per node, plus one ``prov:Organization`` agent per owning team that appears:

==========================  ============  ===================================================
Cairn node kind             PROV class    besides ``prov:type='cairn:<Kind>'``
==========================  ============  ===================================================
model-version               entity
dataset-version             entity
feature-view-version        entity
evaluation (its result)     entity
code                        entity        ``prov:type='prov:Plan'``: the plan of its runs
ol-dataset                  entity
ol-job                      entity        ``prov:type='prov:Plan'``
run                         activity      startTime/endTime from ``started_at``/``ended_at``
ol-run                      activity
deployment (serving it)     activity      startTime from ``deployed_at``
environment                 agent         ``prov:type='prov:SoftwareAgent'``
(team ``<name>``)           agent         ``prov:type='prov:Organization'``, ``cairn:Team``
==========================  ============  ===================================================

Relations — exactly one per edge (``source --type--> target``):

=============================================  ===============================================
Edge                                           PROV relation
=============================================  ===============================================
read_by (data → run)                           ``used(run, data)``
produced (run/ol-run → x)                      ``wasGeneratedBy(x, run)``
produced (model-version → x)                   ``wasDerivedFrom(x, model-version)``
trained (data → model-version)                 ``wasDerivedFrom(model-version, data)``,
                                               ``prov:type='cairn:trained'``
derived_from (a → b)                           ``wasDerivedFrom(b, a)``
evaluated_on (data → evaluation)               ``wasDerivedFrom(evaluation, data)``,
                                               ``prov:type='cairn:evaluated_on'``
evaluated_by (model-version → evaluation)      ``wasDerivedFrom(evaluation, model-version)``,
                                               ``prov:type='cairn:evaluated_by'``
deployed_as (model-version → deployment)       ``used(deployment, model-version)``
runs_in (deployment → environment)             ``wasAssociatedWith(deployment, environment)``
hosted (environment → run)                     ``wasAssociatedWith(run, environment)``
executed_as (code/ol-job → run)                ``wasAssociatedWith(run, team or -, code/job)``
versioned_as (ol-dataset → dataset-version)    ``specializationOf(dataset-version, ol-dataset)``
=============================================  ===============================================

Ownership — a node with a team adds one more relation: ``wasAttributedTo(entity, team)``,
``wasAssociatedWith(activity, team)`` or, for an agent, ``actedOnBehalfOf(agent, team)``.

Names: a single prefix, ``cairn``, bound to ``urn:cairn:``; the local name of a node is its
Cairn id (``cairn:model:fraud/churn@3``, IRI ``urn:cairn:model:fraud/churn@3``). Characters
outside RFC 3986's path characters (spaces, quotes, ``<>``, ``[]``, ``?``, ``#``, ``%``,
non-ASCII …) are percent-encoded as UTF-8, so :func:`urllib.parse.unquote` gives the id back.
What is left is writable in PROV-N: ``prov`` backslash-escapes ``: = ' ( ) , ;`` there, as the
PROV-N grammar requires (``cairn:model\\:fraud/churn@3``). Cairn's own types and attributes are
names in the same namespace (``cairn:ModelVersion``, ``cairn:status``); node attributes keep
their Cairn keys.

What the document is about: the root node's element carries ``cairn:root=true``,
``cairn:partial`` (a bound cut the walk short) and, when partial, ``cairn:reason``; the nodes
whose further edges were not followed carry ``cairn:frontier=true``.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any, assert_never
from urllib.parse import quote

from prov.constants import PROV, PROV_LABEL, PROV_TYPE
from prov.identifier import Namespace, QualifiedName
from prov.model import ProvDocument

from cairn.core.lineage import (
    EdgeType,
    LineageEdge,
    LineageGraph,
    LineageNode,
    NodeKind,
    check_edge,
)

#: The one namespace of the document: node ids, team agents, Cairn's types and attributes.
CAIRN = Namespace("cairn", "urn:cairn:")

# RFC 3986 path characters besides the unreserved ones `quote` always keeps. Every one is
# also writable in a PROV-N local name (some only backslash-escaped, which prov does).
_SAFE = "/@:!$&'()*+,;="

_N = NodeKind
_ACTIVITIES = frozenset({_N.RUN, _N.OL_RUN, _N.DEPLOYMENT})
_AGENTS = frozenset({_N.ENVIRONMENT})
_TYPE_NAMES: dict[NodeKind, str] = {
    _N.MODEL_VERSION: "ModelVersion",
    _N.DATASET_VERSION: "DatasetVersion",
    _N.FEATURE_VIEW_VERSION: "FeatureViewVersion",
    _N.RUN: "Run",
    _N.EVALUATION: "Evaluation",
    _N.DEPLOYMENT: "Deployment",
    _N.ENVIRONMENT: "Environment",
    _N.CODE: "Code",
    _N.OL_DATASET: "OpenLineageDataset",
    _N.OL_JOB: "OpenLineageJob",
    _N.OL_RUN: "OpenLineageRun",
}
_PROV_TYPES: dict[NodeKind, QualifiedName] = {
    _N.CODE: PROV["Plan"],
    _N.OL_JOB: PROV["Plan"],
    _N.ENVIRONMENT: PROV["SoftwareAgent"],
}
# Attributes that fill an activity's own time slots: (start, end).
_TIME_SLOTS: dict[NodeKind, tuple[str, str | None]] = {
    _N.RUN: ("started_at", "ended_at"),
    _N.DEPLOYMENT: ("deployed_at", None),
}
# Attributes holding an instant: written as xsd:dateTime, not as text.
_TIMES = frozenset({"started_at", "ended_at", "deployed_at", "recorded_at"})

_Pairs = list[tuple[QualifiedName, Any]]


def qualified_name(node_id: str) -> QualifiedName:
    """``model:fraud/churn@3`` -> ``cairn:model:fraud/churn@3``, percent-encoding what neither
    an IRI nor PROV-N may hold."""
    return CAIRN[quote(node_id, safe=_SAFE)]


def team_name(team: str) -> QualifiedName:
    """The agent standing for an owning team: ``cairn:team:<name>``."""
    return qualified_name(f"team:{team}")


def prov_document(graph: LineageGraph) -> ProvDocument:
    """The graph as a PROV document: an element per node and team, a relation per edge and
    per owned node (see the module's tables)."""
    nodes = {node.id: node for node in graph.nodes}
    if graph.root not in nodes:
        raise ValueError(f"the graph's root {graph.root!r} is not among its nodes")
    document = ProvDocument()
    document.add_namespace(CAIRN)
    for node in graph.nodes:
        _add_element(document, node, graph)
    for team in sorted({node.team for node in graph.nodes if node.team is not None}):
        document.agent(
            team_name(team),
            [(PROV_TYPE, PROV["Organization"]), (PROV_TYPE, CAIRN["Team"]), (PROV_LABEL, team)],
        )
    for edge in graph.edges:
        _add_relation(
            document, edge, _end(nodes, edge, edge.source), _end(nodes, edge, edge.target)
        )
    for node in graph.nodes:
        _add_ownership(document, node)
    return document


def prov_json(graph: LineageGraph) -> str:
    """The graph as PROV-JSON, indented."""
    return _serialize(prov_document(graph), "json", indent=2)


def prov_n(graph: LineageGraph) -> str:
    """The graph as PROV-N."""
    return _serialize(prov_document(graph), "provn")


def _serialize(document: ProvDocument, format_: str, **options: Any) -> str:
    # A stream rather than prov's `str | None` return: the text is always there.
    buffer = io.StringIO()
    document.serialize(buffer, format=format_, **options)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Elements


def _add_element(document: ProvDocument, node: LineageNode, graph: LineageGraph) -> None:
    identifier = qualified_name(node.id)
    attributes = _element_attributes(node, graph)
    if node.kind in _ACTIVITIES:
        start, end = _activity_times(node)
        document.activity(identifier, start, end, attributes)
    elif node.kind in _AGENTS:
        document.agent(identifier, attributes)
    else:
        document.entity(identifier, attributes)


def _element_attributes(node: LineageNode, graph: LineageGraph) -> _Pairs:
    pairs: _Pairs = [(PROV_TYPE, CAIRN[_TYPE_NAMES[node.kind]])]
    if node.kind in _PROV_TYPES:
        pairs.append((PROV_TYPE, _PROV_TYPES[node.kind]))
    pairs.append((PROV_LABEL, node.label))
    slots = set(_TIME_SLOTS.get(node.kind, ()))
    for key, value in node.attributes.items():
        if value is not None and key not in slots:
            pairs.append((CAIRN[quote(key, safe="")], _attribute_value(key, value)))
    if node.id == graph.root:
        pairs += [(CAIRN["root"], True), (CAIRN["partial"], graph.partial)]
        if graph.reason:
            pairs.append((CAIRN["reason"], graph.reason))
    if node.id in graph.stopped_at:
        pairs.append((CAIRN["frontier"], True))
    return pairs


def _activity_times(node: LineageNode) -> tuple[datetime | None, datetime | None]:
    start_key, end_key = _TIME_SLOTS.get(node.kind, (None, None))
    return _instant(node.attributes, start_key), _instant(node.attributes, end_key)


def _instant(attributes: dict[str, Any], key: str | None) -> datetime | None:
    value = attributes.get(key) if key is not None else None
    return None if value is None else _as_datetime(value)


def _attribute_value(key: str, value: Any) -> Any:
    if key in _TIMES:
        return _as_datetime(value)
    if isinstance(value, str | bool | int | float | datetime):
        return value
    # PROV literals are scalars; a structured value keeps its content as canonical JSON text.
    return json.dumps(value, sort_keys=True, default=str)


def _as_datetime(value: Any) -> datetime:
    # In process the store hands over datetimes; through JSON they arrive as ISO 8601 text.
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# ---------------------------------------------------------------------------------------------
# Relations


def _end(nodes: dict[str, LineageNode], edge: LineageEdge, node_id: str) -> LineageNode:
    node = nodes.get(node_id)
    if node is None:
        raise ValueError(
            f"edge {edge.source} --{edge.type}--> {edge.target} names {node_id!r}, "
            "which is not among the graph's nodes"
        )
    return node


def _add_relation(
    document: ProvDocument, edge: LineageEdge, source: LineageNode, target: LineageNode
) -> None:
    # Which PROV relation an edge becomes depends on the kinds it joins: refuse kinds its type
    # does not allow rather than write a relation between the wrong classes.
    check_edge(source.kind, edge.type, target.kind)
    s, t = qualified_name(source.id), qualified_name(target.id)
    match edge.type:
        case EdgeType.READ_BY | EdgeType.DEPLOYED_AS:
            document.used(t, s)
        case EdgeType.PRODUCED if source.kind is NodeKind.MODEL_VERSION:
            # A model version is an entity, not an activity: what it produced derives from it.
            document.wasDerivedFrom(t, s)
        case EdgeType.PRODUCED:
            document.wasGeneratedBy(t, s)
        case EdgeType.DERIVED_FROM:
            document.wasDerivedFrom(t, s)
        case EdgeType.TRAINED | EdgeType.EVALUATED_ON | EdgeType.EVALUATED_BY:
            # Typed, so a reader tells training and evaluation data from other derivations.
            document.wasDerivedFrom(t, s, other_attributes=[(PROV_TYPE, CAIRN[str(edge.type)])])
        case EdgeType.RUNS_IN:
            document.wasAssociatedWith(s, t)
        case EdgeType.HOSTED:
            document.wasAssociatedWith(t, s)
        case EdgeType.EXECUTED_AS:
            # The code (or job) is the plan; who carried it out is the run's team, if known.
            agent = team_name(target.team) if target.team is not None else None
            document.wasAssociatedWith(t, agent, s)
        case EdgeType.VERSIONED_AS:
            document.specializationOf(t, s)
        case _:
            assert_never(edge.type)


def _add_ownership(document: ProvDocument, node: LineageNode) -> None:
    if node.team is None:
        return
    element, team = qualified_name(node.id), team_name(node.team)
    if node.kind in _ACTIVITIES:
        document.wasAssociatedWith(element, team)
    elif node.kind in _AGENTS:
        document.actedOnBehalfOf(element, team)
    else:
        document.wasAttributedTo(element, team)
