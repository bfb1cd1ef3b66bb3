"""Seed a realistic demo registry through the public SDK methods only.

The seed first builds a complete, deterministic *plan* (a seeded :class:`random.Random` drives
version counts, training dates, metrics and rollouts), then writes it in dependency order:
teams, environments, datasets, feature views, models, training runs, versions (one
``register_versions`` batch per model), evaluation runs and their results, and finally every
deployment and retirement in chronological order, so ``serving(env, at)`` answers differ
across time.

Entity timestamps (``created_at``) are the time of seeding, because the registry stamps them;
the history lives in run start/end times and deployment dates, which the API accepts.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from cairn.core.registry import Registry
from cairn.demo.catalog import (
    DATASETS,
    DEFAULT_METRICS,
    ENVIRONMENTS,
    FEATURE_VIEWS,
    GPU_FRAMEWORKS,
    LIBRARIES,
    METRICS,
    MODELS,
    TEAMS,
    DatasetInfo,
    ModelInfo,
    TeamInfo,
)

Progress = Callable[[str, int, int], None]

SEED = 20261123
#: The demo's "today": review dates before it are overdue, every deployment is before it.
DEMO_TODAY = date(2026, 11, 23)
HISTORY_START = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
HISTORY_END = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class DemoSummary(BaseModel):
    """How many of each entity the demo wrote."""

    teams: int = 0
    models: int = 0
    versions: int = 0
    datasets: int = 0
    dataset_versions: int = 0
    feature_views: int = 0
    feature_view_versions: int = 0
    runs: int = 0
    environments: int = 0
    deployments: int = 0
    evaluations: int = 0
    policies: int = 0
    transition_requests: int = 0
    aliases: int = 0


@dataclass
class _Version:
    number: int
    trained_at: datetime
    inputs: list[str]
    metrics: dict[str, float]
    spec: dict[str, Any]
    run: dict[str, Any]


@dataclass
class _Event:
    """A deployment or retirement, applied in time order."""

    at: datetime
    kind: str  # deploy | retire
    version: str
    environment: str


@dataclass
class _Plan:
    versions: dict[str, list[_Version]] = field(default_factory=dict)
    evaluations: list[tuple[str, dict[str, Any], list[tuple[str, dict[str, float]]]]] = field(
        default_factory=list
    )
    rollout: list[_Event] = field(default_factory=list)


def _digest(*parts: object) -> str:
    """sha256 of deterministic bytes, standing in for an artifact's content hash."""
    return "sha256:" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def _commit(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def _team(name: str) -> TeamInfo:
    return next(t for t in TEAMS if t.name == name)


def _dataset(ref: str) -> DatasetInfo:
    return next(d for d in DATASETS if d.ref == ref)


def _dataset_version_at(ref: str, at: datetime) -> int:
    """The dataset version current at ``at``: versions are spread evenly over the history."""
    info = _dataset(ref)
    span = (HISTORY_END - HISTORY_START).total_seconds()
    share = max(0.0, min(0.999, (at - HISTORY_START).total_seconds() / span))
    return 1 + int(share * info.versions)


def _metric_values(
    rng: random.Random, task: str, step: int, slice_shift: float = 0.0
) -> dict[str, float]:
    values = {}
    for name, typical, spread in METRICS.get(task, DEFAULT_METRICS):
        # Later versions tend to improve; noise keeps some releases worse than their parent.
        progress = min(step, 10) * 0.04 + rng.uniform(-0.25, 0.25) + slice_shift
        value = typical + spread * progress
        if typical < 1:
            value = min(max(value, 0.01), 0.999)
        values[name] = round(value, 4)
    return values


def _documentation(model: ModelInfo, team: TeamInfo) -> dict[str, Any]:
    if model.status == "experimental" and model.name.endswith(("challenger", "bert")):
        return {"purpose": model.purpose}
    out_of_scope = ["Decisions about individuals without human review."]
    if model.risk == "high":
        out_of_scope.append("Use outside the regions and products it was validated for.")
    if model.task in {"forecasting", "regression"}:
        out_of_scope.append("Horizons longer than the training window.")
    limitations = [
        f"Trained on {', '.join(model.datasets)}; distribution shift degrades it silently.",
        f"Validated for {', '.join(r.upper() for r in team.regions)} traffic only.",
    ]
    if model.framework in GPU_FRAMEWORKS:
        limitations.append("Needs a GPU for the latency budget.")
    return {
        "purpose": model.purpose,
        "intended_use": f"Used by {team.display_name} services: {model.purpose[0].lower()}"
        f"{model.purpose[1:]}",
        "out_of_scope_uses": out_of_scope,
        "limitations": limitations,
        "failure_modes": ["Scores drift when upstream schemas change without a new version."],
    }


def _documentation_status(model: ModelInfo, index: int) -> str:
    if model.status == "experimental":
        return "draft"
    if index % 9 == 4:
        return "missing"
    return "approved" if model.risk == "high" or index % 3 else "complete"


def _runtime(model: ModelInfo, trained_at: datetime) -> dict[str, Any]:
    python = "3.10" if trained_at.year == 2024 else "3.11" if trained_at.year == 2025 else "3.12"
    flavour = "gpu" if model.framework in GPU_FRAMEWORKS else "cpu"
    runtime: dict[str, Any] = {
        "python": python,
        "image": f"registry.acme.internal/ml/serve-{flavour}-py{python}@"
        + _digest("image", flavour, python),
    }
    if flavour == "gpu":
        runtime["cuda"] = "11.8" if trained_at.year == 2024 else "12.1"
    return runtime


def _plan_model(rng: random.Random, model: ModelInfo, plan: _Plan) -> None:
    team = _team(model.team)
    ref = f"{model.team}/{model.name}"
    born = HISTORY_START + timedelta(days=rng.randint(0, 560), hours=rng.randint(0, 8))
    count = rng.randint(5, 11)
    gpu = model.framework in GPU_FRAMEWORKS
    # A deprecated model stopped being retrained well before it was switched off.
    end = HISTORY_END - timedelta(days=200 if model.status == "deprecated" else 30)
    versions: list[_Version] = []
    at = born
    for n in range(1, count + 1):
        if n > 1:
            at += timedelta(days=rng.randint(14, 70), hours=rng.randint(0, 6))
        if n > 1 and at > end:
            break
        inputs = [f"dataset:{d}@{_dataset_version_at(d, at)}" for d in model.datasets]
        run_ref = f"{model.team}/train-{model.name}-{n:03d}"
        overall = _metric_values(rng, model.task, n)
        primary = next(iter(overall))
        metrics: list[dict[str, Any]] = [
            {"name": k, "value": v, "dataset": inputs[0]} for k, v in overall.items()
        ]
        for region in team.regions:
            shift = rng.uniform(-0.3, 0.1)
            value = _metric_values(rng, model.task, n, shift)[primary]
            metrics.append(
                {"name": primary, "value": value, "dataset": inputs[0], "slice": f"region={region}"}
            )
        labels = {
            "git_branch": "main" if rng.random() < 0.85 else f"exp/{model.name}-{n}",
            "trigger": rng.choice(("schedule", "schedule", "manual", "drift-alert")),
        }
        if model.feature_view:
            labels["feature_view"] = f"feature-view:{model.feature_view}"
        tags = [model.family, model.framework]
        tags.append("candidate" if n < count else "latest")
        if rng.random() < 0.2:
            tags.append("hotfix")
        ended = at + timedelta(hours=rng.randint(1, 30 if gpu else 6), minutes=rng.randint(0, 59))
        spec: dict[str, Any] = {
            "model": ref,
            "artifact_uri": f"s3://acme-ml-artifacts/{ref}/{n}/"
            + ("model.pt" if gpu else "model.joblib"),
            "digest": _digest(ref, n, "artifact"),
            "description": f"Retrained on {', '.join(i.split(':', 1)[1] for i in inputs)}.",
            "run": run_ref,
            "inputs": inputs,
            "metrics": metrics,
            "dependencies": {
                "libraries": list(LIBRARIES[model.framework]),
                "runtime": _runtime(model, at),
                "hardware": (
                    {"accelerator": "nvidia-l4", "accelerators": 1, "memory_gb": 24}
                    if gpu
                    else {"memory_gb": 4}
                ),
            },
            "tags": tags,
            "labels": labels,
        }
        run = {
            "ref": run_ref,
            "kind": "training",
            "status": "succeeded",
            "started_at": at,
            "ended_at": ended,
            "code": {
                "repository": team.repository,
                "commit": _commit(ref, n),
                "path": f"models/{model.name.replace('-', '_')}/train.py",
            },
            "parameters": {
                "seed": str(rng.randint(1, 9999)),
                "learning_rate": str(rng.choice((0.01, 0.03, 0.05, 0.1))),
                "max_epochs" if gpu else "n_estimators": str(rng.choice((50, 100, 200, 400))),
            },
            "inputs": inputs,
            "environment": "training-gpu" if gpu else "dev",
        }
        versions.append(_Version(n, ended, inputs, overall, spec, run))
    plan.versions[ref] = versions
    _plan_rollout(rng, model, team, versions, plan)
    _plan_evaluation(rng, model, versions[-1], plan)


def _plan_rollout(
    rng: random.Random, model: ModelInfo, team: TeamInfo, versions: list[_Version], plan: _Plan
) -> None:
    ref = f"{model.team}/{model.name}"
    gpu = model.framework in GPU_FRAMEWORKS
    last_prod: dict[str, datetime] = {}
    for v in versions:
        is_last = v is versions[-1]
        if not is_last and rng.random() < 0.3:
            continue  # not every retrain is promoted
        staged = v.trained_at + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 8))
        promoted = staged + timedelta(days=rng.randint(4, 14), hours=rng.randint(0, 8))
        for region in team.regions:
            plan.rollout.append(_Event(staged, "deploy", f"{ref}@{v.number}", f"staging-{region}"))
            if model.status == "experimental" or promoted > HISTORY_END:
                continue
            if not is_last and rng.random() < 0.35:
                continue  # staged but held back from production
            prod = "prod-eu-gpu" if gpu and region == "eu" else f"prod-{region}"
            at = promoted + timedelta(hours=6 * team.regions.index(region))
            plan.rollout.append(_Event(at, "deploy", f"{ref}@{v.number}", prod))
            last_prod[prod] = at
    if model.status == "deprecated":
        for prod, at in last_prod.items():
            retired = max(at + timedelta(days=45), HISTORY_END - timedelta(days=rng.randint(5, 90)))
            plan.rollout.append(_Event(retired, "retire", ref, prod))


