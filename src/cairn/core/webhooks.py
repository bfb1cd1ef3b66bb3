"""Webhooks as pure rules: what a subscription may name, where a delivery may go, how it is
signed, and when a failed one is tried again.

Deliveries follow the Standard Webhooks convention (https://www.standardwebhooks.com/): a
``webhook-id`` that stays the same across retries, a ``webhook-timestamp`` and a
``webhook-signature`` of ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` under a
``whsec_`` secret, so a receiver can verify with any of that convention's libraries::

    >>> secret = "whsec_" + "A" * 43 + "="
    >>> signature("msg_1", 1700000000, b'{}', secret)[:3]
    'v1,'

A destination is refused before any connection when it is not plain HTTP(S) or any address its
host resolves to is loopback, link-local, private, shared, reserved or multicast: the cloud
metadata service at 169.254.169.254 and the office network behind the server are exactly what
a webhook must not reach. Only an operator's allow-list reopens a host or a network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from cairn.core.errors import ValidationFailed
from cairn.core.events import EventType
from cairn.core.metadata import ShortText

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Where an operator lists the destinations webhooks may reach despite the rules above.
ALLOW_ENV = "CAIRN_WEBHOOK_ALLOW"
MAX_URL = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105  (the secrets' recognisable prefix, not a secret)
SECRET_BYTES = 32
#: The topic of a transition refused because a policy was not met: a ``transition.requested``
#: event whose status is ``refused``, delivered under its own name so a team can watch for
#: policy failures without hearing of every request.
POLICY_FAILURE = "transition.refused"
PING = "webhook.ping"

#: What a subscription may name. Access events (principals, roles, tokens) are not offered:
#: they belong to no team, and a team admin's endpoint should not learn who holds what.
TOPICS: tuple[str, ...] = (
    EventType.TEAM_UPDATED,
    EventType.MODEL_CREATED,
    EventType.MODEL_UPDATED,
    EventType.VERSION_REGISTERED,
    EventType.VERSION_UPDATED,
    EventType.EVALUATION_RECORDED,
    EventType.DEPLOYMENT_STARTED,
    EventType.DEPLOYMENT_RETIRED,
    EventType.DATASET_CREATED,
    EventType.DATASET_UPDATED,
    EventType.DATASET_VERSION_CREATED,
    EventType.FEATURE_VIEW_CREATED,
    EventType.FEATURE_VIEW_UPDATED,
    EventType.FEATURE_VIEW_VERSION_CREATED,
    EventType.RUN_CREATED,
    EventType.RUN_UPDATED,
    EventType.POLICY_PUBLISHED,
    EventType.TRANSITION_REQUESTED,
    POLICY_FAILURE,
    EventType.TRANSITION_APPROVED,
    EventType.TRANSITION_REJECTED,
    EventType.TRANSITION_VOIDED,
    EventType.ALIAS_SET,
    EventType.ALIAS_REMOVED,
    EventType.DEPRECATION_RECORDED,
    EventType.REVIEW_COMPLETED,
)
_TOPICS = frozenset(TOPICS)
#: Topics about one model: the only ones a model's subscription may name.
MODEL_TOPICS: tuple[str, ...] = (
    EventType.MODEL_UPDATED,
    EventType.VERSION_REGISTERED,
    EventType.VERSION_UPDATED,
    EventType.EVALUATION_RECORDED,
    EventType.DEPLOYMENT_STARTED,
    EventType.DEPLOYMENT_RETIRED,
    EventType.TRANSITION_REQUESTED,
    POLICY_FAILURE,
    EventType.TRANSITION_APPROVED,
    EventType.TRANSITION_REJECTED,
    EventType.TRANSITION_VOIDED,
    EventType.ALIAS_SET,
    EventType.ALIAS_REMOVED,
    EventType.DEPRECATION_RECORDED,
    EventType.REVIEW_COMPLETED,
)


def topic_of(event_type: str, payload: dict[str, Any]) -> str:
    """The topic an event is delivered under."""
    if event_type == EventType.TRANSITION_REQUESTED and payload.get("status") == "refused":
        return POLICY_FAILURE
    return event_type


def topics(names: Iterable[str], *, for_model: bool) -> list[str]:
    """``names`` checked against what a team's (or a model's) subscription may hear, in the
    order :data:`TOPICS` lists them, each once."""
    wanted = {n.strip() for n in names}
    offered = MODEL_TOPICS if for_model else TOPICS
    unknown = sorted(wanted - set(offered))
    if unknown:
        scope = "a model's" if for_model else "a team's"
        raise ValidationFailed(
            f"{', '.join(unknown)}: not an event {scope} webhook can subscribe to",
            field="events",
            rule="topic",
            hint="one of: " + ", ".join(offered),
        )
    if not wanted:
        raise ValidationFailed(
            "a webhook needs at least one event", field="events", rule="required"
        )
    return [t for t in offered if t in wanted]


# -- destinations ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Destination:
    """A webhook URL taken apart: the host to resolve and the port to connect to."""

    url: str
    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int

    @property
    def literal(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def _refused(url: str, why: str, hint: str | None = None) -> ValidationFailed:
    return ValidationFailed(
        f"webhook URL {url[:200]!r} is refused: {why}",
        field="url",
        rule="destination",
        **({"hint": hint} if hint else {}),
    )


def destination(url: str) -> Destination:
    """Check a URL's form: absolute http or https, a host, no credentials, no fragment."""
    text = url.strip()
    if len(text) > MAX_URL:
        raise _refused(text, f"longer than {MAX_URL} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise _refused(text, "it holds spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _refused(text, f"it is not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise _refused(text, "only http and https URLs are delivered to", "use https://…")
    if parts.username is not None or parts.password is not None:
        raise _refused(text, "it carries credentials", "authenticate by the signature instead")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refused(text, "it names no host")
    if parts.fragment or text.endswith("#"):
        raise _refused(text, "it has a fragment, which is never sent to a server")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refused(text, "its host name is not valid") from None
    return Destination(text, scheme, host.lower(), port or (443 if scheme == "https" else 80))


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4 address hidden in an IPv6 one (mapped, 6to4, NAT64) is judged as itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def blocked(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address, or None if it is."""
    plain = _plain(address)
    if plain.is_loopback:
        return "loopback"
    if plain.is_link_local:
        return "link-local (where cloud metadata services answer)"
    if plain.is_multicast:
        return "multicast"
    if plain.is_unspecified:
        return "unspecified"
    if plain.is_private:
        return "in a private range"
    if not plain.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True, slots=True)
class AllowList:
    """The operator's exceptions: host names (optionally with a port) and networks.

    Parsed from entries such as ``hooks.internal``, ``hooks.internal:8443``, ``127.0.0.1`` or
    ``10.20.0.0/16``; a host name entry allows the name whatever it resolves to, a network
    entry allows any destination all of whose addresses lie in it.
    """

    hosts: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str] | str | None) -> AllowList:
        if entries is None:
            return cls()
        if isinstance(entries, str):
            entries = entries.replace(",", " ").split()
        hosts: set[tuple[str, int | None]] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            if port and not port.isdigit():
                raise ValidationFailed(
                    f"webhook allow-list entry {raw!r} is neither a host[:port] nor a network",
                    field=ALLOW_ENV,
                    rule="allow-list",
                    hint="e.g. hooks.internal:8443, 127.0.0.1 or 10.20.0.0/16",
                )
            hosts.add((host or entry, int(port) if port else None))
        return cls(frozenset(hosts), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.hosts or self.networks)

    def names(self, target: Destination) -> bool:
        return (target.host, None) in self.hosts or (target.host, target.port) in self.hosts

    def covers(self, address: IPAddress) -> bool:
        plain = _plain(address)
        return any(plain in net or address in net for net in self.networks)


def judge(target: Destination, addresses: Sequence[IPAddress], allow: AllowList) -> str | None:
    """Why a delivery to ``target`` at ``addresses`` is refused, or None if it may go.

    Every address must pass, not just one: a host that resolves to a public and a private
    address could be connected to either.
    """
    if allow.names(target):
        return None
    if not addresses:
        return f"{target.host} resolves to no address"
    for address in addresses:
        why = blocked(address)
        if why is not None and not allow.covers(address):
            shown = target.host if str(address) == target.host else f"{target.host} ({address})"
            return f"{shown} is {why}"
    return None


REFUSAL_HINT = f"an operator may allow the host or its network in {ALLOW_ENV} or --webhook-allow"


# -- secrets and signatures -----------------------------------------------------------------------
def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(message_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


# -- retries --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed delivery is tried again: exponential backoff with jitter, then give up.

    The defaults try 8 times over about nine hours (30 s, 1.5 min, 4.5 min, 13.5 min, 40 min,
    2 h, 6 h), long enough to outlast a receiver's deployment or a night's outage; jitter keeps
    the retries of many deliveries that failed together from arriving together.
    """

    attempts: int = 8
    first: timedelta = timedelta(seconds=30)
    factor: float = 3.0
    cap: timedelta = timedelta(hours=6)
    jitter: float = 0.2

    def delay(self, failed: int, rng: random.Random | None = None) -> timedelta | None:
        """How long after the ``failed``-th failed attempt the next one is due; None: give up."""
        if failed >= self.attempts:
            return None
        base = min(self.first * self.factor ** (failed - 1), self.cap)
        draw = rng.random() if rng is not None else random.random()  # noqa: S311 (not crypto)
        spread = 1.0 + self.jitter * (2 * draw - 1)
        return base * spread


# -- entities -------------------------------------------------------------------------------------
#: Subscriptions and deliveries are named by UUIDs in their canonical lower-case form.
ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class Webhook(BaseModel):
    """A subscription: which events of a team (or of one model) go to which URL."""

    model_config = ConfigDict(frozen=True)

    id: str
    team: str
    model: str | None = None  # model:<team>/<name>; None: every model of the team
    url: str
    events: list[str]
    description: ShortText | None = None
    active: bool
    after_seq: int  # events after this log position are delivered (the log's size at creation)
    created_by: str
    created_at: datetime
    updated_at: datetime
    revision: int


class WebhookCreated(Webhook):
    """A subscription with its signing secret: shown on creation and rotation only."""

    secret: str


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed, or the destination was refused


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # a connection error, a timeout or a non-2xx answer
    REFUSED = "refused"  # the destination was refused: no connection was made


class DeliveryAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    at: datetime
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    duration_ms: float
    retry_at: datetime | None = None  # when the next attempt was scheduled, if one was


class WebhookDelivery(BaseModel):
    """One event (or ping) to one subscription, with every attempt made so far."""

    model_config = ConfigDict(frozen=True)

    id: str  # the webhook-id header: the same for every attempt, so receivers can deduplicate
    webhook: str
    topic: str
    event_seq: int | None = None  # None for a ping
    subject: str | None = None
    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    created_at: datetime
    finished_at: datetime | None = None
    attempts: list[DeliveryAttempt] = []


class DispatchReport(BaseModel):
    """What one pass of the delivery worker did."""

    model_config = ConfigDict(frozen=True)

    queued: int = 0  # deliveries created from new events
    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # given up on, or refused
    cursor: int = 0  # the last log position fanned out


# -- specs ----------------------------------------------------------------------------------------
Topic = Annotated[str, Field(max_length=40, examples=[EventType.VERSION_REGISTERED])]
_SEG = r"[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?"


class WebhookSpec(BaseModel):
    """Subscribe ``url`` to ``events`` of a team, or of one model (``team`` may then be
    left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[str, Field(max_length=MAX_URL, examples=["https://hooks.example.com/cairn"])]
    events: Annotated[list[Topic], Field(min_length=1, max_length=len(TOPICS))]
    team: Annotated[str | None, Field(max_length=68, pattern=rf"^(team:)?{_SEG}$")] = None
    model: Annotated[str | None, Field(max_length=140, pattern=rf"^(model:)?{_SEG}/{_SEG}$")] = None
    description: ShortText | None = None


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[str | None, Field(max_length=MAX_URL)] = None
    events: Annotated[list[Topic] | None, Field(min_length=1, max_length=len(TOPICS))] = None
    active: bool | None = None
    description: ShortText | None = None
