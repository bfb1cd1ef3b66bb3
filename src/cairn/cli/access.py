"""``cairn principal``, ``cairn role``, ``cairn token``, ``cairn audit``, ``cairn admin bootstrap``.

Who may use a served registry: against its folder or database on its own machine, or through
the server with a token (``--registry http://…``); only ``admin bootstrap`` is local-only::

    $ cairn admin bootstrap user:alice          # the first admin and its token, once
    $ cairn principal create ci --service
    $ cairn role grant service:ci fraud contributor
    $ export CAIRN_TOKEN=$(cairn token create --principal service:ci --expires-in 30d)

A token is printed once, alone on stdout so a script can capture it; confirmations and
warnings go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import SETTINGS, actor, home, secret_key, target
from cairn.core.durations import parse_span

if TYPE_CHECKING:
    from cairn.client.access import HttpAccess
    from cairn.core.entities import IssuedToken, PrincipalInfo, TokenInfo
    from cairn.services.access import AccessService

principal_app = typer.Typer(help="Users and service accounts.", no_args_is_help=True)
role_app = typer.Typer(help="Team and registry roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the registry server.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="user:NAME or service:NAME (a bare NAME is a user).")]
Team = Annotated[str, typer.Argument(help="Team name, e.g. fraud.")]
ExpiresIn = Annotated[
    str,
    typer.Option("--expires-in", help="Lifetime such as 90d, 12h, 30m, 2w, or 'never'."),
]


def parse_duration(text: str) -> timedelta | None:
    """``90d`` -> 90 days; ``never`` -> None (the token does not expire)."""
    if text.strip().lower() == "never":
        return None
    return parse_span(text, field="--expires-in", hint="; or 'never'")


@contextmanager
def open_access() -> Iterator[AccessService | HttpAccess]:
    """The access service of the embedded registry, or of the server at a URL."""
    where = target()
    if where.startswith(("http://", "https://")):
        from cairn.client import HttpRegistry
        from cairn.client.access import HttpAccess

        remote = HttpRegistry(where, token=SETTINGS.token)
        try:
            yield HttpAccess(remote)
        finally:
            remote.close()
        return
    from cairn.local import LocalRegistry
    from cairn.store.engine import resolve_url

    registry = LocalRegistry(resolve_url(where), actor=actor())
    try:
        yield registry.access_service(Path(home()), secret_key=secret_key())
    finally:
        registry.close()


def _hand_over(issued: IssuedToken, as_json: bool) -> None:
    """Print the token once: alone on stdout (or as JSON), the rest on stderr."""
    if as_json:
        out.dump(issued)
    else:
        sys.stdout.write(issued.token + "\n")
    until = out.text(issued.expires_at) if issued.expires_at else "never expires"
    err = out.console(stderr=True)
    err.print(f"[green]✓[/green] token {issued.id} for {issued.principal} ({until})")
    err.print(
        "[yellow]Copy it now: Cairn keeps only a hash, so it will not be shown again.[/yellow]"
    )


def render_principal(info: PrincipalInfo) -> None:
    out.panel(
        info.name,
        {
            "display name": info.display_name,
            "registry role": info.registry_role,
            "teams": dict(info.teams),
            "disabled": "yes" if info.disabled else "no",
            "created": info.created_at,
            "revision": info.revision,
        },
    )


def bootstrap(name: Name, expires_in: ExpiresIn = "never", as_json: o.Json = False) -> None:
    """Make NAME the registry's first admin and print its token. Refused once an admin exists."""
    lifetime = parse_duration(expires_in)
    with open_access() as access:
        issued = access.bootstrap(name, expires_in=lifetime)
    _hand_over(issued, as_json)


@principal_app.command("create")
def create_principal(
    name: Name,
    service: Annotated[bool, typer.Option("--service", help="A service account.")] = False,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown to people.")
    ] = None,
    acts_for: Annotated[
        str | None,
        typer.Option(
            "--acts-for",
            help="A service account's user (user:alice): it shares that user's exclusions.",
        ),
    ] = None,
    as_json: o.Json = False,
) -> None:
    """Create a user (or, with --service, a service account)."""
    with open_access() as access:
        info = access.create_principal(
            name,
            kind="service" if service else None,
            display_name=display_name,
            acts_for=acts_for,
        )
    out.emit(info, as_json, lambda: out.done(f"created {info.name}"))


@principal_app.command("show")
def show_principal(name: Name, as_json: o.Json = False) -> None:
    """Show a principal and the roles it holds."""
    with open_access() as access:
        info = access.get_principal(name)
    out.emit(info, as_json, lambda: render_principal(info))


@principal_app.command("list")
def list_principals(limit: o.Limit = 100, as_json: o.Json = False) -> None:
    """List principals in name order."""
    with open_access() as access:
        found = access.list_principals(limit=limit)
    rows = [(p.name, p.registry_role, dict(p.teams), "yes" if p.disabled else "") for p in found]
    out.emit(
        found,
        as_json,
        lambda: out.table("Principals", ["name", "registry role", "teams", "disabled"], rows),
    )


