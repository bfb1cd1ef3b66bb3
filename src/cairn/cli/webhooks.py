"""``cairn webhook``: subscriptions to a team's (or a model's) events, their delivery log, and a
delivery worker for an embedded registry::

    $ cairn webhook create https://ci.example.com/hooks/cairn --team fraud \\
        --event model_version.registered --event transition.refused
    whsec_…
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.webhooks import Webhook, WebhookCreated, WebhookDelivery

app = typer.Typer(
    help="Signed deliveries of a team's events to a URL, retried, with a delivery log.",
    no_args_is_help=True,
)

WebhookId = Annotated[str, typer.Argument(help="The subscription's id (cairn webhook list).")]
DeliveryId = Annotated[str, typer.Argument(help="The delivery's id (cairn webhook deliveries).")]
Events = Annotated[
    list[str] | None,
    typer.Option("--event", help="An event to deliver (repeatable); see: cairn webhook events."),
]


def _hand_over(created: WebhookCreated, as_json: bool, what: str) -> None:
    """The secret alone on stdout (or all as JSON), the rest on stderr: it is shown once."""
    if as_json:
        out.dump(created)
    else:
        sys.stdout.write(created.secret + "\n")
    err = out.console(stderr=True)
    err.print(f"[green]✓[/green] {what} {created.id} → {created.url}")
    err.print(
        "[yellow]Copy the secret now: receivers verify signatures with it, "
        "and it will not be shown again.[/yellow]"
    )


def _show(hook: Webhook) -> None:
    out.panel(
        f"webhook {hook.id}",
        {
            "url": hook.url,
            "team": hook.team,
            "model": hook.model or "every model of the team",
            "events": hook.events,
            "active": "yes" if hook.active else "paused",
            "description": hook.description,
            "created": f"{out.text(hook.created_at)} by {hook.created_by}",
            "revision": hook.revision,
        },
    )


def _deliveries(found: list[WebhookDelivery]) -> None:
    rows = []
    for d in found:
        last = d.attempts[-1] if d.attempts else None
        answer = (last.status_code or last.error) if last else None
        due = d.next_attempt_at if d.status == "pending" else None
        rows.append(
            (d.id, d.topic, d.subject, d.status, len(d.attempts), answer, due, d.created_at)
        )
    columns = ["id", "event", "subject", "status", "attempts", "last answer", "next", "queued"]
    out.table("deliveries", columns, rows)


@app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="Where to deliver: a public http(s) URL.")],
    events: Events = None,
    team: Annotated[str | None, typer.Option("--team", help="Every model of this team.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Only this model, team/name.")
    ] = None,
    description: o.Description = None,
    as_json: o.Json = False,
) -> None:
    """Subscribe URL to events of a team (or of one model); prints the signing secret once."""
    with open_registry() as registry:
        created = registry.create_webhook(
            url, events=events or [], team=team, model=model, description=description
        )
    _hand_over(created, as_json, "webhook")


@app.command("list")
def list_webhooks(team: o.Team = None, as_json: o.Json = False) -> None:
    """Subscriptions, by team."""
    with open_registry() as registry:
        found = registry.list_webhooks(team=team)
    rows = [
        (h.id, h.team, h.model, h.url, h.events, "yes" if h.active else "paused") for h in found
    ]
    out.emit(
        found,
        as_json,
        lambda: out.table("webhooks", ["id", "team", "model", "url", "events", "active"], rows),
    )


@app.command("show")
def show(webhook: WebhookId, as_json: o.Json = False) -> None:
    """One subscription and its latest deliveries."""
    with open_registry() as registry:
        hook = registry.get_webhook(webhook)
        recent = registry.list_deliveries(hook.id, limit=10)

    def render() -> None:
        _show(hook)
        _deliveries(recent)

    out.emit(hook, as_json, render)


@app.command("update")
def update(
    webhook: WebhookId,
    url: Annotated[str | None, typer.Option("--url", help="A new destination.")] = None,
    events: Annotated[
        list[str] | None,
        typer.Option("--event", help="The events to deliver, replacing the current ones."),
    ] = None,
    active: Annotated[
        bool | None,
        typer.Option("--resume/--pause", help="Resume deliveries, or pause them."),
    ] = None,
    description: o.Description = None,
    as_json: o.Json = False,
) -> None:
    """Change a subscription; a paused one hears nothing until resumed."""
    with open_registry() as registry:
        hook = registry.update_webhook(
            webhook, url=url, events=events, active=active, description=description
        )
    out.emit(hook, as_json, lambda: _show(hook))


@app.command("rotate-secret")
def rotate_secret(webhook: WebhookId, as_json: o.Json = False) -> None:
    """A new signing secret, in force at once; prints it once."""
    with open_registry() as registry:
        rotated = registry.rotate_webhook_secret(webhook)
    _hand_over(rotated, as_json, "new secret for webhook")


@app.command("delete")
def delete(webhook: WebhookId) -> None:
    """Remove a subscription and its delivery log (its events stay in the log)."""
    with open_registry() as registry:
        registry.delete_webhook(webhook)
    out.done(f"webhook {webhook} deleted")


@app.command("ping")
def ping(webhook: WebhookId, as_json: o.Json = False) -> None:
    """Queue a webhook.ping delivery, to test the receiver."""
    with open_registry() as registry:
        queued = registry.ping_webhook(webhook)
    out.emit(queued, as_json, lambda: out.done(f"ping {queued.id} queued"))


@app.command("deliveries")
def deliveries(
    webhook: WebhookId,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or failed.")
    ] = None,
    limit: o.Limit = 50,
    as_json: o.Json = False,
) -> None:
    """A subscription's delivery log, newest first."""
    with open_registry() as registry:
        found = registry.list_deliveries(webhook, status=status, limit=limit)
    out.emit(found, as_json, lambda: _deliveries(found))


