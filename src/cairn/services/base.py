"""What every service shares: the store, the acting user, fresh ids, reference resolution."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, select, tuple_

from cairn.core.errors import NotFound, ValidationFailed
from cairn.core.names import Kind, Ref, parse_ref
from cairn.store import tables as t
from cairn.store.uow import Store

MAX_PAGE = 1000


def new_id() -> str:
    return str(uuid.uuid4())


def page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"limit {limit} is out of range", field="limit", rule="range", hint=f"1..{MAX_PAGE}"
        )
    return limit


class Service:
    def __init__(self, store: Store, actor: str) -> None:
        self.store = store
        self.actor = actor


def dataset_versions(conn: Connection, refs: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """``dataset:team/name@n`` -> (surrogate key, digest) in one query; NotFound names the first."""
    parsed = {raw: parse_ref(raw, kind=Kind.DATASET, versioned=True) for raw in refs}
    if not parsed:
        return {}
    keys = {(r.namespace, r.name, r.version) for r in parsed.values()}
    rows = conn.execute(
        select(
            t.teams.c.name.label("team"),
            t.datasets.c.name,
            t.dataset_versions.c.version,
            t.dataset_versions.c.id,
            t.dataset_versions.c.digest,
        )
        .join(t.datasets, t.datasets.c.team_id == t.teams.c.id)
        .join(t.dataset_versions, t.dataset_versions.c.dataset_id == t.datasets.c.id)
        .where(tuple_(t.teams.c.name, t.datasets.c.name, t.dataset_versions.c.version).in_(keys))
    ).all()
    found = {(r.team, r.name, r.version): (r.id, r.digest) for r in rows}
    out = {}
    for raw, ref in parsed.items():
        key = (ref.namespace, ref.name, ref.version)
        if key not in found:
            raise NotFound(
                f"{ref} does not exist", id=str(ref), hint=f"list versions of {ref.unversioned()}"
            )
        out[raw] = found[key]
    return out


def ref_of(raw: str, kind: Kind, *, versioned: bool | None = None) -> Ref:
    return parse_ref(raw, kind=kind, versioned=versioned)
