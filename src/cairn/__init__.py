"""Cairn: a model registry that knows where every model came from.

    import cairn
    registry = cairn.connect("./.cairn")          # embedded SQLite
    registry = cairn.connect("postgresql://...")  # embedded, on PostgreSQL

Nothing heavy is imported until :func:`connect` is called.
"""

from __future__ import annotations

import getpass
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.core.errors import (
    CairnError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
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


def connect(target: str | Path = ".cairn", *, actor: str | None = None) -> Registry:
    """Open a registry: a folder or ``sqlite:///`` URL, or a ``postgresql://`` URL.

    The schema is created or migrated on first connect. ``actor`` names who makes the changes
    (default: the operating-system user).
    """
    from cairn.local import LocalRegistry

    return LocalRegistry.open(str(target), actor=actor or f"user:{getpass.getuser()}")
