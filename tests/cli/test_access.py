"""``cairn admin bootstrap``, ``principal``, ``role``, ``token`` and ``audit`` against SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cairn.core.access import Role
from cairn.core.errors import Unauthenticated
from cairn.local import LocalRegistry
from cairn.store.engine import resolve_url
from tests.cli.conftest import Cli


def _log_size(cli: Cli) -> int:
    return int(cli("log", "check", "--json").json()["head"]["size"])


@pytest.fixture
def embedded(home: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(resolve_url(home), actor="user:tester") as registry:
        yield registry


def test_bootstrap_prints_the_token_once(cli: Cli, home: Path) -> None:
    done = cli("admin", "bootstrap", "user:root")
    assert done.code == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("cairn_")
    assert "\n" not in token
    assert "will not be shown again" in done.stderr
    assert oct((home / "secret.key").stat().st_mode & 0o777) == "0o600"
    # The library, opening the same folder, finds the same key and accepts the token.
    with LocalRegistry(resolve_url(home), actor="user:tester") as registry:
        assert registry.access_service().authenticate(token).is_admin
    again = cli("admin", "bootstrap", "user:other")
    assert again.code == 2
    assert again.stderr.startswith("error: the registry already has an admin")
    assert token not in cli("token", "list").stdout


def test_principals_roles_and_tokens(seeded: Cli, home: Path) -> None:
    assert seeded("principal", "create", "ci", "--service", "--display-name", "CI").code == 0
    assert seeded("principal", "create", "user:alice").code == 0
    assert seeded("role", "grant", "service:ci", "fraud", "contributor").code == 0
    assert seeded("role", "grant", "alice", "fraud", "viewer").code == 0
    assert seeded("role", "revoke", "alice", "fraud").code == 0
    assert seeded("role", "registry", "alice", "auditor").code == 0
    shown = seeded("principal", "show", "service:ci", "--json").json()
    assert shown["teams"] == {"fraud": "contributor"}
    assert shown["kind"] == "service"
    assert "contributor" in seeded("principal", "show", "service:ci").stdout
    listed = seeded("principal", "list", "--json").json()
    assert [(p["name"], p["registry_role"]) for p in listed] == [
        ("service:ci", None),
        ("user:alice", "auditor"),
    ]

    made = seeded("token", "create", "--principal", "service:ci", "--name", "deploy")
    assert made.code == 0, made.stderr
    token = made.stdout.strip()
    with LocalRegistry(resolve_url(home), actor="user:tester") as registry:
        principal = registry.access_service().authenticate(token)
    assert principal.teams == {"fraud": Role.CONTRIBUTOR}

    tokens = seeded("token", "list", "--principal", "service:ci", "--json").json()
    assert len(tokens) == 1
    assert tokens[0]["name"] == "deploy"
    assert "token" not in tokens[0]
    expires = datetime.fromisoformat(tokens[0]["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert "active" in seeded("token", "list").stdout

    assert seeded("token", "revoke", tokens[0]["id"]).code == 0
    assert "revoked" in seeded("token", "list").stdout
    with (
        LocalRegistry(resolve_url(home), actor="user:tester") as registry,
        pytest.raises(Unauthenticated),
    ):
        registry.access_service().authenticate(token)
    assert seeded("principal", "disable", "alice").code == 0
    assert seeded("principal", "show", "alice", "--json").json()["disabled"] is True
    assert seeded("principal", "enable", "alice").code == 0
    history = seeded("history", "service:ci", "--json").json()
    assert [e["type"] for e in history] == [
        "principal.created",
        "role.granted",
        "token.issued",
        "token.revoked",
    ]


def test_json_token_and_lifetimes(seeded: Cli) -> None:
    assert seeded("principal", "create", "bob").code == 0
    issued = seeded("token", "create", "--principal", "bob", "--expires-in", "12h", "--json")
    body = issued.json()
    assert body["token"].startswith("cairn_" + body["id"])
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert lifetime == timedelta(hours=12)
    never = seeded("token", "create", "--principal", "bob", "--expires-in", "never", "--json")
    assert never.json()["expires_at"] is None


def test_audit_lists_the_access_log(seeded: Cli, embedded: LocalRegistry) -> None:
    assert seeded("audit").code == 0
    assert "none" in seeded("audit").stdout
    at = datetime(2026, 1, 1, tzinfo=UTC)
    embedded.access_service().record_access(
        [
            {"at": at, "principal": "user:alice", "method": "GET", "path": "/api/v1/models",
             "action": "read", "outcome": "allowed", "status": 200},
            {"at": at, "principal": None, "method": "POST", "path": "/api/v1/teams",
             "action": "registry-admin", "outcome": "denied", "status": 401},
        ]
    )  # fmt: skip
    everything = seeded("audit", "--json").json()
    assert [r["method"] for r in everything] == ["POST", "GET"]
    denied = seeded("audit", "--denied", "--json").json()
    assert [r["status"] for r in denied] == [401]
    alice = seeded("audit", "--principal", "user:alice", "--json").json()
    assert [r["path"] for r in alice] == ["/api/v1/models"]
    paged = seeded("audit", "--after", str(everything[0]["id"]), "--json").json()
    assert paged == everything[1:]
    assert "(anonymous)" in seeded("audit").stdout


def test_admin_prunes_old_access_records(seeded: Cli, embedded: LocalRegistry) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    embedded.access_service().record_access(
        [
            {"at": old, "principal": "user:alice", "method": "GET", "path": "/api/v1/models",
             "action": "read", "outcome": "allowed", "status": 200},
        ]
    )  # fmt: skip
    done = seeded("admin", "prune-access", "--older-than", "52w")
    assert done.code == 0, done.stderr
    assert "1 access records" in done.stdout
    assert seeded("audit", "--json").json() == []
    assert seeded("admin", "prune-access", "--older-than", "90d", "--json").json()["deleted"] == 0
    for bad in ("12h", "forever", "0d"):
        refused = seeded("admin", "prune-access", "--older-than", bad)
        assert refused.code == 2, bad
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("principal", "create", "robot:x"),
        ("principal", "create", "Alice"),
        ("principal", "show", "user:nobody"),
        ("role", "grant", "user:nobody", "fraud", "viewer"),
        ("role", "grant", "user:alice", "fraud", "owner"),
        ("role", "grant", "user:alice", "nowhere", "viewer"),
        ("role", "revoke", "user:alice", "fraud"),
        ("role", "registry", "user:alice", "root"),
        ("token", "create", "--principal", "user:alice", "--expires-in", "soon"),
        ("token", "create", "--principal", "user:alice", "--expires-in", "0d"),
        ("token", "create", "--principal", "user:nobody"),
        ("token", "revoke", "nosuchtoken1"),
        ("token", "revoke", "cairn_garbled"),
        ("audit", "--limit", "0"),
        ("--registry", "https://cairn.example.com", "token", "list"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(seeded: Cli, args: tuple[str, ...]) -> None:
    assert seeded("principal", "create", "user:alice").code == 0
    before = _log_size(seeded)
    outcome = seeded(*args)
    assert outcome.code == 2, outcome.stdout
    assert outcome.stderr.startswith("error: ")
    assert outcome.stderr.count("\n") == 1
    assert "Traceback" not in outcome.stderr
    assert _log_size(seeded) == before


def test_a_bad_configured_key_is_refused(seeded: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAIRN_SECRET_KEY", "too-short")
    outcome = seeded("admin", "bootstrap", "root")
    assert outcome.code == 2
    assert "CAIRN_SECRET_KEY" in outcome.stderr
    assert "too-short" not in outcome.stderr


@pytest.mark.parametrize(
    "options",
    [
        ["--oidc-issuer", "https://login.example.com", "--oidc-grant", "devs=fraud:boss"],
        ["--oidc-issuer", "https://login.example.com", "--oidc-grant", "no-equals-sign"],
        ["--oidc-issuer", "https://login.example.com"],  # no audience
        ["--oidc-issuer", "http://login.example.com", "--oidc-audience", "cairn"],  # not https
        ["--oidc-audience", "cairn"],  # no issuer
    ],
)
def test_serve_refuses_bad_oidc_options_before_serving(cli: Cli, options: list[str]) -> None:
    refused = cli("serve", "--port", "1", *options)
    assert refused.code == 2, refused.stderr
    assert refused.stderr.startswith("error:")
    assert "serving" not in refused.stdout
