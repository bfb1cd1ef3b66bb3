"""What one server process holds: the registry, the token check and the access-log buffer."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import text

from cairn.core.access import Principal
from cairn.core.errors import CairnError
from cairn.local import LocalRegistry
from cairn.server.settings import ServerSettings
from cairn.services.access import AccessService
from cairn.store import reads
from cairn.store import tables as t

#: The access log is written in batches: a row per request would put every read through the
#: registry's write lock on SQLite.
_FLUSH_EVERY = 200
_FLUSH_AFTER_S = 1.0

log = logging.getLogger(__name__)


class ServerContext:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.root = LocalRegistry.open(settings.target, actor="service:cairn-server")
        self.access = self.root.access_service(Path(settings.home), secret_key=settings.secret_key)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushed_at = time.monotonic()

    def close(self) -> None:
        self.flush_access()
        self.root.close()

    # -- per request -----------------------------------------------------------------------------
    def authenticate(self, token: str) -> Principal:
        return self.access.authenticate(token, datetime.now(UTC))

    def access_for(self, request: Request) -> AccessService:
        principal: Principal = request.state.principal
        return self.access.as_actor(principal.name)

    def registry_for(self, request: Request) -> LocalRegistry:
        principal: Principal = request.state.principal
        return self.root.as_actor(principal.name)

    def deployment_version(self, deployment: str) -> str | None:
        deployment_id = deployment.removeprefix("deployment:")
        with self.root.store.read() as conn:
            found = reads.deployments(
                conn, reads.deployment_query().where(t.deployments.c.id == deployment_id)
            )
        return found[0].version if found else None

    def ping(self) -> None:
        with self.root.store.read() as conn:
            conn.execute(text("SELECT 1"))

    # -- the access log --------------------------------------------------------------------------
    def record_access(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(entry)
            due = (
                len(self._pending) >= _FLUSH_EVERY
                or time.monotonic() - self._flushed_at > _FLUSH_AFTER_S
            )
        if due:
            threading.Thread(target=self.flush_access, daemon=True).start()

    def flush_access(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._flushed_at = time.monotonic()
        if not batch:
            return
        try:
            self.access.record_access(batch)
        except CairnError:
            # Losing access records must be loud, but must not take requests down with it.
            log.exception("could not write %d access-log records", len(batch))
