"""Reconciling Cairn's datasets with an external data catalog's list.

An OpenLineage dataset is known by its *identity*, a namespace (the data source) and a name,
written ``namespace/name``; Cairn's node for it is ``ol-dataset:<namespace>/<name>``. Cairn keeps
*canonical* identities, each with the *aliases* recorded for it (other identities that mean the
same dataset), the registered datasets that claim it (``external_ids["openlineage"]``) and
whether lineage edges touch it. Reconciling compares that with a catalog's export
(read by :func:`cairn.core.catalog_export.parse_catalog`) and says, in a :class:`ReconcileReport`:

==========================  ==============================================================
``matched``                 Cairn identities the catalog lists, under their name or an alias
``missing_in_catalog``      identities a registered dataset claims that the catalog lacks
``unresolved``              identities only lineage refers to (no dataset claims them) that
                            the catalog lacks too; one neither claimed nor referenced is
                            counted but missing from nowhere
``missing_in_cairn``        catalog identities that no Cairn identity or alias names
``unidentified``            registered datasets that claim no identity at all
``duplicates``              identities on one side that look like one dataset
``suggestions``             the alias (or external id) that would join the two sides, with
                            the command that records it
==========================  ==============================================================

One dataset is often named differently by different producers: ``s3://lake/raw/tx`` by the job
writing the files, ``raw.tx`` by the metastore reading them, ``sales.public.orders`` by one
client and ``public.orders`` by another, or in another case. :func:`match_key` reduces an
identity to the last two parts of its name (object stores count their bucket as a part) so such
names collide; equal keys are only *likely* the same dataset, so they give suggestions and
duplicate warnings, never a match.

Pure: the caller reads the file and the registry; nothing here touches either.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field

from cairn.core.errors import ValidationFailed
from cairn.core.lineage import (
    OL_DATASET_PREFIX,
    OPENLINEAGE_ID,
    NodeKind,
    external_ref,
    split_dataset_name,
)

#: Schemes whose namespace names a bucket or container and whose names are paths in it.
OBJECT_STORE_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "wasb", "wasbs", "hdfs", "file"}
)

# Azure writes ``container@account.host``: the container, not the account, is the bucket.
_CONTAINER_IN_USERINFO = frozenset({"abfs", "abfss", "wasb", "wasbs"})

#: A key shared by more unmatched catalog entries than this singles none of them out (think of
#: ``dt=2024-01-01/part-0.parquet`` under every table), so it yields no suggestion. Without the
#: bound one such key would make the suggestions quadratic.
MAX_CANDIDATES = 20


_Pair = tuple[str, str]
_Keys = dict[_Pair, tuple[str, ...]]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Identity(_Frozen):
    """An OpenLineage dataset identity."""

    namespace: str
    name: str

    @property
    def ref(self) -> str:
        return external_ref(NodeKind.OL_DATASET, self.namespace, self.name)


class KnownIdentity(_Frozen):
    """Cairn's side of one canonical identity: the registered datasets that claim it (ids such
    as ``dataset:fraud/tx``), the aliases recorded for it, and whether edges touch it."""

    identity: Identity
    datasets: list[str] = []
    aliases: list[Identity] = []
    referenced: bool = False


class UnidentifiedDataset(_Frozen):
    """A registered dataset that claims no OpenLineage identity, with its URI if it has one."""

    dataset: str
    uri: str | None = None


class CairnIdentities(_Frozen):
    """Cairn's side of a reconciliation, as a registry reports it."""

    known: list[KnownIdentity] = []
    unidentified: list[UnidentifiedDataset] = []


class Suggestion(_Frozen):
    """Join ``identity`` (a Cairn ref or dataset id) to ``suggested`` (the catalog's ref)."""

    identity: str
    suggested: str
    reason: str
    command: str


class DuplicateGroup(_Frozen):
    """Identities on one side that share a match key: likely one dataset under several names."""

    side: Literal["cairn", "catalog"]
    key: str
    identities: list[str]


