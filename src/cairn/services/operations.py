"""Runs, environments and deployments, with the as-of question: what served where, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from cairn.core.entities import Deployment, Environment, Run, Serving
from cairn.core.errors import Conflict, NotFound, ValidationFailed
from cairn.core.events import EventDraft, EventType, format_time
from cairn.core.names import Kind, canonical_name, parse_ref
from cairn.core.specs import DeploymentSpec, EnvironmentPatch, EnvironmentSpec, RunPatch, RunSpec
from cairn.services.base import Service, dataset_versions, new_id, page_size
from cairn.store import lookup, reads
from cairn.store import tables as t


def _env_name(raw: str) -> str:
    return canonical_name(raw.removeprefix("environment:"), field="environment")


class RunService(Service):
    def create(self, spec: RunSpec) -> Run:
        ref = parse_ref(spec.ref, kind=Kind.RUN, versioned=False)
        with self.store.write(self.actor) as tx:
            team_id = lookup.vacant(tx.conn, t.runs, ref)
            inputs = dataset_versions(tx, spec.inputs)
            env_id = (
                lookup.environment_id(tx.conn, _env_name(spec.environment))
                if spec.environment
                else None
            )
            payload = {
                "id": new_id(),
                "team_id": team_id,
                "name": ref.name,
                **spec.model_dump(mode="json", exclude={"ref", "inputs", "environment"}),
                "environment_id": env_id,
                "inputs": [inputs[i][0] for i in spec.inputs],
            }
            tx.emit(EventDraft(EventType.RUN_CREATED, str(ref), payload))
            return reads.runs(tx.conn, reads.run_query().where(t.runs.c.id == payload["id"]))[0]

    def get(self, raw: str) -> Run:
        ref = parse_ref(raw, kind=Kind.RUN, versioned=False)
        with self.store.read() as conn:
            return reads.runs(
                conn, reads.run_query().where(t.runs.c.id == lookup.entity_id(conn, ref))
            )[0]

    def find(self, *, team: str | None = None, limit: int = 100) -> list[Run]:
        query = reads.run_query().order_by(t.teams.c.name, t.runs.c.name).limit(page_size(limit))
        with self.store.read() as conn:
            if team:
                query = query.where(
                    t.runs.c.team_id == lookup.team_id(conn, canonical_name(team, field="team"))
                )
            return reads.runs(conn, query)

    def update(self, raw: str, patch: RunPatch, *, if_revision: int | None = None) -> Run:
        ref = parse_ref(raw, kind=Kind.RUN, versioned=False)
        with self.store.write(self.actor) as tx:
            run_id = lookup.entity_id(tx.conn, ref)
            lookup.expect_revision(tx.conn, t.runs, run_id, if_revision, str(ref))
            tx.emit(
                EventDraft(
                    EventType.RUN_UPDATED, str(ref), {"id": run_id, "changes": patch.changes()}
                )
            )
            return reads.runs(tx.conn, reads.run_query().where(t.runs.c.id == run_id))[0]


class EnvironmentService(Service):
    def create(self, spec: EnvironmentSpec) -> Environment:
        name = _env_name(spec.name)
        with self.store.write(self.actor) as tx:
            if tx.conn.execute(
                select(t.environments.c.id).where(t.environments.c.name == name)
            ).first():
                raise Conflict(f"environment:{name} already exists", id=f"environment:{name}")
            payload = {"id": new_id(), **spec.model_dump(mode="json"), "name": name}
            tx.emit(EventDraft(EventType.ENVIRONMENT_CREATED, f"environment:{name}", payload))
            return reads.environments(
                tx.conn, select(t.environments).where(t.environments.c.id == payload["id"])
            )[0]

    def get(self, raw: str) -> Environment:
        name = _env_name(raw)
        with self.store.read() as conn:
            env_id = lookup.environment_id(conn, name)
            return reads.environments(
                conn, select(t.environments).where(t.environments.c.id == env_id)
            )[0]

    def find(self, *, limit: int = 100) -> list[Environment]:
        with self.store.read() as conn:
            return reads.environments(
                conn, select(t.environments).order_by(t.environments.c.name).limit(page_size(limit))
            )

    def update(
        self, raw: str, patch: EnvironmentPatch, *, if_revision: int | None = None
    ) -> Environment:
        name = _env_name(raw)
        with self.store.write(self.actor) as tx:
            env_id = lookup.environment_id(tx.conn, name)
            lookup.expect_revision(
                tx.conn, t.environments, env_id, if_revision, f"environment:{name}"
            )
            tx.emit(
                EventDraft(
                    EventType.ENVIRONMENT_UPDATED,
                    f"environment:{name}",
                    {"id": env_id, "changes": patch.changes()},
                )
            )
            return reads.environments(
                tx.conn, select(t.environments).where(t.environments.c.id == env_id)
            )[0]


class DeploymentService(Service):
    def deploy(self, spec: DeploymentSpec) -> Deployment:
        """Deploy a version; it replaces any version of the same model serving there."""
        ref = parse_ref(spec.version, kind=Kind.MODEL, versioned=True)
        with self.store.write(self.actor) as tx:
            at = spec.at or tx.at
            version_id = lookup.entity_id(tx.conn, ref)
            env_id = lookup.environment_id(tx.conn, _env_name(spec.environment))
            model_id = tx.conn.execute(
                select(t.model_versions.c.model_id).where(t.model_versions.c.id == version_id)
            ).scalar_one()
            current = tx.conn.execute(
                select(t.deployments.c.id, t.deployments.c.deployed_at)
                .join(t.model_versions, t.model_versions.c.id == t.deployments.c.version_id)
                .where(
                    t.deployments.c.environment_id == env_id,
                    t.model_versions.c.model_id == model_id,
                    t.deployments.c.retired_at.is_(None),
                )
            ).all()
            for row in current:
                if row.deployed_at > at:
                    raise ValidationFailed(
                        f"a later deployment of {ref.unversioned()} is already serving there",
                        field="at",
                        rule="chronological",
                    )
                tx.emit(
                    EventDraft(
                        EventType.DEPLOYMENT_RETIRED,
                        f"deployment:{row.id}",
                        {"id": row.id, "retired_at": format_time(at)},
                    )
                )
            deployment_id = new_id()
            tx.emit(
                EventDraft(
                    EventType.DEPLOYMENT_STARTED,
                    f"deployment:{deployment_id}",
                    {
                        "id": deployment_id,
                        "version_id": version_id,
                        "environment_id": env_id,
                        "deployed_at": format_time(at),
                    },
                )
            )
            return reads.deployments(
                tx.conn, reads.deployment_query().where(t.deployments.c.id == deployment_id)
            )[0]

    def retire(self, deployment: str, at: datetime | None = None) -> Deployment:
        if at is not None and at.tzinfo is None:
            raise ValidationFailed(
                "the retirement time needs a timezone", field="at", rule="timezone"
            )
        deployment_id = deployment.removeprefix("deployment:")
        with self.store.write(self.actor) as tx:
            found = reads.deployments(
                tx.conn, reads.deployment_query().where(t.deployments.c.id == deployment_id)
            )
            if not found:
                raise NotFound(f"deployment:{deployment_id} does not exist", id=deployment)
            if found[0].retired_at is not None:
                raise Conflict(f"deployment:{deployment_id} is already retired")
            tx.emit(
                EventDraft(
                    EventType.DEPLOYMENT_RETIRED,
                    f"deployment:{deployment_id}",
                    {"id": deployment_id, "retired_at": format_time(at or tx.at)},
                )
            )
            return reads.deployments(
                tx.conn, reads.deployment_query().where(t.deployments.c.id == deployment_id)
            )[0]

    def find(
        self,
        *,
        environment: str | None = None,
        model: str | None = None,
        active_only: bool = False,
        limit: int = 100,
    ) -> list[Deployment]:
        query = (
            reads.deployment_query()
            .order_by(t.deployments.c.deployed_at.desc())
            .limit(page_size(limit))
        )
        with self.store.read() as conn:
            if environment:
                query = query.where(
                    t.deployments.c.environment_id
                    == lookup.environment_id(conn, _env_name(environment))
                )
            if model:
                query = query.where(
                    t.models.c.id
                    == lookup.entity_id(conn, parse_ref(model, kind=Kind.MODEL, versioned=False))
                )
            if active_only:
                query = query.where(t.deployments.c.retired_at.is_(None))
            return reads.deployments(conn, query)

    def serving(self, environment: str, at: datetime) -> list[Serving]:
        """What was serving in ``environment`` at ``at``, each with the version it ran."""
        if at.tzinfo is None:
            raise ValidationFailed("the as-of time needs a timezone", field="at", rule="timezone")
        with self.store.read() as conn:
            env_id = lookup.environment_id(conn, _env_name(environment))
            query = (
                reads.deployment_query()
                .where(
                    t.deployments.c.environment_id == env_id,
                    t.deployments.c.deployed_at <= at,
                    or_(t.deployments.c.retired_at.is_(None), t.deployments.c.retired_at > at),
                )
                .order_by(t.teams.c.name, t.models.c.name)
            )
            deployments = reads.deployments(conn, query)
            ids = [d.version for d in deployments]
            versions = (
                {
                    v.id: v
                    for v in reads.versions(
                        conn,
                        reads.version_query().where(
                            t.model_versions.c.id.in_(
                                select(t.deployments.c.version_id).where(
                                    t.deployments.c.id.in_(
                                        [d.id.split(":", 1)[1] for d in deployments]
                                    )
                                )
                            )
                        ),
                    )
                }
                if ids
                else {}
            )
            return [Serving(deployment=d, version=versions[d.version]) for d in deployments]
