"""The server's access-log buffer: one writer thread, full batches and quiet spells both land,
in the order the requests were answered."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.server.context import ServerContext
from cairn.server.settings import ServerSettings


def _entry(n: int) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC),
        "principal": "user:alice",
        "method": "GET",
        "path": f"/api/v1/models/fraud/m/versions/{n}",
        "action": "read",
        "team": "fraud",
        "outcome": "allowed",
        "status": 200,
    }


def _logged(context: ServerContext) -> list[str]:
    return [r.path for r in reversed(context.access.access_log(limit=1000))]


def _writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cairn-access-log"]


def test_full_batches_and_a_quiet_spell_both_reach_the_log_in_order(tmp_path: Path) -> None:
    before = len(_writers())
    context = ServerContext(ServerSettings(target=str(tmp_path), home=str(tmp_path)))
    try:
        for n in range(450):  # two full batches and some
            context.record_access(_entry(n))
        # The rest is written within about a second although no request follows.
        deadline = time.monotonic() + 10
        while len(_logged(context)) < 450 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _logged(context) == [f"/api/v1/models/fraud/m/versions/{n}" for n in range(450)]
        assert len(_writers()) == before + 1
    finally:
        context.close()
    assert len(_writers()) == before  # closing stops it


def test_closing_writes_what_is_buffered(tmp_path: Path) -> None:
    settings = ServerSettings(target=str(tmp_path), home=str(tmp_path))
    context = ServerContext(settings)
    for n in range(3):
        context.record_access(_entry(n))
    context.close()
    reopened = ServerContext(settings)
    try:
        assert len(_logged(reopened)) == 3
    finally:
        reopened.close()
