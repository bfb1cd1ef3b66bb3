"""What the registry returns: typed, immutable records with stable identifiers.

These are output types. Inputs are in :mod:`cairn.core.specs`; table rows live in the store.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from cairn.core.metadata import (
    CodeRef,
    Dependencies,
    Documentation,
    DocumentationStatus,
    Facet,
    FieldSpec,
    Hardware,
    Metric,
    RiskClass,
    RunKind,
    RunStatus,
    Runtime,
    Stage,
)


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1


class Team(Record):
    name: str
    display_name: str | None = None
    description: str | None = None
    contact: str | None = None


class Deprecation(BaseModel):
    """A plan to retire a model or a version: why, until when, and what replaces it."""

    model_config = ConfigDict(frozen=True)

    reason: str
    sunset: date | None = None
    replacement: str | None = None
    by: str
    at: datetime


class Review(BaseModel):
    """The last completed review of a model."""

    model_config = ConfigDict(frozen=True)

    by: str
    at: datetime
    notes: str | None = None


class Model(Record):
    team: str
    name: str
    description: str | None = None
    contact: str | None = None
    task: str | None = None
    algorithm_family: str | None = None
    framework: str | None = None
    risk_class: RiskClass | None = None
    documentation_status: DocumentationStatus = DocumentationStatus.MISSING
    review_due: date | None = None
    documentation: Documentation = Field(default_factory=Documentation)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    facets: dict[str, Facet] = Field(default_factory=dict)
    latest_version: int = 0
    created_by: str
    deprecation: Deprecation | None = None
    last_review: Review | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def review_overdue(self) -> bool:
        """Its review date has passed: the model's metadata may be stale."""
        return self.review_due is not None and self.review_due < datetime.now(UTC).date()


class DatasetInput(BaseModel):
    """A dataset version a model version was trained on, with its digest at registration."""

    model_config = ConfigDict(frozen=True)

    id: str
    digest: str | None = None


class ModelVersion(Record):
    model: str
    version: int
    artifact_uri: str
    digest: str
    description: str | None = None
    run: str | None = None
    inputs: list[DatasetInput] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    dependencies: Dependencies = Field(default_factory=Dependencies)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    facets: dict[str, Facet] = Field(default_factory=dict)
    registered_by: str
    deprecation: Deprecation | None = None


class Dataset(Record):
    team: str
    name: str
    description: str | None = None
    uri: str | None = None
    external_ids: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    latest_version: int = 0


class DatasetVersion(Record):
    dataset: str
    version: int
    uri: str | None = None
    digest: str | None = None
    fields: list[FieldSpec] = Field(default_factory=list)
    row_count: int | None = None
    created_by: str


class FeatureView(Record):
    team: str
    name: str
    description: str | None = None
    entities: list[str] = Field(default_factory=list)
    latest_version: int = 0


class FeatureViewVersion(Record):
    feature_view: str
    version: int
    features: list[FieldSpec] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    created_by: str


class Run(Record):
    team: str
    name: str
    kind: RunKind
    status: RunStatus
    started_at: datetime | None = None
    ended_at: datetime | None = None
    code: CodeRef | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    environment: str | None = None


class Environment(Record):
    name: str
    stage: Stage
    description: str | None = None
    runtime: Runtime = Field(default_factory=Runtime)
    hardware: Hardware = Field(default_factory=Hardware)


class Deployment(Record):
    version: str
    environment: str
    deployed_at: datetime
    retired_at: datetime | None = None
    deployed_by: str


class Serving(BaseModel):
    """What was serving in an environment at a moment, and what it was trained on."""

    model_config = ConfigDict(frozen=True)

    deployment: Deployment
    version: ModelVersion


class EvaluationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    dataset: str | None
    slice: str
    run: str | None
    metrics: dict[str, float]
    recorded_at: datetime
    recorded_by: str


class SchemaVersion(BaseModel):
    """A published facet schema version; immutable once published."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int
    team: str | None
    description: str | None = None
    json_schema: dict[str, Any]
    migration: list[dict[str, Any]] | None = None
    created_at: datetime
    created_by: str
    builtin: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"


class Event(BaseModel):
    """One entry of the append-only log."""

    model_config = ConfigDict(frozen=True)

    seq: int
    type: str
    subject: str
    actor: str
    at: datetime
    schema_version: int
    payload: dict[str, Any]
    leaf_hash: str
    chain_hash: str
    root_hash: str


class LogHead(BaseModel):
    model_config = ConfigDict(frozen=True)

    size: int
    root_hash: str
    chain_hash: str


class LogProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    problem: str


class LogReport(BaseModel):
    """Result of recomputing every leaf, chain link and root of the log."""

    model_config = ConfigDict(frozen=True)

    checked: int
    head: LogHead
    first_problem: LogProblem | None = None

    @property
    def ok(self) -> bool:
        return self.first_problem is None


class RebuildReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    events_replayed: int
    tables: dict[str, int]


class ImportReport(BaseModel):
    """What a bulk import did: every record is either newly registered or already present."""

    model_config = ConfigDict(frozen=True)

    records: int
    registered: int
    unchanged: int = Field(description="records whose idempotency key named an existing version")
    batches: int


RoleName = Literal["viewer", "contributor", "approver", "admin"]
Outcome = Literal["allowed", "denied", "failed"]


class PrincipalInfo(BaseModel):
    """A user or service account and the roles it holds (``teams``: team name -> role)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["user", "service"]
    display_name: str | None = None
    registry_role: Literal["admin", "auditor"] | None = None
    disabled: bool = False
    acts_for: str | None = None  # a service account's user: it shares that user's exclusions
    teams: dict[str, RoleName] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    revision: int = 1


class TokenInfo(BaseModel):
    """An API token as anyone may see it: never its secret, never its hash."""

    model_config = ConfigDict(frozen=True)

    id: str
    principal: str
    name: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class IssuedToken(TokenInfo):
    """A new token with its text, returned exactly once; only a keyed hash is stored."""

    token: str = Field(repr=False)


class AccessPruned(BaseModel):
    """What pruning the access log removed: every record from before ``before``."""

    model_config = ConfigDict(frozen=True)

    before: datetime
    deleted: int


class AccessRecord(BaseModel):
    """One request as the server saw it, and what it was told (the access log)."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None  # given by the log when stored
    at: datetime
    principal: str | None = None  # None: anonymous
    method: str
    path: str
    action: str | None = None  # None: the request matched no route
    team: str | None = None
    outcome: Outcome
    status: int
    detail: str | None = None
