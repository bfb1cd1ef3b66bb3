"""Turn command-line strings into registry input; every refusal is a ``ValidationFailed``.

Malformed input must end in the single catch site as one line, never as a Typer usage
panel or a traceback, so parsing happens here rather than in Typer callbacks::

    >>> pairs(["team=fraud"], "--label")
    {'team': 'fraud'}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cairn.core.errors import ValidationFailed


def pairs(items: list[str] | None, option: str) -> dict[str, str]:
    """Parse repeated ``key=value`` options."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(
                f"{option} {item!r} is not key=value", field=option, rule="format"
            )
        out[key.strip()] = value
    return out


def numbers(items: list[str] | None, option: str = "--metric") -> dict[str, float]:
    """Parse repeated ``name=value`` options whose values are numbers."""
    out: dict[str, float] = {}
    for key, value in pairs(items, option).items():
        try:
            out[key] = float(value)
        except ValueError:
            raise ValidationFailed(
                f"{option} {key}={value!r}: the value is not a number", field=option, rule="number"
            ) from None
    return out


def typed_fields(items: list[str] | None, option: str) -> list[dict[str, str]]:
    """Parse repeated ``name:type`` options into field specs."""
    out: list[dict[str, str]] = []
    for item in items or []:
        name, sep, kind = item.partition(":")
        if not sep or not name or not kind:
            raise ValidationFailed(
                f"{option} {item!r} is not name:type", field=option, rule="format"
            )
        out.append({"name": name, "type": kind})
    return out


def load_json(path: str, option: str) -> Any:
    """Read a JSON document from a file (``-`` is not supported: files are auditable)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationFailed(f"{option} {path}: {exc.strerror}", field=option) from None
    except ValueError as exc:
        raise ValidationFailed(f"{option} {path} is not valid JSON: {exc}", field=option) from None


def load_object(path: str | None, option: str = "--metadata") -> dict[str, Any]:
    """Read a JSON object from a file; no file gives an empty object."""
    if path is None:
        return {}
    data = load_json(path, option)
    if not isinstance(data, dict):
        raise ValidationFailed(f"{option} {path} must hold a JSON object", field=option)
    return data


def facets(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """Parse repeated ``name/version=FILE.json`` options into facet input."""
    out: dict[str, dict[str, Any]] = {}
    for key, path in pairs(items, "--facet").items():
        out[key] = load_object(path, "--facet")
    return out


def merge(metadata: str | None, reserved: tuple[str, ...] = (), **options: Any) -> dict[str, Any]:
    """The ``--metadata`` file overlaid with the options given; unset options change nothing.

    Keys in ``reserved`` are command arguments, so the file may not set them too.
    """
    fields = load_object(metadata)
    for key in reserved:
        if key in fields:
            raise ValidationFailed(
                f"--metadata may not set {key!r}: it is given on the command line",
                field=key,
                rule="reserved",
            )
    for key, value in options.items():
        if value is not None and value != [] and value != {}:
            fields[key] = value
    return fields


def day(text: str, option: str) -> date:
    """Parse an ISO 8601 date (2027-03-31)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{option} {text!r} is not a date",
            field=option.removeprefix("--"),
            hint="write it as 2027-03-31",
        ) from None


def moment(text: str | None, option: str = "--at") -> datetime | None:
    """Parse an ISO 8601 time; one without a timezone is taken as UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{option} {text!r} is not an ISO 8601 time",
            field=option,
            rule="format",
            hint="e.g. 2025-03-01T12:00:00Z",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def json_lines(path: str, lines: list[int]) -> Iterator[dict[str, Any]]:
    """The objects of a JSON Lines file, one per non-blank line.

    ``lines`` is filled with the line number of each record as it is read, so that an error
    about record *n* can name the line a person would open the file at.
    """
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line.strip())
                except ValueError as exc:
                    raise ValidationFailed(
                        f"{path} line {number} is not valid JSON: {exc}", field="file", rule="json"
                    ) from None
                if not isinstance(record, dict):
                    raise ValidationFailed(
                        f"{path} line {number} must hold a JSON object", field="file", rule="json"
                    )
                lines.append(number)
                yield record
    except OSError as exc:
        raise ValidationFailed(f"{path}: {exc.strerror}", field="file") from None


def count_lines(path: str) -> int:
    """Non-blank lines in a file (an upper bound on its records, for a progress bar)."""
    try:
        with Path(path).open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError as exc:
        raise ValidationFailed(f"{path}: {exc.strerror}", field="file") from None
