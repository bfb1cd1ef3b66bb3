"""Single sign-on: identity tokens from an OpenID Connect provider, checked against its JWKS.

The provider is real enough to be fooled by nothing: an HTTP server on loopback serving a
discovery document and the public half of a key pair made here; tokens are signed with PyJWT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cairn.core.access import GroupGrant
from cairn.local import LocalRegistry
from cairn.server.settings import ServerSettings
from cairn.services.oidc import OidcSettings
from cairn.store.engine import resolve_url
from tests.live import live_server
from tests.server.conftest import API, DIGEST, seed

AUDIENCE = "cairn-registry"
GRANTS = (
    "ml-readers=fraud:viewer",
    "fraud-devs=fraud:contributor",
    "platform=registry-admin",
)


class Provider:
    """An identity provider on loopback: discovery, JWKS, and a key to sign with."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk |= {"kid": self.kid, "use": "sig", "alg": "RS256"}
        self.jwks = {"keys": [jwk]}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks"}
                elif self.path == "/jwks":
                    body = provider.jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def token(self, key: Any = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "preferred_username": "ana",
            "groups": [],
        } | claims
        return jwt.encode(
            body, key or self.key, algorithm="RS256", headers={"kid": self.kid} | (headers or {})
        )


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    running = Provider()
    yield running
    running.http.shutdown()
    running.http.server_close()


@pytest.fixture(scope="module")
def base(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("oidc")
    url = resolve_url(home / "registry")
    with LocalRegistry(url, actor="user:setup") as setup:
        seed(setup)
    oidc = OidcSettings(
        issuer=provider.issuer,
        audience=AUDIENCE,
        grants=tuple(GroupGrant.parse(g) for g in GRANTS),
    )
    with live_server(ServerSettings(target=url, home=str(home), oidc=oidc)) as running:
        yield running


def _hmac_with_public_key(p: Provider) -> str:
    """The classic forgery: HS256 keyed with the provider's public key, which anyone has.
    PyJWT refuses to make one, so it is put together by hand."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": p.kid}).encode())
    claims = {"iss": p.issuer, "aud": AUDIENCE, "exp": int(time.time()) + 60}
    body = part(json.dumps(claims | {"preferred_username": "x"}).encode())
    pem = p.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = part(hmac.new(pem, header + b"." + body, hashlib.sha256).digest())
    return (header + b"." + body + b"." + signature).decode()


def _call(base: str, token: str, method: str = "GET", path: str = "/models", **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, base + API + path, headers=headers, timeout=30, **kw)


def _register(base: str, token: str, n: int) -> httpx.Response:
    body = {"model": "fraud/churn", "artifact_uri": f"s3://m/oidc-{n}", "digest": DIGEST}
    return _call(base, token, "POST", "/versions", json=body)


def test_a_group_grants_its_team_role(base: str, provider: Provider) -> None:
    reader = provider.token(groups=["ml-readers"])
    assert _call(base, reader).status_code == 200
    assert _register(base, reader, 1).status_code == 403

    developer = provider.token(groups=["fraud-devs", "unmapped"], preferred_username="dev")
    registered = _register(base, developer, 2)
    assert registered.status_code == 201, registered.text
    version = registered.json()["id"]
    history = _call(base, developer, path="/history", params={"ref": version})
    assert history.status_code == 200, history.text
    assert [e["actor"] for e in history.json()] == ["user:dev"]


def test_a_mapped_group_can_hold_a_registry_role(base: str, provider: Provider) -> None:
    admin = provider.token(groups=["platform"], preferred_username="Ops")
    me = _call(base, admin, path="/me").json()
    assert (me["name"], me["registry_role"]) == ("user:ops", "admin")
    assert _call(base, admin, "POST", "/teams", json={"name": "sso-made"}).status_code == 201
    nobody = provider.token(groups=["unmapped"])
    assert _call(base, nobody, "POST", "/teams", json={"name": "not-made"}).status_code == 403


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p: p.token(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda p: p.token(aud="another-app"), id="wrong-audience"),
        pytest.param(lambda p: p.token(iss="https://evil.example.com"), id="wrong-issuer"),
        pytest.param(
            lambda p: p.token(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            id="signed-by-another-key",
        ),
        pytest.param(
            lambda p: p.token(headers={"kid": "unknown-key"}), id="names-a-key-the-issuer-lacks"
        ),
        pytest.param(_hmac_with_public_key, id="hmac-keyed-with-the-public-key"),
        pytest.param(
            lambda p: jwt.encode(
                {
                    "iss": p.issuer,
                    "aud": AUDIENCE,
                    "exp": int(time.time()) + 60,
                    "preferred_username": "x",
                },
                None,
                algorithm="none",
                headers={"kid": p.kid},
            ),
            id="unsigned",
        ),
        pytest.param(lambda p: p.token(preferred_username=None), id="no-name-claim"),
        pytest.param(lambda p: p.token(preferred_username="ana@example.com"), id="not-a-name"),
        pytest.param(lambda p: p.token() + "x", id="tampered-signature"),
    ],
)
def test_tokens_the_provider_did_not_issue_for_us_are_refused(
    base: str, provider: Provider, forge: Any
) -> None:
    token = forge(provider)
    response = _call(base, token, "POST", "/teams", json={"name": "forged"})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _call(base, token).status_code == 401


def test_cairn_tokens_still_work_beside_sso(base: str, tmp_path: Path) -> None:
    # The setup principal has no token; the probes need none; a Cairn token is not a JWT.
    assert httpx.get(base + "/healthz", timeout=10).status_code == 200
    assert _call(base, "cairn_notatoken").status_code == 401


def test_the_access_log_names_the_signed_in_user(base: str, provider: Provider) -> None:
    admin = provider.token(groups=["platform"], preferred_username="auditor-check")
    _call(base, admin)
    who = {"principal": "user:auditor-check"}
    records = _call(base, admin, path="/audit", params=who).json()
    assert any(r["path"] == API + "/models" for r in records)


def test_disabling_a_principal_shuts_its_single_sign_on_out(base: str, provider: Provider) -> None:
    token = provider.token(groups=["ml-readers"], preferred_username="leaver")
    assert _call(base, token).status_code == 200
    admin = provider.token(groups=["platform"], preferred_username="ops")
    assert _call(base, admin, "POST", "/principals", json={"name": "user:leaver"}).is_success
    disabled = _call(base, admin, "POST", "/principals/user:leaver/disable")
    assert disabled.status_code == 200, disabled.text
    assert _call(base, token).status_code == 401


def test_workers_read_the_oidc_options_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cairn.server.app import OIDC_ENV, oidc_from_environment

    for variable in OIDC_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    assert oidc_from_environment() is None
    monkeypatch.setenv(OIDC_ENV["issuer"], "https://login.example.com")
    monkeypatch.setenv(OIDC_ENV["audience"], AUDIENCE)
    monkeypatch.setenv(OIDC_ENV["grants"], json.dumps(list(GRANTS)))
    settings = oidc_from_environment()
    assert settings is not None
    assert settings.grants == tuple(GroupGrant.parse(g) for g in GRANTS)
    assert (settings.groups_claim, settings.name_claim) == ("groups", "preferred_username")
    monkeypatch.setenv(OIDC_ENV["name_claim"], "sub")
    assert oidc_from_environment().name_claim == "sub"  # type: ignore[union-attr]
