"""Lineage queries: walks over ``lineage_edges`` as recursive CTEs, and what the nodes are.

A walk runs in the database on SQLite and PostgreSQL alike: it returns one row per way a node
was reached at each depth (``UNION`` drops repeats, the depth bound ends cycles), never the
graph. Labels are then read for the nodes found, one ``IN`` query per kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, bindparam, cast, func, select, text

from cairn.core.lineage import (
    TERMINAL,
    Direction,
    EdgeType,
    NodeKind,
    Step,
    external_ref,
)
from cairn.store import tables as t

_CHUNK = 500
_KINDS = {str(k): k for k in NodeKind}
_TYPES = {str(x): x for x in EdgeType}
_TERMINAL = ", ".join(f"'{k}'" for k in sorted(TERMINAL))

# Column types of the recursive CTE are spelled out: PostgreSQL wants both of its halves to
# agree exactly, and VARCHAR(36) from the table is not VARCHAR from a parameter.
_WALK = """
WITH RECURSIVE walk(node, kind, depth, parent, via) AS (
    SELECT CAST(:start AS VARCHAR), CAST(:kind AS VARCHAR), 0,
           CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)
    UNION
    SELECT CAST(e.{far}_id AS VARCHAR), CAST(e.{far}_kind AS VARCHAR), w.depth + 1,
           w.node, CAST(e.type AS VARCHAR)
    FROM walk w JOIN lineage_edges e ON e.{near}_id = w.node
    WHERE w.depth < :depth AND (w.depth = 0 OR w.kind NOT IN ({terminal})){types}
)
SELECT node, kind, depth, parent, via FROM walk LIMIT :cap
"""


def _walk_sql(direction: Direction, typed: bool) -> Any:
    near, far = ("source", "target") if direction is Direction.DOWNSTREAM else ("target", "source")
    types = " AND e.type IN :types" if typed else ""
    sql = text(_WALK.format(near=near, far=far, terminal=_TERMINAL, types=types))
    if typed:
        sql = sql.bindparams(bindparam("types", expanding=True))
    return sql


def walk(
    conn: Connection,
    start: str,
    kind: NodeKind,
    direction: Direction,
    depth: int,
    cap: int,
    types: Sequence[EdgeType] | None = None,
) -> list[Step]:
    """Every way a node was reached from ``start`` within ``depth`` edges (at most ``cap``)."""
    params: dict[str, Any] = {"start": start, "kind": str(kind), "depth": depth, "cap": cap}
    if types:
        params["types"] = [str(x) for x in types]
    # Thousands of rows on a wide impact: fetched at once and mapped through dicts, as
    # row-by-row fetches and enum constructors cost more than the walk in the database.
    rows = conn.execute(_walk_sql(direction, bool(types)), params).all()
    kinds, types_ = _KINDS, _TYPES
    return [
        Step(node, kinds[kind], depth, parent, types_[via] if via else None)
        for node, kind, depth, parent, via in rows
    ]


def continuing(
    conn: Connection,
    keys: Iterable[str],
    direction: Direction,
    types: Sequence[EdgeType] | None = None,
) -> set[str]:
    """Which of ``keys`` have edges further on: where a walk cut short by depth stopped."""
    e = t.lineage_edges.c
    near = e.source_id if direction is Direction.DOWNSTREAM else e.target_id
    found: set[str] = set()
    for chunk in _chunks(list(keys)):
        query = select(near).where(near.in_(chunk)).distinct()
        if types:
            query = query.where(e.type.in_([str(x) for x in types]))
        found.update(conn.execute(query).scalars())
    return found


def edges_among(conn: Connection, keys: Sequence[str]) -> list[tuple[str, EdgeType, str]]:
    """Every edge whose two ends are both among ``keys`` (the picture of a neighbourhood)."""
    e = t.lineage_edges.c
    inside = set(keys)
    out: list[tuple[str, EdgeType, str]] = []
    for chunk in _chunks(list(keys)):
        query = select(e.source_id, e.type, e.target_id).where(e.source_id.in_(chunk))
        if len(inside) <= _CHUNK:
            # A dataset trains a thousand versions: its edges out of a small neighbourhood
            # are left in the database, not fetched to be dropped.
            query = query.where(e.target_id.in_(inside))
        out.extend(
            (source, _TYPES[type_], target)
            for source, type_, target in conn.execute(query).all()
            if target in inside
        )
    return sorted(out)


def edge_exists(conn: Connection, source: str, type_: EdgeType, target: str) -> bool:
    e = t.lineage_edges.c
    query = select(e.type).where(e.source_id == source, e.target_id == target, e.type == str(type_))
    return conn.execute(query).first() is not None


def canonical(conn: Connection, key: str) -> str:
    """The key ``key`` stands for: its canonical node's if it is a recorded alias, else itself."""
    a = t.lineage_aliases.c
    found = conn.execute(select(a.canonical_id).where(a.id == key)).scalar()
    return str(found) if found is not None else key


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# ---------------------------------------------------------------------------------------------
# What the nodes are


