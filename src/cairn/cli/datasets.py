"""``cairn dataset``: datasets (``team/name``) and their numbered versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import Dataset, DatasetVersion

app = typer.Typer(help="Datasets and their versions.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="The dataset, team/name.")]
Uri = Annotated[str | None, typer.Option("--uri", help="Where the data is, e.g. s3://...")]
ExternalIds = Annotated[
    list[str] | None, typer.Option("--external-id", help="system=id in another catalog.")
]


def render(dataset: Dataset) -> None:
    out.panel(
        dataset.id,
        {
            "description": dataset.description,
            "uri": dataset.uri,
            "external ids": dataset.external_ids,
            "tags": dataset.tags,
            "latest version": dataset.latest_version or None,
            "created": dataset.created_at,
        },
    )


def render_version(version: DatasetVersion) -> None:
    out.panel(
        version.id,
        {
            "uri": version.uri,
            "digest": version.digest,
            "rows": version.row_count,
            "fields": [f"{f.name}:{f.type}" for f in version.fields],
            "created": f"{out.text(version.created_at)} by {version.created_by}",
        },
    )


@app.command("create")
def create(
    ref: Ref,
    description: o.Description = None,
    uri: Uri = None,
    external_id: ExternalIds = None,
    tag: o.Tags = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Create a dataset owned by an existing team."""
    given = inputs.merge(
        metadata,
        ("ref",),
        description=description,
        uri=uri,
        tags=tag,
        external_ids=inputs.pairs(external_id, "--external-id"),
    )
    with open_registry() as registry:
        dataset = registry.create_dataset(ref, **given)
    out.emit(dataset, as_json, lambda: out.done(f"created {dataset.id}"))


@app.command("list")
def list_(team: o.Team = None, limit: o.Limit = 100, as_json: o.Json = False) -> None:
    """List datasets, by team and name."""
    with open_registry() as registry:
        datasets = registry.list_datasets(team=team, limit=limit)
    rows = [(f"{d.team}/{d.name}", d.latest_version, d.uri, d.tags) for d in datasets]
    columns = ["dataset", "latest", "uri", "tags"]
    out.emit(datasets, as_json, lambda: out.table("Datasets", columns, rows))


@app.command("show")
def show(ref: Ref, as_json: o.Json = False) -> None:
    """Show one dataset."""
    with open_registry() as registry:
        dataset = registry.get_dataset(ref)
    out.emit(dataset, as_json, lambda: render(dataset))


@app.command("update")
def update(
    ref: Ref,
    description: o.Description = None,
    uri: Uri = None,
    external_id: ExternalIds = None,
    tag: o.Tags = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Change the fields given; the others stay as they are."""
    given = inputs.merge(
        metadata,
        ("ref",),
        description=description,
        uri=uri,
        tags=tag,
        external_ids=inputs.pairs(external_id, "--external-id"),
    )
    with open_registry() as registry:
        dataset = registry.update_dataset(ref, **given)
    out.emit(dataset, as_json, lambda: out.done(f"updated {dataset.id}"))


@app.command("add-version")
def add_version(
    ref: Ref,
    uri: Uri = None,
    digest: Annotated[str | None, typer.Option("--digest", help="e.g. sha256:<hex>.")] = None,
    row_count: Annotated[int | None, typer.Option("--row-count", help="Rows in it.")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="name:type (repeatable).")
    ] = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Add the next version of a dataset."""
    given = inputs.merge(
        metadata,
        ("dataset",),
        uri=uri,
        digest=digest,
        row_count=row_count,
        fields=inputs.typed_fields(field, "--field"),
    )
    with open_registry() as registry:
        version = registry.add_dataset_version(ref, **given)
    out.emit(version, as_json, lambda: out.done(f"added {version.id}"))


@app.command("versions")
def versions(
    ref: Ref,
    limit: o.Limit = 100,
    after: Annotated[int, typer.Option(help="Start after this version number.")] = 0,
    as_json: o.Json = False,
) -> None:
    """List a dataset's versions, oldest first."""
    with open_registry() as registry:
        found = registry.list_dataset_versions(ref, limit=limit, after=after)
    rows = [(v.version, v.uri, v.digest, v.row_count, v.created_at) for v in found]
    columns = ["version", "uri", "digest", "rows", "created"]
    out.emit(found, as_json, lambda: out.table(f"Versions of {ref}", columns, rows))


@app.command("show-version")
def show_version(
    ref: Annotated[str, typer.Argument(help="team/name@n.")], as_json: o.Json = False
) -> None:
    """Show one dataset version with its fields."""
    with open_registry() as registry:
        version = registry.get_dataset_version(ref)
    out.emit(version, as_json, lambda: render_version(version))
