"""Lineage as W3C PROV: one element per node, one relation per edge, and text prov reads back."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from prov.constants import PROV, PROV_LABEL, PROV_TYPE
from prov.identifier import Namespace, QualifiedName
from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvAttribution,
    ProvDelegation,
    ProvDerivation,
    ProvDocument,
    ProvElement,
    ProvEntity,
    ProvGeneration,
    ProvRecord,
    ProvRelation,
    ProvSpecialization,
    ProvUsage,
)

from cairn.core.errors import ValidationFailed
from cairn.core.lineage import (
    Direction,
    EdgeType,
    LineageEdge,
    LineageGraph,
    LineageNode,
    NodeKind,
)
from cairn.core.prov import prov_document, prov_json, prov_n, qualified_name

# The test's own spelling of the namespace, so a wrong base in the module fails the tests.
C = Namespace("cairn", "urn:cairn:")
K, E = NodeKind, EdgeType

MODEL = "model:fraud/churn@3"
OLD_MODEL = "model:fraud/churn@2"
TX = "dataset:fraud/transactions@2"
PREDICTIONS = "dataset:fraud/predictions@1"
FEATURES = "feature-view:fraud/tx-features@1"
RUN = "run:fraud/train-7"
EVALUATION = "evaluation:0b6c1a52-8f0e-4d8e-9a57-2f4d1c0e9b11"
DEPLOYMENT = "deployment:5d1f6f0e-3c1a-4b7e-8f3b-6a2e9c4d7e21"
PROD = "environment:prod"
CODE = "code:https://github.com/acme/fraud@0f3c2a1b9d"
ORDERS = "ol-dataset:postgres://db:5432/sales.orders"
JOB = "ol-job:airflow/nightly_orders"
OL_RUN = "ol-run:7f1b8a2c-0d4e-4f6a-9b3c-1e2d3f4a5b6c"
TEAM = "team:fraud"


def node(id_: str, kind: NodeKind, team: str | None = None, **attributes: Any) -> LineageNode:
    return LineageNode(
        id=id_, kind=kind, label=id_.split(":", 1)[1], team=team, attributes=attributes
    )


NODES = [
    node(MODEL, K.MODEL_VERSION, "fraud", contact="ana@acme.test", deprecated=True),
    node(OLD_MODEL, K.MODEL_VERSION, "fraud", contact="ana@acme.test"),
    node(TX, K.DATASET_VERSION, "fraud"),
    node(PREDICTIONS, K.DATASET_VERSION, "fraud"),
    node(FEATURES, K.FEATURE_VIEW_VERSION, "fraud"),
    node(
        RUN,
        K.RUN,
        "fraud",
        status="succeeded",
        run_kind="training",
        started_at="2026-03-01T12:00:00+00:00",
        ended_at="2026-03-01T12:30:00+00:00",
    ),
    node(EVALUATION, K.EVALUATION, recorded_at="2026-03-01T13:00:00+00:00"),
    node(
        DEPLOYMENT,
        K.DEPLOYMENT,
        "fraud",
        version=MODEL,
        environment="prod",
        stage="production",
        deployed_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        active=True,
    ),
    node(PROD, K.ENVIRONMENT, stage="production"),
    node(CODE, K.CODE, namespace="https://github.com/acme/fraud"),
    node(ORDERS, K.OL_DATASET, namespace="postgres://db:5432"),
    node(JOB, K.OL_JOB, namespace="airflow"),
    node(OL_RUN, K.OL_RUN, state="COMPLETE"),
]

# Every edge type, and `produced` from both an activity and a model version.
EDGES = [
    (TX, E.READ_BY, RUN),
    (FEATURES, E.READ_BY, RUN),
    (RUN, E.PRODUCED, MODEL),
    (OL_RUN, E.PRODUCED, ORDERS),
    (MODEL, E.PRODUCED, PREDICTIONS),
    (TX, E.TRAINED, MODEL),
    (TX, E.DERIVED_FROM, FEATURES),
    (OLD_MODEL, E.DERIVED_FROM, MODEL),
    (TX, E.EVALUATED_ON, EVALUATION),
    (MODEL, E.EVALUATED_BY, EVALUATION),
    (MODEL, E.DEPLOYED_AS, DEPLOYMENT),
    (DEPLOYMENT, E.RUNS_IN, PROD),
    (PROD, E.HOSTED, RUN),
    (CODE, E.EXECUTED_AS, RUN),
    (JOB, E.EXECUTED_AS, OL_RUN),
    (ORDERS, E.VERSIONED_AS, TX),
]


def q(id_: str) -> QualifiedName:
    return C[id_]


# What each edge must become, written out by hand: (class, formal arguments, extra attributes).
Relation = tuple[type[ProvRecord], tuple[Any, ...], frozenset[Any]]
NONE: frozenset[Any] = frozenset()


def typed(local: str) -> frozenset[Any]:
    return frozenset({(PROV_TYPE, C[local])})


EXPECTED_BY_EDGE: dict[tuple[str, EdgeType, str], Relation] = {
    (TX, E.READ_BY, RUN): (ProvUsage, (q(RUN), q(TX), None), NONE),
    (FEATURES, E.READ_BY, RUN): (ProvUsage, (q(RUN), q(FEATURES), None), NONE),
    (RUN, E.PRODUCED, MODEL): (ProvGeneration, (q(MODEL), q(RUN), None), NONE),
    (OL_RUN, E.PRODUCED, ORDERS): (ProvGeneration, (q(ORDERS), q(OL_RUN), None), NONE),
    (MODEL, E.PRODUCED, PREDICTIONS): (
        ProvDerivation,
        (q(PREDICTIONS), q(MODEL), None, None, None),
        NONE,
    ),
    (TX, E.TRAINED, MODEL): (
        ProvDerivation,
        (q(MODEL), q(TX), None, None, None),
        typed("trained"),
    ),
    (TX, E.DERIVED_FROM, FEATURES): (
        ProvDerivation,
        (q(FEATURES), q(TX), None, None, None),
        NONE,
    ),
    (OLD_MODEL, E.DERIVED_FROM, MODEL): (
        ProvDerivation,
        (q(MODEL), q(OLD_MODEL), None, None, None),
        NONE,
    ),
    (TX, E.EVALUATED_ON, EVALUATION): (
        ProvDerivation,
        (q(EVALUATION), q(TX), None, None, None),
        typed("evaluated_on"),
    ),
    (MODEL, E.EVALUATED_BY, EVALUATION): (
        ProvDerivation,
        (q(EVALUATION), q(MODEL), None, None, None),
        typed("evaluated_by"),
    ),
    (MODEL, E.DEPLOYED_AS, DEPLOYMENT): (ProvUsage, (q(DEPLOYMENT), q(MODEL), None), NONE),
    (DEPLOYMENT, E.RUNS_IN, PROD): (ProvAssociation, (q(DEPLOYMENT), q(PROD), None), NONE),
    (PROD, E.HOSTED, RUN): (ProvAssociation, (q(RUN), q(PROD), None), NONE),
    (CODE, E.EXECUTED_AS, RUN): (ProvAssociation, (q(RUN), q(TEAM), q(CODE)), NONE),
    (JOB, E.EXECUTED_AS, OL_RUN): (ProvAssociation, (q(OL_RUN), None, q(JOB)), NONE),
    (ORDERS, E.VERSIONED_AS, TX): (ProvSpecialization, (q(TX), q(ORDERS)), NONE),
}

# What ownership adds: every node with a team, attributed to or associated with it.
EXPECTED_OWNERSHIP: list[Relation] = [
    *(
        (ProvAttribution, (q(id_), q(TEAM)), NONE)
        for id_ in (MODEL, OLD_MODEL, TX, PREDICTIONS, FEATURES)
    ),
    (ProvAssociation, (q(RUN), q(TEAM), None), NONE),
    (ProvAssociation, (q(DEPLOYMENT), q(TEAM), None), NONE),
]

EXPECTED_ELEMENTS: dict[str, tuple[type[ProvElement], set[QualifiedName]]] = {
    MODEL: (ProvEntity, {C["ModelVersion"]}),
    OLD_MODEL: (ProvEntity, {C["ModelVersion"]}),
    TX: (ProvEntity, {C["DatasetVersion"]}),
    PREDICTIONS: (ProvEntity, {C["DatasetVersion"]}),
    FEATURES: (ProvEntity, {C["FeatureViewVersion"]}),
    RUN: (ProvActivity, {C["Run"]}),
    EVALUATION: (ProvEntity, {C["Evaluation"]}),
    DEPLOYMENT: (ProvActivity, {C["Deployment"]}),
    PROD: (ProvAgent, {C["Environment"], PROV["SoftwareAgent"]}),
    CODE: (ProvEntity, {C["Code"], PROV["Plan"]}),
    ORDERS: (ProvEntity, {C["OpenLineageDataset"]}),
    JOB: (ProvEntity, {C["OpenLineageJob"], PROV["Plan"]}),
    OL_RUN: (ProvActivity, {C["OpenLineageRun"]}),
    TEAM: (ProvAgent, {PROV["Organization"], C["Team"]}),
}


def graph(
    nodes: list[LineageNode] = NODES,
    edges: list[tuple[str, EdgeType, str]] = EDGES,
    root: str = MODEL,
    **bounds: Any,
) -> LineageGraph:
    return LineageGraph(
        root=root,
        direction=[Direction.UPSTREAM, Direction.DOWNSTREAM],
        depth=3,
        nodes=nodes,
        edges=[LineageEdge(source=a, type=t, target=b) for a, t, b in edges],
        **bounds,
    )


def signature(record: ProvRecord) -> Relation:
    return (type(record), record.args, frozenset(record.extra_attributes))


def relations(document: ProvDocument) -> list[Relation]:
    return [signature(r) for r in document.get_records(ProvRelation)]


def element(document: ProvDocument, id_: str) -> ProvRecord:
    [record] = document.get_record(q(id_))
    return record


def value(record: ProvRecord, local: str) -> Any:
    [found] = record.get_attribute(C[local])
    return found


# ---------------------------------------------------------------------------------------------
# Round trips


def test_prov_json_round_trips_to_the_same_document() -> None:
    text = prov_json(graph())
    assert text.startswith("{\n  ")  # indented
    back = ProvDocument.deserialize(content=text, format="json")
    assert back == prov_document(graph())
    assert Counter(relations(back)) == Counter(relations(prov_document(graph())))


def test_prov_n_is_what_prov_writes_and_reads_back() -> None:
    text = prov_n(graph())
    assert text == prov_document(graph()).get_provn()
    back = ProvDocument.deserialize(content=text, format="provn", profile="strict")
    assert back == prov_document(graph())


def test_prov_n_holds_the_expected_statements() -> None:
    text = prov_n(graph())
    # PROV-N's grammar has no bare ':' in a local name: prov escapes it as '\:'.
    for statement in [
        r"prefix cairn <urn:cairn:>",
        r"used(cairn:run\:fraud/train-7, cairn:dataset\:fraud/transactions@2, -)",
        r"wasDerivedFrom(cairn:model\:fraud/churn@3, cairn:dataset\:fraud/transactions@2,"
        r" -, -, -, [prov:type='cairn:trained'])",
        r"specializationOf(cairn:dataset\:fraud/transactions@2,"
        r" cairn:ol-dataset\:postgres\://db\:5432/sales.orders)",
        r"wasAssociatedWith(cairn:run\:fraud/train-7, cairn:team\:fraud,"
        r" cairn:code\:https\://github.com/acme/fraud@0f3c2a1b9d)",
        r"wasAssociatedWith(cairn:ol-run\:7f1b8a2c-0d4e-4f6a-9b3c-1e2d3f4a5b6c, -,"
        r" cairn:ol-job\:airflow/nightly_orders)",
        r"activity(cairn:run\:fraud/train-7, 2026-03-01T12:00:00+00:00,"
        r" 2026-03-01T12:30:00+00:00, [",
        r"wasAttributedTo(cairn:model\:fraud/churn@3, cairn:team\:fraud)",
        r"agent(cairn:team\:fraud, [prov:type='prov:Organization'",
    ]:
        assert statement in text, statement


# ---------------------------------------------------------------------------------------------
# One relation per edge, one element per node


def test_every_edge_type_and_node_kind_is_covered() -> None:
    assert {t for _, t, _ in EDGES} == set(EdgeType)
    assert {n.kind for n in NODES} == set(NodeKind)
    assert set(EXPECTED_BY_EDGE) == set(EDGES)


@pytest.mark.parametrize("edge", EDGES, ids=lambda e: f"{e[0]}-{e[1]}-{e[2]}")
def test_each_edge_becomes_exactly_its_relation(edge: tuple[str, EdgeType, str]) -> None:
    document = prov_document(graph(edges=[edge]))
    by_class = document.get_records(EXPECTED_BY_EDGE[edge][0])
    assert [signature(r) for r in by_class].count(EXPECTED_BY_EDGE[edge]) == 1
    # ...and nothing else besides what ownership adds.
    assert Counter(relations(document)) == Counter([EXPECTED_BY_EDGE[edge], *EXPECTED_OWNERSHIP])


def test_the_whole_graph_has_no_relation_unaccounted_for() -> None:
    document = prov_document(graph())
    expected = [*EXPECTED_BY_EDGE.values(), *EXPECTED_OWNERSHIP]
    assert Counter(relations(document)) == Counter(expected)


def test_every_node_and_team_is_one_element_of_its_class() -> None:
    document = prov_document(graph())
    elements = list(document.get_records(ProvElement))
    assert len(elements) == len(EXPECTED_ELEMENTS)
    for id_, (cls, types) in EXPECTED_ELEMENTS.items():
        record = element(document, id_)
        assert type(record) is cls, id_
        assert record.get_asserted_types() == types, id_
        assert all(isinstance(t, QualifiedName) for t in record.get_asserted_types())
    assert element(document, TX).get_attribute(PROV_LABEL) == {"fraud/transactions@2"}


def test_a_team_agent_acting_for_an_environment_is_a_delegation() -> None:
    prod = node(PROD, K.ENVIRONMENT, "platform", stage="production")
    document = prov_document(graph(nodes=[prod], edges=[], root=PROD))
    assert relations(document) == [(ProvDelegation, (q(PROD), q("team:platform"), None), NONE)]


def test_activity_times_and_attributes_are_kept() -> None:
    document = prov_document(graph())
    run = element(document, RUN)
    assert isinstance(run, ProvActivity)
    assert run.get_startTime() == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert run.get_endTime() == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert value(run, "status") == "succeeded"
    assert value(run, "run_kind") == "training"
    # The times went into PROV's slots, not into copies beside them.
    assert not run.get_attribute(C["started_at"])
    deployment = element(document, DEPLOYMENT)
    assert isinstance(deployment, ProvActivity)
    assert deployment.get_startTime() == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert deployment.get_endTime() is None
    assert (value(deployment, "environment"), value(deployment, "stage")) == ("prod", "production")
    assert value(deployment, "active") is True
    evaluation = element(document, EVALUATION)
    assert value(evaluation, "recorded_at") == datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    assert value(element(document, MODEL), "deprecated") is True


def test_a_run_without_times_has_none() -> None:
    run = node(RUN, K.RUN, "fraud", status="running", run_kind="training")
    record = element(prov_document(graph(nodes=[run], edges=[], root=RUN)), RUN)
    assert isinstance(record, ProvActivity)
    assert (record.get_startTime(), record.get_endTime()) == (None, None)


# ---------------------------------------------------------------------------------------------
# Names PROV-N cannot hold as they are

ODD_DATASET = 'ol-dataset:s3://my bucket/2024 "Q1" <final> [v2] (copy), a=b; 100%.csv.'
ODD_JOB = "ol-job:airflow/daily load #3 ? été\\x"
ODD_RUN = "ol-run:run 1"
# PN_LOCAL as written here: plain characters, %XX, or a backslash-escaped metacharacter.
PN_LOCAL = re.compile(r"(?:[A-Za-z0-9_~/@&+*?#$!-]|\.(?!$)|%[0-9A-F]{2}|\\[='(),\-:;\[\].])+")


def odd_graph() -> LineageGraph:
    nodes = [
        node(ODD_DATASET, K.OL_DATASET, namespace="s3://my bucket"),
        node(ODD_JOB, K.OL_JOB, namespace="airflow"),
        node(ODD_RUN, K.OL_RUN),
        node(TX, K.DATASET_VERSION, "fraud & co"),
    ]
    edges = [
        (ODD_JOB, E.EXECUTED_AS, ODD_RUN),
        (ODD_RUN, E.PRODUCED, ODD_DATASET),
        (ODD_DATASET, E.VERSIONED_AS, TX),
    ]
    return graph(nodes=nodes, edges=edges, root=ODD_DATASET)


def test_odd_open_lineage_names_still_give_prov_n_that_parses() -> None:
    with warnings.catch_warnings():
        # prov warns when it must change a name to write it: it must not have to.
        warnings.simplefilter("error")
        text = prov_n(odd_graph())
        back = ProvDocument.deserialize(content=text, format="provn", profile="strict")
    assert back == prov_document(odd_graph())
    for id_ in (ODD_DATASET, ODD_JOB, ODD_RUN, "team:fraud & co"):
        written = qualified_name(id_).provn_bare_representation()
        prefix, local = written.split(":", 1)
        assert prefix == "cairn"
        assert PN_LOCAL.fullmatch(local), written
        assert written in text
        # Nothing is lost: the IRI's local name decodes back to the id.
        assert unquote(qualified_name(id_).localpart) == id_
    # The label keeps the name as it is, as a PROV-N string (its quotes escaped).
    assert r'prov:label="s3://my bucket/2024 \"Q1\" <final>' in text


def test_odd_open_lineage_names_still_give_prov_json_that_deserialises() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = ProvDocument.deserialize(content=prov_json(odd_graph()), format="json")
    assert back == prov_document(odd_graph())
    [record] = back.get_record(C[qualified_name(ODD_DATASET).localpart])
    assert record.get_attribute(PROV_LABEL) == {ODD_DATASET.split(":", 1)[1]}


def test_names_differing_only_by_escaping_stay_apart() -> None:
    spaced, encoded = "ol-run:a b", "ol-run:a%20b"
    assert qualified_name(spaced) != qualified_name(encoded)


# ---------------------------------------------------------------------------------------------
# What the document is about


def test_a_partial_graph_says_so_on_its_root() -> None:
    document = prov_document(graph(partial=True, reason="depth", stopped_at=[TX, PROD]))
    root = element(document, MODEL)
    assert (value(root, "root"), value(root, "partial"), value(root, "reason")) == (
        True,
        True,
        "depth",
    )
    assert value(element(document, TX), "frontier") is True
    assert value(element(document, PROD), "frontier") is True
    assert not element(document, RUN).get_attribute(C["frontier"])
    assert not element(document, TX).get_attribute(C["root"])
    assert '"cairn:partial": true' in prov_json(graph(partial=True, reason="depth"))


def test_a_whole_graph_says_it_is_not_partial() -> None:
    root = element(prov_document(graph()), MODEL)
    assert (value(root, "root"), value(root, "partial")) == (True, False)
    assert not root.get_attribute(C["reason"])


# ---------------------------------------------------------------------------------------------
# Graphs that do not hold together


def test_a_root_outside_the_graph_is_refused() -> None:
    with pytest.raises(ValueError, match="root"):
        prov_document(graph(root="model:fraud/other@1"))


def test_an_edge_to_a_missing_node_is_refused() -> None:
    with pytest.raises(ValueError, match="not among the graph's nodes"):
        prov_document(graph(edges=[(TX, E.READ_BY, "run:fraud/missing")]))


def test_an_edge_between_kinds_its_type_does_not_join_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        prov_document(graph(edges=[(DEPLOYMENT, E.PRODUCED, TX)]))
