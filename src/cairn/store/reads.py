"""Read queries that build the entities callers see, in as few round trips as a list needs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

from cairn.core import entities as e
from cairn.core.metadata import Facet
from cairn.store import tables as t
from cairn.store.driver import Reader, fetch

_dataset_team = t.teams.alias("dataset_team")
_run_team = t.teams.alias("run_team")


@lru_cache(maxsize=64)
def _dataset_version_refs(size: int) -> Select[Any]:
    return (
        select(
            t.dataset_versions.c.id,
            _dataset_team.c.name.label("team"),
            t.datasets.c.name,
            t.dataset_versions.c.version,
        )
        .join(t.datasets, t.datasets.c.id == t.dataset_versions.c.dataset_id)
        .join(_dataset_team, _dataset_team.c.id == t.datasets.c.team_id)
        .where(_in(t.dataset_versions.c.id, size))
    )


@lru_cache(maxsize=64)
def _run_refs(size: int) -> Select[Any]:
    return (
        select(t.runs.c.id, _run_team.c.name.label("team"), t.runs.c.name)
        .join(_run_team, _run_team.c.id == t.runs.c.team_id)
        .where(_in(t.runs.c.id, size))
    )


_REFS_AT_ONCE = 512  # keys per statement: well under any driver's limit on parameters


def dataset_version_ids(conn: Reader, ids: Iterable[str | None]) -> dict[str, str]:
    """Surrogate key -> ``dataset:team/name@n`` for the given dataset versions."""
    return _refs(
        conn, ids, _dataset_version_refs, lambda r: f"dataset:{r.team}/{r.name}@{r.version}"
    )


def run_refs(conn: Reader, ids: Iterable[str | None]) -> dict[str, str]:
    """Surrogate key -> ``run:team/name`` for the given runs."""
    return _refs(conn, ids, _run_refs, lambda r: f"run:{r.team}/{r.name}")


def _refs(
    conn: Reader,
    ids: Iterable[str | None],
    statement: Callable[[int], Select[Any]],
    spelled: Callable[[Any], str],
) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    out: dict[str, str] = {}
    for start in range(0, len(wanted), _REFS_AT_ONCE):
        size, params = _padded(wanted[start : start + _REFS_AT_ONCE])
        for r in fetch(conn, statement(size), params):
            out[str(r.id)] = spelled(r)
    return out


def facets_of(conn: Reader, subject_ids: Sequence[str]) -> dict[str, dict[str, Facet]]:
    """The facets of each subject (a model or a version), by name."""
    out: dict[str, dict[str, Facet]] = defaultdict(dict)
    if subject_ids:
        size, ids = _padded(subject_ids)
        for r in fetch(conn, _facets_of(size), ids):
            out[r.subject_id][r.name] = Facet(
                name=r.name, schema_version=r.schema_version, producer=r.producer, data=r.data
            )
    return out


def _audit(r: Any) -> dict[str, Any]:
    return {"created_at": r.created_at, "updated_at": r.updated_at, "revision": r.revision}


def teams(conn: Connection, query: Select[Any]) -> list[e.Team]:
    return [
        e.Team(
            id=f"team:{r.name}",
            name=r.name,
            display_name=r.display_name,
            description=r.description,
            contact=r.contact,
            **_audit(r),
        )
        for r in conn.execute(query)
    ]


def model_query() -> Select[Any]:
    return select(t.models, t.teams.c.name.label("team")).join(
        t.teams, t.teams.c.id == t.models.c.team_id
    )


def models(conn: Connection, query: Select[Any]) -> list[e.Model]:
    """Models from any narrowing of :func:`model_query` (built per call)."""
    return _assemble_models(conn, conn.execute(query).all())


def fetch_models(conn: Reader, statement: Select[Any], params: dict[str, Any]) -> list[e.Model]:
    """Models from a statement built once (such as :data:`MODELS_OF_TEAM`), run with
    ``params``: the path for pages served often."""
    return _assemble_models(conn, fetch(conn, statement, params))


def _assemble_models(conn: Reader, rows: Sequence[Any]) -> list[e.Model]:
    if not rows:
        return []
    facets = facets_of(conn, [r.id for r in rows])
    return [
        e.Model(
            id=f"model:{r.team}/{r.name}",
            team=r.team,
            name=r.name,
            description=r.description,
            contact=r.contact,
            task=r.task,
            algorithm_family=r.algorithm_family,
            framework=r.framework,
            risk_class=r.risk_class,
            documentation_status=r.documentation_status,
            review_due=r.review_due,
            documentation=r.documentation,
            tags=r.tags,
            labels=r.labels,
            facets=facets.get(r.id, {}),
            latest_version=r.latest_version,
            created_by=r.created_by,
            deprecation=r.deprecation,
            last_review=r.last_review,
            **_audit(r),
        )
        for r in rows
    ]


MODELS_OF_TEAM = (
    model_query()
    .where(t.models.c.team_id == bindparam("team_id"), t.models.c.name > bindparam("after"))
    .order_by(t.models.c.name)
    .limit(bindparam("limit"))
)
"""A page of a team's models: ``team_id``, names after ``after``, at most ``limit``."""