class ReconcileReport(_Frozen):
    catalog: int
    known: int
    matched: int
    missing_in_catalog: list[str]
    unresolved: list[str]
    missing_in_cairn: list[str]
    unidentified: list[str]
    duplicates: list[DuplicateGroup]
    suggestions: list[Suggestion]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def clean(self) -> bool:
        """Both sides agree: nothing missing, unidentified, duplicated or to suggest."""
        return not (
            self.missing_in_catalog
            or self.unresolved
            or self.missing_in_cairn
            or self.unidentified
            or self.duplicates
            or self.suggestions
        )


# ---------------------------------------------------------------------------------------------
# Comparing


def match_key(identity: Identity) -> tuple[str, ...]:
    """The last two parts of an identity, lower-cased: equal for likely-same datasets.

    Object stores and file systems (``s3://bucket``, ``abfss://container@account…``,
    ``hdfs://namenode:8020``, ``file``) count the bucket or container, then the path segments;
    anything else counts the name's dot- or slash-separated parts. So ``s3://b`` ``x`` and
    ``hive://metastore`` ``b.x`` give ``("b", "x")``, and ``db.public.orders`` and
    ``public.orders`` both give ``("public", "orders")``.
    """
    return _key(identity.namespace, identity.name)


def match_text(namespace: str, name: str) -> str:
    """:func:`match_key` as one string (parts never hold ``/``), for an indexed column."""
    return "/".join(_key(namespace, name))


def _key(namespace: str, name: str) -> tuple[str, ...]:
    store = _store_prefix(namespace)
    if store is None:
        text, sep = name.lower().replace("/", "."), "."
    else:
        text, sep = f"{store}/{name.lower()}", "/"
    parts = text.rsplit(sep, 2)[-2:]
    if "" in parts:  # empty segments (``a//b``, a trailing slash) are no parts
        parts = [part for part in text.split(sep) if part][-2:]
    return tuple(parts)


@lru_cache(maxsize=4096)
def _store_prefix(namespace: str) -> str | None:
    """For an object store or file system, its bucket and any path in the namespace, lower-cased
    and slash-separated; None for any other data source. Few namespaces serve many names."""
    scheme, _, rest = namespace.partition("://")
    scheme = scheme.lower()
    if scheme not in OBJECT_STORE_SCHEMES:
        return None
    authority, _, path = rest.partition("/")
    return f"{_bucket(scheme, authority)}/{path}".lower()


def _bucket(scheme: str, authority: str) -> str:
    userinfo, at, host = authority.rpartition("@")
    if at and scheme in _CONTAINER_IN_USERINFO:
        return userinfo
    if host.startswith("["):  # an IPv6 literal holds colons of its own
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _ref(pair: _Pair) -> str:
    return external_ref(NodeKind.OL_DATASET, *pair)


def _fold(pair: _Pair) -> _Pair:
    # lower(), as match keys do, so names equal but for case always share a key
    return pair[0].lower(), pair[1].lower()


class _Union:
    """Canonical identities joined through an alias naming another canonical identity."""

    def __init__(self) -> None:
        self.parent: dict[_Pair, _Pair] = {}

    def root(self, pair: _Pair) -> _Pair:
        parent = self.parent.get(pair, pair)
        while parent != pair:
            grand = self.parent.get(parent, parent)
            self.parent[pair] = grand
            pair, parent = parent, grand
        return pair

    def join(self, a: _Pair, b: _Pair) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class _Side:
    """Cairn's identities by canonical identity; a caller listing one twice gets them merged."""

    def __init__(self, known: Sequence[KnownIdentity]) -> None:
        self.claimed: dict[_Pair, bool] = {}
        self.referenced: dict[_Pair, bool] = {}
        self.aliases: dict[_Pair, list[_Pair]] = {}
        claimed, referenced, aliases = self.claimed, self.referenced, self.aliases
        for item in known:
            pair = (item.identity.namespace, item.identity.name)
            if pair in claimed:
                claimed[pair] = claimed[pair] or bool(item.datasets)
                referenced[pair] = referenced[pair] or item.referenced
            else:
                claimed[pair] = bool(item.datasets)
                referenced[pair] = item.referenced
            if item.aliases:
                names = aliases.setdefault(pair, [])
                for alias in item.aliases:
                    other = (alias.namespace, alias.name)
                    if other != pair and other not in names:
                        names.append(other)
        # alias -> the canonical identity that recorded it
        self.owner: dict[_Pair, _Pair] = {}
        self.classes = _Union()
        for pair, names in aliases.items():
            for other in names:
                if other in claimed:
                    self.classes.join(pair, other)
                else:
                    self.owner.setdefault(other, pair)

    def knows(self, pair: _Pair) -> bool:
        return pair in self.claimed or pair in self.owner

    def root(self, pair: _Pair) -> _Pair:
        """One identity standing for every name Cairn knows to be the same dataset."""
        return self.classes.root(self.owner.get(pair, pair))


