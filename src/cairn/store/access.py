"""Queries behind the access layer: principals with their roles, tokens, the access log.

Principals and roles are read here and written only by the projector; token rows and the
access log are not projections, so they are written here, beside the events that say so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    String,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from cairn.core.entities import AccessRecord, PrincipalInfo, TokenInfo
from cairn.store import tables as t
from cairn.store.driver import fetch, insert_rows, insert_values

AnyRow = Row[*tuple[Any, ...]]


def principal_row(conn: Connection, name: str) -> AnyRow | None:
    return conn.execute(select(t.principals).where(t.principals.c.name == name)).first()


def any_admin(conn: Connection) -> bool:
    query = select(t.principals.c.id).where(t.principals.c.registry_role == "admin").limit(1)
    return conn.execute(query).first() is not None


_ROLES_OF_ONE = (
    select(t.team_roles.c.role, t.teams.c.name)
    .join(t.teams, t.teams.c.id == t.team_roles.c.team_id)
    .where(t.team_roles.c.principal_id == bindparam("principal_id"))
    .order_by(t.teams.c.name)
)


def roles_of_one(conn: Connection, principal_id: str) -> dict[str, str]:
    """{team name: role name} of one principal (asked on every authenticated request)."""
    return {r.name: r.role for r in fetch(conn, _ROLES_OF_ONE, {"principal_id": principal_id})}


def roles_of(conn: Connection, principal_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """principal id -> {team name: role name}."""
    wanted = set(principal_ids)
    out: dict[str, dict[str, str]] = defaultdict(dict)
    if wanted:
        query = (
            select(t.team_roles.c.principal_id, t.team_roles.c.role, t.teams.c.name)
            .join(t.teams, t.teams.c.id == t.team_roles.c.team_id)
            .where(t.team_roles.c.principal_id.in_(wanted))
            .order_by(t.teams.c.name)
        )
        for r in conn.execute(query):
            out[r.principal_id][r.name] = r.role
    return out


def principals(conn: Connection, query: Select[Any]) -> list[PrincipalInfo]:
    rows = conn.execute(query).all()
    roles = roles_of(conn, (r.id for r in rows))
    return [
        PrincipalInfo(
            name=r.name,
            kind=r.kind,
            display_name=r.display_name,
            registry_role=r.registry_role,
            disabled=r.disabled,
            acts_for=r.acts_for,
            teams=roles.get(r.id, {}),
            created_at=r.created_at,
            updated_at=r.updated_at,
            revision=r.revision,
        )
        for r in rows
    ]


_TOKEN_INFO = select(
    t.api_tokens.c.id,
    t.principals.c.name.label("principal"),
    t.api_tokens.c.name,
    t.api_tokens.c.created_at,
    t.api_tokens.c.expires_at,
    t.api_tokens.c.revoked_at,
    t.api_tokens.c.last_used_at,
).join(t.principals, t.principals.c.id == t.api_tokens.c.principal_id)


def tokens(
    conn: Connection, *, principal_id: str | None = None, token_id: str | None = None
) -> list[TokenInfo]:
    """Tokens newest first, without their hashes."""
    query = _TOKEN_INFO.order_by(t.api_tokens.c.created_at.desc(), t.api_tokens.c.id)
    if principal_id is not None:
        query = query.where(t.api_tokens.c.principal_id == principal_id)
    if token_id is not None:
        query = query.where(t.api_tokens.c.id == token_id)
    return [TokenInfo.model_validate(r._asdict()) for r in conn.execute(query)]


_CREDENTIAL = (
    select(
        t.api_tokens.c.hash,
        t.api_tokens.c.expires_at,
        t.api_tokens.c.revoked_at,
        t.api_tokens.c.last_used_at,
        t.principals.c.id.label("principal_id"),
        t.principals.c.name.label("principal"),
        t.principals.c.registry_role,
        t.principals.c.disabled,
    )
    .join(t.principals, t.principals.c.id == t.api_tokens.c.principal_id)
    .where(t.api_tokens.c.id == bindparam("token_id"))
)


def credential(conn: Connection, token_id: str) -> Any | None:
    """What authentication needs to know about a token and its holder, in one query."""
    found = fetch(conn, _CREDENTIAL, {"token_id": token_id})
    return found[0] if found else None


def add_token(conn: Connection, info: TokenInfo, principal_id: str, hashed: str) -> None:
    row = info.model_dump(include={"id", "name", "created_at", "expires_at"})
    insert_rows(conn, t.api_tokens, [{**row, "principal_id": principal_id, "hash": hashed}])


def set_token_time(conn: Connection, token_id: str, column: str, at: datetime) -> None:
    conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == token_id).values({column: at}))


#: Every column of a record but its id (an explicit NULL id would defeat PostgreSQL's sequence).
_RECORD_COLUMNS = tuple(c.name for c in t.access_log.c if c.name != "id")
_APPEND = insert(t.access_log).values({name: bindparam(name) for name in _RECORD_COLUMNS})
#: The longest text each column holds: a long request path must not lose a batch of records.
_TEXT_LIMITS = tuple(
    (c.name, c.type.length)
    for c in t.access_log.c
    if isinstance(c.type, String) and c.type.length is not None
)


def append_access(conn: Connection, records: Sequence[AccessRecord]) -> None:
    rows = [r.model_dump(exclude={"id"}) for r in records]
    for row in rows:
        for name, length in _TEXT_LIMITS:
            value = row[name]
            if value is not None and len(value) > length:
                row[name] = value[:length]
    insert_values(conn, _APPEND, rows)


def prune_access(conn: Connection, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the oldest records from before ``before``; how many went."""
    log = t.access_log.c
    oldest = select(log.id).where(log.at < before).order_by(log.at).limit(limit)
    deleted = conn.execute(delete(t.access_log).where(log.id.in_(oldest.scalar_subquery())))
    return int(deleted.rowcount)


def access_page(
    conn: Connection,
    *,
    principal: str | None,
    outcome: str | None,
    limit: int,
    after: int | None,
) -> list[AccessRecord]:
    """Newest first; ``after`` is the id of the last record of the previous page."""
    log = t.access_log.c
    query = select(t.access_log).order_by(log.id.desc()).limit(limit)
    if principal is not None:
        query = query.where(log.principal == principal)
    if outcome is not None:
        query = query.where(log.outcome == outcome)
    if after is not None:
        query = query.where(log.id < after)
    return [AccessRecord.model_validate(r._asdict()) for r in conn.execute(query)]