def _plan_evaluation(rng: random.Random, model: ModelInfo, version: _Version, plan: _Plan) -> None:
    """An evaluation run on a holdout of the newest dataset version, overall and per slice."""
    ref = f"{model.team}/{model.name}"
    holdout = f"dataset:{model.datasets[0]}@{_dataset(model.datasets[0]).versions}"
    started = version.trained_at + timedelta(days=rng.randint(1, 10))
    run = {
        "ref": f"{model.team}/eval-{model.name}-{version.number:03d}",
        "kind": "evaluation",
        "status": "succeeded",
        "started_at": started,
        "ended_at": started + timedelta(minutes=rng.randint(5, 90)),
        "code": {
            "repository": _team(model.team).repository,
            "commit": _commit(ref, version.number, "eval"),
            "path": "evaluation/evaluate.py",
        },
        "parameters": {"holdout": holdout.split(":", 1)[1], "bootstrap_samples": "1000"},
        "inputs": [holdout],
        "environment": "dev",
    }
    results = [("", _metric_values(rng, model.task, version.number, -0.05))]
    for region in _team(model.team).regions:
        results.append((f"region={region}", _metric_values(rng, model.task, version.number, -0.15)))
    plan.evaluations.append((f"{ref}@{version.number}", run, results))


def build_plan(rng: random.Random) -> _Plan:
    """Everything the seed will write, decided up front so writes can be ordered freely."""
    plan = _Plan()
    for model in MODELS:
        _plan_model(rng, model, plan)
    plan.rollout.sort(key=lambda e: (e.at, e.kind, e.version, e.environment))
    return plan


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done = 0
        self.total = total
        self.progress = progress

    def step(self, description: str, amount: int = 1) -> None:
        self.done += amount
        if self.progress is not None:
            self.progress(description, self.done, self.total)


