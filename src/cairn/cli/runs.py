"""``cairn run``: training and evaluation runs (``team/name``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import Run

app = typer.Typer(help="Training and evaluation runs.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="The run, team/name.")]
Opt = Annotated[str | None, typer.Option()]


def render(run: Run) -> None:
    out.panel(
        run.id,
        {
            "kind": run.kind,
            "status": run.status,
            "started": run.started_at,
            "ended": run.ended_at,
            "code": run.code and f"{run.code.repository}@{run.code.commit or '?'}",
            "parameters": run.parameters,
            "inputs": run.inputs,
            "environment": run.environment,
        },
    )


@app.command("create")
def create(
    ref: Ref,
    kind: Annotated[str | None, typer.Option(help="training or evaluation.")] = None,
    status: Annotated[str | None, typer.Option(help="running, succeeded or failed.")] = None,
    started_at: Annotated[str | None, typer.Option(help="ISO 8601 time.")] = None,
    ended_at: Annotated[str | None, typer.Option(help="ISO 8601 time.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="key=value.")] = None,
    input_: o.Inputs = None,
    environment: Annotated[str | None, typer.Option(help="Environment it ran in.")] = None,
    repository: Annotated[str | None, typer.Option(help="Code repository URL.")] = None,
    commit: Annotated[str | None, typer.Option(help="Code commit (hex).")] = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Record a run owned by an existing team."""
    code = {"repository": repository, "commit": commit} if repository else None
    given = inputs.merge(
        metadata,
        ("ref",),
        kind=kind,
        status=status,
        code=code,
        environment=environment,
        started_at=inputs.moment(started_at, "--started-at"),
        ended_at=inputs.moment(ended_at, "--ended-at"),
        parameters=inputs.pairs(param, "--param"),
        inputs=input_,
    )
    with open_registry() as registry:
        run = registry.create_run(ref, **given)
    out.emit(run, as_json, lambda: out.done(f"created {run.id}"))


@app.command("list")
def list_(team: o.Team = None, limit: o.Limit = 100, as_json: o.Json = False) -> None:
    """List runs, by team and name."""
    with open_registry() as registry:
        runs = registry.list_runs(team=team, limit=limit)
    rows = [(f"{r.team}/{r.name}", r.kind, r.status, r.started_at, r.ended_at) for r in runs]
    columns = ["run", "kind", "status", "started", "ended"]
    out.emit(runs, as_json, lambda: out.table("Runs", columns, rows))


@app.command("show")
def show(ref: Ref, as_json: o.Json = False) -> None:
    """Show one run."""
    with open_registry() as registry:
        run = registry.get_run(ref)
    out.emit(run, as_json, lambda: render(run))
