"""Policies, transition requests and their decisions, and model aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from cairn.core import entities as e
from cairn.core import governance as g
from cairn.core.access import Action
from cairn.core.names import Kind
from cairn.server.routes import Reg
from cairn.server.routes.catalog import Limit, Name, Team
from cairn.server.routing import CairnRoute
from cairn.server.security import (
    Facts,
    body_ref,
    namespace,
    path_team,
    query_ref,
    requires,
    team_field,
)

router = APIRouter(route_class=CairnRoute, tags=["governance"])

RequestId = Annotated[str, Path(pattern=g.REQUEST_ID_PATTERN)]


def _request_team(facts: Facts) -> str | None:
    version = facts.request.app.state.cairn.transition_version(facts.path["request"])
    return namespace(version, Kind.MODEL)


def _policy_team(facts: Facts) -> str | None:
    return team_field(facts.body.get("team") if isinstance(facts.body, dict) else None)


# -- policies --------------------------------------------------------------------------------------
@router.post("/policies", status_code=201, response_model=g.Policy)
@requires(Action.TEAM_ADMIN, _policy_team)
def publish_policy(spec: g.PolicySpec, reg: Reg) -> g.Policy:
    return reg.publish_policy(spec.team, spec.name, spec.rules)


@router.get("/policies", response_model=list[g.Policy])
@requires(Action.READ)
def list_policies(reg: Reg, team: Annotated[str, Query(max_length=63)]) -> list[g.Policy]:
    return reg.list_policies(team)


@router.get("/policies/{team}/{name}", response_model=g.Policy)
@requires(Action.READ, path_team)
def get_policy(
    team: Team, name: Name, reg: Reg, version: Annotated[int | None, Query(ge=1)] = None
) -> g.Policy:
    return reg.get_policy(f"{team}/{name}" + (f"@{version}" if version else ""))


# -- transition requests ---------------------------------------------------------------------------
@router.post("/transitions", status_code=201, response_model=g.TransitionRequest)
@requires(Action.WRITE, body_ref("version"))
def request_transition(spec: g.TransitionSpec, reg: Reg) -> g.TransitionRequest:
    return reg.request_transition(
        spec.version, spec.alias, reason=spec.reason, release_notes=spec.release_notes
    )


@router.post("/transitions/{request}/approve", response_model=g.TransitionRequest)
@requires(Action.APPROVE, _request_team)
def approve_transition(
    request: RequestId, reg: Reg, body: g.ApprovalSpec | None = None
) -> g.TransitionRequest:
    return reg.approve_transition(request, comment=body.comment if body else None)


@router.post("/transitions/{request}/reject", response_model=g.TransitionRequest)
@requires(Action.APPROVE, _request_team)
def reject_transition(request: RequestId, body: g.RejectionSpec, reg: Reg) -> g.TransitionRequest:
    return reg.reject_transition(request, comment=body.comment)


@router.get("/transitions/{request}", response_model=g.TransitionRequest)
@requires(Action.READ, _request_team)
def get_transition(request: RequestId, reg: Reg) -> g.TransitionRequest:
    return reg.get_transition(request)


@router.get("/transitions", response_model=list[g.TransitionRequest])
@requires(Action.READ, query_ref("model", Kind.MODEL))
def list_transitions(
    reg: Reg,
    model: Annotated[str | None, Query(max_length=140)] = None,
    status: g.RequestStatus | None = None,
    limit: Limit = 100,
) -> list[g.TransitionRequest]:
    return reg.list_transitions(model=model, status=status, limit=limit)


# -- deprecation -----------------------------------------------------------------------------------
@router.post("/deprecations", status_code=201, response_model=e.Deprecation)
@requires(Action.WRITE, body_ref("subject"))
def deprecate(spec: g.DeprecationSpec, reg: Reg) -> e.Deprecation:
    return reg.deprecate(
        spec.subject, reason=spec.reason, sunset=spec.sunset, replacement=spec.replacement
    )


# -- reviews -------------------------------------------------------------------------------------
@router.post("/models/{team}/{name}/reviews", response_model=e.Model)
@requires(Action.APPROVE, path_team)
def complete_review(team: Team, name: Name, spec: g.ReviewSpec, reg: Reg) -> e.Model:
    return reg.complete_review(f"{team}/{name}", next_due=spec.next_due, notes=spec.notes)


@router.get("/reviews", response_model=list[e.Model])
@requires(Action.READ)
def list_reviews(
    reg: Reg,
    team: Annotated[str | None, Query(max_length=63)] = None,
    overdue_only: bool = True,
    limit: Limit = 100,
) -> list[e.Model]:
    return reg.list_reviews(team=team, overdue_only=overdue_only, limit=limit)


@router.get("/health", response_model=g.HealthReport)
@requires(Action.READ)
def metadata_health(
    reg: Reg, team: Annotated[str | None, Query(max_length=63)] = None
) -> g.HealthReport:
    return reg.metadata_health(team=team)


# -- aliases ---------------------------------------------------------------------------------------
@router.get("/models/{team}/{name}/aliases", response_model=list[g.Alias])
@requires(Action.READ, path_team)
def list_aliases(team: Team, name: Name, reg: Reg) -> list[g.Alias]:
    return reg.list_aliases(f"{team}/{name}")
