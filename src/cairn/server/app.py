"""The FastAPI application: routes under ``/api/v1``, probes at the root.

uvicorn --factory cairn.server.app:from_environment
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

import cairn
from cairn.core.access import GroupGrant
from cairn.core.durations import parse_span
from cairn.core.webhooks import ALLOW_ENV
from cairn.server import problems
from cairn.server.context import ServerContext
from cairn.server.middleware import RequestGuard
from cairn.server.openapi import ERROR_RESPONSES, add_problem_schema
from cairn.server.routes import (
    access,
    catalog,
    governance,
    lineage,
    operations,
    system,
    webhooks,
)
from cairn.server.routing import add_routes
from cairn.server.security import guard
from cairn.server.settings import ServerSettings
from cairn.services.oidc import OidcSettings
from cairn.store.keys import SECRET_KEY_ENV

API = "/api/v1"
RETENTION_ENV = "CAIRN_ACCESS_LOG_RETENTION"
#: ``cairn serve --oidc-*`` reach every worker as these variables (grants as a JSON list).
OIDC_ENV = {
    "issuer": "CAIRN_OIDC_ISSUER",
    "audience": "CAIRN_OIDC_AUDIENCE",
    "groups_claim": "CAIRN_OIDC_GROUPS_CLAIM",
    "name_claim": "CAIRN_OIDC_NAME_CLAIM",
    "grants": "CAIRN_OIDC_GRANTS",
}


def create_app(settings: ServerSettings) -> FastAPI:
    context = ServerContext(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # What is alive once the app is built (modules, schemas, compiled statements) lives as
        # long as the process: out of the collector's sight, a full collection no longer walks
        # it, which took 50 ms off the slowest wide lineage answers (docs/benchmarks.md).
        gc.freeze()
        yield
        context.close()

    app = FastAPI(
        title="Cairn",
        version=cairn.__version__,
        summary="A model registry that knows where every model came from.",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,  # no OAuth2 flow in the docs page: one route less
        dependencies=[Depends(guard)],
        lifespan=lifespan,
    )
    app.state.cairn = context
    problems.install(app)
    templates: dict[int, str] = {}  # id of a route -> its full path template
    for router, prefix in (
        (catalog.router, API),
        (operations.router, API),
        (system.router, API),
        (access.router, API),
        (governance.router, API),
        (webhooks.router, API),
        (lineage.router, API),
        (system.probes, ""),
    ):
        for route in add_routes(app, router, prefix=prefix, responses=ERROR_RESPONSES):
            templates[id(route)] = route.path_format
    _document_problems(app)
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        record=context.record_access,
        templates=templates,
    )
    return app


def _document_problems(app: FastAPI) -> None:
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problem_schema(plain())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def from_environment() -> FastAPI:
    """The app for ``uvicorn --factory``: settings from ``CAIRN_*`` variables."""
    home = os.environ.get("CAIRN_HOME", ".cairn")
    retention = os.environ.get(RETENTION_ENV)
    return create_app(
        ServerSettings(
            target=os.environ.get("CAIRN_REGISTRY") or home,
            home=home,
            insecure_open=os.environ.get("CAIRN_INSECURE_OPEN") == "1",
            secret_key=os.environ.get(SECRET_KEY_ENV) or None,
            access_retention=parse_span(retention, field=RETENTION_ENV) if retention else None,
            oidc=oidc_from_environment(),
            webhook_allow=tuple(os.environ.get(ALLOW_ENV, "").replace(",", " ").split()),
        )
    )


def oidc_from_environment() -> OidcSettings | None:
    issuer = os.environ.get(OIDC_ENV["issuer"])
    if not issuer:
        return None
    grants = json.loads(os.environ.get(OIDC_ENV["grants"]) or "[]")
    claims = {  # unset: OidcSettings' own defaults
        key: value
        for key in ("groups_claim", "name_claim")
        if (value := os.environ.get(OIDC_ENV[key]))
    }
    return OidcSettings(
        issuer=issuer,
        audience=os.environ.get(OIDC_ENV["audience"], ""),
        grants=tuple(GroupGrant.parse(grant) for grant in grants),
        **claims,
    )