@principal_app.command("disable")
def disable(name: Name) -> None:
    """Stop NAME's tokens from working (its roles are kept)."""
    with open_access() as access:
        info = access.set_disabled(name, True)
    out.done(f"disabled {info.name}")


@principal_app.command("enable")
def enable(name: Name) -> None:
    """Let a disabled principal's unexpired, unrevoked tokens work again."""
    with open_access() as access:
        info = access.set_disabled(name, False)
    out.done(f"enabled {info.name}")


@role_app.command("grant")
def grant(
    name: Name,
    team: Team,
    role: Annotated[str, typer.Argument(help="viewer, contributor, approver or admin.")],
) -> None:
    """Give NAME ROLE in TEAM, replacing any role it held there."""
    with open_access() as access:
        info = access.grant(name, team, role)
    team = team.removeprefix("team:")
    out.done(f"{info.name} is {info.teams[team]} of team:{team}")


@role_app.command("revoke")
def revoke(name: Name, team: Team) -> None:
    """Take away NAME's role in TEAM."""
    with open_access() as access:
        info = access.revoke_role(name, team)
    out.done(f"{info.name} holds no role in team:{team.removeprefix('team:')}")


@role_app.command("registry")
def registry_role(
    name: Name,
    role: Annotated[str, typer.Argument(help="admin, auditor, or none.")],
) -> None:
    """Make NAME a registry-wide admin or auditor, or (none) neither."""
    with open_access() as access:
        info = access.set_registry_role(name, None if role.lower() == "none" else role)
    out.done(f"{info.name} has registry role {info.registry_role or 'none'}")


@token_app.command("create")
def create_token(
    principal: Annotated[
        str | None, typer.Option("--principal", help="Whose token it is (default: yours).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="A label to recognise it by.")] = "default",
    expires_in: ExpiresIn = "90d",
    as_json: o.Json = False,
) -> None:
    """Issue a token and print it once."""
    from cairn.services.access import AccessService

    lifetime = parse_duration(expires_in)
    with open_access() as access:
        if isinstance(access, AccessService):
            issued = access.issue_token(principal or actor(), name=name, expires_in=lifetime)
        else:
            issued = access.issue_token(principal, name=name, expires_in=lifetime)
    _hand_over(issued, as_json)


def _state(token: TokenInfo, now: datetime) -> str:
    if token.revoked_at:
        return "revoked"
    if token.expires_at and token.expires_at <= now:
        return "expired"
    return "active"


@token_app.command("list")
def list_tokens(
    principal: Annotated[str | None, typer.Option("--principal", help="Only this one's.")] = None,
    as_json: o.Json = False,
) -> None:
    """List tokens newest first (never their secrets)."""
    from datetime import UTC

    with open_access() as access:
        found = access.list_tokens(principal)
    now = datetime.now(UTC)
    columns = ["id", "principal", "name", "state", "created", "expires", "last used"]
    rows = [
        (t.id, t.principal, t.name, _state(t, now), t.created_at, t.expires_at, t.last_used_at)
        for t in found
    ]
    out.emit(found, as_json, lambda: out.table("Tokens", columns, rows))


@token_app.command("revoke")
def revoke_token(
    token: Annotated[str, typer.Argument(help="The token's id (or its whole text).")],
) -> None:
    """Revoke a token at once; revoking it again changes nothing."""
    with open_access() as access:
        info = access.revoke_token(token)
    out.done(f"token {info.id} of {info.principal} revoked at {out.text(info.revoked_at)}")


def prune_access(
    older_than: Annotated[
        str,
        typer.Option("--older-than", help="Delete records older than this: 90d, 26w (≥ 1 day)."),
    ],
    as_json: o.Json = False,
) -> None:
    """Delete old records from the access log (registry admins); the event log records it."""
    span = parse_span(older_than, field="--older-than")
    with open_access() as access:
        pruned = access.prune_access_log(span)
    out.emit(
        pruned,
        as_json,
        lambda: out.done(
            f"{pruned.deleted} access records from before {out.text(pruned.before)} deleted"
        ),
    )


def audit(
    principal: Annotated[str | None, typer.Option("--principal", help="Only this one's.")] = None,
    denied: Annotated[bool, typer.Option("--denied", help="Only refused requests.")] = False,
    limit: o.Limit = 100,
    after: Annotated[
        int | None, typer.Option("--after", help="Continue below this record id.")
    ] = None,
    as_json: o.Json = False,
) -> None:
    """The server's access log, newest first."""
    with open_access() as access:
        found = access.access_log(
            principal=principal,
            outcome="denied" if denied else None,
            limit=limit,
            after=after,
        )
    columns = ["id", "at", "principal", "method", "path", "action", "team", "outcome", "status"]
    rows = [
        (r.id, r.at, r.principal or "(anonymous)", r.method, r.path, r.action, r.team,
         r.outcome, r.status)
        for r in found
    ]  # fmt: skip
    out.emit(found, as_json, lambda: out.table("Access log", columns, rows))