_VERSION = (
    select(
        t.model_versions,
        t.teams.c.name.label("team"),
        t.models.c.name.label("model_name"),
        _run_team.c.name.label("run_team"),
        t.runs.c.name.label("run_name"),
    )
    .join(t.models, t.models.c.id == t.model_versions.c.model_id)
    .join(t.teams, t.teams.c.id == t.models.c.team_id)
    .outerjoin(t.runs, t.runs.c.id == t.model_versions.c.run_id)
    .outerjoin(_run_team, _run_team.c.id == t.runs.c.team_id)
)

VERSION_BY_NAME = _VERSION.where(
    t.teams.c.name == bindparam("team"),
    t.models.c.name == bindparam("model"),
    t.model_versions.c.version == bindparam("version"),
)
"""One version by ``team``, ``model`` and ``version`` number (run with :func:`fetch_versions`)."""

VERSIONS_OF_MODEL = (
    _VERSION.where(
        t.model_versions.c.model_id == bindparam("model_id"),
        t.model_versions.c.version > bindparam("after"),
    )
    .order_by(t.model_versions.c.version)
    .limit(bindparam("limit"))
)
"""A page of a model's versions: ``model_id``, numbers above ``after``, at most ``limit``."""


def version_query() -> Select[Any]:
    """Versions with their names; narrow it with ``.where`` and read it with :func:`versions`."""
    return _VERSION


def _padded(ids: Sequence[str]) -> tuple[int, dict[str, str]]:
    """``ids`` as parameters ``i0``… of an ``IN`` list whose length is a power of two.

    Statements are built and compiled once per list length; rounding up (repeating the last
    id, which ``IN`` ignores) keeps that to a dozen lengths however pages are sized.
    """
    size = 1 << (len(ids) - 1).bit_length()
    return size, dict(zip(_in_keys(size), [*ids, *[ids[-1]] * (size - len(ids))], strict=True))


@lru_cache(maxsize=64)
def _in_keys(size: int) -> tuple[str, ...]:
    return tuple(f"i{k}" for k in range(size))


def _in(column: Any, size: int) -> Any:
    return column.in_([bindparam(key) for key in _in_keys(size)])


@lru_cache(maxsize=64)
def _facets_of(size: int) -> Select[Any]:
    return select(t.facets).where(_in(t.facets.c.subject_id, size)).order_by(t.facets.c.name)


def _run_ref(team: str | None, name: str | None) -> str | None:
    return f"run:{team}/{name}" if name is not None else None


def fetch_versions(
    conn: Reader, statement: Select[Any], params: dict[str, Any]
) -> list[e.ModelVersion]:
    """Versions from a statement built once on :func:`version_query` (such as
    :data:`VERSION_BY_NAME`), run with ``params``: the fast path for reads served often."""
    return _assemble(conn, fetch(conn, statement, params))


