"""Options shared by several commands, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Limit = Annotated[int, typer.Option("--limit", help="Return at most this many.")]
Team = Annotated[str | None, typer.Option("--team", help="Only those owned by this team.")]
Description = Annotated[str | None, typer.Option("--description", help="Free text.")]
Contact = Annotated[str | None, typer.Option("--contact", help="E-mail address to ask.")]
Tags = Annotated[
    list[str] | None, typer.Option("--tag", help="A tag (repeatable); replaces the tags on update.")
]
Labels = Annotated[list[str] | None, typer.Option("--label", help="key=value (repeatable).")]
Metrics = Annotated[list[str] | None, typer.Option("--metric", help="name=value (repeatable).")]
Metadata = Annotated[
    str | None,
    typer.Option("--metadata", help="JSON file with more fields; the options above win."),
]
Facets = Annotated[
    list[str] | None,
    typer.Option("--facet", help="name/version=FILE.json: a facet's data (repeatable)."),
]
Inputs = Annotated[
    list[str] | None,
    typer.Option("--input", help="A dataset version it was trained on, dataset:team/name@n."),
]
At = Annotated[
    str | None, typer.Option("--at", help="ISO 8601 time (UTC if no zone given); default now.")
]
