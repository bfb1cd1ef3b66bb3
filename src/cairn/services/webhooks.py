"""Webhook subscriptions and their delivery log: create, change, rotate, delete, ping, redeliver.

A destination is judged when it is subscribed (and again before every delivery, by
:mod:`cairn.services.webhook_delivery`): a URL that is not plain HTTP(S), or whose host resolves
to an address that is not public, is refused with the reason, unless the operator's allow-list
names it. Each subscription change is an event; the URL's path and query and the secret stay
out of the log.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cairn.core.errors import NotFound, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.names import Kind, canonical_name, parse_ref
from cairn.core.webhooks import (
    ID_PATTERN,
    PING,
    REFUSAL_HINT,
    AllowList,
    DeliveryStatus,
    Destination,
    IPAddress,
    Webhook,
    WebhookCreated,
    WebhookDelivery,
    WebhookPatch,
    WebhookSpec,
    destination,
    judge,
    new_secret,
    topics,
)
from cairn.services.base import Service, new_id, page_size
from cairn.store import eventlog, lookup
from cairn.store import webhooks as q
from cairn.store.uow import Store

_ID = re.compile(ID_PATTERN)


def resolve(target: Destination) -> list[IPAddress]:
    """Every address ``target``'s host resolves to (itself, for an address literal)."""
    literal = target.literal
    if literal is not None:
        return [literal]
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def admissible(url: str, allow: AllowList) -> Destination:
    """``url``'s destination if a delivery may go there now; else ValidationFailed saying why."""
    target = destination(url)
    try:
        addresses = resolve(target)
    except (OSError, UnicodeError) as exc:
        raise ValidationFailed(
            f"webhook URL {target.url[:200]!r} is refused: its host {target.host} does not "
            f"resolve ({getattr(exc, 'strerror', None) or exc})",
            field="url",
            rule="destination",
            hint="check the host name",
        ) from None
    why = judge(target, addresses, allow)
    if why is not None:
        raise ValidationFailed(
            f"webhook URL {target.url[:200]!r} is refused: {why}",
            field="url",
            rule="destination",
            hint=REFUSAL_HINT,
        )
    return target


