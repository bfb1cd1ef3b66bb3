"""Cairn's error hierarchy: one root, subclasses by meaning.

Every error carries a one-line human message and structured ``details`` so that the CLI,
the HTTP server and SDK callers can all say exactly what was wrong::

    try:
        registry.get_model("fraud/churn")
    except NotFound as exc:
        print(exc.diagnostics())
"""

from __future__ import annotations

from typing import Any


class CairnError(Exception):
    """Root of every error Cairn raises on purpose."""

    #: A short, stable machine-readable code (also the problem+json ``type`` suffix).
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def diagnostics(self) -> str:
        """Return the message with a hint, if one was given, for a human reader."""
        hint = self.details.get("hint")
        return f"{self.message} ({hint})" if hint else self.message


class NotFound(CairnError):
    """The named entity does not exist."""

    code = "not-found"


class Conflict(CairnError):
    """The change contradicts the registry's current state (duplicate name, stale write...)."""

    code = "conflict"


class PreconditionFailed(Conflict):
    """The entity changed since the revision the caller read (a stale optimistic write)."""

    code = "precondition-failed"


class ValidationFailed(CairnError):
    """Input was rejected: a malformed name, a metadata field breaking its schema..."""

    code = "validation-failed"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        schema: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, field=field, rule=rule, schema=schema, **details)
        self.field = field
        self.rule = rule
        self.schema = schema


InvalidInput = ValidationFailed


class Unauthenticated(CairnError):
    """No credentials, or credentials that are malformed, unknown, expired or revoked."""

    code = "unauthenticated"


class PermissionDenied(CairnError):
    """The actor may not perform this action."""

    code = "permission-denied"


class VerificationFailed(CairnError):
    """A hash, a chain or a signature did not match what was recorded."""

    code = "verification-failed"


class StorageUnavailable(CairnError):
    """The database could not be reached or stayed locked for too long."""

    code = "storage-unavailable"
