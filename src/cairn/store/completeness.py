"""Completeness checks of model versions as SQL: one row of 0/1 flags per version, counted
in the database when a rollup is wanted, so a registry-wide report never loads its versions.

Checks read the lineage graph (so OpenLineage runs and edges added by hand count like
registered inputs) and the governance tables; see :mod:`cairn.core.completeness`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, case, exists, func, or_, select

from cairn.core.completeness import Check
from cairn.core.governance import RequestStatus
from cairn.core.lineage import EdgeType, NodeKind
from cairn.core.metadata import Stage
from cairn.store import tables as t

_DATA = [
    str(k) for k in (NodeKind.DATASET_VERSION, NodeKind.FEATURE_VIEW_VERSION, NodeKind.OL_DATASET)
]
_RUNS = [str(NodeKind.RUN), str(NodeKind.OL_RUN)]
PRODUCTION_ALIAS = "production"

mv, m, tm = t.model_versions, t.models, t.teams


def _producers() -> Select[Any]:
    """The runs (registered or OpenLineage) that produced the version in hand."""
    e = t.lineage_edges.alias("producer")
    # Two levels down from the versions: correlation must be said, or SQL gets a cross join.
    return (
        select(e.c.source_id)
        .where(
            e.c.target_id == mv.c.id,
            e.c.type == str(EdgeType.PRODUCED),
            e.c.source_kind.in_(_RUNS),
        )
        .correlate(mv)
    )


def _edge_into(
    target: Any, types: list[EdgeType], kinds: list[str] | None = None
) -> ColumnElement[bool]:
    """An edge of one of ``types`` (from one of ``kinds``) into ``target`` (a column, or a
    subquery of keys)."""
    e = t.lineage_edges.alias()
    ends = e.c.target_id.in_(target) if isinstance(target, Select) else e.c.target_id == target
    where = [ends, e.c.type.in_([str(x) for x in types])]
    if kinds:
        where.append(e.c.source_kind.in_(kinds))
    return exists().where(*where)


def _checks() -> dict[Check, ColumnElement[bool]]:
    ev = t.evaluations
    runtime = or_(
        mv.c.dependencies[("runtime", "python")].as_string().is_not(None),
        mv.c.dependencies[("runtime", "image")].as_string().is_not(None),
    )
    return {
        Check.TRAINING_DATA: or_(
            _edge_into(mv.c.id, [EdgeType.TRAINED, EdgeType.DERIVED_FROM], _DATA),
            _edge_into(_producers(), [EdgeType.READ_BY], _DATA),
        ),
        Check.CODE: _edge_into(_producers(), [EdgeType.EXECUTED_AS]),
        Check.ENVIRONMENT: or_(_edge_into(_producers(), [EdgeType.HOSTED]), runtime),
        Check.EVALUATION: exists().where(
            ev.c.version_id == mv.c.id, ev.c.dataset_version_id.is_not(None)
        ),
        Check.APPROVAL: exists().where(
            t.transition_requests.c.version_id == mv.c.id,
            t.transition_requests.c.status == str(RequestStatus.APPROVED),
        ),
    }


def _production() -> ColumnElement[bool]:
    d, env, a = t.deployments, t.environments, t.model_aliases
    return or_(
        exists().where(
            d.c.version_id == mv.c.id,
            d.c.retired_at.is_(None),
            env.c.id == d.c.environment_id,
            env.c.stage == str(Stage.PRODUCTION),
        ),
        exists().where(a.c.version_id == mv.c.id, a.c.alias == PRODUCTION_ALIAS),
    )


def _validated() -> ColumnElement[bool]:
    """Evaluated on a registered dataset version that is not among its training inputs."""
    ev, vi = t.evaluations, t.version_inputs
    trained_on = (
        exists()
        .where(vi.c.version_id == mv.c.id, vi.c.dataset_version_id == ev.c.dataset_version_id)
        .correlate(mv, ev)
    )
    return exists().where(
        ev.c.version_id == mv.c.id, ev.c.dataset_version_id.is_not(None), ~trained_on
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _flags(where: list[ColumnElement[bool]]) -> Any:
    """One row per version in scope: its team, model and version, and a 0/1 column per check,
    ``production`` and ``validated``."""
    columns = [_flag(cond).label(str(check)) for check, cond in _checks().items()]
    query = (
        select(
            tm.c.name.label("team"),
            m.c.name.label("model"),
            mv.c.version,
            *columns,
            _flag(_production()).label("production"),
            _flag(_validated()).label("validated"),
        )
        .join(m, m.c.id == mv.c.model_id)
        .join(tm, tm.c.id == m.c.team_id)
    )
    return query.where(*where) if where else query


@dataclass(frozen=True, slots=True)
class VersionFlags:
    team: str
    model: str
    version: int
    present: set[Check]
    production: bool
    validated: bool


def version_flags(conn: Connection, where: list[ColumnElement[bool]]) -> Iterator[VersionFlags]:
    query = _flags(where).order_by(tm.c.name, m.c.name, mv.c.version)
    for r in conn.execute(query).mappings():
        yield VersionFlags(
            team=r["team"],
            model=r["model"],
            version=r["version"],
            present={c for c in Check if r[str(c)]},
            production=bool(r["production"]),
            validated=bool(r["validated"]),
        )


@dataclass(frozen=True, slots=True)
class Counts:
    group: tuple[str, ...]  # the grouping values: (), (team,) or (team, model)
    versions: int
    complete: int
    present: dict[Check, int]
    production: int
    validated: int


def counts(conn: Connection, where: list[ColumnElement[bool]], by: tuple[str, ...]) -> list[Counts]:
    """The versions in scope counted per ``by`` (``team``, or ``team`` and ``model``)."""
    flags = _flags(where).subquery()
    every = and_(*[flags.c[str(c)] == 1 for c in Check])
    validated = and_(flags.c.production == 1, flags.c.validated == 1)  # coverage counts these
    group = [flags.c[name] for name in by]
    query = (
        select(
            *group,
            func.count().label("versions"),
            func.coalesce(func.sum(_flag(every)), 0).label("complete"),
            *[func.coalesce(func.sum(flags.c[str(c)]), 0).label(str(c)) for c in Check],
            func.coalesce(func.sum(flags.c.production), 0).label("production"),
            func.coalesce(func.sum(_flag(validated)), 0).label("validated"),
        )
        .group_by(*group)
        .order_by(*group)
    )
    return [
        Counts(
            group=tuple(r[name] for name in by),
            versions=int(r["versions"]),
            complete=int(r["complete"]),
            present={c: int(r[str(c)]) for c in Check},
            production=int(r["production"]),
            validated=int(r["validated"]),
        )
        for r in conn.execute(query).mappings()
    ]
