"""Authentication and authorization: the one gate every route passes through.

Each endpoint declares what it needs with :func:`requires` (an action, and where the team it
concerns comes from) or :func:`public`. :func:`guard`, installed as a dependency of the whole
application, authenticates the bearer token, finds the endpoint's declaration and asks
:func:`cairn.core.access.allowed`. An endpoint without a declaration is refused to everyone:
a route added without thinking about access cannot leak (MLflow's CVEs were mostly routes
that slipped past a per-route permission map).

Once a request is allowed, the gate also refuses a NUL character (U+0000) anywhere in its path,
query or JSON body: no text in the registry may hold one (PostgreSQL cannot store it), and
refusing it here gives the same 422 on every database instead of a storage error on one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from cairn.core.access import Action, Principal, RegistryRole, allowed
from cairn.core.canonical import holds_nul
from cairn.core.errors import CairnError, PermissionDenied, Unauthenticated, ValidationFailed
from cairn.core.names import Kind, canonical_name, parse_ref
from cairn.server.routing import Endpoint, Work

ANONYMOUS_OPEN = Principal("user:anonymous", registry_role=RegistryRole.ADMIN)

TeamSource = Callable[["Facts"], str | list[str] | None]


@dataclass(frozen=True, slots=True)
class Policy:
    action: Action | None  # None: public (health, metrics)
    team: TeamSource | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What a team source may look at: the path, the query and the JSON body, if any."""

    path: dict[str, Any]
    query: dict[str, str]
    body: Any
    request: Request


def requires(action: Action, team: TeamSource | None = None) -> Callable[[Endpoint], Endpoint]:
    """Declare the access an endpoint needs."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.__cairn_policy__ = Policy(action, team)  # type: ignore[attr-defined]
        return endpoint

    return mark


def public(endpoint: Endpoint) -> Endpoint:
    """Declare an endpoint open to anyone, token or not (health checks, metrics)."""
    endpoint.__cairn_policy__ = Policy(None)  # type: ignore[attr-defined]
    return endpoint


def policy_of(endpoint: Callable[..., Any]) -> Policy | None:
    return getattr(endpoint, "__cairn_policy__", None)


# -- where the team comes from -------------------------------------------------------------------
def path_team(facts: Facts) -> str | None:
    team = facts.path.get("team")
    return str(team) if team is not None else None


def body_ref(field: str, kind: Kind = Kind.MODEL) -> TeamSource:
    """The team of the reference in body field ``field`` (``team/name``, ``kind:team/name@n``)."""

    def source(facts: Facts) -> str | None:
        raw = facts.body.get(field) if isinstance(facts.body, dict) else None
        return namespace(raw, kind)

    return source


def query_ref(field: str, kind: Kind) -> TeamSource:
    def source(facts: Facts) -> str | None:
        return namespace(facts.query.get(field), kind)

    return source


def team_field(raw: object) -> str | None:
    """The team a ``team`` field or parameter names (``fraud`` or ``team:fraud``), if valid."""
    if not isinstance(raw, str):
        return None
    try:
        return canonical_name(raw.removeprefix("team:"), field="team")
    except CairnError:
        return None  # the handler will refuse it with the precise reason


def namespace(raw: object, kind: Kind) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        ref = parse_ref(raw, kind=kind, versioned=None)
    except CairnError:
        return None  # the handler will refuse it with the precise reason
    return str(ref.namespace) if ref.namespace else None


# -- the gate -------------------------------------------------------------------------------------
async def guard(request: Request) -> None:
    """Authenticate, then allow or refuse the request; remembers both for the access log."""
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    declared = policy_of(endpoint) if endpoint is not None else None
    state = request.state
    state.action = declared.action if declared else None
    if declared is not None and declared.action is None:
        return
    server = request.app.state.cairn
    principal = await _principal(request, server)
    state.principal = principal
    if declared is None or declared.action is None:
        _require(principal)  # the anonymous hear what everyone does: authenticate first
        raise PermissionDenied("this endpoint declares no access rule, so it is closed")
    action = declared.action
    team = None
    if declared.team is not None:
        facts = Facts(
            dict(request.path_params), dict(request.query_params), await _body(request), request
        )
        team = await server.run(Work.READ, declared.team, facts)
    state.team = team
    principal = _require(principal)
    teams = team if isinstance(team, list) else [team]
    for one in teams:
        if not allowed(principal, action, one, open_reads=server.settings.open_reads):
            where = f" on team {one}" if one else ""
            raise PermissionDenied(f"{principal.name} may not {action}{where}")
    await _refuse_nul(request)


def _require(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated(
            "this request needs a token",
            hint="send 'Authorization: Bearer <token>' (see 'cairn token create')",
        )
    return principal


async def _principal(request: Request, server: Any) -> Principal | None:
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS_OPEN if server.settings.insecure_open else None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    token = token.strip()
    if server.oidc is not None and token.count(".") == 2:  # a JWT; Cairn tokens have no dots
        # Off the event loop: the provider's keys are fetched when a token names a new one.
        verified: Principal = await server.run(Work.SLOW, server.authenticate_identity, token)
        return verified
    # A token check is a read, wherever the request it guards goes.
    principal: Principal = await server.run(Work.READ, server.authenticate, token)
    return principal


async def _body(request: Request) -> Any:
    if request.method in ("GET", "HEAD", "DELETE"):
        return None
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None  # malformed or absurdly nested JSON is refused by the request parser


async def _refuse_nul(request: Request) -> None:
    where = None
    if "\x00" in request.scope["path"]:
        where = "path"
    elif b"%00" in request.scope["query_string"]:
        where = "query"
    elif request.method not in ("GET", "HEAD", "DELETE"):
        raw = await request.body()
        if holds_nul(raw):
            where = "body"
    if where is not None:
        raise ValidationFailed(
            f"the request {where} holds a NUL character (U+0000), which no text in the "
            "registry may contain",
            field=f"({where})",
            rule="no-nul",
            hint="remove the NUL character",
        )
