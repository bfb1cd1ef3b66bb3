"""Webhook delivery against a real receiver on loopback (allowed explicitly), on SQLite and
PostgreSQL: signed deliveries the receiver verifies with an independent library, retries with
backoff on a clock the test moves, a delivery log of every attempt, and destinations refused
without a connection."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier
from tests.receiver import Receiver, receiver

from cairn.core.errors import ValidationFailed
from cairn.core.webhooks import (
    POLICY_FAILURE,
    AllowList,
    AttemptOutcome,
    DeliveryStatus,
    RetryPolicy,
)
from cairn.local import LocalRegistry
from cairn.services.webhook_delivery import Dispatcher

LOOPBACK = "127.0.0.1"
NO_JITTER = RetryPolicy(attempts=4, first=timedelta(seconds=30), factor=3.0, jitter=0.0)


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


class Clock:
    """Time that moves only when the test says so: backoff without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def registry(db_url: str) -> Iterator[LocalRegistry]:
    reg = LocalRegistry(db_url, actor="user:admin", webhook_allow=LOOPBACK)
    reg.create_team("fraud")
    reg.create_team("risk")
    reg.create_model("fraud/churn")
    reg.create_model("fraud/scorer")
    reg.create_model("risk/limits")
    yield reg
    reg.close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def dispatcher(reg: LocalRegistry, **options: Any) -> Dispatcher:
    return reg.webhook_dispatcher(**options)


def test_a_receiver_verifies_each_signed_delivery(registry: LocalRegistry, hook: Receiver) -> None:
    created = registry.create_webhook(
        hook.url, team="fraud", events=["model_version.registered"], description="CI trigger"
    )
    assert created.secret.startswith("whsec_") and created.events == ["model_version.registered"]
    assert "secret" not in registry.get_webhook(created.id).model_dump()
    registry.register_version("fraud/churn", "s3://m/churn/1", digest(1))
    registry.register_version("risk/limits", "s3://m/limits/1", digest(2))  # another team
    with dispatcher(registry) as worker:
        report = worker.run_once()
    assert (report.queued, report.delivered) == (1, 1)
    [got] = hook.received
    assert got.path == "/hooks/cairn" and got.headers["content-type"] == "application/json"
    body = Verifier(created.secret).verify(got.body, got.headers)
    assert body["type"] == "model_version.registered"
    assert body["data"]["subject"] == "model:fraud/churn@1"
    assert body["data"]["actor"] == "user:admin"
    # The body carries the event as the log holds it, hashes included.
    [event] = [e for e in registry.history("model:fraud/churn@1") if e.seq == body["data"]["seq"]]
    assert body["data"]["leaf_hash"] == event.leaf_hash
    with pytest.raises(Exception, match="signature"):
        Verifier(registry.rotate_webhook_secret(created.id).secret).verify(got.body, got.headers)
    [delivery] = registry.list_deliveries(created.id)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.id == got.headers["webhook-id"]
    assert [(a.number, a.outcome, a.status_code) for a in delivery.attempts] == [
        (1, AttemptOutcome.DELIVERED, 200)
    ]


