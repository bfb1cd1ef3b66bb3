"""Reading a data catalog's export: the OpenLineage dataset identities it lists.

Accepted: an OpenLineage/Marquez dataset listing (``{"datasets": [...]}``), a JSON array of
objects or ``namespace/name`` strings, JSON Lines of objects, or CSV with ``namespace`` and
``name`` columns (or one identity column). Anything else is refused with where it went wrong.
Pure: the caller reads the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Any, NoReturn

from cairn.core.errors import ValidationFailed
from cairn.core.lineage import MAX_IDENTITY, OL_DATASET_PREFIX, split_dataset_name
from cairn.core.reconcile import Identity

#: The most entries a catalog file may hold.
MAX_CATALOG_ENTRIES = 1_000_000

_HINT = (
    'export the catalog as an OpenLineage/Marquez dataset listing ({"datasets": [...]}), '
    'a JSON array or JSON Lines of {"namespace": ..., "name": ...} objects or '
    "'namespace/name' strings, or CSV with namespace and name columns (or one identity column)"
)

_Pair = tuple[str, str]


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
        namespace, name = split_dataset_name(text.removeprefix(OL_DATASET_PREFIX))
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
