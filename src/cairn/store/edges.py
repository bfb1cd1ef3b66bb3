"""The lineage edges (and external nodes) each event implies, as rows for the projector.

Registration, runs, feature-view versions, evaluations and deployments already say what
shaped what; these functions read that off their payloads, so the graph needs no second write
from the services and a rebuild restores it from the log as it restores every read table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cairn.core.lineage import EdgeType, NodeKind, external_key
from cairn.core.reconcile import match_text

Row = dict[str, Any]

_MV = NodeKind.MODEL_VERSION
_DV = NodeKind.DATASET_VERSION


def edge(
    source: str, source_kind: NodeKind, type_: EdgeType, target: str, target_kind: NodeKind
) -> Row:
    return {
        "source_id": source,
        "source_kind": str(source_kind),
        "type": str(type_),
        "target_id": target,
        "target_kind": str(target_kind),
    }


def external_node(kind: NodeKind, namespace: str, name: str, at: datetime) -> Row:
    return {
        "id": external_key(kind, namespace, name),
        "kind": str(kind),
        "namespace": namespace,
        "name": name,
        "state": None,
        "match_key": match_text(namespace, name) if kind is NodeKind.OL_DATASET else None,
        "facets": {},
        "first_seen": at,
        "last_seen": at,
    }


def evaluation_edges(version_id: str, evaluation: dict[str, Any]) -> list[Row]:
    key = evaluation["id"]
    rows = [edge(version_id, _MV, EdgeType.EVALUATED_BY, key, NodeKind.EVALUATION)]
    if evaluation.get("dataset_version_id"):
        dataset = evaluation["dataset_version_id"]
        rows.append(edge(dataset, _DV, EdgeType.EVALUATED_ON, key, NodeKind.EVALUATION))
    if evaluation.get("run_id"):
        rows.append(
            edge(evaluation["run_id"], NodeKind.RUN, EdgeType.PRODUCED, key, NodeKind.EVALUATION)
        )
    return rows


def version_edges(payload: dict[str, Any]) -> list[Row]:
    """A registered version: trained on its inputs, produced by its run, evaluated as given."""
    version_id = payload["id"]
    rows = [
        edge(item["dataset_version_id"], _DV, EdgeType.TRAINED, version_id, _MV)
        for item in payload.get("inputs", [])
    ]
    if payload.get("run_id"):
        rows.append(edge(payload["run_id"], NodeKind.RUN, EdgeType.PRODUCED, version_id, _MV))
    for evaluation in payload.get("evaluations", []):
        rows.extend(evaluation_edges(version_id, evaluation))
    return rows


def code_identity(code: dict[str, Any]) -> tuple[str, str]:
    return code["repository"], code.get("commit") or ""


def run_edges(payload: dict[str, Any], at: datetime) -> tuple[list[Row], list[Row]]:
    """A run: read its inputs, ran in its environment, executed its code. (edges, nodes)"""
    run_id = payload["id"]
    rows = [
        edge(dataset, _DV, EdgeType.READ_BY, run_id, NodeKind.RUN)
        for dataset in payload.get("inputs", [])
    ]
    if payload.get("environment_id"):
        rows.append(
            edge(
                payload["environment_id"],
                NodeKind.ENVIRONMENT,
                EdgeType.HOSTED,
                run_id,
                NodeKind.RUN,
            )
        )
    nodes: list[Row] = []
    if payload.get("code"):
        node = external_node(NodeKind.CODE, *code_identity(payload["code"]), at)
        nodes.append(node)
        rows.append(edge(node["id"], NodeKind.CODE, EdgeType.EXECUTED_AS, run_id, NodeKind.RUN))
    return rows, nodes


def feature_view_edges(payload: dict[str, Any]) -> list[Row]:
    return [
        edge(dataset, _DV, EdgeType.DERIVED_FROM, payload["id"], NodeKind.FEATURE_VIEW_VERSION)
        for dataset in payload.get("sources", [])
    ]


def deployment_edges(payload: dict[str, Any]) -> list[Row]:
    key = payload["id"]
    return [
        edge(payload["version_id"], _MV, EdgeType.DEPLOYED_AS, key, NodeKind.DEPLOYMENT),
        edge(
            key,
            NodeKind.DEPLOYMENT,
            EdgeType.RUNS_IN,
            payload["environment_id"],
            NodeKind.ENVIRONMENT,
        ),
    ]
