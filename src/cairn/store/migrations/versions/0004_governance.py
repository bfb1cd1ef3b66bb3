"""Governance: versioned policies, transition requests with their approvals, model aliases.

All four are projections of the event log.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cairn.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_policies_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint(
            "team_id", "name", "version", name=op.f("uq_policies_team_id_name_version")
        ),
    )
    op.create_table(
        "transition_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("release_notes", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column(
            "policies",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "unmet",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_comment", sa.String(length=500), nullable=True),
        sa.Column("created_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IS NULL OR status IN ('pending', 'approved', 'rejected', 'refused', 'void')",
            name=op.f("ck_transition_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_transition_requests_model_id_models")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_transition_requests_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_requests")),
    )
    with op.batch_alter_table("transition_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transition_requests_model_id_status"),
            ["model_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_transition_requests_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_aliases_model_id_models")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["transition_requests.id"],
            name=op.f("fk_model_aliases_request_id_transition_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_aliases_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_model_aliases")),
    )
    with op.batch_alter_table("model_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_aliases_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "transition_approvals",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", cairn.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["transition_requests.id"],
            name=op.f("fk_transition_approvals_request_id_transition_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", "approved_by", name=op.f("pk_transition_approvals")),
    )


def downgrade() -> None:
    op.drop_table("transition_approvals")
    with op.batch_alter_table("model_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_aliases_version_id"))

    op.drop_table("model_aliases")
    with op.batch_alter_table("transition_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transition_requests_version_id"))
        batch_op.drop_index(batch_op.f("ix_transition_requests_model_id_status"))

    op.drop_table("transition_requests")
    op.drop_table("policies")
