"""Lineage: the graph around a node, impact analysis, upstream changes, edges, and the
OpenLineage endpoint (``POST /api/v1/lineage``, where the OpenLineage HTTP transport sends)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from cairn.core import completeness as cp
from cairn.core import lineage as lg
from cairn.core import prov
from cairn.core import reconcile as rc
from cairn.core.access import Action
from cairn.core.names import Kind
from cairn.core.specs import Spec
from cairn.server.routes import Reg
from cairn.server.routing import CairnRoute
from cairn.server.security import Facts, namespace, requires

router = APIRouter(route_class=CairnRoute, tags=["lineage"])

Node = Annotated[str, Query(min_length=3, max_length=2100, description="a node identifier")]
Depth = Annotated[int, Query(ge=1, le=lg.MAX_DEPTH)]
NodeLimit = Annotated[int, Query(ge=1, le=lg.MAX_NODE_LIMIT)]


class EdgeSpec(Spec):
    source: Annotated[str, Body(min_length=3, max_length=2100)]
    type: lg.EdgeType
    target: Annotated[str, Body(min_length=3, max_length=2100)]


_OWNED = (("model", Kind.MODEL), ("dataset", Kind.DATASET), ("feature-view", Kind.FEATURE_VIEW))


def _owner(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    prefix = raw.partition(":")[0]
    kind = dict(_OWNED).get(prefix) or (Kind.RUN if prefix == "run" else None)
    return namespace(raw, kind) if kind else None


def _edge_team(facts: Facts) -> str | None:
    """An edge is the business of the team owning its target, else its source's: what it
    asserts is "this shaped that". Between nodes no team owns, it is an admin's."""
    held = facts.body if isinstance(facts.body, dict) else facts.query
    return _owner(held.get("target")) or _owner(held.get("source"))


@router.get("/lineage/graph", response_model=lg.LineageGraph)
@requires(Action.READ)
def lineage_graph(
    reg: Reg,
    node: Node,
    direction: Annotated[str, Query(pattern="^(upstream|downstream|both)$")] = "both",
    depth: Depth = lg.DEFAULT_DEPTH,
    edge_type: Annotated[list[lg.EdgeType] | None, Query(max_length=20)] = None,
    node_kind: Annotated[list[lg.NodeKind] | None, Query(max_length=20)] = None,
    limit: NodeLimit = lg.DEFAULT_NODE_LIMIT,
) -> lg.LineageGraph:
    return reg.lineage(
        node,
        direction=direction,
        depth=depth,
        edge_types=edge_type,
        node_kinds=node_kind,
        limit=limit,
    )


PROV_N = "text/provenance-notation"


@router.get(
    "/lineage/prov",
    response_class=Response,
    responses={
        200: {
            "description": "W3C PROV-JSON or PROV-N of the graph around the node",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                PROV_N: {"schema": {"type": "string"}},
            },
        }
    },
)
@requires(Action.READ)
def lineage_prov(
    reg: Reg,
    node: Node,
    direction: Annotated[str, Query(pattern="^(upstream|downstream|both)$")] = "upstream",
    depth: Depth = lg.DEFAULT_DEPTH,
    format: Annotated[str, Query(pattern="^(json|provn)$")] = "json",
    limit: NodeLimit = lg.DEFAULT_NODE_LIMIT,
) -> Response:
    """A node's provenance (by default what shaped it) as W3C PROV, for other tools to read."""
    graph = reg.lineage(node, direction=direction, depth=depth, limit=limit)
    if format == "provn":
        return Response(prov.prov_n(graph), media_type=PROV_N)
    return Response(prov.prov_json(graph), media_type="application/json")


@router.get("/lineage/impact", response_model=lg.ImpactReport)
@requires(Action.READ)
def lineage_impact(
    reg: Reg, node: Node, depth: Depth = lg.MAX_DEPTH, limit: NodeLimit = lg.MAX_NODE_LIMIT
) -> lg.ImpactReport:
    return reg.impact(node, depth=depth, limit=limit)


@router.get("/lineage/changes", response_model=lg.UpstreamChange)
@requires(Action.READ)
def lineage_changes(reg: Reg, before: Node, after: Node) -> lg.UpstreamChange:
    return reg.upstream_changes(before, after)


@router.get("/lineage/completeness", response_model=cp.CompletenessReport)
@requires(Action.READ)
def lineage_completeness(
    reg: Reg,
    scope: Annotated[
        str,
        Query(
            min_length=3,
            max_length=200,
            pattern=r"^(registry|team:[^/@]+|model:[^/@]+/[^/@]+(@[0-9]+)?)$",
            description="registry, team:<name>, model:<team>/<name> or model:<team>/<name>@<n>",
        ),
    ] = "registry",
) -> cp.CompletenessReport:
    return reg.lineage_report(scope)


Identity = Annotated[str, Body(min_length=3, max_length=2100)]


class AliasSpec(Spec):
    canonical: Identity
    alias: Identity


@router.get("/lineage/aliases", response_model=list[lg.IdentityAlias])
@requires(Action.READ)
def list_identity_aliases(reg: Reg) -> list[lg.IdentityAlias]:
    return reg.list_identity_aliases()


# OpenLineage datasets belong to no team: whoever may report events naming them may say that
# two names are one dataset.
@router.post("/lineage/aliases", status_code=201, response_model=lg.IdentityAlias)
@requires(Action.REPORT_LINEAGE)
def add_identity_alias(spec: AliasSpec, reg: Reg) -> lg.IdentityAlias:
    return reg.add_identity_alias(spec.canonical, spec.alias)


@router.delete("/lineage/aliases", status_code=204, response_class=Response)
@requires(Action.REPORT_LINEAGE)
def remove_identity_alias(reg: Reg, alias: Node) -> Response:
    reg.remove_identity_alias(alias)
    return Response(status_code=204)


@router.get("/lineage/identities", response_model=rc.CairnIdentities)
@requires(Action.READ)
def known_identities(reg: Reg) -> rc.CairnIdentities:
    return reg.known_identities()


@router.post("/lineage/edges", status_code=201, response_model=lg.LineageEdge)
@requires(Action.WRITE, _edge_team)
def add_lineage_edge(spec: EdgeSpec, reg: Reg) -> lg.LineageEdge:
    return reg.add_lineage_edge(spec.source, spec.type, spec.target)


@router.delete("/lineage/edges", status_code=204, response_class=Response)
@requires(Action.WRITE, _edge_team)
def remove_lineage_edge(
    reg: Reg, source: Node, type: Annotated[lg.EdgeType, Query()], target: Node
) -> Response:
    reg.remove_lineage_edge(source, type, target)
    return Response(status_code=204)


@router.post("/lineage", status_code=201, response_model=lg.LineageIngest)
@requires(Action.REPORT_LINEAGE)
def report_lineage(
    reg: Reg,
    events: Annotated[
        dict[str, Any] | list[dict[str, Any]],
        Body(description="an OpenLineage run, dataset or job event, or a list of them"),
    ],
) -> lg.LineageIngest:
    return reg.report_lineage(events if isinstance(events, list) else [events])
