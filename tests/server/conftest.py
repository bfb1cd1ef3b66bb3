"""A real server on loopback with teams, principals and one of every entity to point at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cairn.local import LocalRegistry
from cairn.server.settings import ServerSettings
from cairn.store.engine import resolve_url
from tests.live import live_server

API = "/api/v1"
DIGEST = "sha256:" + "ab" * 32
PROBLEM = "application/problem+json"
SUBJECT = "user:subject"  # a principal the access routes' samples change
# Webhooks of the samples go to loopback's discard port, allowed explicitly, where nothing
# listens: a delivery fails at once, and no test reaches beyond this machine.
WEBHOOK_ALLOW = "127.0.0.1"
WEBHOOK_URL = "http://127.0.0.1:9/hooks"


@dataclass(frozen=True)
class Server:
    url: str  # base URL, without /api/v1
    tokens: dict[str, str | None]  # principal label -> token (None: send no token)
    deployment: str  # id of an active deployment of fraud/churn@1 in prod
    subject_token: str  # id of a token of SUBJECT
    transition: str = ""  # id of a pending request to move fraud/churn's production alias
    webhook: str = ""  # id of a subscription of team fraud (to a closed loopback port)
    delivery: str = ""  # id of one of its deliveries

    def client(self, who: str) -> httpx.Client:
        token = self.tokens[who]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def seed(registry: LocalRegistry) -> str:
    """Teams fraud and risk, and one of each entity of team fraud; the deployment's id."""
    registry.create_team("fraud")
    registry.create_team("risk")
    registry.create_model("fraud/churn", description="who leaves")
    registry.create_dataset("fraud/customers")
    registry.add_dataset_version("fraud/customers", uri="s3://lake/customers/1")
    registry.create_feature_view("fraud/spend")
    registry.add_feature_view_version("fraud/spend")
    registry.create_run("fraud/train-1")
    registry.register_version(
        "fraud/churn", "s3://models/churn/1", DIGEST, inputs=["dataset:fraud/customers@1"]
    )
    registry.create_environment("prod", stage="production")
    return registry.deploy("fraud/churn@1", "prod").id


def grant(access: Any, name: str, *, team: str | None = None, role: str | None = None) -> str:
    """A new principal holding ``role`` in ``team`` (or a registry role); its token."""
    access.create_principal(name)
    if team is not None and role is not None:
        access.grant(name, team, role)
    elif role is not None:
        access.set_registry_role(name, role)
    return str(access.issue_token(name, name="tests").token)


def principals(access: Any) -> dict[str, str | None]:
    """Every kind of caller the access rules tell apart, by label."""
    tokens: dict[str, str | None] = {
        "admin": grant(access, "user:admin", role="admin"),
        "auditor": grant(access, "user:auditor", role="auditor"),
        "viewer": grant(access, "user:viewer", team="fraud", role="viewer"),
        "contributor": grant(access, "user:contributor", team="fraud", role="contributor"),
        "approver": grant(access, "user:approver", team="fraud", role="approver"),
        "team-admin": grant(access, "user:team-admin", team="fraud", role="admin"),
        "other-team": grant(access, "user:other", team="risk", role="contributor"),
        "anonymous": None,
        # Not a token at all (the checksum fails), a revoked and a disabled admin's token:
        "garbage": "cairn_" + "x" * 50,
    }
    revoked = grant(access, "user:revoked", role="admin")
    access.revoke_token(revoked)
    tokens["revoked"] = revoked
    disabled = grant(access, "user:disabled", role="admin")
    access.set_disabled("user:disabled", True)
    tokens["disabled"] = disabled
    # What the access routes' samples act on, so that no caller above is changed by them.
    access.create_principal(SUBJECT)
    access.grant(SUBJECT, "fraud", "viewer")
    access.issue_token(SUBJECT, name="subject")
    return tokens


@contextmanager
def started(url: str, home: Path, **settings: Any) -> Iterator[Server]:
    """Seed the registry at ``url``, make its principals, and serve it."""
    with LocalRegistry(url, actor="user:setup", webhook_allow=WEBHOOK_ALLOW) as setup:
        deployment = seed(setup)
        access = setup.access_service(home)
        tokens = principals(access)
        subject_token = access.list_tokens(SUBJECT)[0].id
        transition = setup.request_transition("fraud/churn@1", "production", reason="seeded").id
        webhook = setup.create_webhook(WEBHOOK_URL, team="fraud", events=["model.updated"]).id
        delivery = setup.ping_webhook(webhook).id
    settings.setdefault("webhook_allow", (WEBHOOK_ALLOW,))
    with live_server(ServerSettings(target=url, home=str(home), **settings)) as base:
        yield Server(base, tokens, deployment, subject_token, transition, webhook, delivery)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server on SQLite for a module's tests (they only add to its registry)."""
    home = tmp_path_factory.mktemp("server")
    with started(resolve_url(home / "registry"), home, max_body_bytes=4096) as running:
        yield running
