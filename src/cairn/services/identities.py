"""Identities of outside datasets: aliases that keep one canonical node per dataset however
producers name it, and what Cairn knows of them, for reconciling with a data catalog.

An alias is an event like every change; the projector folds the alias's node (if reports
already created one) into the canonical node, so nothing is left behind as a phantom twin.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, exists, or_, select

from cairn.core.errors import Conflict, NotFound, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.lineage import (
    OPENLINEAGE_ID,
    IdentityAlias,
    NodeKind,
    NodeRef,
    external_key,
    external_ref,
    parse_node,
    split_dataset_name,
)
from cairn.core.reconcile import CairnIdentities, Identity, KnownIdentity, UnidentifiedDataset
from cairn.services.base import Service
from cairn.store import tables as t

_OL = NodeKind.OL_DATASET


def _dataset_identity(text: str, field: str) -> NodeRef:
    node = parse_node(text)
    if node.kind is not _OL:
        raise ValidationFailed(
            f"{text!r} is not an OpenLineage dataset",
            field=field,
            rule="kind",
            hint="write ol-dataset:NAMESPACE/NAME, e.g. ol-dataset:s3://lake/raw/tx",
        )
    return node


def _alias_of(conn: Connection, key: str) -> Any:
    a = t.lineage_aliases.c
    return conn.execute(select(t.lineage_aliases).where(a.id == key)).first()


class IdentityService(Service):
    def add_alias(self, canonical: str, alias: str) -> IdentityAlias:
        """Record that ``alias`` names the same dataset as ``canonical``."""
        target = _dataset_identity(canonical, "canonical")
        other = _dataset_identity(alias, "alias")
        if (target.namespace, target.name) == (other.namespace, other.name):
            raise ValidationFailed(f"{target} cannot be an alias of itself", field="alias")
        target_key = external_key(_OL, target.namespace, target.name)
        other_key = external_key(_OL, other.namespace, other.name)
        with self.store.write(self.actor) as tx:
            if (row := _alias_of(tx.conn, target_key)) is not None:
                first = _canonical_ref(tx.conn, row.canonical_id)
                raise Conflict(
                    f"{target} is itself an alias of {first}",
                    hint=f"alias {other} to {first} instead",
                )
            if (row := _alias_of(tx.conn, other_key)) is not None:
                first = _canonical_ref(tx.conn, row.canonical_id)
                if row.canonical_id == target_key:
                    raise Conflict(f"{other} already is an alias of {target}")
                raise Conflict(
                    f"{other} already is an alias of {first}",
                    hint=f"remove that first: cairn lineage unalias {other}",
                )
            a = t.lineage_aliases.c
            if tx.conn.execute(select(a.id).where(a.canonical_id == other_key)).first():
                raise Conflict(
                    f"{other} has aliases of its own",
                    hint=f"alias them to {target} first, or make {other} the canonical name",
                )
            payload = {
                "id": other_key,
                "kind": str(_OL),
                "namespace": other.namespace,
                "name": other.name,
                "canonical_id": target_key,
                "canonical": {"namespace": target.namespace, "name": target.name},
                "alias": str(other),
            }
            tx.emit(EventDraft(EventType.LINEAGE_ALIAS_ADDED, str(target), payload))
            return IdentityAlias(
                alias=str(other), canonical=str(target), created_by=self.actor, created_at=tx.at
            )

    def remove_alias(self, alias: str) -> None:
        """Forget an alias. What it already merged stays merged: the log says when and why."""
        other = _dataset_identity(alias, "alias")
        key = external_key(_OL, other.namespace, other.name)
        with self.store.write(self.actor) as tx:
            row = _alias_of(tx.conn, key)
            if row is None:
                raise NotFound(f"{other} is not an alias", id=str(other))
            payload = {"id": key, "alias": str(other)}
            subject = _canonical_ref(tx.conn, row.canonical_id)
            tx.emit(EventDraft(EventType.LINEAGE_ALIAS_REMOVED, subject, payload))

    def aliases(self) -> list[IdentityAlias]:
        a, n = t.lineage_aliases, t.lineage_nodes
        query = (
            select(
                a, n.c.kind.label("c_kind"), n.c.namespace.label("c_ns"), n.c.name.label("c_name")
            )
            .join(n, n.c.id == a.c.canonical_id)
            .order_by(n.c.namespace, n.c.name, a.c.namespace, a.c.name)
        )
        with self.store.read() as conn:
            return [
                IdentityAlias(
                    alias=external_ref(NodeKind(r.kind), r.namespace, r.name),
                    canonical=external_ref(NodeKind(r.c_kind), r.c_ns, r.c_name),
                    created_by=r.created_by,
                    created_at=r.created_at,
                )
                for r in conn.execute(query)
            ]

    def known(self) -> CairnIdentities:
        """Every outside dataset identity Cairn knows (from reports, edges and the datasets
        that claim one), with its aliases, and the registered datasets that claim none."""
        n, e, a, d = t.lineage_nodes, t.lineage_edges, t.lineage_aliases, t.datasets
        referenced = exists().where(or_(e.c.source_id == n.c.id, e.c.target_id == n.c.id))
        with self.store.read() as conn:
            nodes = {
                r.id: (Identity(namespace=r.namespace, name=r.name), bool(r.referenced))
                for r in conn.execute(
                    select(n.c.id, n.c.namespace, n.c.name, referenced.label("referenced")).where(
                        n.c.kind == str(_OL)
                    )
                )
            }
            alias_rows = conn.execute(
                select(a.c.id, a.c.canonical_id, a.c.namespace, a.c.name)
            ).all()
            canonical = {r.id: r.canonical_id for r in alias_rows}
            claims: dict[str, list[str]] = {}
            unidentified: list[UnidentifiedDataset] = []
            query = select(d.c.name, d.c.uri, d.c.external_ids, t.teams.c.name.label("team")).join(
                t.teams, t.teams.c.id == d.c.team_id
            )
            for r in conn.execute(query.order_by(t.teams.c.name, d.c.name)):
                ref = f"dataset:{r.team}/{r.name}"
                claimed = (r.external_ids or {}).get(OPENLINEAGE_ID)
                if not claimed:
                    unidentified.append(UnidentifiedDataset(dataset=ref, uri=r.uri))
                    continue
                namespace, name = split_dataset_name(claimed)
                key = external_key(_OL, namespace, name)
                key = canonical.get(key, key)
                if key not in nodes:  # a dataset with no versions yet has no node
                    nodes[key] = (Identity(namespace=namespace, name=name), False)
                claims.setdefault(key, []).append(ref)
        aliases_of: dict[str, list[Identity]] = {}
        for alias in alias_rows:
            aliases_of.setdefault(alias.canonical_id, []).append(
                Identity(namespace=alias.namespace, name=alias.name)
            )
        known = [
            KnownIdentity(
                identity=identity,
                datasets=claims.get(key, []),
                aliases=sorted(aliases_of.get(key, []), key=lambda i: (i.namespace, i.name)),
                referenced=used,
            )
            for key, (identity, used) in nodes.items()
        ]
        known.sort(key=lambda k: (k.identity.namespace, k.identity.name))
        return CairnIdentities(known=known, unidentified=unidentified)


def _canonical_ref(conn: Connection, key: str) -> str:
    n = t.lineage_nodes.c
    row = conn.execute(select(n.kind, n.namespace, n.name).where(n.id == key)).one()
    return external_ref(NodeKind(row.kind), row.namespace, row.name)