@dataclass(frozen=True, slots=True)
class Described:
    """A node as read from its own table: identifier, label, owning team, details."""

    id: str
    kind: NodeKind
    label: str
    team: str | None
    attributes: dict[str, Any]


def _model_versions(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    mv, m, tm = t.model_versions, t.models, t.teams
    query = (
        select(
            mv.c.id,
            mv.c.version,
            m.c.name,
            tm.c.name.label("team"),
            m.c.contact,
            tm.c.contact.label("team_contact"),
            # JSON null or SQL NULL: not deprecated. Compared as text, so no JSON is parsed.
            (func.coalesce(cast(mv.c.deprecation, String), "null") != "null").label("deprecated"),
        )
        .join(m, m.c.id == mv.c.model_id)
        .join(tm, tm.c.id == m.c.team_id)
        .where(mv.c.id.in_(keys))
    )
    for r in conn.execute(query).all():
        attributes = {"contact": r.contact or r.team_contact}
        if r.deprecated:
            attributes["deprecated"] = True
        yield (
            r.id,
            Described(
                f"model:{r.team}/{r.name}@{r.version}",
                NodeKind.MODEL_VERSION,
                f"{r.name}@{r.version}",
                r.team,
                attributes,
            ),
        )


def _versions_of(
    conn: Connection,
    keys: list[str],
    kind: NodeKind,
    versions: Any,
    parent: Any,
    parent_key: str,
    prefix: str,
) -> Iterator[tuple[str, Described]]:
    query = (
        select(versions.c.id, versions.c.version, parent.c.name, t.teams.c.name.label("team"))
        .join(parent, parent.c.id == versions.c[parent_key])
        .join(t.teams, t.teams.c.id == parent.c.team_id)
        .where(versions.c.id.in_(keys))
    )
    for r in conn.execute(query):
        yield (
            r.id,
            Described(
                f"{prefix}:{r.team}/{r.name}@{r.version}", kind, f"{r.name}@{r.version}", r.team, {}
            ),
        )


def _runs(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    query = (
        select(
            t.runs.c.id,
            t.runs.c.name,
            t.runs.c.status,
            t.runs.c.kind,
            t.runs.c.started_at,
            t.runs.c.ended_at,
            t.teams.c.name.label("team"),
        )
        .join(t.teams, t.teams.c.id == t.runs.c.team_id)
        .where(t.runs.c.id.in_(keys))
    )
    for r in conn.execute(query):
        attributes: dict[str, Any] = {"status": r.status, "run_kind": r.kind}
        # Times are ISO 8601 text, as on evaluations, and absent rather than null when unknown.
        if r.started_at is not None:
            attributes["started_at"] = r.started_at.isoformat()
        if r.ended_at is not None:
            attributes["ended_at"] = r.ended_at.isoformat()
        yield (
            r.id,
            Described(f"run:{r.team}/{r.name}", NodeKind.RUN, r.name, r.team, attributes),
        )


def _evaluations(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    ev = t.evaluations
    query = select(ev.c.id, ev.c.slice, ev.c.recorded_at).where(ev.c.id.in_(keys))
    for r in conn.execute(query):
        label = f"evaluation {r.slice}" if r.slice else "evaluation"
        yield (
            r.id,
            Described(
                f"evaluation:{r.id}",
                NodeKind.EVALUATION,
                label,
                None,
                {"recorded_at": r.recorded_at.isoformat()},
            ),
        )


def _deployments(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    d, env, mv, m, tm = t.deployments, t.environments, t.model_versions, t.models, t.teams
    query = (
        select(
            d.c.id,
            d.c.deployed_at,
            d.c.retired_at,
            env.c.name.label("environment"),
            env.c.stage,
            mv.c.version,
            m.c.name,
            tm.c.name.label("team"),
        )
        .join(env, env.c.id == d.c.environment_id)
        .join(mv, mv.c.id == d.c.version_id)
        .join(m, m.c.id == mv.c.model_id)
        .join(tm, tm.c.id == m.c.team_id)
        .where(d.c.id.in_(keys))
    )
    for r in conn.execute(query):
        yield (
            r.id,
            Described(
                f"deployment:{r.id}",
                NodeKind.DEPLOYMENT,
                f"{r.name}@{r.version} in {r.environment}",
                r.team,
                {
                    "version": f"model:{r.team}/{r.name}@{r.version}",
                    "environment": r.environment,
                    "stage": r.stage,
                    "deployed_at": r.deployed_at,
                    "active": r.retired_at is None,
                },
            ),
        )


def _environments(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    env = t.environments
    for r in conn.execute(select(env.c.id, env.c.name, env.c.stage).where(env.c.id.in_(keys))):
        yield (
            r.id,
            Described(
                f"environment:{r.name}", NodeKind.ENVIRONMENT, r.name, None, {"stage": r.stage}
            ),
        )


def _external(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    n = t.lineage_nodes
    query = select(n.c.id, n.c.kind, n.c.namespace, n.c.name, n.c.state).where(n.c.id.in_(keys))
    for r in conn.execute(query):
        kind = NodeKind(r.kind)
        label = r.name if kind is not NodeKind.CODE else r.namespace.rsplit("/", 1)[-1]
        if kind is NodeKind.OL_RUN:
            label = f"run {r.name[:8]}"
        elif kind is NodeKind.CODE and r.name:
            label += f"@{r.name[:7]}"
        attributes = {"namespace": r.namespace} if r.namespace else {}
        if r.state:
            attributes["state"] = r.state
        yield (
            r.id,
            Described(external_ref(kind, r.namespace, r.name), kind, label, None, attributes),
        )


Reader = Callable[[Connection, list[str]], Iterator[tuple[str, Described]]]


def _dataset_versions(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    return _versions_of(
        conn,
        keys,
        NodeKind.DATASET_VERSION,
        t.dataset_versions,
        t.datasets,
        "dataset_id",
        "dataset",
    )


def _feature_view_versions(conn: Connection, keys: list[str]) -> Iterator[tuple[str, Described]]:
    return _versions_of(
        conn,
        keys,
        NodeKind.FEATURE_VIEW_VERSION,
        t.feature_view_versions,
        t.feature_views,
        "feature_view_id",
        "feature-view",
    )


_READERS: dict[NodeKind, Reader] = {
    NodeKind.MODEL_VERSION: _model_versions,
    NodeKind.DATASET_VERSION: _dataset_versions,
    NodeKind.FEATURE_VIEW_VERSION: _feature_view_versions,
    NodeKind.RUN: _runs,
    NodeKind.EVALUATION: _evaluations,
    NodeKind.DEPLOYMENT: _deployments,
    NodeKind.ENVIRONMENT: _environments,
    NodeKind.CODE: _external,
    NodeKind.OL_DATASET: _external,
    NodeKind.OL_JOB: _external,
    NodeKind.OL_RUN: _external,
}


def describe(conn: Connection, nodes: dict[str, NodeKind]) -> dict[str, Described]:
    """``{surrogate key: kind}`` -> what each node is."""
    by_reader: dict[Reader, list[str]] = defaultdict(list)
    for key, kind in nodes.items():
        by_reader[_READERS[kind]].append(key)
    out: dict[str, Described] = {}
    for reader, keys in by_reader.items():
        for chunk in _chunks(keys):
            out.update(reader(conn, chunk))
    return out
