"""Canonical JSON (RFC 8785, JCS) and the hashes taken over it.

``rfc8785`` is the reference encoder. It is pure Python (about 110 µs for an event here), so a
fast path uses the C ``json`` encoder and keeps its output wherever it is provably identical.
The two can differ in only two ways. Numbers: Python's ``repr`` of a float equals ECMAScript's
form except for integral floats (``1.0``, JCS ``1``) and exponent forms (``1e-05``, JCS
``1e-5``), and both of those are visible in the output as a number token ending in ``.0`` or
holding an ``e``. Key order: code-point order equals JCS's UTF-16 order unless a key holds a
character beyond the Basic Multilingual Plane, which the output shows too. When the output
shows neither, it is the canonical form; otherwise the value is normalised (integral floats
as integers) or handed to the reference. Object keys must be strings: every payload comes
from a validated spec. Hypothesis checks the paths agree (tests/core/test_canonical.py)::

    >>> canonical_json({"b": 1, "a": [1.0, 0.5]})
    b'{"a":[1,0.5],"b":1}'
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import rfc8785

_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


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


# A number token of Python's that JCS writes differently: integral (``3.0``) or with an
# exponent (``1e-05``, ``1.5e+16``). It may also match inside a string, which only costs
# the slower path.
_SUSPECT_NUMBER = re.compile(r"(?:^|[:,\[])-?\d+(?:\.\d+)?(?:\.0|e[-+]\d+)(?:[,\]}]|$)")
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


def canonical_json(value: Any) -> bytes:
    """Encode a JSON-compatible value as RFC 8785 canonical JSON bytes."""
    text = _dumps(value)
    if _SUSPECT_NUMBER.search(text) is None and (
        text.isascii() or _BEYOND_BMP.search(text) is None
    ):
        return text.encode("utf-8")
    try:
        return _dumps(_normalise(value)).encode("utf-8")
    except _NeedsReference:
        return bytes(rfc8785.dumps(value))


_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def canonical_string(text: str) -> bytes:
    """A JSON string in canonical form (JCS escapes exactly what ``json`` does here)."""
    return _encode_string(str(text)).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
