"""Governance rules as pure functions: what a policy requires, what a version lacks, who may
not approve, and the content digest an approval is bound to.

A *policy* belongs to a team and gates the aliases it names (``production`` by default) for
the risk classes it names (all, if none). Each requirement names one fact about a model or a
version; :func:`unmet_rules` lists every one that is missing, each naming the field or the
evidence, so a refused transition says all that must be fixed at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cairn.core.canonical import canonical_json
from cairn.core.entities import Model, ModelVersion
from cairn.core.errors import ValidationFailed
from cairn.core.metadata import RiskClass, ShortText, Text

ALIAS_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
AliasName = Annotated[str, Field(pattern=ALIAS_PATTERN, examples=["production"])]
MAX_APPROVALS = 10


class Requirement(StrEnum):
    """One fact a policy may require before a version takes an alias."""

    OWNER = "owner"  # the model names a contact
    DESCRIPTION = "description"  # the model says what it is
    RISK_CLASS = "risk_class"  # the model's risk class is set
    INTENDED_USE = "intended_use"  # documentation.intended_use
    LIMITATIONS = "limitations"  # documentation.limitations, at least one
    EVALUATION = "evaluation"  # a metric measured on a named dataset version
    TRAINING_DATA = "training_data"  # the version names the data it was trained on
    TRAINING_RUN = "training_run"  # the version names the run (and so the code) that made it
    NOT_DEPRECATED = "not_deprecated"  # neither the model nor the version is deprecated


_WHAT: dict[Requirement, tuple[str, str]] = {
    Requirement.OWNER: ("model.contact", "the model names no owner contact"),
    Requirement.DESCRIPTION: ("model.description", "the model has no description"),
    Requirement.RISK_CLASS: ("model.risk_class", "the model's risk class is not set"),
    Requirement.INTENDED_USE: (
        "model.documentation.intended_use",
        "the model's documentation states no intended use",
    ),
    Requirement.LIMITATIONS: (
        "model.documentation.limitations",
        "the model's documentation lists no known limitations",
    ),
    Requirement.EVALUATION: (
        "version.metrics",
        "the version has no evaluation metric measured on a named dataset version",
    ),
    Requirement.TRAINING_DATA: (
        "version.inputs",
        "the version names no training data (no lineage to a dataset version)",
    ),
    Requirement.TRAINING_RUN: ("version.run", "the version names no training run"),
    Requirement.NOT_DEPRECATED: ("version.deprecation", "the model or the version is deprecated"),
}


def _holds(requirement: Requirement, model: Model, version: ModelVersion | None) -> bool:
    if version is None and _WHAT[requirement][0].startswith("version."):
        return False  # nothing registered yet to hold it
    match requirement:
        case Requirement.OWNER:
            return bool(model.contact)
        case Requirement.DESCRIPTION:
            return bool(model.description)
        case Requirement.RISK_CLASS:
            return model.risk_class is not None
        case Requirement.INTENDED_USE:
            return bool(model.documentation.intended_use)
        case Requirement.LIMITATIONS:
            return bool(model.documentation.limitations)
        case Requirement.EVALUATION:
            return version is not None and any(metric.dataset for metric in version.metrics)
        case Requirement.TRAINING_DATA:
            return version is not None and bool(version.inputs)
        case Requirement.TRAINING_RUN:
            return version is not None and version.run is not None
        case Requirement.NOT_DEPRECATED:
            return model.deprecation is None and (version is None or version.deprecation is None)


class PolicyRules(BaseModel):
    """What a policy gates and what it requires (the versioned part of a policy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    aliases: Annotated[list[AliasName], Field(min_length=1, max_length=20)] = ["production"]
    risk_classes: Annotated[list[RiskClass], Field(max_length=4)] = []
    require: Annotated[list[Requirement], Field(max_length=len(Requirement))] = []
    approvals: Annotated[int, Field(ge=1, le=MAX_APPROVALS)] = 1
    description: Text | None = None

    def applies(self, alias: str, risk_class: RiskClass | None) -> bool:
        if alias not in self.aliases:
            return False
        return not self.risk_classes or risk_class in self.risk_classes


class PolicyRef(BaseModel):
    """The policy version a decision applied."""

    model_config = ConfigDict(frozen=True)

    id: str  # policy:<team>/<name>@<version>
    approvals: int


class Unmet(BaseModel):
    """One requirement a version does not meet, and where the gap is."""

    model_config = ConfigDict(frozen=True)

    policy: str  # policy:<team>/<name>@<version>
    rule: Requirement
    field: str
    message: str


def unmet_rules(
    policies: Iterable[tuple[str, PolicyRules]], model: Model, version: ModelVersion | None
) -> list[Unmet]:
    """Every requirement of every policy that ``version`` of ``model`` does not meet (with no
    version, every fact about a version is missing)."""
    found: list[Unmet] = []
    for policy_id, rules in policies:
        for requirement in rules.require:
            if not _holds(requirement, model, version):
                field, message = _WHAT[requirement]
                if version is None and field.startswith("version."):
                    message = "the model has no version yet"
                found.append(
                    Unmet(policy=policy_id, rule=requirement, field=field, message=message)
                )
    return found


DEPRECATION_RULE = "policy:cairn/not-deprecated"


def deprecation_unmet(model: Model, version: ModelVersion) -> list[Unmet]:
    """A deprecated version, or a version of a deprecated model, takes no alias: built in,
    whatever the team's policies say."""
    found = []
    for field, plan in (
        ("model.deprecation", model.deprecation),
        ("version.deprecation", version.deprecation),
    ):
        if plan is not None:
            sunset = f", sunset {plan.sunset}" if plan.sunset else ""
            instead = f"; use {plan.replacement}" if plan.replacement else ""
            found.append(
                Unmet(
                    policy=DEPRECATION_RULE,
                    rule=Requirement.NOT_DEPRECATED,
                    field=field,
                    message=f"deprecated: {plan.reason}{sunset}{instead}",
                )
            )
    return found


def approvals_needed(policies: Iterable[tuple[str, PolicyRules]]) -> int:
    """The most distinct approvers any applicable policy asks for (one without a policy)."""
    return max((rules.approvals for _, rules in policies), default=1)


# -- the content an approval is bound to ------------------------------------------------------
_CONTENT = (
    "artifact_uri",
    "digest",
    "description",
    "run",
    "inputs",
    "metrics",
    "dependencies",
    "tags",
    "labels",
    "facets",
)


def content_digest(version: ModelVersion) -> str:
    """``sha256:`` of the canonical JSON of what a version is: its artifact and every piece of
    its metadata. Any change to either gives another digest, and so voids approvals given for
    the one before."""
    content = version.model_dump(mode="json", include=set(_CONTENT))
    return "sha256:" + hashlib.sha256(canonical_json(content)).hexdigest()


# -- separation of duties -----------------------------------------------------------------------
def conflicted(
    approver: str,
    *,
    requester: str,
    registrant: str,
    acts_for: Mapping[str, str] | None = None,
) -> str | None:
    """Why ``approver`` may not approve, or None: nobody approves a transition they asked for
    or of a version they registered, whatever roles they hold. A service account that acts for
    a user (``acts_for``: service -> user) stands for that user too, on either side."""
    links = acts_for or {}

    def parties(name: str) -> set[str]:
        return {name, links[name]} if name in links else {name}

    mine = parties(approver)
    for role, other in (
        ("requested this transition", requester),
        ("registered this version", registrant),
    ):
        shared = mine & parties(other)
        if shared:
            who = approver if approver in shared else f"{approver} (acting for {links[approver]})"
            via = "" if other in shared else f" through {other}"
            return f"{who} {role}{via}; another approver must decide it"
    return None


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for approvals
    APPROVED = "approved"  # approved by enough approvers; the alias was moved
    REJECTED = "rejected"  # an approver said no
    REFUSED = "refused"  # a policy was not met when it was asked for
    VOID = "void"  # the version changed, or it was deprecated, before a decision


class Approval(BaseModel):
    model_config = ConfigDict(frozen=True)

    by: str
    at: datetime
    digest: str  # the version's content digest the approver saw
    comment: ShortText | None = None


class TransitionRequest(BaseModel):
    """A request to point a model's alias at one of its versions."""

    model_config = ConfigDict(frozen=True)

    id: str  # transition:<uuid>
    model: str
    version: str
    alias: str
    status: RequestStatus
    requested_by: str
    reason: Text
    release_notes: Text | None = None
    digest: str  # the version's content digest when requested
    approvals_needed: int
    approvals: list[Approval] = []
    policies: list[PolicyRef] = []
    unmet: list[Unmet] = []
    decided_by: str | None = None
    decision_comment: ShortText | None = None
    created_at: datetime
    updated_at: datetime
    revision: int = 1


class Alias(BaseModel):
    """Where a model's alias points, and the approved request that put it there."""

    model_config = ConfigDict(frozen=True)

    model: str
    alias: str
    version: str
    digest: str
    request: str | None
    set_by: str
    set_at: datetime


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str  # policy:<team>/<name>@<version>
    team: str
    name: str
    version: int
    rules: PolicyRules
    created_by: str
    created_at: datetime


# -- metadata health ---------------------------------------------------------------------------
class OwnerStatus(StrEnum):
    MISSING = "missing"  # no contact at all
    UNKNOWN = "unknown"  # an address whose mailbox name is no enabled user of this registry
    KNOWN = "known"  # alice@example.com where user:alice is an enabled principal


class ModelHealth(BaseModel):
    """How complete and current one model's metadata is, and what is missing."""

    model_config = ConfigDict(frozen=True)

    model: str
    team: str
    version: str | None  # the newest version, against which version facts are checked
    required: list[Requirement]  # what the team's policies for its risk class require
    completeness: float  # the share of ``required`` that holds (1.0 if nothing is required)
    missing: list[Unmet]
    owner: OwnerStatus
    review_due: date | None
    review_overdue: bool
    days_since_review: int | None  # None: never reviewed
    deprecated: bool


class TeamHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    team: str
    models: int
    complete: int  # models meeting every requirement
    completeness: float  # the mean of its models'
    overdue_reviews: int
    owners_missing: int
    owners_unknown: int


class HealthReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    teams: list[TeamHealth]
    models: list[ModelHealth]


def model_health(
    model: Model,
    version: ModelVersion | None,
    policies: Iterable[tuple[str, PolicyRules]],
    owner: OwnerStatus,
    today: date,
) -> ModelHealth:
    """One model's health: every requirement of every policy for its risk class, whatever
    alias it gates, checked against the model and its newest version."""
    applicable = [
        (pid, rules)
        for pid, rules in policies
        if not rules.risk_classes or model.risk_class in rules.risk_classes
    ]
    required = sorted({r for _, rules in applicable for r in rules.require})
    missing = unmet_rules(applicable, model, version)
    unmet = {u.rule for u in missing}
    met = [r for r in required if r not in unmet]
    reviewed = model.last_review.at.date() if model.last_review else None
    return ModelHealth(
        model=model.id,
        team=model.team,
        version=version.id if version else None,
        required=required,
        completeness=len(met) / len(required) if required else 1.0,
        missing=missing,
        owner=owner,
        review_due=model.review_due,
        review_overdue=model.review_due is not None and model.review_due < today,
        days_since_review=(today - reviewed).days if reviewed else None,
        deprecated=model.deprecation is not None,
    )


def team_health(team: str, models: Sequence[ModelHealth]) -> TeamHealth:
    return TeamHealth(
        team=team,
        models=len(models),
        complete=sum(1 for m in models if not m.missing),
        completeness=sum(m.completeness for m in models) / len(models) if models else 1.0,
        overdue_reviews=sum(1 for m in models if m.review_overdue),
        owners_missing=sum(1 for m in models if m.owner is OwnerStatus.MISSING),
        owners_unknown=sum(1 for m in models if m.owner is OwnerStatus.UNKNOWN),
    )


# -- what callers send ----------------------------------------------------------------------------
_SEG = r"[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?"
_VERSION_REF = rf"^(model:)?{_SEG}/{_SEG}@[1-9][0-9]*$"
REQUEST_ID_PATTERN = r"^(transition:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Reason = Annotated[str, Field(min_length=1, max_length=10_000, pattern=r"\S")]


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    team: Annotated[str, Field(pattern=rf"^(team:)?{_SEG}$", max_length=80)]
    name: Annotated[str, Field(pattern=rf"^{_SEG}$", max_length=63)]
    rules: PolicyRules = PolicyRules()


class TransitionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[str, Field(pattern=_VERSION_REF, max_length=160)]
    alias: AliasName
    reason: Reason
    release_notes: Text | None = None


class ApprovalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    comment: ShortText | None = None


class DeprecationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: Annotated[
        str, Field(pattern=rf"^(model:)?{_SEG}/{_SEG}(@[1-9][0-9]*)?$", max_length=160)
    ]
    reason: Annotated[str, Field(min_length=1, max_length=2_000, pattern=r"\S")]
    sunset: date | None = None
    replacement: (
        Annotated[str, Field(pattern=rf"^(model:)?{_SEG}/{_SEG}(@[1-9][0-9]*)?$", max_length=160)]
        | None
    ) = None


class ReviewSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    next_due: date
    notes: Text | None = None


class RejectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    comment: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


def parse_policy_ref(ref: str) -> tuple[str, str, int | None]:
    """``[policy:]team/name[@version]`` as (team, name, version or None for the newest)."""
    path, _, number = ref.removeprefix("policy:").partition("@")
    team, _, name = path.partition("/")
    if not team or not name or (number and not number.isdigit()):
        raise ValidationFailed(
            f"{ref!r} is not a policy reference",
            field="policy",
            rule="pattern",
            hint="team/name or team/name@version",
        )
    return team.removeprefix("team:"), name, int(number) if number else None


def policy_id(team: str, name: str, version: int) -> str:
    return f"policy:{team}/{name}@{version}"


def distinct_approvers(approvals: Sequence[Approval], digest: str) -> set[str]:
    """Approvers whose approval still counts: given for the content registered now."""
    return {a.by for a in approvals if a.digest == digest}
