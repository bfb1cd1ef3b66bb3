"""Datasets and feature views, each with numbered versions."""

from __future__ import annotations

from sqlalchemy import select

from cairn.core.entities import Dataset, DatasetVersion, FeatureView, FeatureViewVersion
from cairn.core.events import EventDraft, EventType
from cairn.core.lineage import OPENLINEAGE_ID, split_dataset_name
from cairn.core.names import Kind, canonical_name, parse_ref
from cairn.core.specs import (
    DatasetPatch,
    DatasetSpec,
    DatasetVersionSpec,
    FeatureViewPatch,
    FeatureViewSpec,
    FeatureViewVersionSpec,
)
from cairn.services.base import Service, dataset_versions, new_id, page_cursor, page_size
from cairn.store import lookup, reads
from cairn.store import tables as t


def _check_external_ids(external_ids: dict[str, str]) -> None:
    """``external_ids["openlineage"]`` joins the dataset to OpenLineage's: it must be
    ``namespace/name`` as OpenLineage writes it."""
    if OPENLINEAGE_ID in external_ids:
        split_dataset_name(external_ids[OPENLINEAGE_ID])


class DatasetService(Service):
    def create(self, spec: DatasetSpec) -> Dataset:
        ref = parse_ref(spec.ref, kind=Kind.DATASET, versioned=False)
        _check_external_ids(spec.external_ids)
        with self.store.write(self.actor) as tx:
            team_id = lookup.vacant(tx.conn, t.datasets, ref)
            payload = {
                "id": new_id(),
                "team_id": team_id,
                "name": ref.name,
                "latest_version": 0,
                **spec.model_dump(mode="json", exclude={"ref"}),
            }
            tx.emit(EventDraft(EventType.DATASET_CREATED, str(ref), payload))
            return reads.datasets(
                tx.conn, reads.dataset_query().where(t.datasets.c.id == payload["id"])
            )[0]

    def get(self, raw: str) -> Dataset:
        ref = parse_ref(raw, kind=Kind.DATASET, versioned=False)
        with self.store.read() as conn:
            return reads.datasets(
                conn, reads.dataset_query().where(t.datasets.c.id == lookup.entity_id(conn, ref))
            )[0]

    def find(self, *, team: str | None = None, limit: int = 100) -> list[Dataset]:
        query = (
            reads.dataset_query()
            .order_by(t.teams.c.name, t.datasets.c.name)
            .limit(page_size(limit))
        )
        with self.store.read() as conn:
            if team:
                query = query.where(
                    t.datasets.c.team_id == lookup.team_id(conn, canonical_name(team, field="team"))
                )
            return reads.datasets(conn, query)

    def update(self, raw: str, patch: DatasetPatch, *, if_revision: int | None = None) -> Dataset:
        ref = parse_ref(raw, kind=Kind.DATASET, versioned=False)
        _check_external_ids(patch.external_ids)
        with self.store.write(self.actor) as tx:
            dataset_id = lookup.entity_id(tx.conn, ref)
            lookup.expect_revision(tx.conn, t.datasets, dataset_id, if_revision, str(ref))
            tx.emit(
                EventDraft(
                    EventType.DATASET_UPDATED,
                    str(ref),
                    {"id": dataset_id, "changes": patch.changes()},
                )
            )
            return reads.datasets(
                tx.conn, reads.dataset_query().where(t.datasets.c.id == dataset_id)
            )[0]

    def add_version(self, spec: DatasetVersionSpec) -> DatasetVersion:
        ref = parse_ref(spec.dataset, kind=Kind.DATASET, versioned=False)
        with self.store.write(self.actor) as tx:
            dataset_id = lookup.entity_id(tx.conn, ref)
            latest = tx.conn.execute(
                select(t.datasets.c.latest_version).where(t.datasets.c.id == dataset_id)
            ).scalar_one()
            payload = {
                "id": new_id(),
                "dataset_id": dataset_id,
                "version": latest + 1,
                **spec.model_dump(mode="json", exclude={"dataset"}),
            }
            tx.emit(EventDraft(EventType.DATASET_VERSION_CREATED, f"{ref}@{latest + 1}", payload))
            query = reads.dataset_version_query().where(t.dataset_versions.c.id == payload["id"])
            return reads.dataset_versions(tx.conn, query)[0]

    def get_version(self, raw: str) -> DatasetVersion:
        ref = parse_ref(raw, kind=Kind.DATASET, versioned=True)
        with self.store.read() as conn:
            query = reads.dataset_version_query().where(
                t.dataset_versions.c.id == lookup.entity_id(conn, ref)
            )
            return reads.dataset_versions(conn, query)[0]

    def list_versions(self, raw: str, *, limit: int = 100, after: int = 0) -> list[DatasetVersion]:
        ref = parse_ref(raw, kind=Kind.DATASET, versioned=False)
        with self.store.read() as conn:
            query = (
                reads.dataset_version_query()
                .where(
                    t.dataset_versions.c.dataset_id == lookup.entity_id(conn, ref),
                    t.dataset_versions.c.version > page_cursor(after),
                )
                .order_by(t.dataset_versions.c.version)
                .limit(page_size(limit))
            )
            return reads.dataset_versions(conn, query)


