"""Where endpoints run: every route is a coroutine, and bookkeeping deferred off the event loop
still lands."""

from __future__ import annotations

import inspect
from pathlib import Path

import httpx
from fastapi.routing import iter_route_contexts

from cairn.local import LocalRegistry
from cairn.server.app import create_app
from cairn.server.routing import Work, work_of
from cairn.server.security import policy_of
from cairn.server.settings import ServerSettings
from tests.live import served_registry


def test_every_route_is_dispatched_and_keeps_its_access_rule(tmp_path: Path) -> None:
    app = create_app(ServerSettings(target=str(tmp_path), home=str(tmp_path)))
    # Ours: FastAPI's own (the API description and its viewer) are async and public already.
    routes = [r for r in iter_route_contexts(app.routes) if policy_of(r.endpoint) is not None]
    assert len(routes) > 50
    for route in routes:
        # A plain function would go through anyio's thread pool, behind the context's back.
        assert inspect.iscoroutinefunction(route.endpoint), route.path
    # A read that writes (the audit flushes the buffered access log) must not block the loop.
    audit = next(r for r in routes if r.path == "/api/v1/audit")
    assert work_of("GET", audit.endpoint) is Work.WRITE
    # Work that may take seconds never runs on the event loop.
    slow = {r.path for r in routes if work_of("POST", r.endpoint) is Work.SLOW}
    assert slow == {
        f"/api/v1/{path}"
        for path in (
            "log/check",
            "admin/rebuild",
            "versions/batch",
            "versions/import",
            "models/{team}/{name}/upgrade-facets",
            "audit/prune",
        )
    }
    schema = app.openapi()
    assert "cairn_dispatch_request" not in str(schema)


def test_a_tokens_last_use_is_recorded_by_the_server(tmp_path: Path) -> None:
    with served_registry(tmp_path) as (url, token, home):
        response = httpx.get(
            f"{url}/api/v1/models/fraud/churn", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
    # The server has stopped, so its deferred writes are done.
    registry = LocalRegistry.open(str(home), actor="user:check")
    try:
        used = registry.access_service(home).list_tokens("user:root")[0].last_used_at
    finally:
        registry.close()
    assert used is not None


def test_writes_and_reads_interleave_over_one_server(tmp_path: Path) -> None:
    with served_registry(tmp_path) as (url, token, _):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{url}/api/v1", headers=headers) as client:
            for n in range(1, 6):
                created = client.post(
                    "/versions",
                    json={
                        "model": "fraud/churn",
                        "artifact_uri": f"s3://m/{n}",
                        "digest": "sha256:" + f"{n}" * 64,
                    },
                )
                assert created.status_code == 201, created.text
                read = client.get(f"/models/fraud/churn/versions/{n}")
                assert read.json()["version"] == n
