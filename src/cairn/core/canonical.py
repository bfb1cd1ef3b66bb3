"""Canonical JSON (RFC 8785, JCS) and the hashes taken over it.

``rfc8785`` is the reference encoder. It is pure Python (about 110 µs for an event here), so a
fast path uses the C ``json`` encoder and keeps its output wherever it is provably identical.
They differ in two ways only, and both show in the C encoder's output: some float forms (see
``_is_canonical``) and the order of keys holding characters beyond the Basic Multilingual
Plane (JCS sorts by UTF-16 unit, Python by code point). Where the output shows either, the
value is normalised (integral floats as integers) or handed to the reference. Object keys
must be strings: every payload comes from a validated spec. Hypothesis checks that all paths
agree with the reference (tests/core/test_canonical.py)::

    >>> canonical_json({"b": 1, "a": [1.0, 0.5]})
    b'{"a":[1,0.5],"b":1}'
"""

from __future__ import annotations

import hashlib
import json
import math
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


# Where Python's float ``repr`` and JCS differ, the C encoder's output shows it: an integral
# float ends in ``.0`` (JCS writes ``3``), exponents -5 to -9 are zero-padded (``1e-05``;
# JCS writes ``0.00001`` and ``1e-7``), and 1e16 to 1e21 take an exponent (``1e+16``; JCS
# writes the digits). Elsewhere both are the shortest round-trip digits in the same form.
# Each marker is found by substring search (a regex over the event costs more than the
# encoding) and counts only where it sits in a number token: after ``:``, ``,`` or ``[``
# and before ``,``, ``]``, ``}`` or the end. ``"numpy>=2.0,<3"`` in a string is not one.
_MARKERS = (".0", "e-0", "e+")
_NUMBER_CHARS = frozenset("0123456789.-")
_BEFORE_VALUE = frozenset(":,[")
_AFTER_VALUE = frozenset(",]}")


def _in_number_token(text: str, at: int, marker: str) -> bool:
    """Whether ``marker`` at ``at`` is one of the float forms JCS writes differently."""
    start = at
    while start > 0 and text[start - 1] in _NUMBER_CHARS:
        start -= 1
    if start == at or (start > 0 and text[start - 1] not in _BEFORE_VALUE):
        return False
    end = at + len(marker)
    while end < len(text) and text[end].isdigit():
        end += 1
    if end < len(text) and text[end] not in _AFTER_VALUE:
        return False
    exponent = text[at + len(marker) : end]
    if marker == ".0":
        return not exponent  # "3.0" is integral; "3.05" is written alike by both
    if marker == "e+":
        return exponent.isdigit() and 16 <= int(exponent) <= 20
    return True


def _is_canonical(text: str) -> bool:
    """Whether the C encoder's ``text`` is already the JCS form of what it encodes."""
    for marker in _MARKERS:
        at = text.find(marker)
        while at != -1:
            if _in_number_token(text, at, marker):
                return False
            at = text.find(marker, at + 1)
    # Keys sort by code point; JCS sorts by UTF-16 unit, which differs only beyond the BMP.
    return text.isascii() or max(text) <= "\uffff"


def canonical_json(value: Any) -> bytes:
    """Encode a JSON-compatible value as RFC 8785 canonical JSON bytes."""
    text = _dumps(value)
    if _is_canonical(text):
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
