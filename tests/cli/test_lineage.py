"""``cairn lineage ingest`` checks every event before writing any; ``impact`` reads back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import DIGEST, Cli

RUN = "ol-run:3f5e83fa-3480-44ff-99c5-ff943904e5e8"
EVENTS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "openlineage" / "events"


def test_ingest_writes_all_or_nothing(cli: Cli, tmp_path: Path) -> None:
    simple = json.loads((EVENTS / "event_simple.json").read_text())
    invalid = json.loads((EVENTS / "event_invalid_run_facet.json").read_text())
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(json.dumps(simple) + "\n" + json.dumps(invalid) + "\n")
    refused = cli("lineage", "ingest", str(mixed))
    assert refused.code == 2
    assert "line 2: $.run.facets.parent.run" in refused.stderr
    assert "nothing was written" in refused.stderr
    source = "ol-dataset:my-datasource-namespace/instance.schema.input-1"
    missing = cli("lineage", "impact", source)
    assert missing.code == 2  # the valid first event was not written either
    assert "does not exist" in missing.stderr
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(simple) + "\n")
    assert cli("lineage", "ingest", str(good)).code == 0
    # The same input under a three-part name: kept, and said to look like the first.
    twin = json.loads(json.dumps(simple))
    twin["inputs"][0]["name"] = "db.instance.schema.input-1"
    twin["run"]["runId"] = "3f5e83fa-3480-44ff-99c5-ff943904e5e8"
    second = tmp_path / "twin.jsonl"
    second.write_text(json.dumps(twin) + "\n")
    warned = cli("lineage", "ingest", str(second))
    assert warned.code == 0, warned.stderr
    assert "looks like " + source in warned.stderr
    assert f"cairn lineage alias {source} " in warned.stderr
    impact = cli("lineage", "impact", source, "--json")
    assert impact.code == 0, impact.stderr
    assert impact.json()["versions"] == []


def test_report_prints_gaps_and_gates_on_a_score(cli: Cli) -> None:
    for args in (
        ("team", "create", "fraud"),
        ("model", "create", "fraud/churn"),
        ("version", "register", "fraud/churn", "s3://m/churn/1", DIGEST),
    ):
        made = cli(*args)
        assert made.code == 0, made.stderr
    shown = cli("lineage", "report", "model:fraud/churn")
    assert shown.code == 0, shown.stderr
    assert "model:fraud/churn@1" in shown.stdout and "0%" in shown.stdout
    assert "no training data on record" in shown.stdout
    as_json = cli("lineage", "report", "--json")
    assert as_json.json()["summary"]["missing"]["code"] == 1
    gated = cli("lineage", "report", "team:fraud", "--fail-under", "0.5")
    assert gated.code == 1 and "under 50.00%" in gated.stderr
    wrong = cli("lineage", "report", "dataset:fraud/tx")
    assert wrong.code == 2 and "registry, team, model or model version" in wrong.stderr


def test_show_writes_prov_that_the_reference_implementation_reads(cli: Cli, tmp_path: Path) -> None:
    from prov.model import ProvDocument, ProvEntity

    for args in (
        ("team", "create", "fraud"),
        ("model", "create", "fraud/churn"),
        ("version", "register", "fraud/churn", "s3://m/churn/1", DIGEST),
    ):
        assert cli(*args).code == 0
    target = tmp_path / "churn.provn.json"
    node = "model:fraud/churn@1"
    written = cli("lineage", "show", node, "--format", "prov-json", "-o", str(target))
    assert written.code == 0, written.stderr
    document = ProvDocument.deserialize(content=target.read_text(), format="json")
    [root] = document.get_records(ProvEntity)
    assert str(root.identifier) == "cairn:model:fraud/churn@1"
    as_n = cli("lineage", "show", node, "--format", "prov-n")
    assert as_n.stdout.startswith("document")
    assert "entity(cairn:model\\:fraud/churn@1" in as_n.stdout


def test_reconcile_reports_gaps_and_an_alias_closes_one(cli: Cli, tmp_path: Path) -> None:
    for args in (
        ("team", "create", "fraud"),
        ("dataset", "create", "fraud/tx", "--external-id", "openlineage=s3://lake/raw/tx"),
        ("lineage", "link", "ol-dataset:hive://metastore/raw.orders", "read_by", RUN),
    ):
        made = cli(*args)
        assert made.code == 0, made.stderr
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "namespace,name,owner\n"
        "s3://lake,raw/tx,data-eng\n"
        "postgres://db:5432,sales.raw.orders,sales\n"
    )
    found = cli("lineage", "reconcile", str(catalog), "--json")
    assert found.code == 0, found.stderr
    report = found.json()
    assert (report["catalog"], report["matched"]) == (2, 1)
    assert report["unresolved"] == ["ol-dataset:hive://metastore/raw.orders"]
    assert report["missing_in_cairn"] == ["ol-dataset:postgres://db:5432/sales.raw.orders"]
    [suggestion] = report["suggestions"]
    assert cli("lineage", "reconcile", str(catalog), "--check").code == 1
    # The suggested command, run as printed, leaves nothing to reconcile.
    command = suggestion["command"].split()
    assert command[:3] == ["cairn", "lineage", "alias"]
    assert cli(*command[1:]).code == 0
    clean = cli("lineage", "reconcile", str(catalog), "--check")
    assert clean.code == 0, clean.stdout
    assert "ol-dataset:hive://metastore/raw.orders" in cli("lineage", "aliases").stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("namespace,name\ns3://lake,\n")
    refused = cli("lineage", "reconcile", str(bad))
    assert refused.code == 2 and "bad.csv" in refused.stderr