class FeatureViewService(Service):
    def create(self, spec: FeatureViewSpec) -> FeatureView:
        ref = parse_ref(spec.ref, kind=Kind.FEATURE_VIEW, versioned=False)
        with self.store.write(self.actor) as tx:
            team_id = lookup.vacant(tx.conn, t.feature_views, ref)
            payload = {
                "id": new_id(),
                "team_id": team_id,
                "name": ref.name,
                "latest_version": 0,
                **spec.model_dump(mode="json", exclude={"ref"}),
            }
            tx.emit(EventDraft(EventType.FEATURE_VIEW_CREATED, str(ref), payload))
            return reads.feature_views(
                tx.conn, reads.feature_view_query().where(t.feature_views.c.id == payload["id"])
            )[0]

    def get(self, raw: str) -> FeatureView:
        ref = parse_ref(raw, kind=Kind.FEATURE_VIEW, versioned=False)
        with self.store.read() as conn:
            query = reads.feature_view_query().where(
                t.feature_views.c.id == lookup.entity_id(conn, ref)
            )
            return reads.feature_views(conn, query)[0]

    def find(self, *, team: str | None = None, limit: int = 100) -> list[FeatureView]:
        query = (
            reads.feature_view_query()
            .order_by(t.teams.c.name, t.feature_views.c.name)
            .limit(page_size(limit))
        )
        with self.store.read() as conn:
            if team:
                query = query.where(
                    t.feature_views.c.team_id
                    == lookup.team_id(conn, canonical_name(team, field="team"))
                )
            return reads.feature_views(conn, query)

    def update(
        self, raw: str, patch: FeatureViewPatch, *, if_revision: int | None = None
    ) -> FeatureView:
        ref = parse_ref(raw, kind=Kind.FEATURE_VIEW, versioned=False)
        with self.store.write(self.actor) as tx:
            fv_id = lookup.entity_id(tx.conn, ref)
            lookup.expect_revision(tx.conn, t.feature_views, fv_id, if_revision, str(ref))
            tx.emit(
                EventDraft(
                    EventType.FEATURE_VIEW_UPDATED,
                    str(ref),
                    {"id": fv_id, "changes": patch.changes()},
                )
            )
            return reads.feature_views(
                tx.conn, reads.feature_view_query().where(t.feature_views.c.id == fv_id)
            )[0]

    def add_version(self, spec: FeatureViewVersionSpec) -> FeatureViewVersion:
        ref = parse_ref(spec.feature_view, kind=Kind.FEATURE_VIEW, versioned=False)
        with self.store.write(self.actor) as tx:
            fv_id = lookup.entity_id(tx.conn, ref)
            latest = tx.conn.execute(
                select(t.feature_views.c.latest_version).where(t.feature_views.c.id == fv_id)
            ).scalar_one()
            sources = dataset_versions(tx, spec.sources)
            payload = {
                "id": new_id(),
                "feature_view_id": fv_id,
                "version": latest + 1,
                "features": [f.model_dump(mode="json") for f in spec.features],
                "sources": [sources[s][0] for s in spec.sources],
            }
            tx.emit(
                EventDraft(EventType.FEATURE_VIEW_VERSION_CREATED, f"{ref}@{latest + 1}", payload)
            )
            query = reads.feature_view_version_query().where(
                t.feature_view_versions.c.id == payload["id"]
            )
            return reads.feature_view_versions(tx.conn, query)[0]

    def get_version(self, raw: str) -> FeatureViewVersion:
        ref = parse_ref(raw, kind=Kind.FEATURE_VIEW, versioned=True)
        with self.store.read() as conn:
            query = reads.feature_view_version_query().where(
                t.feature_view_versions.c.id == lookup.entity_id(conn, ref)
            )
            return reads.feature_view_versions(conn, query)[0]
