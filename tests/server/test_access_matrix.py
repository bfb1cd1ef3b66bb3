"""Every route of the app, called by every kind of principal against a real server.

TABLE says, in this test's own words, the least each route needs; ``may`` says which principals
that lets in. Neither asks ``cairn.core.access.allowed``: the server's gate is checked against
an independent statement of the rules, not against itself. A route added to the app without a
row here fails ``test_table_names_every_route``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts

from cairn.local import LocalRegistry
from cairn.server.app import create_app
from cairn.server.settings import ServerSettings
from cairn.store.engine import resolve_url
from tests.live import serve
from tests.server.conftest import (
    API,
    DIGEST,
    PROBLEM,
    SUBJECT,
    WEBHOOK_URL,
    Server,
    principals,
    seed,
    started,
)


@dataclass(frozen=True)
class Sample:
    needs: str  # one of REQUIREMENTS
    path: str  # a concrete path; {deployment} and {token} are filled in
    body: Any = None


VERSION = {"model": "fraud/churn", "artifact_uri": "s3://models/churn/x", "digest": DIGEST}
AT = "2030-01-01T00:00:00Z"

# (method, path template as the app declares it) -> what it needs, and a sample call.
TABLE: dict[tuple[str, str], Sample] = {
    # FastAPI's own plain routes: the API description and its viewer.
    ("GET", f"{API}/openapi.json"): Sample("public", f"{API}/openapi.json"),
    ("HEAD", f"{API}/openapi.json"): Sample("public", f"{API}/openapi.json"),
    ("GET", f"{API}/docs"): Sample("public", f"{API}/docs"),
    ("HEAD", f"{API}/docs"): Sample("public", f"{API}/docs"),
    # probes
    ("GET", "/healthz"): Sample("public", "/healthz"),
    ("GET", "/readyz"): Sample("public", "/readyz"),
    ("GET", "/metrics"): Sample("public", "/metrics"),
    # teams
    ("POST", f"{API}/teams"): Sample("registry admin", f"{API}/teams", {"name": "matrix"}),
    ("GET", f"{API}/teams"): Sample("any principal", f"{API}/teams"),
    ("GET", f"{API}/teams/{{team}}"): Sample("any principal", f"{API}/teams/fraud"),
    ("PATCH", f"{API}/teams/{{team}}"): Sample(
        "fraud admin", f"{API}/teams/fraud", {"description": "catches fraud"}
    ),
    # models and versions
    ("POST", f"{API}/models"): Sample(
        "fraud contributor", f"{API}/models", {"ref": "fraud/matrix"}
    ),
    ("GET", f"{API}/models"): Sample("any principal", f"{API}/models?team=fraud"),
    ("GET", f"{API}/models/{{team}}/{{name}}"): Sample(
        "any principal", f"{API}/models/fraud/churn"
    ),
    ("PATCH", f"{API}/models/{{team}}/{{name}}"): Sample(
        "fraud contributor", f"{API}/models/fraud/churn", {"task": "classification"}
    ),
    ("POST", f"{API}/models/{{team}}/{{name}}/upgrade-facets"): Sample(
        "fraud contributor", f"{API}/models/fraud/churn/upgrade-facets"
    ),
    ("POST", f"{API}/versions"): Sample("fraud contributor", f"{API}/versions", VERSION),
    ("POST", f"{API}/versions/batch"): Sample(
        "fraud contributor", f"{API}/versions/batch", [VERSION]
    ),
    ("POST", f"{API}/versions/import"): Sample(
        "fraud contributor", f"{API}/versions/import", [VERSION]
    ),
    ("GET", f"{API}/models/{{team}}/{{name}}/versions"): Sample(
        "any principal", f"{API}/models/fraud/churn/versions"
    ),
    ("GET", f"{API}/models/{{team}}/{{name}}/versions/{{version}}"): Sample(
        "any principal", f"{API}/models/fraud/churn/versions/1"
    ),
    ("PATCH", f"{API}/models/{{team}}/{{name}}/versions/{{version}}"): Sample(
        "fraud contributor", f"{API}/models/fraud/churn/versions/1", {"description": "v1"}
    ),
    ("POST", f"{API}/models/{{team}}/{{name}}/versions/{{version}}/upgrade-facets"): Sample(
        "fraud contributor", f"{API}/models/fraud/churn/versions/1/upgrade-facets"
    ),
    ("POST", f"{API}/evaluations"): Sample(
        "fraud contributor",
        f"{API}/evaluations",
        {"version": "fraud/churn@1", "metrics": {"auc": 0.9}},
    ),
    # datasets
    ("POST", f"{API}/datasets"): Sample(
        "fraud contributor", f"{API}/datasets", {"ref": "fraud/matrix"}
    ),
    ("GET", f"{API}/datasets"): Sample("any principal", f"{API}/datasets"),
    ("GET", f"{API}/datasets/{{team}}/{{name}}"): Sample(
        "any principal", f"{API}/datasets/fraud/customers"
    ),
    ("PATCH", f"{API}/datasets/{{team}}/{{name}}"): Sample(
        "fraud contributor", f"{API}/datasets/fraud/customers", {"description": "people"}
    ),
    ("POST", f"{API}/dataset-versions"): Sample(
        "fraud contributor", f"{API}/dataset-versions", {"dataset": "fraud/customers"}
    ),
    ("GET", f"{API}/datasets/{{team}}/{{name}}/versions"): Sample(
        "any principal", f"{API}/datasets/fraud/customers/versions"
    ),
    ("GET", f"{API}/datasets/{{team}}/{{name}}/versions/{{version}}"): Sample(
        "any principal", f"{API}/datasets/fraud/customers/versions/1"
    ),
    # feature views
    ("POST", f"{API}/feature-views"): Sample(
        "fraud contributor", f"{API}/feature-views", {"ref": "fraud/matrix"}
    ),
    ("GET", f"{API}/feature-views"): Sample("any principal", f"{API}/feature-views"),
    ("GET", f"{API}/feature-views/{{team}}/{{name}}"): Sample(
        "any principal", f"{API}/feature-views/fraud/spend"
    ),
    ("PATCH", f"{API}/feature-views/{{team}}/{{name}}"): Sample(
        "fraud contributor", f"{API}/feature-views/fraud/spend", {"description": "spend"}
    ),
    ("POST", f"{API}/feature-view-versions"): Sample(
        "fraud contributor", f"{API}/feature-view-versions", {"feature_view": "fraud/spend"}
    ),
    ("GET", f"{API}/feature-views/{{team}}/{{name}}/versions/{{version}}"): Sample(
        "any principal", f"{API}/feature-views/fraud/spend/versions/1"
    ),
    # runs
    ("POST", f"{API}/runs"): Sample("fraud contributor", f"{API}/runs", {"ref": "fraud/matrix"}),
    ("GET", f"{API}/runs"): Sample("any principal", f"{API}/runs"),
    ("GET", f"{API}/runs/{{team}}/{{name}}"): Sample("any principal", f"{API}/runs/fraud/train-1"),
    ("PATCH", f"{API}/runs/{{team}}/{{name}}"): Sample(
        "fraud contributor", f"{API}/runs/fraud/train-1", {"parameters": {"depth": "6"}}
    ),
    # environments, deployments
    ("POST", f"{API}/environments"): Sample(
        "registry admin", f"{API}/environments", {"name": "matrix", "stage": "staging"}
    ),
    ("GET", f"{API}/environments"): Sample("any principal", f"{API}/environments"),
    ("GET", f"{API}/environments/{{environment}}"): Sample(
        "any principal", f"{API}/environments/prod"
    ),
    ("PATCH", f"{API}/environments/{{environment}}"): Sample(
        "registry admin", f"{API}/environments/prod", {"description": "the real thing"}
    ),
    ("GET", f"{API}/environments/{{environment}}/serving"): Sample(
        "any principal", f"{API}/environments/prod/serving?at={AT}"
    ),
    ("POST", f"{API}/deployments"): Sample(
        "fraud approver", f"{API}/deployments", {"version": "fraud/churn@1", "environment": "prod"}
    ),
    ("POST", f"{API}/deployments/{{deployment}}/retire"): Sample(
        "fraud approver", f"{API}/deployments/{{deployment}}/retire"
    ),
    ("GET", f"{API}/deployments"): Sample("any principal", f"{API}/deployments?environment=prod"),
    # facet schemas
    ("POST", f"{API}/schemas"): Sample(
        "contributor of any team",
        f"{API}/schemas",
        {"name": "acme.matrix", "version": 1, "json_schema": {"type": "object"}},
    ),
    ("GET", f"{API}/schemas"): Sample("any principal", f"{API}/schemas"),
    ("GET", f"{API}/schemas/{{name}}"): Sample(
        "any principal", f"{API}/schemas/cairn.dependencies"
    ),
    ("GET", f"{API}/schemas/{{name}}/{{version}}"): Sample(
        "any principal", f"{API}/schemas/cairn.dependencies/1"
    ),
    # the log, admin
    ("GET", f"{API}/history"): Sample("any principal", f"{API}/history?ref=model:fraud/churn"),
    ("GET", f"{API}/log/head"): Sample("any principal", f"{API}/log/head"),
    ("POST", f"{API}/log/check"): Sample("auditor", f"{API}/log/check"),
    ("POST", f"{API}/admin/rebuild"): Sample("registry admin", f"{API}/admin/rebuild"),
    # the caller's own credentials
    ("GET", f"{API}/me"): Sample("any principal", f"{API}/me"),
    ("GET", f"{API}/me/tokens"): Sample("any principal", f"{API}/me/tokens"),
    ("POST", f"{API}/me/tokens"): Sample("any principal", f"{API}/me/tokens", {"name": "extra"}),
    # Someone else's token: found by nobody but its owner (404), yet the gate comes first.
    ("POST", f"{API}/me/tokens/{{token_id}}/revoke"): Sample(
        "any principal", f"{API}/me/tokens/{{token}}/revoke"
    ),
    # principals, tokens and roles of others (all samples act on SUBJECT)
    ("POST", f"{API}/principals"): Sample(
        "registry admin", f"{API}/principals", {"name": "service:matrix"}
    ),
    ("GET", f"{API}/principals"): Sample("auditor", f"{API}/principals"),
    ("GET", f"{API}/principals/{{name}}"): Sample("auditor", f"{API}/principals/{SUBJECT}"),
    ("PUT", f"{API}/principals/{{name}}/registry-role"): Sample(
        "registry admin", f"{API}/principals/{SUBJECT}/registry-role", {"role": None}
    ),
    ("POST", f"{API}/principals/{{name}}/disable"): Sample(
        "registry admin", f"{API}/principals/{SUBJECT}/disable"
    ),
    ("POST", f"{API}/principals/{{name}}/enable"): Sample(
        "registry admin", f"{API}/principals/{SUBJECT}/enable"
    ),
    ("POST", f"{API}/principals/{{name}}/tokens"): Sample(
        "registry admin", f"{API}/principals/{SUBJECT}/tokens", {"name": "issued"}
    ),
    ("GET", f"{API}/tokens"): Sample("auditor", f"{API}/tokens?principal={SUBJECT}"),
    ("POST", f"{API}/tokens/{{token_id}}/revoke"): Sample(
        "registry admin", f"{API}/tokens/{{token}}/revoke"
    ),
    ("PUT", f"{API}/teams/{{team}}/roles/{{name}}"): Sample(
        "fraud admin", f"{API}/teams/fraud/roles/{SUBJECT}", {"role": "contributor"}
    ),
    ("DELETE", f"{API}/teams/{{team}}/roles/{{name}}"): Sample(
        "fraud admin", f"{API}/teams/fraud/roles/{SUBJECT}"
    ),
    # governance
    ("POST", f"{API}/policies"): Sample(
        "fraud admin", f"{API}/policies", {"team": "fraud", "name": "matrix"}
    ),
    ("GET", f"{API}/policies"): Sample("any principal", f"{API}/policies?team=fraud"),
    ("GET", f"{API}/policies/{{team}}/{{name}}"): Sample(
        "any principal", f"{API}/policies/fraud/matrix"
    ),
    ("POST", f"{API}/transitions"): Sample(
        "fraud contributor",
        f"{API}/transitions",
        {"version": "fraud/churn@1", "alias": "matrix", "reason": "the matrix asks"},
    ),
    ("GET", f"{API}/transitions"): Sample("any principal", f"{API}/transitions?model=fraud/churn"),
    ("GET", f"{API}/transitions/{{request}}"): Sample(
        "any principal", f"{API}/transitions/{{transition}}"
    ),
    # The first approver admitted decides the seeded request; later ones find it decided (409).
    ("POST", f"{API}/transitions/{{request}}/approve"): Sample(
        "fraud approver", f"{API}/transitions/{{transition}}/approve"
    ),
    ("POST", f"{API}/transitions/{{request}}/reject"): Sample(
        "fraud approver", f"{API}/transitions/{{transition}}/reject", {"comment": "no"}
    ),
    ("POST", f"{API}/deprecations"): Sample(
        "fraud contributor",
        f"{API}/deprecations",
        {"subject": "fraud/churn@1", "reason": "the matrix retires it"},
    ),
    ("POST", f"{API}/models/{{team}}/{{name}}/reviews"): Sample(
        "fraud approver", f"{API}/models/fraud/churn/reviews", {"next_due": "2099-01-01"}
    ),
    ("GET", f"{API}/reviews"): Sample("any principal", f"{API}/reviews?team=fraud"),
    ("GET", f"{API}/health"): Sample("any principal", f"{API}/health?team=fraud"),
    ("GET", f"{API}/models/{{team}}/{{name}}/aliases"): Sample(
        "any principal", f"{API}/models/fraud/churn/aliases"
    ),
    ("POST", f"{API}/webhooks"): Sample(
        "fraud admin",
        f"{API}/webhooks",
        {"team": "fraud", "url": WEBHOOK_URL, "events": ["model.updated"]},
    ),
    ("GET", f"{API}/webhooks"): Sample("fraud admin", f"{API}/webhooks?team=fraud"),
    ("GET", f"{API}/webhooks/{{webhook}}"): Sample("fraud admin", f"{API}/webhooks/{{webhook}}"),
    ("PATCH", f"{API}/webhooks/{{webhook}}"): Sample(
        "fraud admin", f"{API}/webhooks/{{webhook}}", {"description": "the matrix's"}
    ),
    # Each call deletes a subscription made for it: the first admitted caller must not leave
    # the later ones nothing to be judged on.
    ("DELETE", f"{API}/webhooks/{{webhook}}"): Sample(
        "fraud admin", f"{API}/webhooks/{{fresh-webhook}}"
    ),
    ("POST", f"{API}/webhooks/{{webhook}}/rotate-secret"): Sample(
        "fraud admin", f"{API}/webhooks/{{webhook}}/rotate-secret"
    ),
    ("POST", f"{API}/webhooks/{{webhook}}/ping"): Sample(
        "fraud admin", f"{API}/webhooks/{{webhook}}/ping"
    ),
    ("GET", f"{API}/webhooks/{{webhook}}/deliveries"): Sample(
        "fraud admin", f"{API}/webhooks/{{webhook}}/deliveries?status=pending"
    ),
    ("GET", f"{API}/webhook-deliveries/{{delivery}}"): Sample(
        "fraud admin", f"{API}/webhook-deliveries/{{delivery}}"
    ),
    ("POST", f"{API}/webhook-deliveries/{{delivery}}/redeliver"): Sample(
        "fraud admin", f"{API}/webhook-deliveries/{{delivery}}/redeliver"
    ),
    # lineage: reads are catalogue reads; an edge is its target's team's business; OpenLineage
    # events name no team, so any team's contributor may report them.
    ("GET", f"{API}/lineage/graph"): Sample(
        "any principal", f"{API}/lineage/graph?node=model:fraud/churn@1&depth=2"
    ),
    ("GET", f"{API}/lineage/impact"): Sample(
        "any principal", f"{API}/lineage/impact?node=dataset:fraud/customers@1"
    ),
    ("GET", f"{API}/lineage/changes"): Sample(
        "any principal",
        f"{API}/lineage/changes?before=model:fraud/churn@1&after=model:fraud/churn@1",
    ),
    ("GET", f"{API}/lineage/prov"): Sample(
        "any principal", f"{API}/lineage/prov?node=model:fraud/churn@1&format=provn"
    ),
    ("GET", f"{API}/lineage/aliases"): Sample("any principal", f"{API}/lineage/aliases"),
    ("GET", f"{API}/lineage/identities"): Sample("any principal", f"{API}/lineage/identities"),
    ("GET", f"{API}/lineage/completeness"): Sample(
        "any principal", f"{API}/lineage/completeness?scope=team:fraud"
    ),
    ("POST", f"{API}/lineage/edges"): Sample(
        "fraud contributor",
        f"{API}/lineage/edges",
        {
            "source": "ol-dataset:s3://lake/matrix",
            "type": "trained",
            "target": "model:fraud/churn@1",
        },
    ),
    ("DELETE", f"{API}/lineage/edges"): Sample(
        "fraud contributor",
        f"{API}/lineage/edges?source=dataset:fraud/customers@1&type=derived_from"
        "&target=model:fraud/churn@1",
    ),
    ("POST", f"{API}/lineage/aliases"): Sample(
        "contributor of any team",
        f"{API}/lineage/aliases",
        {
            "canonical": "ol-dataset:s3://lake/matrix",
            "alias": "ol-dataset:hive://metastore/lake.matrix",
        },
    ),
    ("DELETE", f"{API}/lineage/aliases"): Sample(
        "contributor of any team",
        f"{API}/lineage/aliases?alias=ol-dataset:hive://metastore/lake.matrix",
    ),
    ("POST", f"{API}/lineage"): Sample(
        "contributor of any team",
        f"{API}/lineage",
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-11-23T10:00:00Z",
            "run": {"runId": "01a20acd-4cd7-7005-a2c0-dd76792892a2"},
            "job": {"namespace": "airflow", "name": "matrix"},
            "inputs": [{"namespace": "s3://lake", "name": "matrix"}],
            "producer": "https://example.com/matrix",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        },
    ),
    ("GET", f"{API}/audit"): Sample("auditor", f"{API}/audit?outcome=denied"),
    ("POST", f"{API}/audit/prune"): Sample(
        "registry admin", f"{API}/audit/prune", {"older_than_seconds": 90 * 86400}
    ),
}

# Who each requirement lets in, written out by hand.
TEAM_FRAUD_WRITERS = {"contributor", "approver", "team-admin"}
AUTHENTICATED = {"admin", "auditor", "viewer", "other-team"} | TEAM_FRAUD_WRITERS
NOT_AUTHENTICATED = {"anonymous", "garbage", "revoked", "disabled"}
REQUIREMENTS: dict[str, set[str]] = {
    "public": AUTHENTICATED | NOT_AUTHENTICATED,
    "any principal": AUTHENTICATED,
    "fraud contributor": {"admin"} | TEAM_FRAUD_WRITERS,
    "fraud approver": {"admin", "approver", "team-admin"},
    "fraud admin": {"admin", "team-admin"},
    "auditor": {"admin", "auditor"},
    "registry admin": {"admin"},
    "contributor of any team": {"admin", "other-team"} | TEAM_FRAUD_WRITERS,
}
PRINCIPALS = sorted(AUTHENTICATED | NOT_AUTHENTICATED)


def may(requirement: str, who: str) -> bool:
    return who in REQUIREMENTS[requirement]


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) for every route the app serves, included routers flattened."""
    found = set()
    for route in iter_route_contexts(app.routes):
        assert route.path is not None
        for method in route.methods or ():
            found.add((method, route.path))
    return found


