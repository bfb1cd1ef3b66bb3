"""What callers send: validated inputs for creating and changing entities.

Create specs refuse unknown fields; patches carry only the fields the caller set
(``model_fields_set``), so "leave unchanged" and "clear to null" differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from cairn.core.errors import ValidationFailed
from cairn.core.metadata import (
    CodeRef,
    Dependencies,
    Digest,
    Documentation,
    DocumentationStatus,
    FieldSpec,
    FiniteFloat,
    Hardware,
    Label,
    Metric,
    RiskClass,
    RunKind,
    RunStatus,
    Runtime,
    ShortText,
    Stage,
    Tag,
    Text,
    Uri,
)

LabelMap = Annotated[dict[Label, Label], Field(max_length=100)]
TagList = Annotated[list[Tag], Field(max_length=100)]
# JSON documents all the way down: object keys are strings, values JSON (the log's
# canonical encoding and the facet schemas both rely on it).
FacetInput = Annotated[dict[str, dict[str, JsonValue]], Field(max_length=50)]
Word = Annotated[str, Field(min_length=1, max_length=100)]
Email = Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$")]


def _documented(pattern: str, max_length: int, example: str) -> Any:
    """A reference string whose form the OpenAPI document states; the services enforce it
    (with better messages than a bare pattern would give, such as the canonical suggestion)."""
    return Field(
        max_length=max_length, json_schema_extra={"pattern": pattern, "examples": [example]}
    )


_SEG = r"[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?"
NameRef = Annotated[str, _documented(rf"^(team:|environment:)?{_SEG}$", 80, "fraud")]
ModelRef = Annotated[str, _documented(rf"^(model:)?{_SEG}/{_SEG}$", 140, "fraud/churn")]
VersionRef = Annotated[
    str, _documented(rf"^(model:)?{_SEG}/{_SEG}@[1-9][0-9]*$", 160, "fraud/churn@3")
]
DatasetRef = Annotated[str, _documented(rf"^(dataset:)?{_SEG}/{_SEG}$", 140, "risk/customers")]
DatasetVersionRef = Annotated[
    str, _documented(rf"^(dataset:)?{_SEG}/{_SEG}@[1-9][0-9]*$", 160, "risk/customers@2")
]
FeatureViewRef = Annotated[str, _documented(rf"^(feature_view:)?{_SEG}/{_SEG}$", 150, "risk/spend")]
RunRef = Annotated[str, _documented(rf"^(run:)?{_SEG}/{_SEG}$", 140, "fraud/train-481")]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def changes(self) -> dict[str, Any]:
        """The fields the caller set, as JSON-compatible values."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class TeamSpec(Spec):
    name: NameRef
    display_name: ShortText | None = None
    description: Text | None = None
    contact: Email | None = None


class TeamPatch(Spec):
    display_name: ShortText | None = None
    description: Text | None = None
    contact: Email | None = None


class ModelFields(Spec):
    description: Text | None = None
    contact: Email | None = None
    task: Word | None = None
    algorithm_family: Word | None = None
    framework: Word | None = None
    risk_class: RiskClass | None = None
    documentation_status: DocumentationStatus = DocumentationStatus.MISSING
    review_due: date | None = None
    documentation: Documentation = Field(default_factory=Documentation)
    tags: TagList = Field(default_factory=list)
    labels: LabelMap = Field(default_factory=dict)
    facets: FacetInput = Field(default_factory=dict)


class ModelSpec(ModelFields):
    """A new model: ``ref`` is ``team/name``."""

    ref: ModelRef


class ModelPatch(ModelFields):
    pass


class VersionSpec(Spec):
    """A new model version. ``inputs`` name dataset versions it was trained on."""

    model: ModelRef
    artifact_uri: Uri
    digest: Digest
    description: Text | None = None
    run: RunRef | None = None
    inputs: Annotated[list[DatasetVersionRef], Field(max_length=1000)] = Field(default_factory=list)
    metrics: Annotated[list[Metric], Field(max_length=10_000)] = Field(default_factory=list)
    dependencies: Dependencies = Field(default_factory=Dependencies)
    tags: TagList = Field(default_factory=list)
    labels: LabelMap = Field(default_factory=dict)
    facets: FacetInput = Field(default_factory=dict)
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class VersionPatch(Spec):
    description: Text | None = None
    dependencies: Dependencies = Field(default_factory=Dependencies)
    tags: TagList = Field(default_factory=list)
    labels: LabelMap = Field(default_factory=dict)
    facets: FacetInput = Field(default_factory=dict)


class DatasetSpec(Spec):
    ref: DatasetRef
    description: Text | None = None
    uri: Uri | None = None
    external_ids: LabelMap = Field(default_factory=dict)
    tags: TagList = Field(default_factory=list)


class DatasetPatch(Spec):
    description: Text | None = None
    uri: Uri | None = None
    external_ids: LabelMap = Field(default_factory=dict)
    tags: TagList = Field(default_factory=list)


