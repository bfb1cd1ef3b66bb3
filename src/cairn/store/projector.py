"""Applies events to the read tables: the only code that writes them.

Live writes and ``cairn admin rebuild`` both go through :func:`project`, which is why a rebuild
yields exactly the rows the live registry had. Payloads carry every value a row needs (ids,
version numbers); times come from the event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, Table, insert, update

from cairn.core.events import EventType, parse_time
from cairn.store import tables as t
from cairn.store.types import UTCDateTime

Handler = Callable[[Connection, dict[str, Any], str, datetime], None]


def _column_value(table: Table, name: str, value: Any) -> Any:
    if value is None:
        return None
    kind = table.c[name].type
    if isinstance(kind, UTCDateTime) and isinstance(value, str):
        return parse_time(value)
    if isinstance(kind, Date) and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _row(table: Table, payload: dict[str, Any]) -> dict[str, Any]:
    return {k: _column_value(table, k, v) for k, v in payload.items() if k in table.c}


def _create(table: Table) -> Handler:
    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        row = _row(table, payload)
        if "created_at" in table.c:
            row.update(created_at=at, updated_at=at, revision=1)
        conn.execute(insert(table).values(row))
        _put_facets(conn, payload["id"], payload.get("facets"))

    return handler


def _update(table: Table) -> Handler:
    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        values = _row(table, payload.get("changes", {}))
        values.update(updated_at=at, revision=table.c.revision + 1)
        conn.execute(update(table).where(table.c.id == payload["id"]).values(values))
        _put_facets(conn, payload["id"], payload.get("facets"))

    return handler


def _put_facets(conn: Connection, subject_id: str, facets: dict[str, Any] | None) -> None:
    for name, facet in (facets or {}).items():
        conn.execute(
            t.facets.delete().where(t.facets.c.subject_id == subject_id, t.facets.c.name == name)
        )
        conn.execute(
            insert(t.facets).values(
                subject_id=subject_id,
                name=name,
                schema_version=facet["schema_version"],
                producer=facet.get("producer"),
                data=facet["data"],
            )
        )


def _links(conn: Connection, table: Table, owner: str, owner_id: str, ids: list[str]) -> None:
    if ids:
        rows = [
            {owner: owner_id, "dataset_version_id": ref, "position": i} for i, ref in enumerate(ids)
        ]
        conn.execute(insert(table), rows)


def _evaluation(
    conn: Connection, version_id: str, ev: dict[str, Any], actor: str, at: datetime
) -> None:
    conn.execute(
        insert(t.evaluations).values(
            id=ev["id"],
            version_id=version_id,
            dataset_version_id=ev.get("dataset_version_id"),
            slice=ev.get("slice", ""),
            run_id=ev.get("run_id"),
            recorded_by=actor,
            recorded_at=at,
        )
    )
    rows = [
        {"evaluation_id": ev["id"], "name": name, "version_id": version_id, "value": value}
        for name, value in ev["metrics"].items()
    ]
    conn.execute(insert(t.metrics), rows)


def _version_registered(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    row = _row(t.model_versions, payload)
    row.update(registered_by=actor, created_at=at, updated_at=at, revision=1)
    conn.execute(insert(t.model_versions).values(row))
    conn.execute(
        update(t.models)
        .where(t.models.c.id == payload["model_id"])
        .values(latest_version=payload["version"])
    )
    if payload.get("inputs"):
        conn.execute(
            insert(t.version_inputs),
            [
                {
                    "version_id": payload["id"],
                    "dataset_version_id": item["dataset_version_id"],
                    "position": i,
                    "digest": item.get("digest"),
                }
                for i, item in enumerate(payload["inputs"])
            ],
        )
    for evaluation in payload.get("evaluations", []):
        _evaluation(conn, payload["id"], evaluation, actor, at)
    _put_facets(conn, payload["id"], payload.get("facets"))


def _versioned_child(table: Table, parent: Table, parent_key: str) -> Handler:
    create = _create(table)

    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        create(conn, {**payload, "created_by": actor}, actor, at)
        conn.execute(
            update(parent)
            .where(parent.c.id == payload[parent_key])
            .values(latest_version=payload["version"])
        )

    return handler


def _dataset_version(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    _versioned_child(t.dataset_versions, t.datasets, "dataset_id")(conn, payload, actor, at)


def _feature_view_version(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    _versioned_child(t.feature_view_versions, t.feature_views, "feature_view_id")(
        conn, payload, actor, at
    )
    _links(
        conn,
        t.feature_view_sources,
        "feature_view_version_id",
        payload["id"],
        payload.get("sources", []),
    )


def _run_created(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    _create(t.runs)(conn, payload, actor, at)
    _links(conn, t.run_inputs, "run_id", payload["id"], payload.get("inputs", []))


def _with_creator(table: Table) -> Handler:
    create = _create(table)

    def handler(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
        create(conn, {**payload, "created_by": actor}, actor, at)

    return handler


def _deployment_started(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    _create(t.deployments)(conn, {**payload, "deployed_by": actor}, actor, at)


def _deployment_retired(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    _update(t.deployments)(
        conn, {"id": payload["id"], "changes": {"retired_at": payload["retired_at"]}}, actor, at
    )


def _evaluation_recorded(
    conn: Connection, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    _evaluation(conn, payload["version_id"], payload, actor, at)


def _schema_published(conn: Connection, payload: dict[str, Any], actor: str, at: datetime) -> None:
    conn.execute(
        insert(t.facet_schemas).values(
            **_row(t.facet_schemas, payload), created_by=actor, created_at=at
        )
    )


HANDLERS: dict[str, Handler] = {
    EventType.TEAM_CREATED: _create(t.teams),
    EventType.TEAM_UPDATED: _update(t.teams),
    EventType.MODEL_CREATED: _with_creator(t.models),
    EventType.MODEL_UPDATED: _update(t.models),
    EventType.VERSION_REGISTERED: _version_registered,
    EventType.VERSION_UPDATED: _update(t.model_versions),
    EventType.DATASET_CREATED: _create(t.datasets),
    EventType.DATASET_UPDATED: _update(t.datasets),
    EventType.DATASET_VERSION_CREATED: _dataset_version,
    EventType.FEATURE_VIEW_CREATED: _create(t.feature_views),
    EventType.FEATURE_VIEW_UPDATED: _update(t.feature_views),
    EventType.FEATURE_VIEW_VERSION_CREATED: _feature_view_version,
    EventType.RUN_CREATED: _run_created,
    EventType.RUN_UPDATED: _update(t.runs),
    EventType.ENVIRONMENT_CREATED: _create(t.environments),
    EventType.ENVIRONMENT_UPDATED: _update(t.environments),
    EventType.DEPLOYMENT_STARTED: _deployment_started,
    EventType.DEPLOYMENT_RETIRED: _deployment_retired,
    EventType.EVALUATION_RECORDED: _evaluation_recorded,
    EventType.SCHEMA_PUBLISHED: _schema_published,
}


def project(
    conn: Connection, type_: str, payload: dict[str, Any], actor: str, at: datetime
) -> None:
    """Apply one event to the read tables."""
    HANDLERS[type_](conn, payload, actor, at)
