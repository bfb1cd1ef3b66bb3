"""Bad input: exit code 2, one ``error:`` line on stderr, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import DIGEST, Cli


def log_size(cli: Cli) -> int:
    return int(cli("log", "check", "--json").json()["head"]["size"])


@pytest.mark.parametrize(
    "args",
    [
        ("model", "create", "fraud/Churn%20"),
        ("model", "show", "fraud/unknown"),
        ("model", "create", "fraud/other", "--label", "no-equals-sign"),
        ("version", "register", "fraud/unknown", "s3://m/1", DIGEST),
        ("evaluate", "fraud/churn@1", "--metric", "auc=high"),
        ("serving", "prod", "--at", "yesterday"),
        ("model", "create", "fraud/other", "--metadata", "/nonexistent.json"),
        ("model", "create", "fraud/other", "--risk-class", "extreme"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(seeded: Cli, args: tuple[str, ...]) -> None:
    before = log_size(seeded)
    outcome = seeded(*args)
    assert outcome.code == 2
    assert outcome.stderr.startswith("error: ")
    assert outcome.stderr.count("\n") == 1
    assert "Traceback" not in outcome.stderr
    assert log_size(seeded) == before


def test_usage_mistakes_exit_two(cli: Cli) -> None:
    for args in (("model", "create"), ("model", "list", "--bogus"), ("no-such-command",)):
        outcome = cli(*args)
        assert outcome.code == 2
        assert outcome.stderr.startswith("error: ")


def test_help_runs_as_a_program(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from cairn.cli.app import main; main()", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0
    assert "model" in done.stdout
    assert "Traceback" not in done.stderr


def test_help_does_not_import_the_registry(tmp_path: Path) -> None:
    code = (
        "import sys; from cairn.cli import app; "
        "heavy = {'sqlalchemy', 'alembic', 'jsonschema', 'pydantic', 'cairn.local'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"
