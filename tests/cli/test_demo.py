"""``cairn demo`` seeds a registry and refuses to seed one that already has models."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli

pytest.importorskip("cairn.demo", reason="the demo module is not written yet")


@pytest.mark.slow
def test_demo_seeds_then_refuses_then_resets(cli: Cli) -> None:
    first = cli("demo")
    assert first.code == 0, first.stderr
    assert cli("model", "list", "--json").json()
    again = cli("demo")
    assert again.code == 2
    assert "--reset" in again.stderr
    assert cli("demo", "--reset").code == 0
