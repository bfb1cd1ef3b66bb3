"""Lineage aliases: other names of an outside dataset identity, each resolved to a canonical
node (none yet, so nothing to back-fill); and the match key of every OpenLineage dataset node,
back-filled here, by which a likely twin of a newly reported name is found.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cairn.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


_BATCH = 5000


def _backfill_match_keys() -> None:
    from cairn.core.reconcile import match_text

    nodes = sa.table(
        "lineage_nodes",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("namespace", sa.String),
        sa.column("name", sa.String),
        sa.column("match_key", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(nodes.c.id, nodes.c.namespace, nodes.c.name).where(nodes.c.kind == "ol-dataset")
    ).all()
    update = (
        sa.update(nodes)
        .where(nodes.c.id == sa.bindparam("key"))
        .values(match_key=sa.bindparam("match"))
    )
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        conn.execute(
            update, [{"key": r.id, "match": match_text(r.namespace, r.name)} for r in batch]
        )


def upgrade() -> None:
    with op.batch_alter_table("lineage_nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("match_key", sa.String(length=2000), nullable=True))
        batch_op.create_index(batch_op.f("ix_lineage_nodes_match_key"), ["match_key"])
    _backfill_match_keys()
    op.create_table(
        "lineage_aliases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("namespace", sa.String(length=1000), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("canonical_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_aliases")),
    )
    with op.batch_alter_table("lineage_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lineage_aliases_canonical_id"), ["canonical_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lineage_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_nodes_match_key"))
        batch_op.drop_column("match_key")
    with op.batch_alter_table("lineage_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_aliases_canonical_id"))
    op.drop_table("lineage_aliases")
