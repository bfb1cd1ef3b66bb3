"""``cairn lineage``: the graph around a node, pictures of it, impact analysis, upstream
changes, edges by hand, and OpenLineage events from a file::

    $ cairn lineage impact dataset:risk/transactions@3
    $ cairn lineage show model:fraud/churn@4 --format svg --output churn.svg
    $ cairn lineage show model:fraud/churn@4 --direction upstream --format prov-n
    $ cairn lineage ingest events.jsonl
    $ cairn lineage report team:fraud
    $ cairn lineage reconcile catalog-export.json
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry
from cairn.core.errors import ValidationFailed
from cairn.core.lineage_bounds import DEFAULT_DEPTH, DEFAULT_NODE_LIMIT, MAX_DEPTH, MAX_NODE_LIMIT

if TYPE_CHECKING:
    from cairn.core.completeness import Check, CompletenessReport, Rollup
    from cairn.core.lineage import ImpactReport, LineageGraph, PossibleTwin
    from cairn.core.reconcile import ReconcileReport

app = typer.Typer(
    help="Where models came from and what depends on what: the lineage graph.",
    no_args_is_help=True,
)

Node = Annotated[
    str,
    typer.Argument(
        help="A node: model:team/name@n, dataset:team/name@n, feature-view:team/name@n, "
        "run:team/name, deployment:ID, environment:NAME, ol-dataset:NAMESPACE/NAME, "
        "ol-job:NAMESPACE/NAME, ol-run:RUN-ID, code:REPOSITORY@COMMIT."
    ),
]
Depth = Annotated[
    int, typer.Option("--depth", help=f"Follow at most this many edges (1..{MAX_DEPTH}).")
]
EdgeKind = Annotated[str, typer.Argument(help="The edge type: read_by, produced, trained, …")]


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SVG = "svg"
    PNG = "png"
    DOT = "dot"
    MERMAID = "mermaid"
    PROV_JSON = "prov-json"
    PROV_N = "prov-n"


def _picture(graph: LineageGraph, fmt: Format) -> bytes:
    from cairn.core import picture

    if fmt is Format.PNG:
        from cairn.cli.png import png

        return png(graph)
    from cairn.core import prov

    draw = {
        Format.SVG: picture.svg,
        Format.DOT: picture.dot,
        Format.MERMAID: picture.mermaid,
        Format.PROV_JSON: prov.prov_json,
        Format.PROV_N: prov.prov_n,
    }
    return draw[fmt](graph).encode()


def _partial(partial: bool, reason: str | None, stopped_at: list[str]) -> None:
    if partial:
        where = ", ".join(stopped_at[:5]) + (" …" if len(stopped_at) > 5 else "")
        out.console(stderr=True).print(
            f"[yellow]partial answer: cut short by the {reason} bound at {where}; "
            "raise --depth or --limit to see further[/yellow]"
        )


@app.command("show")
def show(
    node: Node,
    direction: Annotated[
        str, typer.Option("--direction", help="upstream, downstream or both.")
    ] = "both",
    depth: Depth = DEFAULT_DEPTH,
    edge_types: Annotated[
        list[str] | None, typer.Option("--edge-type", help="Follow only these edges (repeatable).")
    ] = None,
    node_kinds: Annotated[
        list[str] | None, typer.Option("--node-kind", help="Show only these kinds (repeatable).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many nodes.")
    ] = DEFAULT_NODE_LIMIT,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="table, json, a picture (svg, png, dot, mermaid) or W3C PROV (prov-json, prov-n).",
        ),
    ] = Format.TABLE,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the picture to this file.")
    ] = None,
) -> None:
    """The graph around a node, as a table, JSON, a picture (left to right, data first) or W3C
    PROV for other tools (``--direction upstream --format prov-json``: what shaped it)."""
    if fmt is Format.PNG and output is None and sys.stdout.isatty():
        raise ValidationFailed(
            "a PNG would garble the terminal", field="--output", hint="add --output FILE.png"
        )
    with open_registry() as registry:
        graph = registry.lineage(
            node,
            direction=direction,
            depth=depth,
            edge_types=edge_types,
            node_kinds=node_kinds,
            limit=limit,
        )
    _partial(graph.partial, graph.reason, graph.stopped_at)
    if fmt is Format.JSON:
        out.dump(graph)
    elif fmt is Format.TABLE:
        rows = [(n.depth, n.id, n.kind, n.team) for n in graph.nodes]
        out.table(f"lineage of {graph.root}", ["depth", "node", "kind", "team"], rows)
        edges = [(e.source, e.type, e.target) for e in graph.edges]
        out.table("edges", ["from", "edge", "to"], edges)
    else:
        data = _picture(graph, fmt)
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            Path(output).write_bytes(data)
            out.done(f"{fmt} of {len(graph.nodes)} nodes written to {output}")


def _impact_table(report: ImpactReport) -> None:
    rows = [
        (
            v.id,
            v.team,
            v.contact,
            " → ".join(f"{b} ({t})" for b, t in zip(v.path[1:], v.via, strict=True)),
            ", ".join(d.environment for d in v.deployments if d.active),
        )
        for v in report.versions
    ]
    out.table(
        f"model versions downstream of {report.source}",
        ["version", "team", "contact", "path", "serving in"],
        rows,
    )
    active = [d for d in report.deployments if d.active]
    out.table(
        "active deployments",
        ["deployment", "version", "environment", "stage", "since"],
        [(d.id, d.version, d.environment, d.stage, d.deployed_at) for d in active],
    )
    summary = ", ".join(f"{team}: {n}" for team, n in report.teams.items()) or "none"
    out.console().print(f"teams affected: {summary}")


@app.command("impact")
def impact(
    node: Node,
    depth: Depth = MAX_DEPTH,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many nodes.")
    ] = MAX_NODE_LIMIT,
    as_json: o.Json = False,
) -> None:
    """Every model version downstream of a dataset, feature view, run or model version: how it
    is reached, who owns it, where it is deployed."""
    with open_registry() as registry:
        report = registry.impact(node, depth=depth, limit=limit)
    _partial(report.partial, report.reason, report.stopped_at)
    out.emit(report, as_json, lambda: _impact_table(report))


@app.command("changes")
def changes(
    before: Annotated[str, typer.Argument(help="A model version, e.g. model:fraud/churn@3.")],
    after: Annotated[str, typer.Argument(help="Another, e.g. model:fraud/churn@4.")],
    as_json: o.Json = False,
) -> None:
    """What changed upstream between two model versions."""
    with open_registry() as registry:
        change = registry.upstream_changes(before, after)

    def render() -> None:
        rows: list[tuple[str, str, str]] = [("changed", a, b) for a, b in change.changed]
        rows += [("removed", a, "-") for a in change.removed]
        rows += [("added", "-", b) for b in change.added]
        out.table(
            f"upstream of {change.after} against {change.before}", ["", "before", "after"], rows
        )

    out.emit(change, as_json, render)


@app.command("link")
def link(
    source: Annotated[str, typer.Argument(help="What came first, e.g. ol-dataset:s3://lake/tx.")],
    edge: EdgeKind,
    target: Annotated[str, typer.Argument(help="What it shaped, e.g. model:fraud/churn@4.")],
    as_json: o.Json = False,
) -> None:
    """Add an edge by hand: SOURCE EDGE TARGET (recorded as an event)."""
    with open_registry() as registry:
        made = registry.add_lineage_edge(source, edge, target)
    out.emit(made, as_json, lambda: out.done(f"{made.source} {made.type} {made.target}"))


@app.command("unlink")
def unlink(
    source: Annotated[str, typer.Argument(help="The edge's source.")],
    edge: EdgeKind,
    target: Annotated[str, typer.Argument(help="The edge's target.")],
) -> None:
    """Remove an edge added by hand (the log keeps that it existed)."""
    with open_registry() as registry:
        registry.remove_lineage_edge(source, edge, target)
    out.done(f"removed {source} {edge} {target}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _gaps(missing: dict[Check, int]) -> str:
    return ", ".join(f"{check} {n}" for check, n in missing.items() if n) or "none"


def _coverage(r: Rollup) -> str:
    if not r.production:
        return "no production versions"
    return f"{_percent(r.coverage)} ({r.validated} of {r.production} production versions)"


def _rollups(title: str, rollups: list[Rollup]) -> None:
    rows = [
        (
            # team:fraud and model:fraud/churn read as fraud and churn under their scope
            r.id.partition(":")[2].rpartition("/")[2],
            r.versions,
            r.complete,
            _percent(r.score),
            _gaps(r.missing),
            f"{r.validated} of {r.production}" if r.production else "-",
        )
        for r in rollups
    ]
    columns = ["", "versions", "complete", "score", "versions missing", "prod. validated"]
    out.table(title, columns, rows)


def _report_table(report: CompletenessReport) -> None:
    s = report.summary
    out.panel(
        f"lineage completeness of {report.scope}",
        {
            "versions": s.versions,
            "complete": f"{s.complete} ({_percent(s.complete / s.versions if s.versions else 1)})",
            "score": _percent(s.score),
            "versions missing": _gaps(s.missing),
            "validation coverage": _coverage(s),
        },
    )
    if report.parts:
        _rollups("by " + ("team" if report.scope == "registry" else "model"), report.parts)
    if report.versions:
        rows = [
            (
                v.id,
                _percent(v.score),
                v.missing,
                "yes" if v.production else "",
                "yes" if v.validated else "",
            )
            for v in report.versions
        ]
        out.table("versions", ["version", "score", "missing", "production", "validated"], rows)
        gaps = {gap for v in report.versions for gap in v.gaps}
        for gap in sorted(gaps):
            out.console().print(f"[dim]- {gap}[/dim]")


@app.command("report")
def report(
    scope: Annotated[
        str,
        typer.Argument(
            help="registry, team:NAME, model:TEAM/NAME or model:TEAM/NAME@N.",
        ),
    ] = "registry",
    fail_under: Annotated[
        float | None,
        typer.Option(
            "--fail-under",
            min=0.0,
            max=1.0,
            help="Exit 1 if the score is below this share (0..1): a gate for CI.",
        ),
    ] = None,
    as_json: o.Json = False,
) -> None:
    """How complete the lineage of model versions is (training data, code, environment,
    evaluation, approval), rolled up, with validation coverage of production versions."""
    with open_registry() as registry:
        found = registry.lineage_report(scope)
    out.emit(found, as_json, lambda: _report_table(found))
    if fail_under is not None and found.summary.score < fail_under:
        out.console(stderr=True).print(
            f"[red]score {found.summary.score:.2%} is under {fail_under:.2%}[/red]"
        )
        raise typer.Exit(1)


Identity = Annotated[str, typer.Argument(help="An OpenLineage dataset: ol-dataset:NAMESPACE/NAME.")]


@app.command("alias")
def alias(
    canonical: Annotated[
        str, typer.Argument(help="The name to keep, e.g. ol-dataset:s3://lake/raw/tx.")
    ],
    other: Annotated[
        str, typer.Argument(help="Another name of it, e.g. ol-dataset:hive://metastore/raw.tx.")
    ],
    as_json: o.Json = False,
) -> None:
    """Record that two OpenLineage names are one dataset: what was reported under OTHER merges
    into CANONICAL, and later reports under either name land there."""
    with open_registry() as registry:
        made = registry.add_identity_alias(canonical, other)
    out.emit(made, as_json, lambda: out.done(f"{made.alias} is now {made.canonical}"))


@app.command("unalias")
def unalias(other: Identity) -> None:
    """Forget an alias (what it merged stays merged; the log says when)."""
    with open_registry() as registry:
        registry.remove_identity_alias(other)
    out.done(f"{other} is no longer an alias")


@app.command("aliases")
def aliases(as_json: o.Json = False) -> None:
    """Every recorded alias and the canonical name it stands for."""
    with open_registry() as registry:
        found = registry.list_identity_aliases()
    rows = [(a.alias, a.canonical, a.created_by, a.created_at) for a in found]
    out.emit(found, as_json, lambda: out.table("aliases", ["alias", "canonical", "by", "at"], rows))


def _reconcile_table(report: ReconcileReport) -> None:
    out.panel(
        "reconciled with the catalog",
        {
            "catalog entries": report.catalog,
            "known to Cairn": report.known,
            "matched": report.matched,
        },
    )
    lists = (
        ("claimed by a registered dataset, missing in the catalog", report.missing_in_catalog),
        ("referenced by lineage only, unknown to the catalog", report.unresolved),
        ("in the catalog, unknown to Cairn", report.missing_in_cairn),
        ("registered datasets naming no identity", report.unidentified),
    )
    for title, items in lists:
        out.table(title, ["identity"], [(item,) for item in items])
    out.table(
        "duplicate identities",
        ["side", "key", "identities"],
        [(d.side, d.key, d.identities) for d in report.duplicates],
    )
    if not report.suggestions:
        out.console().print("[dim]suggested mappings: none[/dim]")
        return
    # One per paragraph with its command on a line of its own, ready to paste.
    console = out.console()
    console.print("[bold]suggested mappings[/bold]")
    for x in report.suggestions:
        console.print(f"{x.identity} is probably {x.suggested} ({x.reason})")
        console.print(f"    $ {x.command}", soft_wrap=True, markup=False)


@app.command("reconcile")
def reconcile(
    path: Annotated[
        str,
        typer.Argument(
            help="The catalog's datasets: an OpenLineage (Marquez) dataset listing or a JSON, "
            "JSON Lines or CSV export with namespace and name."
        ),
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 unless everything matches: a gate for CI.")
    ] = False,
    as_json: o.Json = False,
) -> None:
    """Compare the datasets Cairn knows with an external catalog's list: what is missing on
    either side, unresolved references, duplicate identities and suggested mappings."""
    from cairn.core.catalog_export import parse_catalog
    from cairn.core.reconcile import reconcile as compare

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}", field="file") from None
    catalog = parse_catalog(text, Path(path).name)
    with open_registry() as registry:
        known = registry.known_identities()
    found = compare(known.known, known.unidentified, catalog)
    out.emit(found, as_json, lambda: _reconcile_table(found))
    if check and not found.clean:
        raise typer.Exit(1)


def _events(path: str) -> list[tuple[int, Any]]:
    """(line, event) from a file holding one event or a list, else from JSON Lines."""
    from cairn.cli.inputs import json_lines

    try:
        whole = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError:
        whole = None
    except OSError as exc:
        raise ValidationFailed(f"{path}: {exc.strerror}", field="file") from None
    if isinstance(whole, dict):
        return [(1, whole)]
    if isinstance(whole, list):
        return [(1, item) for item in whole]
    lines: list[int] = []
    events = list(json_lines(path, lines))
    return list(zip(lines, events, strict=True))


@app.command("ingest")
def ingest(
    path: Annotated[str, typer.Argument(help="OpenLineage events: JSON Lines, or a JSON file.")],
    as_json: o.Json = False,
) -> None:
    """Take OpenLineage events from a file, as the HTTP endpoint would. Every event is checked
    first: one invalid event writes nothing and names its line and JSON path."""
    from cairn.services.openlineage import MAX_BATCH, checker

    events = _events(path)
    if not events:
        raise ValidationFailed(f"{path} holds no events", field="file")
    check = checker()
    problems = [(line, p) for line, event in events for p in check.problems(event)[:1]]
    if problems:
        for line, p in problems[:20]:
            sys.stderr.write(f"{path} line {line}: {p.path}: {p.message}\n")
        raise ValidationFailed(
            f"{len(problems)} of {len(events)} events in {path} are not valid OpenLineage; "
            "nothing was written",
            field="file",
            rule="openlineage",
        )
    from rich.progress import Progress

    subjects: list[str] = []
    twins: list[PossibleTwin] = []
    with (
        open_registry() as registry,
        Progress(transient=True, disable=len(events) <= MAX_BATCH) as bar,
    ):
        task = bar.add_task("ingesting", total=len(events))
        for i in range(0, len(events), MAX_BATCH):
            batch = [event for _, event in events[i : i + MAX_BATCH]]
            taken = registry.report_lineage(batch)
            subjects += taken.subjects
            twins += taken.possible_twins
            bar.advance(task, len(batch))
    warn = out.console(stderr=True)
    for twin in twins:
        # New names are kept as they came; only people may say two names are one dataset.
        warn.print(
            f"[yellow]{twin.identity} is new and looks like {', '.join(twin.existing)}[/yellow]; "
            "if it is the same dataset:",
            soft_wrap=True,
        )
        warn.print(f"    $ cairn lineage alias {twin.existing[0]} {twin.identity}", markup=False)
    if as_json:
        result = {
            "events": len(events),
            "subjects": subjects,
            "possible_twins": [t.model_dump() for t in twins],
        }
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        out.done(
            f"{len(events)} OpenLineage events from {path} ({len(set(subjects))} runs or datasets)"
        )
