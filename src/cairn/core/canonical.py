"""Canonical JSON (RFC 8785, JCS) and the hashes taken over it.

``rfc8785`` is the reference encoder. It is pure Python (about 110 µs for an event here), so a
fast path uses ``orjson`` (about 3 µs; the C ``json`` encoder took 15) and keeps its output
wherever it is provably identical. They differ in three ways only, and all show in orjson's
output: some float forms (see ``_is_canonical``), the order of keys holding characters beyond
the Basic Multilingual Plane (JCS sorts by UTF-16 unit, orjson by code point), and NaN or
infinity, which orjson writes as ``null`` where JCS has no form at all. Where the output shows
any of them, the value is checked (non-finite numbers are refused), normalised (integral
floats as integers) or handed to the reference. Values orjson refuses (integers beyond 64
bits, lone surrogates) take the standard library's encoder. Object keys must be strings:
every payload comes from a validated spec. Hypothesis checks that all paths agree with the
reference (tests/core/test_canonical.py)::

    >>> canonical_json({"b": 1, "a": [1.0, 0.5]})
    b'{"a":[1,0.5],"b":1}'
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import orjson
import rfc8785

from cairn.core.errors import ValidationFailed

_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
# Datetimes and dataclasses are not JSON values: refuse them as the standard encoder does,
# instead of letting orjson pick a text form for them.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


class _NeedsReference(Exception):
    """Raised inside the fast path when only the reference encoder is exact."""


_SCALARS = (str, int, bool, type(None))


def _normalise(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise ValueError("NaN and infinity have no canonical JSON form")
        if value.is_integer():
            if abs(value) >= 1e16:
                raise _NeedsReference
            return int(value)
        if not 1e-4 <= abs(value) < 1e16:
            raise _NeedsReference
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
            if not key.isascii() and max(key) > "\uffff":
                raise _NeedsReference
            # Scalars inline: a call per leaf would dominate the cost of encoding an event.
            out[key] = item if type(item) in _SCALARS else _normalise(item)
        return out
    if kind is list or kind is tuple:
        return [item if type(item) in _SCALARS else _normalise(item) for item in value]
    # Subclasses (enums aside, which encode as their value) go round once as their base type.
    if isinstance(value, float):
        return _normalise(float(value))
    if isinstance(value, dict):
        return _normalise(dict(value))
    if isinstance(value, list | tuple):
        return _normalise(list(value))
    return value


def _finite_throughout(value: Any) -> bool:
    """Whether every number in ``value`` is finite (orjson writes NaN as ``null``)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(type(v) in _SCALARS or _finite_throughout(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(type(v) in _SCALARS or _finite_throughout(v) for v in value)
    return True


# Where orjson's float form and JCS differ, the output shows it: an integral float ends in
# ``.0`` (JCS writes ``3``, and ``0`` for ``-0.0``), numbers from 1e-6 up to 1e-5 take the
# exponent ``e-6`` (JCS writes ``0.000001``), and 1e16 up to 1e21 take ``e+16`` to ``e+20``
# (JCS writes the digits). Elsewhere both are the shortest round-trip digits in the same
# form. Each marker is found by substring search (a regex over the event costs more than the
# encoding) and counts only where it sits in a number token: after ``:``, ``,`` or ``[``
# and before ``,``, ``]``, ``}`` or the end. ``"numpy>=2.0,<3"`` in a string is not one.
_MARKERS = (b".0", b"e-", b"e+")
_NUMBER_BYTES = frozenset(b"0123456789.-")
_BEFORE_VALUE = frozenset(b":,[")
_AFTER_VALUE = frozenset(b",]}")
_DIGITS = frozenset(b"0123456789")
# A UTF-8 lead byte of a code point beyond the BMP; other bytes never take these values.
_BEYOND_BMP = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")


def _in_number_token(data: bytes, at: int, marker: bytes) -> bool:
    """Whether ``marker`` at ``at`` is one of the float forms JCS writes differently."""
    start = at
    while start > 0 and data[start - 1] in _NUMBER_BYTES:
        start -= 1
    if start == at or (start > 0 and data[start - 1] not in _BEFORE_VALUE):
        return False
    end = at + len(marker)
    while end < len(data) and data[end] in _DIGITS:
        end += 1
    if end < len(data) and data[end] not in _AFTER_VALUE:
        return False
    exponent = data[at + len(marker) : end]
    if marker == b".0":
        return not exponent  # "3.0" is integral; "3.05" is written alike by both
    if marker == b"e-":
        return exponent == b"6"
    return bool(exponent) and 16 <= int(exponent) <= 20


def _is_canonical(data: bytes) -> bool:
    """Whether orjson's ``data`` is already the JCS form of what it encodes (NaN aside)."""
    for marker in _MARKERS:
        at = data.find(marker)
        while at != -1:
            if _in_number_token(data, at, marker):
                return False
            at = data.find(marker, at + 1)
    # Keys sort by code point; JCS sorts by UTF-16 unit, which differs only beyond the BMP.
    return data.isascii() or not any(lead in data for lead in _BEYOND_BMP)


def canonical_json(value: Any) -> bytes:
    """Encode a JSON-compatible value as RFC 8785 canonical JSON bytes."""
    try:
        data = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        data = None
    if data is not None and _is_canonical(data):
        if b"null" not in data or _finite_throughout(value):
            return data
        raise ValueError("NaN and infinity have no canonical JSON form")
    try:
        return _dumps(_normalise(value)).encode("utf-8")
    except _NeedsReference:
        return bytes(rfc8785.dumps(value))


#: U+0000 as a JSON escape, not itself escaped (``\\u0000`` is a backslash and ``u0000``).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def holds_nul(encoded: bytes) -> bool:
    """Whether the JSON text ``encoded`` holds a NUL character (U+0000) in a string; an
    escaped backslash followed by ``u0000`` is text, not NUL."""
    return b"\\u0000" in encoded and _NUL_ESCAPE.search(encoded) is not None


def nul_refused() -> ValidationFailed:
    """The error for text holding U+0000: PostgreSQL cannot store it, so no registry keeps
    one, whatever its database."""
    return ValidationFailed(
        "the change holds a NUL character (U+0000), which no text in the registry may contain",
        field="(text)",
        rule="no-nul",
        hint="remove the NUL character",
    )


_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def canonical_string(text: str) -> bytes:
    """A JSON string in canonical form (JCS escapes exactly what ``json`` does here)."""
    return _encode_string(str(text)).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
