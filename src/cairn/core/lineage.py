"""The lineage graph: what its nodes and edges are, how they are named, and what answers look like.

Nodes are entity versions — dataset, feature-view and model versions, runs, evaluations,
deployments, environments — plus what Cairn learns from outside: code references and the
datasets, jobs and runs OpenLineage producers report. An edge always points *downstream*, from
what came first to what it shaped, and its type names the relation::

    dataset:risk/tx@3 --read_by--> run:risk/train-7 --produced--> model:risk/churn@4
    model:risk/churn@4 --deployed_as--> deployment:… --runs_in--> environment:prod-eu

Which kinds an edge type may join is fixed here (:data:`EDGE_RULES`), so the graph stays typed
whoever adds to it. Environments are shared by many runs and deployments: a traversal may end
at one but never passes through one (a deployment's environment does not make every run
hosted there downstream of the deployment).

External nodes have no table of their own in the registry; their surrogate keys are derived
from their identity (:func:`external_key`), so replaying the log gives them the same keys.

    >>> parse_node("ol-dataset:postgres://db:5432/sales.orders").name
    'sales.orders'
    >>> parse_node("ol-dataset:postgres://db:5432/sales.orders").namespace
    'postgres://db:5432'
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cairn.core.errors import ValidationFailed
from cairn.core.lineage_bounds import DEFAULT_DEPTH as DEFAULT_DEPTH
from cairn.core.lineage_bounds import DEFAULT_NODE_LIMIT as DEFAULT_NODE_LIMIT
from cairn.core.lineage_bounds import MAX_DEPTH as MAX_DEPTH
from cairn.core.lineage_bounds import MAX_NODE_LIMIT as MAX_NODE_LIMIT
from cairn.core.names import Kind, Ref, parse_ref


class NodeKind(StrEnum):
    MODEL_VERSION = "model-version"
    DATASET_VERSION = "dataset-version"
    FEATURE_VIEW_VERSION = "feature-view-version"
    RUN = "run"
    EVALUATION = "evaluation"
    DEPLOYMENT = "deployment"
    ENVIRONMENT = "environment"
    CODE = "code"
    OL_DATASET = "ol-dataset"
    OL_JOB = "ol-job"
    OL_RUN = "ol-run"


#: Kinds that live in ``lineage_nodes`` (known by identity, not registered through Cairn).
EXTERNAL = frozenset({NodeKind.CODE, NodeKind.OL_DATASET, NodeKind.OL_JOB, NodeKind.OL_RUN})

#: Kinds a traversal may reach but never walks through.
TERMINAL = frozenset({NodeKind.ENVIRONMENT})

#: Data-like kinds: the sources an impact analysis starts from.
DATA = frozenset({NodeKind.DATASET_VERSION, NodeKind.FEATURE_VIEW_VERSION, NodeKind.OL_DATASET})


class EdgeType(StrEnum):
    READ_BY = "read_by"
    PRODUCED = "produced"
    TRAINED = "trained"
    DERIVED_FROM = "derived_from"
    EVALUATED_ON = "evaluated_on"
    EVALUATED_BY = "evaluated_by"
    DEPLOYED_AS = "deployed_as"
    RUNS_IN = "runs_in"
    HOSTED = "hosted"
    EXECUTED_AS = "executed_as"
    VERSIONED_AS = "versioned_as"


_N = NodeKind
_DATA_IN = frozenset({_N.DATASET_VERSION, _N.FEATURE_VIEW_VERSION, _N.OL_DATASET})
_RUNS = frozenset({_N.RUN, _N.OL_RUN})

#: edge type -> (kinds it may start at, kinds it may end at)
EDGE_RULES: dict[EdgeType, tuple[frozenset[NodeKind], frozenset[NodeKind]]] = {
    EdgeType.READ_BY: (_DATA_IN | {_N.MODEL_VERSION}, _RUNS),
    EdgeType.PRODUCED: (
        _RUNS | {_N.MODEL_VERSION},
        frozenset({_N.DATASET_VERSION, _N.OL_DATASET, _N.MODEL_VERSION, _N.EVALUATION}),
    ),
    EdgeType.TRAINED: (_DATA_IN, frozenset({_N.MODEL_VERSION})),
    EdgeType.DERIVED_FROM: (
        _DATA_IN | {_N.MODEL_VERSION},
        frozenset({_N.DATASET_VERSION, _N.FEATURE_VIEW_VERSION, _N.OL_DATASET, _N.MODEL_VERSION}),
    ),
    EdgeType.EVALUATED_ON: (_DATA_IN, frozenset({_N.EVALUATION})),
    EdgeType.EVALUATED_BY: (frozenset({_N.MODEL_VERSION}), frozenset({_N.EVALUATION})),
    EdgeType.DEPLOYED_AS: (frozenset({_N.MODEL_VERSION}), frozenset({_N.DEPLOYMENT})),
    EdgeType.RUNS_IN: (frozenset({_N.DEPLOYMENT}), frozenset({_N.ENVIRONMENT})),
    EdgeType.HOSTED: (frozenset({_N.ENVIRONMENT}), _RUNS),
    EdgeType.EXECUTED_AS: (frozenset({_N.CODE, _N.OL_JOB}), _RUNS),
    EdgeType.VERSIONED_AS: (frozenset({_N.OL_DATASET}), frozenset({_N.DATASET_VERSION})),
}


def check_edge(source: NodeKind, type_: EdgeType, target: NodeKind) -> None:
    """Refuse an edge its type does not allow between these kinds."""
    sources, targets = EDGE_RULES[type_]
    if source not in sources or target not in targets:
        allowed = ", ".join(
            f"{s} -> {t}" for s in sorted(sources) for t in sorted(targets) if s != t
        )
        raise ValidationFailed(
            f"a {type_} edge cannot lead from a {source} to a {target}",
            field="type",
            rule="edge-kinds",
            hint=f"{type_} joins {allowed}",
        )


#: The key of a dataset's ``external_ids`` naming it in OpenLineage (``namespace/name``): its
#: versions are then joined to that OpenLineage dataset by ``versioned_as`` edges.
OPENLINEAGE_ID = "openlineage"


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


# ---------------------------------------------------------------------------------------------
# Naming nodes

_KIND_OF_PREFIX: dict[str, NodeKind] = {
    "model": NodeKind.MODEL_VERSION,
    "dataset": NodeKind.DATASET_VERSION,
    "feature-view": NodeKind.FEATURE_VIEW_VERSION,
    "run": NodeKind.RUN,
    "evaluation": NodeKind.EVALUATION,
    "deployment": NodeKind.DEPLOYMENT,
    "environment": NodeKind.ENVIRONMENT,
    "code": NodeKind.CODE,
    "ol-dataset": NodeKind.OL_DATASET,
    "ol-job": NodeKind.OL_JOB,
    "ol-run": NodeKind.OL_RUN,
}
PREFIX_OF_KIND = {kind: prefix for prefix, kind in _KIND_OF_PREFIX.items()}
#: How an OpenLineage dataset's id starts: ``ol-dataset:`` then ``namespace/name``.
OL_DATASET_PREFIX = f"{PREFIX_OF_KIND[NodeKind.OL_DATASET]}:"

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
_NAMES_VERSIONS = {
    NodeKind.MODEL_VERSION: Kind.MODEL,
    NodeKind.DATASET_VERSION: Kind.DATASET,
    NodeKind.FEATURE_VIEW_VERSION: Kind.FEATURE_VIEW,
}
MAX_IDENTITY = 1000
# Surrogate keys of external nodes: UUIDv5 in a namespace of Cairn's own.
_EXTERNAL_NAMESPACE = uuid.UUID("6a1f0f4e-2b7c-5e55-9c2a-0c41c0a1b2a7")


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A node as a caller names it: its kind plus a registry identifier, a surrogate key
    (deployments and evaluations), or an external identity (namespace and name)."""

    kind: NodeKind
    ref: Ref | None = None
    key: str | None = None
    namespace: str = ""
    name: str = ""

    def __str__(self) -> str:
        if self.ref is not None:
            return str(self.ref)
        if self.key is not None:
            return f"{PREFIX_OF_KIND[self.kind]}:{self.key}"
        return external_ref(self.kind, self.namespace, self.name)