def origin(url: str) -> str:
    """What the log may say of a URL: its scheme, host and port, never its path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}" + (
        f":{parts.port}" if parts.port else ""
    )


def webhook_id(raw: str) -> str:
    text = raw.strip().lower().removeprefix("webhook:")
    if not _ID.match(text):
        raise NotFound(f"webhook {raw[:80]!r} does not exist", hint="cairn webhook list")
    return text


def delivery_id(raw: str) -> str:
    text = raw.strip().lower()
    if not _ID.match(text):
        raise NotFound(f"delivery {raw[:80]!r} does not exist")
    return text


class WebhookService(Service):
    def __init__(self, store: Store, actor: str, allow: AllowList | None = None) -> None:
        super().__init__(store, actor)
        self.allow = allow if allow is not None else AllowList()

    def create(self, spec: WebhookSpec) -> WebhookCreated:
        team, model = _scope(spec.team, spec.model)
        events = topics(spec.events, for_model=model is not None)
        target = admissible(spec.url, self.allow)
        secret = new_secret()
        with self.store.write(self.actor) as tx:
            team_id = lookup.team_id(tx.conn, team)
            model_id = (
                lookup.entity_id(tx.conn, parse_ref(model, kind=Kind.MODEL, versioned=False))
                if model
                else None
            )
            ident = new_id()
            row: dict[str, Any] = {
                "id": ident,
                "team_id": team_id,
                "model_id": model_id,
                "url": target.url,
                "events": events,
                "description": spec.description,
                "active": True,
                "after_seq": eventlog.state(tx.conn).size,
                "secret": secret,
                "created_by": self.actor,
                "created_at": tx.at,
                "updated_at": tx.at,
                "revision": 1,
            }
            q.insert(tx.conn, row)
            payload = {
                "id": ident,
                "team_id": team_id,
                "model_id": model_id,
                "origin": origin(target.url),
                "events": events,
                "description": spec.description,
            }
            tx.emit(EventDraft(EventType.WEBHOOK_CREATED, f"team:{team}", payload))
            created = q.webhooks(tx.conn, webhook_id=ident)[0]
        return WebhookCreated(**created.model_dump(), secret=secret)

    def get(self, ref: str) -> Webhook:
        ident = webhook_id(ref)
        with self.store.read() as conn:
            found = q.webhooks(conn, webhook_id=ident)
        if not found:
            raise NotFound(f"webhook {ident} does not exist", hint="cairn webhook list")
        return found[0]

    def find(self, *, team: str | None = None) -> list[Webhook]:
        with self.store.read() as conn:
            if team is None:
                return q.webhooks(conn)
            name = canonical_name(team.removeprefix("team:"), field="team")
            return q.webhooks(conn, team_id=lookup.team_id(conn, name))

    def update(self, ref: str, patch: WebhookPatch) -> Webhook:
        current = self.get(ref)
        changes = patch.model_dump(mode="json", exclude_unset=True)
        if changes.get("events") is not None:
            changes["events"] = topics(changes["events"], for_model=current.model is not None)
        if changes.get("url") is not None:
            changes["url"] = admissible(changes["url"], self.allow).url
        for required in ("url", "events", "active"):
            if required in changes and changes[required] is None:
                raise ValidationFailed(
                    f"{required} cannot be removed", field=required, rule="required"
                )
        if not changes:
            return current
        with self.store.write(self.actor) as tx:
            q.change(tx.conn, current.id, tx.at, changes)
            logged = dict(changes)
            if "url" in logged:
                logged["origin"] = origin(logged.pop("url"))
            payload = {"id": current.id, "changes": logged}
            tx.emit(EventDraft(EventType.WEBHOOK_UPDATED, f"team:{current.team}", payload))
            return q.webhooks(tx.conn, webhook_id=current.id)[0]

    def rotate_secret(self, ref: str) -> WebhookCreated:
        """A new signing secret, in force for every delivery from now on, retries included."""
        current = self.get(ref)
        secret = new_secret()
        with self.store.write(self.actor) as tx:
            q.change(tx.conn, current.id, tx.at, {"secret": secret})
            payload = {"id": current.id, "changes": {}, "secret_rotated": True}
            tx.emit(EventDraft(EventType.WEBHOOK_UPDATED, f"team:{current.team}", payload))
            rotated = q.webhooks(tx.conn, webhook_id=current.id)[0]
        return WebhookCreated(**rotated.model_dump(), secret=secret)

    def delete(self, ref: str) -> None:
        current = self.get(ref)
        with self.store.write(self.actor) as tx:
            q.forget(tx.conn, current.id)
            payload = {"id": current.id}
            tx.emit(EventDraft(EventType.WEBHOOK_DELETED, f"team:{current.team}", payload))

    # -- the delivery log -------------------------------------------------------------------------
    def ping(self, ref: str) -> WebhookDelivery:
        """Queue a ``webhook.ping`` delivery: proof that the receiver gets and verifies ours."""
        current = self.get(ref)
        ident = new_id()
        with self.store.write_unlogged() as conn:
            now = self.store.clock()
            q.queue(conn, [delivery_row(ident, current.id, PING, None, None, now)])
            return q.deliveries(conn, delivery_id=ident)[0]

    def deliveries(
        self, ref: str, *, status: DeliveryStatus | str | None = None, limit: int = 50
    ) -> list[WebhookDelivery]:
        if status is not None and status not in set(DeliveryStatus):
            raise ValidationFailed(
                f"{status!r} is not a delivery status",
                field="status",
                rule="enum",
                hint="one of: " + ", ".join(DeliveryStatus),
            )
        status = DeliveryStatus(status) if status is not None else None
        current = self.get(ref)
        with self.store.read() as conn:
            return q.deliveries(conn, webhook_id=current.id, status=status, limit=page_size(limit))

    def get_delivery(self, ref: str) -> WebhookDelivery:
        ident = delivery_id(ref)
        with self.store.read() as conn:
            found = q.deliveries(conn, delivery_id=ident)
        if not found:
            raise NotFound(f"delivery {ident} does not exist")
        return found[0]

    def redeliver(self, ref: str) -> WebhookDelivery:
        """Queue one more attempt of a delivery, now, whatever became of it before."""
        found = self.get_delivery(ref)
        with self.store.write_unlogged() as conn:
            q.requeue(conn, found.id, self.store.clock())
            return q.deliveries(conn, delivery_id=found.id)[0]


def delivery_row(
    ident: str,
    webhook: str,
    topic: str,
    seq: int | None,
    subject: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": ident,
        "webhook_id": webhook,
        "topic": topic,
        "event_seq": seq,
        "subject": subject,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _scope(team: str | None, model: str | None) -> tuple[str, str | None]:
    """The team, and the model (``team/name``) if the subscription is about one."""
    if model is not None:
        ref = parse_ref(model, kind=Kind.MODEL, versioned=False)
        owner = str(ref.namespace)
        if team is not None and canonical_name(team.removeprefix("team:"), field="team") != owner:
            raise ValidationFailed(
                f"model {ref} does not belong to team {team}",
                field="team",
                rule="scope",
                hint="name the model alone; its team is implied",
            )
        return owner, f"{owner}/{ref.name}"
    if team is None:
        raise ValidationFailed("a webhook names a team or a model", field="team", rule="required")
    return canonical_name(team.removeprefix("team:"), field="team"), None
