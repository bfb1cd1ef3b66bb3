"""``cairn feature-view``: feature views (``team/name``) and their versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import FeatureView

app = typer.Typer(help="Feature views and their versions.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="The feature view, team/name.")]
Entities = Annotated[list[str] | None, typer.Option("--entity", help="Join key (repeatable).")]


def render(view: FeatureView) -> None:
    out.panel(
        view.id,
        {
            "description": view.description,
            "entities": view.entities,
            "latest version": view.latest_version or None,
            "created": view.created_at,
        },
    )


@app.command("create")
def create(
    ref: Ref,
    description: o.Description = None,
    entity: Entities = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Create a feature view owned by an existing team."""
    given = inputs.merge(metadata, ("ref",), description=description, entities=entity)
    with open_registry() as registry:
        view = registry.create_feature_view(ref, **given)
    out.emit(view, as_json, lambda: out.done(f"created {view.id}"))


@app.command("list")
def list_(team: o.Team = None, limit: o.Limit = 100, as_json: o.Json = False) -> None:
    """List feature views, by team and name."""
    with open_registry() as registry:
        views = registry.list_feature_views(team=team, limit=limit)
    rows = [(f"{v.team}/{v.name}", v.latest_version, v.entities, v.description) for v in views]
    columns = ["feature view", "latest", "entities", "description"]
    out.emit(views, as_json, lambda: out.table("Feature views", columns, rows))


@app.command("show")
def show(ref: Ref, as_json: o.Json = False) -> None:
    """Show one feature view."""
    with open_registry() as registry:
        view = registry.get_feature_view(ref)
    out.emit(view, as_json, lambda: render(view))


@app.command("add-version")
def add_version(
    ref: Ref,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", help="name:type (repeatable).")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Dataset version it reads (repeatable).")
    ] = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Add the next version of a feature view."""
    given = inputs.merge(
        metadata,
        ("feature_view",),
        features=inputs.typed_fields(feature, "--feature"),
        sources=source,
    )
    with open_registry() as registry:
        version = registry.add_feature_view_version(ref, **given)
    out.emit(version, as_json, lambda: out.done(f"added {version.id}"))
