"""The contract every Registry transport honours, written against public methods only.

It runs against the embedded registry and, over HTTP, against a real server on loopback, each
on SQLite and on PostgreSQL (see conftest.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cairn.core.errors import (
    CairnError,
    Conflict,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from cairn.local import LocalRegistry

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


@pytest.fixture
def reg(registry: LocalRegistry) -> LocalRegistry:
    registry.create_team("fraud", display_name="Fraud team")
    registry.create_team("risk")
    registry.create_model("fraud/churn", task="classification")
    registry.create_dataset("risk/customers", uri="s3://data/customers")
    registry.add_dataset_version("risk/customers", digest=digest(901), row_count=10)
    registry.add_dataset_version("risk/customers", digest=digest(902), row_count=20)
    registry.create_environment("prod-eu", stage="production")
    return registry


def _unchanged(reg: LocalRegistry, call: Any, error: type[CairnError]) -> CairnError:
    """``call`` fails with ``error`` and writes nothing."""
    head = reg.log_head()
    with pytest.raises(error) as info:
        call()
    assert reg.log_head() == head
    return info.value


# -- teams ---------------------------------------------------------------------------------------
def test_team_lifecycle(reg: LocalRegistry) -> None:
    team = reg.get_team("fraud")
    assert (team.id, team.name, team.display_name, team.revision) == (
        "team:fraud",
        "fraud",
        "Fraud team",
        1,
    )
    updated = reg.update_team("fraud", contact="fraud@example.com")
    assert updated.contact == "fraud@example.com"
    assert updated.display_name == "Fraud team"  # untouched fields stay
    assert updated.revision == 2
    assert updated.updated_at >= updated.created_at
    cleared = reg.update_team("fraud", display_name=None)
    assert cleared.display_name is None
    assert cleared.contact == "fraud@example.com"
    assert reg.get_team("fraud") == cleared
    assert [t.name for t in reg.list_teams()] == ["fraud", "risk"]
    _unchanged(reg, lambda: reg.create_team("fraud"), Conflict)


def test_team_pagination(reg: LocalRegistry) -> None:
    for name in ["alpha", "beta", "gamma"]:
        reg.create_team(name)
    names = ["alpha", "beta", "fraud", "gamma", "risk"]
    assert [t.name for t in reg.list_teams()] == names
    seen: list[str] = []
    after = None
    while page := reg.list_teams(limit=2, after=after):
        assert len(page) <= 2
        seen.extend(t.name for t in page)
        after = page[-1].name
    assert seen == names


# -- models and versions -------------------------------------------------------------------------
def test_model_lifecycle(reg: LocalRegistry) -> None:
    model = reg.get_model("fraud/churn")
    assert model.id == "model:fraud/churn"
    assert (model.team, model.name, model.task, model.latest_version) == (
        "fraud",
        "churn",
        "classification",
        0,
    )
    assert model.created_by == "user:tester"
    updated = reg.update_model(
        "fraud/churn", risk_class="high", tags=["gbm"], documentation={"purpose": "retain"}
    )
    assert updated.risk_class == "high"
    assert updated.task == "classification"
    assert updated.tags == ["gbm"]
    assert updated.documentation.purpose == "retain"
    assert updated.revision == 2
    assert reg.get_model("model:fraud/churn") == updated
    _unchanged(reg, lambda: reg.create_model("fraud/churn"), Conflict)


def test_model_listing_and_pagination(reg: LocalRegistry) -> None:
    for ref in ["risk/scorer", "fraud/alpha", "risk/limits", "fraud/zeta"]:
        reg.create_model(ref)
    everything = ["fraud/alpha", "fraud/churn", "fraud/zeta", "risk/limits", "risk/scorer"]
    assert [f"{m.team}/{m.name}" for m in reg.list_models()] == everything
    assert [m.name for m in reg.list_models(team="risk")] == ["limits", "scorer"]
    seen: list[str] = []
    after = None
    while page := reg.list_models(limit=2, after=after):
        seen.extend(m.id for m in page)
        after = page[-1].id
    assert seen == [f"model:{r}" for r in everything]
    # Within a team, the cursor may name a model of any team: the order is team, then name.
    in_risk = [
        [m.name for m in reg.list_models(team="risk", after=cursor)]
        for cursor in ("fraud/zeta", "risk/limits", "risk/scorer", "zz/zz")
    ]
    assert in_risk == [["limits", "scorer"], ["scorer"], [], []]
    assert [m.name for m in reg.list_models(team="risk", limit=1)] == ["limits"]
    with pytest.raises(NotFound):
        reg.list_models(team="nobody")
    with pytest.raises(ValidationFailed):
        reg.list_models(team="risk", limit=0)
    with pytest.raises(ValidationFailed):
        reg.list_models(limit=0)


def test_version_lifecycle(reg: LocalRegistry) -> None:
    v1 = reg.register_version(
        "fraud/churn",
        "s3://models/churn/1",
        digest(1),
        inputs=["dataset:risk/customers@1"],
        metrics={"auc": 0.81},
        tags=["candidate"],
        metadata={"description": "first", "labels": {"owner": "alice"}},
    )
    assert (v1.id, v1.model, v1.version) == ("model:fraud/churn@1", "model:fraud/churn", 1)
    assert v1.registered_by == "user:tester"
    read = reg.get_version("fraud/churn@1")
    assert read.artifact_uri == "s3://models/churn/1"
    assert read.digest == digest(1)
    assert read.description == "first"
    assert read.labels == {"owner": "alice"}
    assert [(i.id, i.digest) for i in read.inputs] == [("dataset:risk/customers@1", digest(901))]
    assert [(m.name, m.value) for m in read.metrics] == [("auc", 0.81)]
    assert read.tags == ["candidate"]
    assert reg.get_version("model:fraud/churn@1") == read

    v2 = reg.register_version("fraud/churn", "s3://models/churn/2", digest(2))
    assert v2.version == 2
    assert reg.get_model("fraud/churn").latest_version == 2

    updated = reg.update_version("fraud/churn@1", tags=["baseline"])
    assert updated.tags == ["baseline"]
    assert updated.description == "first"
    assert updated.digest == digest(1)  # the artifact never changes
    assert updated.revision == 2
    _unchanged(reg, lambda: reg.update_version("fraud/churn@1", digest=digest(3)), ValidationFailed)


def test_registration_returns_exactly_what_a_read_returns(reg: LocalRegistry) -> None:
    reg.create_run("fraud/train-7", status="succeeded")
    registered = reg.register_version(
        "fraud/churn",
        "s3://models/churn/7",
        digest(7),
        inputs=["risk/customers@2", "dataset:risk/customers@1"],
        metrics=[
            {"name": "recall", "value": 0.5, "dataset": "risk/customers@2", "slice": "region=eu"},
            {"name": "auc", "value": 0.9, "dataset": "risk/customers@2"},
            {"name": "f1", "value": 0.7, "dataset": "risk/customers@2", "slice": "region=eu"},
            {"name": "loss", "value": 0.2, "run": "fraud/train-7"},
        ],
        tags=["b", "a"],
        metadata={
            "run": "fraud/train-7",
            "labels": {"k": "v"},
            "dependencies": {"libraries": ["numpy>=1.26"], "runtime": {"python": "3.11"}},
        },
    )
    assert reg.get_version(registered.id) == registered
    batch = reg.register_versions(
        [
            {"model": "fraud/churn", "artifact_uri": f"s3://m/{n}", "digest": digest(n)}
            for n in (8, 9)
        ]
    )
    assert [reg.get_version(v.id) for v in batch] == batch


def test_version_pagination(reg: LocalRegistry) -> None:
    for n in range(1, 8):
        reg.register_version("fraud/churn", f"s3://models/churn/{n}", digest(n))
    assert [v.version for v in reg.list_versions("fraud/churn")] == list(range(1, 8))
    assert [v.version for v in reg.list_versions("fraud/churn", limit=3)] == [1, 2, 3]
    assert [v.version for v in reg.list_versions("fraud/churn", limit=3, after=3)] == [4, 5, 6]
    assert [v.version for v in reg.list_versions("fraud/churn", after=6)] == [7]
    assert reg.list_versions("fraud/churn", after=7) == []


# -- datasets and feature views --------------------------------------------------------------------
def test_dataset_lifecycle(reg: LocalRegistry) -> None:
    dataset = reg.get_dataset("risk/customers")
    assert (dataset.id, dataset.uri, dataset.latest_version) == (
        "dataset:risk/customers",
        "s3://data/customers",
        2,
    )
    updated = reg.update_dataset("risk/customers", tags=["pii"], description="everyone")
    assert (updated.tags, updated.description, updated.uri) == (
        ["pii"],
        "everyone",
        "s3://data/customers",
    )
    v3 = reg.add_dataset_version(
        "risk/customers", uri="s3://data/customers/3", fields=[{"name": "id", "type": "int"}]
    )
    assert (v3.id, v3.version) == ("dataset:risk/customers@3", 3)
    read = reg.get_dataset_version("risk/customers@3")
    assert [f.name for f in read.fields] == ["id"]
    assert reg.get_dataset_version("dataset:risk/customers@1").digest == digest(901)
    assert [v.version for v in reg.list_dataset_versions("risk/customers")] == [1, 2, 3]
    assert [v.version for v in reg.list_dataset_versions("risk/customers", limit=1, after=1)] == [2]
    reg.create_dataset("fraud/transactions")
    assert [d.id for d in reg.list_datasets()] == [
        "dataset:fraud/transactions",
        "dataset:risk/customers",
    ]
    assert [d.name for d in reg.list_datasets(team="fraud")] == ["transactions"]
    assert len(reg.list_datasets(limit=1)) == 1
    _unchanged(reg, lambda: reg.create_dataset("risk/customers"), Conflict)


def test_feature_view_lifecycle(reg: LocalRegistry) -> None:
    fv = reg.create_feature_view("risk/spend", entities=["customer"])
    assert (fv.id, fv.entities, fv.latest_version) == ("feature-view:risk/spend", ["customer"], 0)
    version = reg.add_feature_view_version(
        "risk/spend",
        features=[{"name": "spend_30d", "type": "float"}],
        sources=["dataset:risk/customers@2"],
    )
    assert (version.id, version.version) == ("feature-view:risk/spend@1", 1)
    read = reg.get_feature_view_version("risk/spend@1")
    assert read.sources == ["dataset:risk/customers@2"]
    assert [f.name for f in read.features] == ["spend_30d"]
    updated = reg.update_feature_view("risk/spend", description="spend")
    assert (updated.description, updated.entities, updated.latest_version) == (
        "spend",
        ["customer"],
        1,
    )
    assert reg.get_feature_view("risk/spend") == updated
    assert [f.id for f in reg.list_feature_views()] == ["feature-view:risk/spend"]
    assert reg.list_feature_views(team="fraud") == []
    _unchanged(
        reg,
        lambda: reg.add_feature_view_version("risk/spend", sources=["dataset:risk/customers@9"]),
        NotFound,
    )


# -- runs and environments -----------------------------------------------------------------------
def test_run_lifecycle(reg: LocalRegistry) -> None:
    run = reg.create_run(
        "fraud/train-1",
        inputs=["dataset:risk/customers@1"],
        environment="prod-eu",
        parameters={"lr": "0.1"},
        started_at=T0,
        code={"repository": "https://git.example.com/churn", "commit": "abc1234"},
    )
    assert (run.id, run.kind, run.status) == ("run:fraud/train-1", "training", "running")
    assert run.inputs == ["dataset:risk/customers@1"]
    assert run.environment == "environment:prod-eu"
    assert run.started_at == T0
    done = reg.update_run("fraud/train-1", status="succeeded", ended_at=T0 + timedelta(hours=2))
    assert done.status == "succeeded"
    assert done.ended_at == T0 + timedelta(hours=2)
    assert done.parameters == {"lr": "0.1"}
    assert reg.get_run("run:fraud/train-1") == done
    reg.create_run("risk/eval-1", kind="evaluation")
    assert [r.id for r in reg.list_runs()] == ["run:fraud/train-1", "run:risk/eval-1"]
    assert [r.name for r in reg.list_runs(team="risk")] == ["eval-1"]
    _unchanged(reg, lambda: reg.create_run("fraud/train-1"), Conflict)


def test_environment_lifecycle(reg: LocalRegistry) -> None:
    env = reg.get_environment("prod-eu")
    assert (env.id, env.stage) == ("environment:prod-eu", "production")
    updated = reg.update_environment(
        "environment:prod-eu", stage="production", runtime={"python": "3.11"}
    )
    assert updated.runtime.python == "3.11"
    assert updated.revision == 2
    reg.create_environment("dev", stage="development", hardware={"accelerators": 1})
    assert [e.name for e in reg.list_environments()] == ["dev", "prod-eu"]
    assert reg.get_environment("dev").hardware.accelerators == 1
    _unchanged(reg, lambda: reg.create_environment("prod-eu", stage="staging"), Conflict)


# -- deployments and the as-of question ------------------------------------------------------------
def test_deployments_and_serving_as_of(reg: LocalRegistry) -> None:
    reg.create_model("risk/scorer")
    reg.register_version("fraud/churn", "s3://m/1", digest(1), inputs=["dataset:risk/customers@1"])
    reg.register_version("fraud/churn", "s3://m/2", digest(2), inputs=["dataset:risk/customers@2"])
    reg.register_version("risk/scorer", "s3://s/1", digest(3))
    d1 = reg.deploy("fraud/churn@1", "prod-eu", at=T0)
    assert (d1.version, d1.environment, d1.deployed_at, d1.retired_at) == (
        "model:fraud/churn@1",
        "environment:prod-eu",
        T0,
        None,
    )
    d2 = reg.deploy("fraud/churn@2", "prod-eu", at=T0 + timedelta(days=2))
    scorer = reg.deploy("risk/scorer@1", "prod-eu", at=T0 + timedelta(days=1))
    retired = reg.retire_deployment(scorer.id, at=T0 + timedelta(days=3))
    assert retired.retired_at == T0 + timedelta(days=3)

    def serving(at: datetime) -> list[tuple[str, list[str]]]:
        return [
            (s.version.id, [i.id for i in s.version.inputs]) for s in reg.serving("prod-eu", at)
        ]

    assert serving(T0 - timedelta(seconds=1)) == []
    assert serving(T0) == [("model:fraud/churn@1", ["dataset:risk/customers@1"])]
    assert serving(T0 + timedelta(days=1, hours=1)) == [
        ("model:fraud/churn@1", ["dataset:risk/customers@1"]),
        ("model:risk/scorer@1", []),
    ]
    assert serving(T0 + timedelta(days=2, hours=1)) == [
        ("model:fraud/churn@2", ["dataset:risk/customers@2"]),
        ("model:risk/scorer@1", []),
    ]
    assert serving(T0 + timedelta(days=5)) == [
        ("model:fraud/churn@2", ["dataset:risk/customers@2"])
    ]
    # The replaced deployment was retired when its successor arrived.
    first = [d for d in reg.list_deployments(model="fraud/churn") if d.id == d1.id]
    assert first[0].retired_at == T0 + timedelta(days=2)
    assert [d.id for d in reg.list_deployments(environment="prod-eu", active_only=True)] == [d2.id]
    assert {d.id for d in reg.list_deployments()} == {d1.id, d2.id, scorer.id}
    assert [d.id for d in reg.list_deployments(model="risk/scorer")] == [scorer.id]
    _unchanged(reg, lambda: reg.retire_deployment(scorer.id), Conflict)
    _unchanged(
        reg,
        lambda: reg.deploy("fraud/churn@1", "prod-eu", at=T0 + timedelta(days=1)),
        ValidationFailed,
    )


# -- evaluations ---------------------------------------------------------------------------------
def test_evaluations_are_keyed_by_dataset_and_slice(reg: LocalRegistry) -> None:
    reg.create_run("risk/eval-1", kind="evaluation")
    reg.register_version("fraud/churn", "s3://m/1", digest(1), metrics={"auc": 0.8})
    eu = reg.record_evaluation(
        "fraud/churn@1",
        {"auc": 0.83, "f1": 0.7},
        dataset="dataset:risk/customers@2",
        slice="region=eu",
        run="run:risk/eval-1",
    )
    assert (eu.version, eu.dataset, eu.slice, eu.run) == (
        "model:fraud/churn@1",
        "dataset:risk/customers@2",
        "region=eu",
        "run:risk/eval-1",
    )
    assert eu.metrics == {"auc": 0.83, "f1": 0.7}
    assert eu.recorded_by == "user:tester"
    reg.record_evaluation(
        "fraud/churn@1", {"auc": 0.79}, dataset="dataset:risk/customers@2", slice="region=us"
    )
    metrics = {m.key: m.value for m in reg.get_version("fraud/churn@1").metrics}
    assert metrics == {
        ("auc", None, ""): 0.8,
        ("auc", "dataset:risk/customers@2", "region=eu"): 0.83,
        ("f1", "dataset:risk/customers@2", "region=eu"): 0.7,
        ("auc", "dataset:risk/customers@2", "region=us"): 0.79,
    }
    _unchanged(
        reg,
        lambda: reg.record_evaluation("fraud/churn@1", {"auc": 1.0}, dataset="dataset:risk/x@1"),
        NotFound,
    )
    _unchanged(reg, lambda: reg.record_evaluation("fraud/churn@1", {}), ValidationFailed)


def test_an_evaluation_moves_the_versions_revision(reg: LocalRegistry) -> None:
    registered = reg.register_version("fraud/churn", "s3://m/1", digest(1))
    reg.record_evaluation("fraud/churn@1", {"auc": 0.81}, dataset="dataset:risk/customers@2")
    read = reg.get_version("fraud/churn@1")
    # What a read returns changed (its metrics), so its revision, the ETag, changed too.
    assert [m.value for m in read.metrics] == [0.81]
    assert read.revision == registered.revision + 1
    assert read.updated_at >= registered.updated_at
    with pytest.raises(PreconditionFailed):
        reg.update_version("fraud/churn@1", description="stale", if_revision=registered.revision)
    assert reg.get_version("fraud/churn@1").description is None


# -- batches and idempotency ---------------------------------------------------------------------
def test_batch_registration_is_all_or_none(reg: LocalRegistry) -> None:
    reg.create_model("risk/scorer")
    good = {"model": "fraud/churn", "artifact_uri": "s3://m/1", "digest": digest(1)}
    bad_specs: list[dict[str, Any]] = [
        {"model": "fraud/churn", "artifact_uri": "s3://m/2", "digest": "sha256:nope"},
        {"model": "fraud/missing", "artifact_uri": "s3://m/2", "digest": digest(2)},
        {
            "model": "risk/scorer",
            "artifact_uri": "s3://m/2",
            "digest": digest(2),
            "inputs": ["dataset:risk/customers@7"],
        },
    ]
    for bad in bad_specs:
        before = reg.log_head()
        with pytest.raises((ValidationFailed, NotFound)):
            reg.register_versions([good, good | {"artifact_uri": "s3://m/1b"}, bad])
        assert reg.log_head() == before
        assert reg.list_versions("fraud/churn") == []
        assert reg.get_model("fraud/churn").latest_version == 0
    made = reg.register_versions(
        [
            good,
            {"model": "risk/scorer", "artifact_uri": "s3://s/1", "digest": digest(3)},
            {"model": "fraud/churn", "artifact_uri": "s3://m/2", "digest": digest(2)},
        ]
    )
    assert [v.id for v in made] == [
        "model:fraud/churn@1",
        "model:risk/scorer@1",
        "model:fraud/churn@2",
    ]
    assert [v.version for v in reg.list_versions("fraud/churn")] == [1, 2]


def test_idempotent_registration(reg: LocalRegistry) -> None:
    first = reg.register_version("fraud/churn", "s3://m/1", digest(1), idempotency_key="job-1")
    head = reg.log_head()
    again = reg.register_version("fraud/churn", "s3://m/1", digest(1), idempotency_key="job-1")
    assert again.id == first.id
    assert again.version == 1
    assert again.digest == first.digest
    assert reg.log_head() == head  # no event written
    error = _unchanged(
        reg,
        lambda: reg.register_version("fraud/churn", "s3://m/2", digest(2), idempotency_key="job-1"),
        Conflict,
    )
    assert error.details.get("hint")
    other = reg.register_version("fraud/churn", "s3://m/2", digest(2), idempotency_key="job-2")
    assert other.version == 2
    # Without a key the same digest is simply a new version.
    assert reg.register_version("fraud/churn", "s3://m/1", digest(1)).version == 3


# -- optimistic concurrency ----------------------------------------------------------------------
def test_a_stale_revision_is_refused_and_nothing_written(reg: LocalRegistry) -> None:
    version = reg.register_version("fraud/churn", "s3://m/1", digest(1))
    reg.create_run("fraud/train-1")
    read = {
        "team": reg.get_team("fraud"),
        "model": reg.get_model("fraud/churn"),
        "version": reg.get_version(version.id),
        "dataset": reg.get_dataset("risk/customers"),
        "run": reg.get_run("fraud/train-1"),
        "environment": reg.get_environment("prod-eu"),
    }
    updates: dict[str, Any] = {
        "team": lambda **kw: reg.update_team("fraud", **kw),
        "model": lambda **kw: reg.update_model("fraud/churn", **kw),
        "version": lambda **kw: reg.update_version(version.id, **kw),
        "dataset": lambda **kw: reg.update_dataset("risk/customers", **kw),
        "run": lambda **kw: reg.update_run("fraud/train-1", **kw),
        "environment": lambda **kw: reg.update_environment("prod-eu", **kw),
    }
    for what, update in updates.items():
        current = read[what].revision
        change: dict[str, Any] = (
            {"status": "succeeded"} if what == "run" else {"description": f"new {what}"}
        )
        assert update(**change, if_revision=current).revision == current + 1, what
        # A second writer still holding the first read is refused, and writes nothing.
        error = _unchanged(
            reg, lambda u=update, c=change, r=current: u(**c, if_revision=r), PreconditionFailed
        )
        assert error.details["current_revision"] == current + 1, what
    team_fv = reg.create_feature_view("risk/spend", entities=["customer"])
    stale = _unchanged(
        reg,
        lambda: reg.update_feature_view("risk/spend", description="x", if_revision=7),
        PreconditionFailed,
    )
    assert stale.details.get("hint")
    assert reg.get_feature_view("risk/spend").revision == team_fv.revision


# -- bulk import ---------------------------------------------------------------------------------
def _records(numbers: range, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "model": "fraud/churn",
            "artifact_uri": f"s3://m/{n}",
            "digest": digest(n),
            "idempotency_key": f"job-{n}",
            "inputs": ["dataset:risk/customers@1"],
            "metrics": [{"name": "auc", "value": 0.5 + n / 100, "dataset": "risk/customers@2"}],
            "tags": ["imported"],
        }
        | extra
        for n in numbers
    ]


def test_import_registers_what_register_versions_would(reg: LocalRegistry) -> None:
    reg.create_model("risk/scorer")
    records = _records(range(1, 8))
    seen: list[int] = []
    report = reg.import_versions(records, batch_size=3, progress=seen.append)
    assert (report.records, report.registered, report.unchanged, report.batches) == (7, 7, 0, 3)
    assert seen == [3, 3, 1]
    imported = reg.list_versions("fraud/churn")
    assert [v.version for v in imported] == list(range(1, 8))
    assert reg.get_model("fraud/churn").latest_version == 7
    # The same records through the batch API read back alike, but for who, when and where.
    batch = reg.register_versions([r | {"model": "risk/scorer"} for r in records])
    volatile = {"id", "model", "created_at", "updated_at"}
    assert [v.model_dump(exclude=volatile) for v in imported] == [
        v.model_dump(exclude=volatile) for v in batch
    ]
    assert [e.type for e in reg.history("model:fraud/churn@7")] == ["model_version.registered"]


def test_import_resumes_by_idempotency_key(reg: LocalRegistry) -> None:
    reg.import_versions(_records(range(1, 4)))
    head = reg.log_head()
    again = reg.import_versions(_records(range(1, 4)))
    assert (again.registered, again.unchanged) == (0, 3)
    assert reg.log_head() == head
    more = reg.import_versions(_records(range(1, 6)), batch_size=2)
    assert (more.registered, more.unchanged) == (2, 3)
    assert [v.version for v in reg.list_versions("fraud/churn")] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"digest": "sha256:nope"}, ValidationFailed),
        ({"inputs": ["dataset:risk/customers@9"]}, NotFound),
        ({"model": "fraud/nothing"}, NotFound),
    ],
)
def test_import_stops_at_a_bad_record_keeping_earlier_batches(
    reg: LocalRegistry, bad: dict[str, Any], error: type[CairnError]
) -> None:
    records = _records(range(1, 8))
    records[4] |= bad
    with pytest.raises(error) as info:
        reg.import_versions(records, batch_size=2)
    assert info.value.details["record"] == 4
    assert info.value.details["registered"] == 4
    assert "record 4" in str(info.value)
    # Batches [0, 1] and [2, 3] stay; the batch holding record 4 left nothing behind.
    assert [v.version for v in reg.list_versions("fraud/churn")] == [1, 2, 3, 4]
    records[4] = _records(range(5, 6))[0]
    resumed = reg.import_versions(records, batch_size=2)
    assert (resumed.registered, resumed.unchanged) == (3, 4)


def test_import_refuses_a_conflicting_idempotency_key(reg: LocalRegistry) -> None:
    reg.import_versions(_records(range(1, 3)))
    clash = _records(range(3, 4), idempotency_key="job-1")
    error = _unchanged(reg, lambda: reg.import_versions(clash), Conflict)
    assert error.details["record"] == 0


@pytest.mark.parametrize("size", [0, 100_001])
def test_import_batch_size_is_bounded(reg: LocalRegistry, size: int) -> None:
    _unchanged(
        reg, lambda: reg.import_versions(_records(range(1, 2)), batch_size=size), ValidationFailed
    )


# -- text the registry refuses -------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.register_version(
            "fraud/churn", "s3://m/x", digest(90), metadata={"description": "a\x00b"}
        ),
        lambda r: r.update_model("fraud/churn", description="nul \x00 inside"),
        lambda r: r.create_team("nul-team", display_name="\x00"),
        lambda r: r.import_versions(_records(range(90, 93), labels={"k": "v\x00"})),
    ],
    ids=["version description", "model description", "team display name", "import label"],
)
def test_text_holding_nul_is_refused_everywhere(reg: LocalRegistry, call: Any) -> None:
    # PostgreSQL cannot store U+0000 in text; every transport and database refuses it alike.
    error = _unchanged(reg, lambda: call(reg), ValidationFailed)
    assert "NUL" in str(error)


# -- errors ----------------------------------------------------------------------------------------
#: Each case runs in the same registry (one database per backend keeps the suite fast).
MISSING: list[Any] = [
    lambda r: r.get_team("nobody"),
    lambda r: r.get_model("fraud/nothing"),
    lambda r: r.get_model("nobody/churn"),
    lambda r: r.get_version("fraud/churn@1"),
    lambda r: r.get_dataset("risk/nothing"),
    lambda r: r.get_dataset_version("risk/customers@9"),
    lambda r: r.get_feature_view("risk/nothing"),
    lambda r: r.get_feature_view_version("risk/nothing@1"),
    lambda r: r.get_run("fraud/nothing"),
    lambda r: r.get_environment("nowhere"),
    lambda r: r.list_versions("fraud/nothing"),
    lambda r: r.register_version("fraud/nothing", "s3://m/1", digest(1)),
    lambda r: r.register_version(
        "fraud/churn", "s3://m/1", digest(1), inputs=["dataset:risk/customers@3"]
    ),
    lambda r: r.create_model("nobody/churn"),
    lambda r: r.update_model("fraud/nothing", task="x"),
    lambda r: r.deploy("fraud/churn@1", "prod-eu"),
    lambda r: r.retire_deployment("deployment:00000000-0000-0000-0000-000000000000"),
    lambda r: r.serving("nowhere", T0),
    lambda r: r.record_evaluation("fraud/churn@4", {"auc": 0.5}),
]


def _case(cases: list[Any], index: int) -> str:
    return f"case {index} of {len(cases)}"


def test_missing_things_are_not_found(reg: LocalRegistry) -> None:
    for index, call in enumerate(MISSING):
        head = reg.log_head()
        with pytest.raises(NotFound) as info:
            call(reg)
        assert reg.log_head() == head, _case(MISSING, index)
        assert info.value.message, _case(MISSING, index)
        assert info.value.details.get("id"), _case(MISSING, index)


HINTED: list[Any] = [
    lambda r: r.get_model("fraud/nothing"),
    lambda r: r.get_version("fraud/churn@1"),
    lambda r: r.get_team("nobody"),
    lambda r: r.get_dataset_version("risk/customers@9"),
    lambda r: r.get_environment("nowhere"),
]


def test_not_found_carries_a_hint(reg: LocalRegistry) -> None:
    for index, call in enumerate(HINTED):
        with pytest.raises(NotFound) as info:
            call(reg)
        hint = info.value.details.get("hint")
        assert hint, _case(HINTED, index)
        assert hint in info.value.diagnostics()


NAIVE = datetime(2026, 5, 1, 12, 0)


BAD_INPUT: list[tuple[Any, str | None]] = [
    (lambda r: r.register_version("fraud/churn", "s3://m/1", "sha256:abc"), "digest"),
    (lambda r: r.register_version("fraud/churn", "s3://m/1", "0" * 64), "digest"),
    (lambda r: r.register_version("fraud/churn", "s3://m/1", ""), "digest"),
    (lambda r: r.register_version("fraud/churn", "not a uri", digest(1)), "artifact_uri"),
    (lambda r: r.register_version("fraud/churn", "s3://", digest(1)), "artifact_uri"),
    (
        lambda r: r.register_version(
            "fraud/churn", "s3://m/1", digest(1), metrics={"auc": math.nan}
        ),
        None,
    ),
    (
        lambda r: r.register_version(
            "fraud/churn", "s3://m/1", digest(1), metrics={"auc": math.inf}
        ),
        None,
    ),
    (
        lambda r: r.register_version(
            "fraud/churn", "s3://m/1", digest(1), metadata={"colour": "red"}
        ),
        "colour",
    ),
    (
        lambda r: r.register_version("fraud/churn", "s3://m/1", digest(1), tags=["bad tag!"]),
        None,
    ),
    (lambda r: r.register_version("fraud/churn@1", "s3://m/1", digest(1)), None),
    (lambda r: r.update_model("fraud/churn", colour="red"), "colour"),
    (lambda r: r.update_team("fraud", handle="other"), "handle"),
    (lambda r: r.update_dataset("risk/customers", owner="x"), "owner"),
    (lambda r: r.update_model("fraud/churn", risk_class="extreme"), "risk_class"),
    (lambda r: r.update_model("fraud/churn", contact="not-an-email"), "contact"),
    (lambda r: r.create_model("fraud/new", unknown=1), "unknown"),
    (lambda r: r.create_team("Fraud2"), "team"),
    (lambda r: r.create_model("fraud/Churn2"), "name"),
    (lambda r: r.create_environment("qa", stage="testing"), "stage"),
    (lambda r: r.create_run("fraud/r1", started_at=NAIVE), "started_at"),
    (lambda r: r.deploy("fraud/churn@1", "prod-eu", at=NAIVE), "at"),
    (lambda r: r.serving("prod-eu", NAIVE), "at"),
    (lambda r: r.record_evaluation("fraud/churn@1", {"auc": math.nan}), None),
    (lambda r: r.record_evaluation("fraud/churn@1", {"bad name!": 0.5}), None),
    (lambda r: r.list_teams(limit=0), "limit"),
    (lambda r: r.list_versions("fraud/churn", limit=1001), "limit"),
    (lambda r: r.history("fraud/churn"), "id"),
]


def test_bad_input_is_refused_and_nothing_written(reg: LocalRegistry) -> None:
    reg.register_version("fraud/churn", "s3://m/0", digest(1000))  # so @1 exists
    for index, (call, field) in enumerate(BAD_INPUT):
        where = _case(BAD_INPUT, index)
        head = reg.log_head()
        with pytest.raises(ValidationFailed) as info:
            call(reg)
        assert reg.log_head() == head, where
        assert info.value.message, where
        if field is not None:
            assert info.value.field is not None, where
            assert info.value.field.split(".")[0] == field, where
    assert [v.version for v in reg.list_versions("fraud/churn")] == [1]


def test_retire_with_a_naive_time_is_refused(reg: LocalRegistry) -> None:
    reg.register_version("fraud/churn", "s3://m/1", digest(1))
    deployment = reg.deploy("fraud/churn@1", "prod-eu", at=T0)
    _unchanged(reg, lambda: reg.retire_deployment(deployment.id, at=NAIVE), ValidationFailed)
    assert reg.list_deployments(active_only=True)[0].id == deployment.id


# -- history ---------------------------------------------------------------------------------------
def test_history_lists_model_and_version_events_in_order(reg: LocalRegistry) -> None:
    reg.create_model("fraud/churnx")  # a neighbour whose name shares a prefix
    reg.register_version("fraud/churn", "s3://m/1", digest(1))
    reg.register_version("fraud/churnx", "s3://x/1", digest(9))
    reg.update_model("fraud/churn", task="ranking")
    reg.register_version("fraud/churn", "s3://m/2", digest(2))
    reg.update_version("fraud/churn@1", tags=["old"])
    reg.record_evaluation("fraud/churn@2", {"auc": 0.9})
    events = reg.history("model:fraud/churn")
    assert [(e.type, e.subject) for e in events] == [
        ("model.created", "model:fraud/churn"),
        ("model_version.registered", "model:fraud/churn@1"),
        ("model.updated", "model:fraud/churn"),
        ("model_version.registered", "model:fraud/churn@2"),
        ("model_version.updated", "model:fraud/churn@1"),
        ("evaluation.recorded", "model:fraud/churn@2"),
    ]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
    assert all(e.actor == "user:tester" for e in events)
    assert events[2].payload["changes"] == {"task": "ranking"}
    # One version's history, and paging through the model's.
    assert [e.type for e in reg.history("model:fraud/churn@1")] == [
        "model_version.registered",
        "model_version.updated",
    ]
    page = reg.history("model:fraud/churn", limit=2)
    assert [e.seq for e in page] == seqs[:2]
    assert [e.seq for e in reg.history("model:fraud/churn", limit=2, after=seqs[1])] == seqs[2:4]
    assert [e.type for e in reg.history("team:fraud")] == ["team.created"]
    head = reg.log_head()
    assert events[-1].root_hash == head.root_hash
    assert events[-1].chain_hash == head.chain_hash
    assert reg.check_log().ok


def test_actor_is_recorded(open_registry: Any) -> None:
    alice = open_registry("user:alice")
    bob = open_registry("user:bob")
    alice.create_team("fraud")
    bob.create_model("fraud/churn")
    version = alice.register_version("fraud/churn", "s3://m/1", digest(1))
    assert version.registered_by == "user:alice"
    assert bob.get_model("fraud/churn").created_by == "user:bob"
    assert [e.actor for e in bob.history("model:fraud/churn")] == ["user:bob", "user:alice"]
