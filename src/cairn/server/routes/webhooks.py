"""Webhook subscriptions and their delivery log: a team admin's business."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cairn.core import webhooks as w
from cairn.core.access import Action
from cairn.core.names import Kind
from cairn.server.routes import Reg
from cairn.server.routes.catalog import Limit
from cairn.server.routing import CairnRoute
from cairn.server.security import Facts, namespace, requires, team_field

router = APIRouter(route_class=CairnRoute, tags=["webhooks"])

WebhookId = Annotated[str, Path(pattern=w.ID_PATTERN)]
DeliveryId = Annotated[str, Path(pattern=w.ID_PATTERN)]


def _subscribed_team(facts: Facts) -> str | None:
    """The team a new subscription is for: its ``team``, or its model's."""
    body = facts.body if isinstance(facts.body, dict) else {}
    return team_field(body.get("team")) or namespace(body.get("model"), Kind.MODEL)


def _query_team(facts: Facts) -> str | None:
    return team_field(facts.query.get("team"))


def _webhook_team(facts: Facts) -> str | None:
    team: str | None = facts.request.app.state.cairn.webhook_team(facts.path["webhook"])
    return team


def _delivery_team(facts: Facts) -> str | None:
    team: str | None = facts.request.app.state.cairn.delivery_team(facts.path["delivery"])
    return team


@router.post("/webhooks", status_code=201, response_model=w.WebhookCreated)
@requires(Action.TEAM_ADMIN, _subscribed_team)
def create_webhook(spec: w.WebhookSpec, reg: Reg) -> w.WebhookCreated:
    return reg.create_webhook(
        spec.url,
        events=spec.events,
        team=spec.team,
        model=spec.model,
        description=spec.description,
    )


@router.get("/webhooks", response_model=list[w.Webhook])
@requires(Action.TEAM_ADMIN, _query_team)
def list_webhooks(
    reg: Reg, team: Annotated[str | None, Query(max_length=68)] = None
) -> list[w.Webhook]:
    return reg.list_webhooks(team=team)


@router.get("/webhooks/{webhook}", response_model=w.Webhook)
@requires(Action.TEAM_ADMIN, _webhook_team)
def get_webhook(webhook: WebhookId, reg: Reg) -> w.Webhook:
    return reg.get_webhook(webhook)


@router.patch("/webhooks/{webhook}", response_model=w.Webhook)
@requires(Action.TEAM_ADMIN, _webhook_team)
def update_webhook(webhook: WebhookId, patch: w.WebhookPatch, reg: Reg) -> w.Webhook:
    return reg.update_webhook(
        webhook,
        url=patch.url,
        events=patch.events,
        active=patch.active,
        description=patch.description,
    )


@router.delete("/webhooks/{webhook}", status_code=204, response_class=Response)
@requires(Action.TEAM_ADMIN, _webhook_team)
def delete_webhook(webhook: WebhookId, reg: Reg) -> Response:
    reg.delete_webhook(webhook)
    return Response(status_code=204)


@router.post("/webhooks/{webhook}/rotate-secret", response_model=w.WebhookCreated)
@requires(Action.TEAM_ADMIN, _webhook_team)
def rotate_webhook_secret(webhook: WebhookId, reg: Reg) -> w.WebhookCreated:
    return reg.rotate_webhook_secret(webhook)


@router.post("/webhooks/{webhook}/ping", status_code=202, response_model=w.WebhookDelivery)
@requires(Action.TEAM_ADMIN, _webhook_team)
def ping_webhook(webhook: WebhookId, reg: Reg) -> w.WebhookDelivery:
    return reg.ping_webhook(webhook)


@router.get("/webhooks/{webhook}/deliveries", response_model=list[w.WebhookDelivery])
@requires(Action.TEAM_ADMIN, _webhook_team)
def list_deliveries(
    webhook: WebhookId,
    reg: Reg,
    status: w.DeliveryStatus | None = None,
    limit: Limit = 50,
) -> list[w.WebhookDelivery]:
    return reg.list_deliveries(webhook, status=status, limit=limit)


@router.get("/webhook-deliveries/{delivery}", response_model=w.WebhookDelivery)
@requires(Action.TEAM_ADMIN, _delivery_team)
def get_delivery(delivery: DeliveryId, reg: Reg) -> w.WebhookDelivery:
    return reg.get_delivery(delivery)


@router.post(
    "/webhook-deliveries/{delivery}/redeliver", status_code=202, response_model=w.WebhookDelivery
)
@requires(Action.TEAM_ADMIN, _delivery_team)
def redeliver(delivery: DeliveryId, reg: Reg) -> w.WebhookDelivery:
    return reg.redeliver(delivery)
