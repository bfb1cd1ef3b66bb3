"""Registering model versions: gapless numbering, idempotency, all-or-none batches.

Version numbers come from a counter on the model row, read and bumped inside the serialized
write transaction: no ``max()+1`` scan, no retry loop, no gaps. Registrations are applied to
the read tables in bulk when the batch ends (see ``Tx.emit_registration``), so this module
keeps its own view of counters and idempotency keys for the batch in flight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, tuple_

from cairn.core.entities import DatasetInput, ModelVersion
from cairn.core.errors import Conflict, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.metadata import Metric
from cairn.core.names import Kind, Ref, parse_ref
from cairn.core.specs import VersionSpec
from cairn.services.base import dataset_versions, new_id, run_id
from cairn.services.schemas import resolve_facets
from cairn.store import driver, lookup, reads
from cairn.store import tables as t
from cairn.store.uow import Tx

_COUNTERS = select(
    t.teams.c.name.label("team"), t.models.c.name, t.models.c.id, t.models.c.latest_version
).join(t.teams, t.teams.c.id == t.models.c.team_id)
_ONE_COUNTER = _COUNTERS.where(
    t.teams.c.name == bindparam("team"), t.models.c.name == bindparam("name")
)
_PREFETCH_CHUNK = 500
_ONE_BY_ONE = 16  # at most this many models are looked up one statement each
_BY_IDEMPOTENCY_KEY = select(t.model_versions.c.id, t.model_versions.c.digest).where(
    t.model_versions.c.model_id == bindparam("model_id"),
    t.model_versions.c.idempotency_key == bindparam("key"),
)


MetricKey = tuple[str | None, str, str | None]


def evaluations(metrics: Sequence[Metric]) -> dict[MetricKey, dict[str, Metric]]:
    """Metrics grouped into one evaluation per (dataset, slice, run), in order of appearance."""
    groups: dict[MetricKey, dict[str, Metric]] = defaultdict(dict)
    for m in metrics:
        bucket = groups[(m.dataset, m.slice, m.run)]
        if m.name in bucket:
            raise ValidationFailed(
                f"metric {m.name!r} is given twice for the same dataset and slice",
                field="metrics",
                rule="unique",
            )
        bucket[m.name] = m
    return groups


def evaluations_payload(
    groups: dict[MetricKey, dict[str, Metric]],
    dsv: dict[str, tuple[str, str | None]],
    runs: dict[str, str],
) -> list[dict[str, Any]]:
    """Grouped metrics (see :func:`evaluations`) as event payload, surrogate keys resolved."""
    return [
        {
            "id": new_id(),
            "dataset_version_id": dsv[d][0] if d else None,
            "slice": s,
            "run_id": runs[r] if r else None,
            "metrics": {name: m.value for name, m in group.items()},
        }
        for (d, s, r), group in groups.items()
    ]


def _canonical(raw: str | None, kind: Kind) -> str | None:
    return str(parse_ref(raw, kind=kind)) if raw else None


def reading_order(groups: dict[MetricKey, dict[str, Metric]]) -> list[Metric]:
    """Metrics as a read returns them: evaluation by evaluation, names sorted within each."""
    return [group[name] for group in groups.values() for name in sorted(group)]


def _canonical_metric(metric: Metric) -> Metric:
    dataset, run = _canonical(metric.dataset, Kind.DATASET), _canonical(metric.run, Kind.RUN)
    if (dataset, run) == (metric.dataset, metric.run):
        return metric
    return metric.model_copy(update={"dataset": dataset, "run": run})


@dataclass(slots=True)
class _Written:
    """What one registration wrote, enough to assemble its result without a read."""

    ref: Ref
    version: int
    dsv: dict[str, tuple[str, str | None]]
    facets: dict[str, Any]
    groups: dict[MetricKey, dict[str, Metric]]


@dataclass(slots=True)
class _Keyed:
    """A version registered under an idempotency key: its digest, and its record once read."""

    digest: str
    version_id: str
    result: ModelVersion | None = None


class Registration:
    """One write transaction's worth of version registrations."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.counters: dict[Ref, tuple[str, int]] = {}
        self.keyed: dict[tuple[str, str], _Keyed] = {}

    def resume(self, previous: Registration) -> None:
        """Number on from ``previous``, a registration this transaction cannot see (a batch
        prepared before this one and not yet committed)."""
        self.counters = dict(previous.counters)
        self.keyed = dict(previous.keyed)

    def register(self, spec: VersionSpec) -> ModelVersion:
        """Register ``spec``; return the version as a read would (the existing one on a repeat)."""
        written = self._write(spec)
        if isinstance(written, _Keyed):
            if written.result is None:
                query = reads.version_query().where(t.model_versions.c.id == written.version_id)
                written.result = reads.versions(self.tx.conn, query)[0]
            return written.result
        registered = self._result(spec, written)
        if spec.idempotency_key is not None:
            model_id = self.counters[written.ref][0]
            self.keyed[(model_id, spec.idempotency_key)].result = registered
        return registered

    def record(self, spec: VersionSpec) -> bool:
        """Register ``spec`` without assembling a result; False on an idempotent repeat."""
        return isinstance(self._write(spec), _Written)

    def _write(self, spec: VersionSpec) -> _Written | _Keyed:
        """Emit the registration, or return the version an idempotency key already names."""
        ref = parse_ref(spec.model, kind=Kind.MODEL, versioned=False)
        model_id, latest = self._counter(ref)
        if spec.idempotency_key is not None:
            existing = self._existing(model_id, spec.idempotency_key, spec.digest, ref)
            if existing is not None:
                return existing
        dsv = dataset_versions(
            self.tx, [*spec.inputs, *(m.dataset for m in spec.metrics if m.dataset)]
        )
        runs = {r: run_id(self.tx, r) for r in {spec.run, *(m.run for m in spec.metrics)} if r}
        version = latest + 1
        groups = evaluations(spec.metrics)
        facets = resolve_facets(self.tx.conn, spec.facets)
        version_id = new_id()
        payload = {
            "id": version_id,
            "model_id": model_id,
            "version": version,
            "artifact_uri": spec.artifact_uri,
            "digest": spec.digest,
            "description": spec.description,
            "run_id": runs[spec.run] if spec.run else None,
            "dependencies": spec.dependencies.model_dump(mode="json"),
            "tags": spec.tags,
            "labels": spec.labels,
            "idempotency_key": spec.idempotency_key,
            "inputs": [{"dataset_version_id": dsv[i][0], "digest": dsv[i][1]} for i in spec.inputs],
            "evaluations": evaluations_payload(groups, dsv, runs),
            "facets": facets,
        }
        subject = f"{ref}@{version}"
        self.tx.emit_registration(EventDraft(EventType.VERSION_REGISTERED, subject, payload))
        self.counters[ref] = (model_id, version)
        if spec.idempotency_key is not None:
            self.keyed[(model_id, spec.idempotency_key)] = _Keyed(spec.digest, version_id)
        return _Written(ref, version, dsv, facets, groups)

    def prefetch(self, models: Iterable[str]) -> None:
        """Read the version counters of the named models, a few queries for a whole batch."""
        refs = {parse_ref(m, kind=Kind.MODEL, versioned=False) for m in models} - set(self.counters)
        wanted = sorted((str(r.namespace), r.name) for r in refs)
        if len(wanted) <= _ONE_BY_ONE:
            # A prebuilt statement per model: an IN list is compiled afresh each time, which
            # for the handful of models in a single call or a server's group commit cost more
            # than the lookups (and is paid while holding the write lock).
            for team, name in wanted:
                row = driver.execute(self.tx.conn, _ONE_COUNTER, {"team": team, "name": name})
                if row is not None:
                    _, _, model_id, latest = row
                    self.counters[Ref(Kind.MODEL, name, team)] = (model_id, latest)
            return
        for start in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[start : start + _PREFETCH_CHUNK]
            query = _COUNTERS.where(tuple_(t.teams.c.name, t.models.c.name).in_(chunk))
            for row in self.tx.conn.execute(query):
                self.counters[Ref(Kind.MODEL, row.name, row.team)] = (row.id, row.latest_version)

    def _counter(self, ref: Ref) -> tuple[str, int]:
        if ref not in self.counters:
            self.prefetch([str(ref)])
        if ref not in self.counters:
            lookup.entity_id(self.tx.conn, ref)  # raises NotFound naming what is missing
        return self.counters[ref]

    def _existing(self, model_id: str, key: str, digest: str, ref: Ref) -> _Keyed | None:
        found = self.keyed.get((model_id, key))
        if found is None:
            row = self.tx.conn.execute(
                _BY_IDEMPOTENCY_KEY, {"model_id": model_id, "key": key}
            ).first()
            if row is None:
                return None
            found = self.keyed[(model_id, key)] = _Keyed(row.digest, row.id)
        if found.digest != digest:
            raise Conflict(
                f"idempotency key {key!r} of {ref} was already used for another artifact",
                hint="use a new idempotency key for a new artifact",
            )
        return found

    def _result(self, spec: VersionSpec, written: _Written) -> ModelVersion:
        """The registered version as a read would return it, without reading it back.

        Every part was validated on the way in, so the record is assembled without being
        validated again (a measurable share of a bulk registration otherwise).
        """
        ref, version, dsv = written.ref, written.version, written.dsv
        return ModelVersion.model_construct(
            id=f"{ref}@{version}",
            model=str(ref),
            version=version,
            artifact_uri=spec.artifact_uri,
            digest=spec.digest,
            description=spec.description,
            run=_canonical(spec.run, Kind.RUN),
            inputs=[
                DatasetInput.model_construct(id=str(_canonical(i, Kind.DATASET)), digest=dsv[i][1])
                for i in spec.inputs
            ],
            metrics=[_canonical_metric(m) for m in reading_order(written.groups)],
            dependencies=spec.dependencies,
            tags=spec.tags,
            labels=spec.labels,
            facets=reads.facet_models(written.facets),
            registered_by=self.tx.actor,
            created_at=self.tx.at,
            updated_at=self.tx.at,
            revision=1,
        )