def seed(registry: Registry, *, progress: Progress | None = None) -> DemoSummary:
    """Fill an empty registry with a realistic, deterministic demo catalogue.

    Writes ≥ 5 teams, ≥ 40 models, ≥ 300 versions, datasets and feature views with several
    versions, training and evaluation runs, environments from dev to production and a history
    of deployments. ``progress(description, done, total)`` is called after each write.
    Raises :class:`cairn.Conflict` if the demo entities already exist.
    """
    rng = random.Random(SEED)  # noqa: S311  (reproducible demo data, not secrets)
    plan = build_plan(rng)
    versions = [v for vs in plan.versions.values() for v in vs]
    fv_versions = 3
    total = (
        len(TEAMS)
        + len(ENVIRONMENTS)
        + len(DATASETS)
        + sum(d.versions for d in DATASETS)
        + len(FEATURE_VIEWS) * (1 + fv_versions)
        + len(MODELS)
        + len(versions)
        + len(versions)
        + sum(1 + len(results) for _, _, results in plan.evaluations)
        + len(plan.rollout)
        + 2 * len(TEAMS)
        + sum(1 for m in MODELS if m.status == "live")
        + 1
    )
    count = _Counter(total, progress)
    summary = DemoSummary()

    for team in TEAMS:
        registry.create_team(
            team.name,
            display_name=team.display_name,
            description=team.description,
            contact=f"{team.name}-ml@acme.example",
        )
        summary.teams += 1
        count.step("teams")
    for env in ENVIRONMENTS:
        registry.create_environment(
            env.name,
            stage=env.stage,
            description=env.description,
            runtime={"python": env.python, **({"cuda": env.cuda} if env.cuda else {})},
            hardware={
                "accelerator": env.accelerator,
                "accelerators": env.accelerators,
                "memory_gb": env.memory_gb,
            },
        )
        summary.environments += 1
        count.step("environments")

    for ds in DATASETS:
        name = ds.ref.split("/", 1)[1]
        registry.create_dataset(
            ds.ref,
            description=ds.description,
            uri=f"s3://acme-lake/{ds.ref}/",
            external_ids={"glue": f"acme_lake.{name.replace('-', '_')}"},
            tags=["pii"] if any(f[0].endswith("customer_id") for f in ds.fields) else [],
        )
        summary.datasets += 1
        count.step("datasets")
        for n in range(1, ds.versions + 1):
            width = min(len(ds.fields), ds.base + n - 1)
            registry.add_dataset_version(
                ds.ref,
                uri=f"s3://acme-lake/{ds.ref}/v{n}/",
                digest=_digest(ds.ref, n, "data"),
                fields=[{"name": f, "type": t} for f, t in ds.fields[:width]],
                row_count=int(ds.rows * (0.55 + 0.45 * n / ds.versions)),
            )
            summary.dataset_versions += 1
            count.step("dataset versions")

    for fv in FEATURE_VIEWS:
        registry.create_feature_view(fv.ref, description=fv.description, entities=list(fv.entities))
        summary.feature_views += 1
        count.step("feature views")
        for n in range(1, fv_versions + 1):
            sources = [
                f"dataset:{s}@{max(1, _dataset(s).versions - fv_versions + n)}" for s in fv.sources
            ]
            features = [{"name": f, "type": t} for f, t in fv.features[: 1 + n]]
            registry.add_feature_view_version(fv.ref, features=features, sources=sources)
            summary.feature_view_versions += 1
            count.step("feature view versions")

    for index, model in enumerate(MODELS):
        team = _team(model.team)
        overdue = index % 5 == 0
        review_due = DEMO_TODAY + timedelta(
            days=-rng.randint(3, 120) if overdue else rng.randint(10, 300)
        )
        registry.create_model(
            f"{model.team}/{model.name}",
            description=model.purpose,
            contact=f"{model.team}-ml@acme.example",
            task=model.task,
            algorithm_family=model.family,
            framework=model.framework,
            risk_class=model.risk,
            documentation_status=_documentation_status(model, index),
            review_due=review_due,
            documentation=_documentation(model, team),
            tags=[*model.tags, model.status] if model.status != "live" else list(model.tags),
            labels={"cost_center": f"cc-{1000 + TEAMS.index(team) * 10}", "status": model.status},
        )
        summary.models += 1
        count.step("models")

    for v in versions:
        registry.create_run(**v.run)
        summary.runs += 1
        count.step("training runs")
    for vs in plan.versions.values():
        registry.register_versions([v.spec for v in vs])
        summary.versions += len(vs)
        count.step("versions", len(vs))

    for version, run, results in plan.evaluations:
        registry.create_run(**run)
        summary.runs += 1
        count.step("evaluation runs")
        for slice_, metrics in results:
            registry.record_evaluation(
                version, metrics, dataset=run["inputs"][0], slice=slice_, run=run["ref"]
            )
            summary.evaluations += 1
        count.step("evaluations", len(results))

    active: dict[tuple[str, str], str] = {}
    for event in plan.rollout:
        if event.kind == "deploy":
            deployment = registry.deploy(event.version, event.environment, at=event.at)
            active[(event.version.split("@", 1)[0], event.environment)] = deployment.id
            summary.deployments += 1
            count.step("deployments")
        else:
            key = (event.version, event.environment)
            registry.retire_deployment(active.pop(key), at=event.at)
            count.step("retirements")
    # Reviews need several people; over HTTP a token speaks for one, so only an embedded
    # registry (which can act as anyone) gets them.
    act_as: Callable[[str], Registry] | None = getattr(registry, "as_actor", None)
    if act_as is not None:
        _govern(registry, act_as, plan, summary, count)
    return summary


