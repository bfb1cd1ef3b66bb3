"""Drop the index on metric name and value.

It was laid down for metric queries across versions ("auc > 0.9"), which nothing runs yet;
the discovery work will index what its queries need. Until then it cost more than any other
structure on the write path: its inserts land at random places, so at a million versions each
batch dirtied most of its pages (about 12 KB of write-ahead log per version registered).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_metrics_name_value", table_name="metrics")


def downgrade() -> None:
    op.create_index("ix_metrics_name_value", "metrics", ["name", "value"], unique=False)