def external_ref(kind: NodeKind, namespace: str, name: str) -> str:
    prefix = PREFIX_OF_KIND[kind]
    if kind is NodeKind.OL_RUN:
        return f"{prefix}:{name}"
    if kind is NodeKind.CODE:
        return f"{prefix}:{namespace}@{name}" if name else f"{prefix}:{namespace}"
    return f"{prefix}:{namespace}/{name}"


def external_key(kind: NodeKind, namespace: str, name: str) -> str:
    """The surrogate key of an external node, the same on every replay of the log."""
    return str(uuid.uuid5(_EXTERNAL_NAMESPACE, f"{kind}\x00{namespace}\x00{name}"))


def split_dataset_name(text: str) -> tuple[str, str]:
    """``namespace/name`` as OpenLineage writes a dataset's identity.

    A namespace is a data source: ``scheme://authority`` (``postgres://db:5432``,
    ``s3://bucket``) or a plain word. Names may hold slashes (``path/to/file``), namespaces
    hold none after their authority, so the split is at the first slash after it.
    """
    start = text.index("://") + 3 if "://" in text else 0
    cut = text.find("/", start)
    if cut <= 0 or cut == len(text) - 1:
        raise ValidationFailed(
            f"{text!r} is not 'namespace/name'",
            field="id",
            rule="external-identity",
            hint="write the data source, a slash and the dataset's name, "
            "e.g. 'ol-dataset:postgres://db:5432/sales.orders'",
        )
    return text[:cut], text[cut + 1 :]


