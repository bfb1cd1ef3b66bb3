"""The pure rules of webhooks: which addresses are public, what an allow-list reopens, how a
URL is taken apart, how a delivery is signed and when a failed one is tried again."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook as Verifier

from cairn.core.errors import ValidationFailed
from cairn.core.webhooks import (
    AllowList,
    RetryPolicy,
    blocked,
    destination,
    judge,
    new_secret,
    signature,
    topic_of,
    topics,
)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "not a public address"),
        ("192.0.2.1", "private"),  # documentation range
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::ffff:169.254.169.254", "link-local"),  # IPv4-mapped
        ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_only_public_addresses_pass(address: str, why: str | None) -> None:
    verdict = blocked(ipaddress.ip_address(address))
    assert verdict == why if why is None else why in (verdict or "")


def test_an_allow_list_reopens_named_hosts_and_networks() -> None:
    allow = AllowList.parse("hooks.internal:8443, 10.20.0.0/16 127.0.0.1")
    internal = destination("https://hooks.internal:8443/cairn")
    assert judge(internal, [ipaddress.ip_address("10.9.9.9")], allow) is None
    other_port = destination("https://hooks.internal/cairn")
    assert "private" in (judge(other_port, [ipaddress.ip_address("10.9.9.9")], allow) or "")
    lab = destination("http://lab.example/x")
    assert judge(lab, [ipaddress.ip_address("10.20.3.4")], allow) is None
    # Every address must pass: one public and one private answer is refused.
    mixed = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("192.168.1.1")]
    assert "192.168.1.1" in (judge(lab, mixed, allow) or "")
    with pytest.raises(ValidationFailed, match="neither a host"):
        AllowList.parse("hooks:port")
    assert not AllowList.parse(None) and allow


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com/x#frag", "fragment"),
        ("http:///path", "no host"),
        ("http://exa mple.com/", "spaces or control characters"),
        ("http://example.com:99999/", "not a URL"),
        ("http://example.com/" + "a" * 2048, "longer than"),
    ],
)
def test_a_url_must_be_plain_http(url: str, why: str) -> None:
    with pytest.raises(ValidationFailed, match=why):
        destination(url)


def test_a_url_is_taken_apart_for_connecting() -> None:
    target = destination("HTTPS://Hooks.Example.COM./cairn?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert destination("http://[::1]:8080/").literal == ipaddress.ip_address("::1")
    assert destination("http://bücher.example/").host == "xn--bcher-kva.example"


def test_signatures_follow_standard_webhooks() -> None:
    secret = new_secret()
    body = b'{"type":"model.updated"}'
    header = signature("msg_1", 1_700_000_000, body, secret)
    at = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert header == Verifier(secret).sign("msg_1", at, body.decode())


def test_retries_back_off_then_give_up() -> None:
    policy = RetryPolicy(attempts=5, first=timedelta(seconds=10), factor=3, jitter=0.0)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert delays == [
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(seconds=90),
        timedelta(seconds=270),
        None,
    ]
    capped = RetryPolicy(first=timedelta(hours=1), factor=10, cap=timedelta(hours=6), jitter=0)
    assert capped.delay(3) == timedelta(hours=6)
    jittered = RetryPolicy(jitter=0.2).delay(1, random.Random(7))
    assert jittered is not None and timedelta(seconds=24) <= jittered <= timedelta(seconds=36)


def test_a_refused_request_is_a_policy_failure() -> None:
    assert topic_of("transition.requested", {"status": "refused"}) == "transition.refused"
    assert topic_of("transition.requested", {"status": "pending"}) == "transition.requested"
    assert topics(["alias.set", "model.updated", "alias.set"], for_model=True) == [
        "model.updated",
        "alias.set",
    ]
    with pytest.raises(ValidationFailed, match="at least one"):
        topics([], for_model=False)
