"""Spans of time as people type them on a command line: ``30m``, ``12h``, ``90d``, ``2w``."""

from __future__ import annotations

import re
from datetime import timedelta

from cairn.core.errors import ValidationFailed

_SPAN = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_span(text: str, *, field: str, hint: str = "") -> timedelta:
    """``90d`` -> 90 days. ``field`` names the option in the error (``--older-than``)."""
    found = _SPAN.match(text.strip().lower())
    if not found or int(found[1]) == 0:
        raise ValidationFailed(
            f"{field} {text!r} is not a span of time",
            field=field.lstrip("-"),
            rule="duration",
            hint="a positive number and a unit: 30m, 12h, 90d, 2w" + hint,
        )
    return timedelta(**{_UNITS[found[2]]: int(found[1])})
