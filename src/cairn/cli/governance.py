"""``cairn request``, ``approve``, ``reject``, ``policy`` and ``alias``: aliases that move only
through approved transition requests, under each team's versioned policies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.governance import Policy, TransitionRequest

request_app = typer.Typer(
    help="Ask for a model's alias to point at a version.", no_args_is_help=True
)
policy_app = typer.Typer(help="Team policies that gate aliases.", no_args_is_help=True)
alias_app = typer.Typer(help="Where a model's aliases point.", no_args_is_help=True)

RequestId = Annotated[str, typer.Argument(help="The request's id, transition:….")]


def _show(request: TransitionRequest) -> None:
    approvals = ", ".join(a.by for a in request.approvals) or "none"
    out.console().print(
        f"{request.id}  {request.alias} → {request.version}  [bold]{request.status}[/bold]\n"
        f"  requested by {request.requested_by}: {request.reason}\n"
        f"  approvals: {approvals} (needs {request.approvals_needed})"
    )
    if request.decided_by:
        comment = f": {request.decision_comment}" if request.decision_comment else ""
        out.console().print(f"  decided by {request.decided_by}{comment}")
    for unmet in request.unmet:
        out.console().print(f"  [red]✗[/red] {unmet.field}: {unmet.message} ({unmet.policy})")


def _refused(request: TransitionRequest) -> None:
    if request.status == "refused":
        raise typer.Exit(1)  # a decision, not a usage error: it is on the record


@request_app.command("create")
def create(
    version: Annotated[str, typer.Argument(help="The version, team/name@n.")],
    alias: Annotated[str, typer.Argument(help="The alias to move: production, champion, …")],
    reason: Annotated[str, typer.Option("--reason", help="Why this version, now.")],
    notes: Annotated[
        str | None, typer.Option("--notes", help="Release notes for the approvers.")
    ] = None,
    as_json: o.Json = False,
) -> None:
    """Ask for ALIAS of the version's model to point at VERSION; exits 1 if a policy refuses,
    listing every unmet rule."""
    with open_registry() as registry:
        request = registry.request_transition(version, alias, reason=reason, release_notes=notes)
    out.emit(request, as_json, lambda: _show(request))
    _refused(request)


@request_app.command("list")
def list_requests(
    model: Annotated[str | None, typer.Option("--model", help="Of this model only.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, approved, rejected, refused, void.")
    ] = None,
    limit: o.Limit = 100,
    as_json: o.Json = False,
) -> None:
    """Transition requests, newest first."""
    with open_registry() as registry:
        found = registry.list_transitions(model=model, status=status, limit=limit)
    rows = [
        (r.id, r.version, r.alias, r.status, r.requested_by, len(r.approvals), r.approvals_needed)
        for r in found
    ]
    columns = ["id", "version", "alias", "status", "by", "approvals", "needed"]
    out.emit(found, as_json, lambda: out.table("Transition requests", columns, rows))


@request_app.command("show")
def show(request: RequestId, as_json: o.Json = False) -> None:
    """One request with its approvals and, if refused, every unmet rule."""
    with open_registry() as registry:
        found = registry.get_transition(request)
    out.emit(found, as_json, lambda: _show(found))


def approve(
    request: RequestId,
    comment: Annotated[str | None, typer.Option("--comment", help="A note for the record.")] = None,
    as_json: o.Json = False,
) -> None:
    """Approve a pending request (never your own, nor one for a version you registered)."""
    with open_registry() as registry:
        found = registry.approve_transition(request, comment=comment)
    out.emit(found, as_json, lambda: _show(found))
    _refused(found)


def reject(
    request: RequestId,
    comment: Annotated[str, typer.Option("--comment", help="Why it is rejected.")],
    as_json: o.Json = False,
) -> None:
    """Reject a pending request, saying why."""
    with open_registry() as registry:
        found = registry.reject_transition(request, comment=comment)
    out.emit(found, as_json, lambda: _show(found))


def _policy(policy: Policy) -> None:
    rules = policy.rules
    risk = ", ".join(rules.risk_classes) or "every risk class"
    out.console().print(
        f"{policy.id} (by {policy.created_by})\n"
        f"  gates {', '.join(rules.aliases)} for {risk}; {rules.approvals} approver(s)\n"
        f"  requires: {', '.join(rules.require) or 'nothing more'}"
    )


@policy_app.command("publish")
def publish(
    team: Annotated[str, typer.Argument(help="The owning team.")],
    name: Annotated[str, typer.Argument(help="The policy's name.")],
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="An alias it gates (repeat).")
    ] = None,
    risk_class: Annotated[
        list[str] | None,
        typer.Option("--risk-class", help="Only for this risk class (repeat; default all)."),
    ] = None,
    require: Annotated[
        list[str] | None,
        typer.Option(
            "--require",
            help="owner, description, risk_class, intended_use, limitations, evaluation,"
            " training_data, training_run (repeat).",
        ),
    ] = None,
    approvals: Annotated[int, typer.Option("--approvals", help="Distinct approvers needed.")] = 1,
    as_json: o.Json = False,
) -> None:
    """Publish the next version of a team's policy."""
    rules = {
        "aliases": alias or ["production"],
        "risk_classes": risk_class or [],
        "require": require or [],
        "approvals": approvals,
    }
    with open_registry() as registry:
        policy = registry.publish_policy(team, name, rules)
    out.emit(policy, as_json, lambda: out.done(f"published {policy.id}"))


