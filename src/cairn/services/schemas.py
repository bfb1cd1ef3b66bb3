"""Facet schemas: publishing immutable versions, validating facets, upgrading old ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from cairn.core.entities import SchemaVersion
from cairn.core.errors import Conflict, NotFound, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.facets import (
    BUILTIN_PREFIX,
    BUILTIN_SCHEMAS,
    check_migration,
    check_schema,
    facet_name,
    migrate,
    parse_facet_key,
    validate,
)
from cairn.core.specs import ModelPatch, SchemaSpec, VersionPatch
from cairn.services.base import Service
from cairn.store import lookup, reads
from cairn.store import tables as t

_EPOCH_NOTE = "built into Cairn"


def _builtin(ref: str) -> SchemaVersion:
    from datetime import UTC, datetime

    name, version = ref.split("/")
    return SchemaVersion(
        name=name,
        version=int(version),
        team=None,
        description=_EPOCH_NOTE,
        json_schema=BUILTIN_SCHEMAS[ref],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        created_by="cairn",
        builtin=True,
    )


def _load(conn: Connection, name: str, version: int | None) -> SchemaVersion:
    query = reads.schema_query().where(t.facet_schemas.c.name == name)
    if version is None:
        query = query.order_by(t.facet_schemas.c.version.desc()).limit(1)
    else:
        query = query.where(t.facet_schemas.c.version == version)
    found = reads.schemas(conn, query)
    if not found:
        wanted = f"{name}/{version}" if version else name
        raise NotFound(
            f"facet schema {wanted} is not registered", id=wanted, hint="see 'cairn schema list'"
        )
    return found[0]


def resolve_facets(
    conn: Connection, facets: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Validate facet inputs (``{"acme.risk/2": {...}}``) and return their stored form."""
    out: dict[str, dict[str, Any]] = {}
    for key, data in facets.items():
        name, version = parse_facet_key(key)
        if name.startswith(BUILTIN_PREFIX):
            raise ValidationFailed(
                f"facet {name} is built in",
                field="facets",
                rule="builtin",
                hint="set it through its own field (documentation, dependencies)",
            )
        if name in out:
            raise ValidationFailed(f"facet {name} is given twice", field="facets", rule="unique")
        schema = _load(conn, name, version)
        payload = dict(data)
        producer = payload.pop("_producer", None)
        validate(schema.ref, schema.json_schema, payload)
        out[name] = {"schema_version": schema.version, "producer": producer, "data": payload}
    return out


def patch_payload(
    conn: Connection, entity_id: str, patch: ModelPatch | VersionPatch
) -> dict[str, Any]:
    """An update event's payload: the fields the caller set, and its facets validated."""
    changes = patch.model_dump(mode="json", include=patch.model_fields_set - {"facets"})
    return {"id": entity_id, "changes": changes, "facets": resolve_facets(conn, patch.facets)}


def upgraded(
    conn: Connection, name: str, version: int, data: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Carry facet ``data`` written under ``name/version`` up to the newest version."""
    latest = _load(conn, name, None)
    while version < latest.version:
        step = _load(conn, name, version + 1)
        data = migrate(data, step.migration or [])
        version += 1
    validate(latest.ref, latest.json_schema, data)
    return version, data


class SchemaService(Service):
    def register(self, spec: SchemaSpec) -> SchemaVersion:
        name = facet_name(spec.name)
        if name.startswith(BUILTIN_PREFIX):
            raise ValidationFailed(
                f"the '{BUILTIN_PREFIX}' prefix is reserved", field="name", rule="reserved"
            )
        check_schema(name, spec.version, spec.json_schema)
        if spec.migration is not None:
            check_migration(spec.migration)
        with self.store.write(self.actor) as tx:
            newest = (
                tx.conn.execute(
                    select(func.max(t.facet_schemas.c.version)).where(
                        t.facet_schemas.c.name == name
                    )
                ).scalar()
                or 0
            )
            if spec.version <= newest:
                raise Conflict(
                    f"schema {name}/{spec.version} is already published and cannot change",
                    hint=f"publish {name}/{newest + 1} with a migration",
                )
            if spec.version != newest + 1:
                raise ValidationFailed(
                    f"schema {name} is at version {newest}; the next must be {newest + 1}",
                    field="version",
                    rule="sequential",
                )
            if newest and spec.migration is None:
                raise ValidationFailed(
                    f"{name}/{spec.version} needs a migration from version {newest}",
                    field="migration",
                    rule="required",
                    hint="a JSON Patch; [] if nothing moves",
                )
            team_id = lookup.team_id(tx.conn, spec.team) if spec.team else None
            payload = {
                "name": name,
                "version": spec.version,
                "team_id": team_id,
                "description": spec.description,
                "json_schema": spec.json_schema,
                "migration": spec.migration,
            }
            tx.emit(
                EventDraft(EventType.SCHEMA_PUBLISHED, f"schema:{name}/{spec.version}", payload)
            )
            return _load(tx.conn, name, spec.version)

    def get(self, ref: str) -> SchemaVersion:
        name, version = parse_facet_key(ref)
        if name.startswith(BUILTIN_PREFIX):
            key = f"{name}/{version or 1}"
            if key not in BUILTIN_SCHEMAS:
                raise NotFound(f"facet schema {key} does not exist", id=key)
            return _builtin(key)
        with self.store.read() as conn:
            return _load(conn, name, version)

    def find(self) -> list[SchemaVersion]:
        with self.store.read() as conn:
            stored = reads.schemas(
                conn,
                reads.schema_query().order_by(t.facet_schemas.c.name, t.facet_schemas.c.version),
            )
        return [_builtin(ref) for ref in BUILTIN_SCHEMAS] + stored
