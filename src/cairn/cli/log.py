"""``cairn history`` and ``cairn log``: the append-only, tamper-evident event log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import LogReport

app = typer.Typer(help="Check the event log.", no_args_is_help=True)


def history(
    ref: Annotated[
        str, typer.Argument(help="What to trace: model:team/name, model:team/name@3, team:fraud…")
    ],
    limit: o.Limit = 100,
    after: Annotated[int, typer.Option(help="Start after this log sequence number.")] = 0,
    as_json: o.Json = False,
) -> None:
    """Every recorded change to one thing, oldest first: who, when, what."""
    with open_registry() as registry:
        events = registry.history(ref, limit=limit, after=after)
    rows = [(e.seq, e.at, e.type, e.actor, e.subject) for e in events]
    columns = ["seq", "at", "event", "actor", "subject"]
    out.emit(events, as_json, lambda: out.table(f"History of {ref}", columns, rows))


def render(report: LogReport) -> None:
    if report.first_problem is None:
        out.done(f"log ok: {report.checked} events, root {report.head.root_hash}")
        return
    problem = report.first_problem
    out.console(stderr=True).print(
        f"[red]✗[/red] log corrupted at seq {problem.seq}: {problem.problem}", markup=True
    )


@app.command("check")
def check(as_json: o.Json = False) -> None:
    """Recompute every leaf hash, chain link and root. Exit 1 naming the first bad event."""
    with open_registry() as registry:
        report = registry.check_log()
    out.emit(report, as_json, lambda: render(report))
    if not report.ok:
        raise typer.Exit(1)
