"""Runs, environments, deployments and the as-of serving query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict

from cairn.core import entities as e
from cairn.core import specs as s
from cairn.core.access import Action
from cairn.core.names import NAME_PATTERN, Kind
from cairn.server.routes import IfMatch, Reg, tagged
from cairn.server.routes.catalog import Limit, Name, Team, TeamFilter, _set
from cairn.server.routing import CairnRoute
from cairn.server.security import Facts, body_ref, namespace, path_team, requires

router = APIRouter(route_class=CairnRoute)

Environment = Annotated[str, Path(json_schema_extra={"pattern": NAME_PATTERN}, max_length=63)]
DeploymentId = Annotated[str, Path(pattern=r"^(deployment:)?[0-9a-f-]{36}$")]


class Retirement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = None


def _deployment_team(facts: Facts) -> str | None:
    version = facts.request.app.state.cairn.deployment_version(facts.path["deployment"])
    return namespace(version, Kind.MODEL)


# -- runs ------------------------------------------------------------------------------------------
@router.post("/runs", status_code=201, response_model=e.Run, tags=["runs"])
@requires(Action.WRITE, body_ref("ref", Kind.RUN))
def create_run(spec: s.RunSpec, reg: Reg) -> e.Run:
    return reg.create_run(**_set(spec))


@router.get("/runs", response_model=list[e.Run], tags=["runs"])
@requires(Action.READ)
def list_runs(reg: Reg, team: TeamFilter = None, limit: Limit = 100) -> list[e.Run]:
    return reg.list_runs(team=team, limit=limit)


@router.get("/runs/{team}/{name}", response_model=e.Run, tags=["runs"])
@requires(Action.READ, path_team)
def get_run(team: Team, name: Name, reg: Reg, response: Response) -> e.Run:
    return tagged(response, reg.get_run(f"{team}/{name}"))


@router.patch("/runs/{team}/{name}", response_model=e.Run, tags=["runs"])
@requires(Action.WRITE, path_team)
def update_run(
    team: Team,
    name: Name,
    patch: s.RunPatch,
    reg: Reg,
    response: Response,
    if_revision: IfMatch = None,
) -> e.Run:
    return tagged(
        response, reg.update_run(f"{team}/{name}", **_set(patch), if_revision=if_revision)
    )


# -- environments ----------------------------------------------------------------------------------
@router.post("/environments", status_code=201, response_model=e.Environment, tags=["environments"])
@requires(Action.REGISTRY_ADMIN)
def create_environment(spec: s.EnvironmentSpec, reg: Reg) -> e.Environment:
    return reg.create_environment(**_set(spec))


@router.get("/environments", response_model=list[e.Environment], tags=["environments"])
@requires(Action.READ)
def list_environments(reg: Reg, limit: Limit = 100) -> list[e.Environment]:
    return reg.list_environments(limit=limit)


@router.get("/environments/{environment}", response_model=e.Environment, tags=["environments"])
@requires(Action.READ)
def get_environment(environment: Environment, reg: Reg, response: Response) -> e.Environment:
    return tagged(response, reg.get_environment(environment))


@router.patch("/environments/{environment}", response_model=e.Environment, tags=["environments"])
@requires(Action.REGISTRY_ADMIN)
def update_environment(
    environment: Environment,
    patch: s.EnvironmentPatch,
    reg: Reg,
    response: Response,
    if_revision: IfMatch = None,
) -> e.Environment:
    return tagged(
        response, reg.update_environment(environment, **_set(patch), if_revision=if_revision)
    )


@router.get(
    "/environments/{environment}/serving", response_model=list[e.Serving], tags=["environments"]
)
@requires(Action.READ)
def serving(
    environment: Environment, at: Annotated[AwareDatetime, Query()], reg: Reg
) -> list[e.Serving]:
    return reg.serving(environment, at)


# -- deployments -----------------------------------------------------------------------------------
@router.post("/deployments", status_code=201, response_model=e.Deployment, tags=["deployments"])
@requires(Action.DEPLOY, body_ref("version"))
def deploy(spec: s.DeploymentSpec, reg: Reg) -> e.Deployment:
    return reg.deploy(spec.version, spec.environment, at=spec.at)


@router.post("/deployments/{deployment}/retire", response_model=e.Deployment, tags=["deployments"])
@requires(Action.DEPLOY, _deployment_team)
def retire_deployment(
    deployment: DeploymentId, reg: Reg, body: Retirement | None = None
) -> e.Deployment:
    return reg.retire_deployment(deployment, at=body.at if body else None)


@router.get("/deployments", response_model=list[e.Deployment], tags=["deployments"])
@requires(Action.READ)
def list_deployments(
    reg: Reg,
    environment: Annotated[str | None, Query(max_length=63)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    active_only: bool = False,
    limit: Limit = 100,
) -> list[e.Deployment]:
    return reg.list_deployments(
        environment=environment, model=model, active_only=active_only, limit=limit
    )
