"""Lineage completeness over every transport and both databases: the five checks of a version
(from registrations, runs, OpenLineage edges and approvals), rollups per model, team and
registry, validation coverage of production versions, and scopes that name nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cairn.core.completeness import GAPS, Check
from cairn.core.errors import NotFound, ValidationFailed
from cairn.local import LocalRegistry

Open = Callable[..., Any]
OL_RUN = "ol-run:3f5e83fa-3480-44ff-99c5-ff943904e5e8"


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


@pytest.fixture
def registry(open_registry: Open) -> Any:
    """fraud/churn@1 has everything; churn@2 was evaluated on its own training data, states its
    runtime, has no run and no approval, and serves in prod; risk/score@1 has nothing;
    risk/score@2 is known only through OpenLineage edges (data, a run, its job)."""
    admin = open_registry("user:admin")
    ann = open_registry("user:ann")
    if isinstance(admin, LocalRegistry):  # over HTTP each actor is a principal already
        access = admin.access_service(secret_key="ab" * 32)
        for who in ("admin", "ann"):
            access.create_principal(f"user:{who}")
    admin.create_team("fraud")
    admin.create_team("risk")
    for name in ("tx", "holdout"):
        admin.create_dataset(f"fraud/{name}")
        admin.add_dataset_version(f"fraud/{name}", uri=f"s3://lake/{name}/1")
    admin.create_environment("gpu", stage="development")
    admin.create_environment("prod", stage="production")
    admin.create_run(
        "fraud/train-1",
        inputs=["dataset:fraud/tx@1"],
        environment="gpu",
        code={"repository": "https://git.acme.example/fraud/churn", "commit": "abcdef1"},
    )
    admin.create_model("fraud/churn")
    admin.register_version(
        "fraud/churn",
        "s3://models/churn/1",
        digest(1),
        metadata={"run": "run:fraud/train-1"},
        inputs=["dataset:fraud/tx@1"],
    )
    admin.register_version(
        "fraud/churn",
        "s3://models/churn/2",
        digest(2),
        metadata={"dependencies": {"runtime": {"python": "3.11"}}},
        inputs=["dataset:fraud/tx@1"],
    )
    admin.record_evaluation("fraud/churn@1", {"auc": 0.91}, dataset="dataset:fraud/holdout@1")
    admin.record_evaluation("fraud/churn@2", {"auc": 0.99}, dataset="dataset:fraud/tx@1")
    asked = admin.request_transition("fraud/churn@1", "production", reason="beats baseline")
    ann.approve_transition(asked.id)
    admin.deploy("fraud/churn@1", "prod")
    admin.deploy("fraud/churn@2", "prod")
    admin.create_model("risk/score")
    for n in (1, 2):
        admin.register_version("risk/score", f"s3://models/score/{n}", digest(10 + n))
    admin.add_lineage_edge("ol-dataset:s3://lake/applications", "read_by", OL_RUN)
    admin.add_lineage_edge("ol-job:airflow/train_score", "executed_as", OL_RUN)
    admin.add_lineage_edge(OL_RUN, "produced", "model:risk/score@2")
    return admin


def test_a_version_with_everything_is_complete_and_validated(registry: Any) -> None:
    report = registry.lineage_report("model:fraud/churn@1")
    assert report.scope == "model:fraud/churn@1"
    [version] = report.versions
    assert version.id == "model:fraud/churn@1" and version.team == "fraud"
    assert version.present == list(Check) and version.missing == [] and version.gaps == []
    assert version.score == 1.0
    assert version.production and version.validated
    assert report.summary.complete == 1 and report.summary.coverage == 1.0


def test_gaps_are_named_and_evaluating_on_training_data_validates_nothing(registry: Any) -> None:
    [version] = registry.lineage_report("model:fraud/churn@2").versions
    assert version.missing == [Check.CODE, Check.APPROVAL]
    assert version.gaps == [GAPS[Check.CODE], GAPS[Check.APPROVAL]]
    assert version.score == 0.6
    # Deployed to a production environment, evaluated on a registered dataset version (so the
    # evaluation check holds), but that dataset version is what it was trained on.
    assert version.production and Check.EVALUATION in version.present
    assert not version.validated


def test_openlineage_edges_count_like_registered_inputs(registry: Any) -> None:
    [bare, reported] = registry.lineage_report("model:risk/score").versions
    assert bare.id == "model:risk/score@1" and bare.present == [] and bare.score == 0.0
    assert reported.present == [Check.TRAINING_DATA, Check.CODE]
    assert not reported.production


def test_rollups_per_model_team_and_registry(registry: Any) -> None:
    model = registry.lineage_report("model:fraud/churn")
    assert [v.id for v in model.versions] == ["model:fraud/churn@1", "model:fraud/churn@2"]
    s = model.summary
    assert (s.id, s.versions, s.complete, s.score) == ("model:fraud/churn", 2, 1, 0.8)
    assert s.missing == {
        Check.TRAINING_DATA: 0,
        Check.CODE: 1,
        Check.ENVIRONMENT: 0,
        Check.EVALUATION: 0,
        Check.APPROVAL: 1,
    }
    assert (s.production, s.validated, s.coverage) == (2, 1, 0.5)

    team = registry.lineage_report("team:risk")
    assert team.scope == "team:risk" and team.versions == []
    assert [p.id for p in team.parts] == ["model:risk/score"]
    assert team.summary.versions == 2 and team.summary.coverage is None  # nothing in production
    assert team.summary.score == 0.2  # 2 of 10 checks

    whole = registry.lineage_report()
    assert whole.scope == "registry" and [p.id for p in whole.parts] == ["team:fraud", "team:risk"]
    w = whole.summary
    assert (w.versions, w.complete, w.production, w.validated) == (4, 1, 2, 1)
    assert w.missing == {
        Check.TRAINING_DATA: 1,
        Check.CODE: 2,
        Check.ENVIRONMENT: 2,
        Check.EVALUATION: 2,
        Check.APPROVAL: 3,
    }
    assert w.score == 0.5  # (5 + 3 + 0 + 2) of 20
    assert registry.lineage_report("registry") == whole


def test_a_retired_deployment_is_not_production(registry: Any) -> None:
    [deployment] = [
        d for d in registry.list_deployments(environment="prod") if d.version.endswith("@2")
    ]
    registry.retire_deployment(deployment.id)
    [version] = registry.lineage_report("model:fraud/churn@2").versions
    assert not version.production
    assert registry.lineage_report("model:fraud/churn").summary.coverage == 1.0


def test_an_empty_registry_is_complete_by_default(open_registry: Open) -> None:
    report = open_registry("user:admin").lineage_report()
    assert report.summary.versions == 0 and report.summary.score == 1.0
    assert report.summary.coverage is None and report.parts == []


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        ("team:nobody", NotFound),
        ("model:fraud/nothing", NotFound),
        ("model:fraud/churn@9", NotFound),
        ("dataset:fraud/tx", ValidationFailed),
        ("fraud", ValidationFailed),
    ],
)
def test_scopes_that_name_nothing_are_refused(registry: Any, scope: str, error: type) -> None:
    with pytest.raises(error):
        registry.lineage_report(scope)


def test_a_registry_counts_what_its_models_count(registry: Any) -> None:
    """Teams and the registry are counted by joining each check's versions once; models and
    versions by looking each version up. Both ways must agree."""
    whole = registry.lineage_report().summary
    models = [registry.lineage_report(m) for m in ("model:fraud/churn", "model:risk/score")]
    for field in ("versions", "complete", "production", "validated"):
        assert getattr(whole, field) == sum(getattr(r.summary, field) for r in models)
    for check in Check:
        assert whole.missing[check] == sum(r.summary.missing[check] for r in models)
