"""The ``cairn`` command: assembles the command groups and holds the one error catch site.

    $ cairn --registry ./.cairn model list --json

Every :class:`cairn.CairnError` and every usage mistake ends here as one ``error:`` line on
stderr and exit code 2. Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from cairn.cli import (
    access,
    admin,
    datasets,
    demo,
    deployments,
    environments,
    features,
    governance,
    lineage,
    log,
    models,
    runs,
    schemas,
    serve,
    teams,
    versions,
    webhooks,
)
from cairn.cli.context import SETTINGS

app = typer.Typer(
    name="cairn",
    help="Cairn: a model registry that knows where every model came from.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help text is plain (no Rich markup or Markdown to parse): that keeps `cairn --help`
    # well inside its 0.3 s start-up budget, and our help strings use no markup anyway.
    rich_markup_mode=None,
)


@app.callback()
def configure(
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            envvar="CAIRN_REGISTRY",
            help="Registry folder, sqlite:/// or postgresql:// URL, or a server's http(s):// URL"
            " (default: $CAIRN_HOME, else ./.cairn).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="CAIRN_TOKEN", help="API token for a server (cairn token create)."
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", envvar="CAIRN_ACTOR", help="Who acts (default: user:<os user>)."),
    ] = None,
) -> None:
    """Cairn: a model registry that knows where every model came from."""
    SETTINGS.registry = registry
    SETTINGS.actor = actor
    SETTINGS.token = token


app.command("init")(admin.init)
app.add_typer(teams.app, name="team")
app.add_typer(models.app, name="model")
app.add_typer(versions.app, name="version")
app.add_typer(datasets.app, name="dataset")
app.add_typer(features.app, name="feature-view")
app.add_typer(runs.app, name="run")
app.add_typer(environments.app, name="env")
app.command("deploy")(deployments.deploy)
app.command("serving")(deployments.serving)
app.command("evaluate")(versions.evaluate)
app.command("history")(log.history)
app.add_typer(schemas.app, name="schema")
app.add_typer(log.app, name="log")
app.add_typer(admin.db, name="db")
app.add_typer(admin.admin, name="admin")
admin.admin.command("bootstrap")(access.bootstrap)
admin.admin.command("prune-access")(access.prune_access)
app.add_typer(access.principal_app, name="principal")
app.add_typer(access.role_app, name="role")
app.add_typer(access.token_app, name="token")
app.command("audit")(access.audit)
app.add_typer(governance.request_app, name="request")
app.command("approve")(governance.approve)
app.command("reject")(governance.reject)
app.command("deprecate")(governance.deprecate)
app.add_typer(governance.review_app, name="review")
app.command("health")(governance.health)
app.add_typer(governance.policy_app, name="policy")
app.add_typer(governance.alias_app, name="alias")
app.add_typer(webhooks.app, name="webhook")
app.add_typer(lineage.app, name="lineage")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    sys.exit(2)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI; the only place errors are caught and turned into exit codes."""
    from typer import Abort
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from cairn.core.errors import CairnError

    try:
        code = app(args=argv, prog_name="cairn", standalone_mode=False)
    except CairnError as exc:
        _fail(exc.diagnostics())
    except NoArgsIsHelpError as exc:
        sys.stdout.write(exc.format_message() + "\n")
        sys.exit(2)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "cairn"
        _fail(f"{exc.format_message()} (see '{where} --help')")
    except ClickException as exc:
        _fail(exc.format_message())
    except Abort:
        _fail("aborted")
    except OSError as exc:
        # A folder that cannot be created or a file that cannot be read is the user's to fix,
        # not a bug to trace back.
        _fail(str(exc))
    sys.exit(code if isinstance(code, int) else 0)
