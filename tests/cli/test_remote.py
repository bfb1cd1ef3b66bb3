"""The CLI against a server URL with a token: the same commands, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.live import served_registry


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    with served_registry(tmp_path) as found:
        yield found


def test_the_cli_manages_tokens_through_a_server(served: tuple[str, str, Path], cli: Cli) -> None:
    url, admin_token, _ = served
    remote = ("--registry", url, "--token", admin_token)
    created = cli(*remote, "principal", "create", "service:deployer")
    assert created.code == 0, created.stderr
    issued = cli(*remote, "token", "create", "--principal", "service:deployer", "--json")
    assert issued.code == 0, issued.stderr
    token = issued.json()["token"]
    mine = cli("--registry", url, "--token", token, "token", "list", "--json")
    assert mine.code == 0, mine.stderr
    assert [t["principal"] for t in mine.json()] == ["service:deployer"]
    audit = cli(*remote, "audit", "--json")
    assert audit.code == 0, audit.stderr
    assert audit.json()
    models = cli(*remote, "model", "list", "--json")
    assert [m["id"] for m in models.json()] == ["model:fraud/churn"]
    refused = cli(*remote, "admin", "bootstrap", "user:x")
    assert refused.code == 2
    assert "own machine" in refused.stderr