def _bounded(text: str, what: str) -> str:
    if not text or len(text) > MAX_IDENTITY or "\x00" in text:
        raise ValidationFailed(
            f"{what} must be 1 to {MAX_IDENTITY} characters without NUL",
            field="id",
            rule="external-identity",
        )
    return text


def parse_node(text: str) -> NodeRef:
    """Parse a node identifier: ``model:team/name@3``, ``deployment:<uuid>``,
    ``ol-dataset:<namespace>/<name>``, ``code:<repository>@<commit>`` …"""
    prefix, sep, body = text.partition(":")
    kind = _KIND_OF_PREFIX.get(prefix) if sep else None
    if kind is None:
        raise ValidationFailed(
            f"{text!r} does not name a lineage node",
            field="id",
            rule="kind",
            hint="prefix it with one of: " + ", ".join(f"{p}:" for p in _KIND_OF_PREFIX),
        )
    if kind in _NAMES_VERSIONS:
        return NodeRef(kind, ref=parse_ref(text, kind=_NAMES_VERSIONS[kind], versioned=True))
    if kind is NodeKind.RUN:
        return NodeRef(kind, ref=parse_ref(text, kind=Kind.RUN, versioned=False))
    if kind is NodeKind.ENVIRONMENT:
        return NodeRef(kind, ref=parse_ref(text, kind=Kind.ENVIRONMENT, versioned=False))
    if kind in (NodeKind.DEPLOYMENT, NodeKind.EVALUATION):
        if not _UUID.match(body):
            raise ValidationFailed(
                f"{text!r} is not '{prefix}:<id>'",
                field="id",
                rule="format",
                hint="an id is a UUID",
            )
        return NodeRef(kind, key=body)
    if kind is NodeKind.OL_RUN:
        return NodeRef(kind, namespace="", name=_bounded(body, "a run id"))
    if kind is NodeKind.CODE:
        repository, at, commit = body.rpartition("@")
        if not at or not _COMMIT.match(commit):
            repository, commit = body, ""
        return NodeRef(kind, namespace=_bounded(repository, "a repository"), name=commit)
    namespace, name = split_dataset_name(body)
    return NodeRef(
        kind, namespace=_bounded(namespace, "a namespace"), name=_bounded(name, "a name")
    )


# ---------------------------------------------------------------------------------------------
# Answers


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LineageNode(Frozen):
    """One node of an answer: its identifier, kind, a readable label and what a reader of a
    graph wants at a glance (owning team, environment stage, whether it is still active)."""

    id: str
    kind: NodeKind
    label: str
    team: str | None = None
    depth: int = 0
    attributes: dict[str, Any] = Field(default_factory=dict)


class LineageEdge(Frozen):
    source: str
    type: EdgeType
    target: str


