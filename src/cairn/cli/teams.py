"""``cairn team``: the teams that own models, datasets and runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import Team

app = typer.Typer(help="Create, list, show and change teams.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Team name, e.g. fraud.")]
DisplayName = Annotated[str | None, typer.Option("--display-name", help="Name shown to people.")]


def render(team: Team) -> None:
    out.panel(
        f"team:{team.name}",
        {
            "display name": team.display_name,
            "description": team.description,
            "contact": team.contact,
            "created": team.created_at,
            "revision": team.revision,
        },
    )


@app.command("create")
def create(
    name: Name,
    display_name: DisplayName = None,
    description: o.Description = None,
    contact: o.Contact = None,
    as_json: o.Json = False,
) -> None:
    """Create a team. Fails if the name is taken or not a valid name."""
    fields: dict[str, Any] = {
        "display_name": display_name,
        "description": description,
        "contact": contact,
    }
    with open_registry() as registry:
        team = registry.create_team(name, **{k: v for k, v in fields.items() if v is not None})
    out.emit(team, as_json, lambda: out.done(f"created {team.id}"))


@app.command("list")
def list_(
    limit: o.Limit = 100,
    after: Annotated[str | None, typer.Option(help="Start after this team name.")] = None,
    as_json: o.Json = False,
) -> None:
    """List teams in name order."""
    with open_registry() as registry:
        teams = registry.list_teams(limit=limit, after=after)
    rows = [(t.name, t.display_name, t.contact, t.created_at) for t in teams]
    out.emit(
        teams, as_json, lambda: out.table("Teams", ["name", "display", "contact", "created"], rows)
    )


@app.command("show")
def show(name: Name, as_json: o.Json = False) -> None:
    """Show one team."""
    with open_registry() as registry:
        team = registry.get_team(name)
    out.emit(team, as_json, lambda: render(team))


@app.command("update")
def update(
    name: Name,
    display_name: DisplayName = None,
    description: o.Description = None,
    contact: o.Contact = None,
    as_json: o.Json = False,
) -> None:
    """Change the fields given; the others stay as they are."""
    fields: dict[str, Any] = {
        "display_name": display_name,
        "description": description,
        "contact": contact,
    }
    with open_registry() as registry:
        team = registry.update_team(name, **{k: v for k, v in fields.items() if v is not None})
    out.emit(team, as_json, lambda: out.done(f"updated {team.id} (revision {team.revision})"))