def call(
    client: httpx.Client, method: str, sample: Sample, server: Server, *, fresh: bool = True
) -> httpx.Response:
    """Call ``sample``; with ``fresh``, a route that deletes gets a subscription of its own."""
    path = sample.path.replace("{deployment}", server.deployment)
    path = path.replace("{token}", server.subject_token)
    path = path.replace("{transition}", server.transition)
    path = path.replace("{webhook}", server.webhook).replace("{delivery}", server.delivery)
    if "{fresh-webhook}" in path and not fresh:
        path = path.replace("{fresh-webhook}", server.webhook)
    if "{fresh-webhook}" in path:
        with server.client("admin") as admin:
            made = admin.post(
                f"{API}/webhooks",
                json={"team": "fraud", "url": WEBHOOK_URL, "events": ["model.updated"]},
            )
        path = path.replace("{fresh-webhook}", made.json()["id"])
    body = {} if sample.body is None else {"json": sample.body}
    return client.request(method, path, **body)


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()


# -- the table is complete ------------------------------------------------------------------------
def test_table_names_every_route(tmp_path: Path) -> None:
    app = create_app(ServerSettings(target=str(tmp_path / "registry"), home=str(tmp_path)))
    try:
        served = app_routes(app)
    finally:
        app.state.cairn.close()
    assert {path for _, path in served} >= {f"{API}/openapi.json", f"{API}/docs"}
    missing = sorted(served - TABLE.keys())
    assert not missing, f"routes with no row in TABLE (say what each needs): {missing}"
    stale = sorted(TABLE.keys() - served)
    assert not stale, f"rows in TABLE for routes the app does not have: {stale}"
    assert {sample.needs for sample in TABLE.values()} <= REQUIREMENTS.keys()