def reconcile(
    known: Sequence[KnownIdentity],
    unidentified: Sequence[UnidentifiedDataset],
    catalog: Sequence[Identity],
) -> ReconcileReport:
    """Compare Cairn's identities (and its datasets without one) with a catalog's entries."""
    cairn = _Side(known)
    listed = dict.fromkeys((entry.namespace, entry.name) for entry in catalog)
    in_catalog = listed.keys()
    # Every name on either side is filed under its key for duplicates, so work them all out once.
    names = dict.fromkeys(chain(cairn.claimed, cairn.owner, listed))
    keys = {pair: _key(*pair) for pair in names}

    matched = 0
    unmatched: list[_Pair] = []
    missing_in_catalog: list[str] = []
    unresolved: list[str] = []
    for pair, claimed in cairn.claimed.items():
        aliases = cairn.aliases.get(pair)
        if pair in listed or (aliases and not in_catalog.isdisjoint(aliases)):
            matched += 1
            continue
        unmatched.append(pair)
        if claimed:
            missing_in_catalog.append(_ref(pair))
        elif cairn.referenced[pair]:
            unresolved.append(_ref(pair))
        # Neither claimed nor referenced: nothing in Cairn rests on it, so it is not missing.
    missing = [pair for pair in listed if not cairn.knows(pair)]

    found = _Found()
    if unmatched and missing:
        _suggest_aliases(cairn, unmatched, missing, keys, found)
    with_uri = [dataset for dataset in unidentified if dataset.uri]
    if with_uri and listed:
        _suggest_external_ids(with_uri, listed, keys, found)

    # One validation of plain values costs far less than building each model on its own.
    return ReconcileReport.model_validate(
        {
            "catalog": len(listed),
            "known": len(cairn.claimed),
            "matched": matched,
            "missing_in_catalog": sorted(missing_in_catalog),
            "unresolved": sorted(unresolved),
            "missing_in_cairn": sorted(_ref(pair) for pair in missing),
            "unidentified": sorted(dataset.dataset for dataset in unidentified),
            "duplicates": _duplicates(cairn, listed, keys),
            "suggestions": found.suggestions(),
        }
    )


class _Found:
    """Suggestions by (identity, suggested), keeping the best-ranked reason for each pair."""

    def __init__(self) -> None:
        self.best: dict[tuple[str, str], tuple[int, str]] = {}

    def offer(self, identity: str, pair: _Pair, rank: int, reason: str) -> None:
        suggested = _ref(pair)
        if suggested == identity:
            return
        held = self.best.get((identity, suggested))
        if held is None or rank < held[0]:
            self.best[(identity, suggested)] = (rank, reason)

    def suggestions(self) -> list[dict[str, str]]:
        ordered = sorted(self.best.items(), key=lambda item: (item[0][0], item[1][0], item[0][1]))
        return [
            {
                "identity": identity,
                "suggested": suggested,
                "reason": reason,
                "command": _command(identity, suggested),
            }
            for (identity, suggested), (_, reason) in ordered
        ]