@policy_app.command("show")
def show_policy(
    ref: Annotated[str, typer.Argument(help="team/name (newest) or team/name@version.")],
    as_json: o.Json = False,
) -> None:
    """One policy version."""
    with open_registry() as registry:
        policy = registry.get_policy(ref)
    out.emit(policy, as_json, lambda: _policy(policy))


@policy_app.command("list")
def list_policies(
    team: Annotated[str, typer.Argument(help="The team.")], as_json: o.Json = False
) -> None:
    """The newest version of each of a team's policies."""
    with open_registry() as registry:
        found = registry.list_policies(team)

    def render() -> None:
        for policy in found:
            _policy(policy)

    out.emit(found, as_json, render)


@alias_app.command("list")
def list_aliases(
    model: Annotated[str, typer.Argument(help="The model, team/name.")], as_json: o.Json = False
) -> None:
    """Where a model's aliases point, and who approved each move."""
    with open_registry() as registry:
        found = registry.list_aliases(model)
    rows = [(a.alias, a.version, a.set_by, a.set_at, a.request) for a in found]
    columns = ["alias", "version", "set by", "at", "request"]
    out.emit(found, as_json, lambda: out.table(f"Aliases of {model}", columns, rows))


def deprecate(
    subject: Annotated[str, typer.Argument(help="A model (team/name) or version (team/name@n).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is being retired.")],
    sunset: Annotated[
        str | None, typer.Option("--sunset", help="The date it stops being supported: 2027-03-31.")
    ] = None,
    replacement: Annotated[
        str | None, typer.Option("--replacement", help="What to use instead: team/name[@n].")
    ] = None,
    as_json: o.Json = False,
) -> None:
    """Plan a model's or a version's retirement; no alias may move to it from now on."""
    day = inputs.day(sunset, "--sunset") if sunset else None
    with open_registry() as registry:
        plan = registry.deprecate(subject, reason=reason, sunset=day, replacement=replacement)
    when = f" (sunset {plan.sunset})" if plan.sunset else ""
    out.emit(plan, as_json, lambda: out.done(f"deprecated {subject}{when}: {plan.reason}"))


review_app = typer.Typer(help="Review dates: what is overdue, and recording a review.")


@review_app.callback(invoke_without_command=True)
def reviews(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="Of this team only.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every model with a review date, not only overdue.")
    ] = False,
    limit: o.Limit = 100,
    as_json: o.Json = False,
) -> None:
    """Models whose review is overdue (their metadata may be stale), most overdue first."""
    if ctx.invoked_subcommand is not None:
        return
    with open_registry() as registry:
        found = registry.list_reviews(team=team, overdue_only=not every, limit=limit)
    rows = [
        (
            m.id,
            m.review_due,
            "overdue" if m.review_overdue else "",
            m.last_review.at if m.last_review else None,
            m.last_review.by if m.last_review else None,
        )
        for m in found
    ]
    columns = ["model", "review due", "", "last reviewed", "by"]
    title = "Overdue reviews" if not every else "Reviews"
    out.emit(found, as_json, lambda: out.table(title, columns, rows))


@review_app.command("complete")
def complete_review(
    model: Annotated[str, typer.Argument(help="The model, team/name.")],
    next_due: Annotated[
        str, typer.Option("--next-due", help="When it is due again: 2027-03-31 (after today).")
    ],
    notes: Annotated[str | None, typer.Option("--notes", help="What was checked.")] = None,
    as_json: o.Json = False,
) -> None:
    """Record a completed review of a model's metadata."""
    with open_registry() as registry:
        done = registry.complete_review(
            model, next_due=inputs.day(next_due, "--next-due"), notes=notes
        )
    out.emit(done, as_json, lambda: out.done(f"reviewed {done.id}; next due {done.review_due}"))


def health(
    team: Annotated[str | None, typer.Option("--team", help="Of this team only.")] = None,
    as_json: o.Json = False,
) -> None:
    """Metadata health per team and per model: completeness against the team's policies,
    owners, reviews, and everything missing."""
    with open_registry() as registry:
        report = registry.metadata_health(team=team)

    def render() -> None:
        teams = [
            (
                t.team,
                t.models,
                t.complete,
                f"{t.completeness:.0%}",
                t.overdue_reviews,
                t.owners_missing,
                t.owners_unknown,
            )
            for t in report.teams
        ]
        columns = ["team", "models", "complete", "completeness", "overdue", "no owner", "owner ?"]
        out.table("Metadata health", columns, teams)
        rows = [
            (
                m.model,
                f"{m.completeness:.0%}",
                m.owner,
                "overdue" if m.review_overdue else m.review_due,
                m.days_since_review,
                "; ".join(f"{u.field}" for u in m.missing),
            )
            for m in report.models
            if m.missing or m.review_overdue or m.owner != "known"
        ]
        columns = ["model", "complete", "owner", "review", "days since", "missing"]
        out.table("Needs attention", columns, rows)

    out.emit(report, as_json, render)
