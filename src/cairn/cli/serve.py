"""``cairn serve``: the registry server (FastAPI under uvicorn) on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from cairn.cli import output as out
from cairn.cli.context import home, target


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[
        int, typer.Option(help="Worker processes (PostgreSQL: any; SQLite: 1).")
    ] = 1,
    insecure_open: Annotated[
        bool,
        typer.Option(
            "--insecure-open",
            help="Let requests without a token act as an admin. For a demo on a laptop only.",
        ),
    ] = False,
    access_log_retention: Annotated[
        str | None,
        typer.Option(
            "--access-log-retention",
            help="Prune access records older than this (90d, 26w; at least 1d), hourly. "
            "Default: keep them all.",
        ),
    ] = None,
    oidc_issuer: Annotated[
        str | None,
        typer.Option(
            "--oidc-issuer",
            help="Also accept identity tokens (JWTs) from this OpenID Connect provider "
            "(its issuer URL).",
        ),
    ] = None,
    oidc_audience: Annotated[
        str | None,
        typer.Option("--oidc-audience", help="The audience ('aud') such tokens must name."),
    ] = None,
    oidc_grant: Annotated[
        list[str] | None,
        typer.Option(
            "--oidc-grant",
            help="What a group grants: GROUP=TEAM:ROLE or GROUP=registry-admin or "
            "GROUP=registry-auditor. Repeat for each group.",
        ),
    ] = None,
    oidc_groups_claim: Annotated[
        str, typer.Option("--oidc-groups-claim", help="The claim listing the user's groups.")
    ] = "groups",
    oidc_name_claim: Annotated[
        str,
        typer.Option("--oidc-name-claim", help="The claim naming the user (user:<value>)."),
    ] = "preferred_username",
    webhook_allow: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook-allow",
            help="A destination webhooks may reach although it is not public: a host[:port] "
            "or a network (127.0.0.1, hooks.internal:8443, 10.20.0.0/16). Repeat for each. "
            "Default: $CAIRN_WEBHOOK_ALLOW, else none.",
        ),
    ] = None,
) -> None:
    """Serve the registry over HTTP: the REST API under /api/v1, its OpenAPI document at
    /api/v1/openapi.json, probes at /healthz and /readyz, Prometheus metrics at /metrics."""
    import os

    from cairn.core.durations import parse_span
    from cairn.core.errors import ValidationFailed
    from cairn.core.webhooks import ALLOW_ENV, AllowList
    from cairn.server import serving
    from cairn.server.app import RETENTION_ENV
    from cairn.services.access import MIN_ACCESS_RETENTION

    registry = target()
    if registry.startswith(("http://", "https://")):
        raise ValidationFailed(
            f"cannot serve {registry}: it is a server already",
            field="--registry",
            hint="give a folder or a database URL",
        )
    # The factory reads its settings from the environment so that every worker builds the same.
    os.environ["CAIRN_REGISTRY"] = registry
    os.environ["CAIRN_HOME"] = home()
    os.environ["CAIRN_INSECURE_OPEN"] = "1" if insecure_open else "0"
    if access_log_retention is not None:
        span = parse_span(access_log_retention, field="--access-log-retention")
        if span < MIN_ACCESS_RETENTION:
            raise ValidationFailed(
                f"--access-log-retention {access_log_retention} is shorter than a day",
                field="access-log-retention",
                rule="minimum",
                hint="keep at least a day of access records, e.g. 90d",
            )
        os.environ[RETENTION_ENV] = access_log_retention
    else:
        os.environ.pop(RETENTION_ENV, None)
    if webhook_allow:
        AllowList.parse(webhook_allow)  # a malformed entry stops here, not in every worker
        os.environ[ALLOW_ENV] = " ".join(webhook_allow)
    _configure_oidc(
        oidc_issuer, oidc_audience, oidc_grant or [], oidc_groups_claim, oidc_name_claim
    )
    if insecure_open:
        out.console(stderr=True).print(
            "warning: --insecure-open: anyone who can reach this port can change the registry"
        )
    out.done(f"serving {registry} on http://{host}:{port} (API docs at /api/v1/docs)")
    serving.run(host, port, workers)


def _configure_oidc(
    issuer: str | None, audience: str | None, grants: list[str], groups: str, name: str
) -> None:
    """Check the OIDC options here (a bad one is a usage error, not a worker crash) and hand
    them to the workers."""
    import json
    import os

    from cairn.core.access import GroupGrant
    from cairn.core.errors import ValidationFailed
    from cairn.server.app import OIDC_ENV
    from cairn.services.oidc import OidcSettings

    if issuer is None:
        if audience or grants:
            raise ValidationFailed(
                "--oidc-audience and --oidc-grant need --oidc-issuer",
                field="oidc-issuer",
                hint="give the identity provider's issuer URL",
            )
        for variable in OIDC_ENV.values():
            os.environ.pop(variable, None)
        return
    OidcSettings(
        issuer=issuer,
        audience=audience or "",
        grants=tuple(GroupGrant.parse(grant) for grant in grants),
        groups_claim=groups,
        name_claim=name,
    )
    os.environ[OIDC_ENV["issuer"]] = issuer
    os.environ[OIDC_ENV["audience"]] = audience or ""
    os.environ[OIDC_ENV["grants"]] = json.dumps(grants)
    os.environ[OIDC_ENV["groups_claim"]] = groups
    os.environ[OIDC_ENV["name_claim"]] = name
