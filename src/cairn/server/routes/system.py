"""Facet schemas, the event log (history, head, check), rebuild, health and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cairn.core import entities as e
from cairn.core import specs as s
from cairn.core.access import Action
from cairn.server.routes import Reg
from cairn.server.routes.catalog import Limit, _set
from cairn.server.routing import CairnRoute, slow
from cairn.server.security import public, requires

router = APIRouter(route_class=CairnRoute)
probes = APIRouter(route_class=CairnRoute)

SchemaName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,98}[a-z0-9]$")]


# -- facet schemas ---------------------------------------------------------------------------------
@router.post("/schemas", status_code=201, response_model=e.SchemaVersion, tags=["schemas"])
@requires(Action.PUBLISH_SCHEMA)
def register_schema(spec: s.SchemaSpec, reg: Reg) -> e.SchemaVersion:
    fields = _set(spec)
    return reg.register_schema(
        fields.pop("name"), fields.pop("version"), fields.pop("json_schema"), **fields
    )


@router.get("/schemas", response_model=list[e.SchemaVersion], tags=["schemas"])
@requires(Action.READ)
def list_schemas(reg: Reg) -> list[e.SchemaVersion]:
    return reg.list_schemas()


@router.get("/schemas/{name}", response_model=e.SchemaVersion, tags=["schemas"])
@requires(Action.READ)
def get_latest_schema(name: SchemaName, reg: Reg) -> e.SchemaVersion:
    return reg.get_schema(name)


@router.get("/schemas/{name}/{version}", response_model=e.SchemaVersion, tags=["schemas"])
@requires(Action.READ)
def get_schema(name: SchemaName, version: Annotated[int, Path(ge=1)], reg: Reg) -> e.SchemaVersion:
    return reg.get_schema(f"{name}/{version}")


# -- the event log ---------------------------------------------------------------------------------
@router.get("/history", response_model=list[e.Event], tags=["log"])
@requires(Action.READ)
def history(
    ref: Annotated[str, Query(min_length=1, max_length=400)],
    reg: Reg,
    limit: Limit = 100,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> list[e.Event]:
    return reg.history(ref, limit=limit, after=after)


@router.get("/log/head", response_model=e.LogHead, tags=["log"])
@requires(Action.READ)
def log_head(reg: Reg) -> e.LogHead:
    return reg.log_head()


@router.post("/log/check", response_model=e.LogReport, tags=["log"])
@requires(Action.AUDIT)
@slow
def check_log(reg: Reg) -> e.LogReport:
    return reg.check_log()


@router.post("/admin/rebuild", response_model=e.RebuildReport, tags=["admin"])
@requires(Action.REGISTRY_ADMIN)
@slow
def rebuild(reg: Reg) -> e.RebuildReport:
    return reg.rebuild()


# -- probes ----------------------------------------------------------------------------------------
@probes.get("/healthz", tags=["probes"])
@public
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@probes.get("/readyz", tags=["probes"])
@public
def readyz(request: Request) -> dict[str, str]:
    """The database answers (a load balancer stops sending traffic otherwise)."""
    request.app.state.cairn.ping()
    return {"status": "ready"}


@probes.get(
    "/metrics",
    tags=["probes"],
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
@public
def metrics() -> Response:
    """Prometheus metrics: requests by route and status, latency histograms."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
