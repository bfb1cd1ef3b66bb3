"""Where the registry is and who is acting, from global options or the environment.

The environment is read here and nowhere else in Cairn::

    with open_registry() as registry:
        registry.get_model("fraud/churn")
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cairn.core.registry import Registry


@dataclass
class Settings:
    """Global options of one invocation; reset by the app callback every time."""

    registry: str | None = None
    actor: str | None = None
    token: str | None = None


SETTINGS = Settings()


def home() -> str:
    """The registry folder used when no ``--registry``/``CAIRN_REGISTRY`` is given."""
    return os.environ.get("CAIRN_HOME") or ".cairn"


def target() -> str:
    """The folder, database file or URL to open."""
    return SETTINGS.registry or home()


def secret_key() -> str | None:
    """The configured token key (hex), if any; see :mod:`cairn.store.keys`."""
    return os.environ.get("CAIRN_SECRET_KEY") or None


def webhook_allow() -> str | None:
    """Where webhooks may go although not public (``CAIRN_WEBHOOK_ALLOW``), embedded only."""
    return os.environ.get("CAIRN_WEBHOOK_ALLOW") or None


def actor() -> str:
    return SETTINGS.actor or f"user:{getpass.getuser()}"


@contextmanager
def open_registry() -> Iterator[Registry]:
    """Open (creating or migrating if needed) the registry and close it afterwards."""
    import cairn

    registry = cairn.connect(
        target(), actor=actor(), token=SETTINGS.token, webhook_allow=webhook_allow()
    )
    try:
        yield registry
    finally:
        registry.close()
