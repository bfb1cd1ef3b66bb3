"""``cairn version`` and ``cairn evaluate``: model versions and the figures measured on them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import ModelVersion

app = typer.Typer(help="Register, list, show and change model versions.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="The version, team/name@n.")]
Libraries = Annotated[
    list[str] | None,
    typer.Option("--library", help="A PEP 508 requirement it needs, e.g. 'numpy>=1.26'."),
]
# The file may carry these too; they are combined with the options rather than passed twice.
_LISTS = ("inputs", "metrics", "tags")


def render(version: ModelVersion) -> None:
    out.panel(
        version.id,
        {
            "artifact": version.artifact_uri,
            "digest": version.digest,
            "description": version.description,
            "run": version.run,
            "trained on": [i.id for i in version.inputs],
            "metrics": [
                f"{m.name}={m.value:g}" + (f" [{m.slice}]" if m.slice else "")
                for m in version.metrics
            ],
            "libraries": version.dependencies.libraries,
            "tags": version.tags,
            "labels": version.labels,
            "facets": [f.schema_ref for f in version.facets.values()],
            "registered": f"{out.text(version.created_at)} by {version.registered_by}",
        },
    )


def dependencies(libraries: list[str] | None, given: dict[str, Any]) -> None:
    if libraries:
        given["dependencies"] = {**given.get("dependencies", {}), "libraries": libraries}


@app.command("register")
def register(
    model: Annotated[str, typer.Argument(help="The model, team/name.")],
    artifact_uri: Annotated[str, typer.Argument(help="Where the artifact is, e.g. s3://...")],
    digest: Annotated[str, typer.Argument(help="Its digest, sha256:<64 hex>.")],
    description: o.Description = None,
    run: Annotated[str | None, typer.Option("--run", help="The run that trained it.")] = None,
    input_: o.Inputs = None,
    metric: o.Metrics = None,
    tag: o.Tags = None,
    label: o.Labels = None,
    library: Libraries = None,
    metadata: o.Metadata = None,
    facet: o.Facets = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Registering again with the same key returns the first.")
    ] = None,
    as_json: o.Json = False,
) -> None:
    """Register the next version of a model. Datasets named by --input must exist."""
    given = inputs.merge(
        metadata,
        ("model", "artifact_uri", "digest", "idempotency_key"),
        description=description,
        run=run,
        labels=inputs.pairs(label, "--label"),
        facets=inputs.facets(facet),
    )
    dependencies(library, given)
    extra = {key: list(given.pop(key, [])) for key in _LISTS}
    metrics = extra["metrics"] + [
        {"name": k, "value": v} for k, v in inputs.numbers(metric).items()
    ]
    with open_registry() as registry:
        version = registry.register_version(
            model,
            artifact_uri,
            digest,
            metadata=given,
            inputs=extra["inputs"] + (input_ or []),
            metrics=metrics,
            tags=extra["tags"] + (tag or []),
            idempotency_key=idempotency_key,
        )
    out.emit(version, as_json, lambda: out.done(f"registered {version.id}"))


@app.command("import")
def import_(
    file: Annotated[
        str, typer.Argument(help="JSON Lines: one version per line, fields as in the SDK.")
    ],
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Versions per transaction.")
    ] = 5000,
    as_json: o.Json = False,
) -> None:
    """Register many versions from a JSON Lines file, committed batch by batch.

    A bad record stops the import and names its line; the batches before it stay. Records
    with an idempotency_key make a second run skip what the first one registered.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from cairn.core.errors import CairnError

    total = inputs.count_lines(file)
    lines: list[int] = []
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    bar = Progress(*columns, console=out.console(stderr=True), transient=True)
    with open_registry() as registry, bar:
        task = bar.add_task("import", total=total)
        try:
            report = registry.import_versions(
                inputs.json_lines(file, lines),
                batch_size=batch_size,
                progress=lambda done: bar.advance(task, done),
            )
        except CairnError as exc:
            if "record" in exc.details:  # name the line, which is what a person opens
                record = exc.details["record"]
                where = f"{file} line {lines[record]}: " if record < len(lines) else ""
                exc.message = (
                    f"{where}{exc.details['problem']} "
                    f"({exc.details['registered']:,} versions registered before it)"
                )
            raise
    out.emit(
        report,
        as_json,
        lambda: out.done(
            f"imported {report.records:,} records: {report.registered:,} registered, "
            f"{report.unchanged:,} already there ({report.batches:,} batches)"
        ),
    )


@app.command("list")
def list_(
    model: Annotated[str, typer.Argument(help="The model, team/name.")],
    limit: o.Limit = 100,
    after: Annotated[int, typer.Option(help="Start after this version number.")] = 0,
    as_json: o.Json = False,
) -> None:
    """List a model's versions, oldest first."""
    with open_registry() as registry:
        versions = registry.list_versions(model, limit=limit, after=after)
    rows = [
        (
            v.version,
            v.artifact_uri,
            [f"{m.name}={m.value:g}" for m in v.metrics],
            v.tags,
            v.created_at,
        )
        for v in versions
    ]
    columns = ["version", "artifact", "metrics", "tags", "registered"]
    out.emit(versions, as_json, lambda: out.table(f"Versions of {model}", columns, rows))


@app.command("show")
def show(ref: Ref, as_json: o.Json = False) -> None:
    """Show one version: artifact, lineage inputs, metrics, dependencies."""
    with open_registry() as registry:
        version = registry.get_version(ref)
    out.emit(version, as_json, lambda: render(version))


@app.command("update")
def update(
    ref: Ref,
    description: o.Description = None,
    tag: o.Tags = None,
    label: o.Labels = None,
    library: Libraries = None,
    metadata: o.Metadata = None,
    facet: o.Facets = None,
    as_json: o.Json = False,
) -> None:
    """Change a version's description, tags, labels, dependencies or facets; the rest stay."""
    given = inputs.merge(
        metadata,
        ("ref",),
        description=description,
        tags=tag,
        labels=inputs.pairs(label, "--label"),
        facets=inputs.facets(facet),
    )
    dependencies(library, given)
    with open_registry() as registry:
        version = registry.update_version(ref, **given)
    out.emit(version, as_json, lambda: out.done(f"updated {version.id}"))


def evaluate(
    version: Ref,
    metric: o.Metrics = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Dataset version evaluated on.")
    ] = None,
    slice_: Annotated[str, typer.Option("--slice", help="Data slice, e.g. region=eu.")] = "",
    run: Annotated[str | None, typer.Option("--run", help="The evaluation run.")] = None,
    as_json: o.Json = False,
) -> None:
    """Record evaluation metrics (at least one --metric) for a version."""
    metrics = inputs.numbers(metric)
    with open_registry() as registry:
        result = registry.record_evaluation(
            version, metrics, dataset=dataset, slice=slice_, run=run
        )
    figures = ", ".join(f"{k}={v:g}" for k, v in result.metrics.items())
    out.emit(result, as_json, lambda: out.done(f"recorded {figures} for {result.version}"))
