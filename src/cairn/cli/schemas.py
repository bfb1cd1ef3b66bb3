"""``cairn schema``: versioned JSON Schemas for facets; published versions never change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import SchemaVersion

app = typer.Typer(help="Publish and read facet schemas.", no_args_is_help=True)


def render(schema: SchemaVersion) -> None:
    out.panel(
        f"schema {schema.ref}",
        {
            "team": schema.team,
            "description": schema.description,
            "built in": schema.builtin,
            "properties": list(schema.json_schema.get("properties", {})),
            "migration": f"{len(schema.migration)} operations" if schema.migration else None,
            "published": f"{out.text(schema.created_at)} by {schema.created_by}",
        },
    )


@app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Dotted facet name, e.g. acme.credit-risk.")],
    version: Annotated[int, typer.Argument(help="Version number, 1 or the next one.")],
    file: Annotated[str, typer.Argument(help="JSON Schema (2020-12) file.")],
    migration: Annotated[
        str | None, typer.Option(help="JSON Patch file upgrading data from the previous version.")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Owning team.")] = None,
    description: o.Description = None,
    as_json: o.Json = False,
) -> None:
    """Publish a facet schema version. It can never be changed afterwards."""
    document = inputs.load_object(file, "schema file")
    given = inputs.merge(None, team=team, description=description)
    if migration is not None:
        given["migration"] = inputs.load_json(migration, "--migration")
    with open_registry() as registry:
        schema = registry.register_schema(name, version, document, **given)
    out.emit(schema, as_json, lambda: out.done(f"published schema {schema.ref}"))


@app.command("list")
def list_(as_json: o.Json = False) -> None:
    """List every published schema version, built-in ones included."""
    with open_registry() as registry:
        schemas = registry.list_schemas()
    rows = [(s.ref, s.team, s.builtin, s.description, s.created_at) for s in schemas]
    columns = ["schema", "team", "built in", "description", "published"]
    out.emit(schemas, as_json, lambda: out.table("Schemas", columns, rows))


@app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="name/version, e.g. acme.credit-risk/2.")],
    as_json: o.Json = False,
) -> None:
    """Show one schema version (with --json: the whole JSON Schema)."""
    with open_registry() as registry:
        schema = registry.get_schema(ref)
    out.emit(schema, as_json, lambda: render(schema))
