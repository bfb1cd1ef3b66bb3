"""A version's inputs and metrics kept on its row as a read returns them (``inputs_view``,
``metrics_view``), back-filled here from version_inputs, evaluations and metrics.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

import cairn.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BATCH = 2000

# Frozen here as they were at 0011, so that this migration keeps meaning what it meant.
_versions = sa.table(
    "model_versions",
    sa.column("id", sa.String),
    sa.column("inputs_view", cairn.store.types.JsonDoc),
    sa.column("metrics_view", cairn.store.types.JsonDoc),
)
_inputs = sa.table(
    "version_inputs",
    sa.column("version_id", sa.String),
    sa.column("dataset_version_id", sa.String),
    sa.column("position", sa.Integer),
    sa.column("digest", sa.String),
)
_evaluations = sa.table(
    "evaluations",
    sa.column("id", sa.String),
    sa.column("version_id", sa.String),
    sa.column("dataset_version_id", sa.String),
    sa.column("slice", sa.String),
    sa.column("run_id", sa.String),
    sa.column("recorded_at", cairn.store.types.UTCDateTime),
)
_metrics = sa.table(
    "metrics",
    sa.column("evaluation_id", sa.String),
    sa.column("name", sa.String),
    sa.column("value", sa.Float),
)
_teams = sa.table("teams", sa.column("id", sa.String), sa.column("name", sa.String))
_datasets = sa.table(
    "datasets", sa.column("id", sa.String), sa.column("team_id", sa.String), sa.column("name")
)
_dataset_versions = sa.table(
    "dataset_versions",
    sa.column("id", sa.String),
    sa.column("dataset_id", sa.String),
    sa.column("version", sa.Integer),
)
_runs = sa.table(
    "runs", sa.column("id", sa.String), sa.column("team_id", sa.String), sa.column("name")
)


def _names(conn: sa.Connection) -> tuple[dict[str, str], dict[str, str]]:
    """Every dataset version's and run's reference, by surrogate key."""
    dataset_versions = {
        r.id: f"dataset:{r.team}/{r.name}@{r.version}"
        for r in conn.execute(
            sa.select(
                _dataset_versions.c.id,
                _teams.c.name.label("team"),
                _datasets.c.name,
                _dataset_versions.c.version,
            )
            .join(_datasets, _datasets.c.id == _dataset_versions.c.dataset_id)
            .join(_teams, _teams.c.id == _datasets.c.team_id)
        )
    }
    runs = {
        r.id: f"run:{r.team}/{r.name}"
        for r in conn.execute(
            sa.select(_runs.c.id, _teams.c.name.label("team"), _runs.c.name).join(
                _teams, _teams.c.id == _runs.c.team_id
            )
        )
    }
    return dataset_versions, runs


def _backfill(conn: sa.Connection) -> None:
    dataset_versions, runs = _names(conn)
    ids = [r.id for r in conn.execute(sa.select(_versions.c.id).order_by(_versions.c.id))]
    update = (
        sa.update(_versions)
        .where(_versions.c.id == sa.bindparam("key"))
        .values(inputs_view=sa.bindparam("inputs"), metrics_view=sa.bindparam("metrics"))
    )
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        inputs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in conn.execute(
            sa.select(_inputs)
            .where(_inputs.c.version_id.in_(chunk))
            .order_by(_inputs.c.version_id, _inputs.c.position)
        ):
            inputs[r.version_id].append(
                {"id": dataset_versions[r.dataset_version_id], "digest": r.digest}
            )
        metrics: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in conn.execute(
            sa.select(
                _evaluations.c.version_id,
                _evaluations.c.dataset_version_id,
                _evaluations.c.slice,
                _evaluations.c.run_id,
                _metrics.c.name,
                _metrics.c.value,
            )
            .join(_evaluations, _evaluations.c.id == _metrics.c.evaluation_id)
            .where(_evaluations.c.version_id.in_(chunk))
            .order_by(_evaluations.c.recorded_at, _evaluations.c.id, _metrics.c.name)
        ):
            metrics[r.version_id].append(
                {
                    "name": r.name,
                    "value": r.value,
                    "dataset": dataset_versions.get(r.dataset_version_id),
                    "slice": r.slice,
                    "run": runs.get(r.run_id),
                }
            )
        rows = [
            {"key": i, "inputs": inputs.get(i, []), "metrics": metrics.get(i, [])}
            for i in chunk
            if i in inputs or i in metrics
        ]
        if rows:
            conn.execute(update, rows)


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("inputs_view", cairn.store.types.JsonDoc, server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "metrics_view", cairn.store.types.JsonDoc, server_default="[]", nullable=False
            )
        )
    _backfill(op.get_bind())


def downgrade() -> None:
    # SQLite drops a column in place (3.35+); the default, recreating the table, would fail
    # on the foreign keys that point at it.
    with op.batch_alter_table("model_versions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("metrics_view")
        batch_op.drop_column("inputs_view")
