"""schemathesis against the live OpenAPI document: no server errors, no schema violations.

Bounded (a fixed seed and a few examples per operation) so that it fits the suite; run it
longer by hand with the same command and a larger ``--max-examples``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cairn.local import LocalRegistry
from cairn.server.settings import ServerSettings
from tests.live import live_server

CHECKS = ",".join(
    (
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    )
)


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    home = tmp_path / "registry"
    registry = LocalRegistry.open(str(home), actor="user:seed")
    registry.create_team("fraud")
    registry.create_model("fraud/churn", task="classification")
    registry.create_dataset("fraud/customers")
    registry.add_dataset_version("fraud/customers", digest="sha256:" + "1" * 64)
    registry.register_version("fraud/churn", "s3://m/1", "sha256:" + "2" * 64)
    registry.create_environment("prod", stage="production")
    access = registry.access_service(home)
    token = access.bootstrap("user:fuzzer").token
    registry.close()
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert binary, "schemathesis is a dev dependency (pyproject.toml)"
    # Fuzzed subscriptions may name public addresses: nothing here is to be sent to them.
    settings = ServerSettings(target=str(home), home=str(home), deliver_webhooks=False)
    with live_server(settings) as url:
        result = subprocess.run(
            [
                binary,
                "run",
                f"{url}/api/v1/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                CHECKS,
                "--max-examples",
                "4",
                "--seed",
                "20261123",
                "--phases",
                "coverage,fuzzing",
                "--workers",
                "1",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
