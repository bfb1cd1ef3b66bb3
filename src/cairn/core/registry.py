"""The ``Registry`` protocol: the one surface every transport implements.

``cairn.connect()`` returns one. The embedded registry (:class:`cairn.local.LocalRegistry`)
implements it over the database in process; :class:`cairn.client.HttpRegistry` over the REST
API; one contract test suite (``tests/contract``) holds both to the same behaviour::

    def promote(registry: Registry, ref: str) -> None:
        registry.deploy(ref, "prod-eu")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from cairn.core import completeness as cp
from cairn.core import entities as e
from cairn.core import governance as g
from cairn.core import lineage as lg
from cairn.core import reconcile as rc
from cairn.core import specs as s
from cairn.core import webhooks as w
from cairn.core.metadata import Metric


class Registry(Protocol):
    """Teams, models and versions, datasets, feature views, runs, environments, deployments,
    facet schemas and the event log, with the same rules whatever the transport."""

    def close(self) -> None:
        """Release connections; the registry is not used afterwards."""

    def create_team(self, name: str, **fields: Any) -> e.Team:
        """Create a team (an owning namespace). Conflict if the name is taken."""

    def get_team(self, name: str) -> e.Team:
        """The team named ``name`` (``team:`` prefix optional). NotFound if absent."""

    def list_teams(self, *, limit: int = 100, after: str | None = None) -> list[e.Team]:
        """Teams in name order; ``after`` is the last name of the previous page."""

    def update_team(self, name: str, *, if_revision: int | None = None, **changes: Any) -> e.Team:
        """Change the given fields only; every change is an event.

        Every ``update_*`` takes ``if_revision``: the revision the caller last read. If the
        entity has changed since, nothing is written and PreconditionFailed is raised (over
        HTTP: ``If-Match`` and 412), so two editors cannot silently overwrite each other."""

    def create_model(self, ref: str, **fields: Any) -> e.Model:
        """Create ``team/name`` with core metadata and facets (``{'acme.risk/2': {...}}``)."""

    def get_model(self, ref: str) -> e.Model:
        """The model ``team/name``. NotFound (with a hint) if absent."""

    def list_models(
        self, *, team: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[e.Model]:
        """Models by team and name; ``after`` is the last ``team/name`` of the previous page."""

    def update_model(self, ref: str, *, if_revision: int | None = None, **changes: Any) -> e.Model:
        """Change the given fields and facets; unknown fields are refused."""

    def upgrade_facets(self, ref: str) -> list[str]:
        """Migrate every facet of a model or version to its newest schema; return the new refs."""

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
        """Register the next version (numbers are gapless per model).

        ``inputs`` name the dataset versions it was trained on; ``metrics`` is ``{name: value}``
        or metrics keyed by dataset version and slice; ``metadata`` carries the other fields
        (description, run, dependencies, labels, facets). With an ``idempotency_key`` a retry
        returns the existing version and writes nothing; the same key with another digest is
        a Conflict."""

    def register_versions(
        self, specs: Sequence[s.VersionSpec | Mapping[str, Any]]
    ) -> list[e.ModelVersion]:
        """Register many versions in one transaction: all of them, or none."""

    def import_versions(
        self,
        records: Iterable[s.VersionSpec | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> e.ImportReport:
        """Register a stream of versions (a backfill, a migration), committed batch by batch.

        Returns counts, not versions. A failing record stops the import with its error, which
        names the record and how many versions were registered before it; earlier batches
        stay. Give records idempotency keys and a re-run resumes where the last one stopped.
        ``progress`` is called with the size of each committed batch."""

    def get_version(self, ref: str) -> e.ModelVersion:
        """The version ``team/name@n``."""

    def list_versions(
        self, model: str, *, limit: int = 100, after: int = 0
    ) -> list[e.ModelVersion]:
        """Versions of a model in order; ``after`` is the last version number seen."""

    def update_version(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.ModelVersion:
        """Change description, dependencies, tags, labels or facets; never the artifact."""

    def record_evaluation(
        self,
        version: str,
        metrics: Mapping[str, float],
        *,
        dataset: str | None = None,
        slice: str = "",
        run: str | None = None,
    ) -> e.EvaluationResult:
        """Record metrics measured on a version, keyed by dataset version and slice."""

    def create_dataset(self, ref: str, **fields: Any) -> e.Dataset:
        """Create ``team/name``; its versions are added with :meth:`add_dataset_version`."""

    def get_dataset(self, ref: str) -> e.Dataset:
        """The dataset ``team/name``. NotFound if absent."""

    def list_datasets(self, *, team: str | None = None, limit: int = 100) -> list[e.Dataset]: ...

    def update_dataset(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.Dataset: ...

    def add_dataset_version(self, dataset: str, **fields: Any) -> e.DatasetVersion:
        """Add the next version of a dataset (uri, digest, fields, row count)."""

    def get_dataset_version(self, ref: str) -> e.DatasetVersion: ...

    def list_dataset_versions(
        self, dataset: str, *, limit: int = 100, after: int = 0
    ) -> list[e.DatasetVersion]: ...

    def create_feature_view(self, ref: str, **fields: Any) -> e.FeatureView:
        """Create ``team/name``; versions name the dataset versions they read."""

    def get_feature_view(self, ref: str) -> e.FeatureView: ...

    def list_feature_views(
        self, *, team: str | None = None, limit: int = 100
    ) -> list[e.FeatureView]: ...

    def update_feature_view(
        self, ref: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.FeatureView: ...

    def add_feature_view_version(self, feature_view: str, **fields: Any) -> e.FeatureViewVersion:
        """Add the next version: its features and source dataset versions."""

    def get_feature_view_version(self, ref: str) -> e.FeatureViewVersion: ...

    def create_run(self, ref: str, **fields: Any) -> e.Run:
        """Record a training or evaluation run: code reference, parameters, inputs, environment."""

    def get_run(self, ref: str) -> e.Run: ...

    def list_runs(self, *, team: str | None = None, limit: int = 100) -> list[e.Run]: ...

    def update_run(self, ref: str, *, if_revision: int | None = None, **changes: Any) -> e.Run: ...

    def create_environment(self, name: str, **fields: Any) -> e.Environment:
        """Create a deployment target such as ``prod-eu`` with its stage and runtime."""

    def get_environment(self, name: str) -> e.Environment: ...

    def list_environments(self, *, limit: int = 100) -> list[e.Environment]: ...

    def update_environment(
        self, name: str, *, if_revision: int | None = None, **changes: Any
    ) -> e.Environment: ...

    def deploy(self, version: str, environment: str, *, at: datetime | None = None) -> e.Deployment:
        """Deploy a version to an environment at ``at`` (default now); it replaces any version of
        the same model serving there, whose deployment is retired at that moment."""

    def retire_deployment(self, deployment: str, *, at: datetime | None = None) -> e.Deployment:
        """End a deployment at ``at`` (default now)."""

    def list_deployments(
        self,
        *,
        environment: str | None = None,
        model: str | None = None,
        active_only: bool = False,
        limit: int = 100,
    ) -> list[e.Deployment]:
        """Deployments, newest first, optionally of one environment or model, or active only."""

    def serving(self, environment: str, at: datetime) -> list[e.Serving]:
        """What was serving in ``environment`` at ``at``, each with its version and its inputs."""

    # -- governance -----------------------------------------------------------------------------
    def publish_policy(
        self, team: str, name: str, rules: g.PolicyRules | Mapping[str, Any] | None = None
    ) -> g.Policy:
        """Publish the next version of a team's policy: which aliases it gates, for which risk
        classes, what it requires and how many distinct approvers."""

    def get_policy(self, ref: str) -> g.Policy:
        """A policy by ``team/name`` (its newest version) or ``team/name@version``."""

    def list_policies(self, team: str) -> list[g.Policy]:
        """The newest version of each of a team's policies."""

    def request_transition(
        self, version: str, alias: str, *, reason: str, release_notes: str | None = None
    ) -> g.TransitionRequest:
        """Ask for the model's ``alias`` to point at ``version``. Checked against the team's
        policies at once: a request that fails one comes back ``refused``, listing every unmet
        rule (and is on the record); otherwise it is ``pending`` until approved."""

    def approve_transition(
        self, request: str, *, comment: str | None = None
    ) -> g.TransitionRequest:
        """Approve a pending request; PermissionDenied for its requester or the version's
        registrant. With enough distinct approvals, for the version's content as it is now, and
        the policies still met, the alias moves and the request is ``approved``."""

    def reject_transition(self, request: str, *, comment: str) -> g.TransitionRequest:
        """Reject a pending request, saying why."""

    def get_transition(self, request: str) -> g.TransitionRequest: ...

    def list_transitions(
        self, *, model: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[g.TransitionRequest]:
        """Transition requests, newest first, of one model and in one status if given."""

    def list_aliases(self, model: str) -> list[g.Alias]:
        """Where a model's aliases point, each with the digest and request that approved it."""

    def complete_review(self, model: str, *, next_due: date, notes: str | None = None) -> e.Model:
        """Record a completed review of a model's metadata and its next due date (after
        today); an event like every other change."""

    def list_reviews(
        self, *, team: str | None = None, overdue_only: bool = True, limit: int = 100
    ) -> list[e.Model]:
        """Models by review date, most overdue first: only overdue ones unless
        ``overdue_only`` is False."""

    def metadata_health(self, *, team: str | None = None) -> g.HealthReport:
        """Per model and per team: completeness against the team's policies (the model and
        its newest version), the owner (missing, unknown, or a known principal), the review
        date, and every missing item."""

    def deprecate(
        self,
        subject: str,
        *,
        reason: str,
        sunset: date | None = None,
        replacement: str | None = None,
    ) -> e.Deprecation:
        """Plan the retirement of a model (``team/name``) or a version (``team/name@n``): every
        read shows it; no alias moves to it, and requests waiting to are void. Deprecating it
        again replaces the plan."""

    # -- webhooks -------------------------------------------------------------------------------
    def create_webhook(
        self,
        url: str,
        *,
        events: Sequence[str],
        team: str | None = None,
        model: str | None = None,
        description: str | None = None,
    ) -> w.WebhookCreated:
        """Subscribe ``url`` to ``events`` of a team, or of one model. The destination is
        refused (ValidationFailed, naming why) unless it is public HTTP(S) or the operator's
        allow-list names it. The signing secret is in the answer, and never again."""

    def get_webhook(self, webhook: str) -> w.Webhook: ...

    def list_webhooks(self, *, team: str | None = None) -> list[w.Webhook]:
        """Subscriptions, of one team if given."""

    def update_webhook(
        self,
        webhook: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> w.Webhook:
        """Change the given fields. A paused subscription (``active=False``) hears no new
        events; deliveries queued before the pause are sent once it is resumed."""

    def rotate_webhook_secret(self, webhook: str) -> w.WebhookCreated:
        """A new signing secret, in force at once; shown in the answer only."""

    def delete_webhook(self, webhook: str) -> None:
        """Remove a subscription and its delivery log (its events stay in the log)."""

    def ping_webhook(self, webhook: str) -> w.WebhookDelivery:
        """Queue a ``webhook.ping`` delivery to test a receiver."""

    def list_deliveries(
        self, webhook: str, *, status: str | None = None, limit: int = 50
    ) -> list[w.WebhookDelivery]:
        """A subscription's deliveries, newest first, each with every attempt."""

    def get_delivery(self, delivery: str) -> w.WebhookDelivery: ...

    def redeliver(self, delivery: str) -> w.WebhookDelivery:
        """Queue one more attempt of a delivery, now."""

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
        """The graph around ``node`` (``model:fraud/churn@3``, ``dataset:risk/tx@2``,
        ``ol-dataset:postgres://db:5432/sales.orders`` …): what lies ``upstream``,
        ``downstream`` or ``both``, within ``depth`` edges, following only ``edge_types`` and
        showing only ``node_kinds`` if given. Cut short by ``depth`` or ``limit``, the answer
        says so (``partial``, ``reason``, ``stopped_at``)."""

    def impact(
        self, node: str, *, depth: int = lg.MAX_DEPTH, limit: int = lg.MAX_NODE_LIMIT
    ) -> lg.ImpactReport:
        """Every model version downstream of a dataset, feature view, run or model version, each
        with the path reaching it, its team and contact, and the deployments of them."""

    def upstream_changes(self, before: str, after: str) -> lg.UpstreamChange:
        """What shaped one model version and not the other: removed, added, and the same thing
        at another version."""

    def add_lineage_edge(self, source: str, type: str, target: str) -> lg.LineageEdge:
        """Record that ``source`` shaped ``target`` (types and the kinds they join:
        :data:`cairn.core.lineage.EDGE_RULES`). External nodes are created as named."""

    def remove_lineage_edge(self, source: str, type: str, target: str) -> None:
        """Remove an edge (the log keeps that it existed)."""

    def report_lineage(self, events: Sequence[dict[str, Any]]) -> lg.LineageIngest:
        """Take OpenLineage events (run, dataset or job events) as their producers send them;
        one invalid event refuses the batch, naming its JSON path."""

    def add_identity_alias(self, canonical: str, alias: str) -> lg.IdentityAlias:
        """Record that the OpenLineage dataset ``alias`` is ``canonical`` by another name
        (``ol-dataset:hive://metastore/b.x`` for ``ol-dataset:s3://b/x``): what was reported
        under the alias merges into the canonical node, and later reports land there."""

    def remove_identity_alias(self, alias: str) -> None:
        """Forget an alias; what it already merged stays merged."""

    def list_identity_aliases(self) -> list[lg.IdentityAlias]:
        """Every recorded alias with its canonical name."""

    def known_identities(self) -> rc.CairnIdentities:
        """Every OpenLineage dataset identity Cairn knows (reported, linked or claimed by a
        registered dataset) with its aliases, and the registered datasets that claim none:
        Cairn's side of :func:`cairn.core.reconcile.reconcile`."""

    def lineage_report(self, scope: str | None = None) -> cp.CompletenessReport:
        """How much of what shaped each model version is on record (training data, code,
        environment, evaluation, approval) and validation coverage, for the ``registry`` (the
        default), ``team:<name>``, ``model:<team>/<name>`` or one version."""

    def register_schema(
        self, name: str, version: int, json_schema: dict[str, Any], **fields: Any
    ) -> e.SchemaVersion:
        """Publish facet schema ``name/version``; immutable once published. After version 1,
        a migration (JSON Patch) from the previous version is required."""

    def get_schema(self, ref: str) -> e.SchemaVersion:
        """A facet schema by ``name/version`` (newest if the version is left out)."""

    def list_schemas(self) -> list[e.SchemaVersion]:
        """Built-in and registered facet schemas."""

    def history(self, ref: str, *, limit: int = 100, after: int = 0) -> list[e.Event]:
        """Events about an entity (and, for an unversioned id, its versions), oldest first."""

    def log_head(self) -> e.LogHead:
        """Size, Merkle root and chain head of the event log."""

    def check_log(self) -> e.LogReport:
        """Recompute every leaf, chain link and root; report the first event that does not match."""

    def rebuild(self) -> e.RebuildReport:
        """Empty every read table and replay the log into them."""
