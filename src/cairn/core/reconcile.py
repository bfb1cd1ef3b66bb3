"""Reconciling Cairn's datasets with an external data catalog's list.

An OpenLineage dataset is known by its *identity*, a namespace (the data source) and a name,
written ``namespace/name``; Cairn's node for it is ``ol-dataset:<namespace>/<name>``. Cairn keeps
*canonical* identities, each with the *aliases* recorded for it (other identities that mean the
same dataset), the registered datasets that claim it (``external_ids["openlineage"]``) and
whether lineage edges touch it. Reconciling compares that with a catalog's export
(:func:`parse_catalog`) and says, in a :class:`ReconcileReport`:

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

import csv
import io
import json
import shlex
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import chain
from pathlib import PurePath
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, computed_field

from cairn.core.errors import ValidationFailed
from cairn.core.lineage import (
    MAX_IDENTITY,
    OPENLINEAGE_ID,
    NodeKind,
    external_ref,
    split_dataset_name,
)

#: The most entries a catalog file may hold.
MAX_CATALOG_ENTRIES = 1_000_000

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

_PREFIX = "ol-dataset:"
_HINT = (
    'export the catalog as an OpenLineage/Marquez dataset listing ({"datasets": [...]}), '
    'a JSON array or JSON Lines of {"namespace": ..., "name": ...} objects or '
    "'namespace/name' strings, or CSV with namespace and name columns (or one identity column)"
)

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
# Reading a catalog export


class _Refused(Exception):
    """What was wrong with one entry; the caller adds where it was."""


def parse_catalog(text: str, filename: str) -> list[Identity]:
    """The identities an exported catalog lists, in file order, exact duplicates dropped.

    Accepted: an OpenLineage/Marquez dataset listing (``{"datasets": [...]}``, each dataset's
    ``id`` if it has one, else its own ``namespace`` and ``name``); a JSON array of such objects
    or of ``namespace/name`` strings; JSON Lines of objects; CSV with ``namespace`` and ``name``
    columns or an ``identity`` (or ``dataset``) column of ``namespace/name`` strings. The
    content decides (is it JSON?) before the extension does. Anything else is refused with
    where (index, line or row) and what was wrong.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        _refuse(f"{filename} is empty")
    suffix = PurePath(filename).suffix.lower()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        first = next(line for line in text.splitlines() if line.strip())
        if _is_json_object(first) or suffix in (".jsonl", ".ndjson"):
            entries = _json_lines(text, filename)
        elif first.lstrip()[:1] in ("{", "[") or suffix == ".json":
            _refuse(
                f"{filename} line {error.lineno} column {error.colno}: not valid JSON ({error.msg})"
            )
        else:
            entries = _csv_rows(text, filename, suffix)
    else:
        entries = _json_document(document, filename)
    return _unique(entries)


def _refuse(message: str) -> NoReturn:
    raise ValidationFailed(message, field="file", rule="catalog", hint=_HINT)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def _unique(entries: Iterable[_Pair]) -> list[Identity]:
    seen: dict[_Pair, None] = {}
    for count, pair in enumerate(entries, 1):
        # Counted before dropping duplicates: the bound is on the work reading takes.
        if count > MAX_CATALOG_ENTRIES:
            _refuse(f"the catalog holds more than {MAX_CATALOG_ENTRIES:,} entries")
        seen[pair] = None
    return [Identity(namespace=namespace, name=name) for namespace, name in seen]


def _is_page(value: dict[str, Any]) -> bool:
    return "datasets" in value and "name" not in value and "id" not in value


def _page(value: dict[str, Any], filename: str, where: str) -> Iterator[_Pair]:
    datasets = value["datasets"]
    if not isinstance(datasets, list):
        _refuse(f"{filename}{where}: datasets is {_what(datasets)}, not an array")
    for index, entry in enumerate(datasets):
        yield _located(entry, f"{filename}{where} datasets[{index}]")


