"""Prometheus metrics name each request by its route template, as the API documents it."""

from __future__ import annotations

import httpx

from tests.server.conftest import Server


def test_requests_are_counted_under_their_full_route_template(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        assert http.get("/api/v1/models/fraud/churn/versions/1").status_code == 200
        assert http.get("/api/v1/models/fraud/nothing-here").status_code == 404
        text = http.get("/metrics").text
    counted = [line for line in text.splitlines() if line.startswith("cairn_http_requests_total{")]
    assert any(
        'route="/api/v1/models/{team}/{name}/versions/{version}"' in line and 'status="200"' in line
        for line in counted
    ), counted
    assert any(
        'route="/api/v1/models/{team}/{name}"' in line and 'status="404"' in line
        for line in counted
    ), counted
    # Concrete paths never become labels: one series per route, not per model.
    assert not any("fraud/churn" in line for line in counted)
