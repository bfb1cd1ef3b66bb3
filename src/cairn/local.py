"""The embedded registry: services over the store, in this process, no server needed::

import cairn

registry = cairn.connect("./.cairn")
registry.create_team("fraud")
registry.create_model("fraud/churn", task="classification")
v1 = registry.register_version("fraud/churn", "s3://models/churn/1", "sha256:" + "0" * 64)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from cairn.core import completeness as cp
from cairn.core import entities as e
from cairn.core import governance as g
from cairn.core import lineage as lg
from cairn.core import reconcile as rc
from cairn.core import specs as s
from cairn.core import webhooks as w
from cairn.core.errors import ValidationFailed
from cairn.core.metadata import Metric
from cairn.core.registry import Registry
from cairn.services.access import AccessService
from cairn.services.catalog import DatasetService, FeatureViewService
from cairn.services.completeness import CompletenessService
from cairn.services.governance import GovernanceService
from cairn.services.identities import IdentityService
from cairn.services.lineage import LineageService
from cairn.services.log import LogService
from cairn.services.models import ModelService
from cairn.services.openlineage import OpenLineageService
from cairn.services.operations import DeploymentService, EnvironmentService, RunService
from cairn.services.schemas import SchemaService
from cairn.services.teams import TeamService
from cairn.services.webhook_delivery import Dispatcher
from cairn.services.webhooks import WebhookService
from cairn.store.engine import make_engine, resolve_url, sqlite_folder
from cairn.store.keys import token_key
from cairn.store.migrate import ensure_current
from cairn.store.migrate import upgrade as upgrade_schema
from cairn.store.uow import Store

SpecT = TypeVar("SpecT", bound=BaseModel)


def build(spec_type: type[SpecT], **fields: Any) -> SpecT:
    """Validate keyword input into a spec; Pydantic's error becomes one ValidationFailed."""
    try:
        return spec_type.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(input)"
        raise ValidationFailed(
            f"{where}: {first['msg']}", field=where, rule=first["type"], problems=exc.error_count()
        ) from None


