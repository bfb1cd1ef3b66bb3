"""The schema. Read tables are projections of the event log; ``events`` and ``log_state`` are
the log itself. Surrogate UUID keys, unique natural keys, UTC times, check constraints for states.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cairn.store.types import JsonDoc, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Uuid = String(36)


def _audit() -> list[Column[object]]:
    return [
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("revision", Integer, nullable=False),
    ]


def _states(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IS NULL OR {column} IN ({allowed})", name=name)


teams = Table(
    "teams",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("display_name", String(500)),
    Column("description", Text),
    Column("contact", String(320)),
    *_audit(),
)

models = Table(
    "models",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("description", Text),
    Column("contact", String(320)),
    Column("task", String(100)),
    Column("algorithm_family", String(100)),
    Column("framework", String(100)),
    Column("risk_class", String(20)),
    Column("documentation_status", String(20), nullable=False),
    Column("review_due", Date),
    Column("documentation", JsonDoc, nullable=False),
    Column("tags", JsonDoc, nullable=False),
    Column("labels", JsonDoc, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("deprecation", JsonDoc),
    Column("last_review", JsonDoc),
    *_audit(),
    UniqueConstraint("team_id", "name"),
    _states("risk_class", ("minimal", "limited", "high", "unacceptable"), "risk_class"),
    _states("documentation_status", ("missing", "draft", "complete", "approved"), "doc_status"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("model_id", Uuid, ForeignKey("models.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("artifact_uri", String(2000), nullable=False),
    Column("digest", String(200), nullable=False),
    Column("description", Text),
    Column("run_id", Uuid, ForeignKey("runs.id")),
    Column("dependencies", JsonDoc, nullable=False),
    Column("tags", JsonDoc, nullable=False),
    Column("labels", JsonDoc, nullable=False),
    Column("idempotency_key", String(200)),
    Column("registered_by", String(200), nullable=False),
    Column("deprecation", JsonDoc),
    # The version's inputs and metrics as a read returns them (``[{"id", "digest"}]`` and
    # ``[{"name", "value", "dataset", "slice", "run"}]``, references spelled out), kept by the
    # projector beside the rows of version_inputs, evaluations and metrics, which stay the
    # record that queries join on. A page of versions is then one query, not three: the two
    # joins ran through five tables per row and were a third of a page's CPU.
    Column("inputs_view", JsonDoc, nullable=False, server_default="[]"),
    Column("metrics_view", JsonDoc, nullable=False, server_default="[]"),
    *_audit(),
    UniqueConstraint("model_id", "version"),
    UniqueConstraint("model_id", "idempotency_key"),
    CheckConstraint("version >= 1", name="version_positive"),
)

version_inputs = Table(
    "version_inputs",
    metadata,
    Column("version_id", Uuid, ForeignKey("model_versions.id"), primary_key=True),
    Column("dataset_version_id", Uuid, ForeignKey("dataset_versions.id"), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("digest", String(200)),
    Index(None, "dataset_version_id"),
    sqlite_with_rowid=False,
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("version_id", Uuid, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("dataset_version_id", Uuid, ForeignKey("dataset_versions.id"), index=True),
    Column("slice", String(200), nullable=False),
    Column("run_id", Uuid, ForeignKey("runs.id")),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)

metrics = Table(
    "metrics",
    metadata,
    Column("evaluation_id", Uuid, ForeignKey("evaluations.id"), primary_key=True),
    Column("name", String(100), primary_key=True),
    # Kept beside the evaluation for metric queries across versions ("auc > 0.9"); reads
    # of one version's metrics go through evaluations(version_id). No index on (name, value)
    # yet: its random inserts were the write path's largest cost (see migration 0002).
    Column("version_id", Uuid, ForeignKey("model_versions.id"), nullable=False),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("description", Text),
    Column("uri", String(2000)),
    Column("external_ids", JsonDoc, nullable=False),
    Column("tags", JsonDoc, nullable=False),
    Column("latest_version", Integer, nullable=False),
    *_audit(),
    UniqueConstraint("team_id", "name"),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("dataset_id", Uuid, ForeignKey("datasets.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("uri", String(2000)),
    Column("digest", String(200)),
    Column("fields", JsonDoc, nullable=False),
    Column("row_count", BigInteger),
    Column("created_by", String(200), nullable=False),
    *_audit(),
    UniqueConstraint("dataset_id", "version"),
)

feature_views = Table(
    "feature_views",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("description", Text),
    Column("entities", JsonDoc, nullable=False),
    Column("latest_version", Integer, nullable=False),
    *_audit(),
    UniqueConstraint("team_id", "name"),
)

feature_view_versions = Table(
    "feature_view_versions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("feature_view_id", Uuid, ForeignKey("feature_views.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("features", JsonDoc, nullable=False),
    Column("created_by", String(200), nullable=False),
    *_audit(),
    UniqueConstraint("feature_view_id", "version"),
)

feature_view_sources = Table(
    "feature_view_sources",
    metadata,
    Column(
        "feature_view_version_id", Uuid, ForeignKey("feature_view_versions.id"), primary_key=True
    ),
    Column("dataset_version_id", Uuid, ForeignKey("dataset_versions.id"), primary_key=True),
    Column("position", Integer, nullable=False),
    sqlite_with_rowid=False,
)

environments = Table(
    "environments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("stage", String(20), nullable=False),
    Column("description", Text),
    Column("runtime", JsonDoc, nullable=False),
    Column("hardware", JsonDoc, nullable=False),
    *_audit(),
    _states("stage", ("development", "staging", "production"), "stage"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("code", JsonDoc),
    Column("parameters", JsonDoc, nullable=False),
    Column("environment_id", Uuid, ForeignKey("environments.id")),
    *_audit(),
    UniqueConstraint("team_id", "name"),
    _states("kind", ("training", "evaluation"), "kind"),
    _states("status", ("running", "succeeded", "failed"), "status"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", Uuid, ForeignKey("runs.id"), primary_key=True),
    Column("dataset_version_id", Uuid, ForeignKey("dataset_versions.id"), primary_key=True),
    Column("position", Integer, nullable=False),
    sqlite_with_rowid=False,
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("version_id", Uuid, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("environment_id", Uuid, ForeignKey("environments.id"), nullable=False),
    Column("deployed_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
    Column("deployed_by", String(200), nullable=False),
    *_audit(),
    Index(None, "environment_id", "deployed_at"),
)

facet_schemas = Table(
    "facet_schemas",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id")),
    Column("description", Text),
    Column("json_schema", JsonDoc, nullable=False),
    Column("migration", JsonDoc),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

facets = Table(
    "facets",
    metadata,
    Column("subject_id", Uuid, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("schema_version", Integer, nullable=False),
    Column("producer", String(500)),
    Column("data", JsonDoc, nullable=False),
)

events = Table(
    "events",
    metadata,
    # INTEGER on SQLite makes seq the rowid itself; BIGINT there would add a second B-tree.
    Column(
        "seq",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("type", String(100), nullable=False),
    Column("subject", String(400), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("at", String(32), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("root_hash", String(64), nullable=False),
)

log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", Text, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("root_hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

principals = Table(
    "principals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),  # "user:alice", "service:ci"
    Column("kind", String(20), nullable=False),
    Column("display_name", String(500)),
    Column("registry_role", String(20)),
    Column("disabled", Boolean, nullable=False),
    Column("acts_for", String(200)),  # a service account: the user it acts for
    *_audit(),
    _states("kind", ("user", "service"), "kind"),
    _states("registry_role", ("admin", "auditor"), "registry_role"),
)

team_roles = Table(
    "team_roles",
    metadata,
    Column("principal_id", Uuid, ForeignKey("principals.id"), primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id"), primary_key=True),
    Column("role", String(20), nullable=False),
    Index(None, "team_id"),
    _states("role", ("viewer", "contributor", "approver", "admin"), "role"),
    sqlite_with_rowid=False,
)

# Credentials, not a projection: the log never carries a token's hash, so this table cannot be
# rebuilt from it, and `cairn admin rebuild` leaves it alone. For the same reason principal_id
# has no foreign key: a rebuild empties and refills `principals` (same ids) in one transaction.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("principal_id", Uuid, nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

# Who asked for what, and what they were told. Kept apart from the event log: reads are far
# more frequent than changes, and a log of them needs no Merkle tree.
access_log = Table(
    "access_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("principal", String(200), index=True),  # None: anonymous
    Column("method", String(16), nullable=False),
    Column("path", String(2000), nullable=False),
    Column("action", String(40)),  # None: the request named no route
    Column("team", String(63)),
    Column("outcome", String(10), nullable=False),
    Column("status", Integer, nullable=False),
    Column("detail", String(2000)),
    _states("outcome", ("allowed", "denied", "failed"), "outcome"),
)

# -- webhooks ------------------------------------------------------------------------------------
# Subscriptions, like tokens, are written beside their events, not projected from them: a
# webhook's URL may itself be a credential (a Slack or Teams hook is a secret path), and its
# signing secret certainly is, and neither may enter a log that can never forget. The events
# record who subscribed which team to what, at which origin. No foreign keys to projections,
# which a rebuild empties and refills with the same ids.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_id", Uuid, nullable=False, index=True),
    Column("model_id", Uuid),
    Column("url", String(2048), nullable=False),
    Column("events", JsonDoc, nullable=False),
    Column("description", String(500)),
    Column("active", Boolean, nullable=False),
    Column("after_seq", BigInteger, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("created_by", String(200), nullable=False),
    *_audit(),
)

# The delivery log: operational state, kept apart from the event log like the access log.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("webhook_id", Uuid, nullable=False),
    Column("topic", String(40), nullable=False),
    Column("event_seq", BigInteger),  # None: a ping
    Column("subject", String(300)),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    # A worker claims a delivery for a while; another may take it over once that has passed.
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    UniqueConstraint("webhook_id", "event_seq"),
    Index(None, "status", "next_attempt_at"),
    _states("status", ("pending", "delivered", "failed"), "status"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("status_code", Integer),
    Column("error", String(500)),
    Column("duration_ms", Float, nullable=False),
    Column("retry_at", UTCDateTime),
    _states("outcome", ("delivered", "failed", "refused"), "outcome"),
)

# How far the delivery workers have read the event log: one row.
webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

#: Projections, in an order that satisfies foreign keys when filled.
# -- governance: policies, transition requests and their approvals, aliases -----------------------
policies = Table(
    "policies",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rules", JsonDoc, nullable=False),
    Column("created_by", String(200), nullable=False),
    *_audit(),
    UniqueConstraint("team_id", "name", "version"),
)

transition_requests = Table(
    "transition_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("model_id", Uuid, ForeignKey("models.id"), nullable=False),
    Column("version_id", Uuid, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("alias", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("release_notes", Text),
    Column("digest", String(80), nullable=False),
    Column("approvals_needed", Integer, nullable=False),
    Column("policies", JsonDoc, nullable=False),
    Column("unmet", JsonDoc, nullable=False),
    Column("decided_by", String(200)),
    Column("decision_comment", String(500)),
    *_audit(),
    _states("status", ("pending", "approved", "rejected", "refused", "void"), "status"),
    Index(None, "model_id", "status"),
)

transition_approvals = Table(
    "transition_approvals",
    metadata,
    Column("request_id", Uuid, ForeignKey("transition_requests.id"), primary_key=True),
    Column("approved_by", String(200), primary_key=True),
    Column("approved_at", UTCDateTime, nullable=False),
    Column("digest", String(80), nullable=False),
    Column("comment", String(500)),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", Uuid, ForeignKey("models.id"), primary_key=True),
    Column("alias", String(40), primary_key=True),
    Column("version_id", Uuid, ForeignKey("model_versions.id"), nullable=False, index=True),
    Column("digest", String(80), nullable=False),
    Column("request_id", Uuid, ForeignKey("transition_requests.id")),
    Column("set_by", String(200), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)

# The lineage graph. Edges are a projection of the events that imply them (a registration
# with its inputs, a run, a deployment …) and of explicit lineage events; nodes known only by
# an outside identity (code, OpenLineage datasets, jobs and runs) live in ``lineage_nodes``
# with keys derived from that identity. Node keys of other kinds are the entity rows' own.
lineage_nodes = Table(
    "lineage_nodes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("namespace", String(1000), nullable=False),
    Column("name", String(1000), nullable=False),
    Column("state", String(20)),  # an OpenLineage run's last event type
    # OpenLineage datasets only: cairn.core.reconcile.match_text, so a new name that is likely
    # an old dataset's twin is found by an index, not a scan.
    Column("match_key", String(2000), index=True),
    Column("facets", JsonDoc, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "namespace", "name"),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("source_id", Uuid, primary_key=True),
    Column("target_id", Uuid, primary_key=True),
    Column("type", String(20), primary_key=True),
    Column("source_kind", String(24), nullable=False),
    Column("target_kind", String(24), nullable=False),
    # Upstream walks look edges up by target; the kinds ride along so a walk never joins
    # another table to learn where it stands.
    Index(None, "target_id", "source_kind"),
    sqlite_with_rowid=False,
)

# Other names of an outside identity (``b.x`` for ``s3://b/x``): keyed by the alias's own
# derived key, so resolving any name someone reports is one primary-key lookup.
lineage_aliases = Table(
    "lineage_aliases",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("namespace", String(1000), nullable=False),
    Column("name", String(1000), nullable=False),
    Column("canonical_id", Uuid, nullable=False, index=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

READ_TABLES: tuple[Table, ...] = (
    teams,
    environments,
    datasets,
    dataset_versions,
    feature_views,
    feature_view_versions,
    feature_view_sources,
    runs,
    run_inputs,
    models,
    model_versions,
    version_inputs,
    evaluations,
    metrics,
    deployments,
    facet_schemas,
    facets,
    principals,
    team_roles,
    policies,
    transition_requests,
    transition_approvals,
    model_aliases,
    lineage_nodes,
    lineage_edges,
    lineage_aliases,
)