def _govern(
    registry: Registry,
    act_as: Callable[[str], Registry],
    plan: _Plan,
    summary: DemoSummary,
    count: _Counter,
) -> None:
    """Team policies for production, and each live model's newest version put there through a
    reviewed request; the last one still waits for its reviewer."""
    for team in TEAMS:
        registry.publish_policy(
            team.name,
            "production-gate",
            {
                "require": ["owner", "intended_use", "limitations", "evaluation", "training_data"],
                "description": "What every production model documents and evidences.",
            },
        )
        registry.publish_policy(
            team.name,
            "high-risk",
            {"risk_classes": ["high"], "approvals": 2, "description": "Four eyes (EU AI Act)."},
        )
        summary.policies += 2
        count.step("policies", 2)
    live = [m for m in MODELS if m.status == "live"]
    for index, model in enumerate(live):
        ref = f"{model.team}/{model.name}"
        newest = plan.versions[ref][-1].number
        asked = act_as(f"user:{model.team}-lead").request_transition(
            f"{ref}@{newest}",
            "production",
            reason="best offline metrics of the candidates this quarter",
            release_notes=f"Retrained on the newest data; see the evaluation of @{newest}.",
        )
        summary.transition_requests += 1
        count.step("transition requests")
        if asked.status != "pending" or index == len(live) - 1:
            continue
        for reviewer in (f"user:{model.team}-reviewer", "user:risk-officer")[
            : asked.approvals_needed
        ]:
            act_as(reviewer).approve_transition(asked.id, comment="evidence checked")
        summary.aliases += 1
    # An experiment someone tried to rush: the policy refuses it, naming what is missing.
    rushed = next(
        m
        for m in MODELS
        if m.status == "experimental" and m.name.endswith(("challenger", "bert"))  # undocumented
    )
    ref = f"{rushed.team}/{rushed.name}"
    act_as(f"user:{rushed.team}-lead").request_transition(
        f"{ref}@{plan.versions[ref][-1].number}", "production", reason="the demo is tomorrow"
    )
    summary.transition_requests += 1
    count.step("transition requests")
