"""Lineage over every transport and both databases: edges implied by what is registered,
walks with their bounds, impact analysis, upstream changes, edges by hand, and OpenLineage
events — the shared fixtures, valid and invalid."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cairn.core.errors import Conflict, NotFound, ValidationFailed

Open = Callable[..., Any]
EVENTS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "openlineage" / "events"
VALID = ("event_simple.json", "example_full_event.json")
INVALID = {
    "event_no_run_id.json": "$.run",
    "event_invalid_run_facet.json": "$.run.facets.parent.run",
    "event_invalid_job_facet.json": "$.job.facets.ownership.owners[0]",
    "event_invalid_dataset_facet.json": "$.outputs[0].facets.ownership.owners[0]",
    "event_invalid_input_dataset_facet.json": "$.inputs[0].inputFacets.dataQualityMetrics",
    "event_invalid_output_dataset_facet.json": (
        "$.outputs[0].outputFacets.outputStatistics.rowCount"
    ),
}


CUSTOM = {
    "_producer": "https://acme.example/scheduler",
    "_schemaURL": "https://acme.example/facets/owner.json",
    "team": "fraud",
}


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


@pytest.fixture
def registry(open_registry: Open) -> Any:
    """fraud/churn@1 trained by run train-1 (code, environment, on tx@1 and geo@1) and on
    tx@1 directly, evaluated on holdout@1, deployed to prod; churn@2 on tx@2 only."""
    reg = open_registry("user:admin")
    reg.create_team("fraud", contact="fraud@acme.example")
    reg.create_team("risk")
    for name in ("tx", "geo", "holdout"):
        reg.create_dataset(f"fraud/{name}")
        reg.add_dataset_version(f"fraud/{name}", uri=f"s3://lake/{name}/1")
    reg.add_dataset_version("fraud/tx", uri="s3://lake/tx/2")
    reg.create_environment("prod", stage="production")
    reg.create_environment("gpu", stage="development")
    reg.create_run(
        "fraud/train-1",
        inputs=["dataset:fraud/tx@1", "dataset:fraud/geo@1"],
        environment="gpu",
        code={"repository": "https://git.acme.example/fraud/churn", "commit": "abcdef1"},
    )
    reg.create_model("fraud/churn", contact="ana@acme.example")
    reg.register_version(
        "fraud/churn",
        "s3://models/churn/1",
        digest(1),
        metadata={"run": "run:fraud/train-1"},
        inputs=["dataset:fraud/tx@1"],
    )
    reg.register_version(
        "fraud/churn", "s3://models/churn/2", digest(2), inputs=["dataset:fraud/tx@2"]
    )
    reg.record_evaluation("fraud/churn@1", {"auc": 0.9}, dataset="dataset:fraud/holdout@1")
    reg.deploy("fraud/churn@1", "prod")
    return reg


def ids(graph: Any) -> set[str]:
    return {n.id for n in graph.nodes}


def test_a_registration_says_what_shaped_the_version(registry: Any) -> None:
    graph = registry.lineage("model:fraud/churn@1", direction="upstream")
    assert ids(graph) == {
        "model:fraud/churn@1",
        "run:fraud/train-1",
        "dataset:fraud/tx@1",
        "dataset:fraud/geo@1",
        "environment:gpu",
        "code:https://git.acme.example/fraud/churn@abcdef1",
    }
    edges = {(e.source, e.type, e.target) for e in graph.edges}
    assert ("dataset:fraud/tx@1", "trained", "model:fraud/churn@1") in edges
    assert ("dataset:fraud/geo@1", "read_by", "run:fraud/train-1") in edges
    assert ("run:fraud/train-1", "produced", "model:fraud/churn@1") in edges
    assert ("environment:gpu", "hosted", "run:fraud/train-1") in edges
    assert not graph.partial
    root = next(n for n in graph.nodes if n.id == graph.root)
    assert (root.kind, root.team, root.depth) == ("model-version", "fraud", 0)


def test_downstream_reaches_evaluations_and_deployments_but_not_through_environments(
    registry: Any,
) -> None:
    graph = registry.lineage("dataset:fraud/holdout@1", direction="downstream")
    assert {n.kind for n in graph.nodes} == {"dataset-version", "evaluation"}
    down = registry.lineage("model:fraud/churn@1", direction="downstream")
    assert {n.kind for n in down.nodes} == {
        "model-version",
        "evaluation",
        "deployment",
        "environment",
    }
    # prod hosts nothing else here, but an environment is never walked through: churn@2 (not
    # deployed) must not appear by way of the environment.
    assert "model:fraud/churn@2" not in ids(down)


def test_impact_names_versions_paths_owners_and_deployments(registry: Any) -> None:
    report = registry.impact("dataset:fraud/geo@1")
    assert [v.id for v in report.versions] == ["model:fraud/churn@1"]
    hit = report.versions[0]
    assert hit.path == ["dataset:fraud/geo@1", "run:fraud/train-1", "model:fraud/churn@1"]
    assert hit.via == ["read_by", "produced"]
    assert (hit.team, hit.contact) == ("fraud", "ana@acme.example")
    assert [(d.environment, d.stage, d.active) for d in hit.deployments] == [
        ("prod", "production", True)
    ]
    assert report.teams == {"fraud": 1}
    assert not report.partial
    # The shortest path wins: tx@1 trained churn@1 directly as well as through the run.
    direct = registry.impact("dataset:fraud/tx@1").versions[0]
    assert direct.via == ["trained"]


def test_answers_cut_short_say_where(registry: Any) -> None:
    shallow = registry.lineage("model:fraud/churn@1", direction="upstream", depth=1)
    assert shallow.partial and shallow.reason == "depth"
    assert "run:fraud/train-1" in shallow.stopped_at
    assert "code:https://git.acme.example/fraud/churn@abcdef1" not in ids(shallow)
    small = registry.impact("dataset:fraud/tx@1", limit=1)
    assert small.partial and small.reason == "limit"
    whole = registry.lineage("model:fraud/churn@1", direction="upstream", depth=2)
    assert not whole.partial and whole.stopped_at == []


def test_filters_by_edge_type_and_node_kind(registry: Any) -> None:
    runs_only = registry.lineage(
        "dataset:fraud/tx@1", direction="downstream", edge_types=["read_by", "produced"]
    )
    assert {e.type for e in runs_only.edges} <= {"read_by", "produced"}
    models = registry.lineage(
        "dataset:fraud/tx@1", direction="downstream", node_kinds=["model-version"]
    )
    assert ids(models) == {"dataset:fraud/tx@1", "model:fraud/churn@1"}
    with pytest.raises(ValidationFailed):
        registry.lineage("dataset:fraud/tx@1", edge_types=["owned_by"])


def test_cycles_end(registry: Any) -> None:
    # churn@1 produced a prediction table that (wrongly) trained churn@1 again: a cycle.
    registry.add_lineage_edge("model:fraud/churn@1", "produced", "dataset:fraud/holdout@1")
    registry.add_lineage_edge("dataset:fraud/holdout@1", "trained", "model:fraud/churn@1")
    graph = registry.lineage("model:fraud/churn@1", direction="downstream", depth=50)
    assert len(graph.nodes) == len(ids(graph))
    assert "dataset:fraud/holdout@1" in ids(graph)
    report = registry.impact("dataset:fraud/holdout@1")
    assert [v.id for v in report.versions] == ["model:fraud/churn@1"]


def test_upstream_changes_between_versions(registry: Any) -> None:
    change = registry.upstream_changes("model:fraud/churn@1", "model:fraud/churn@2")
    assert change.changed == [("dataset:fraud/tx@1", "dataset:fraud/tx@2")]
    assert "run:fraud/train-1" in change.removed
    assert "dataset:fraud/geo@1" in change.removed
    assert change.added == []
    with pytest.raises(ValidationFailed):
        registry.upstream_changes("dataset:fraud/tx@1", "model:fraud/churn@2")


def test_edges_by_hand_are_typed_and_recorded(registry: Any) -> None:
    head = registry.log_head().size
    made = registry.add_lineage_edge(
        "ol-dataset:s3://lake/raw/tx", "trained", "model:fraud/churn@2"
    )
    assert (made.source, made.type, made.target) == (
        "ol-dataset:s3://lake/raw/tx",
        "trained",
        "model:fraud/churn@2",
    )
    assert registry.log_head().size == head + 1
    assert "ol-dataset:s3://lake/raw/tx" in ids(registry.lineage("model:fraud/churn@2"))
    with pytest.raises(Conflict):
        registry.add_lineage_edge("ol-dataset:s3://lake/raw/tx", "trained", "model:fraud/churn@2")
    with pytest.raises(ValidationFailed, match="cannot lead from a deployment"):
        registry.add_lineage_edge(
            registry.list_deployments()[0].id, "trained", "model:fraud/churn@2"
        )
    with pytest.raises(NotFound):
        registry.add_lineage_edge("dataset:fraud/tx@9", "trained", "model:fraud/churn@2")
    with pytest.raises(ValidationFailed):
        registry.lineage("ol-dataset:no-slash-here")
    registry.remove_lineage_edge("ol-dataset:s3://lake/raw/tx", "trained", "model:fraud/churn@2")
    assert "ol-dataset:s3://lake/raw/tx" not in ids(registry.lineage("model:fraud/churn@2"))
    with pytest.raises(NotFound):
        registry.remove_lineage_edge(
            "ol-dataset:s3://lake/raw/tx", "trained", "model:fraud/churn@2"
        )


@pytest.mark.parametrize("name", VALID)
def test_valid_openlineage_events_become_nodes_and_edges(registry: Any, name: str) -> None:
    raw = event(name)
    ingested = registry.report_lineage([raw])
    run = f"ol-run:{raw['run']['runId']}"
    assert ingested.subjects == [run]
    graph = registry.lineage(run, direction="both")
    job = f"ol-job:{raw['job']['namespace']}/{raw['job']['name']}"
    expected = {run, job}
    expected |= {f"ol-dataset:{d['namespace']}/{d['name']}" for d in raw.get("inputs", [])}
    expected |= {f"ol-dataset:{d['namespace']}/{d['name']}" for d in raw.get("outputs", [])}
    assert ids(graph) == expected
    edges = {(e.source, e.type, e.target) for e in graph.edges}
    assert (job, "executed_as", run) in edges
    for d in raw.get("inputs", []):
        assert (f"ol-dataset:{d['namespace']}/{d['name']}", "read_by", run) in edges
    for d in raw.get("outputs", []):
        assert (run, "produced", f"ol-dataset:{d['namespace']}/{d['name']}") in edges
    state = next(n for n in graph.nodes if n.id == run).attributes["state"]
    assert state == raw["eventType"]


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_openlineage_events_are_refused_whole(registry: Any, name: str) -> None:
    head = registry.log_head().size
    with pytest.raises(ValidationFailed) as refused:
        registry.report_lineage([event("event_simple.json"), event(name)])
    assert INVALID[name].replace("$", "$[1]", 1) in str(refused.value.field)
    assert registry.log_head().size == head  # the valid event beside it was not written either


def test_event_full_is_refused_for_its_data_quality_facet(registry: Any) -> None:
    """The shared fixtures call event_full.json valid, but its input's dataQualityMetrics facet
    lacks columnMetrics, which that facet's schema (1-0-3, as shipped) requires: the very
    fault of event_invalid_input_dataset_facet.json. Completed, the rest of it is taken."""
    raw = event("event_full.json")
    with pytest.raises(ValidationFailed) as refused:
        registry.report_lineage([raw])
    assert refused.value.field == "$.inputs[0].inputFacets.dataQualityMetrics"
    raw["inputs"][0]["inputFacets"]["dataQualityMetrics"]["columnMetrics"] = {}
    registry.report_lineage([raw])
    run = f"ol-run:{raw['run']['runId']}"
    graph = registry.lineage(run)
    dataset = "ol-dataset:my-datasource-namespace/instance.schema.table"
    assert {run, dataset, "ol-job:my-scheduler-namespace/myjob.mytask"} <= ids(graph)


def test_events_of_one_run_merge_by_event_time(registry: Any) -> None:
    start = event("event_simple.json") | {"eventType": "START", "eventTime": "2026-01-01T10:00:00Z"}
    start["run"] = {"runId": start["run"]["runId"], "facets": {"acme_owner": CUSTOM}}
    done = event("event_simple.json") | {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T11:00:00Z",
    }
    registry.report_lineage([done])
    registry.report_lineage([start])  # late, out of order: it must not undo COMPLETE
    run = f"ol-run:{start['run']['runId']}"
    graph = registry.lineage(run, depth=1)
    node = next(n for n in graph.nodes if n.id == run)
    assert node.attributes["state"] == "COMPLETE"
    assert len([n for n in graph.nodes if n.kind == "ol-run"]) == 1


def test_a_dataset_names_its_openlineage_identity_and_the_graph_joins_them(registry: Any) -> None:
    registry.report_lineage([event("event_simple.json")])
    output = "ol-dataset:my-datasource-namespace/instance.schema.output-1"
    registry.update_dataset("fraud/holdout", external_ids={"openlineage": output.split(":", 1)[1]})
    upstream = registry.lineage("dataset:fraud/holdout@1", direction="upstream")
    assert output in ids(upstream)
    assert "ol-dataset:my-datasource-namespace/instance.schema.input-1" in ids(upstream)
    report = registry.impact("ol-dataset:my-datasource-namespace/instance.schema.input-1")
    assert report.versions == []  # holdout only evaluates churn@1; it trained nothing
    evaluated = registry.lineage(
        "ol-dataset:my-datasource-namespace/instance.schema.input-1", direction="downstream"
    )
    assert "dataset:fraud/holdout@1" in ids(evaluated)
    with pytest.raises(ValidationFailed):
        registry.update_dataset("fraud/holdout", external_ids={"openlineage": "no-name"})


def test_a_deprecated_version_says_so_in_the_graph(registry: Any) -> None:
    registry.deprecate("model:fraud/churn@2", reason="trained on a leaky split")
    graph = registry.lineage("dataset:fraud/tx@2", direction="downstream")
    attributes = {n.id: n.attributes for n in graph.nodes}
    assert attributes["model:fraud/churn@2"].get("deprecated") is True
    assert "deprecated" not in registry.lineage("model:fraud/churn@1").nodes[0].attributes