def test_a_failing_receiver_gets_retries_with_backoff(registry: LocalRegistry) -> None:
    clock = Clock()
    with receiver(500, 503) as failing:
        created = registry.create_webhook(
            failing.url, model="fraud/churn", events=["model_version.registered"]
        )
        registry.register_version("fraud/churn", "s3://m/churn/1", digest(1))
        with dispatcher(registry, clock=clock, retry=NO_JITTER) as worker:
            assert worker.run_once().retrying == 1  # 500
            clock.advance(29)
            assert worker.run_once().retrying == 0  # not due yet: nothing is sent
            assert len(failing.received) == 1
            clock.advance(2)
            assert worker.run_once().retrying == 1  # 503
            clock.advance(91)
            assert worker.run_once().delivered == 1
    [delivery] = registry.list_deliveries(created.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    attempts = delivery.attempts
    assert [(a.outcome, a.status_code) for a in attempts] == [
        (AttemptOutcome.FAILED, 500),
        (AttemptOutcome.FAILED, 503),
        (AttemptOutcome.DELIVERED, 200),
    ]
    assert attempts[0].error == "HTTP 500 Internal Server Error"
    waits = [a.retry_at - a.at for a in attempts[:2] if a.retry_at is not None]
    assert waits == [timedelta(seconds=30), timedelta(seconds=90)]  # backoff grows
    assert attempts[2].retry_at is None
    # Every attempt is the same delivery to the receiver, each signed anew and valid.
    ids = {r.headers["webhook-id"] for r in failing.received}
    assert ids == {delivery.id}
    assert [r.headers["cairn-attempt"] for r in failing.received] == ["1", "2", "3"]
    for got in failing.received:
        Verifier(created.secret).verify(got.body, got.headers)


def test_a_delivery_is_given_up_after_its_attempts_and_can_be_sent_again(
    registry: LocalRegistry,
) -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=2, first=timedelta(seconds=10), jitter=0.0)
    with receiver(500, 500) as failing:
        created = registry.create_webhook(failing.url, team="fraud", events=["model.updated"])
        registry.update_model("fraud/churn", description="churn in 30 days")
        with dispatcher(registry, clock=clock, retry=policy) as worker:
            worker.run_once()
            clock.advance(11)
            assert worker.run_once().failed == 1
            [gave_up] = registry.list_deliveries(created.id, status="failed")
            assert [a.outcome for a in gave_up.attempts] == [AttemptOutcome.FAILED] * 2
            assert gave_up.finished_at is not None and gave_up.next_attempt_at is None
            again = registry.redeliver(gave_up.id)
            assert again.status is DeliveryStatus.PENDING
            assert worker.run_once().delivered == 1
    assert registry.get_delivery(gave_up.id).status is DeliveryStatus.DELIVERED
    assert len(registry.get_delivery(gave_up.id).attempts) == 3


class Connections:
    """Every outgoing connection this process attempts, seen through Python's audit hooks."""

    watching = False
    seen: list[Any] = []

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls.watching and event == "socket.connect":
            cls.seen.append(args[1])


sys.addaudithook(Connections.hook)


@pytest.fixture
def connections() -> Iterator[list[Any]]:
    Connections.seen = []
    Connections.watching = True
    yield Connections.seen
    Connections.watching = False


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("http://100.64.0.1/hook", "not a public address"),  # carrier-grade NAT
        ("http://[::ffff:10.0.0.1]/hook", "private"),  # IPv4-mapped IPv6
        ("http://[fd00::1]/hook", "private"),
        ("http://0.0.0.0:8080/", "unspecified"),
        ("http://localhost:9/hook", "loopback"),  # a name that resolves to loopback
        ("http://127.0.0.1:9/hook", "loopback"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http://admin:pw@93.184.216.34/", "credentials"),
        ("http:///#/../", "no host"),
    ],
)
def test_a_destination_that_is_not_public_is_refused_without_a_connection(
    registry: LocalRegistry, connections: list[Any], url: str, why: str
) -> None:
    unlisted = LocalRegistry(registry.url, actor="user:admin", webhook_allow="")
    head = registry.log_head()
    with pytest.raises(ValidationFailed, match=why) as info:
        unlisted.create_webhook(url, team="fraud", events=["model.updated"])
    unlisted.close()
    assert info.value.details["field"] == "url"
    assert connections == []
    assert registry.log_head() == head and registry.list_webhooks() == []


def test_the_destination_is_judged_again_before_each_delivery(
    registry: LocalRegistry, hook: Receiver, connections: list[Any]
) -> None:
    created = registry.create_webhook(hook.url, team="fraud", events=["model.updated"])
    registry.update_model("fraud/churn", description="v2")
    # A worker whose operator no longer allows loopback: the delivery is refused, unsent.
    with Dispatcher(registry.store, allow=AllowList()) as worker:
        assert worker.run_once().failed == 1
    assert hook.received == []
    assert all(LOOPBACK not in str(address) for address in connections)
    [refused] = registry.list_deliveries(created.id)
    assert refused.status is DeliveryStatus.FAILED
    [attempt] = refused.attempts
    assert attempt.outcome is AttemptOutcome.REFUSED and "loopback" in (attempt.error or "")


