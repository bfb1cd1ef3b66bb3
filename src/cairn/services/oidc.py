"""Single sign-on: a bearer JWT from an OpenID Connect provider instead of a Cairn token.

The provider is found by its issuer URL (``/.well-known/openid-configuration``, whose own
``issuer`` must match), its signing keys by the JWKS that names (PyJWT's ``PyJWKClient``,
cached, fetched again when a token names a key it has not seen: key rotation). A token is
accepted only if it is signed with one of those keys under an asymmetric algorithm (never
``none``, never an HMAC that a public key could forge), was issued by that issuer for this
audience, and has not expired. Its groups claim is mapped to roles by the server's grants
(:func:`cairn.core.access.principal_from_groups`); a group nobody mapped grants nothing.
Revocation is the provider's business: its tokens are short-lived, and Cairn keeps no record
of them beyond the access log, which names the principal like any other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from cairn.core.access import GroupGrant, Principal, principal_from_groups
from cairn.core.errors import StorageUnavailable, Unauthenticated, ValidationFailed
from cairn.core.names import canonical_name

#: Signature algorithms a provider may use; symmetric ones are refused (see the module text).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_LEEWAY_S = 30  # clock skew tolerated on exp, nbf and iat
_TIMEOUT_S = 5.0
_INVALID = "invalid identity token"
_HINT = "sign in again with the identity provider, or use a Cairn token ('cairn token create')"


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    audience: str
    grants: tuple[GroupGrant, ...] = ()
    groups_claim: str = "groups"
    name_claim: str = "preferred_username"  # the principal is "user:" + this claim

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValidationFailed(
                f"the OIDC issuer {self.issuer!r} is not an https URL",
                field="oidc-issuer",
                rule="scheme",
                hint="give the provider's issuer URL, e.g. https://login.example.com/realms/ml "
                "(plain http only on this machine, for testing)",
            )
        if not self.audience:
            raise ValidationFailed(
                "an OIDC issuer needs an audience",
                field="oidc-audience",
                hint="give the client id the provider puts in 'aud' for Cairn",
            )


class OidcVerifier:
    """Checks identity tokens from one provider; safe to share between threads."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._keys: jwt.PyJWKClient | None = None

    def principal(self, token: str) -> Principal:
        """The principal ``token`` speaks for; Unauthenticated if it is not a valid token of
        this provider for this audience, StorageUnavailable if the provider cannot be reached."""
        settings = self.settings
        try:
            key = self._key_client().get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise _unreachable(settings.issuer, exc) from None
        except jwt.PyJWTError:
            raise Unauthenticated(_INVALID, hint=_HINT) from None
        return principal_from_groups(
            f"user:{_name(claims, settings.name_claim)}",
            _groups(claims, settings.groups_claim),
            settings.grants,
        )

    def _key_client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(
                    self._jwks_uri(), cache_keys=True, lifespan=300, timeout=int(_TIMEOUT_S)
                )
            return self._keys

    def _jwks_uri(self) -> str:
        issuer = self.settings.issuer
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = httpx.get(url, timeout=_TIMEOUT_S)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unreachable(issuer, exc) from None
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            raise StorageUnavailable(
                f"the OIDC discovery document at {url} names another issuer",
                hint="configure the issuer exactly as the provider states it",
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise StorageUnavailable(f"the OIDC discovery document at {url} has no jwks_uri")
        return jwks_uri


def _name(claims: dict[str, Any], claim: str) -> str:
    """The claim as a principal name: lower-cased, then a canonical name like any other (an
    e-mail address is not one: its ``@`` would make actors that no query can name)."""
    value = claims.get(claim)
    if not isinstance(value, str) or not value:
        raise Unauthenticated(_INVALID, hint=f"the token has no {claim!r} claim")
    try:
        return canonical_name(value.lower(), field="principal")
    except ValidationFailed:
        raise Unauthenticated(
            _INVALID,
            hint=f"the token's {claim!r} claim is not a plain user name; the server can read "
            "the name from another claim (cairn serve --oidc-name-claim)",
        ) from None


def _groups(claims: dict[str, Any], claim: str) -> list[str]:
    value = claims.get(claim, [])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [group for group in value if isinstance(group, str)]
    return []


def _unreachable(issuer: str, exc: BaseException) -> StorageUnavailable:
    return StorageUnavailable(
        f"the identity provider {issuer} cannot be reached: {exc}",
        hint="retry, or use a Cairn token ('cairn token create') meanwhile",
    )
