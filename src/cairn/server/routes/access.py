"""Principals, team roles, API tokens and the access log, over HTTP.

``/me`` is the caller's own: who it is and its tokens. Everything about other principals is
for registry admins, team roles for the team's admins, the access log for auditors (pruning it
for registry admins). Only
``cairn admin bootstrap`` has no route: the first admin is made on the server's machine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cairn.core.access import Action
from cairn.core.entities import AccessPruned, AccessRecord, IssuedToken, PrincipalInfo, TokenInfo
from cairn.server.routes.catalog import Limit, Team
from cairn.server.routing import CairnRoute, slow, writes
from cairn.server.security import path_team, requires
from cairn.services.access import MIN_ACCESS_RETENTION, AccessService

router = APIRouter(tags=["access"], route_class=CairnRoute)

PrincipalName = Annotated[
    str,
    Path(max_length=80, json_schema_extra={"pattern": r"^(user|service):[a-z0-9][a-z0-9._-]*$"}),
]
TokenId = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{12}$")]


async def _access(request: Request) -> AccessService:  # no I/O: no thread hand-off
    service: AccessService = request.app.state.cairn.access_for(request)
    return service


Access = Annotated[AccessService, Depends(_access)]


class NewPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=80, examples=["service:ci"])
    display_name: str | None = Field(default=None, max_length=500)
    acts_for: str | None = Field(default=None, max_length=80, examples=["user:alice"])


class RegistryRoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "auditor"] | None


class TeamRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["viewer", "contributor", "approver", "admin"]


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=100)
    expires_in_seconds: int | None = Field(default=None, ge=60, le=10 * 365 * 86400)

    def lifetime(self) -> timedelta | None:
        seconds = self.expires_in_seconds
        return timedelta(seconds=seconds) if seconds is not None else None


def _caller(request: Request) -> str:
    return str(request.state.principal.name)


# -- the caller's own ------------------------------------------------------------------------------
@router.get("/me", response_model=PrincipalInfo)
@requires(Action.OWN_CREDENTIALS)
def whoami(request: Request, access: Access) -> PrincipalInfo:
    return access.describe(request.state.principal)


@router.post("/me/tokens", status_code=201, response_model=IssuedToken)
@requires(Action.OWN_CREDENTIALS)
def issue_own_token(request: Request, body: NewToken, access: Access) -> IssuedToken:
    return access.issue_token(_caller(request), name=body.name, expires_in=body.lifetime())


@router.get("/me/tokens", response_model=list[TokenInfo])
@requires(Action.OWN_CREDENTIALS)
def list_own_tokens(request: Request, access: Access) -> list[TokenInfo]:
    return access.list_tokens(_caller(request))


@router.post("/me/tokens/{token_id}/revoke", response_model=TokenInfo)
@requires(Action.OWN_CREDENTIALS)
def revoke_own_token(request: Request, token_id: TokenId, access: Access) -> TokenInfo:
    return access.revoke_token(token_id, owner=_caller(request))


# -- principals (registry admins) ------------------------------------------------------------------
@router.post("/principals", status_code=201, response_model=PrincipalInfo)
@requires(Action.REGISTRY_ADMIN)
def create_principal(body: NewPrincipal, access: Access) -> PrincipalInfo:
    return access.create_principal(
        body.name, display_name=body.display_name, acts_for=body.acts_for
    )


@router.get("/principals", response_model=list[PrincipalInfo])
@requires(Action.AUDIT)
def list_principals(
    access: Access, limit: Limit = 100, after: Annotated[str | None, Query(max_length=80)] = None
) -> list[PrincipalInfo]:
    return access.list_principals(limit=limit, after=after)


@router.get("/principals/{name}", response_model=PrincipalInfo)
@requires(Action.AUDIT)
def get_principal(name: PrincipalName, access: Access) -> PrincipalInfo:
    return access.get_principal(name)


@router.put("/principals/{name}/registry-role", response_model=PrincipalInfo)
@requires(Action.REGISTRY_ADMIN)
def set_registry_role(
    name: PrincipalName, body: RegistryRoleChange, access: Access
) -> PrincipalInfo:
    return access.set_registry_role(name, body.role)


@router.post("/principals/{name}/disable", response_model=PrincipalInfo)
@requires(Action.REGISTRY_ADMIN)
def disable_principal(name: PrincipalName, access: Access) -> PrincipalInfo:
    return access.set_disabled(name, True)


@router.post("/principals/{name}/enable", response_model=PrincipalInfo)
@requires(Action.REGISTRY_ADMIN)
def enable_principal(name: PrincipalName, access: Access) -> PrincipalInfo:
    return access.set_disabled(name, False)


@router.post("/principals/{name}/tokens", status_code=201, response_model=IssuedToken)
@requires(Action.REGISTRY_ADMIN)
def issue_token(name: PrincipalName, body: NewToken, access: Access) -> IssuedToken:
    return access.issue_token(name, name=body.name, expires_in=body.lifetime())


@router.get("/tokens", response_model=list[TokenInfo])
@requires(Action.AUDIT)
def list_tokens(
    access: Access, principal: Annotated[str | None, Query(max_length=80)] = None
) -> list[TokenInfo]:
    return access.list_tokens(principal)


@router.post("/tokens/{token_id}/revoke", response_model=TokenInfo)
@requires(Action.REGISTRY_ADMIN)
def revoke_token(token_id: TokenId, access: Access) -> TokenInfo:
    return access.revoke_token(token_id)


# -- team roles (the team's admins) ----------------------------------------------------------------
@router.put("/teams/{team}/roles/{name}", response_model=PrincipalInfo)
@requires(Action.TEAM_ADMIN, path_team)
def grant_role(team: Team, name: PrincipalName, body: TeamRole, access: Access) -> PrincipalInfo:
    return access.grant(name, team, body.role)


@router.delete("/teams/{team}/roles/{name}", response_model=PrincipalInfo)
@requires(Action.TEAM_ADMIN, path_team)
def revoke_role(team: Team, name: PrincipalName, access: Access) -> PrincipalInfo:
    return access.revoke_role(name, team)


# -- the access log (auditors read it, registry admins prune it) -----------------------------------
class Pruning(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than_seconds: int = Field(
        ge=int(MIN_ACCESS_RETENTION.total_seconds()), le=100 * 365 * 86400
    )


@router.post("/audit/prune", response_model=AccessPruned)
@requires(Action.REGISTRY_ADMIN)
@slow
def prune_access_log(request: Request, body: Pruning, access: Access) -> AccessPruned:
    request.app.state.cairn.flush_access()  # buffered records are pruned like the rest
    return access.prune_access_log(timedelta(seconds=body.older_than_seconds))


@router.get("/audit", response_model=list[AccessRecord])
@requires(Action.AUDIT)
@writes  # it flushes the buffered access records first
def audit(
    request: Request,
    access: Access,
    principal: Annotated[str | None, Query(max_length=80)] = None,
    outcome: Annotated[Literal["allowed", "denied", "failed"] | None, Query()] = None,
    limit: Limit = 100,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> list[AccessRecord]:
    request.app.state.cairn.flush_access()  # what is buffered so far is part of the answer
    return access.access_log(principal=principal, outcome=outcome, limit=limit, after=after)
