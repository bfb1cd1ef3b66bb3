"""Access: principals and their team roles (projections), API tokens and the access log.

Tokens are credentials and the access log records reads, so neither is kept in the event
log; both are plain tables here.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cairn.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = cairn.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("display_name", sa.String(length=500), nullable=True),
        sa.Column("registry_role", sa.String(length=20), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IS NULL OR kind IN ('user', 'service')", name=op.f("ck_principals_kind")
        ),
        sa.CheckConstraint(
            "registry_role IS NULL OR registry_role IN ('admin', 'auditor')",
            name=op.f("ck_principals_registry_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principals")),
        sa.UniqueConstraint("name", name=op.f("uq_principals_name")),
    )
    op.create_table(
        "team_roles",
        sa.Column("principal_id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IS NULL OR role IN ('viewer', 'contributor', 'approver', 'admin')",
            name=op.f("ck_team_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["principals.id"], name=op.f("fk_team_roles_principal_id_principals")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_roles_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("principal_id", "team_id", name=op.f("pk_team_roles")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("team_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_roles_team_id"), ["team_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("principal_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=True),
        sa.Column("revoked_at", _UTC, nullable=True),
        sa.Column("last_used_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_principal_id"), ["principal_id"], unique=False
        )

    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column("team", sa.String(length=63), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('allowed', 'denied', 'failed')",
            name=op.f("ck_access_log_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_principal"), ["principal"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_principal"))
        batch_op.drop_index(batch_op.f("ix_access_log_at"))
    op.drop_table("access_log")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_principal_id"))
    op.drop_table("api_tokens")
    with op.batch_alter_table("team_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_roles_team_id"))
    op.drop_table("team_roles")
    op.drop_table("principals")