# -- every route, every principal -----------------------------------------------------------------
@pytest.fixture(scope="module")
def clients(server: Server) -> Iterator[dict[str, httpx.Client]]:
    opened = {who: server.client(who) for who in PRINCIPALS}
    yield opened
    for client in opened.values():
        client.close()


@pytest.mark.parametrize("route", sorted(TABLE), ids=" ".join)
def test_route_admits_exactly_what_it_needs(
    route: tuple[str, str], server: Server, clients: dict[str, httpx.Client]
) -> None:
    method, _ = route
    sample = TABLE[route]
    wrong = []
    for who in PRINCIPALS:
        response = call(clients[who], method, sample, server)
        status = response.status_code
        if may(sample.needs, who):
            if status in (401, 403) or status >= 500:
                wrong.append(f"{who} (allowed) got {status}: {response.text[:200]}")
            continue
        expected = 401 if who in NOT_AUTHENTICATED else 403
        if status != expected:
            wrong.append(f"{who} (denied) got {status}, not {expected}: {response.text[:200]}")
        else:
            assert_problem(response, expected)
    assert not wrong, f"{method} {sample.path} needs {sample.needs}:\n" + "\n".join(wrong)


def test_refusals_say_how_to_authenticate(server: Server) -> None:
    with server.client("anonymous") as anonymous:
        refused = anonymous.post(f"{API}/models", json={"ref": "fraud/anonymous"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert_problem(refused, 401)
    with server.client("viewer") as viewer:
        forbidden = viewer.post(f"{API}/models", json={"ref": "fraud/viewed"})
    assert forbidden.status_code == 403
    assert "user:viewer may not write on team fraud" in forbidden.json()["detail"]


# -- the gate reads the team the handler will write -----------------------------------------------
def test_a_repeated_key_cannot_smuggle_a_team_past_the_gate(server: Server) -> None:
    """JSON with a key twice: the gate must check the value the handler acts on (the last)."""
    smuggled = b'{"ref": "risk/smuggled", "ref": "fraud/smuggled"}'
    honest = b'{"ref": "fraud/honest", "ref": "risk/honest"}'
    json_type = {"content-type": "application/json"}
    with server.client("other-team") as risk, server.client("admin") as admin:
        assert risk.post(f"{API}/models", content=smuggled, headers=json_type).status_code == 403
        assert admin.get(f"{API}/models/fraud/smuggled").status_code == 404
        assert admin.get(f"{API}/models/risk/smuggled").status_code == 404
        assert risk.post(f"{API}/models", content=honest, headers=json_type).status_code == 201
        assert admin.get(f"{API}/models/risk/honest").status_code == 200


def test_a_batch_needs_every_team_it_touches(server: Server) -> None:
    risk_version = {**VERSION, "model": "risk/batched"}
    with server.client("other-team") as risk, server.client("admin") as admin:
        assert risk.post(f"{API}/models", json={"ref": "risk/batched"}).status_code == 201
        before = admin.get(f"{API}/log/head").json()
        for route in ("batch", "import"):
            mixed = risk.post(f"{API}/versions/{route}", json=[risk_version, VERSION])
            assert mixed.status_code == 403, mixed.text
            # An item whose team cannot be read is nobody's to write but an admin's.
            unnamed = risk.post(f"{API}/versions/{route}", json=[risk_version, {"model": 7}])
            assert unnamed.status_code == 403, unnamed.text
        assert admin.get(f"{API}/log/head").json() == before


# -- a route nobody declared is closed ------------------------------------------------------------
def test_an_undeclared_route_is_refused_to_everyone(tmp_path: Path) -> None:
    url = resolve_url(tmp_path / "registry")
    with LocalRegistry(url, actor="user:setup") as setup:
        seed(setup)
        tokens = principals(setup.access_service(tmp_path))
    app = create_app(ServerSettings(target=url, home=str(tmp_path)))
    reached: list[str] = []

    @app.get(f"{API}/forgotten")
    def forgotten() -> dict[str, str]:
        reached.append("forgotten")
        return {"secret": "yes"}

    extra = APIRouter()

    @extra.post("/teams/{team}/forgotten")
    def forgotten_too(team: str) -> dict[str, str]:
        reached.append(team)
        return {"secret": "yes"}

    app.include_router(extra, prefix=API)
    with serve(app) as base:
        for who, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            with httpx.Client(base_url=base, headers=headers) as client:
                for response in (
                    client.get(f"{API}/forgotten"),
                    client.post(f"{API}/teams/fraud/forgotten"),
                ):
                    expected = 401 if who in NOT_AUTHENTICATED else 403
                    assert response.status_code == expected, (who, response.text)
                    assert_problem(response, expected)
    assert reached == []


# -- --insecure-open ------------------------------------------------------------------------------
def test_insecure_open_makes_anonymous_an_admin(tmp_path: Path) -> None:
    url = resolve_url(tmp_path / "registry")
    with (
        started(url, tmp_path, insecure_open=True) as server,
        server.client("anonymous") as anonymous,
    ):
        made = anonymous.post(f"{API}/teams", json={"name": "opened"})
        assert made.status_code == 201, made.text
        history = anonymous.get(f"{API}/history", params={"ref": "team:opened"}).json()
        assert [event["actor"] for event in history] == ["user:anonymous"]
        assert anonymous.post(f"{API}/admin/rebuild").status_code == 200
        # A token that is sent is still checked: open mode is for the anonymous only.
        revoked = {"Authorization": f"Bearer {server.tokens['revoked']}"}
        refused = anonymous.post(f"{API}/teams", json={"name": "nope"}, headers=revoked)
        assert refused.status_code == 401


def test_without_insecure_open_anonymous_writes_are_refused(server: Server) -> None:
    with server.client("anonymous") as anonymous, server.client("admin") as admin:
        before = admin.get(f"{API}/log/head").json()
        for (method, route), sample in sorted(TABLE.items()):
            if method in ("GET", "HEAD") or sample.needs == "public":
                continue
            response = call(anonymous, method, sample, server, fresh=False)
            assert response.status_code == 401, (method, route, response.text)
        assert admin.get(f"{API}/log/head").json() == before
