"""A registry with one of everything, written through the public SDK only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cairn.local import LocalRegistry

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def build_rich_registry(reg: LocalRegistry) -> None:
    """Teams, catalog, runs, models with facets, versions, deployments, evaluations, updates."""
    reg.create_team("fraud", display_name="Fraud", contact="fraud@example.com")
    reg.create_team("risk", description="Credit risk")
    reg.update_team("risk", display_name="Risk \u00e9quipe \U0001f4c8")
    reg.register_schema(
        "acme.credit-risk",
        1,
        {"type": "object", "properties": {"pd": {"type": "number"}}},
        team="risk",
    )
    reg.register_schema(
        "acme.credit-risk",
        2,
        {"type": "object", "properties": {"probability_of_default": {"type": "number"}}},
        migration=[{"op": "move", "from": "/pd", "path": "/probability_of_default"}],
    )

    reg.create_environment("prod-eu", stage="production", runtime={"python": "3.11"})
    reg.create_environment("staging", stage="staging", hardware={"accelerators": 2})
    reg.update_environment("staging", description="pre-production", stage="staging")

    reg.create_dataset(
        "risk/customers", uri="s3://data/customers", tags=["pii"], external_ids={"glue": "c1"}
    )
    for n in (1, 2):
        reg.add_dataset_version(
            "risk/customers",
            uri=f"s3://data/customers/{n}",
            digest=digest(100 + n),
            fields=[{"name": "id", "type": "int"}, {"name": "income", "type": "float"}],
            row_count=1000 * n,
        )
    reg.create_dataset("fraud/transactions")
    reg.add_dataset_version("fraud/transactions", digest=digest(200))
    reg.update_dataset("risk/customers", description="all customers")

    reg.create_feature_view("risk/spend", entities=["customer"])
    reg.add_feature_view_version(
        "risk/spend",
        features=[{"name": "spend_30d", "type": "float"}],
        sources=["dataset:risk/customers@2", "dataset:fraud/transactions@1"],
    )
    reg.update_feature_view("risk/spend", description="spend features")

    reg.create_run(
        "fraud/train-1",
        inputs=["dataset:risk/customers@1", "dataset:fraud/transactions@1"],
        environment="staging",
        code={"repository": "https://git.example.com/churn", "commit": "abc1234"},
        parameters={"lr": "0.1"},
        started_at=T0,
    )
    reg.update_run("fraud/train-1", status="succeeded", ended_at=T0 + timedelta(hours=1))
    reg.create_run("risk/eval-1", kind="evaluation", status="succeeded")

    reg.create_model(
        "fraud/churn",
        task="classification",
        risk_class="high",
        documentation={"purpose": "churn", "limitations": ["eu only"], "extra": 1},
        tags=["gbm"],
        labels={"owner": "alice"},
        facets={"acme.credit-risk/1": {"pd": 0.1, "kept": True}},
    )
    reg.create_model("risk/scorer", review_due="2026-12-31")
    reg.register_version(
        "fraud/churn",
        "s3://models/churn/1",
        digest(1),
        inputs=["dataset:risk/customers@1"],
        metrics=[
            {"name": "auc", "value": 0.81, "dataset": "dataset:risk/customers@1"},
            {"name": "auc", "value": 0.79, "dataset": "dataset:risk/customers@1", "slice": "eu"},
            {"name": "loss", "value": 0.25},
        ],
        tags=["candidate"],
        metadata={
            "run": "run:fraud/train-1",
            "dependencies": {"libraries": ["numpy>=1.26"], "runtime": {"python": "3.11"}},
            "labels": {"stage": "dev"},
            "facets": {"acme.credit-risk/1": {"pd": 0.2}},
        },
        idempotency_key="train-1",
    )
    reg.register_versions(
        [
            {
                "model": "fraud/churn",
                "artifact_uri": "s3://models/churn/2",
                "digest": digest(2),
                "inputs": ["dataset:risk/customers@2"],
                "metrics": [{"name": "auc", "value": 0.84}],
            },
            {"model": "risk/scorer", "artifact_uri": "s3://models/scorer/1", "digest": digest(3)},
        ]
    )
    reg.update_version("fraud/churn@1", tags=["candidate", "baseline"], description="first")
    reg.update_model("fraud/churn", description="who will leave", contact="a@example.com")
    reg.upgrade_facets("model:fraud/churn")
    reg.record_evaluation(
        "fraud/churn@2",
        {"auc": 0.83, "f1": 0.7},
        dataset="dataset:risk/customers@2",
        slice="region=eu",
        run="run:risk/eval-1",
    )

    first = reg.deploy("fraud/churn@1", "prod-eu", at=T0 + timedelta(days=1))
    reg.deploy("fraud/churn@2", "prod-eu", at=T0 + timedelta(days=3))  # replaces @1
    reg.deploy("risk/scorer@1", "prod-eu", at=T0 + timedelta(days=2))
    staged = reg.deploy("fraud/churn@2", "staging", at=T0 + timedelta(days=2))
    reg.retire_deployment(staged.id, at=T0 + timedelta(days=4))
    assert first.id != staged.id
    _add_access(reg)
    _add_governance(reg)
    _add_lineage(reg)


def _add_lineage(reg: LocalRegistry) -> None:
    """OpenLineage runs reading one table under two names, an alias folding them, an edge by
    hand naming the alias, and a report under the alias after it."""

    def reading(run: str, namespace: str, name: str) -> dict[str, object]:
        return {
            "eventType": "COMPLETE",
            "eventTime": (T0 + timedelta(days=5)).isoformat(),
            "run": {"runId": run},
            "job": {"namespace": "airflow", "name": "features"},
            "inputs": [{"namespace": namespace, "name": name}],
            "producer": "https://acme.example/pipelines",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        }

    reg.report_lineage([reading("0193a1c4-0000-7000-8000-000000000001", "s3://lake", "raw/tx")])
    reg.report_lineage([reading("0193a1c4-0000-7000-8000-000000000002", "hive://meta", "raw.tx")])
    reg.add_identity_alias("ol-dataset:s3://lake/raw/tx", "ol-dataset:hive://meta/raw.tx")
    reg.add_lineage_edge("ol-dataset:hive://meta/raw.tx", "trained", "model:fraud/churn@2")
    reg.report_lineage([reading("0193a1c4-0000-7000-8000-000000000003", "hive://meta", "raw.tx")])


def _add_governance(reg: LocalRegistry) -> None:
    """Policy versions; requests refused, rejected and approved; an alias set, removed by a
    change to its version, and set again."""
    everything = ["owner", "description", "risk_class", "intended_use", "limitations"]
    everything += ["evaluation", "training_data", "training_run"]
    reg.publish_policy("fraud", "gate", {"require": ["owner"], "aliases": ["production"]})
    reg.publish_policy("fraud", "gate", {"require": everything, "approvals": 2})
    requester = reg.as_actor("user:requester")
    refused = requester.request_transition("fraud/churn@2", "production", reason="no owner yet")
    assert refused.status == "refused"
    rejected = requester.request_transition("fraud/churn@1", "champion", reason="older")
    reg.as_actor("user:ann").reject_transition(rejected.id, comment="not the best")
    for attempt in range(2):
        asked = requester.request_transition("fraud/churn@2", "champion", reason=f"try {attempt}")
        reg.as_actor("user:ann").approve_transition(asked.id, comment="ok")
        assert reg.list_aliases("fraud/churn")[0].version == "model:fraud/churn@2"
        if attempt == 0:
            reg.update_version("fraud/churn@2", labels={"reviewed": "yes"})  # removes the alias
            assert reg.list_aliases("fraud/churn") == []
    waiting = requester.request_transition("fraud/churn@1", "staging", reason="fallback")
    reg.deprecate("fraud/churn@1", reason="superseded", replacement="fraud/churn@2")
    assert reg.get_transition(waiting.id).status == "void"
    reg.deprecate("risk/scorer", reason="moving to a new model", sunset=date(2027, 1, 31))
    reg.as_actor("user:ann").complete_review("fraud/churn", next_due=date(2099, 1, 1), notes="ok")


def _add_access(reg: LocalRegistry) -> None:
    """Principals with grants (changed, replaced and revoked), roles and tokens."""
    access = reg.access_service(secret_key="ab" * 32)
    access.bootstrap("user:root")
    access.create_principal("user:alice", display_name="Alice \u00e9")
    access.create_principal("ci", kind="service")
    access.create_principal("user:bob")
    access.grant("user:alice", "fraud", "contributor")
    access.grant("user:alice", "fraud", "approver")
    access.grant("user:alice", "risk", "viewer")
    access.grant("service:ci", "risk", "contributor")
    access.grant("user:bob", "risk", "admin")
    access.revoke_role("user:bob", "risk")
    access.set_registry_role("user:bob", "auditor")
    access.set_disabled("user:bob", True)
    issued = access.issue_token("service:ci", name="deploy", expires_in=timedelta(days=30))
    access.revoke_token(issued.id)
