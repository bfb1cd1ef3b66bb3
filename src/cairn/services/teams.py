"""Teams: the owning namespaces of models, datasets, feature views and runs."""

from __future__ import annotations

from sqlalchemy import select

from cairn.core.entities import Team
from cairn.core.errors import Conflict
from cairn.core.events import EventDraft, EventType
from cairn.core.names import canonical_name
from cairn.core.specs import TeamPatch, TeamSpec
from cairn.services.base import Service, new_id, page_size
from cairn.store import lookup, reads
from cairn.store import tables as t


class TeamService(Service):
    def create(self, spec: TeamSpec) -> Team:
        name = canonical_name(spec.name, field="team")
        with self.store.write(self.actor) as tx:
            if tx.conn.execute(select(t.teams.c.id).where(t.teams.c.name == name)).first():
                raise Conflict(f"team:{name} already exists", id=f"team:{name}")
            payload = {"id": new_id(), **spec.model_dump(mode="json"), "name": name}
            tx.emit(EventDraft(EventType.TEAM_CREATED, f"team:{name}", payload))
            return reads.teams(tx.conn, select(t.teams).where(t.teams.c.name == name))[0]

    def get(self, name: str) -> Team:
        name = canonical_name(name.removeprefix("team:"), field="team")
        with self.store.read() as conn:
            lookup.team_id(conn, name)
            return reads.teams(conn, select(t.teams).where(t.teams.c.name == name))[0]

    def find(self, *, limit: int = 100, after: str | None = None) -> list[Team]:
        query = select(t.teams).order_by(t.teams.c.name).limit(page_size(limit))
        if after:
            query = query.where(t.teams.c.name > after)
        with self.store.read() as conn:
            return reads.teams(conn, query)

    def update(self, name: str, patch: TeamPatch, *, if_revision: int | None = None) -> Team:
        name = canonical_name(name.removeprefix("team:"), field="team")
        with self.store.write(self.actor) as tx:
            team_id = lookup.team_id(tx.conn, name)
            lookup.expect_revision(tx.conn, t.teams, team_id, if_revision, f"team:{name}")
            tx.emit(
                EventDraft(
                    EventType.TEAM_UPDATED,
                    f"team:{name}",
                    {"id": team_id, "changes": patch.changes()},
                )
            )
            return reads.teams(tx.conn, select(t.teams).where(t.teams.c.id == team_id))[0]
