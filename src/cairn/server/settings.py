"""How one server process is configured (``cairn serve`` options)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cairn.core.webhooks import RetryPolicy
from cairn.services.oidc import OidcSettings

#: Largest request body accepted; a registration with rich metadata is a few kilobytes.
MAX_BODY_BYTES = 1_000_000
#: Most versions in one batch request (the body limit binds first for rich metadata).
MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class ServerSettings:
    target: str  # registry folder or database URL
    home: str = ".cairn"  # where the token key lives (see cairn.store.keys)
    insecure_open: bool = False  # anonymous requests act as an admin: demos on a laptop only
    open_reads: bool = True  # every authenticated principal may read the catalogue
    max_body_bytes: int = MAX_BODY_BYTES
    secret_key: str | None = None  # hex token-hash key; default: the key file (store.keys)
    access_retention: timedelta | None = None  # prune older access records hourly; None: keep
    oidc: OidcSettings | None = None  # also accept identity tokens (JWTs) from this provider
    # Destinations webhooks may reach although not public (core.webhooks.AllowList entries).
    webhook_allow: tuple[str, ...] = ()
    deliver_webhooks: bool = True  # run a delivery worker in this process
    webhook_poll_s: float = 1.0  # how often an idle delivery worker looks for new events
    webhook_retry: RetryPolicy | None = None  # default: core.webhooks.RetryPolicy()
