"""Principals, roles, tokens and the access log, managed through a server with a token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cairn.client import HttpRegistry
from cairn.client.access import HttpAccess
from cairn.core.errors import NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from cairn.local import LocalRegistry
from cairn.server.settings import ServerSettings
from tests.live import live_server, served_registry


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    with served_registry(tmp_path) as found:
        yield found


def test_admin_and_team_admin_manage_access_through_the_server(
    served: tuple[str, str, Path],
) -> None:
    url, admin_token, _ = served
    clients: list[HttpRegistry] = []

    def client(token: str) -> HttpRegistry:
        clients.append(HttpRegistry(url, token=token))
        return clients[-1]

    try:
        _manage(client, admin_token)
    finally:
        for opened in clients:
            opened.close()


def _manage(client: Callable[[str], HttpRegistry], admin_token: str) -> None:
    admin = HttpAccess(client(admin_token))
    assert admin.whoami().registry_role == "admin"
    admin.create_principal("ci", kind="service", display_name="CI")
    admin.create_principal("user:lead")
    admin.grant("user:lead", "fraud", "admin")
    ci_token = admin.issue_token("service:ci", name="pipeline").token

    lead_token = admin.issue_token("user:lead").token
    lead = HttpAccess(client(lead_token))
    # A team admin grants roles in its own team, and nowhere else.
    assert lead.grant("service:ci", "fraud", "contributor").teams == {"fraud": "contributor"}
    with pytest.raises(PermissionDenied):
        lead.create_principal("user:someone")
    with pytest.raises(PermissionDenied):
        lead.access_log()
    with pytest.raises(PermissionDenied):
        lead.prune_access_log(timedelta(days=90))

    ci_registry = client(ci_token)
    ci = HttpAccess(ci_registry)
    version = ci_registry.register_version("fraud/churn", "s3://m/1", "sha256:" + "1" * 64)
    assert version.registered_by == "service:ci"
    # Anyone may hold tokens of its own: issue, list, revoke; never someone else's.
    extra = ci.issue_token(None, name="laptop")
    assert {t.name for t in ci.list_tokens()} == {"pipeline", "laptop"}
    assert ci.revoke_token(extra.id).revoked_at is not None
    with pytest.raises(Unauthenticated):
        client(extra.token).get_model("fraud/churn")
    lead_id = admin.list_tokens("user:lead")[0].id
    with pytest.raises(PermissionDenied):
        ci.revoke_token(lead_id)

    records = admin.access_log(principal="service:ci")
    assert records, "the server records every request"
    assert {r.principal for r in records} == {"service:ci"}
    denied = admin.access_log(outcome="denied")
    assert any(r.principal == "service:ci" and r.status == 403 for r in denied)
    # Nothing is 90 days old yet; a retention under a day is refused before anything goes.
    assert admin.prune_access_log(timedelta(days=90)).deleted == 0
    with pytest.raises(ValidationFailed):
        admin.prune_access_log(timedelta(hours=1))
    assert admin.access_log(principal="service:ci") == records
    with pytest.raises(ValidationFailed):
        admin.bootstrap("user:another")
    with pytest.raises(NotFound):
        admin.get_principal("user:nobody")


def test_a_server_with_a_retention_prunes_the_access_log(tmp_path: Path) -> None:
    home = tmp_path / "registry"
    with LocalRegistry.open(str(home), actor="user:setup") as local:
        access = local.access_service(home)
        old = {"method": "GET", "path": "/api/v1/teams", "outcome": "allowed", "status": 200}
        access.record_access(
            [
                {**old, "at": datetime.now(UTC) - timedelta(days=40)},
                {**old, "at": datetime.now(UTC) - timedelta(days=2)},
            ]
        )
    settings = ServerSettings(target=str(home), home=str(home), access_retention=timedelta(days=30))
    with live_server(settings):
        pass  # it prunes once on start, then hourly
    with LocalRegistry.open(str(home), actor="user:check") as local:
        kept = local.access_service(home).access_log()
        pruned = local.history("registry:access-log")
    assert [r.at.date() for r in kept] == [(datetime.now(UTC) - timedelta(days=2)).date()]
    assert pruned[-1].actor == "service:cairn-server"
    assert pruned[-1].payload["deleted"] == 1
