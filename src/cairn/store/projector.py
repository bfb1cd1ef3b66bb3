"""Applies events to the read tables: the only code that writes them.

Live writes and ``cairn admin rebuild`` both go through :func:`project`, which is why a rebuild
yields exactly the rows the live registry had. Payloads carry every value a row needs (ids,
version numbers); times come from the event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Date, Table, Update, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cairn.core.events import EventType, format_time, parse_time
from cairn.core.lineage import (
    OPENLINEAGE_ID,
    EdgeType,
    NodeKind,
    external_key,
    split_dataset_name,
)
from cairn.core.openlineage import elements
from cairn.store import edges as graph
from cairn.store import reads
from cairn.store import tables as t
from cairn.store.driver import Writes, execute_many, insert_rows, inserting
from cairn.store.lineage import canonical as canonical_key
from cairn.store.types import UTCDateTime

Handler = Callable[[Connection, dict[str, Any], str, datetime], None]


@cache
def _bump_latest(parent: Table) -> Update:
    return (
        update(parent).where(parent.c.id == bindparam("_id")).values(latest_version=bindparam("_v"))
    )


def _column_value(table: Table, name: str, value: Any) -> Any:
    if value is None:
        return None
    kind = table.c[name].type
    if isinstance(kind, UTCDateTime) and isinstance(value, str):
        return parse_time(value)
    if isinstance(kind, Date) and isinstance(value, str):
        return date.fromisoformat(value)
    return value


@cache
def _columns(table: Table) -> tuple[frozenset[str], frozenset[str]]:
    """(all column names, names of date and time columns) of ``table``."""
    temporal = {c.name for c in table.c if isinstance(c.type, UTCDateTime | Date)}
    return frozenset(table.c.keys()), frozenset(temporal)


def _row(table: Table, payload: dict[str, Any]) -> dict[str, Any]:
    names, temporal = _columns(table)
    return {
        k: _column_value(table, k, v) if k in temporal else v
        for k, v in payload.items()
        if k in names
    }


def _create(table: Table, *, actor_column: str | None = None) -> Handler:
    """Insert the payload as a row, with audit times, and the actor in ``actor_column``."""

    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        row = _row(table, payload)
        row.update(created_at=at, updated_at=at, revision=1)  # columns a table lacks are ignored
        if actor_column:
            row[actor_column] = actor
        insert_rows(conn, table, [row])
        if "id" in payload:
            _put_facets(conn, payload["id"], payload.get("facets"))

    return handler


def _update(table: Table) -> Handler:
    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        values = _row(table, payload.get("changes", {}))
        values.update(updated_at=at, revision=table.c.revision + 1)
        conn.execute(update(table).where(table.c.id == payload["id"]).values(values))
        _put_facets(conn, payload["id"], payload.get("facets"))

    return handler


def _facet_rows(subject_id: str, facets: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [
        {
            "subject_id": subject_id,
            "name": name,
            "schema_version": facet["schema_version"],
            "producer": facet.get("producer"),
            "data": facet["data"],
        }
        for name, facet in (facets or {}).items()
    ]


def _put_facets(conn: Connection, subject_id: str, facets: dict[str, Any] | None) -> None:
    for row in _facet_rows(subject_id, facets):
        conn.execute(
            t.facets.delete().where(
                t.facets.c.subject_id == subject_id, t.facets.c.name == row["name"]
            )
        )
        insert_rows(conn, t.facets, [row])


def _links(conn: Connection, table: Table, owner: str, owner_id: str, ids: list[str]) -> None:
    if ids:
        rows = [
            {owner: owner_id, "dataset_version_id": ref, "position": i} for i, ref in enumerate(ids)
        ]
        insert_rows(conn, table, rows)


def _evaluation_row(
    version_id: str, ev: dict[str, Any], actor: str, at: datetime
) -> dict[str, Any]:
    return {
        "id": ev["id"],
        "version_id": version_id,
        "dataset_version_id": ev.get("dataset_version_id"),
        "slice": ev.get("slice", ""),
        "run_id": ev.get("run_id"),
        "recorded_by": actor,
        "recorded_at": at,
    }


def _metric_rows(version_id: str, ev: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"evaluation_id": ev["id"], "name": name, "version_id": version_id, "value": value}
        for name, value in ev["metrics"].items()
    ]


def _evaluation(
    conn: Connection, version_id: str, ev: dict[str, Any], actor: str, at: datetime
) -> None:
    insert_rows(conn, t.evaluations, [_evaluation_row(version_id, ev, actor, at)])
    insert_rows(conn, t.metrics, _metric_rows(version_id, ev))


class _Refs:
    """The names a version's read copy spells out (see ``model_versions.inputs_view``),
    looked up once for every dataset version and run that a batch of events names."""

    def __init__(
        self,
        conn: Connection,
        inputs: Sequence[dict[str, Any]],
        evaluations: Sequence[dict[str, Any]],
    ) -> None:
        self.datasets: dict[str, str] = {}
        self.runs: dict[str, str] = {}
        if not inputs and not evaluations:
            return  # registrations citing nothing, as most through the server do
        self.datasets = reads.dataset_version_ids(
            conn,
            [i["dataset_version_id"] for i in inputs]
            + [ev.get("dataset_version_id") for ev in evaluations],
        )
        self.runs = reads.run_refs(conn, [ev.get("run_id") for ev in evaluations])

    @classmethod
    def of_versions(cls, conn: Connection, payloads: Sequence[dict[str, Any]]) -> _Refs:
        """The names cited by ``model_version.registered`` payloads."""
        return cls(
            conn,
            [i for p in payloads for i in p.get("inputs", [])],
            [ev for p in payloads for ev in p.get("evaluations", [])],
        )

    def inputs(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"id": self.datasets[i["dataset_version_id"]], "digest": i.get("digest")}
            for i in payload.get("inputs", [])
        ]

    def metrics(self, evaluations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Evaluation by evaluation, in the order recorded; names sorted within each."""
        out: list[dict[str, Any]] = []
        for ev in evaluations:
            dataset, run = ev.get("dataset_version_id"), ev.get("run_id")
            common = {
                "dataset": self.datasets[dataset] if dataset else None,
                "slice": ev.get("slice", ""),
                "run": self.runs[run] if run else None,
            }
            out.extend(
                {"name": name, "value": value, **common}
                for name, value in sorted(ev["metrics"].items())
            )
        return out


