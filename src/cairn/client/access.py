"""``HttpAccess``: principals, roles, tokens and the access log of a server, over its API.

The same methods as the embedded ``AccessService``, so that ``cairn principal``, ``role``,
``token`` and ``audit`` work against a server URL too. Only the first admin cannot be made
this way: ``cairn admin bootstrap`` runs on the server's machine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cairn.client.http import HttpRegistry, _segment
from cairn.core import errors
from cairn.core.entities import AccessPruned, AccessRecord, IssuedToken, PrincipalInfo, TokenInfo
from cairn.core.tokens import PREFIX


def _name(name: str, kind: str | None = None) -> str:
    if ":" in name:
        return name
    return f"{kind or 'user'}:{name}"


def _lifetime(expires_in: timedelta | None) -> dict[str, Any]:
    return {} if expires_in is None else {"expires_in_seconds": int(expires_in.total_seconds())}


def _token_id(token: str) -> str:
    return token[len(PREFIX) : len(PREFIX) + 12] if token.startswith(PREFIX) else token


class HttpAccess:
    def __init__(self, registry: HttpRegistry) -> None:
        self._api = registry

    def bootstrap(self, name: str, *, expires_in: timedelta | None = None) -> IssuedToken:
        raise errors.ValidationFailed(
            "the first admin is made on the registry's own machine, not through a server",
            field="registry",
            rule="embedded",
            hint="run 'cairn admin bootstrap' with --registry set to the folder or database URL",
        )

    def whoami(self) -> PrincipalInfo:
        return self._api._one(PrincipalInfo, "GET", "/me")

    def create_principal(
        self,
        name: str,
        *,
        kind: str | None = None,
        display_name: str | None = None,
        acts_for: str | None = None,
    ) -> PrincipalInfo:
        body = {"name": _name(name, kind), "display_name": display_name, "acts_for": acts_for}
        return self._api._one(PrincipalInfo, "POST", "/principals", json=body)

    def get_principal(self, name: str) -> PrincipalInfo:
        return self._api._one(PrincipalInfo, "GET", f"/principals/{_segment(_name(name))}")

    def list_principals(self, *, limit: int = 100, after: str | None = None) -> list[PrincipalInfo]:
        return self._api._many(PrincipalInfo, "/principals", limit=limit, after=after)

    def set_registry_role(self, name: str, role: str | None) -> PrincipalInfo:
        path = f"/principals/{_segment(_name(name))}/registry-role"
        return self._api._one(PrincipalInfo, "PUT", path, json={"role": role})

    def set_disabled(self, name: str, disabled: bool) -> PrincipalInfo:
        verb = "disable" if disabled else "enable"
        return self._api._one(PrincipalInfo, "POST", f"/principals/{_segment(_name(name))}/{verb}")

    def grant(self, name: str, team: str, role: str) -> PrincipalInfo:
        path = f"/teams/{_segment(team.removeprefix('team:'))}/roles/{_segment(_name(name))}"
        return self._api._one(PrincipalInfo, "PUT", path, json={"role": role.lower()})

    def revoke_role(self, name: str, team: str) -> PrincipalInfo:
        path = f"/teams/{_segment(team.removeprefix('team:'))}/roles/{_segment(_name(name))}"
        return self._api._one(PrincipalInfo, "DELETE", path)

    def issue_token(
        self,
        principal: str | None,
        *,
        name: str = "default",
        expires_in: timedelta | None = None,
    ) -> IssuedToken:
        """A token for ``principal`` (registry admins), or for the caller if None."""
        body = {"name": name, **_lifetime(expires_in)}
        path = (
            "/me/tokens"
            if principal is None
            else f"/principals/{_segment(_name(principal))}/tokens"
        )
        return self._api._one(IssuedToken, "POST", path, json=body)

    def revoke_token(self, token: str) -> TokenInfo:
        """Revoke one of the caller's tokens, or (registry admins) anyone's."""
        token_id = _segment(_token_id(token))
        try:
            return self._api._one(TokenInfo, "POST", f"/me/tokens/{token_id}/revoke")
        except errors.NotFound:
            return self._api._one(TokenInfo, "POST", f"/tokens/{token_id}/revoke")

    def list_tokens(self, principal: str | None = None) -> list[TokenInfo]:
        """Everyone's (auditors and admins) or one principal's; else the caller's own."""
        if principal is not None:
            return self._api._many(TokenInfo, "/tokens", principal=_name(principal))
        try:
            return self._api._many(TokenInfo, "/tokens")
        except errors.PermissionDenied:
            return self._api._many(TokenInfo, "/me/tokens")

    def prune_access_log(self, older_than: timedelta) -> AccessPruned:
        """Delete the server's access records older than ``older_than`` (registry admins)."""
        body = {"older_than_seconds": int(older_than.total_seconds())}
        return self._api._one(AccessPruned, "POST", "/audit/prune", json=body)

    def access_log(
        self,
        *,
        principal: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[AccessRecord]:
        params = {"principal": principal, "outcome": outcome, "limit": limit, "after": after}
        return self._api._many(AccessRecord, "/audit", **params)