class DatasetVersionSpec(Spec):
    dataset: DatasetRef
    uri: Uri | None = None
    digest: str | None = None
    fields: Annotated[list[FieldSpec], Field(max_length=10_000)] = Field(default_factory=list)
    row_count: Annotated[int, Field(ge=0, le=2**53 - 1)] | None = None


class FeatureViewSpec(Spec):
    ref: FeatureViewRef
    description: Text | None = None
    entities: Annotated[list[Word], Field(max_length=100)] = Field(default_factory=list)


class FeatureViewPatch(Spec):
    description: Text | None = None
    entities: Annotated[list[Word], Field(max_length=100)] = Field(default_factory=list)


class FeatureViewVersionSpec(Spec):
    feature_view: FeatureViewRef
    features: Annotated[list[FieldSpec], Field(max_length=10_000)] = Field(default_factory=list)
    sources: Annotated[list[DatasetVersionRef], Field(max_length=1000)] = Field(
        default_factory=list
    )


class RunSpec(Spec):
    """A training or evaluation run; ``ref`` is ``team/name``."""

    ref: RunRef
    kind: RunKind = RunKind.TRAINING
    status: RunStatus = RunStatus.RUNNING
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    code: CodeRef | None = None
    parameters: LabelMap = Field(default_factory=dict)
    inputs: Annotated[list[DatasetVersionRef], Field(max_length=1000)] = Field(default_factory=list)
    environment: NameRef | None = None


class RunPatch(Spec):
    status: RunStatus = RunStatus.RUNNING
    ended_at: AwareDatetime | None = None
    parameters: LabelMap = Field(default_factory=dict)


class EnvironmentSpec(Spec):
    name: NameRef
    stage: Stage
    description: Text | None = None
    runtime: Runtime = Field(default_factory=Runtime)
    hardware: Hardware = Field(default_factory=Hardware)


class EnvironmentPatch(Spec):
    stage: Stage = Stage.DEVELOPMENT
    description: Text | None = None
    runtime: Runtime = Field(default_factory=Runtime)
    hardware: Hardware = Field(default_factory=Hardware)


class DeploymentSpec(Spec):
    version: VersionRef
    environment: NameRef
    at: AwareDatetime | None = None


class EvaluationSpec(Spec):
    version: VersionRef
    metrics: Annotated[
        dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@/-]{0,99}$")], FiniteFloat],
        Field(min_length=1, max_length=1000),
    ]
    dataset: DatasetVersionRef | None = None
    slice: Annotated[str, Field(max_length=200)] = ""
    run: RunRef | None = None


class SchemaSpec(Spec):
    """A facet schema version to publish, e.g. ``acme.credit-risk`` version 2."""

    name: str
    version: Annotated[int, Field(ge=1)]
    json_schema: dict[str, Any]
    team: str | None = None
    description: Text | None = None
    migration: list[dict[str, Any]] | None = None


_VERSION_ARGUMENTS = frozenset(
    {"model", "artifact_uri", "digest", "inputs", "metrics", "tags", "idempotency_key"}
)


def version_fields(
    model: str,
    artifact_uri: str,
    digest: str,
    *,
    metadata: Mapping[str, Any] | None,
    inputs: Sequence[str],
    metrics: Mapping[str, float] | Sequence[Metric | Mapping[str, Any]] | None,
    tags: Sequence[str],
    idempotency_key: str | None,
) -> dict[str, Any]:
    """The fields of a :class:`VersionSpec` from ``register_version``'s arguments, as every
    transport takes them: ``metrics`` as ``{name: value}`` or metrics keyed by dataset and
    slice; ``metadata`` for the rest, which may not repeat an argument."""
    extra = dict(metadata or {})
    clash = sorted(set(extra) & _VERSION_ARGUMENTS)
    if clash:
        raise ValidationFailed(
            f"metadata repeats {', '.join(clash)}, which are arguments of register_version",
            field="metadata",
            rule="duplicate",
            hint="pass them as arguments only",
        )
    if metrics is None:
        listed: list[Any] = []
    elif isinstance(metrics, Mapping):
        listed = [{"name": k, "value": v} for k, v in metrics.items()]
    else:
        listed = [m.model_dump(mode="json") if isinstance(m, Metric) else dict(m) for m in metrics]
    return {
        "model": model,
        "artifact_uri": artifact_uri,
        "digest": digest,
        "inputs": list(inputs),
        "metrics": listed,
        "tags": list(tags),
        "idempotency_key": idempotency_key,
        **extra,
    }


#: Most versions ``import_versions`` commits in one transaction.
MAX_IMPORT_BATCH = 100_000


def within(value: int, low: int, high: int, *, what: str, field: str, hint: str) -> int:
    """``value`` if ``low <= value <= high``; else ValidationFailed (rule ``range``)."""
    if not low <= value <= high:
        raise ValidationFailed(
            f"{what} {value} is out of range", field=field, rule="range", hint=hint
        )
    return value


def import_batch_size(size: int) -> int:
    """``size`` if it is a usable import batch size; ValidationFailed otherwise."""
    hint = f"1..{MAX_IMPORT_BATCH}"
    return within(size, 1, MAX_IMPORT_BATCH, what="batch size", field="batch_size", hint=hint)
