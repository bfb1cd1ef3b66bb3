"""Teams, models and their versions, datasets and feature views."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import JsonValue

from cairn.core import entities as e
from cairn.core import specs as s
from cairn.core.access import Action
from cairn.core.names import NAME_PATTERN, Kind
from cairn.server.context import ServerContext
from cairn.server.routes import IfMatch, Reg, tagged
from cairn.server.routing import CairnRoute, slow
from cairn.server.security import Facts, body_ref, namespace, path_team, requires
from cairn.server.settings import MAX_BATCH

router = APIRouter(route_class=CairnRoute)

Team = Annotated[str, Path(json_schema_extra={"pattern": NAME_PATTERN}, max_length=63)]
Name = Annotated[str, Path(json_schema_extra={"pattern": NAME_PATTERN}, max_length=63)]
Number = Annotated[int, Path(ge=1)]
Limit = Annotated[int, Query(ge=1, le=1000)]
After = Annotated[str | None, Query(max_length=200)]
TeamFilter = Annotated[str | None, Query(max_length=63)]


def _set(spec: s.Spec) -> dict[str, Any]:
    return spec.model_dump(exclude_unset=True)


def _batch_teams(facts: Facts) -> list[str] | None:
    """Every team a batch of registrations touches: each must be writable."""
    items = facts.body if isinstance(facts.body, list) else []
    teams = [namespace(i.get("model") if isinstance(i, dict) else None, Kind.MODEL) for i in items]
    if not teams or any(team is None for team in teams):
        return None
    return sorted({team for team in teams if team})


# -- teams -----------------------------------------------------------------------------------------
@router.post("/teams", status_code=201, response_model=e.Team, tags=["teams"])
@requires(Action.REGISTRY_ADMIN)
def create_team(spec: s.TeamSpec, reg: Reg) -> e.Team:
    return reg.create_team(**_set(spec))


@router.get("/teams", response_model=list[e.Team], tags=["teams"])
@requires(Action.READ)
def list_teams(reg: Reg, limit: Limit = 100, after: After = None) -> list[e.Team]:
    return reg.list_teams(limit=limit, after=after)


@router.get("/teams/{team}", response_model=e.Team, tags=["teams"])
@requires(Action.READ, path_team)
def get_team(team: Team, reg: Reg, response: Response) -> e.Team:
    return tagged(response, reg.get_team(team))


@router.patch("/teams/{team}", response_model=e.Team, tags=["teams"])
@requires(Action.TEAM_ADMIN, path_team)
def update_team(
    team: Team, patch: s.TeamPatch, reg: Reg, response: Response, if_revision: IfMatch = None
) -> e.Team:
    return tagged(response, reg.update_team(team, **_set(patch), if_revision=if_revision))


# -- models ----------------------------------------------------------------------------------------
@router.post("/models", status_code=201, response_model=e.Model, tags=["models"])
@requires(Action.WRITE, body_ref("ref"))
def create_model(spec: s.ModelSpec, reg: Reg) -> e.Model:
    return reg.create_model(**_set(spec))


@router.get("/models", response_model=list[e.Model], tags=["models"])
@requires(Action.READ)
def list_models(
    reg: Reg, team: TeamFilter = None, limit: Limit = 100, after: After = None
) -> list[e.Model]:
    return reg.list_models(team=team, limit=limit, after=after)


@router.get("/models/{team}/{name}", response_model=e.Model, tags=["models"])
@requires(Action.READ, path_team)
def get_model(team: Team, name: Name, reg: Reg, response: Response) -> e.Model:
    return tagged(response, reg.get_model(f"{team}/{name}"))


@router.patch("/models/{team}/{name}", response_model=e.Model, tags=["models"])
@requires(Action.WRITE, path_team)
def update_model(
    team: Team,
    name: Name,
    patch: s.ModelPatch,
    reg: Reg,
    response: Response,
    if_revision: IfMatch = None,
) -> e.Model:
    return tagged(
        response, reg.update_model(f"{team}/{name}", **_set(patch), if_revision=if_revision)
    )


@router.post("/models/{team}/{name}/upgrade-facets", response_model=list[str], tags=["models"])
@requires(Action.WRITE, path_team)
@slow
def upgrade_model_facets(team: Team, name: Name, reg: Reg) -> list[str]:
    return reg.upgrade_facets(f"{team}/{name}")


# -- versions --------------------------------------------------------------------------------------
@router.post("/versions", status_code=201, response_model=e.ModelVersion, tags=["versions"])
@requires(Action.WRITE, body_ref("model"))
async def register_version(spec: s.VersionSpec, request: Request) -> e.ModelVersion:
    server: ServerContext = request.app.state.cairn
    return await server.register_version(request, spec)


@router.post(
    "/versions/batch", status_code=201, response_model=list[e.ModelVersion], tags=["versions"]
)
@requires(Action.WRITE, _batch_teams)
@slow
def register_versions(
    specs: Annotated[list[s.VersionSpec], Body(max_length=MAX_BATCH)], reg: Reg
) -> list[e.ModelVersion]:
    return reg.register_versions(specs)


@router.post("/versions/import", response_model=e.ImportReport, tags=["versions"])
@requires(Action.WRITE, _batch_teams)
@slow
def import_versions(
    # Validated record by record by the import, so that an error names the record.
    specs: Annotated[list[dict[str, JsonValue]], Body(max_length=MAX_BATCH)],
    reg: Reg,
    batch_size: Annotated[int, Query(ge=1, le=MAX_BATCH)] = MAX_BATCH,
) -> e.ImportReport:
    return reg.import_versions(specs, batch_size=batch_size)


@router.get(
    "/models/{team}/{name}/versions", response_model=list[e.ModelVersion], tags=["versions"]
)
@requires(Action.READ, path_team)
def list_versions(
    team: Team,
    name: Name,
    reg: Reg,
    limit: Limit = 100,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> list[e.ModelVersion]:
    return reg.list_versions(f"{team}/{name}", limit=limit, after=after)


@router.get(
    "/models/{team}/{name}/versions/{version}", response_model=e.ModelVersion, tags=["versions"]
)
@requires(Action.READ, path_team)
def get_version(
    team: Team, name: Name, version: Number, reg: Reg, response: Response
) -> e.ModelVersion:
    return tagged(response, reg.get_version(f"{team}/{name}@{version}"))


@router.patch(
    "/models/{team}/{name}/versions/{version}", response_model=e.ModelVersion, tags=["versions"]
)
@requires(Action.WRITE, path_team)
def update_version(
    team: Team,
    name: Name,
    version: Number,
    patch: s.VersionPatch,
    reg: Reg,
    response: Response,
    if_revision: IfMatch = None,
) -> e.ModelVersion:
    return tagged(
        response,
        reg.update_version(f"{team}/{name}@{version}", **_set(patch), if_revision=if_revision),
    )


@router.post(
    "/models/{team}/{name}/versions/{version}/upgrade-facets",
    response_model=list[str],
    tags=["versions"],
)
@requires(Action.WRITE, path_team)
def upgrade_version_facets(team: Team, name: Name, version: Number, reg: Reg) -> list[str]:
    return reg.upgrade_facets(f"{team}/{name}@{version}")


@router.post("/evaluations", status_code=201, response_model=e.EvaluationResult, tags=["versions"])
@requires(Action.WRITE, body_ref("version"))
def record_evaluation(spec: s.EvaluationSpec, reg: Reg) -> e.EvaluationResult:
    fields = _set(spec)
    return reg.record_evaluation(fields.pop("version"), fields.pop("metrics"), **fields)


# -- datasets --------------------------------------------------------------------------------------
@router.post("/datasets", status_code=201, response_model=e.Dataset, tags=["datasets"])
@requires(Action.WRITE, body_ref("ref", Kind.DATASET))
def create_dataset(spec: s.DatasetSpec, reg: Reg) -> e.Dataset:
    return reg.create_dataset(**_set(spec))


@router.get("/datasets", response_model=list[e.Dataset], tags=["datasets"])
@requires(Action.READ)
def list_datasets(reg: Reg, team: TeamFilter = None, limit: Limit = 100) -> list[e.Dataset]:
    return reg.list_datasets(team=team, limit=limit)


@router.get("/datasets/{team}/{name}", response_model=e.Dataset, tags=["datasets"])
@requires(Action.READ, path_team)
def get_dataset(team: Team, name: Name, reg: Reg, response: Response) -> e.Dataset:
    return tagged(response, reg.get_dataset(f"{team}/{name}"))


@router.patch("/datasets/{team}/{name}", response_model=e.Dataset, tags=["datasets"])
@requires(Action.WRITE, path_team)
def update_dataset(
    team: Team,
    name: Name,
    patch: s.DatasetPatch,
    reg: Reg,
    response: Response,
    if_revision: IfMatch = None,
) -> e.Dataset:
    return tagged(
        response, reg.update_dataset(f"{team}/{name}", **_set(patch), if_revision=if_revision)
    )


@router.post(
    "/dataset-versions", status_code=201, response_model=e.DatasetVersion, tags=["datasets"]
)
@requires(Action.WRITE, body_ref("dataset", Kind.DATASET))
def add_dataset_version(spec: s.DatasetVersionSpec, reg: Reg) -> e.DatasetVersion:
    fields = _set(spec)
    return reg.add_dataset_version(fields.pop("dataset"), **fields)


@router.get(
    "/datasets/{team}/{name}/versions", response_model=list[e.DatasetVersion], tags=["datasets"]
)
@requires(Action.READ, path_team)
def list_dataset_versions(
    team: Team,
    name: Name,
    reg: Reg,
    limit: Limit = 100,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> list[e.DatasetVersion]:
    return reg.list_dataset_versions(f"{team}/{name}", limit=limit, after=after)


@router.get(
    "/datasets/{team}/{name}/versions/{version}",
    response_model=e.DatasetVersion,
    tags=["datasets"],
)
@requires(Action.READ, path_team)
def get_dataset_version(team: Team, name: Name, version: Number, reg: Reg) -> e.DatasetVersion:
    return reg.get_dataset_version(f"{team}/{name}@{version}")


# -- feature views ---------------------------------------------------------------------------------
@router.post(
    "/feature-views", status_code=201, response_model=e.FeatureView, tags=["feature views"]
)
@requires(Action.WRITE, body_ref("ref", Kind.FEATURE_VIEW))
def create_feature_view(spec: s.FeatureViewSpec, reg: Reg) -> e.FeatureView:
    return reg.create_feature_view(**_set(spec))


@router.get("/feature-views", response_model=list[e.FeatureView], tags=["feature views"])
@requires(Action.READ)
def list_feature_views(
    reg: Reg, team: TeamFilter = None, limit: Limit = 100
) -> list[e.FeatureView]:
    return reg.list_feature_views(team=team, limit=limit)


@router.get("/feature-views/{team}/{name}", response_model=e.FeatureView, tags=["feature views"])
@requires(Action.READ, path_team)
def get_feature_view(team: Team, name: Name, reg: Reg, response: Response) -> e.FeatureView:
    return tagged(response, reg.get_feature_view(f"{team}/{name}"))


@router.patch("/feature-views/{team}/{name}", response_model=e.FeatureView, tags=["feature views"])
@requires(Action.WRITE, path_team)
def update_feature_view(
    team: Team,
    name: Name,
    patch: s.FeatureViewPatch,
    reg: Reg,
    response: Response,
    if_revision: IfMatch = None,
) -> e.FeatureView:
    return tagged(
        response, reg.update_feature_view(f"{team}/{name}", **_set(patch), if_revision=if_revision)
    )


@router.post(
    "/feature-view-versions",
    status_code=201,
    response_model=e.FeatureViewVersion,
    tags=["feature views"],
)
@requires(Action.WRITE, body_ref("feature_view", Kind.FEATURE_VIEW))
def add_feature_view_version(spec: s.FeatureViewVersionSpec, reg: Reg) -> e.FeatureViewVersion:
    fields = _set(spec)
    return reg.add_feature_view_version(fields.pop("feature_view"), **fields)


@router.get(
    "/feature-views/{team}/{name}/versions/{version}",
    response_model=e.FeatureViewVersion,
    tags=["feature views"],
)
@requires(Action.READ, path_team)
def get_feature_view_version(
    team: Team, name: Name, version: Number, reg: Reg
) -> e.FeatureViewVersion:
    return reg.get_feature_view_version(f"{team}/{name}@{version}")
