"""Creating, reading and changing entities through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import DIGEST, Cli


def test_model_show_json_is_the_pydantic_result(seeded: Cli) -> None:
    model = seeded("model", "show", "fraud/churn", "--json").json()
    assert model["id"] == "model:fraud/churn"
    assert model["task"] == "classification"
    assert model["tags"] == ["gbm"]
    assert model["latest_version"] == 1


def test_lists_parse_as_json(seeded: Cli) -> None:
    assert [t["name"] for t in seeded("team", "list", "--json").json()] == ["fraud"]
    assert [m["name"] for m in seeded("model", "list", "--team", "fraud", "--json").json()] == [
        "churn"
    ]
    versions = seeded("version", "list", "fraud/churn", "--json").json()
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["inputs"][0]["id"] == "dataset:fraud/customers@1"


def test_version_register_takes_metrics_labels_and_metadata(seeded: Cli, tmp_path: Path) -> None:
    extra = tmp_path / "meta.json"
    extra.write_text(json.dumps({"description": "from file", "tags": ["nightly"]}))
    outcome = seeded(
        "version",
        "register",
        "fraud/churn",
        "s3://models/churn/2",
        DIGEST,
        "--metric",
        "auc=0.93",
        "--label",
        "owner=ann",
        "--tag",
        "gbm",
        "--library",
        "numpy>=1.26",
        "--metadata",
        str(extra),
        "--json",
    )
    assert outcome.code == 0, outcome.stderr
    version = outcome.json()
    assert version["id"] == "model:fraud/churn@2"
    assert version["description"] == "from file"
    assert version["tags"] == ["nightly", "gbm"]
    assert version["labels"] == {"owner": "ann"}
    assert version["metrics"][0]["name"] == "auc"
    assert version["dependencies"]["libraries"] == ["numpy>=1.26"]


def test_update_changes_only_given_fields(seeded: Cli) -> None:
    outcome = seeded("model", "update", "fraud/churn", "--risk-class", "high", "--json")
    assert outcome.code == 0, outcome.stderr
    model = outcome.json()
    assert model["risk_class"] == "high"
    assert model["task"] == "classification"
    assert model["revision"] == 2


def test_people_get_tables_and_panels(seeded: Cli) -> None:
    shown = seeded("version", "show", "fraud/churn@1")
    assert shown.code == 0
    assert "dataset:fraud/customers@1" in shown.stdout
    assert "auc=0.91" in shown.stdout
    assert "fraud/churn" in seeded("model", "list").stdout
    assert "Teams" in seeded("team", "list").stdout


def test_datasets_feature_views_runs_and_schemas(seeded: Cli, tmp_path: Path) -> None:
    assert (
        seeded("dataset", "show-version", "fraud/customers@1", "--json").json()["row_count"] == 10
    )
    assert len(seeded("dataset", "versions", "fraud/customers", "--json").json()) == 1
    assert seeded("feature-view", "create", "fraud/txn", "--entity", "customer").code == 0
    added = seeded(
        "feature-view", "add-version", "fraud/txn", "--feature", "amount:float", "--json"
    )
    assert added.json()["features"] == [{"name": "amount", "type": "float", "description": None}]
    assert seeded("run", "create", "fraud/train-1", "--param", "lr=0.1").code == 0
    assert seeded("run", "show", "fraud/train-1", "--json").json()["parameters"] == {"lr": "0.1"}
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"pd": {"type": "number"}}}))
    published = seeded(
        "schema", "register", "acme.credit-risk", "1", str(schema), "--team", "fraud"
    )
    assert published.code == 0, published.stderr
    assert seeded("schema", "show", "acme.credit-risk/1", "--json").json()["version"] == 1
