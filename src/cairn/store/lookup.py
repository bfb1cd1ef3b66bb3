"""Find surrogate keys by stable identifier; raise :class:`NotFound` with a hint when absent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, select

from cairn.core.errors import Conflict, NotFound, PreconditionFailed
from cairn.core.names import Kind, Ref
from cairn.store import tables as t
from cairn.store.driver import Reader, fetch

_PARENTS: dict[Kind, tuple[Table, Table | None, str | None]] = {
    Kind.MODEL: (t.models, t.model_versions, "model_id"),
    Kind.DATASET: (t.datasets, t.dataset_versions, "dataset_id"),
    Kind.FEATURE_VIEW: (t.feature_views, t.feature_view_versions, "feature_view_id"),
    Kind.RUN: (t.runs, None, None),
}

_LIST_HINT = {
    Kind.TEAM: "cairn team list",
    Kind.MODEL: "cairn model list",
    Kind.DATASET: "cairn dataset list",
    Kind.FEATURE_VIEW: "cairn feature-view list",
    Kind.RUN: "cairn run list",
    Kind.ENVIRONMENT: "cairn env list",
}


def _missing(ref: Ref | str, kind: Kind) -> NotFound:
    hint = f"see '{_LIST_HINT[kind]}'" if kind in _LIST_HINT else None
    return NotFound(f"{ref} does not exist", id=str(ref), hint=hint)


_TEAM = select(t.teams.c.id).where(t.teams.c.name == bindparam("name"))


def team_id(conn: Reader, name: str) -> str:
    found = fetch(conn, _TEAM, {"name": name})
    if not found:
        raise _missing(f"team:{name}", Kind.TEAM)
    return str(found[0].id)


def vacant(conn: Connection, table: Table, ref: Ref) -> str:
    """The owning team's key for a new ``team/name`` in ``table``; Conflict if it is taken."""
    owner = team_id(conn, str(ref.namespace))
    taken = conn.execute(
        select(table.c.id).where(table.c.team_id == owner, table.c.name == ref.name)
    ).first()
    if taken:
        raise Conflict(f"{ref} already exists", id=str(ref))
    return owner


def environment_id(conn: Connection, name: str) -> str:
    found = conn.execute(select(t.environments.c.id).where(t.environments.c.name == name)).scalar()
    if found is None:
        raise _missing(f"environment:{name}", Kind.ENVIRONMENT)
    return str(found)


def _entity_statement(table: Table) -> Select[Any]:
    return (
        select(table.c.id)
        .join(t.teams, t.teams.c.id == table.c.team_id)
        .where(t.teams.c.name == bindparam("team"), table.c.name == bindparam("name"))
    )


def _version_statement(versions: Table, parent_key: str) -> Select[Any]:
    return select(versions.c.id).where(
        versions.c[parent_key] == bindparam("parent"), versions.c.version == bindparam("version")
    )


_ENTITY = {kind: _entity_statement(table) for kind, (table, _, _) in _PARENTS.items()}
_VERSION = {
    kind: _version_statement(versions, parent_key)
    for kind, (_, versions, parent_key) in _PARENTS.items()
    if versions is not None and parent_key is not None
}


def entity_id(conn: Reader, ref: Ref) -> str:
    """The surrogate key of a namespaced entity, or of one of its versions if ``ref`` names one."""
    assert ref.namespace is not None
    parent = fetch(conn, _ENTITY[ref.kind], {"team": ref.namespace, "name": ref.name})
    if not parent:
        raise _missing(ref.unversioned(), ref.kind)
    if ref.version is None:
        return str(parent[0].id)
    found = fetch(conn, _VERSION[ref.kind], {"parent": parent[0].id, "version": ref.version})
    if not found:
        raise NotFound(
            f"{ref} does not exist", id=str(ref), hint=f"list versions of {ref.unversioned()}"
        )
    return str(found[0].id)


def expect_revision(
    conn: Connection, table: Table, row_id: str, expected: int | None, what: str
) -> None:
    """Refuse a write based on a stale read: ``expected`` must be the row's revision now.

    Runs inside the write transaction, which holds the registry's write lock, so nothing can
    change the row between this check and the update.
    """
    if expected is None:
        return
    current = conn.execute(select(table.c.revision).where(table.c.id == row_id)).scalar_one()
    if current != expected:
        raise PreconditionFailed(
            f"{what} is at revision {current}, not {expected}: it changed since you read it",
            current_revision=current,
            hint="read it again, reapply your change, and retry",
        )
