"""Lineage aliases: other names of an outside dataset identity, each resolved to a canonical
node. A new registry has none, so there is nothing to back-fill.

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


def upgrade() -> None:
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
    with op.batch_alter_table("lineage_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_aliases_canonical_id"))
    op.drop_table("lineage_aliases")