def version_writes(
    conn: Connection, batch: Sequence[tuple[dict[str, Any], str, datetime]]
) -> Writes:
    """The statements and rows that apply many ``model_version.registered`` events.

    Registration is the hot path (and a rebuild replays millions of them): one ``executemany``
    per table, as statements per version would cost far more than the rows themselves.
    ``conn`` only reads: the names of the dataset versions and runs the events refer to.
    """
    refs = _Refs.of_versions(conn, [payload for payload, _, _ in batch])
    versions: list[dict[str, Any]] = []
    inputs: list[dict[str, Any]] = []
    evaluations: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    facets: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    latest: dict[str, int] = {}
    for payload, actor, at in batch:
        version_id = payload["id"]
        row = _row(t.model_versions, payload)
        row.update(
            registered_by=actor,
            created_at=at,
            updated_at=at,
            revision=1,
            deprecation=None,
            inputs_view=refs.inputs(payload),
            metrics_view=refs.metrics(payload.get("evaluations", [])),
        )
        versions.append(row)
        latest[payload["model_id"]] = max(latest.get(payload["model_id"], 0), payload["version"])
        inputs.extend(
            {
                "version_id": version_id,
                "dataset_version_id": item["dataset_version_id"],
                "position": i,
                "digest": item.get("digest"),
            }
            for i, item in enumerate(payload.get("inputs", []))
        )
        for ev in payload.get("evaluations", []):
            evaluations.append(_evaluation_row(version_id, ev, actor, at))
            metrics.extend(_metric_rows(version_id, ev))
        facets.extend(_facet_rows(version_id, payload.get("facets")))
        edges.extend(graph.version_edges(payload))
    writes: Writes = [
        (inserting(table), rows)
        for table, rows in (
            (t.model_versions, versions),
            (t.version_inputs, inputs),
            (t.evaluations, evaluations),
            (t.metrics, metrics),
            (t.facets, facets),
            (t.lineage_edges, edges),
        )
    ]
    writes.append((_bump_latest(t.models), [{"_id": k, "_v": v} for k, v in latest.items()]))
    return writes


