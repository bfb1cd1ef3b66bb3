"""The core metadata schema (v1): value types shared by entities and inputs.

Long-text documentation and dependency requirements are *core facets*: structured blobs with a
published JSON Schema (see :mod:`cairn.core.facets`), exposed here as typed models. Fields these
models do not know are kept (``extra="allow"``) so metadata written by a newer producer survives
an older reader::

    >>> Metric(name="f1", value=0.81, dataset="dataset:risk/customers@3", slice="region=eu").key
    ('f1', 'dataset:risk/customers@3', 'region=eu')
"""

from __future__ import annotations

import math
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

CORE_SCHEMA_VERSION = 1


class RiskClass(StrEnum):
    """EU AI Act risk classes."""

    MINIMAL = "minimal"
    LIMITED = "limited"
    HIGH = "high"
    UNACCEPTABLE = "unacceptable"


class DocumentationStatus(StrEnum):
    """How far a model's documentation has got."""

    MISSING = "missing"
    DRAFT = "draft"
    COMPLETE = "complete"
    APPROVED = "approved"


class Stage(StrEnum):
    """What an environment is for."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class RunKind(StrEnum):
    TRAINING = "training"
    EVALUATION = "evaluation"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Text = Annotated[str, Field(max_length=10_000)]
ShortText = Annotated[str, Field(max_length=500)]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/=+-]{0,99}$")]
Digest = Annotated[
    str, Field(pattern=r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}|md5:[0-9a-f]{32})$")
]
# A scheme, "://", and a host or bucket; only file:/// and hdfs:/// (the default name node)
# may leave the authority empty, so `http:///#/../` names nothing and is refused. One pattern,
# so that the OpenAPI document states exactly what is enforced.
URI_PATTERN = r"^(?:(?:file|hdfs):///\S+|[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#]\S*)$"
Uri = Annotated[str, Field(min_length=1, max_length=2_000, pattern=URI_PATTERN)]
FiniteFloat = Annotated[float, AfterValidator(_finite)]


class Open(BaseModel):
    """A metadata object that keeps fields it does not know."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Closed(BaseModel):
    """An input or value object that refuses fields it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(Closed):
    """One evaluation figure, keyed by metric name, dataset version and slice."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@/-]{0,99}$")]
    value: FiniteFloat
    dataset: str | None = None
    slice: Annotated[str, Field(max_length=200)] = ""
    run: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.name, self.dataset, self.slice)


class Documentation(Open):
    """Why the model exists and where it must not be used (core facet ``cairn.documentation/1``)."""

    purpose: Text | None = None
    intended_use: Text | None = None
    out_of_scope_uses: list[ShortText] = Field(default_factory=list)
    limitations: list[ShortText] = Field(default_factory=list)
    failure_modes: list[ShortText] = Field(default_factory=list)


class Runtime(Open):
    python: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")] | None = None
    cuda: Annotated[str, Field(pattern=r"^\d+(\.\d+){0,2}$")] | None = None
    image: Annotated[str, Field(max_length=500)] | None = None


class Hardware(Open):
    accelerator: ShortText | None = None
    accelerators: Annotated[int, Field(ge=0, le=1024)] = 0
    memory_gb: Annotated[float, Field(gt=0, le=1_000_000)] | None = None


@lru_cache(maxsize=4096)
def _requirement_problem(text: str) -> str | None:
    # The same few requirement strings recur on every version of a model: parse each once.
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return str(exc)
    return None


class Dependencies(Open):
    """What a version needs to run (core facet ``cairn.dependencies/1``).

    ``libraries`` are PEP 508 requirements such as ``"numpy>=1.26,<3"``.
    """

    libraries: list[str] = Field(default_factory=list)
    runtime: Runtime = Field(default_factory=Runtime)
    hardware: Hardware = Field(default_factory=Hardware)

    @field_validator("libraries")
    @classmethod
    def _requirements(cls, value: list[str]) -> list[str]:
        for item in value:
            problem = _requirement_problem(item)
            if problem:
                raise ValueError(f"{item!r} is not a PEP 508 requirement: {problem}")
        return value


class CodeRef(Closed):
    """Where the code that produced a run lives."""

    repository: Annotated[str, Field(min_length=1, max_length=2_000)]
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,64}$")] | None = None
    path: Annotated[str, Field(max_length=1_000)] | None = None


class FieldSpec(Closed):
    """A column of a dataset or a feature of a feature view."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    type: Annotated[str, Field(min_length=1, max_length=100)]
    description: ShortText | None = None


class Facet(BaseModel):
    """A named, schema-versioned metadata blob, as written."""

    model_config = ConfigDict(frozen=True)

    name: str
    schema_version: int
    producer: str | None = None
    data: dict[str, Any]

    @property
    def schema_ref(self) -> str:
        return f"{self.name}/{self.schema_version}"
