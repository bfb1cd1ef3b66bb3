"""``cairn lineage ingest`` checks every event before writing any; ``impact`` reads back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli

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
    impact = cli("lineage", "impact", source, "--json")
    assert impact.code == 0, impact.stderr
    assert impact.json()["versions"] == []
