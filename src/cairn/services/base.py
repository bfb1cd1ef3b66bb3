"""What every service shares: the store, the acting user, fresh ids, reference resolution."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, select

from cairn.core.errors import NotFound, ValidationFailed
from cairn.core.names import Kind, Ref, parse_ref
from cairn.store import tables as t
from cairn.store.uow import Store, Tx

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


_DATASET_VERSION = (
    select(t.dataset_versions.c.id, t.dataset_versions.c.digest)
    .join(t.datasets, t.datasets.c.id == t.dataset_versions.c.dataset_id)
    .join(t.teams, t.teams.c.id == t.datasets.c.team_id)
    .where(
        t.teams.c.name == bindparam("team"),
        t.datasets.c.name == bindparam("name"),
        t.dataset_versions.c.version == bindparam("version"),
    )
)


def dataset_versions(tx: Tx, refs: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """``dataset:team/name@n`` -> (surrogate key, digest); NotFound names the first missing.

    A dataset version never changes once written, so answers are remembered after commit.
    """
    out: dict[str, tuple[str, str | None]] = {}
    for raw in refs:
        ref = parse_ref(raw, kind=Kind.DATASET, versioned=True)
        key = ("dataset-version", ref)
        found = tx.store.immutable.get(key) or tx.learned.get(key)
        if found is None:
            row = tx.conn.execute(
                _DATASET_VERSION, {"team": ref.namespace, "name": ref.name, "version": ref.version}
            ).first()
            if row is None:
                raise NotFound(
                    f"{ref} does not exist",
                    id=str(ref),
                    hint=f"list versions of {ref.unversioned()}",
                )
            found = tx.learned[key] = (row.id, row.digest)
        out[raw] = found
    return out


def ref_of(raw: str, kind: Kind, *, versioned: bool | None = None) -> Ref:
    return parse_ref(raw, kind=kind, versioned=versioned)