def _suggest_aliases(
    cairn: _Side, unmatched: list[_Pair], missing: list[_Pair], keys: _Keys, found: _Found
) -> None:
    by_key: dict[tuple[str, ...], list[_Pair]] = {}
    for pair in missing:
        by_key.setdefault(keys[pair], []).append(pair)
    # Names equal but for case share a key, so the key's list holds them; only a key too
    # crowded to read through needs them looked up by folded name instead.
    crowded: dict[_Pair, list[_Pair]] = {}
    for bucket in by_key.values():
        if len(bucket) > MAX_CANDIDATES:
            for pair in bucket:
                crowded.setdefault(_fold(pair), []).append(pair)
    for pair in unmatched:
        ref = _ref(pair)
        for name in (pair, *cairn.aliases.get(pair, ())):
            key = keys[name]
            candidates = by_key.get(key)
            if not candidates:
                continue
            through = "" if name == pair else f" (through its alias {_ref(name)})"
            folded = _fold(name)
            if len(candidates) > MAX_CANDIDATES:
                for candidate in crowded.get(folded, ()):
                    found.offer(ref, candidate, 0, "same identity but for case" + through)
                continue
            reason = f"names end in the same parts: {'.'.join(key)}{through}"
            for candidate in candidates:
                if _fold(candidate) == folded:
                    found.offer(ref, candidate, 0, "same identity but for case" + through)
                else:
                    found.offer(ref, candidate, 1 if name == pair else 2, reason)


def _suggest_external_ids(
    datasets: list[UnidentifiedDataset], listed: dict[_Pair, None], keys: _Keys, found: _Found
) -> None:
    # Every catalog entry, matched or not: a registered dataset may name one Cairn knows.
    by_key: dict[tuple[str, ...], list[_Pair]] = {}
    for pair in listed:
        by_key.setdefault(keys[pair], []).append(pair)
    for dataset in datasets:
        try:
            named = split_dataset_name(dataset.uri or "")
        except ValidationFailed:
            continue  # a URI that names no data source and path
        if named in listed:
            found.offer(dataset.dataset, named, 0, "the dataset's URI names it")
            continue
        key = _key(*named)
        candidates = by_key.get(key)
        if candidates and len(candidates) <= MAX_CANDIDATES:
            reason = f"the dataset's URI ends in the same parts: {'.'.join(key)}"
            for candidate in candidates:
                found.offer(dataset.dataset, candidate, 1, reason)


def _command(identity: str, suggested: str) -> str:
    if identity.startswith(OL_DATASET_PREFIX):
        return f"cairn lineage alias {shlex.quote(suggested)} {shlex.quote(identity)}"
    dataset = identity.removeprefix("dataset:")
    external = f"{OPENLINEAGE_ID}={suggested.removeprefix(OL_DATASET_PREFIX)}"
    return f"cairn dataset update {shlex.quote(dataset)} --external-id {shlex.quote(external)}"


def _duplicates(cairn: _Side, listed: dict[_Pair, None], keys: _Keys) -> list[dict[str, Any]]:
    # A canonical identity is known by its aliases' keys as well as its own.
    names = [(pair, pair) for pair in cairn.claimed]
    names += [(alias, pair) for pair, aliases in cairn.aliases.items() for alias in aliases]
    groups = {
        **_groups("cairn", names, cairn, keys),
        **_groups("catalog", [(pair, pair) for pair in listed], cairn, keys),
    }
    return sorted(groups.values(), key=lambda group: (group["side"], group["key"]))


def _groups(
    side: str, names: list[tuple[_Pair, _Pair]], cairn: _Side, keys: _Keys
) -> dict[tuple[str, tuple[str, ...]], dict[str, Any]]:
    """Groups of two or more members, of different classes, under one key: (name, member)
    pairs are filed under the name's key."""
    first: dict[tuple[str, ...], _Pair] = {}
    # key -> each class filed under it -> its member with the least ref
    shared: dict[tuple[str, ...], dict[_Pair, _Pair]] = {}
    for name, member in names:
        key = keys[name]
        held = first.setdefault(key, member)
        if held == member and key not in shared:
            continue
        classes = shared.setdefault(key, {cairn.root(held): held})
        root = cairn.root(member)
        least = classes.get(root)
        if least is None or _ref(member) < _ref(least):
            classes[root] = member
    groups: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for key in sorted(shared):
        classes = shared[key]
        if len(classes) < 2:
            continue
        identities = sorted(_ref(member) for member in classes.values())
        # One set of identities can share several keys (through aliases): report it once,
        # under the first key.
        groups.setdefault(
            (side, tuple(identities)),
            {"side": side, "key": ".".join(key), "identities": identities},
        )
    return groups
