"""Lineage completeness: how much of what shaped each model version is on record.

Five checks per version, each present or missing:

======================  ========================================================================
``training_data``       data upstream of it: a dataset, feature view or OpenLineage dataset that
                        trained it or was read by the run that produced it
``code``                the run that produced it names its code (repository and commit) or
                        OpenLineage job
``environment``         that run ran in a registered environment, or the version states its
                        runtime (Python version or container image)
``evaluation``          an evaluation measured on a registered dataset version
``approval``            a transition request for it was approved
======================  ========================================================================

A version's score is the share present. Rollups (per model, team, registry) count versions:
how many are complete, how many lack each check, the mean score. *Validation coverage* is the
share of production versions (deployed to a production environment and not retired, or holding
the ``production`` alias) evaluated on a registered dataset version they were not trained on:
an evaluation on the training data validates nothing.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Check(StrEnum):
    TRAINING_DATA = "training_data"
    CODE = "code"
    ENVIRONMENT = "environment"
    EVALUATION = "evaluation"
    APPROVAL = "approval"


#: What a missing check means, as a reader acts on it.
GAPS: dict[Check, str] = {
    Check.TRAINING_DATA: "no training data on record: name the dataset versions it was trained "
    "on, or the inputs of the run that produced it",
    Check.CODE: "no code reference: the run that produced it names no repository and commit "
    "(or OpenLineage job)",
    Check.ENVIRONMENT: "no environment: the run that produced it names no environment and the "
    "version states no runtime",
    Check.EVALUATION: "no evaluation on a registered dataset version",
    Check.APPROVAL: "never approved: no transition request for it was approved",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionCompleteness(Frozen):
    id: str
    team: str
    score: float
    present: list[Check]
    missing: list[Check]
    gaps: list[str]  # what each missing check means, in the order of ``missing``
    production: bool
    validated: bool  # evaluated on a registered dataset version it was not trained on


class Rollup(Frozen):
    """Versions under one model, team or the whole registry, counted."""

    id: str  # "registry", "team:fraud" or "model:fraud/churn"
    versions: int
    complete: int  # versions with every check present
    score: float  # the mean of the versions' scores (1.0 with no versions)
    missing: dict[Check, int]  # versions lacking each check
    production: int
    validated: int  # production versions evaluated on data they were not trained on
    coverage: float | None  # validated / production; None with no production versions


class CompletenessReport(Frozen):
    """A report at one scope: its rollup, the rollups one level down (teams of the registry,
    models of a team) and, for a model or a version, each version's checks."""

    scope: str
    summary: Rollup
    parts: list[Rollup] = Field(default_factory=list)
    versions: list[VersionCompleteness] = Field(default_factory=list)


def version_completeness(
    id: str, team: str, present: set[Check], *, production: bool, validated: bool
) -> VersionCompleteness:
    missing = [c for c in Check if c not in present]
    return VersionCompleteness(
        id=id,
        team=team,
        score=round((len(Check) - len(missing)) / len(Check), 4),
        present=[c for c in Check if c in present],
        missing=missing,
        gaps=[GAPS[c] for c in missing],
        production=production,
        validated=validated,
    )


def rollup(
    id: str,
    *,
    versions: int,
    complete: int,
    present: dict[Check, int],
    production: int,
    validated: int,
) -> Rollup:
    """A rollup from counts: ``present`` is how many versions hold each check."""
    held = sum(present.get(c, 0) for c in Check)
    return Rollup(
        id=id,
        versions=versions,
        complete=complete,
        score=round(held / (versions * len(Check)), 4) if versions else 1.0,
        missing={c: versions - present.get(c, 0) for c in Check},
        production=production,
        validated=validated,
        coverage=round(validated / production, 4) if production else None,
    )
