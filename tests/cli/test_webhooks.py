"""``cairn webhook`` from the shell, against a real receiver on loopback (allowed explicitly)."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook as Verifier

from tests.cli.conftest import Cli
from tests.receiver import receiver


def test_a_subscription_from_the_shell_delivers_what_its_receiver_verifies(
    seeded: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver(503) as hook:
        refused = seeded("webhook", "create", hook.url, "--team", "fraud", "--event", "alias.set")
        assert refused.code == 2 and len(refused.stderr.strip().splitlines()) == 1
        assert "is loopback" in refused.stderr and "CAIRN_WEBHOOK_ALLOW" in refused.stderr
        monkeypatch.setenv("CAIRN_WEBHOOK_ALLOW", "127.0.0.1")
        unknown = seeded("webhook", "create", hook.url, "--team", "fraud", "--event", "nope")
        assert unknown.code == 2 and "nope: not an event" in unknown.stderr
        created = seeded(
            "webhook", "create", hook.url, "--model", "fraud/churn", "--event", "model.updated"
        )
        assert created.code == 0, created.stderr
        secret = created.stdout.strip()
        assert secret.startswith("whsec_") and "\n" not in secret  # alone on stdout
        assert "will not be shown again" in created.stderr
        [listed] = seeded("webhook", "list", "--team", "fraud", "--json").json()
        assert "secret" not in listed and listed["model"] == "model:fraud/churn"
        assert seeded("model", "update", "fraud/churn", "--description", "who leaves").code == 0
        first = seeded("webhook", "deliver", "--json")
        assert first.code == 0, first.stderr
        assert (first.json()["queued"], first.json()["retrying"]) == (1, 1)  # the 503
        [pending] = seeded("webhook", "deliveries", listed["id"], "--json").json()
        again = seeded("webhook", "redeliver", pending["id"])
        assert again.code == 0, again.stderr
        assert seeded("webhook", "deliver", "--json").json()["delivered"] == 1
        shown = seeded("webhook", "delivery", pending["id"])
        assert shown.code == 0 and "503" in shown.stdout and "delivered" in shown.stdout
        for got in hook.received:
            body = Verifier(secret).verify(got.body, got.headers)
            assert body["data"]["subject"] == "model:fraud/churn"
    paused = seeded("webhook", "update", listed["id"], "--pause", "--json")
    assert paused.code == 0 and paused.json()["active"] is False
    rotated = seeded("webhook", "rotate-secret", listed["id"])
    assert rotated.code == 0 and rotated.stdout.strip() not in ("", secret)
    assert seeded("webhook", "delete", listed["id"]).code == 0
    assert seeded("webhook", "list", "--json").json() == []


def test_deliver_needs_an_embedded_registry(seeded: Cli) -> None:
    remote = seeded("--registry", "http://127.0.0.1:9", "webhook", "deliver")
    assert remote.code == 2
    assert remote.stderr.startswith("error: a server delivers its webhooks itself")
