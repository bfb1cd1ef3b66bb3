"""``cairn model``: registered models (``team/name``), the things versions belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import Model

app = typer.Typer(help="Create, list, show and change models.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="The model, team/name.")]
Task = Annotated[str | None, typer.Option("--task", help="e.g. classification.")]
Framework = Annotated[str | None, typer.Option("--framework", help="e.g. xgboost.")]
Family = Annotated[str | None, typer.Option("--algorithm-family", help="e.g. gbm.")]
Risk = Annotated[
    str | None,
    typer.Option("--risk-class", help="EU AI Act class: minimal, limited, high, unacceptable."),
]
Docs = Annotated[
    str | None,
    typer.Option("--documentation-status", help="missing, draft, complete or approved."),
]
ReviewDue = Annotated[
    str | None,
    typer.Option("--review-due", help="When its metadata is next reviewed: 2027-03-31."),
]


def fields(
    metadata: str | None, facets: list[str] | None, labels: list[str] | None, **given: Any
) -> dict[str, Any]:
    return inputs.merge(
        metadata,
        ("ref",),
        facets=inputs.facets(facets),
        labels=inputs.pairs(labels, "--label"),
        **given,
    )


def render(model: Model) -> None:
    out.panel(
        model.id,
        {
            "description": model.description,
            "contact": model.contact,
            "task": model.task,
            "framework": model.framework,
            "algorithm family": model.algorithm_family,
            "risk class": model.risk_class,
            "documentation": model.documentation_status,
            "review due": (
                f"{model.review_due} (overdue: metadata may be stale)"
                if model.review_overdue
                else model.review_due
            ),
            "last review": (
                f"{out.text(model.last_review.at)} by {model.last_review.by}"
                if model.last_review
                else None
            ),
            "deprecated": (
                f"{model.deprecation.reason}"
                + (f"; sunset {model.deprecation.sunset}" if model.deprecation.sunset else "")
                + (
                    f"; use {model.deprecation.replacement}"
                    if model.deprecation.replacement
                    else ""
                )
                if model.deprecation
                else None
            ),
            "tags": model.tags,
            "labels": model.labels,
            "facets": [f.schema_ref for f in model.facets.values()],
            "latest version": model.latest_version or None,
            "created": f"{out.text(model.created_at)} by {model.created_by}",
            "revision": model.revision,
        },
    )


@app.command("create")
def create(
    ref: Ref,
    description: o.Description = None,
    contact: o.Contact = None,
    task: Task = None,
    framework: Framework = None,
    algorithm_family: Family = None,
    risk_class: Risk = None,
    documentation_status: Docs = None,
    review_due: ReviewDue = None,
    tag: o.Tags = None,
    label: o.Labels = None,
    metadata: o.Metadata = None,
    facet: o.Facets = None,
    as_json: o.Json = False,
) -> None:
    """Create a model owned by an existing team. Fails if it exists or a field is invalid."""
    given = fields(
        metadata,
        facet,
        label,
        description=description,
        contact=contact,
        task=task,
        framework=framework,
        algorithm_family=algorithm_family,
        risk_class=risk_class,
        documentation_status=documentation_status,
        review_due=review_due,
        tags=tag,
    )
    with open_registry() as registry:
        model = registry.create_model(ref, **given)
    out.emit(model, as_json, lambda: out.done(f"created {model.id}"))


@app.command("list")
def list_(
    team: o.Team = None,
    limit: o.Limit = 100,
    after: Annotated[str | None, typer.Option(help="Start after this team/name.")] = None,
    as_json: o.Json = False,
) -> None:
    """List models, by team and name."""
    with open_registry() as registry:
        models = registry.list_models(team=team, limit=limit, after=after)
    rows = [
        (
            f"{m.team}/{m.name}",
            m.task,
            m.risk_class,
            m.latest_version,
            m.tags,
            "stale" if m.review_overdue else "",
            "deprecated" if m.deprecation else "",
        )
        for m in models
    ]
    columns = ["model", "task", "risk", "latest", "tags", "review", "status"]
    out.emit(models, as_json, lambda: out.table("Models", columns, rows))


@app.command("show")
def show(ref: Ref, as_json: o.Json = False) -> None:
    """Show one model with its metadata."""
    with open_registry() as registry:
        model = registry.get_model(ref)
    out.emit(model, as_json, lambda: render(model))


@app.command("update")
def update(
    ref: Ref,
    description: o.Description = None,
    contact: o.Contact = None,
    task: Task = None,
    framework: Framework = None,
    algorithm_family: Family = None,
    risk_class: Risk = None,
    documentation_status: Docs = None,
    review_due: ReviewDue = None,
    tag: o.Tags = None,
    label: o.Labels = None,
    metadata: o.Metadata = None,
    facet: o.Facets = None,
    as_json: o.Json = False,
) -> None:
    """Change the fields given (tags, labels and facets are replaced); the rest stay."""
    given = fields(
        metadata,
        facet,
        label,
        description=description,
        contact=contact,
        task=task,
        framework=framework,
        algorithm_family=algorithm_family,
        risk_class=risk_class,
        documentation_status=documentation_status,
        review_due=review_due,
        tags=tag,
    )
    with open_registry() as registry:
        model = registry.update_model(ref, **given)
    out.emit(model, as_json, lambda: out.done(f"updated {model.id} (revision {model.revision})"))