class LocalRegistry:
    """A :class:`cairn.Registry` backed directly by SQLite or PostgreSQL.

    The methods' contracts are documented on :class:`cairn.core.registry.Registry`.
    """

    def __init__(
        self,
        url: str,
        *,
        actor: str,
        migrate: bool = True,
        webhook_allow: w.AllowList | Iterable[str] | str | None = None,
    ) -> None:
        """``webhook_allow``: destinations webhooks may reach although they are not public
        (see :class:`cairn.core.webhooks.AllowList`); none by default."""
        self.url = url
        self.actor = actor
        self.webhook_allow = (
            webhook_allow
            if isinstance(webhook_allow, w.AllowList)
            else w.AllowList.parse(webhook_allow)
        )
        self._engine = make_engine(url)
        if migrate:
            ensure_current(self._engine)
        self.store = Store(self._engine)
        self._owns_engine = True
        self._bind(actor)

    def as_actor(self, actor: str) -> LocalRegistry:
        """The same registry (same connections) acting as ``actor``: a server, per request."""
        view = object.__new__(LocalRegistry)
        view.url, view._engine, view.store, view._owns_engine, view.webhook_allow = (
            self.url,
            self._engine,
            self.store,
            False,
            self.webhook_allow,
        )
        view._bind(actor)
        return view

    def _bind(self, actor: str) -> None:
        self.actor = actor
        self._teams = TeamService(self.store, actor)
        self._models = ModelService(self.store, actor)
        self._governance = GovernanceService(self.store, actor)
        self._webhooks = WebhookService(self.store, actor, self.webhook_allow)
        self._datasets = DatasetService(self.store, actor)
        self._feature_views = FeatureViewService(self.store, actor)
        self._runs = RunService(self.store, actor)
        self._environments = EnvironmentService(self.store, actor)
        self._deployments = DeploymentService(self.store, actor)
        self._schemas = SchemaService(self.store, actor)
        self._log = LogService(self.store, actor)
        self._lineage = LineageService(self.store, actor)
        self._openlineage = OpenLineageService(self.store, actor)
        self._completeness = CompletenessService(self.store, actor)
        self._identities = IdentityService(self.store, actor)

    @classmethod
    def open(
        cls,
        target: str,
        *,
        actor: str,
        webhook_allow: w.AllowList | Iterable[str] | str | None = None,
    ) -> LocalRegistry:
        return cls(resolve_url(target), actor=actor, webhook_allow=webhook_allow)

    def close(self) -> None:
        if self._owns_engine:  # a view from as_actor() borrows its engine
            self._engine.dispose()

    def __enter__(self) -> LocalRegistry:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- teams ------------------------------------------------------------------------------
    def create_team(self, name: str, **fields: Any) -> e.Team:
        return self._teams.create(build(s.TeamSpec, name=name, **fields))

    def get_team(self, name: str) -> e.Team:
        return self._teams.get(name)

    def list_teams(self, *, limit: int = 100, after: str | None = None) -> list[e.Team]:
        return self._teams.find(limit=limit, after=after)

    def update_team(self, name: str, *, if_revision: int | None = None, **changes: Any) -> e.Team:
        return self._teams.update(name, build(s.TeamPatch, **changes), if_revision=if_revision)

    # -- models -----------------------------------------------------------------------------
    def create_model(self, ref: str, **fields: Any) -> e.Model:
        return self._models.create(build(s.ModelSpec, ref=ref, **fields))

    def get_model(self, ref: str) -> e.Model:
        return self._models.get(ref)

    def list_models(
        self, *, team: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[e.Model]:
        return self._models.find(team=team, limit=limit, after=after)

    def update_model(self, ref: str, *, if_revision: int | None = None, **changes: Any) -> e.Model:
        return self._models.update(ref, build(s.ModelPatch, **changes), if_revision=if_revision)

    def upgrade_facets(self, ref: str) -> list[str]:
        return self._models.upgrade_facets(ref)

    # -- versions ---------------------------------------------------------------------------
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
        spec = build(s.VersionSpec, **fields)
        return self._models.register(spec)

    def register_versions(
        self, specs: Sequence[s.VersionSpec | Mapping[str, Any]]
    ) -> list[e.ModelVersion]:
        """Register many versions in one transaction (all or none)."""
        built = [v if isinstance(v, s.VersionSpec) else build(s.VersionSpec, **v) for v in specs]
        return self._models.register_many(built)

    def import_versions(
        self,
        records: Iterable[s.VersionSpec | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> e.ImportReport:
        specs = (r if isinstance(r, s.VersionSpec) else build(s.VersionSpec, **r) for r in records)
        return self._models.import_versions(specs, batch_size=batch_size, progress=progress)

    def get_version(self, ref: str) -> e.ModelVersion:
        return self._models.get_version(ref)

    def list_versions(
        self, model: str, *, limit: int = 100, after: int = 0
    ) -> list[e.ModelVersion]:
        return self._models.list_versions(model, limit=limit, after=after)

    def update_version(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.ModelVersion:
        patch = build(s.VersionPatch, **changes)
        return self._models.update_version(ref, patch, if_revision=if_revision)

    def record_evaluation(
        self,
        version: str,
        metrics: Mapping[str, float],
        *,
        dataset: str | None = None,
        slice: str = "",
        run: str | None = None,
    ) -> e.EvaluationResult:
        spec = build(
            s.EvaluationSpec,
            version=version,
            metrics=dict(metrics),
            dataset=dataset,
            slice=slice,
            run=run,
        )
        return self._models.record_evaluation(spec)

    # -- datasets and feature views -----------------------------------------------------------
    def create_dataset(self, ref: str, **fields: Any) -> e.Dataset:
        return self._datasets.create(build(s.DatasetSpec, ref=ref, **fields))

    def get_dataset(self, ref: str) -> e.Dataset:
        return self._datasets.get(ref)

    def list_datasets(self, *, team: str | None = None, limit: int = 100) -> list[e.Dataset]:
        return self._datasets.find(team=team, limit=limit)

    def update_dataset(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.Dataset:
        patch = build(s.DatasetPatch, **changes)
        return self._datasets.update(ref, patch, if_revision=if_revision)

    def add_dataset_version(self, dataset: str, **fields: Any) -> e.DatasetVersion:
        return self._datasets.add_version(build(s.DatasetVersionSpec, dataset=dataset, **fields))

    def get_dataset_version(self, ref: str) -> e.DatasetVersion:
        return self._datasets.get_version(ref)

    def list_dataset_versions(
        self, dataset: str, *, limit: int = 100, after: int = 0
    ) -> list[e.DatasetVersion]:
        return self._datasets.list_versions(dataset, limit=limit, after=after)

    def create_feature_view(self, ref: str, **fields: Any) -> e.FeatureView:
        return self._feature_views.create(build(s.FeatureViewSpec, ref=ref, **fields))

    def get_feature_view(self, ref: str) -> e.FeatureView:
        return self._feature_views.get(ref)

    def list_feature_views(
        self, *, team: str | None = None, limit: int = 100
    ) -> list[e.FeatureView]:
        return self._feature_views.find(team=team, limit=limit)

    def update_feature_view(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.FeatureView:
        patch = build(s.FeatureViewPatch, **changes)
        return self._feature_views.update(ref, patch, if_revision=if_revision)

    def add_feature_view_version(self, feature_view: str, **fields: Any) -> e.FeatureViewVersion:
        return self._feature_views.add_version(
            build(s.FeatureViewVersionSpec, feature_view=feature_view, **fields)
        )

    def get_feature_view_version(self, ref: str) -> e.FeatureViewVersion:
        return self._feature_views.get_version(ref)

    # -- runs, environments, deployments ------------------------------------------------------
    def create_run(self, ref: str, **fields: Any) -> e.Run:
        return self._runs.create(build(s.RunSpec, ref=ref, **fields))

    def get_run(self, ref: str) -> e.Run:
        return self._runs.get(ref)

    def list_runs(self, *, team: str | None = None, limit: int = 100) -> list[e.Run]:
        return self._runs.find(team=team, limit=limit)

    def update_run(self, ref: str, *, if_revision: int | None = None, **changes: Any) -> e.Run:
        return self._runs.update(ref, build(s.RunPatch, **changes), if_revision=if_revision)

    def create_environment(self, name: str, **fields: Any) -> e.Environment:
        return self._environments.create(build(s.EnvironmentSpec, name=name, **fields))

    def get_environment(self, name: str) -> e.Environment:
        return self._environments.get(name)

    def list_environments(self, *, limit: int = 100) -> list[e.Environment]:
        return self._environments.find(limit=limit)

    def update_environment(
        self, name: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.Environment:
        patch = build(s.EnvironmentPatch, **changes)
        return self._environments.update(name, patch, if_revision=if_revision)

    def deploy(self, version: str, environment: str, *, at: datetime | None = None) -> e.Deployment:
        return self._deployments.deploy(
            build(s.DeploymentSpec, version=version, environment=environment, at=at)
        )

    def retire_deployment(self, deployment: str, *, at: datetime | None = None) -> e.Deployment:
        return self._deployments.retire(deployment, at)

    def list_deployments(
        self,
        *,
        environment: str | None = None,
        model: str | None = None,
        active_only: bool = False,
        limit: int = 100,
    ) -> list[e.Deployment]:
        return self._deployments.find(
            environment=environment, model=model, active_only=active_only, limit=limit
        )

    def serving(self, environment: str, at: datetime) -> list[e.Serving]:
        return self._deployments.serving(environment, at)

    # -- schemas ------------------------------------------------------------------------------
    def register_schema(
        self, name: str, version: int, json_schema: dict[str, Any], **fields: Any
    ) -> e.SchemaVersion:
        return self._schemas.register(
            build(s.SchemaSpec, name=name, version=version, json_schema=json_schema, **fields)
        )

    def get_schema(self, ref: str) -> e.SchemaVersion:
        return self._schemas.get(ref)

    def list_schemas(self) -> list[e.SchemaVersion]:
        return self._schemas.find()

    # -- the log ------------------------------------------------------------------------------
    def history(self, ref: str, *, limit: int = 100, after: int = 0) -> list[e.Event]:
        return self._log.history(ref, limit=limit, after=after)

    def log_head(self) -> e.LogHead:
        return self._log.head()

    def check_log(self) -> e.LogReport:
        return self._log.check()

    def rebuild(self) -> e.RebuildReport:
        return self._log.rebuild()

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
        spec = build(
            w.WebhookSpec,
            url=url,
            events=list(events),
            team=team,
            model=model,
            description=description,
        )
        return self._webhooks.create(spec)

    def get_webhook(self, webhook: str) -> w.Webhook:
        return self._webhooks.get(webhook)

    def list_webhooks(self, *, team: str | None = None) -> list[w.Webhook]:
        return self._webhooks.find(team=team)

    def update_webhook(
        self,
        webhook: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> w.Webhook:
        given: dict[str, Any] = {
            "url": url,
            "events": list(events) if events is not None else None,
            "active": active,
            "description": description,
        }
        patch = build(w.WebhookPatch, **{k: v for k, v in given.items() if v is not None})
        return self._webhooks.update(webhook, patch)

    def rotate_webhook_secret(self, webhook: str) -> w.WebhookCreated:
        return self._webhooks.rotate_secret(webhook)

    def delete_webhook(self, webhook: str) -> None:
        self._webhooks.delete(webhook)

    def ping_webhook(self, webhook: str) -> w.WebhookDelivery:
        return self._webhooks.ping(webhook)

    def list_deliveries(
        self, webhook: str, *, status: str | None = None, limit: int = 50
    ) -> list[w.WebhookDelivery]:
        return self._webhooks.deliveries(webhook, status=status, limit=limit)

    def get_delivery(self, delivery: str) -> w.WebhookDelivery:
        return self._webhooks.get_delivery(delivery)

    def redeliver(self, delivery: str) -> w.WebhookDelivery:
        return self._webhooks.redeliver(delivery)

    def webhook_dispatcher(self, **options: Any) -> Dispatcher:
        """A delivery worker for this registry (``cairn webhook deliver``; the server runs one
        per process): see :class:`cairn.services.webhook_delivery.Dispatcher`."""
        return Dispatcher(self.store, allow=self.webhook_allow, **options)

    # -- governance -------------------------------------------------------------------------
    def publish_policy(
        self, team: str, name: str, rules: g.PolicyRules | Mapping[str, Any] | None = None
    ) -> g.Policy:
        spec = build(g.PolicySpec, team=team, name=name, rules=rules or {})
        return self._governance.publish_policy(spec.team, spec.name, spec.rules)

    def get_policy(self, ref: str) -> g.Policy:
        return self._governance.get_policy(ref)

    def list_policies(self, team: str) -> list[g.Policy]:
        return self._governance.list_policies(team)

    def request_transition(
        self, version: str, alias: str, *, reason: str, release_notes: str | None = None
    ) -> g.TransitionRequest:
        spec = build(
            g.TransitionSpec,
            version=version,
            alias=alias,
            reason=reason,
            release_notes=release_notes,
        )
        return self._governance.request_transition(
            spec.version, spec.alias, reason=spec.reason, release_notes=spec.release_notes
        )

    def approve_transition(
        self, request: str, *, comment: str | None = None
    ) -> g.TransitionRequest:
        spec = build(g.ApprovalSpec, comment=comment)
        return self._governance.approve(request, comment=spec.comment)

    def reject_transition(self, request: str, *, comment: str) -> g.TransitionRequest:
        spec = build(g.RejectionSpec, comment=comment)
        return self._governance.reject(request, comment=spec.comment)

    def get_transition(self, request: str) -> g.TransitionRequest:
        return self._governance.get_request(request)

    def list_transitions(
        self, *, model: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[g.TransitionRequest]:
        return self._governance.list_requests(model=model, status=status, limit=limit)

    def list_aliases(self, model: str) -> list[g.Alias]:
        return self._governance.aliases(model)

    def complete_review(self, model: str, *, next_due: date, notes: str | None = None) -> e.Model:
        spec = build(g.ReviewSpec, next_due=next_due, notes=notes)
        return self._governance.complete_review(model, next_due=spec.next_due, notes=spec.notes)

    def list_reviews(
        self, *, team: str | None = None, overdue_only: bool = True, limit: int = 100
    ) -> list[e.Model]:
        return self._governance.reviews(team=team, overdue_only=overdue_only, limit=limit)

    def metadata_health(self, *, team: str | None = None) -> g.HealthReport:
        return self._governance.health(team=team)

    def deprecate(
        self,
        subject: str,
        *,
        reason: str,
        sunset: date | None = None,
        replacement: str | None = None,
    ) -> e.Deprecation:
        spec = build(
            g.DeprecationSpec,
            subject=subject,
            reason=reason,
            sunset=sunset,
            replacement=replacement,
        )
        return self._governance.deprecate(
            spec.subject, reason=spec.reason, sunset=spec.sunset, replacement=spec.replacement
        )

    # -- lineage ------------------------------------------------------------------------------
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
        return self._lineage.graph(
            node,
            direction=direction,
            depth=depth,
            edge_types=edge_types,
            node_kinds=node_kinds,
            limit=limit,
        )

    def impact(
        self, node: str, *, depth: int = lg.MAX_DEPTH, limit: int = lg.MAX_NODE_LIMIT
    ) -> lg.ImpactReport:
        return self._lineage.impact(node, depth=depth, limit=limit)

    def upstream_changes(self, before: str, after: str) -> lg.UpstreamChange:
        return self._lineage.upstream_changes(before, after)

    def add_lineage_edge(self, source: str, type: str, target: str) -> lg.LineageEdge:
        return self._lineage.add_edge(source, type, target)

    def remove_lineage_edge(self, source: str, type: str, target: str) -> None:
        self._lineage.remove_edge(source, type, target)

    def report_lineage(self, events: Sequence[dict[str, Any]]) -> lg.LineageIngest:
        return self._openlineage.report(events)

    def add_identity_alias(self, canonical: str, alias: str) -> lg.IdentityAlias:
        return self._identities.add_alias(canonical, alias)

    def remove_identity_alias(self, alias: str) -> None:
        self._identities.remove_alias(alias)

    def list_identity_aliases(self) -> list[lg.IdentityAlias]:
        return self._identities.aliases()

    def known_identities(self) -> rc.CairnIdentities:
        return self._identities.known()

    def lineage_report(self, scope: str | None = None) -> cp.CompletenessReport:
        return self._completeness.report(scope)

    def access_service(
        self, home: Path | None = None, *, secret_key: str | None = None
    ) -> AccessService:
        """Principals, roles, tokens and the access log: the server's side, not the protocol.

        Tokens are hashed with ``secret_key`` (hex, e.g. from CAIRN_SECRET_KEY) if given, else
        with the key in ``secret.key`` beside a SQLite database, or in ``home`` for PostgreSQL.
        """
        folder = sqlite_folder(self.url) or home
        return AccessService(self.store, self.actor, token_key(folder, configured=secret_key))

    def upgrade_database(self) -> str | None:
        return upgrade_schema(self._engine)


if TYPE_CHECKING:
    # mypy proves here that the embedded registry implements the whole protocol.
    _conforms: type[Registry] = LocalRegistry
