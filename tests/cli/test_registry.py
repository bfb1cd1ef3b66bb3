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


def _jsonl(path: Path, records: list[dict[str, object]], *, blank_after: int = -1) -> Path:
    lines = [json.dumps(r) + ("\n\n" if i == blank_after else "\n") for i, r in enumerate(records)]
    path.write_text("".join(lines))
    return path


def _version(n: int, **extra: object) -> dict[str, object]:
    return {
        "model": "fraud/churn",
        "artifact_uri": f"s3://models/churn/import-{n}",
        "digest": "sha256:" + f"{n:064x}",
        "idempotency_key": f"import-{n}",
        "inputs": ["dataset:fraud/customers@1"],
    } | extra


def test_version_import_from_json_lines(seeded: Cli, tmp_path: Path) -> None:
    file = _jsonl(tmp_path / "versions.jsonl", [_version(n) for n in range(5)], blank_after=1)
    outcome = seeded("version", "import", str(file), "--batch-size", "2")
    assert outcome.code == 0, outcome.stderr
    assert "5 registered" in outcome.stdout
    report = seeded("version", "import", str(file), "--json").json()
    assert report == {"records": 5, "registered": 0, "unchanged": 5, "batches": 1}
    versions = seeded("version", "list", "fraud/churn", "--json").json()
    assert [v["version"] for v in versions] == [1, 2, 3, 4, 5, 6]


def test_version_import_names_the_line_of_a_bad_record(seeded: Cli, tmp_path: Path) -> None:
    records = [_version(n) for n in range(4)]
    records[3]["digest"] = "sha256:short"
    file = _jsonl(tmp_path / "versions.jsonl", records, blank_after=0)
    outcome = seeded("version", "import", str(file), "--batch-size", "2")
    assert outcome.code == 2
    error = outcome.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {file} line 5: digest:"), error
    assert "(2 versions registered before it)" in error
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(_version(9)) + "\n{not json\n")
    outcome = seeded("version", "import", str(broken))
    assert outcome.code == 2
    assert f"error: {broken} line 2 is not valid JSON" in outcome.stderr
    missing = seeded("version", "import", str(tmp_path / "absent.jsonl"))
    assert (missing.code, missing.stderr.strip()) == (
        2,
        f"error: {tmp_path / 'absent.jsonl'}: No such file or directory",
    )
