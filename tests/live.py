"""A real Cairn server on loopback, run by uvicorn in a thread, for tests that speak HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from cairn.local import LocalRegistry
from cairn.server.app import create_app
from cairn.server.settings import ServerSettings


@contextmanager
def live_server(settings: ServerSettings) -> Iterator[str]:
    """Serve ``settings`` on 127.0.0.1 (a free port); yield the base URL."""
    with serve(create_app(settings)) as url:
        yield url


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve an ASGI ``app`` (e.g. one built by ``create_app`` and then extended) on loopback."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def served_registry(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A SQLite registry with team ``fraud`` and model ``fraud/churn``, served; yields the URL,
    a registry admin's token and the registry folder."""
    home = tmp_path / "registry"
    local = LocalRegistry.open(str(home), actor="user:setup")
    local.create_team("fraud")
    local.create_model("fraud/churn")
    token = local.access_service(home).bootstrap("user:root").token
    local.close()
    with live_server(ServerSettings(target=str(home), home=str(home))) as url:
        yield url, token, home