class LineageGraph(Frozen):
    """The neighbourhood of a node. ``partial`` means a bound cut the walk short: ``stopped_at``
    names the nodes whose further edges were not followed, ``reason`` which bound it was."""

    root: str
    direction: list[Direction]
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    partial: bool = False
    reason: str | None = None
    stopped_at: list[str] = Field(default_factory=list)


class ImpactedDeployment(Frozen):
    id: str
    version: str
    environment: str
    stage: str
    deployed_at: datetime
    active: bool


class ImpactedVersion(Frozen):
    """A model version downstream of the source, how it is reached and who answers for it."""

    id: str
    team: str
    contact: str | None
    path: list[str]
    via: list[EdgeType]
    deployments: list[ImpactedDeployment] = Field(default_factory=list)


class ImpactReport(Frozen):
    source: str
    versions: list[ImpactedVersion]
    deployments: list[ImpactedDeployment]
    teams: dict[str, int]
    partial: bool = False
    reason: str | None = None
    stopped_at: list[str] = Field(default_factory=list)


class UpstreamChange(Frozen):
    """What shaped one version and not the other: nodes only before, only after, and nodes
    of the same thing at another version (``dataset:risk/tx@2`` -> ``@3``)."""

    before: str
    after: str
    removed: list[str]
    added: list[str]
    changed: list[tuple[str, str]]
    partial: bool = False


def versionless(node: str) -> str:
    """``dataset:risk/tx@3`` -> ``dataset:risk/tx``: what stays when only the version moved."""
    prefix, _, body = node.partition(":")
    if prefix in ("model", "dataset", "feature-view"):
        return f"{prefix}:{body.rsplit('@', 1)[0]}"
    return node


def upstream_change(
    before: str, after: str, was: set[str], now: set[str], *, partial: bool
) -> UpstreamChange:
    """Compare two upstream sets (node ids, excluding the two versions themselves)."""
    only_before, only_after = was - now, now - was
    moved: list[tuple[str, str]] = []
    by_stem = {versionless(n): n for n in only_after}
    for old in sorted(only_before):
        new = by_stem.get(versionless(old))
        if new is not None and new != old:
            moved.append((old, new))
    moved_old = {a for a, _ in moved}
    moved_new = {b for _, b in moved}
    return UpstreamChange(
        before=before,
        after=after,
        removed=sorted(only_before - moved_old),
        added=sorted(only_after - moved_new),
        changed=moved,
        partial=partial,
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One row of a walk: ``node`` reached at ``depth`` from ``parent`` over an edge."""

    node: str
    kind: NodeKind
    depth: int
    parent: str | None
    type: EdgeType | None


def shortest_tree(steps: list[Step]) -> dict[str, Step]:
    """The first (shallowest) way each node was reached: a spanning tree of the walk, from which
    one path per node follows. Ties go to the smallest parent key, so answers are stable."""
    best: dict[str, Step] = {}
    for step in steps:
        known = best.get(step.node)
        if (
            known is None
            or step.depth < known.depth
            or (
                step.depth == known.depth
                and (step.parent or "", step.type or "") < (known.parent or "", known.type or "")
            )
        ):
            best[step.node] = step
    return best


def path_to(tree: dict[str, Step], node: str) -> tuple[list[str], list[EdgeType]]:
    """Keys from the root to ``node`` along the tree, and the edge types between them."""
    keys: list[str] = []
    types: list[EdgeType] = []
    current: str | None = node
    while current is not None:
        keys.append(current)
        step = tree[current]
        if step.type is not None:
            types.append(step.type)
        current = step.parent
    keys.reverse()
    types.reverse()
    return keys, types


class PossibleTwin(Frozen):
    """A dataset name seen for the first time that looks like one Cairn knows already (the
    same last name parts): perhaps one dataset under two names. An alias would join them."""

    identity: str
    existing: list[str]


class LineageIngest(Frozen):
    """What a batch of OpenLineage events added: how many, the nodes they were about, and new
    dataset names that may be twins of known ones (said, never merged silently)."""

    events: int
    subjects: list[str]
    possible_twins: list[PossibleTwin] = Field(default_factory=list)


class IdentityAlias(Frozen):
    """Another name of an outside dataset (``ol-dataset:hive://metastore/b.x`` for
    ``ol-dataset:s3://b/x``): reports under either name are about one node, the canonical."""

    alias: str
    canonical: str
    created_by: str
    created_at: datetime
