"""Lineage: walks up and down the graph, impact analysis, what changed upstream, hand-made edges.

The walks are the database's (``cairn.store.lineage``); this service resolves what callers
name, keeps the bounds, turns a walk into a spanning tree with one path per node, and says
when an answer is partial rather than returning less without a word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from cairn.core.errors import Conflict, NotFound, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.lineage import (
    DEFAULT_DEPTH,
    DEFAULT_NODE_LIMIT,
    EXTERNAL,
    MAX_DEPTH,
    MAX_NODE_LIMIT,
    TERMINAL,
    Direction,
    EdgeType,
    ImpactedDeployment,
    ImpactedVersion,
    ImpactReport,
    LineageEdge,
    LineageGraph,
    LineageNode,
    NodeKind,
    NodeRef,
    Step,
    UpstreamChange,
    check_edge,
    external_key,
    parse_node,
    path_to,
    shortest_tree,
    upstream_change,
)
from cairn.core.names import Kind
from cairn.core.specs import within
from cairn.services.base import Service
from cairn.store import lineage as q
from cairn.store import lookup
from cairn.store import tables as t

EnumT = TypeVar("EnumT", bound=StrEnum)

# A walk returns a row per way a node is reached at each depth: several per node in a graph
# with many paths. Rows are capped at this many per node allowed in the answer.
_ROWS_PER_NODE = 8


def _depth(depth: int) -> int:
    return within(depth, 1, MAX_DEPTH, what="depth", field="depth", hint=f"1..{MAX_DEPTH}")


def _limit(limit: int) -> int:
    hint = f"1..{MAX_NODE_LIMIT}"
    return within(limit, 1, MAX_NODE_LIMIT, what="limit", field="limit", hint=hint)


def _members(kind: type[EnumT], raw: Sequence[str], field: str, what: str) -> list[EnumT]:
    """``raw`` as members of ``kind``; an unknown value is refused naming the known ones."""
    try:
        return [kind(x) for x in raw]
    except ValueError:
        raise ValidationFailed(
            f"unknown {what} in {list(raw)!r}",
            field=field,
            rule="enum",
            hint="one of: " + ", ".join(kind),
        ) from None


def _types(raw: Sequence[str] | None) -> list[EdgeType] | None:
    return _members(EdgeType, raw, "edge_type", "edge type") if raw else None


def _kinds(raw: Sequence[str] | None) -> set[NodeKind] | None:
    return set(_members(NodeKind, raw, "node_kind", "node kind")) if raw else None


def resolve(conn: Connection, node: NodeRef) -> str:
    """The surrogate key of a node; NotFound if the registry has no such node."""
    if node.ref is not None:
        if node.ref.kind is Kind.ENVIRONMENT:
            return lookup.environment_id(conn, node.ref.name)
        return lookup.entity_id(conn, node.ref)
    if node.kind in EXTERNAL:
        # An alias resolves to its canonical node: both names find the same dataset.
        key = q.canonical(conn, external_key(node.kind, node.namespace, node.name))
        table = t.lineage_nodes
    else:
        key = str(node.key)
        table = t.deployments if node.kind is NodeKind.DEPLOYMENT else t.evaluations
    if conn.execute(select(table.c.id).where(table.c.id == key)).first() is None:
        raise NotFound(f"{node} does not exist", id=str(node))
    return key


class _Walk:
    """One bounded walk from a node, reduced to the shallowest way each node was reached."""

    def __init__(
        self,
        conn: Connection,
        start: str,
        kind: NodeKind,
        direction: Direction,
        depth: int,
        limit: int,
        types: list[EdgeType] | None,
    ) -> None:
        cap = limit * _ROWS_PER_NODE + 1
        steps = q.walk(conn, start, kind, direction, depth, cap, types)
        tree = shortest_tree(steps)
        self.partial = False
        self.reason: str | None = None
        self.stopped_at: list[str] = []
        if len(steps) >= cap or len(tree) > limit + 1:
            self.partial, self.reason = True, "limit"
            kept = sorted(tree.values(), key=lambda s: (s.depth, s.node))[: limit + 1]
            self.stopped_at = sorted({s.node for s in kept if s.depth == kept[-1].depth})
            tree = {s.node: s for s in kept}
        else:
            frontier = [
                s.node for s in tree.values() if s.depth == depth and s.kind not in TERMINAL
            ]
            further = q.continuing(conn, frontier, direction, types) if frontier else set()
            if further:
                self.partial, self.reason = True, "depth"
                self.stopped_at = sorted(further)
        self.tree: dict[str, Step] = tree


class LineageService(Service):
    def graph(
        self,
        node: str,
        *,
        direction: str = "both",
        depth: int = DEFAULT_DEPTH,
        edge_types: Sequence[str] | None = None,
        node_kinds: Sequence[str] | None = None,
        limit: int = DEFAULT_NODE_LIMIT,
    ) -> LineageGraph:
        """The neighbourhood of ``node``: upstream, downstream or both, within ``depth`` edges."""
        ref = parse_node(node)
        directions = _directions(direction)
        depth, limit, types, kinds = (
            _depth(depth),
            _limit(limit),
            _types(edge_types),
            _kinds(node_kinds),
        )
        with self.store.read() as conn:
            start = resolve(conn, ref)
            walks = [_Walk(conn, start, ref.kind, d, depth, limit, types) for d in directions]
            depths: dict[str, int] = {}
            kinds_of: dict[str, NodeKind] = {}
            for w in walks:
                for key, step in w.tree.items():
                    depths[key] = min(depths.get(key, step.depth), step.depth)
                    kinds_of[key] = step.kind
            described = q.describe(conn, kinds_of)
            keys = list(kinds_of)
            raw_edges = [
                edge for edge in q.edges_among(conn, keys) if types is None or edge[1] in types
            ]
        shown = {k for k in keys if kinds is None or kinds_of[k] in kinds or k == start}
        nodes = [
            LineageNode(
                id=described[k].id,
                kind=described[k].kind,
                label=described[k].label,
                team=described[k].team,
                depth=depths[k],
                attributes=described[k].attributes,
            )
            for k in sorted(shown, key=lambda k: (depths[k], described[k].id))
            if k in described
        ]
        edges = [
            LineageEdge(source=described[a].id, type=typ, target=described[b].id)
            for a, typ, b in raw_edges
            if a in shown and b in shown and a in described and b in described
        ]
        stopped = sorted({described[k].id for w in walks for k in w.stopped_at if k in described})
        reasons = {w.reason for w in walks if w.reason}
        return LineageGraph(
            root=described[start].id,
            direction=directions,
            depth=depth,
            nodes=nodes,
            edges=edges,
            partial=any(w.partial for w in walks),
            reason=", ".join(sorted(reasons)) or None,
            stopped_at=stopped,
        )

    def impact(
        self, node: str, *, depth: int = MAX_DEPTH, limit: int = MAX_NODE_LIMIT
    ) -> ImpactReport:
        """Every model version downstream of ``node`` with the path that reaches it and who owns
        it, and every deployment of those versions (active ones first)."""
        ref = parse_node(node)
        depth, limit = _depth(depth), _limit(limit)
        with self.store.read() as conn:
            start = resolve(conn, ref)
            w = _Walk(conn, start, ref.kind, Direction.DOWNSTREAM, depth, limit, None)
            wanted = {
                k: s.kind
                for k, s in w.tree.items()
                if s.kind in (NodeKind.MODEL_VERSION, NodeKind.DEPLOYMENT)
            }
            paths = {
                key: path_to(w.tree, key)
                for key, kind in wanted.items()
                if kind is NodeKind.MODEL_VERSION
            }
            on_paths = {k for keys, _ in paths.values() for k in keys} | set(wanted) | {start}
            described = q.describe(conn, {k: w.tree[k].kind for k in on_paths})
        deployments: dict[str, list[ImpactedDeployment]] = {}
        for key, kind in wanted.items():
            if kind is NodeKind.DEPLOYMENT and key in described:
                found = _deployment(described[key].id, described[key].attributes)
                deployments.setdefault(found.version, []).append(found)
        versions = []
        for key, (keys, via) in paths.items():
            if key not in described:
                continue
            item = described[key]
            versions.append(
                ImpactedVersion(
                    id=item.id,
                    team=item.team or "",
                    contact=item.attributes.get("contact"),
                    path=[described[k].id for k in keys],
                    via=via,
                    deployments=sorted(
                        deployments.get(item.id, []), key=lambda d: (not d.active, d.id)
                    ),
                )
            )
        versions.sort(key=lambda v: (len(v.path), v.id))
        every = sorted(
            (d for ds in deployments.values() for d in ds),
            key=lambda d: (not d.active, d.environment, d.version),
        )
        return ImpactReport(
            source=described[start].id,
            versions=versions,
            deployments=every,
            teams=dict(sorted(Counter(v.team for v in versions).items())),
            partial=w.partial,
            reason=w.reason,
            stopped_at=sorted(described[k].id for k in w.stopped_at if k in described),
        )

    def upstream_changes(self, before: str, after: str) -> UpstreamChange:
        """What shaped ``after`` and not ``before`` and the other way round (two model versions,
        usually of one model)."""
        refs = [parse_node(before), parse_node(after)]
        for ref in refs:
            if ref.kind is not NodeKind.MODEL_VERSION:
                raise ValidationFailed(
                    f"{ref} is not a model version",
                    field="id",
                    rule="kind",
                    hint="compare two model versions, e.g. model:fraud/churn@3 and @4",
                )
        sets: list[set[str]] = []
        partial = False
        with self.store.read() as conn:
            for ref in refs:
                start = resolve(conn, ref)
                w = _Walk(
                    conn, start, ref.kind, Direction.UPSTREAM, MAX_DEPTH, MAX_NODE_LIMIT, None
                )
                partial = partial or w.partial
                described = q.describe(conn, {k: s.kind for k, s in w.tree.items() if k != start})
                sets.append({d.id for d in described.values()})
        return upstream_change(str(refs[0]), str(refs[1]), sets[0], sets[1], partial=partial)

    def add_edge(self, source: str, type_: str, target: str) -> LineageEdge:
        """Record that ``source`` shaped ``target`` (an event, like every change)."""
        return self._change_edge(source, type_, target, add=True)

    def remove_edge(self, source: str, type_: str, target: str) -> None:
        self._change_edge(source, type_, target, add=False)

    def _change_edge(self, source: str, type_: str, target: str, *, add: bool) -> LineageEdge:
        edge_type = _members(EdgeType, [type_], "type", "edge type")[0]
        a, b = parse_node(source), parse_node(target)
        check_edge(a.kind, edge_type, b.kind)
        with self.store.write(self.actor) as tx:
            keys, created = [], []
            for end in (a, b):
                if add and end.kind in EXTERNAL:
                    named = external_key(end.kind, end.namespace, end.name)
                    keys.append(q.canonical(tx.conn, named))
                    if keys[-1] == named:  # not an alias (whose canonical node exists): maybe new
                        created.append(end)
                else:
                    keys.append(resolve(tx.conn, end))
            exists = q.edge_exists(tx.conn, keys[0], edge_type, keys[1])
            if add and exists:
                raise Conflict(f"{a} already {edge_type} {b}")
            if not add and not exists:
                raise NotFound(f"there is no {edge_type} edge from {a} to {b}")
            payload: dict[str, Any] = {
                "source_id": keys[0],
                "source_kind": str(a.kind),
                "type": str(edge_type),
                "target_id": keys[1],
                "target_kind": str(b.kind),
                "source": str(a),
                "target": str(b),
            }
            if add:
                payload["external"] = [
                    {"kind": str(end.kind), "namespace": end.namespace, "name": end.name}
                    for end in created
                ]
            kind = EventType.LINEAGE_EDGE_ADDED if add else EventType.LINEAGE_EDGE_REMOVED
            tx.emit(EventDraft(kind, str(b), payload))
        return LineageEdge(source=str(a), type=edge_type, target=str(b))


def _directions(direction: str) -> list[Direction]:
    if direction == "both":
        return [Direction.UPSTREAM, Direction.DOWNSTREAM]
    try:
        return [Direction(direction)]
    except ValueError:
        raise ValidationFailed(
            f"direction {direction!r} is not upstream, downstream or both",
            field="direction",
            rule="enum",
        ) from None


def _deployment(ref: str, attributes: dict[str, Any]) -> ImpactedDeployment:
    return ImpactedDeployment(
        id=ref,
        version=attributes["version"],
        environment=attributes["environment"],
        stage=attributes["stage"],
        deployed_at=attributes["deployed_at"],
        active=attributes["active"],
    )
