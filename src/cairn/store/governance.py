"""Queries behind governance: policies, transition requests with their approvals, aliases.

All four tables are projections, written only by the projector; these read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, Table, func, select

from cairn.core.governance import (
    Alias,
    Approval,
    Policy,
    PolicyRules,
    RequestStatus,
    TransitionRequest,
    policy_id,
)
from cairn.store import tables as t

REQUEST_PREFIX = "transition:"


def _named(table: Table) -> Select[Any]:
    """``table``'s rows with the team, model name and number of the version each is about."""
    return (
        select(
            table,
            t.models.c.name.label("model_name"),
            t.teams.c.name.label("team"),
            t.model_versions.c.version.label("number"),
        )
        .join(t.models, t.models.c.id == table.c.model_id)
        .join(t.teams, t.teams.c.id == t.models.c.team_id)
        .join(t.model_versions, t.model_versions.c.id == table.c.version_id)
    )


def acts_for(conn: Connection, names: Iterable[str]) -> dict[str, str]:
    p = t.principals.c
    query = select(p.name, p.acts_for).where(p.name.in_(set(names)), p.acts_for.is_not(None))
    return {r.name: r.acts_for for r in conn.execute(query)}


def version_ref(conn: Connection, version_id: str) -> str:
    query = (
        select(t.teams.c.name, t.models.c.name, t.model_versions.c.version)
        .join(t.models, t.models.c.id == t.model_versions.c.model_id)
        .join(t.teams, t.teams.c.id == t.models.c.team_id)
        .where(t.model_versions.c.id == version_id)
    )
    team, name, number = conn.execute(query).one()
    return f"model:{team}/{name}@{number}"


def model_id_of(conn: Connection, version_id: str) -> str:
    query = select(t.model_versions.c.model_id).where(t.model_versions.c.id == version_id)
    return str(conn.execute(query).scalar_one())


def latest_policy_version(conn: Connection, team_id: str, name: str) -> int:
    p = t.policies.c
    query = select(func.max(p.version)).where(p.team_id == team_id, p.name == name)
    return int(conn.execute(query).scalar() or 0)


def policies(
    conn: Connection,
    *,
    team_id: str,
    name: str | None = None,
    version: int | None = None,
    latest: bool = False,
) -> list[Policy]:
    p = t.policies.c
    query = (
        select(t.policies, t.teams.c.name.label("team"))
        .join(t.teams, t.teams.c.id == p.team_id)
        .where(p.team_id == team_id)
        .order_by(p.name, p.version.desc())
    )
    if name is not None:
        query = query.where(p.name == name)
    if version is not None:
        query = query.where(p.version == version)
    out: list[Policy] = []
    seen: set[str] = set()
    for r in conn.execute(query):
        if latest and r.name in seen:
            continue
        seen.add(r.name)
        out.append(
            Policy(
                id=policy_id(r.team, r.name, r.version),
                team=r.team,
                name=r.name,
                version=r.version,
                rules=PolicyRules.model_validate(r.rules),
                created_by=r.created_by,
                created_at=r.created_at,
            )
        )
    return out


def alias_row(conn: Connection, model_id: str, alias: str) -> Any:
    a = t.model_aliases.c
    return conn.execute(
        select(t.model_aliases).where(a.model_id == model_id, a.alias == alias)
    ).first()


def has_pending(conn: Connection, version_id: str, alias: str) -> bool:
    r = t.transition_requests.c
    query = select(r.id).where(
        r.version_id == version_id,
        r.alias == alias,
        r.status == RequestStatus.PENDING,
    )
    return conn.execute(query).first() is not None


def requests(
    conn: Connection,
    *,
    request_id: str | None = None,
    model_id: str | None = None,
    status: RequestStatus | None = None,
    limit: int = 100,
) -> list[TransitionRequest]:
    r = t.transition_requests.c
    query = _named(t.transition_requests).order_by(r.created_at.desc(), r.id.desc()).limit(limit)
    if request_id is not None:
        query = query.where(r.id == request_id)
    if model_id is not None:
        query = query.where(r.model_id == model_id)
    if status is not None:
        query = query.where(r.status == status)
    rows = conn.execute(query).all()
    approvals: dict[str, list[Approval]] = {row.id: [] for row in rows}
    if rows:
        a = t.transition_approvals.c
        found = conn.execute(
            select(t.transition_approvals)
            .where(a.request_id.in_(list(approvals)))
            .order_by(a.approved_at, a.approved_by)
        )
        for approval in found:
            approvals[approval.request_id].append(
                Approval(
                    by=approval.approved_by,
                    at=approval.approved_at,
                    digest=approval.digest,
                    comment=approval.comment,
                )
            )
    return [
        TransitionRequest(
            id=f"{REQUEST_PREFIX}{row.id}",
            model=f"model:{row.team}/{row.model_name}",
            version=f"model:{row.team}/{row.model_name}@{row.number}",
            alias=row.alias,
            status=RequestStatus(row.status),
            requested_by=row.requested_by,
            reason=row.reason,
            release_notes=row.release_notes,
            digest=row.digest,
            approvals_needed=row.approvals_needed,
            approvals=approvals[row.id],
            policies=row.policies,
            unmet=row.unmet,
            decided_by=row.decided_by,
            decision_comment=row.decision_comment,
            created_at=row.created_at,
            updated_at=row.updated_at,
            revision=row.revision,
        )
        for row in rows
    ]


def aliases(
    conn: Connection, *, model_id: str | None = None, version_id: str | None = None
) -> list[Alias]:
    a = t.model_aliases.c
    query = _named(t.model_aliases).order_by(a.alias)
    if model_id is not None:
        query = query.where(a.model_id == model_id)
    if version_id is not None:
        query = query.where(a.version_id == version_id)
    return [
        Alias(
            model=f"model:{r.team}/{r.model_name}",
            alias=r.alias,
            version=f"model:{r.team}/{r.model_name}@{r.number}",
            digest=r.digest,
            request=f"{REQUEST_PREFIX}{r.request_id}" if r.request_id else None,
            set_by=r.set_by,
            set_at=r.set_at,
        )
        for r in conn.execute(query)
    ]
