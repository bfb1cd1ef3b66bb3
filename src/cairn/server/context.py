"""What one server process holds: the registry, the token check, where blocking work runs and
the access-log buffer."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import text

from cairn.core.access import Principal
from cairn.core.entities import ModelVersion
from cairn.core.errors import CairnError
from cairn.core.specs import VersionSpec
from cairn.local import LocalRegistry
from cairn.server.batching import RegistrationBatcher
from cairn.server.routing import Work
from cairn.server.settings import ServerSettings
from cairn.services.access import AccessService
from cairn.services.oidc import OidcVerifier
from cairn.services.webhook_delivery import Dispatcher
from cairn.store import reads
from cairn.store import tables as t
from cairn.store import webhooks as webhook_store

#: The access log is written in batches: a row per request would put every read through the
#: registry's write lock on SQLite.
_FLUSH_EVERY = 200
_FLUSH_AFTER_S = 1.0
#: How often a server with an access-log retention prunes (and once at start).
_PRUNE_EVERY_S = 3600.0
#: As many threads as anyio would lend: enough for writers queueing on the database lock.
_BLOCKING_THREADS = 40
#: Registry views kept for the principals calling (see ``registry_for``).
_VIEWS_KEPT = 1024
T = TypeVar("T")

log = logging.getLogger(__name__)


class ServerContext:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.root = LocalRegistry.open(
            settings.target, actor="service:cairn-server", webhook_allow=settings.webhook_allow
        )
        self.access = self.root.access_service(Path(settings.home), secret_key=settings.secret_key)
        self.oidc = OidcVerifier(settings.oidc) if settings.oidc is not None else None
        self._pending: list[dict[str, Any]] = []
        self._views: dict[str, LocalRegistry] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._flush_asked = False  # a full batch waits for the access-log writer
        self._flush_wanted = threading.Event()
        self._access_writer: threading.Thread | None = None  # started by the first record
        self._blocking = ThreadPoolExecutor(_BLOCKING_THREADS, thread_name_prefix="cairn-blocking")
        self._registrations = RegistrationBatcher(self.root)
        # SQLite: a read in WAL mode never waits for a writer, and a write that finds no
        # other writer of this process under way waits for nobody (unless another process
        # holds the database, for milliseconds): both run on the event loop itself, sparing
        # a thread hand-off that cost more than the read and a third of a registration.
        # Python work holds the GIL whichever thread does it. Slow work, writes that would
        # queue, and every PostgreSQL call (each waits on the network) run on threads.
        self._inline = self.root.store.dialect == "sqlite"
        self._touching: set[str] = set()
        self._stopping = threading.Event()
        self._retention: threading.Thread | None = None
        if settings.access_retention is not None:
            self._retention = threading.Thread(
                target=self._retain,
                args=(settings.access_retention,),
                name="cairn-retention",
                daemon=True,
            )
            self._retention.start()
        self._webhooks: threading.Thread | None = None
        if settings.deliver_webhooks:
            dispatcher = self.root.webhook_dispatcher(retry=settings.webhook_retry)
            self._webhooks = threading.Thread(
                target=self._deliver,
                args=(dispatcher, settings.webhook_poll_s),
                name="cairn-webhooks",
                daemon=True,
            )
            self._webhooks.start()

    def _deliver(self, dispatcher: Dispatcher, poll_s: float) -> None:
        with dispatcher:
            dispatcher.run_until(self._stopping, poll_s=poll_s)

    def close(self) -> None:
        self._stopping.set()
        if self._retention is not None:
            self._retention.join()  # a pruning under way finishes first
        if self._webhooks is not None:
            self._webhooks.join()  # so do the deliveries in flight (each bounded by its timeout)
        if self._access_writer is not None:
            self._flush_wanted.set()
            self._access_writer.join()
        self._registrations.close()  # those queued are written and answered first
        self._blocking.shutdown(wait=True)
        self.flush_access()
        self.root.close()

    # -- where blocking work runs ------------------------------------------------------------------
    async def run(self, work: Work, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run the blocking ``work`` of an endpoint (or of the gate) where it costs least."""
        if self._inline and work is Work.READ:
            return call(*args, **kwargs)
        if self._inline and work is Work.WRITE:
            with self.root.store.writer_if_free() as mine:
                if mine:
                    return call(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._blocking, functools.partial(call, *args, **kwargs))

    async def register_version(self, request: Request, spec: VersionSpec) -> ModelVersion:
        """Register one version as the request's principal, in a group commit with whatever
        other registrations of this process queue meanwhile (see :mod:`cairn.server.batching`).
        """
        principal: Principal = request.state.principal
        return await self._registrations.register(principal.name, spec)

    def record_token_use(self, token_id: str, touch: Callable[[], None]) -> None:
        """Write a token's last use off the request's path, once however many requests ask."""
        with self._lock:
            if token_id in self._touching:
                return
            self._touching.add(token_id)

        def write() -> None:
            try:
                touch()
            except Exception:
                log.exception("could not record the use of token %s", token_id)
            finally:
                with self._lock:
                    self._touching.discard(token_id)

        self._blocking.submit(write)

    # -- per request -----------------------------------------------------------------------------
    def authenticate(self, token: str) -> Principal:
        return self.access.authenticate(token, datetime.now(UTC), record_use=self.record_token_use)

    def authenticate_identity(self, token: str) -> Principal:
        """A principal from an identity token of the configured OIDC provider."""
        assert self.oidc is not None
        return self.access.admit(self.oidc.principal(token))

    def access_for(self, request: Request) -> AccessService:
        principal: Principal = request.state.principal
        return self.access.as_actor(principal.name)

    def registry_for(self, request: Request) -> LocalRegistry:
        principal: Principal = request.state.principal
        view = self._views.get(principal.name)
        if view is None:
            # A view binds fifteen services to its actor and keeps nothing else: one per
            # principal serves all its requests (few principals call a server often).
            if len(self._views) >= _VIEWS_KEPT:
                self._views.clear()
            view = self._views[principal.name] = self.root.as_actor(principal.name)
        return view

    def transition_version(self, request: str) -> str | None:
        """The version a transition request is about (None if there is no such request)."""
        try:
            return self.root.get_transition(request).version
        except CairnError:
            return None  # the handler will refuse it with the precise reason

    def webhook_team(self, webhook: str) -> str | None:
        """The team a subscription belongs to (None if there is no such subscription)."""
        with self.root.store.read() as conn:
            return webhook_store.team_of_webhook(conn, webhook)

    def delivery_team(self, delivery: str) -> str | None:
        with self.root.store.read() as conn:
            return webhook_store.team_of_delivery(conn, delivery)

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
            if self._access_writer is None:
                self._access_writer = threading.Thread(
                    target=self._write_access, name="cairn-access-log", daemon=True
                )
                self._access_writer.start()
            if self._flush_asked or len(self._pending) < _FLUSH_EVERY:
                return
            self._flush_asked = True
        self._flush_wanted.set()

    def _write_access(self) -> None:
        """Write the buffered records when a batch is full, and at least once a second.

        One thread for the life of the process, woken once per batch: a thread started per
        full batch was started again by every request that came in before it ran, a dozen
        at a time (the loop keeps the GIL for up to 5 ms).
        """
        while not self._stopping.is_set():
            self._flush_wanted.wait(_FLUSH_AFTER_S)
            self._flush_wanted.clear()
            self.flush_access()

    def _retain(self, retention: timedelta) -> None:
        pruner = self.access.as_actor("service:cairn-server")
        while not self._stopping.is_set():
            try:
                pruned = pruner.prune_access_log(retention)
                if pruned.deleted:
                    log.info("pruned %d access records before %s", pruned.deleted, pruned.before)
            except CairnError:
                log.exception("could not prune the access log")
            self._stopping.wait(_PRUNE_EVERY_S)

    def flush_access(self) -> None:
        # One flush at a time, so that batches reach the log in the order they were taken.
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
                self._flush_asked = False
            if not batch:
                return
            try:
                self.access.record_access(batch)
            except CairnError:
                # Losing access records must be loud, but must not take requests down with it.
                log.exception("could not write %d access-log records", len(batch))
