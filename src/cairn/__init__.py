"""Cairn: a model registry that knows where every model came from.

    import cairn
    registry = cairn.connect("./.cairn")          # embedded SQLite
    registry = cairn.connect("postgresql://...")  # embedded, on PostgreSQL
    registry = cairn.connect("http://127.0.0.1:8080", token="cairn_...")  # a server

Nothing heavy is imported until :func:`connect` is called.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.core.errors import (
    CairnError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    Unauthenticated,
    ValidationFailed,
    VerificationFailed,
)

if TYPE_CHECKING:
    from cairn.core.registry import Registry

__version__ = "0.1.0"
__all__ = [
    "CairnError",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "Registry",
    "StorageUnavailable",
    "Unauthenticated",
    "ValidationFailed",
    "VerificationFailed",
    "__version__",
    "connect",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> object:
    # ``cairn.Registry`` without importing Pydantic models at ``import cairn``.
    if name == "Registry":
        from cairn.core.registry import Registry

        return Registry
    raise AttributeError(f"module 'cairn' has no attribute {name!r}")


def connect(
    target: str | Path = ".cairn",
    *,
    actor: str | None = None,
    token: str | None = None,
    webhook_allow: str | Sequence[str] | None = None,
) -> Registry:
    """Open a registry: a folder or ``sqlite:///`` URL, a ``postgresql://`` URL (embedded), or
    an ``http(s)://`` URL of a Cairn server.

    Embedded, the schema is created or migrated on first connect and ``actor`` names who makes
    the changes (default: the operating-system user). Remote, the server knows who you are from
    ``token`` (see ``cairn token create``). ``webhook_allow`` names destinations that embedded
    webhooks may reach although they are not public (``127.0.0.1``, ``hooks.internal:8443``,
    ``10.20.0.0/16``); a server has its own (``cairn serve --webhook-allow``).
    """
    text = str(target)
    if text.startswith(("http://", "https://")):
        from cairn.client import HttpRegistry

        return HttpRegistry(text, token=token)
    from cairn.local import LocalRegistry

    return LocalRegistry.open(
        text, actor=actor or f"user:{getpass.getuser()}", webhook_allow=webhook_allow
    )
