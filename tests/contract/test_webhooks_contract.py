"""Webhooks over every transport and both databases: subscriptions and their secrets, refused
destinations, and deliveries a real receiver on loopback verifies."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier

from cairn.core.errors import NotFound, ValidationFailed
from cairn.core.webhooks import DeliveryStatus, WebhookCreated
from cairn.local import LocalRegistry
from tests.receiver import Receiver, receiver

Open = Callable[..., Any]


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


@pytest.fixture
def registry(open_registry: Open) -> Any:
    reg = open_registry("user:admin")
    reg.create_team("fraud")
    reg.create_model("fraud/churn")
    return reg


def delivered(registry: Any, hook: Receiver, count: int) -> None:
    """Let deliveries happen: a pass of a worker in process, the server's own worker over HTTP."""
    if isinstance(registry, LocalRegistry):
        with registry.webhook_dispatcher() as worker:
            worker.run_once()
    hook.wait_for(count)


def settled(registry: Any, webhook: str, attempts: int = 1) -> list[Any]:
    """The delivery log once every delivery has ``attempts`` attempts on record (the server's
    worker records them after the receiver answered)."""
    deadline = time.monotonic() + 20
    while True:
        found = registry.list_deliveries(webhook)
        if all(len(d.attempts) >= attempts for d in found):
            return list(found)
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries without {attempts} attempts: {found}")
        time.sleep(0.05)


def test_a_subscription_round_trip_shows_its_secret_once(registry: Any) -> None:
    with receiver() as hook:
        made = registry.create_webhook(
            hook.url, team="team:fraud", events=["model_version.registered", "transition.refused"]
        )
        assert isinstance(made, WebhookCreated) and made.secret.startswith("whsec_")
        assert (made.team, made.model, made.active, made.created_by) == (
            "fraud",
            None,
            True,
            "user:admin",
        )
        assert made.events == ["model_version.registered", "transition.refused"]
        shown = registry.get_webhook(made.id)
        assert not hasattr(shown, "secret") and shown.url == hook.url
        assert [w.id for w in registry.list_webhooks(team="fraud")] == [made.id]
        changed = registry.update_webhook(made.id, events=["model.updated"], description="CI")
        assert (changed.events, changed.description, changed.revision) == (
            ["model.updated"],
            "CI",
            2,
        )
        rotated = registry.rotate_webhook_secret(made.id)
        assert rotated.secret != made.secret and rotated.revision == 3
        registry.delete_webhook(made.id)
        with pytest.raises(NotFound):
            registry.get_webhook(made.id)
        assert registry.list_webhooks() == []


def test_a_model_subscription_names_its_team_implicitly(registry: Any) -> None:
    with receiver() as hook:
        made = registry.create_webhook(hook.url, model="fraud/churn", events=["alias.set"])
        assert (made.team, made.model) == ("fraud", "model:fraud/churn")
        with pytest.raises(ValidationFailed, match="not an event a model's webhook"):
            registry.create_webhook(hook.url, model="fraud/churn", events=["dataset.created"])
        with pytest.raises(ValidationFailed, match="does not belong to team"):
            registry.create_webhook(
                hook.url, team="risk", model="fraud/churn", events=["alias.set"]
            )
        with pytest.raises(ValidationFailed, match="not an event"):
            registry.create_webhook(hook.url, team="fraud", events=["token.issued"])
        with pytest.raises(NotFound):
            registry.create_webhook(hook.url, model="fraud/nope", events=["alias.set"])


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/hook",
        "http://127.0.0.2/hook",
        "file:///etc/passwd",
        "http:///#/../",
    ],
)
def test_a_destination_that_is_not_public_is_refused_and_nothing_changes(
    registry: Any, url: str
) -> None:
    head = registry.log_head()
    with pytest.raises(ValidationFailed) as info:
        registry.create_webhook(url, team="fraud", events=["model.updated"])
    assert "refused" in info.value.message
    assert registry.log_head() == head and registry.list_webhooks() == []


def test_a_receiver_verifies_what_it_is_sent(registry: Any) -> None:
    with receiver() as hook:
        made = registry.create_webhook(hook.url, team="fraud", events=["model_version.registered"])
        registry.register_version("fraud/churn", "s3://m/churn/1", digest(1))
        delivered(registry, hook, 1)
        [got] = hook.received
        body = Verifier(made.secret).verify(got.body, got.headers)
        assert (body["type"], body["data"]["subject"]) == (
            "model_version.registered",
            "model:fraud/churn@1",
        )
        [delivery] = settled(registry, made.id)
        assert delivery.status is DeliveryStatus.DELIVERED and delivery.event_seq
        assert registry.get_delivery(delivery.id) == delivery


def test_a_ping_and_a_redelivery_reach_the_receiver(registry: Any) -> None:
    with receiver(500) as hook:
        made = registry.create_webhook(hook.url, team="fraud", events=["model.updated"])
        ping = registry.ping_webhook(made.id)
        assert (ping.topic, ping.webhook) == ("webhook.ping", made.id)
        delivered(registry, hook, 1)
        [failed] = [d for d in settled(registry, made.id) if d.id == ping.id]
        assert [a.status_code for a in failed.attempts] == [500]
        again = registry.redeliver(ping.id)
        assert again.status is DeliveryStatus.PENDING
        delivered(registry, hook, 2)
        [done] = settled(registry, made.id, attempts=2)
        assert [a.status_code for a in done.attempts] == [500, 200]
        assert {r.headers["webhook-id"] for r in hook.received} == {ping.id}
    with pytest.raises(ValidationFailed):
        registry.list_deliveries(made.id, status="lost")
