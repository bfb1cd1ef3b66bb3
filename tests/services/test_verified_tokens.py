"""A verified token is trusted again only while nothing about access has changed, wherever
the change was made: this registry, another one on the same database, another process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cairn.core.access import Role
from cairn.core.errors import Unauthenticated
from cairn.local import LocalRegistry
from cairn.services.access import AccessService
from cairn.store.access_stamp import LocalStamp, SharedStamp, stamp_for
from cairn.store.engine import resolve_url

KEY = "ef" * 32
RegistryFactory = Callable[..., LocalRegistry]


@pytest.fixture
def pair(open_registry: RegistryFactory) -> tuple[AccessService, AccessService]:
    """Two registries on one database, as two server workers (or a worker and the CLI) are."""
    first = open_registry("user:root")
    first.create_team("fraud")
    return (
        first.access_service(secret_key=KEY),
        open_registry("user:root").access_service(secret_key=KEY),
    )


def _refused(access: AccessService, token: str, now: datetime | None = None) -> bool:
    try:
        access.authenticate(token, now)
    except Unauthenticated:
        return True
    return False


def test_a_revocation_elsewhere_is_in_force_at_once(
    pair: tuple[AccessService, AccessService],
) -> None:
    server, admin = pair
    admin.create_principal("user:alice")
    issued = admin.issue_token("user:alice")
    for _ in range(3):  # verified once, then trusted
        assert server.authenticate(issued.token).name == "user:alice"
    admin.revoke_token(issued.id)
    assert _refused(server, issued.token)


def test_disabling_and_role_changes_elsewhere_are_seen_at_once(
    pair: tuple[AccessService, AccessService],
) -> None:
    server, admin = pair
    admin.create_principal("user:alice")
    issued = admin.issue_token("user:alice")
    assert server.authenticate(issued.token).teams == {}
    admin.grant("user:alice", "fraud", "approver")
    assert server.authenticate(issued.token).teams == {"fraud": Role.APPROVER}
    admin.revoke_role("user:alice", "fraud")
    assert server.authenticate(issued.token).teams == {}
    admin.set_registry_role("user:alice", "auditor")
    assert server.authenticate(issued.token).registry_role is not None
    admin.set_disabled("user:alice", True)
    assert _refused(server, issued.token)


def test_a_token_that_expires_while_trusted_is_refused(
    pair: tuple[AccessService, AccessService],
) -> None:
    server, admin = pair
    admin.create_principal("user:alice")
    issued = admin.issue_token("user:alice", expires_in=timedelta(hours=1))
    now = datetime.now(UTC)
    assert server.authenticate(issued.token, now).name == "user:alice"
    assert _refused(server, issued.token, now + timedelta(hours=2))


def test_a_wrong_secret_for_a_trusted_token_id_is_refused(
    pair: tuple[AccessService, AccessService],
) -> None:
    server, admin = pair
    admin.create_principal("user:alice")
    issued = admin.issue_token("user:alice")
    server.authenticate(issued.token)
    last = issued.token[-1]
    forged = issued.token[:-1] + ("A" if last != "A" else "B")
    assert _refused(server, forged)


def test_a_revocation_by_another_process_is_in_force_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "registry"
    root = LocalRegistry(resolve_url(str(folder)), actor="user:root")
    try:
        server = root.access_service()
        server.create_principal("user:alice")
        issued = server.issue_token("user:alice")
        assert server.authenticate(issued.token).name == "user:alice"
        cli = Path(sys.executable).with_name("cairn")
        env = {**os.environ, "CAIRN_REGISTRY": str(folder), "CAIRN_ACTOR": "user:root"}
        done = subprocess.run(
            [str(cli), "token", "revoke", issued.id],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert _refused(server, issued.token)
    finally:
        root.close()


def test_shared_stamps_see_each_other_and_start_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "registry.db-access"
    one, two = SharedStamp(path), SharedStamp(path)
    assert one.read() == two.read() == bytes(8)
    one.bump()
    assert two.read() == one.read() != bytes(8)
    assert SharedStamp(path).read() == one.read()  # a process started later


def test_where_no_stamp_can_be_shared_nothing_is_trusted(tmp_path: Path) -> None:
    assert stamp_for("postgresql", "cairn") is None
    assert isinstance(stamp_for("sqlite", ":memory:"), LocalStamp)
    # The stamp's file cannot be made (a folder is in its place, as a read-only folder would
    # refuse it even to root): no stamp, so every token is checked in the database.
    (tmp_path / "registry.db-access").mkdir()
    assert stamp_for("sqlite", str(tmp_path / "registry.db")) is None
