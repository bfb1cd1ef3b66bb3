"""The contract runs over every transport: the embedded registry, and HTTP to a real server.

For HTTP a server is started on loopback against the same test database; each actor a test
asks for becomes a registry admin with its own token, so events record who acted exactly as
they do in process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from cairn.client import HttpRegistry
from cairn.core.errors import Conflict
from cairn.local import LocalRegistry
from cairn.server.settings import ServerSettings
from tests.live import live_server

#: Webhook receivers in the contract listen on loopback, which the operator allows explicitly.
WEBHOOK_ALLOW = "127.0.0.1"


@pytest.fixture(params=["local", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_registry(db_url: str, transport: str, tmp_path: Path) -> Iterator[Any]:
    opened: list[Any] = []
    if transport == "local":

        def local(actor: str = "user:tester") -> LocalRegistry:
            registry = LocalRegistry(db_url, actor=actor, webhook_allow=WEBHOOK_ALLOW)
            opened.append(registry)
            return registry

        yield local
    else:
        home = tmp_path / "server-home"
        home.mkdir()
        setup = LocalRegistry(db_url, actor="service:contract-setup")
        access = setup.access_service(home)
        tokens: dict[str, str] = {}
        settings = ServerSettings(
            target=db_url, home=str(home), webhook_allow=(WEBHOOK_ALLOW,), webhook_poll_s=0.1
        )
        with live_server(settings) as url:

            def remote(actor: str = "user:tester") -> HttpRegistry:
                if actor not in tokens:
                    with suppress(Conflict):  # the test made it first, with attributes of its own
                        access.create_principal(actor)
                    access.set_registry_role(actor, "admin")
                    tokens[actor] = access.issue_token(actor, name="contract").token
                registry = HttpRegistry(url, token=tokens[actor])
                opened.append(registry)
                return registry

            yield remote
            for registry in opened:
                registry.close()
        setup.close()
        return
    for registry in opened:
        registry.close()


@pytest.fixture
def registry(open_registry: Any) -> Any:
    return open_registry("user:tester")
