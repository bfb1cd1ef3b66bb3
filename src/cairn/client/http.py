"""``HttpRegistry``: every ``Registry`` method as one call to the server's REST API.

Errors come back as RFC 9457 problem bodies and are raised as the same typed exceptions the
embedded registry raises, with the same details, so callers cannot tell the transports apart::

    registry = HttpRegistry("http://127.0.0.1:8080", token="cairn_...")
    registry.get_model("fraud/churn")
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from cairn.core import completeness as cp
from cairn.core import entities as e
from cairn.core import errors
from cairn.core import governance as g
from cairn.core import lineage as lg
from cairn.core import reconcile as rc
from cairn.core import specs as s
from cairn.core import webhooks as w
from cairn.core.metadata import Metric
from cairn.core.names import Kind, parse_ref

API = "/api/v1"
#: Versions per request when importing: the server's batch and body limits bind beyond it.
IMPORT_CHUNK = 500
IF_MATCH = '"{}"'  # the server's ETag of an entity is its revision, quoted

ResultT = TypeVar("ResultT", bound=BaseModel)

_ERRORS: dict[str, type[errors.CairnError]] = {
    cls.code: cls
    for cls in (
        errors.NotFound,
        errors.PreconditionFailed,
        errors.Conflict,
        errors.ValidationFailed,
        errors.Unauthenticated,
        errors.PermissionDenied,
        errors.VerificationFailed,
        errors.StorageUnavailable,
    )
}
_PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def _segment(text: str) -> str:
    """One path segment, percent-encoded so that no character can change the path."""
    return quote(text, safe="")


def _path(ref: str, kind: Kind, *, versioned: bool | None = False) -> str:
    """``team/name`` (or ``team/name@n``) as URL segments; malformed refs fail here, as locally."""
    parsed = parse_ref(ref, kind=kind, versioned=versioned)
    path = f"{_segment(str(parsed.namespace))}/{_segment(parsed.name)}"
    return path if parsed.version is None else f"{path}/versions/{parsed.version}"


class HttpRegistry:
    """A :class:`cairn.Registry` reached over HTTP."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["User-Agent"] = "cairn-client"
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url + API, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpRegistry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        if_revision: int | None = None,
    ) -> Any:
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        content = None
        if json is not None:
            try:
                content = _json.dumps(json, allow_nan=False, ensure_ascii=False).encode()
            except ValueError:
                raise errors.ValidationFailed(
                    "NaN and infinity cannot be sent: JSON has no form for them",
                    rule="finite",
                ) from None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if if_revision is not None:
            headers["If-Match"] = IF_MATCH.format(if_revision)
        try:
            response = self._http.request(
                method, path, content=content, params=query, headers=headers
            )
        except httpx.HTTPError as exc:
            raise errors.StorageUnavailable(
                f"cannot reach the registry at {self.url}: {exc}",
                hint="check the URL and that 'cairn serve' is running",
            ) from None
        if response.status_code == 204:
            return None
        if response.is_success:
            return response.json()
        raise _error(response)

    def _one(self, kind: type[ResultT], method: str, path: str, **kw: Any) -> ResultT:
        return kind.model_validate(self._call(method, path, **kw))

    def _many(self, kind: type[ResultT], path: str, **params: Any) -> list[ResultT]:
        return TypeAdapter(list[kind]).validate_python(  # type: ignore[valid-type]
            self._call("GET", path, params=params)
        )

    # -- teams -----------------------------------------------------------------------------------
    def create_team(self, name: str, **fields: Any) -> e.Team:
        return self._one(e.Team, "POST", "/teams", json=_body(name=name, **fields))

    def get_team(self, name: str) -> e.Team:
        return self._one(e.Team, "GET", f"/teams/{_segment(name.removeprefix('team:'))}")

    def list_teams(self, *, limit: int = 100, after: str | None = None) -> list[e.Team]:
        return self._many(e.Team, "/teams", limit=limit, after=after)

    def update_team(self, name: str, *, if_revision: int | None = None, **changes: Any) -> e.Team:
        path = f"/teams/{_segment(name.removeprefix('team:'))}"
        body = _body(**changes)
        return self._one(e.Team, "PATCH", path, json=body, if_revision=if_revision)

    # -- models ----------------------------------------------------------------------------------
    def create_model(self, ref: str, **fields: Any) -> e.Model:
        return self._one(e.Model, "POST", "/models", json=_body(ref=ref, **fields))

    def get_model(self, ref: str) -> e.Model:
        return self._one(e.Model, "GET", f"/models/{_path(ref, Kind.MODEL)}")

    def list_models(
        self, *, team: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[e.Model]:
        return self._many(e.Model, "/models", team=team, limit=limit, after=after)

    def update_model(self, ref: str, *, if_revision: int | None = None, **changes: Any) -> e.Model:
        path = f"/models/{_path(ref, Kind.MODEL)}"
        body = _body(**changes)
        return self._one(e.Model, "PATCH", path, json=body, if_revision=if_revision)

    def upgrade_facets(self, ref: str) -> list[str]:
        path = f"/models/{_path(ref, Kind.MODEL, versioned=None)}/upgrade-facets"
        return list(self._call("POST", path))

    # -- versions --------------------------------------------------------------------------------
    def register_version(
        self,
        model: str,
        artifact_uri: str,
        digest: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        inputs: Sequence[str] = (),
        metrics: Mapping[str, float] | Sequence[Metric | Mapping[str, Any]] | None = None,
        tags: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> e.ModelVersion:
        fields = s.version_fields(
            model,
            artifact_uri,
            digest,
            metadata=metadata,
            inputs=inputs,
            metrics=metrics,
            tags=tags,
            idempotency_key=idempotency_key,
        )
        return self._one(e.ModelVersion, "POST", "/versions", json=_body(**fields))

    def register_versions(
        self, specs: Sequence[s.VersionSpec | Mapping[str, Any]]
    ) -> list[e.ModelVersion]:
        body = [_spec_body(spec) for spec in specs]
        return TypeAdapter(list[e.ModelVersion]).validate_python(
            self._call("POST", "/versions/batch", json=body)
        )

    def import_versions(
        self,
        records: Iterable[s.VersionSpec | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> e.ImportReport:
        s.import_batch_size(batch_size)
        chunk = min(batch_size, IMPORT_CHUNK)
        totals = {"records": 0, "registered": 0, "unchanged": 0, "batches": 0}
        pending: list[dict[str, Any]] = []

        def send() -> None:
            try:
                part = self._one(
                    e.ImportReport,
                    "POST",
                    "/versions/import",
                    json=pending,
                    params={"batch_size": chunk},
                )
            except errors.CairnError as exc:
                raise _shifted(exc, totals["records"], totals["registered"]) from None
            for key in totals:
                totals[key] += getattr(part, key)
            if progress is not None:
                progress(part.records)
            pending.clear()

        for record in records:
            pending.append(_spec_body(record))
            if len(pending) == chunk:
                send()
        if pending:
            send()
        return e.ImportReport(**totals)

    def get_version(self, ref: str) -> e.ModelVersion:
        return self._one(e.ModelVersion, "GET", f"/models/{_path(ref, Kind.MODEL, versioned=True)}")

    def list_versions(
        self, model: str, *, limit: int = 100, after: int = 0
    ) -> list[e.ModelVersion]:
        path = f"/models/{_path(model, Kind.MODEL)}/versions"
        return self._many(e.ModelVersion, path, limit=limit, after=after)

    def update_version(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.ModelVersion:
        path = f"/models/{_path(ref, Kind.MODEL, versioned=True)}"
        body = _body(**changes)
        return self._one(e.ModelVersion, "PATCH", path, json=body, if_revision=if_revision)

    def record_evaluation(
        self,
        version: str,
        metrics: Mapping[str, float],
        *,
        dataset: str | None = None,
        slice: str = "",
        run: str | None = None,
    ) -> e.EvaluationResult:
        body = _body(version=version, metrics=dict(metrics), dataset=dataset, slice=slice, run=run)
        return self._one(e.EvaluationResult, "POST", "/evaluations", json=body)

    # -- datasets and feature views --------------------------------------------------------------
    def create_dataset(self, ref: str, **fields: Any) -> e.Dataset:
        return self._one(e.Dataset, "POST", "/datasets", json=_body(ref=ref, **fields))

    def get_dataset(self, ref: str) -> e.Dataset:
        return self._one(e.Dataset, "GET", f"/datasets/{_path(ref, Kind.DATASET)}")

    def list_datasets(self, *, team: str | None = None, limit: int = 100) -> list[e.Dataset]:
        return self._many(e.Dataset, "/datasets", team=team, limit=limit)

    def update_dataset(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.Dataset:
        path = f"/datasets/{_path(ref, Kind.DATASET)}"
        body = _body(**changes)
        return self._one(e.Dataset, "PATCH", path, json=body, if_revision=if_revision)

    def add_dataset_version(self, dataset: str, **fields: Any) -> e.DatasetVersion:
        body = _body(dataset=dataset, **fields)
        return self._one(e.DatasetVersion, "POST", "/dataset-versions", json=body)

    def get_dataset_version(self, ref: str) -> e.DatasetVersion:
        path = f"/datasets/{_path(ref, Kind.DATASET, versioned=True)}"
        return self._one(e.DatasetVersion, "GET", path)

    def list_dataset_versions(
        self, dataset: str, *, limit: int = 100, after: int = 0
    ) -> list[e.DatasetVersion]:
        path = f"/datasets/{_path(dataset, Kind.DATASET)}/versions"
        return self._many(e.DatasetVersion, path, limit=limit, after=after)

    def create_feature_view(self, ref: str, **fields: Any) -> e.FeatureView:
        return self._one(e.FeatureView, "POST", "/feature-views", json=_body(ref=ref, **fields))

    def get_feature_view(self, ref: str) -> e.FeatureView:
        return self._one(e.FeatureView, "GET", f"/feature-views/{_path(ref, Kind.FEATURE_VIEW)}")

    def list_feature_views(
        self, *, team: str | None = None, limit: int = 100
    ) -> list[e.FeatureView]:
        return self._many(e.FeatureView, "/feature-views", team=team, limit=limit)

    def update_feature_view(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.FeatureView:
        path = f"/feature-views/{_path(ref, Kind.FEATURE_VIEW)}"
        body = _body(**changes)
        return self._one(e.FeatureView, "PATCH", path, json=body, if_revision=if_revision)

    def add_feature_view_version(self, feature_view: str, **fields: Any) -> e.FeatureViewVersion:
        body = _body(feature_view=feature_view, **fields)
        return self._one(e.FeatureViewVersion, "POST", "/feature-view-versions", json=body)

    def get_feature_view_version(self, ref: str) -> e.FeatureViewVersion:
        path = f"/feature-views/{_path(ref, Kind.FEATURE_VIEW, versioned=True)}"
        return self._one(e.FeatureViewVersion, "GET", path)

    # -- runs, environments, deployments ---------------------------------------------------------
    def create_run(self, ref: str, **fields: Any) -> e.Run:
        return self._one(e.Run, "POST", "/runs", json=_body(ref=ref, **fields))

    def get_run(self, ref: str) -> e.Run:
        return self._one(e.Run, "GET", f"/runs/{_path(ref, Kind.RUN)}")

    def list_runs(self, *, team: str | None = None, limit: int = 100) -> list[e.Run]:
        return self._many(e.Run, "/runs", team=team, limit=limit)

    def update_run(self, ref: str, *, if_revision: int | None = None, **changes: Any) -> e.Run:
        path = f"/runs/{_path(ref, Kind.RUN)}"
        body = _body(**changes)
        return self._one(e.Run, "PATCH", path, json=body, if_revision=if_revision)

    def create_environment(self, name: str, **fields: Any) -> e.Environment:
        return self._one(e.Environment, "POST", "/environments", json=_body(name=name, **fields))

    def get_environment(self, name: str) -> e.Environment:
        return self._one(e.Environment, "GET", f"/environments/{_environment(name)}")

    def list_environments(self, *, limit: int = 100) -> list[e.Environment]:
        return self._many(e.Environment, "/environments", limit=limit)

    def update_environment(
        self, name: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.Environment:
        path = f"/environments/{_environment(name)}"
        body = _body(**changes)
        return self._one(e.Environment, "PATCH", path, json=body, if_revision=if_revision)

    def deploy(self, version: str, environment: str, *, at: datetime | None = None) -> e.Deployment:
        body = _body(version=version, environment=environment, at=at)
        return self._one(e.Deployment, "POST", "/deployments", json=body)

    def retire_deployment(self, deployment: str, *, at: datetime | None = None) -> e.Deployment:
        path = f"/deployments/{_segment(deployment)}/retire"
        return self._one(e.Deployment, "POST", path, json=_body(at=at))

    def list_deployments(
        self,
        *,
        environment: str | None = None,
        model: str | None = None,
        active_only: bool = False,
        limit: int = 100,
    ) -> list[e.Deployment]:
        return self._many(
            e.Deployment,
            "/deployments",
            environment=environment,
            model=model,
            active_only=active_only,
            limit=limit,
        )

    def serving(self, environment: str, at: datetime) -> list[e.Serving]:
        return self._many(e.Serving, f"/environments/{_environment(environment)}/serving", at=at)

    # -- schemas and the log ---------------------------------------------------------------------
    def register_schema(
        self, name: str, version: int, json_schema: dict[str, Any], **fields: Any
    ) -> e.SchemaVersion:
        body = _body(name=name, version=version, json_schema=json_schema, **fields)
        return self._one(e.SchemaVersion, "POST", "/schemas", json=body)

    # -- governance -------------------------------------------------------------------------
    def publish_policy(
        self, team: str, name: str, rules: g.PolicyRules | Mapping[str, Any] | None = None
    ) -> g.Policy:
        body = _body(team=team, name=name, rules=rules or {})
        return self._one(g.Policy, "POST", "/policies", json=body)

    def get_policy(self, ref: str) -> g.Policy:
        team, name, version = g.parse_policy_ref(ref)
        params = {"version": version} if version else {}
        url = f"/policies/{_segment(team)}/{_segment(name)}"
        return self._one(g.Policy, "GET", url, params=params)

    def list_policies(self, team: str) -> list[g.Policy]:
        return self._many(g.Policy, "/policies", team=team.removeprefix("team:"))

    def request_transition(
        self, version: str, alias: str, *, reason: str, release_notes: str | None = None
    ) -> g.TransitionRequest:
        body = _body(version=version, alias=alias, reason=reason, release_notes=release_notes)
        return self._one(g.TransitionRequest, "POST", "/transitions", json=body)

    def approve_transition(
        self, request: str, *, comment: str | None = None
    ) -> g.TransitionRequest:
        path = f"/transitions/{_segment(_request(request))}/approve"
        return self._one(g.TransitionRequest, "POST", path, json=_body(comment=comment))

    def reject_transition(self, request: str, *, comment: str) -> g.TransitionRequest:
        path = f"/transitions/{_segment(_request(request))}/reject"
        return self._one(g.TransitionRequest, "POST", path, json=_body(comment=comment))

    def get_transition(self, request: str) -> g.TransitionRequest:
        path = f"/transitions/{_segment(_request(request))}"
        return self._one(g.TransitionRequest, "GET", path)

    def list_transitions(
        self, *, model: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[g.TransitionRequest]:
        params = {"model": model, "status": status, "limit": limit}
        return self._many(
            g.TransitionRequest,
            "/transitions",
            **{k: v for k, v in params.items() if v is not None},
        )

    def list_aliases(self, model: str) -> list[g.Alias]:
        return self._many(g.Alias, f"/models/{_path(model, Kind.MODEL)}/aliases")

    def complete_review(self, model: str, *, next_due: date, notes: str | None = None) -> e.Model:
        path = f"/models/{_path(model, Kind.MODEL)}/reviews"
        return self._one(e.Model, "POST", path, json=_body(next_due=next_due, notes=notes))

    def list_reviews(
        self, *, team: str | None = None, overdue_only: bool = True, limit: int = 100
    ) -> list[e.Model]:
        params: dict[str, Any] = {"overdue_only": overdue_only, "limit": limit}
        if team is not None:
            params["team"] = team
        return self._many(e.Model, "/reviews", **params)

    def metadata_health(self, *, team: str | None = None) -> g.HealthReport:
        params = {"team": team} if team is not None else {}
        return self._one(g.HealthReport, "GET", "/health", params=params)

    def deprecate(
        self,
        subject: str,
        *,
        reason: str,
        sunset: date | None = None,
        replacement: str | None = None,
    ) -> e.Deprecation:
        body = _body(subject=subject, reason=reason, sunset=sunset, replacement=replacement)
        return self._one(e.Deprecation, "POST", "/deprecations", json=body)

    # -- webhooks ---------------------------------------------------------------------------
    def create_webhook(
        self,
        url: str,
        *,
        events: Sequence[str],
        team: str | None = None,
        model: str | None = None,
        description: str | None = None,
    ) -> w.WebhookCreated:
        body = _body(url=url, events=list(events), team=team, model=model, description=description)
        return self._one(w.WebhookCreated, "POST", "/webhooks", json=body)

    def get_webhook(self, webhook: str) -> w.Webhook:
        return self._one(w.Webhook, "GET", _webhook(webhook))

    def list_webhooks(self, *, team: str | None = None) -> list[w.Webhook]:
        params = {"team": team.removeprefix("team:")} if team is not None else {}
        return self._many(w.Webhook, "/webhooks", **params)

    def update_webhook(
        self,
        webhook: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> w.Webhook:
        given = {
            "url": url,
            "events": list(events) if events is not None else None,
            "active": active,
            "description": description,
        }
        body = _body(**{k: v for k, v in given.items() if v is not None})
        return self._one(w.Webhook, "PATCH", _webhook(webhook), json=body)

    def rotate_webhook_secret(self, webhook: str) -> w.WebhookCreated:
        return self._one(w.WebhookCreated, "POST", _webhook(webhook) + "/rotate-secret")

    def delete_webhook(self, webhook: str) -> None:
        self._call("DELETE", _webhook(webhook))

    def ping_webhook(self, webhook: str) -> w.WebhookDelivery:
        return self._one(w.WebhookDelivery, "POST", _webhook(webhook) + "/ping")

    def list_deliveries(
        self, webhook: str, *, status: str | None = None, limit: int = 50
    ) -> list[w.WebhookDelivery]:
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        return self._many(w.WebhookDelivery, _webhook(webhook) + "/deliveries", **params)

    def get_delivery(self, delivery: str) -> w.WebhookDelivery:
        return self._one(w.WebhookDelivery, "GET", f"/webhook-deliveries/{_segment(delivery)}")

    def redeliver(self, delivery: str) -> w.WebhookDelivery:
        path = f"/webhook-deliveries/{_segment(delivery)}/redeliver"
        return self._one(w.WebhookDelivery, "POST", path)

    # -- lineage -----------------------------------------------------------------------------------
    def lineage(
        self,
        node: str,
        *,
        direction: str = "both",
        depth: int = lg.DEFAULT_DEPTH,
        edge_types: Sequence[str] | None = None,
        node_kinds: Sequence[str] | None = None,
        limit: int = lg.DEFAULT_NODE_LIMIT,
    ) -> lg.LineageGraph:
        params: dict[str, Any] = {
            "node": node,
            "direction": direction,
            "depth": depth,
            "limit": limit,
            "edge_type": list(edge_types) if edge_types else None,
            "node_kind": list(node_kinds) if node_kinds else None,
        }
        return self._one(lg.LineageGraph, "GET", "/lineage/graph", params=params)

    def impact(
        self, node: str, *, depth: int = lg.MAX_DEPTH, limit: int = lg.MAX_NODE_LIMIT
    ) -> lg.ImpactReport:
        params = {"node": node, "depth": depth, "limit": limit}
        return self._one(lg.ImpactReport, "GET", "/lineage/impact", params=params)

    def upstream_changes(self, before: str, after: str) -> lg.UpstreamChange:
        params = {"before": before, "after": after}
        return self._one(lg.UpstreamChange, "GET", "/lineage/changes", params=params)

    def add_lineage_edge(self, source: str, type: str, target: str) -> lg.LineageEdge:
        body = {"source": source, "type": type, "target": target}
        return self._one(lg.LineageEdge, "POST", "/lineage/edges", json=body)

    def remove_lineage_edge(self, source: str, type: str, target: str) -> None:
        params = {"source": source, "type": type, "target": target}
        self._call("DELETE", "/lineage/edges", params=params)

    def report_lineage(self, events: Sequence[dict[str, Any]]) -> lg.LineageIngest:
        return self._one(lg.LineageIngest, "POST", "/lineage", json=list(events))

    def add_identity_alias(self, canonical: str, alias: str) -> lg.IdentityAlias:
        body = {"canonical": canonical, "alias": alias}
        return self._one(lg.IdentityAlias, "POST", "/lineage/aliases", json=body)

    def remove_identity_alias(self, alias: str) -> None:
        self._call("DELETE", "/lineage/aliases", params={"alias": alias})

    def list_identity_aliases(self) -> list[lg.IdentityAlias]:
        return self._many(lg.IdentityAlias, "/lineage/aliases")

    def known_identities(self) -> rc.CairnIdentities:
        return self._one(rc.CairnIdentities, "GET", "/lineage/identities")

    def lineage_report(self, scope: str | None = None) -> cp.CompletenessReport:
        params = {"scope": scope} if scope else None
        return self._one(cp.CompletenessReport, "GET", "/lineage/completeness", params=params)

    def get_schema(self, ref: str) -> e.SchemaVersion:
        name, _, version = ref.partition("/")
        path = f"/schemas/{_segment(name)}" + (f"/{_segment(version)}" if version else "")
        return self._one(e.SchemaVersion, "GET", path)

    def list_schemas(self) -> list[e.SchemaVersion]:
        return self._many(e.SchemaVersion, "/schemas")

    def history(self, ref: str, *, limit: int = 100, after: int = 0) -> list[e.Event]:
        return self._many(e.Event, "/history", ref=ref, limit=limit, after=after)

    def log_head(self) -> e.LogHead:
        return self._one(e.LogHead, "GET", "/log/head")

    def check_log(self) -> e.LogReport:
        return self._one(e.LogReport, "POST", "/log/check")

    def rebuild(self) -> e.RebuildReport:
        return self._one(e.RebuildReport, "POST", "/admin/rebuild")


# -- helpers ---------------------------------------------------------------------------------------
def _webhook(text: str) -> str:
    return f"/webhooks/{_segment(text.strip().removeprefix('webhook:'))}"


def _request(text: str) -> str:
    return text.removeprefix("transition:")


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body: keyword arguments as given (times as ISO 8601), models dumped."""
    return {k: _jsonable(v) for k, v in fields.items()}


def _spec_body(spec: s.VersionSpec | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(spec, BaseModel):
        return spec.model_dump(mode="json", exclude_unset=True)
    return {k: _jsonable(v) for k, v in spec.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _environment(name: str) -> str:
    return _segment(name.removeprefix("environment:"))


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _error(response: httpx.Response) -> errors.CairnError:
    """The typed error a problem body describes."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("type", "")).rsplit("/", 1)[-1]
    message = str(body.get("detail") or response.reason_phrase or f"HTTP {response.status_code}")
    details = {k: v for k, v in body.items() if k not in _PROBLEM_FIELDS}
    kind = _ERRORS.get(code)
    if kind is None:
        kind = {
            401: errors.Unauthenticated,
            403: errors.PermissionDenied,
            404: errors.NotFound,
            409: errors.Conflict,
            412: errors.Conflict,
            413: errors.ValidationFailed,
            422: errors.ValidationFailed,
        }.get(response.status_code, errors.CairnError)
    if kind is errors.ValidationFailed:
        return errors.ValidationFailed(
            message,
            field=details.pop("field", None),
            rule=details.pop("rule", None),
            schema=details.pop("schema", None),
            **details,
        )
    return kind(message, **details)


def _shifted(exc: errors.CairnError, offset: int, registered: int) -> errors.CairnError:
    """An import error from one chunk, renumbered to the whole stream's records."""
    if "record" not in exc.details:
        return exc
    record = offset + int(exc.details["record"])
    total = registered + int(exc.details.get("registered", 0))
    problem = exc.details.get("problem", exc.message)
    exc.details.update(record=record, registered=total)
    exc.message = f"record {record}: {problem} ({total} versions registered before it)"
    exc.args = (exc.message,)
    return exc


if TYPE_CHECKING:
    from cairn.core.registry import Registry

    # mypy proves here that the remote registry implements the whole protocol.
    _conforms: type[Registry] = HttpRegistry