@app.command("delivery")
def delivery(delivery_id: DeliveryId, as_json: o.Json = False) -> None:
    """One delivery with every attempt: when, the answer or the error, and the next retry."""
    with open_registry() as registry:
        found = registry.get_delivery(delivery_id)

    def render() -> None:
        out.panel(
            f"delivery {found.id}",
            {
                "webhook": found.webhook,
                "event": f"{found.topic} #{found.event_seq}" if found.event_seq else found.topic,
                "subject": found.subject,
                "status": found.status,
                "next attempt": found.next_attempt_at if found.status == "pending" else None,
            },
        )
        rows = [
            (a.number, a.at, a.outcome, a.status_code, a.error, f"{a.duration_ms:.0f}", a.retry_at)
            for a in found.attempts
        ]
        columns = ["#", "at", "outcome", "status", "error", "ms", "retry at"]
        out.table("attempts", columns, rows)

    out.emit(found, as_json, render)


@app.command("redeliver")
def redeliver(delivery_id: DeliveryId, as_json: o.Json = False) -> None:
    """Queue one more attempt of a delivery, now."""
    with open_registry() as registry:
        queued = registry.redeliver(delivery_id)
    out.emit(queued, as_json, lambda: out.done(f"delivery {queued.id} queued again"))


@app.command("events")
def events() -> None:
    """The events a subscription can name (a model's: the ones marked)."""
    from cairn.core.webhooks import MODEL_TOPICS, TOPICS

    rows = [(topic, "yes" if topic in MODEL_TOPICS else "") for topic in TOPICS]
    out.table("webhook events", ["event", "for one model"], rows)


@app.command("deliver")
def deliver(
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep delivering until interrupted (Ctrl-C).")
    ] = False,
    poll: Annotated[
        float, typer.Option("--poll", help="Seconds between looks for new events.", min=0.1)
    ] = 1.0,
    as_json: o.Json = False,
) -> None:
    """Send what is due from an embedded registry (a server delivers by itself)."""
    import threading

    from cairn.core.errors import ValidationFailed
    from cairn.local import LocalRegistry

    with open_registry() as registry:
        if not isinstance(registry, LocalRegistry):
            raise ValidationFailed(
                "a server delivers its webhooks itself",
                field="--registry",
                hint="run this against a registry folder or database URL",
            )
        with registry.webhook_dispatcher() as worker:
            if not follow:
                report = worker.run_once()
                out.emit(
                    report,
                    as_json,
                    lambda: out.done(
                        f"{report.queued} queued, {report.delivered} delivered, "
                        f"{report.retrying} to retry, {report.failed} failed"
                    ),
                )
                return
            stop = threading.Event()
            with out.console(stderr=True).status("delivering webhooks (Ctrl-C to stop)…"):
                try:
                    worker.run_until(stop, poll_s=poll)
                except KeyboardInterrupt:
                    stop.set()
