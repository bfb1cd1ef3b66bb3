"""Models and their versions: creation, registration (gapless, idempotent), updates, evaluations.

Version numbers come from a counter on the model row, read and bumped inside the serialized
write transaction: no ``max()+1`` scan, no retry loop, no gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cairn.core.entities import EvaluationResult, ImportReport, Model, ModelVersion
from cairn.core.events import EventDraft, EventType
from cairn.core.metadata import Metric
from cairn.core.names import Kind, canonical_name, parse_ref
from cairn.core.specs import (
    EvaluationSpec,
    ModelPatch,
    ModelSpec,
    VersionPatch,
    VersionSpec,
)
from cairn.services.base import Service, dataset_versions, new_id, page_cursor, page_size
from cairn.services.governance import remove_stale_aliases
from cairn.services.importing import VersionImport
from cairn.services.registration import Registration, evaluations, evaluations_payload
from cairn.services.schemas import patch_payload, resolve_facets, upgraded
from cairn.store import lookup, reads
from cairn.store import tables as t


class ModelService(Service):
    # -- models -----------------------------------------------------------------------------
    def create(self, spec: ModelSpec) -> Model:
        ref = parse_ref(spec.ref, kind=Kind.MODEL, versioned=False)
        with self.store.write(self.actor) as tx:
            team_id = lookup.vacant(tx.conn, t.models, ref)
            fields = spec.model_dump(mode="json", exclude={"ref", "facets"})
            payload = {
                "id": new_id(),
                "team_id": team_id,
                "name": ref.name,
                **fields,
                "latest_version": 0,
                "facets": resolve_facets(tx.conn, spec.facets),
            }
            tx.emit(EventDraft(EventType.MODEL_CREATED, str(ref), payload))
            return reads.models(tx.conn, reads.model_query().where(t.models.c.id == payload["id"]))[
                0
            ]

    def get(self, raw: str) -> Model:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=False)
        with self.store.read() as conn:
            model_id = lookup.entity_id(conn, ref)
            return reads.models(conn, reads.model_query().where(t.models.c.id == model_id))[0]

    def find(
        self, *, team: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[Model]:
        if team:
            return self._find_in_team(canonical_name(team, field="team"), limit, after)
        query = (
            reads.model_query().order_by(t.teams.c.name, t.models.c.name).limit(page_size(limit))
        )
        with self.store.read() as conn:
            if after:
                after_ref = parse_ref(after, kind=Kind.MODEL, versioned=False)
                query = query.where(
                    (t.teams.c.name > after_ref.namespace)
                    | ((t.teams.c.name == after_ref.namespace) & (t.models.c.name > after_ref.name))
                )
            return reads.models(conn, query)

    def _find_in_team(self, team: str, limit: int, after: str | None) -> list[Model]:
        """A team's page through a statement built once: the listing served most often."""
        params: dict[str, Any] = {"limit": page_size(limit), "after": ""}
        if after:
            after_ref = parse_ref(after, kind=Kind.MODEL, versioned=False)
            if str(after_ref.namespace) > team:
                params["limit"] = 0  # the cursor is past this team: nothing follows
            elif after_ref.namespace == team:
                params["after"] = after_ref.name
        with self.store.snapshot() as conn:
            params["team_id"] = lookup.team_id(conn, team)
            if not params["limit"]:
                return []
            return reads.fetch_models(conn, reads.MODELS_OF_TEAM, params)

    def update(self, raw: str, patch: ModelPatch, *, if_revision: int | None = None) -> Model:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=False)
        with self.store.write(self.actor) as tx:
            model_id = lookup.entity_id(tx.conn, ref)
            lookup.expect_revision(tx.conn, t.models, model_id, if_revision, str(ref))
            payload = patch_payload(tx.conn, model_id, patch)
            tx.emit(EventDraft(EventType.MODEL_UPDATED, str(ref), payload))
            return reads.models(tx.conn, reads.model_query().where(t.models.c.id == model_id))[0]

    # -- versions ---------------------------------------------------------------------------
    def register(self, spec: VersionSpec) -> ModelVersion:
        return self.register_many([spec])[0]

    def register_many(self, specs: Sequence[VersionSpec]) -> list[ModelVersion]:
        """Register versions in one transaction: all of them or none."""
        with self.store.write(self.actor) as tx:
            registration = Registration(tx)
            registration.prefetch(spec.model for spec in specs)
            return [registration.register(spec) for spec in specs]

    def import_versions(
        self,
        specs: Iterable[VersionSpec],
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Register a stream of versions, one transaction per batch of ``batch_size``
        (see :mod:`cairn.services.importing`)."""
        return VersionImport(self.store, self.actor, batch_size, progress).run(specs)

    def get_version(self, raw: str) -> ModelVersion:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=True)
        params = {"team": ref.namespace, "model": ref.name, "version": ref.version}
        with self.store.snapshot() as conn:
            found = reads.fetch_versions(conn, reads.VERSION_BY_NAME, params)
            if not found:
                lookup.entity_id(conn, ref)  # raises NotFound naming what is missing
            return found[0]

    def list_versions(self, raw: str, *, limit: int = 100, after: int = 0) -> list[ModelVersion]:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=False)
        page = {"after": page_cursor(after), "limit": page_size(limit)}
        with self.store.snapshot() as conn:
            model_id = lookup.entity_id(conn, ref)
            return reads.fetch_versions(
                conn, reads.VERSIONS_OF_MODEL, {**page, "model_id": model_id}
            )

    def update_version(
        self, raw: str, patch: VersionPatch, *, if_revision: int | None = None
    ) -> ModelVersion:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=True)
        with self.store.write(self.actor) as tx:
            version_id = lookup.entity_id(tx.conn, ref)
            lookup.expect_revision(tx.conn, t.model_versions, version_id, if_revision, str(ref))
            payload = patch_payload(tx.conn, version_id, patch)
            tx.emit(EventDraft(EventType.VERSION_UPDATED, str(ref), payload))
            remove_stale_aliases(tx, version_id)
            return reads.versions(
                tx.conn, reads.version_query().where(t.model_versions.c.id == version_id)
            )[0]

    def upgrade_facets(self, raw: str) -> list[str]:
        """Migrate every facet of a model or version to its newest schema; return what moved."""
        ref = parse_ref(raw, kind=Kind.MODEL)
        event = EventType.VERSION_UPDATED if ref.version else EventType.MODEL_UPDATED
        with self.store.write(self.actor) as tx:
            subject_id = lookup.entity_id(tx.conn, ref)
            moved: dict[str, dict[str, Any]] = {}
            for name, facet in reads.facets_of(tx.conn, [subject_id]).get(subject_id, {}).items():
                version, data = upgraded(tx.conn, name, facet.schema_version, facet.data)
                if version != facet.schema_version:
                    moved[name] = {
                        "schema_version": version,
                        "producer": facet.producer,
                        "data": data,
                    }
            if moved:
                tx.emit(
                    EventDraft(event, str(ref), {"id": subject_id, "changes": {}, "facets": moved})
                )
                if ref.version:
                    remove_stale_aliases(tx, subject_id)
            return [f"{name}/{facet['schema_version']}" for name, facet in moved.items()]

    # -- evaluations ------------------------------------------------------------------------
    def record_evaluation(self, spec: EvaluationSpec) -> EvaluationResult:
        ref = parse_ref(spec.version, kind=Kind.MODEL, versioned=True)
        metrics = [
            Metric(name=k, value=v, dataset=spec.dataset, slice=spec.slice, run=spec.run)
            for k, v in spec.metrics.items()
        ]
        with self.store.write(self.actor) as tx:
            version_id = lookup.entity_id(tx.conn, ref)
            dsv = dataset_versions(tx, [spec.dataset] if spec.dataset else [])
            runs = (
                {spec.run: lookup.entity_id(tx.conn, parse_ref(spec.run, kind=Kind.RUN))}
                if spec.run
                else {}
            )
            evaluation = evaluations_payload(evaluations(metrics), dsv, runs)[0]
            tx.emit(
                EventDraft(
                    EventType.EVALUATION_RECORDED,
                    str(ref),
                    {"version_id": version_id, **evaluation},
                )
            )
            remove_stale_aliases(tx, version_id)
            return EvaluationResult(
                id=f"evaluation:{evaluation['id']}",
                version=str(ref),
                dataset=str(parse_ref(spec.dataset, kind=Kind.DATASET)) if spec.dataset else None,
                slice=spec.slice,
                run=spec.run,
                metrics=dict(spec.metrics),
                recorded_at=tx.at,
                recorded_by=self.actor,
            )
