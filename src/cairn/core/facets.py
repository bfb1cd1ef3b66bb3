"""Facet schemas: named, versioned JSON Schemas; validation and migration of facet data.

A facet is addressed as ``name/version`` (``acme.credit-risk/2``). Validation names the field
(as a JSON path), the rule (the JSON Schema keyword) and the schema version. A migration from
version *n-1* to *n* is a JSON Patch (RFC 6902) whose ``move``, ``copy`` and ``remove``
operations are skipped when their source is absent, since facet fields are often optional::

    >>> migrate({"pd": 0.1}, [{"op": "move", "from": "/pd", "path": "/probability_of_default"}])
    {'probability_of_default': 0.1}
"""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonpatch
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from cairn.core.errors import ValidationFailed
from cairn.core.names import MAX_VERSION, is_version

FACET_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}(\.[a-z0-9][a-z0-9-]{0,62}){1,3}$"
_FACET_NAME = re.compile(FACET_NAME_PATTERN)
BUILTIN_PREFIX = "cairn."
_MIGRATION_OPS = {"add", "remove", "replace", "move", "copy"}


def facet_name(raw: str) -> str:
    """Return ``raw`` if it is a valid dotted facet name (``owner.facet``)."""
    if not _FACET_NAME.match(raw):
        raise ValidationFailed(
            f"facet name {raw!r} is not valid",
            field="facet",
            rule="name",
            hint="lower-case dotted name such as 'acme.credit-risk'",
        )
    return raw


def parse_facet_key(key: str) -> tuple[str, int | None]:
    """``acme.credit-risk/2`` -> ``("acme.credit-risk", 2)``; no version -> ``None`` (latest)."""
    name, _, version = key.partition("/")
    if version and not is_version(version):
        raise ValidationFailed(
            f"facet {key!r} names version {version!r}, not a whole number from 1 to {MAX_VERSION}",
            field="facet",
            rule="version",
        )
    return facet_name(name), int(version) if version else None


def check_schema(name: str, version: int, json_schema: dict[str, Any]) -> None:
    """Refuse a document that is not a valid JSON Schema (2020-12)."""
    try:
        Draft202012Validator.check_schema(json_schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ValidationFailed(
            f"schema {name}/{version} is not a valid JSON Schema at {path}: {exc.message}",
            field="json_schema",
            rule=str(exc.validator),
            schema=f"{name}/{version}",
        ) from None


def check_migration(ops: list[dict[str, Any]]) -> None:
    """Refuse a migration that is not a JSON Patch of the supported operations."""
    for index, op in enumerate(ops):
        if op.get("op") not in _MIGRATION_OPS or not isinstance(op.get("path"), str):
            raise ValidationFailed(
                f"migration step {index} is not a JSON Patch operation of {sorted(_MIGRATION_OPS)}",
                field=f"migration[{index}]",
                rule="json-patch",
            )
        if op["op"] in {"move", "copy"} and not isinstance(op.get("from"), str):
            raise ValidationFailed(
                f"migration step {index} ({op['op']}) needs a 'from' path",
                field=f"migration[{index}]",
                rule="json-patch",
            )


MAX_SAFE_INTEGER = 2**53 - 1


def _unsafe_integer(data: Any, path: str = "") -> str | None:
    """Path of the first integer that JSON readers using doubles would round, if any."""
    if isinstance(data, int) and not isinstance(data, bool):
        return path if abs(data) > MAX_SAFE_INTEGER else None
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, item in items:
        found = _unsafe_integer(item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")
        if found is not None:
            return found
    return None


def validate(schema_ref: str, json_schema: dict[str, Any], data: Any) -> None:
    """Raise :class:`ValidationFailed` naming field, rule and schema if ``data`` breaks it.

    Integers beyond ±(2**53 - 1) are refused whatever the schema says: RFC 8785 encodes
    numbers as IEEE doubles, so they would not survive canonical encoding exactly.
    """
    unsafe = _unsafe_integer(data)
    if unsafe is not None:
        field = unsafe.lstrip(".") or "(root)"
        raise ValidationFailed(
            f"{schema_ref}{unsafe}: integer is larger than 2**53 - 1 (rule 'safe-integer')",
            field=field,
            rule="safe-integer",
            schema=schema_ref,
        )
    validator = Draft202012Validator(json_schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    first: ValidationError = errors[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
    field = f"{schema_ref}{path}" if path else schema_ref
    raise ValidationFailed(
        f"{field}: {first.message} (rule '{first.validator}' of schema {schema_ref})",
        field=path.lstrip(".") or "(root)",
        rule=str(first.validator),
        schema=schema_ref,
        problems=len(errors),
    )


def _exists(doc: Any, pointer: str) -> bool:
    try:
        jsonpatch.JsonPointer(pointer).resolve(doc)
    except (jsonpatch.JsonPointerException, KeyError, IndexError, TypeError):
        return False
    return True


def migrate(data: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply one migration step to ``data`` and return the upgraded copy."""
    doc = copy.deepcopy(data)
    for op in ops:
        source = op.get("from") if op["op"] in {"move", "copy"} else op["path"]
        if op["op"] in {"move", "copy", "remove"} and not _exists(doc, str(source)):
            continue
        doc = jsonpatch.apply_patch(doc, [op])
    return doc


BUILTIN_SCHEMAS: dict[str, dict[str, Any]] = {
    "cairn.documentation/1": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Why a model exists and where it must not be used",
        "type": "object",
        "properties": {
            "purpose": {"type": ["string", "null"], "maxLength": 10000},
            "intended_use": {"type": ["string", "null"], "maxLength": 10000},
            "out_of_scope_uses": {"type": "array", "items": {"type": "string"}},
            "limitations": {"type": "array", "items": {"type": "string"}},
            "failure_modes": {"type": "array", "items": {"type": "string"}},
        },
    },
    "cairn.dependencies/1": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "What a model version needs to run",
        "type": "object",
        "properties": {
            "libraries": {"type": "array", "items": {"type": "string"}},
            "runtime": {
                "type": "object",
                "properties": {
                    "python": {"type": ["string", "null"]},
                    "cuda": {"type": ["string", "null"]},
                    "image": {"type": ["string", "null"]},
                },
            },
            "hardware": {
                "type": "object",
                "properties": {
                    "accelerator": {"type": ["string", "null"]},
                    "accelerators": {"type": "integer", "minimum": 0},
                    "memory_gb": {"type": ["number", "null"]},
                },
            },
        },
    },
}
