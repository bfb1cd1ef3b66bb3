"""The lineage graph: external nodes and typed edges, back-filled from what is already recorded.

Both tables are projections: a rebuild derives the same rows from the log. Filling them here
means a registry upgraded in place answers lineage queries at once, without a rebuild.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cairn.store.types
from cairn.core.lineage import OPENLINEAGE_ID, EdgeType, NodeKind, split_dataset_name
from cairn.store import edges as graph

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (source, target, edge type, source kind, target kind, table, condition)
_IMPLIED = (
    (
        "dataset_version_id",
        "version_id",
        "trained",
        "dataset-version",
        "model-version",
        "version_inputs",
        None,
    ),
    ("run_id", "id", "produced", "run", "model-version", "model_versions", "run_id"),
    ("dataset_version_id", "run_id", "read_by", "dataset-version", "run", "run_inputs", None),
    ("environment_id", "id", "hosted", "environment", "run", "runs", "environment_id"),
    (
        "dataset_version_id",
        "feature_view_version_id",
        "derived_from",
        "dataset-version",
        "feature-view-version",
        "feature_view_sources",
        None,
    ),
    ("version_id", "id", "evaluated_by", "model-version", "evaluation", "evaluations", None),
    (
        "dataset_version_id",
        "id",
        "evaluated_on",
        "dataset-version",
        "evaluation",
        "evaluations",
        "dataset_version_id",
    ),
    ("run_id", "id", "produced", "run", "evaluation", "evaluations", "run_id"),
    ("version_id", "id", "deployed_as", "model-version", "deployment", "deployments", None),
    ("id", "environment_id", "runs_in", "deployment", "environment", "deployments", None),
)


def upgrade() -> None:
    edges = op.create_table(
        "lineage_edges",
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("source_kind", sa.String(length=24), nullable=False),
        sa.Column("target_kind", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "target_id", "type", name=op.f("pk_lineage_edges")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("lineage_edges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lineage_edges_target_id_source_kind"),
            ["target_id", "source_kind"],
            unique=False,
        )
    nodes = op.create_table(
        "lineage_nodes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("namespace", sa.String(length=1000), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column(
            "facets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_seen", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_nodes")),
        sa.UniqueConstraint(
            "kind", "namespace", "name", name=op.f("uq_lineage_nodes_kind_namespace_name")
        ),
    )
    assert edges is not None and nodes is not None
    _backfill(op.get_bind(), edges, nodes)


def _backfill(conn: sa.Connection, edges: sa.Table, nodes: sa.Table) -> None:
    for source, target, type_, source_kind, target_kind, table, present in _IMPLIED:
        where = f" WHERE {present} IS NOT NULL" if present else ""
        conn.execute(
            sa.text(
                "INSERT INTO lineage_edges (source_id, target_id, type, source_kind, target_kind) "
                f"SELECT {source}, {target}, '{type_}', '{source_kind}', '{target_kind}' "
                f"FROM {table}{where}"
            )
        )
    now = datetime.now(UTC)
    seen: set[str] = set()
    new_nodes: list[dict[str, object]] = []
    new_edges: list[dict[str, object]] = []
    runs = sa.table("runs", sa.column("id"), sa.column("code", sa.JSON()))
    for run in conn.execute(sa.select(runs.c.id, runs.c.code).where(runs.c.code.is_not(None))):
        if not run.code:
            continue
        node = graph.external_node(NodeKind.CODE, *graph.code_identity(run.code), now)
        if node["id"] not in seen:
            seen.add(str(node["id"]))
            new_nodes.append(node)
        new_edges.append(
            graph.edge(node["id"], NodeKind.CODE, EdgeType.EXECUTED_AS, run.id, NodeKind.RUN)
        )
    datasets = sa.table("datasets", sa.column("id"), sa.column("external_ids", sa.JSON()))
    versions = sa.table("dataset_versions", sa.column("id"), sa.column("dataset_id"))
    for dataset in conn.execute(sa.select(datasets.c.id, datasets.c.external_ids)):
        identity = (dataset.external_ids or {}).get(OPENLINEAGE_ID)
        if not identity:
            continue
        node = graph.external_node(NodeKind.OL_DATASET, *split_dataset_name(identity), now)
        if node["id"] not in seen:
            seen.add(str(node["id"]))
            new_nodes.append(node)
        for version in conn.execute(
            sa.select(versions.c.id).where(versions.c.dataset_id == dataset.id)
        ):
            new_edges.append(
                graph.edge(
                    node["id"],
                    NodeKind.OL_DATASET,
                    EdgeType.VERSIONED_AS,
                    version.id,
                    NodeKind.DATASET_VERSION,
                )
            )
    if new_nodes:
        conn.execute(nodes.insert(), new_nodes)
    if new_edges:
        conn.execute(edges.insert(), new_edges)


def downgrade() -> None:
    op.drop_table("lineage_nodes")
    with op.batch_alter_table("lineage_edges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_edges_target_id_source_kind"))
    op.drop_table("lineage_edges")
