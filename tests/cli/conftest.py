"""Run ``cairn`` in process through its real entry point (``main``), against SQLite in tmp_path.

Going through ``main`` rather than ``CliRunner.invoke(app)`` keeps the one error catch site
under test: exit codes and the ``error:`` line are what a shell would see.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.cli.app import main

DIGEST = "sha256:" + "a" * 64


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Cli = Callable[..., Outcome]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def cli(home: Path) -> Cli:
    """Call ``cli("model", "list", "--json")``; returns exit code, stdout and stderr."""
    env = {
        "CAIRN_HOME": str(home),
        "CAIRN_REGISTRY": None,
        "CAIRN_ACTOR": "user:tester",
        "COLUMNS": "200",
    }

    def run(*args: str) -> Outcome:
        with CliRunner().isolation(env=env) as (out, err, _):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            sys.stdout.flush()
            sys.stderr.flush()
            return Outcome(code, out.getvalue().decode(), err.getvalue().decode())

    return run


@pytest.fixture
def seeded(cli: Cli) -> Cli:
    """A registry with team fraud, model fraud/churn@1 trained on dataset fraud/customers@1."""
    for args in (
        ("team", "create", "fraud"),
        ("model", "create", "fraud/churn", "--task", "classification", "--tag", "gbm"),
        ("dataset", "create", "fraud/customers"),
        ("dataset", "add-version", "fraud/customers", "--row-count", "10", "--field", "id:int"),
        (
            "version",
            "register",
            "fraud/churn",
            "s3://models/churn/1",
            DIGEST,
            "--input",
            "dataset:fraud/customers@1",
            "--metric",
            "auc=0.91",
        ),
        ("env", "create", "prod", "--stage", "production"),
    ):
        outcome = cli(*args)
        assert outcome.code == 0, outcome.stderr
    return cli
