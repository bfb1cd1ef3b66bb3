"""Canonical names and stable identifiers.

A name is lower-case ASCII letters, digits, ``-``, ``_`` and ``.``, starting and ending with a
letter or digit. Anything else is refused rather than silently rewritten, so ``churn``,
``churn%20``, ``%63hurn``, a full-width ``ｃhurn`` and ``churn`` with a zero-width space can never
name different models::

    >>> canonical_name("churn")
    'churn'
    >>> parse_ref("model:fraud/churn@3").version
    3
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import unquote

from cairn.core.errors import ValidationFailed

NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$"
_NAME = re.compile(NAME_PATTERN)
MAX_NAME_LENGTH = 63
#: Version numbers are 32-bit integers in the database; a larger one names nothing.
MAX_VERSION = 2**31 - 1


class Kind(StrEnum):
    """The kinds of entity that have a stable identifier."""

    TEAM = "team"
    MODEL = "model"
    DATASET = "dataset"
    FEATURE_VIEW = "feature-view"
    RUN = "run"
    ENVIRONMENT = "environment"
    DEPLOYMENT = "deployment"
    SCHEMA = "schema"


def _suggestion(raw: str) -> str | None:
    # Decode percent-escapes first: `churn%20` and `%63hurn` were meant as `churn`.
    folded = unicodedata.normalize("NFKC", unquote(raw)).casefold()
    folded = "".join(ch for ch in folded if unicodedata.category(ch) not in {"Cf", "Cc"})
    folded = re.sub(r"[^a-z0-9._-]+", "-", folded).strip("-._")
    return folded if folded and folded != raw and _NAME.match(folded) else None


def canonical_name(raw: str, *, field: str = "name") -> str:
    """Return ``raw`` if it is a canonical name; otherwise raise with a suggestion."""
    if _NAME.match(raw) and ".." not in raw:
        return raw
    hint = "use lower-case letters, digits, '-', '_' and '.', starting and ending alphanumeric"
    suggestion = _suggestion(raw)
    if suggestion:
        hint += f"; did you mean {suggestion!r}?"
    if len(raw) > MAX_NAME_LENGTH:
        hint = f"at most {MAX_NAME_LENGTH} characters"
    raise ValidationFailed(
        f"{field} {raw!r} is not a valid name", field=field, rule="name", hint=hint
    )


def is_version(text: str) -> bool:
    """Whether ``text`` is a version number as written in an identifier: ``1`` to MAX_VERSION."""
    if not text.isascii() or not text.isdigit() or text.startswith("0"):
        return False
    return len(text) <= len(str(MAX_VERSION)) and int(text) <= MAX_VERSION


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed identifier: ``kind:namespace/name@version``; namespace and version optional."""

    kind: Kind
    name: str
    namespace: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        return _format_ref(self.kind, self.name, self.namespace, self.version)

    @property
    def path(self) -> str:
        """``namespace/name`` (or just ``name`` for registry-wide entities)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def unversioned(self) -> Ref:
        """The same identifier without its version."""
        return Ref(self.kind, self.name, self.namespace)


@lru_cache(maxsize=65_536)
def _format_ref(kind: Kind, name: str, namespace: str | None, version: int | None) -> str:
    body = f"{namespace}/{name}" if namespace else name
    return f"{kind}:{body}" + (f"@{version}" if version is not None else "")


_NAMESPACED = {Kind.MODEL, Kind.DATASET, Kind.FEATURE_VIEW, Kind.RUN}


@lru_cache(maxsize=65_536)
def parse_ref(text: str, *, kind: Kind | None = None, versioned: bool | None = None) -> Ref:
    """Parse ``kind:ns/name@version`` (the ``kind:`` prefix may be left out if ``kind`` is given).

    ``versioned=True`` demands a version, ``False`` forbids one, ``None`` accepts both.
    """
    original = text
    found_kind: Kind | None = None
    if ":" in text:
        prefix, text = text.split(":", 1)
        try:
            found_kind = Kind(prefix)
        except ValueError:
            raise ValidationFailed(
                f"unknown identifier kind {prefix!r} in {original!r}",
                field="id",
                rule="kind",
                hint=f"one of: {', '.join(k.value for k in Kind)}",
            ) from None
        if kind is not None and found_kind is not kind:
            raise ValidationFailed(
                f"{original!r} is a {found_kind} identifier, expected a {kind}",
                field="id",
                rule="kind",
            )
    resolved = found_kind or kind
    if resolved is None:
        raise ValidationFailed(
            f"{original!r} does not say what it names",
            field="id",
            rule="kind",
            hint="prefix it with a kind, e.g. 'model:team/name@1'",
        )
    version: int | None = None
    if "@" in text:
        text, raw_version = text.rsplit("@", 1)
        if not is_version(raw_version):
            raise ValidationFailed(
                f"version {raw_version!r} in {original!r} is not a whole number "
                f"from 1 to {MAX_VERSION}",
                field="version",
                rule="positive-integer",
            )
        version = int(raw_version)
    if versioned is True and version is None:
        raise ValidationFailed(
            f"{original!r} names no version",
            field="id",
            rule="versioned",
            hint=f"append @<version>, e.g. {str(Ref(resolved, 'x', 'team', 1))!r}",
        )
    if versioned is False and version is not None:
        raise ValidationFailed(
            f"{original!r} must not name a version", field="id", rule="unversioned"
        )
    namespace: str | None = None
    if resolved in _NAMESPACED:
        if text.count("/") != 1:
            raise ValidationFailed(
                f"{original!r} must be '<team>/<name>'",
                field="id",
                rule="namespaced",
            )
        namespace, text = text.split("/")
        namespace = canonical_name(namespace, field="team")
    elif "/" in text:
        raise ValidationFailed(f"{original!r} takes no namespace", field="id", rule="global")
    return Ref(resolved, canonical_name(text), namespace, version)