def project_versions(
    conn: Connection, batch: Sequence[tuple[dict[str, Any], str, datetime]]
) -> None:
    """Apply many ``model_version.registered`` events (see :func:`version_writes`)."""
    for statement, rows in version_writes(conn, batch):
        execute_many(conn, statement, rows)


def _version_registered(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    project_versions(conn, [(payload, actor, at)])


def _versioned_child(table: Table, parent: Table, parent_key: str) -> Handler:
    create = _create(table, actor_column="created_by")

    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        create(conn, payload, actor, at)
        conn.execute(_bump_latest(parent), {"_id": payload[parent_key], "_v": payload["version"]})

    return handler


def _with_links(create: Handler, table: Table, owner: str, key: str) -> Handler:
    """``create``, then one link row per dataset version listed under ``key``."""

    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        create(conn, payload, actor, at)
        _links(conn, table, owner, payload["id"], payload.get(key, []))

    return handler


_retire = _update(t.deployments)


def _deployment_retired(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    changes = {"retired_at": payload["retired_at"]}
    _retire(conn, {"id": payload["id"], "changes": changes}, actor, at)


_METRICS_VIEW = select(t.model_versions.c.metrics_view).where(
    t.model_versions.c.id == bindparam("id")
)


def _evaluation_recorded(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    version_id = payload["version_id"]
    _evaluation(conn, version_id, payload, actor, at)
    insert_rows(conn, t.lineage_edges, graph.evaluation_edges(version_id, payload))
    shown = conn.execute(_METRICS_VIEW, {"id": version_id}).scalar_one()
    shown = [*shown, *_Refs(conn, [], [payload]).metrics([payload])]
    # The version's metrics are part of what a read of it returns, so its revision (its ETag)
    # moves with them: a cache or a client holding the old one must not take it as current.
    versions = t.model_versions
    conn.execute(
        update(versions)
        .where(versions.c.id == version_id)
        .values(metrics_view=shown, updated_at=at, revision=versions.c.revision + 1)
    )


def _insert_missing(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose key is not there yet (external nodes, reported edges)."""
    if rows:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def _with_edges(
    create: Handler, edges: Callable[[dict[str, Any]], list[dict[str, Any]]]
) -> Handler:
    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        create(conn, payload, actor, at)
        insert_rows(conn, t.lineage_edges, edges(payload))

    return handler


def _run_created(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    _create_run(conn, payload, actor, at)
    edges, nodes = graph.run_edges(payload, at)
    _insert_missing(conn, t.lineage_nodes, nodes)
    insert_rows(conn, t.lineage_edges, edges)


_create_run = _with_links(_create(t.runs), t.run_inputs, "run_id", "inputs")


def _identity_node(conn: Connection, dataset_id: str, at: datetime) -> str | None:
    """The key of the OpenLineage dataset a dataset says it is (created if new), or None."""
    external = conn.execute(
        select(t.datasets.c.external_ids).where(t.datasets.c.id == dataset_id)
    ).scalar_one()
    identity = (external or {}).get(OPENLINEAGE_ID)
    if not identity:
        return None
    node = graph.external_node(NodeKind.OL_DATASET, *split_dataset_name(identity), at)
    key = canonical_key(conn, str(node["id"]))
    if key == node["id"]:  # a name recorded as an alias has its canonical node already
        _insert_missing(conn, t.lineage_nodes, [node])
    return key


def _join_versions(conn: Connection, node: str, versions: list[str]) -> None:
    """``versioned_as`` edges from an OpenLineage dataset to dataset versions."""
    rows = [
        graph.edge(node, NodeKind.OL_DATASET, EdgeType.VERSIONED_AS, v, NodeKind.DATASET_VERSION)
        for v in versions
    ]
    insert_rows(conn, t.lineage_edges, rows)


def _dataset_updated(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    """A change of ``external_ids`` moves the join of every version to the identity now
    claimed (or removes it)."""
    _update_dataset(conn, payload, actor, at)
    if "external_ids" not in payload.get("changes", {}):
        return
    versions = [
        row.id
        for row in conn.execute(
            select(t.dataset_versions.c.id).where(t.dataset_versions.c.dataset_id == payload["id"])
        )
    ]
    if not versions:
        return
    conn.execute(
        delete(t.lineage_edges).where(
            t.lineage_edges.c.type == EdgeType.VERSIONED_AS,
            t.lineage_edges.c.target_id.in_(versions),
        )
    )
    node = _identity_node(conn, payload["id"], at)
    if node is not None:
        _join_versions(conn, node, versions)


_update_dataset = _update(t.datasets)


def _dataset_version_created(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    _create_dataset_version(conn, payload, actor, at)
    node = _identity_node(conn, payload["dataset_id"], at)
    if node is not None:
        _join_versions(conn, node, [payload["id"]])


_create_dataset_version = _versioned_child(t.dataset_versions, t.datasets, "dataset_id")


def _lineage_reported(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    """Merge an OpenLineage event's nodes (facets by key, the run's state by event time) and
    add its edges."""
    found = elements(payload["event"])
    nodes = t.lineage_nodes
    keys = {
        (node.kind, node.namespace, node.name): _reported_key(
            conn, node.kind, node.namespace, node.name
        )
        for node in found.nodes
    }
    for node in found.nodes:
        key = keys[node.kind, node.namespace, node.name]
        row = conn.execute(select(nodes).where(nodes.c.id == key)).first()
        if row is None:
            insert_rows(
                conn,
                nodes,
                [
                    {
                        **graph.external_node(node.kind, node.namespace, node.name, found.at),
                        "state": node.state,
                        "facets": node.facets,
                    }
                ],
            )
            continue
        later = found.at >= row.last_seen
        facets = {**row.facets, **node.facets} if later else {**node.facets, **row.facets}
        conn.execute(
            update(nodes)
            .where(nodes.c.id == key)
            .values(
                facets=facets,
                state=node.state if later and node.state else row.state,
                first_seen=min(row.first_seen, found.at),
                last_seen=max(row.last_seen, found.at),
            )
        )
    rows = [
        graph.edge(
            keys[a.kind, a.namespace, a.name],
            a.kind,
            type_,
            keys[b.kind, b.namespace, b.name],
            b.kind,
        )
        for a, type_, b in found.edges
    ]
    _insert_missing(conn, t.lineage_edges, rows)


def _reported_key(conn: Connection, kind: NodeKind, namespace: str, name: str) -> str:
    key = external_key(kind, namespace, name)
    return canonical_key(conn, key) if kind is NodeKind.OL_DATASET else key


def _identity_alias_added(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    """Record the alias and fold the alias's node, if it has one, into the canonical node."""
    canonical = payload["canonical"]
    kind = NodeKind(payload["kind"])
    node = graph.external_node(kind, canonical["namespace"], canonical["name"], at)
    _insert_missing(conn, t.lineage_nodes, [node])
    _merge_node(conn, payload["id"], payload["canonical_id"])
    row = {
        "id": payload["id"],
        "kind": payload["kind"],
        "namespace": payload["namespace"],
        "name": payload["name"],
        "canonical_id": payload["canonical_id"],
        "created_by": actor,
        "created_at": at,
    }
    insert_rows(conn, t.lineage_aliases, [row])


def _merge_node(conn: Connection, old: str, new: str) -> None:
    """Move ``old``'s edges (an edge between the two would become a loop: it goes) and facets
    onto ``new``, then drop ``old``."""
    n, e = t.lineage_nodes, t.lineage_edges
    gone = conn.execute(select(n).where(n.c.id == old)).first()
    if gone is None:
        return
    touching = or_(e.c.source_id == old, e.c.target_id == old)
    moved: list[dict[str, Any]] = []
    for r in conn.execute(select(e).where(touching)):
        edge = r._asdict()
        for end in ("source_id", "target_id"):
            if edge[end] == old:
                edge[end] = new
        if edge["source_id"] != edge["target_id"]:
            moved.append(edge)
    conn.execute(delete(e).where(touching))
    _insert_missing(conn, e, moved)
    kept = conn.execute(select(n).where(n.c.id == new)).one()
    conn.execute(
        update(n)
        .where(n.c.id == new)
        .values(
            facets={**gone.facets, **kept.facets},
            first_seen=min(gone.first_seen, kept.first_seen),
            last_seen=max(gone.last_seen, kept.last_seen),
        )
    )
    conn.execute(delete(n).where(n.c.id == old))


def _identity_alias_removed(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    conn.execute(delete(t.lineage_aliases).where(t.lineage_aliases.c.id == payload["id"]))


def _edge_added(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    nodes = [
        graph.external_node(NodeKind(n["kind"]), n["namespace"], n["name"], at)
        for n in payload.get("external", [])
    ]
    _insert_missing(conn, t.lineage_nodes, nodes)
    insert_rows(conn, t.lineage_edges, [_edge_row(payload)])


def _edge_removed(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    edges = t.lineage_edges.c
    conn.execute(
        delete(t.lineage_edges).where(
            edges.source_id == payload["source_id"],
            edges.target_id == payload["target_id"],
            edges.type == payload["type"],
        )
    )


def _edge_row(payload: dict[str, Any]) -> dict[str, Any]:
    return graph.edge(
        payload["source_id"],
        NodeKind(payload["source_kind"]),
        EdgeType(payload["type"]),
        payload["target_id"],
        NodeKind(payload["target_kind"]),
    )


def _role_granted(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    # A grant replaces whatever role the principal held in that team.
    _role_revoked(conn, payload, actor, at)
    insert_rows(conn, t.team_roles, [_row(t.team_roles, payload)])


def _role_revoked(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    roles = t.team_roles.c
    conn.execute(
        delete(t.team_roles).where(
            roles.principal_id == payload["principal_id"], roles.team_id == payload["team_id"]
        )
    )


def _outside_read_tables(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    """Pruning the access log changes no read table: the access log is not a projection."""


def _credentials_only(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    """Token events change no read table: the token row is written beside the event.

    Its hash must never enter the log, so the row cannot be a projection of it; the events are
    there so the log says who issued or revoked which token, for whom and until when.
    """


def _beside_the_log(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    """Webhook events change no read table: the subscription row is written beside the event,
    because its URL and secret must not enter the log (see ``tables.webhooks``)."""


def _transition_approved(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    # An approver approving again (after the version changed) replaces their approval.
    approvals = t.transition_approvals.c
    conn.execute(
        delete(t.transition_approvals).where(
            approvals.request_id == payload["request_id"], approvals.approved_by == actor
        )
    )
    row = {
        "request_id": payload["request_id"],
        "approved_by": actor,
        "approved_at": at,
        "digest": payload["digest"],
        "comment": payload.get("comment"),
    }
    insert_rows(conn, t.transition_approvals, [row])
    decided = payload["status"] != "pending"
    _request_status(conn, payload, actor if decided else None, at)


def _transition_decided(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    _request_status(conn, payload, actor, at)


def _request_status(
    conn: Connection, payload: dict[str, Any], decided_by: str | None, at: datetime
) -> None:
    values: dict[str, Any] = {
        "status": payload["status"],
        "updated_at": at,
        "revision": t.transition_requests.c.revision + 1,
    }
    if decided_by is not None:
        values.update(decided_by=decided_by, decision_comment=payload.get("comment"))
    for carried in ("unmet", "approvals_needed"):
        if carried in payload:
            values[carried] = payload[carried]
    conn.execute(
        update(t.transition_requests)
        .where(t.transition_requests.c.id == payload["request_id"])
        .values(values)
    )


def _alias_set(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    _alias_removed(conn, payload, actor, at)
    row = {**_row(t.model_aliases, payload), "set_by": actor, "set_at": at}
    insert_rows(conn, t.model_aliases, [row])


def _alias_removed(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    aliases = t.model_aliases.c
    conn.execute(
        delete(t.model_aliases).where(
            aliases.model_id == payload["model_id"], aliases.alias == payload["alias"]
        )
    )


def _deprecation_recorded(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    table = t.model_versions if payload["kind"] == "model_version" else t.models
    plan = {**payload["deprecation"], "by": actor, "at": format_time(at)}
    conn.execute(
        update(table)
        .where(table.c.id == payload["id"])
        .values(deprecation=plan, updated_at=at, revision=table.c.revision + 1)
    )


def _review_completed(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    review = {"by": actor, "at": format_time(at), "notes": payload.get("notes")}
    conn.execute(
        update(t.models)
        .where(t.models.c.id == payload["id"])
        .values(
            review_due=date.fromisoformat(payload["review_due"]),
            last_review=review,
            updated_at=at,
            revision=t.models.c.revision + 1,
        )
    )


HANDLERS: dict[str, Handler] = {
    EventType.TEAM_CREATED: _create(t.teams),
    EventType.TEAM_UPDATED: _update(t.teams),
    EventType.MODEL_CREATED: _create(t.models, actor_column="created_by"),
    EventType.MODEL_UPDATED: _update(t.models),
    EventType.VERSION_REGISTERED: _version_registered,
    EventType.VERSION_UPDATED: _update(t.model_versions),
    EventType.DATASET_CREATED: _create(t.datasets),
    EventType.DATASET_UPDATED: _dataset_updated,
    EventType.DATASET_VERSION_CREATED: _dataset_version_created,
    EventType.FEATURE_VIEW_CREATED: _create(t.feature_views),
    EventType.FEATURE_VIEW_UPDATED: _update(t.feature_views),
    EventType.FEATURE_VIEW_VERSION_CREATED: _with_edges(
        _with_links(
            _versioned_child(t.feature_view_versions, t.feature_views, "feature_view_id"),
            t.feature_view_sources,
            "feature_view_version_id",
            "sources",
        ),
        graph.feature_view_edges,
    ),
    EventType.RUN_CREATED: _run_created,
    EventType.RUN_UPDATED: _update(t.runs),
    EventType.ENVIRONMENT_CREATED: _create(t.environments),
    EventType.ENVIRONMENT_UPDATED: _update(t.environments),
    EventType.DEPLOYMENT_STARTED: _with_edges(
        _create(t.deployments, actor_column="deployed_by"), graph.deployment_edges
    ),
    EventType.DEPLOYMENT_RETIRED: _deployment_retired,
    EventType.EVALUATION_RECORDED: _evaluation_recorded,
    EventType.SCHEMA_PUBLISHED: _create(t.facet_schemas, actor_column="created_by"),
    EventType.PRINCIPAL_CREATED: _create(t.principals),
    EventType.PRINCIPAL_UPDATED: _update(t.principals),
    EventType.ROLE_GRANTED: _role_granted,
    EventType.ROLE_REVOKED: _role_revoked,
    EventType.ACCESS_LOG_PRUNED: _outside_read_tables,
    EventType.TOKEN_ISSUED: _credentials_only,
    EventType.TOKEN_REVOKED: _credentials_only,
    EventType.POLICY_PUBLISHED: _create(t.policies, actor_column="created_by"),
    EventType.TRANSITION_REQUESTED: _create(t.transition_requests, actor_column="requested_by"),
    EventType.TRANSITION_APPROVED: _transition_approved,
    EventType.TRANSITION_REJECTED: _transition_decided,
    EventType.TRANSITION_VOIDED: _transition_decided,
    EventType.ALIAS_SET: _alias_set,
    EventType.ALIAS_REMOVED: _alias_removed,
    EventType.DEPRECATION_RECORDED: _deprecation_recorded,
    EventType.REVIEW_COMPLETED: _review_completed,
    EventType.WEBHOOK_CREATED: _beside_the_log,
    EventType.WEBHOOK_UPDATED: _beside_the_log,
    EventType.WEBHOOK_DELETED: _beside_the_log,
    EventType.LINEAGE_REPORTED: _lineage_reported,
    EventType.LINEAGE_EDGE_ADDED: _edge_added,
    EventType.LINEAGE_EDGE_REMOVED: _edge_removed,
    EventType.LINEAGE_ALIAS_ADDED: _identity_alias_added,
    EventType.LINEAGE_ALIAS_REMOVED: _identity_alias_removed,
}


def project(
    conn: Connection, type_: str, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    """Apply one event to the read tables."""
    HANDLERS[type_](conn, payload, actor, at)
