"""Lineage completeness reports: the registry, a team, a model or one version.

The counting is the database's (``cairn.store.completeness``); this service resolves the
scope a caller names and shapes the answer one level down from it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from cairn.core.completeness import (
    Check,
    CompletenessReport,
    Rollup,
    VersionCompleteness,
    rollup,
    version_completeness,
)
from cairn.core.errors import ValidationFailed
from cairn.core.names import Kind, parse_ref
from cairn.services.base import Service
from cairn.store import completeness as q
from cairn.store import lookup
from cairn.store import tables as t

REGISTRY = "registry"


def _rollup(id: str, c: q.Counts) -> Rollup:
    return rollup(
        id,
        versions=c.versions,
        complete=c.complete,
        present=c.present,
        production=c.production,
        validated=c.validated,
    )


def _total(parts: list[q.Counts]) -> q.Counts:
    """The counts of a scope from those of its parts: one pass over the versions, not two."""
    return q.Counts(
        group=(),
        versions=sum(c.versions for c in parts),
        complete=sum(c.complete for c in parts),
        present={check: sum(c.present[check] for c in parts) for check in Check},
        production=sum(c.production for c in parts),
        validated=sum(c.validated for c in parts),
    )


def _counted(flags: list[q.VersionFlags]) -> q.Counts:
    return q.Counts(
        group=(),
        versions=len(flags),
        complete=sum(1 for f in flags if len(f.present) == len(Check)),
        present={check: sum(1 for f in flags if check in f.present) for check in Check},
        production=sum(1 for f in flags if f.production),
        validated=sum(1 for f in flags if f.production and f.validated),
    )


def _version(f: q.VersionFlags) -> VersionCompleteness:
    return version_completeness(
        f"model:{f.team}/{f.model}@{f.version}",
        f.team,
        f.present,
        production=f.production,
        validated=f.validated,
    )


class CompletenessService(Service):
    def report(self, scope: str | None = None) -> CompletenessReport:
        """Completeness of ``scope``: ``registry`` (the default, with a rollup per team),
        ``team:<name>`` (a rollup per model), ``model:<team>/<name>`` (every version) or
        ``model:<team>/<name>@<n>`` (that version)."""
        scope = scope or REGISTRY
        with self.store.read() as conn:
            if scope == REGISTRY:
                teams = q.counts(conn, [], ("team",))
                return CompletenessReport(
                    scope=scope,
                    summary=_rollup(scope, _total(teams)),
                    parts=[_rollup(f"team:{c.group[0]}", c) for c in teams],
                )
            ref = parse_ref(scope)
            where: list[ColumnElement[bool]]
            if ref.kind is Kind.TEAM:
                team = ref.name  # parse_ref has checked it is a name
                where = [q.m.c.team_id == lookup.team_id(conn, team)]
                scope = f"team:{team}"
                models = q.counts(conn, where, ("team", "model"))
                return CompletenessReport(
                    scope=scope,
                    summary=_rollup(scope, _total(models)),
                    parts=[_rollup(f"model:{c.group[0]}/{c.group[1]}", c) for c in models],
                )
            if ref.kind is not Kind.MODEL:
                raise ValidationFailed(
                    f"{scope!r} is not a registry, team, model or model version",
                    field="scope",
                    rule="kind",
                    hint="e.g. registry, team:fraud, model:fraud/churn or model:fraud/churn@3",
                )
            key = lookup.entity_id(conn, ref)
            column = t.model_versions.c.id if ref.version else t.model_versions.c.model_id
            where = [column == key]
            flags = list(q.version_flags(conn, where))
        return CompletenessReport(
            scope=str(ref),
            summary=_rollup(str(ref), _counted(flags)),
            versions=[_version(f) for f in flags],
        )