def versions(conn: Connection, query: Select[Any]) -> list[e.ModelVersion]:
    """Versions from any narrowing of :func:`version_query` (built per call)."""
    return _assemble(conn, conn.execute(query).all())


def _assemble(conn: Reader, rows: Sequence[Any]) -> list[e.ModelVersion]:
    if not rows:
        return []
    facets = facets_of(conn, [r.id for r in rows])
    return [
        e.ModelVersion(
            id=f"model:{r.team}/{r.model_name}@{r.version}",
            model=f"model:{r.team}/{r.model_name}",
            version=r.version,
            artifact_uri=r.artifact_uri,
            digest=r.digest,
            description=r.description,
            run=_run_ref(r.run_team, r.run_name),
            inputs=r.inputs_view,
            metrics=r.metrics_view,
            dependencies=r.dependencies,
            tags=r.tags,
            labels=r.labels,
            facets=facets.get(r.id, {}),
            registered_by=r.registered_by,
            deprecation=r.deprecation,
            **_audit(r),
        )
        for r in rows
    ]


def dataset_query() -> Select[Any]:
    return select(t.datasets, t.teams.c.name.label("team")).join(
        t.teams, t.teams.c.id == t.datasets.c.team_id
    )


def datasets(conn: Connection, query: Select[Any]) -> list[e.Dataset]:
    return [
        e.Dataset(
            id=f"dataset:{r.team}/{r.name}",
            team=r.team,
            name=r.name,
            description=r.description,
            uri=r.uri,
            external_ids=r.external_ids,
            tags=r.tags,
            latest_version=r.latest_version,
            **_audit(r),
        )
        for r in conn.execute(query)
    ]


def dataset_version_query() -> Select[Any]:
    return (
        select(
            t.dataset_versions,
            t.teams.c.name.label("team"),
            t.datasets.c.name.label("dataset_name"),
        )
        .join(t.datasets, t.datasets.c.id == t.dataset_versions.c.dataset_id)
        .join(t.teams, t.teams.c.id == t.datasets.c.team_id)
    )


def dataset_versions(conn: Connection, query: Select[Any]) -> list[e.DatasetVersion]:
    return [
        e.DatasetVersion(
            id=f"dataset:{r.team}/{r.dataset_name}@{r.version}",
            dataset=f"dataset:{r.team}/{r.dataset_name}",
            version=r.version,
            uri=r.uri,
            digest=r.digest,
            fields=r.fields,
            row_count=r.row_count,
            created_by=r.created_by,
            **_audit(r),
        )
        for r in conn.execute(query)
    ]


def feature_view_query() -> Select[Any]:
    return select(t.feature_views, t.teams.c.name.label("team")).join(
        t.teams, t.teams.c.id == t.feature_views.c.team_id
    )


def feature_views(conn: Connection, query: Select[Any]) -> list[e.FeatureView]:
    return [
        e.FeatureView(
            id=f"feature-view:{r.team}/{r.name}",
            team=r.team,
            name=r.name,
            description=r.description,
            entities=r.entities,
            latest_version=r.latest_version,
            **_audit(r),
        )
        for r in conn.execute(query)
    ]


def feature_view_version_query() -> Select[Any]:
    return (
        select(
            t.feature_view_versions,
            t.teams.c.name.label("team"),
            t.feature_views.c.name.label("fv_name"),
        )
        .join(t.feature_views, t.feature_views.c.id == t.feature_view_versions.c.feature_view_id)
        .join(t.teams, t.teams.c.id == t.feature_views.c.team_id)
    )


