"""Dataset identities over every transport and both databases: an alias folds what was
reported under another name into the canonical node, later reports under either name land
there, a registered dataset may claim either name, and refused aliases change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from cairn.core.errors import CairnError, Conflict, NotFound, ValidationFailed

Open = Callable[..., Any]
CANONICAL = "ol-dataset:s3://lake/raw/tx"
ALIAS = "ol-dataset:hive://metastore/raw.tx"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def run_reading(namespace: str, name: str, job: str) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-23T10:00:00Z",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": job},
        "inputs": [{"namespace": namespace, "name": name}],
        "producer": "https://acme.example/pipelines",
        "schemaURL": RUN_EVENT,
    }


@pytest.fixture
def registry(open_registry: Open) -> Any:
    """Two jobs read one table under two names: the lake's path and the metastore's."""
    reg = open_registry("user:admin")
    reg.create_team("fraud")
    reg.report_lineage([run_reading("s3://lake", "raw/tx", "clean_tx")])
    reg.report_lineage([run_reading("hive://metastore", "raw.tx", "score_tx")])
    return reg


def runs_reading(reg: Any, node: str) -> set[str]:
    graph = reg.lineage(node, direction="downstream", depth=1)
    return {n.id for n in graph.nodes if n.kind == "ol-run"}


def known(reg: Any) -> dict[str, Any]:
    return {k.identity.ref: k for k in reg.known_identities().known}


def test_an_alias_merges_the_twin_into_the_canonical_node(registry: Any) -> None:
    before = known(registry)
    assert set(before) == {CANONICAL, ALIAS}  # two names, two nodes: the twin to fold
    [twin_run] = runs_reading(registry, ALIAS)
    [own_run] = runs_reading(registry, CANONICAL)
    made = registry.add_identity_alias(CANONICAL, ALIAS)
    assert (made.alias, made.canonical, made.created_by) == (ALIAS, CANONICAL, "user:admin")
    after = known(registry)
    assert set(after) == {CANONICAL}
    assert [a.ref for a in after[CANONICAL].aliases] == [ALIAS]
    # The twin's runs now hang off the canonical node, and the alias still finds it.
    assert runs_reading(registry, CANONICAL) == {own_run, twin_run}
    assert registry.lineage(ALIAS).root == CANONICAL
    assert [(a.alias, a.canonical) for a in registry.list_identity_aliases()] == [
        (ALIAS, CANONICAL)
    ]


def test_later_reports_and_claims_under_the_alias_land_on_the_canonical_node(
    registry: Any,
) -> None:
    registry.add_identity_alias(CANONICAL, ALIAS)
    registry.report_lineage([run_reading("hive://metastore", "raw.tx", "audit_tx")])
    assert set(known(registry)) == {CANONICAL}  # no phantom twin
    assert len(runs_reading(registry, CANONICAL)) == 3
    registry.create_dataset("fraud/tx", external_ids={"openlineage": "hive://metastore/raw.tx"})
    registry.add_dataset_version("fraud/tx", uri="s3://lake/raw/tx/1")
    graph = registry.lineage("dataset:fraud/tx@1", direction="upstream", depth=1)
    assert {(e.source, e.type) for e in graph.edges} == {(CANONICAL, "versioned_as")}
    assert known(registry)[CANONICAL].datasets == ["dataset:fraud/tx"]


def test_removing_an_alias_leaves_the_merge_and_splits_what_comes_next(registry: Any) -> None:
    registry.add_identity_alias(CANONICAL, ALIAS)
    registry.remove_identity_alias(ALIAS)
    assert registry.list_identity_aliases() == []
    assert set(known(registry)) == {CANONICAL}
    registry.report_lineage([run_reading("hive://metastore", "raw.tx", "late_tx")])
    assert set(known(registry)) == {CANONICAL, ALIAS}


def refused(reg: Any, call: Callable[[], Any], error: type[CairnError]) -> None:
    head = reg.log_head()
    with pytest.raises(error):
        call()
    assert reg.log_head() == head


def test_aliases_that_would_tangle_names_are_refused(registry: Any) -> None:
    third = "ol-dataset:postgres://db:5432/raw.public.tx"
    refused(registry, lambda: registry.add_identity_alias(CANONICAL, CANONICAL), ValidationFailed)
    refused(
        registry,
        lambda: registry.add_identity_alias(CANONICAL, "dataset:fraud/tx@1"),
        ValidationFailed,
    )
    registry.add_identity_alias(CANONICAL, ALIAS)
    refused(registry, lambda: registry.add_identity_alias(CANONICAL, ALIAS), Conflict)
    refused(registry, lambda: registry.add_identity_alias(third, ALIAS), Conflict)
    refused(registry, lambda: registry.add_identity_alias(ALIAS, third), Conflict)  # a chain
    refused(registry, lambda: registry.add_identity_alias(third, CANONICAL), Conflict)
    refused(registry, lambda: registry.remove_identity_alias(third), NotFound)


def test_registered_datasets_without_an_identity_are_listed(registry: Any) -> None:
    registry.create_dataset("fraud/labels", uri="s3://lake/labels")
    side = registry.known_identities()
    assert [(u.dataset, u.uri) for u in side.unidentified] == [
        ("dataset:fraud/labels", "s3://lake/labels")
    ]
    assert all(k.referenced for k in side.known)


def test_a_new_name_that_looks_like_a_known_dataset_is_reported_not_merged(
    open_registry: Open,
) -> None:
    reg = open_registry("user:admin")
    first = reg.report_lineage([run_reading("s3://lake", "raw/tx", "clean_tx")])
    assert first.possible_twins == []  # nothing known before it
    twin = reg.report_lineage([run_reading("hive://metastore", "raw.tx", "score_tx")])
    assert [(t.identity, t.existing) for t in twin.possible_twins] == [(ALIAS, [CANONICAL])]
    assert set(known(reg)) == {CANONICAL, ALIAS}  # kept apart until someone says otherwise
    again = reg.report_lineage([run_reading("hive://metastore", "raw.tx", "score_tx")])
    assert again.possible_twins == []  # said once, when the name was new
    other = reg.report_lineage([run_reading("postgres://db:5432", "crm.customers", "crm")])
    assert other.possible_twins == []  # different last parts: not a twin
    reg.add_identity_alias(CANONICAL, ALIAS)
    third = reg.report_lineage([run_reading("gs://lake", "raw/tx", "mirror_tx")])
    assert [(t.identity, t.existing) for t in third.possible_twins] == [
        ("ol-dataset:gs://lake/raw/tx", [CANONICAL])
    ]


def test_edges_between_the_two_names_do_not_survive_as_loops(registry: Any) -> None:
    registry.add_lineage_edge(ALIAS, "derived_from", CANONICAL)
    registry.add_lineage_edge(CANONICAL, "derived_from", ALIAS)
    registry.add_identity_alias(CANONICAL, ALIAS)
    graph = registry.lineage(CANONICAL, depth=2)
    assert all(e.source != e.target for e in graph.edges)
    assert {n.id for n in graph.nodes if n.kind == "ol-dataset"} == {CANONICAL}
    assert all(e.source in {n.id for n in graph.nodes} for e in graph.edges)