def _json_document(document: Any, filename: str) -> Iterator[_Pair]:
    if isinstance(document, dict):
        if _is_page(document):
            yield from _page(document, filename, "")
        elif {"id", "namespace", "name"} & document.keys():
            # JSON Lines of one entry parse as a whole document.
            yield _located(document, f"{filename} line 1")
        else:
            _refuse(f"{filename} holds an object without a datasets array")
    elif isinstance(document, list):
        for index, entry in enumerate(document):
            yield _located(entry, f"{filename} [{index}]")
    else:
        _refuse(f"{filename} holds {_what(document)}, not a dataset listing or an array")


def _json_lines(text: str, filename: str) -> Iterator[_Pair]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            _refuse(f"{filename} line {number}: not valid JSON ({error.msg})")
        if isinstance(value, dict) and _is_page(value):
            # A paged export written one page a line.
            yield from _page(value, filename, f" line {number}")
        else:
            yield _located(value, f"{filename} line {number}")


def _located(entry: Any, where: str) -> _Pair:
    try:
        return _entry(entry)
    except _Refused as problem:
        _refuse(f"{where}: {problem}")


def _entry(entry: Any) -> _Pair:
    if isinstance(entry, str):
        return _split(entry)
    if not isinstance(entry, dict):
        raise _Refused(f"an entry is an object or a 'namespace/name' string, not {_what(entry)}")
    source = entry
    if "id" in entry:
        source = entry["id"]
        if not isinstance(source, dict):
            raise _Refused(f"id is {_what(source)}, not an object with namespace and name")
    return _checked(source.get("namespace"), "namespace"), _checked(source.get("name"), "name")


def _split(text: str) -> _Pair:
    try:
        namespace, name = split_dataset_name(text.removeprefix(_PREFIX))
    except ValidationFailed:
        raise _Refused(f"{text!r} is not 'namespace/name'") from None
    return _checked(namespace, "namespace"), _checked(name, "name")


def _checked(value: Any, what: str) -> str:
    if value is None or value == "":
        raise _Refused(f"no {what}")
    if not isinstance(value, str):
        raise _Refused(f"{what} is {_what(value)}, not a string")
    if len(value) > MAX_IDENTITY:
        raise _Refused(f"{what} is longer than {MAX_IDENTITY} characters")
    if "\x00" in value:
        raise _Refused(f"{what} holds a NUL character")
    return value


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _csv_rows(text: str, filename: str, suffix: str) -> Iterator[_Pair]:
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = "\t" if suffix == ".tsv" else _delimiter(first)
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns: list[int] | None = None
    number = 0
    try:
        for number, row in enumerate(rows, 1):
            # Spreadsheets pad cells and leave blank rows; neither is part of a name.
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if columns is None:
                columns = _columns([cell.lower() for cell in cells])
                if columns is None:
                    _refuse(
                        f"{filename} row {number}: the header names no namespace and name "
                        "columns and no identity or dataset column"
                    )
                continue
            try:
                if len(columns) == 1:
                    yield _split(_checked(_cell(cells, columns[0]), "identity"))
                else:
                    namespace = _checked(_cell(cells, columns[0]), "namespace")
                    yield namespace, _checked(_cell(cells, columns[1]), "name")
            except _Refused as problem:
                _refuse(f"{filename} row {number}: {problem}")
    except csv.Error as error:
        _refuse(f"{filename} row {number + 1}: not valid CSV ({error})")


def _delimiter(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _columns(header: list[str]) -> list[int] | None:
    if "namespace" in header and "name" in header:
        return [header.index("namespace"), header.index("name")]
    for column in ("identity", "dataset"):
        if column in header:
            return [header.index(column)]
    return None


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


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
    return f"{_PREFIX}{pair[0]}/{pair[1]}"


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
    if identity.startswith(_PREFIX):
        return f"cairn lineage alias {shlex.quote(suggested)} {shlex.quote(identity)}"
    dataset = identity.removeprefix("dataset:")
    external = f"{OPENLINEAGE_ID}={suggested.removeprefix(_PREFIX)}"
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