def _sources(conn: Connection, table: Any, key: str, ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return out
    rows = conn.execute(select(table).where(table.c[key].in_(ids)).order_by(table.c.position)).all()
    names = dataset_version_ids(conn, [r.dataset_version_id for r in rows])
    for r in rows:
        out[getattr(r, key)].append(names[r.dataset_version_id])
    return out


def feature_view_versions(conn: Connection, query: Select[Any]) -> list[e.FeatureViewVersion]:
    rows = conn.execute(query).all()
    sources = _sources(
        conn, t.feature_view_sources, "feature_view_version_id", [r.id for r in rows]
    )
    return [
        e.FeatureViewVersion(
            id=f"feature-view:{r.team}/{r.fv_name}@{r.version}",
            feature_view=f"feature-view:{r.team}/{r.fv_name}",
            version=r.version,
            features=r.features,
            sources=sources.get(r.id, []),
            created_by=r.created_by,
            **_audit(r),
        )
        for r in rows
    ]


def run_query() -> Select[Any]:
    return (
        select(t.runs, t.teams.c.name.label("team"), t.environments.c.name.label("env_name"))
        .join(t.teams, t.teams.c.id == t.runs.c.team_id)
        .outerjoin(t.environments, t.environments.c.id == t.runs.c.environment_id)
    )


def runs(conn: Connection, query: Select[Any]) -> list[e.Run]:
    rows = conn.execute(query).all()
    inputs = _sources(conn, t.run_inputs, "run_id", [r.id for r in rows])
    return [
        e.Run(
            id=f"run:{r.team}/{r.name}",
            team=r.team,
            name=r.name,
            kind=r.kind,
            status=r.status,
            started_at=r.started_at,
            ended_at=r.ended_at,
            code=r.code,
            parameters=r.parameters,
            inputs=inputs.get(r.id, []),
            environment=f"environment:{r.env_name}" if r.env_name else None,
            **_audit(r),
        )
        for r in rows
    ]


def environments(conn: Connection, query: Select[Any]) -> list[e.Environment]:
    return [
        e.Environment(
            id=f"environment:{r.name}",
            name=r.name,
            stage=r.stage,
            description=r.description,
            runtime=r.runtime,
            hardware=r.hardware,
            **_audit(r),
        )
        for r in conn.execute(query)
    ]


def deployment_query() -> Select[Any]:
    return (
        select(
            t.deployments,
            t.environments.c.name.label("env_name"),
            t.model_versions.c.version,
            t.models.c.name.label("model_name"),
            t.teams.c.name.label("team"),
        )
        .join(t.environments, t.environments.c.id == t.deployments.c.environment_id)
        .join(t.model_versions, t.model_versions.c.id == t.deployments.c.version_id)
        .join(t.models, t.models.c.id == t.model_versions.c.model_id)
        .join(t.teams, t.teams.c.id == t.models.c.team_id)
    )


def deployments(conn: Connection, query: Select[Any]) -> list[e.Deployment]:
    return [
        e.Deployment(
            id=f"deployment:{r.id}",
            version=f"model:{r.team}/{r.model_name}@{r.version}",
            environment=f"environment:{r.env_name}",
            deployed_at=r.deployed_at,
            retired_at=r.retired_at,
            deployed_by=r.deployed_by,
            **_audit(r),
        )
        for r in conn.execute(query)
    ]


def schemas(conn: Connection, query: Select[Any]) -> list[e.SchemaVersion]:
    return [
        e.SchemaVersion(
            name=r.name,
            version=r.version,
            team=r.team,
            description=r.description,
            json_schema=r.json_schema,
            migration=r.migration,
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in conn.execute(query)
    ]


def schema_query() -> Select[Any]:
    return select(t.facet_schemas, t.teams.c.name.label("team")).outerjoin(
        t.teams, t.teams.c.id == t.facet_schemas.c.team_id
    )


def facet_models(stored: dict[str, dict[str, Any]]) -> dict[str, Facet]:
    """Facets in their stored (event payload) form -> :class:`Facet` values."""
    return {
        name: Facet(
            name=name,
            schema_version=f["schema_version"],
            producer=f.get("producer"),
            data=f["data"],
        )
        for name, f in stored.items()
    }