def test_each_subscription_hears_only_its_scope_and_topics(
    registry: LocalRegistry, hook: Receiver
) -> None:
    registry.register_version("fraud/churn", "s3://m/churn/0", digest(9))  # before subscribing
    team = registry.create_webhook(
        hook.url, team="fraud", events=["model_version.registered", POLICY_FAILURE]
    )
    model = registry.create_webhook(hook.url, model="fraud/scorer", events=["model.updated"])
    registry.register_version("fraud/churn", "s3://m/churn/1", digest(1))
    registry.register_version("risk/limits", "s3://m/limits/1", digest(2))
    registry.update_model("fraud/churn", description="not the scorer")
    registry.update_model("fraud/scorer", description="the scorer")
    registry.publish_policy("fraud", "gate", {"require": ["owner"]})
    refused = registry.request_transition("fraud/churn@2", "production", reason="ship it")
    assert refused.status == "refused"
    with dispatcher(registry) as worker:
        assert worker.run_once().delivered == 3
    secrets = {"model.updated": model.secret}
    heard = set()
    for got in hook.received:
        topic = got.headers["cairn-event"]
        body = Verifier(secrets.get(topic, team.secret)).verify(got.body, got.headers)
        heard.add((topic, body["data"]["subject"]))
    assert heard == {
        ("model_version.registered", "model:fraud/churn@2"),
        (POLICY_FAILURE, "model:fraud/churn@2"),
        ("model.updated", "model:fraud/scorer"),
    }
    policy_failure = next(r for r in hook.received if r.headers["cairn-event"] == POLICY_FAILURE)
    unmet = Verifier(team.secret).verify(policy_failure.body, policy_failure.headers)
    assert [u["rule"] for u in unmet["data"]["payload"]["unmet"]] == ["owner"]


def test_a_paused_subscription_hears_nothing_and_holds_what_was_queued(
    registry: LocalRegistry, hook: Receiver
) -> None:
    created = registry.create_webhook(hook.url, team="fraud", events=["model.updated"])
    registry.update_model("fraud/churn", description="before the pause")
    with dispatcher(registry) as worker:
        assert worker.fan_out()[0] == 1  # queued, not yet sent
        registry.update_webhook(created.id, active=False)
        registry.update_model("fraud/churn", description="while paused")
        assert worker.run_once().queued == 0 and hook.received == []
        registry.update_webhook(created.id, active=True)
        assert worker.run_once().delivered == 1
    [delivery] = registry.list_deliveries(created.id)
    assert delivery.status is DeliveryStatus.DELIVERED


def test_a_ping_reaches_the_receiver(registry: LocalRegistry, hook: Receiver) -> None:
    created = registry.create_webhook(hook.url, team="fraud", events=["model.updated"])
    ping = registry.ping_webhook(created.id)
    assert ping.topic == "webhook.ping" and ping.status is DeliveryStatus.PENDING
    with dispatcher(registry) as worker:
        worker.run_once()
    [got] = hook.received
    assert Verifier(created.secret).verify(got.body, got.headers)["data"]["team"] == "fraud"


def test_workers_running_at_once_send_each_delivery_once(
    registry: LocalRegistry, hook: Receiver
) -> None:
    registry.create_webhook(hook.url, team="fraud", events=["model_version.registered"])
    for n in range(1, 31):
        registry.register_version("fraud/churn", f"s3://m/churn/{n}", digest(n))
    workers = [dispatcher(registry) for _ in range(3)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.run_once()  # whatever a lost race left over
        worker.close()
    ids = [r.headers["webhook-id"] for r in hook.received]
    assert len(ids) == 30 and len(set(ids)) == 30


def test_deleting_a_subscription_leaves_its_events_in_the_log(
    registry: LocalRegistry, hook: Receiver
) -> None:
    created = registry.create_webhook(
        hook.url + "?token=s3cr3t", team="fraud", events=["model.updated"]
    )
    registry.update_webhook(created.id, events=["model.created", "model.updated"])
    registry.delete_webhook(created.id)
    assert registry.list_webhooks(team="fraud") == []
    events = [e for e in registry.history("team:fraud") if e.type.startswith("webhook.")]
    assert [e.type for e in events] == ["webhook.created", "webhook.updated", "webhook.deleted"]
    logged = str([e.payload for e in events])
    assert "s3cr3t" not in logged and "/hooks/cairn" not in logged and "whsec_" not in logged
    assert events[0].payload["origin"] == hook.url.split("/hooks")[0]
