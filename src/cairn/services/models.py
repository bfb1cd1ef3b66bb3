"""Models and their versions: creation, registration (gapless, idempotent), updates, evaluations.

Version numbers come from a counter on the model row, read and bumped inside the serialized
write transaction: no ``max()+1`` scan, no retry loop, no gaps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from cairn.core.entities import DatasetInput, EvaluationResult, Model, ModelVersion
from cairn.core.errors import Conflict, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.metadata import Metric
from cairn.core.names import Kind, Ref, canonical_name, parse_ref
from cairn.core.specs import EvaluationSpec, ModelPatch, ModelSpec, VersionPatch, VersionSpec
from cairn.services.base import Service, dataset_versions, new_id, page_size
from cairn.services.schemas import resolve_facets, upgraded
from cairn.store import lookup, reads
from cairn.store import tables as t
from cairn.store.uow import Tx


def _model_row(conn: Connection, ref: Ref) -> Any:
    row = conn.execute(
        select(t.models.c.id, t.models.c.latest_version)
        .join(t.teams, t.teams.c.id == t.models.c.team_id)
        .where(t.teams.c.name == ref.namespace, t.models.c.name == ref.name)
    ).first()
    if row is None:
        lookup.entity_id(conn, ref.unversioned())
    return row


def _evaluations(
    metrics: Sequence[Metric], dsv: dict[str, tuple[str, str | None]], runs: dict[str, str]
) -> list[dict[str, Any]]:
    """Group metrics into one evaluation per (dataset, slice, run)."""
    groups: dict[tuple[str | None, str, str | None], dict[str, float]] = defaultdict(dict)
    for m in metrics:
        bucket = groups[(m.dataset, m.slice, m.run)]
        if m.name in bucket:
            raise ValidationFailed(
                f"metric {m.name!r} is given twice for the same dataset and slice",
                field="metrics",
                rule="unique",
            )
        bucket[m.name] = m.value
    return [
        {
            "id": new_id(),
            "dataset_version_id": dsv[d][0] if d else None,
            "slice": s,
            "run_id": runs[r] if r else None,
            "metrics": values,
        }
        for (d, s, r), values in groups.items()
    ]


class ModelService(Service):
    # -- models -----------------------------------------------------------------------------
    def create(self, spec: ModelSpec) -> Model:
        ref = parse_ref(spec.ref, kind=Kind.MODEL, versioned=False)
        with self.store.write(self.actor) as tx:
            team_id = lookup.team_id(tx.conn, str(ref.namespace))
            exists = tx.conn.execute(
                select(t.models.c.id).where(
                    t.models.c.team_id == team_id, t.models.c.name == ref.name
                )
            ).first()
            if exists:
                raise Conflict(f"{ref} already exists", id=str(ref))
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
        query = (
            reads.model_query().order_by(t.teams.c.name, t.models.c.name).limit(page_size(limit))
        )
        with self.store.read() as conn:
            if team:
                query = query.where(
                    t.models.c.team_id == lookup.team_id(conn, canonical_name(team, field="team"))
                )
            if after:
                after_ref = parse_ref(after, kind=Kind.MODEL, versioned=False)
                query = query.where(
                    (t.teams.c.name > after_ref.namespace)
                    | ((t.teams.c.name == after_ref.namespace) & (t.models.c.name > after_ref.name))
                )
            return reads.models(conn, query)

    def update(self, raw: str, patch: ModelPatch) -> Model:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=False)
        with self.store.write(self.actor) as tx:
            model_id = lookup.entity_id(tx.conn, ref)
            changes = patch.model_dump(mode="json", include=patch.model_fields_set - {"facets"})
            payload = {
                "id": model_id,
                "changes": changes,
                "facets": resolve_facets(tx.conn, patch.facets),
            }
            tx.emit(EventDraft(EventType.MODEL_UPDATED, str(ref), payload))
            return reads.models(tx.conn, reads.model_query().where(t.models.c.id == model_id))[0]

    # -- versions ---------------------------------------------------------------------------
    def register(self, spec: VersionSpec) -> ModelVersion:
        return self.register_many([spec])[0]

    def register_many(self, specs: Sequence[VersionSpec]) -> list[ModelVersion]:
        """Register versions in one transaction: all of them or none."""
        refs = [parse_ref(s.model, kind=Kind.MODEL, versioned=False) for s in specs]
        with self.store.write(self.actor) as tx:
            counters: dict[Ref, tuple[str, int]] = {}
            return [
                self._register_one(tx, spec, ref, counters)
                for spec, ref in zip(specs, refs, strict=True)
            ]

    def _existing(self, tx: Tx, model_id: str, spec: VersionSpec, ref: Ref) -> ModelVersion | None:
        if spec.idempotency_key is None:
            return None
        row = tx.conn.execute(
            select(t.model_versions.c.id, t.model_versions.c.digest).where(
                t.model_versions.c.model_id == model_id,
                t.model_versions.c.idempotency_key == spec.idempotency_key,
            )
        ).first()
        if row is None:
            return None
        if row.digest != spec.digest:
            raise Conflict(
                f"idempotency key {spec.idempotency_key!r} of {ref} was used for another artifact",
                hint="use a new idempotency key for a new artifact",
            )
        return reads.versions(
            tx.conn, reads.version_query().where(t.model_versions.c.id == row.id)
        )[0]

    def _register_one(
        self, tx: Tx, spec: VersionSpec, ref: Ref, counters: dict[Ref, tuple[str, int]]
    ) -> ModelVersion:
        if ref not in counters:
            row = _model_row(tx.conn, ref)
            counters[ref] = (row.id, row.latest_version)
        model_id, latest = counters[ref]
        existing = self._existing(tx, model_id, spec, ref)
        if existing:
            return existing
        dsv = dataset_versions(
            tx.conn, [*spec.inputs, *(m.dataset for m in spec.metrics if m.dataset)]
        )
        run_refs = {r for r in [spec.run, *(m.run for m in spec.metrics)] if r}
        runs = {
            r: lookup.entity_id(tx.conn, parse_ref(r, kind=Kind.RUN, versioned=False))
            for r in run_refs
        }
        version = latest + 1
        counters[ref] = (model_id, version)
        payload = {
            "id": new_id(),
            "model_id": model_id,
            "version": version,
            "artifact_uri": spec.artifact_uri,
            "digest": spec.digest,
            "description": spec.description,
            "run_id": runs.get(spec.run) if spec.run else None,
            "dependencies": spec.dependencies.model_dump(mode="json"),
            "tags": spec.tags,
            "labels": spec.labels,
            "idempotency_key": spec.idempotency_key,
            "inputs": [{"dataset_version_id": dsv[i][0], "digest": dsv[i][1]} for i in spec.inputs],
            "evaluations": _evaluations(spec.metrics, dsv, runs),
        }
        facets = resolve_facets(tx.conn, spec.facets)
        payload["facets"] = facets
        subject = f"{ref}@{version}"
        tx.emit(EventDraft(EventType.VERSION_REGISTERED, subject, payload))
        return ModelVersion(
            id=subject,
            model=str(ref),
            version=version,
            artifact_uri=spec.artifact_uri,
            digest=spec.digest,
            description=spec.description,
            run=spec.run,
            inputs=[
                DatasetInput(id=str(parse_ref(i, kind=Kind.DATASET)), digest=dsv[i][1])
                for i in spec.inputs
            ],
            metrics=list(spec.metrics),
            dependencies=spec.dependencies,
            tags=spec.tags,
            labels=spec.labels,
            facets=reads.facet_models(facets),
            registered_by=self.actor,
            created_at=tx.at,
            updated_at=tx.at,
        )

    def get_version(self, raw: str) -> ModelVersion:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=True)
        with self.store.read() as conn:
            version_id = lookup.entity_id(conn, ref)
            return reads.versions(
                conn, reads.version_query().where(t.model_versions.c.id == version_id)
            )[0]

    def list_versions(self, raw: str, *, limit: int = 100, after: int = 0) -> list[ModelVersion]:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=False)
        with self.store.read() as conn:
            model_id = lookup.entity_id(conn, ref)
            query = (
                reads.version_query()
                .where(t.model_versions.c.model_id == model_id, t.model_versions.c.version > after)
                .order_by(t.model_versions.c.version)
                .limit(page_size(limit))
            )
            return reads.versions(conn, query)

    def update_version(self, raw: str, patch: VersionPatch) -> ModelVersion:
        ref = parse_ref(raw, kind=Kind.MODEL, versioned=True)
        with self.store.write(self.actor) as tx:
            version_id = lookup.entity_id(tx.conn, ref)
            changes = patch.model_dump(mode="json", include=patch.model_fields_set - {"facets"})
            payload = {
                "id": version_id,
                "changes": changes,
                "facets": resolve_facets(tx.conn, patch.facets),
            }
            tx.emit(EventDraft(EventType.VERSION_UPDATED, str(ref), payload))
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
            dsv = dataset_versions(tx.conn, [spec.dataset] if spec.dataset else [])
            runs = (
                {spec.run: lookup.entity_id(tx.conn, parse_ref(spec.run, kind=Kind.RUN))}
                if spec.run
                else {}
            )
            evaluation = _evaluations(metrics, dsv, runs)[0]
            tx.emit(
                EventDraft(
                    EventType.EVALUATION_RECORDED,
                    str(ref),
                    {"version_id": version_id, **evaluation},
                )
            )
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
