"""The delivery worker: follows the event log from its cursor, queues a delivery per matching
subscription, and sends what is due, signed, retrying failures with backoff.

Any number of workers (the server's processes, ``cairn webhook deliver``) may run against one
registry. The cursor moves by compare-and-set, so one event is queued once; a worker claims a
delivery with a lease before sending it, so two never send it at once, and a worker that dies
mid-send leaves it to another when the lease runs out. Delivery is therefore *at least once*:
receivers deduplicate by the ``webhook-id`` header, which every attempt of a delivery repeats.

Before each attempt the destination is judged again and the connection is made to the very
address that was judged (the host name goes in the ``Host`` header and TLS SNI), so a DNS
answer that changes after the check cannot steer a delivery to a private address.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from cairn.core.canonical import canonical_json
from cairn.core.errors import CairnError
from cairn.core.events import format_time
from cairn.core.webhooks import (
    PING,
    AllowList,
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryStatus,
    DispatchReport,
    RetryPolicy,
    Webhook,
    destination,
    judge,
    signature,
    topic_of,
)
from cairn.services.base import new_id
from cairn.services.webhooks import delivery_row, resolve
from cairn.store import webhooks as q
from cairn.store.uow import Store

log = logging.getLogger(__name__)

#: Events read from the log per fan-out transaction.
FAN_OUT_BATCH = 500
#: Deliveries claimed per pass; they are sent concurrently by :data:`SENDERS` threads.
CLAIM_BATCH = 32
SENDERS = 4
USER_AGENT = "Cairn-Webhooks/1"


@dataclass(frozen=True, slots=True)
class _Sent:
    outcome: AttemptOutcome
    status_code: int | None
    error: str | None
    started: datetime
    duration_ms: float


class Dispatcher:
    """Queues and sends webhook deliveries for one registry; see the module's docstring."""

    def __init__(
        self,
        store: Store,
        *,
        allow: AllowList | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.allow = allow if allow is not None else AllowList()
        self.retry = retry if retry is not None else RetryPolicy()
        self.timeout_s = timeout_s
        self.clock = clock if clock is not None else store.clock
        self.lease = timedelta(seconds=2 * timeout_s + 30)
        self.worker = f"{socket.gethostname()[:40]}:{os.getpid()}:{new_id()[-8:]}"
        # Proxies from the environment would carry a delivery past the address check.
        self._http = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
        )
        self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="cairn-webhook")

    def close(self) -> None:
        self._senders.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- one pass ---------------------------------------------------------------------------------
    def run_once(self) -> DispatchReport:
        """Queue deliveries for new events, then send every delivery that is due."""
        queued, cursor = self.fan_out()
        delivered = retrying = failed = 0
        while True:
            batch = self._claim()
            if not batch:
                break
            # Sent concurrently, recorded together: one commit per batch, not per delivery.
            results = list(self._senders.map(self._attempt, batch))
            with self.store.write_unlogged() as conn:
                q.record(conn, results, owner=self.worker)
            for _, _, status in results:
                if status is DeliveryStatus.DELIVERED:
                    delivered += 1
                elif status is DeliveryStatus.PENDING:
                    retrying += 1
                else:
                    failed += 1
        return DispatchReport(
            queued=queued, delivered=delivered, retrying=retrying, failed=failed, cursor=cursor
        )

    def run_until(self, stop: threading.Event, *, poll_s: float = 1.0) -> None:
        """Pass after pass until ``stop`` is set, resting ``poll_s`` when a pass found nothing."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # a database hiccup must not end the worker
                log.exception("webhook delivery pass failed")
                report = DispatchReport()
            if not (report.queued or report.delivered or report.retrying or report.failed):
                stop.wait(poll_s)

    # -- queueing ---------------------------------------------------------------------------------
    def fan_out(self) -> tuple[int, int]:
        """Queue a delivery for each subscription each new event matches; return how many were
        queued and the cursor reached."""
        queued = 0
        while True:
            with self.store.read() as conn:
                seen, end = q.cursor(conn), q.log_size(conn)
            if seen >= end:
                return queued, seen
            added, reached = self._fan_out_batch(seen)
            queued += added
            if reached is not None and reached >= end:
                return queued, reached

    def _fan_out_batch(self, seen: int) -> tuple[int, int | None]:
        """Queue deliveries for the events after ``seen``; None if another worker got there
        first (the cursor had moved)."""
        with self.store.write_unlogged() as conn:
            # Subscriptions, the log's end and its events must be one consistent view, or a
            # subscription committed between two reads would miss the events after it.
            end = q.hold_log_end(conn)
            subscriptions = q.webhooks(conn, active_only=True)
            start = max(seen, min((s.after_seq for s in subscriptions), default=end))
            rows = q.events_between(conn, start, end, limit=FAN_OUT_BATCH)
            reached = rows[-1].seq if len(rows) == FAN_OUT_BATCH else end
            if not q.advance(conn, seen, reached):
                conn.rollback()
                return 0, None
            queue = self._matches(conn, rows, subscriptions)
            q.queue(conn, queue)
            return len(queue), reached

    def _matches(
        self, conn: Any, rows: Sequence[Any], subscriptions: Sequence[Webhook]
    ) -> list[dict[str, Any]]:
        now = self.clock()
        deployed = (
            r.subject.partition(":")[2] for r in rows if r.subject.startswith("deployment:")
        )
        deployments = q.deployment_models(conn, deployed)
        queue = []
        for row in rows:
            topic = topic_of(row.type, q.payload_of(row))
            listening = [s for s in subscriptions if topic in s.events and row.seq > s.after_seq]
            if not listening:
                continue
            team, model = _scope(row.subject, deployments)
            for sub in listening:
                if sub.team == team and sub.model in (None, f"model:{model}"):
                    queue.append(delivery_row(new_id(), sub.id, topic, row.seq, row.subject, now))
        return queue

    # -- sending ----------------------------------------------------------------------------------
    def _claim(self) -> list[tuple[q.Claimed, Any]]:
        """Due deliveries this worker now holds, each with its event's row (None: a ping)."""
        now = self.clock()
        with self.store.read() as conn:
            due = q.due(conn, now, limit=CLAIM_BATCH)
        if not due:
            return []
        with self.store.write_unlogged() as conn:
            mine = q.claim(conn, due, self.worker, now, now + self.lease)
            claimed = q.claimed(conn, mine)
            events = q.event_rows(conn, (c.event_seq for c in claimed if c.event_seq))
        return [(c, events.get(c.event_seq) if c.event_seq else None) for c in claimed]

    def _attempt(
        self, work: tuple[q.Claimed, Any]
    ) -> tuple[q.Claimed, DeliveryAttempt, DeliveryStatus]:
        """Send one delivery; what to record of it."""
        delivery, event = work
        body = _body(delivery, event)
        sent = self._send(delivery, body)
        number = delivery.attempts + 1
        status = DeliveryStatus.DELIVERED
        retry_at = None
        if sent.outcome is AttemptOutcome.REFUSED:
            status = DeliveryStatus.FAILED  # an operator must act; retrying will not help
        elif sent.outcome is AttemptOutcome.FAILED:
            delay = self.retry.delay(number)
            if delay is None:
                status = DeliveryStatus.FAILED
            else:
                status, retry_at = DeliveryStatus.PENDING, self.clock() + delay
        attempt = DeliveryAttempt(
            number=number,
            at=sent.started,
            outcome=sent.outcome,
            status_code=sent.status_code,
            error=sent.error,
            duration_ms=round(sent.duration_ms, 3),
            retry_at=retry_at,
        )
        return delivery, attempt, status

    def _send(self, delivery: q.Claimed, body: bytes) -> _Sent:
        started, clock = self.clock(), time.perf_counter()

        def outcome(kind: AttemptOutcome, code: int | None, error: str | None) -> _Sent:
            elapsed = (time.perf_counter() - clock) * 1000
            return _Sent(kind, code, error[:500] if error else None, started, elapsed)

        try:
            target = destination(delivery.url)
        except CairnError as exc:
            return outcome(AttemptOutcome.REFUSED, None, exc.message)
        try:
            addresses = resolve(target)
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            return outcome(AttemptOutcome.FAILED, None, f"cannot resolve {target.host}: {reason}")
        why = judge(target, addresses, self.allow)
        if why is not None:
            return outcome(AttemptOutcome.REFUSED, None, f"refused before connecting: {why}")
        pinned = httpx.URL(target.url).copy_with(host=str(addresses[0]))
        timestamp = int(time.time())
        headers = {
            "host": httpx.URL(target.url).netloc.decode("ascii"),
            "content-type": "application/json",
            "webhook-id": delivery.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(delivery.id, timestamp, body, delivery.secret),
            "cairn-event": delivery.topic,
            "cairn-attempt": str(delivery.attempts + 1),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = self._http.post(pinned, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return outcome(AttemptOutcome.FAILED, None, f"no answer within {self.timeout_s:g} s")
        except httpx.ConnectError as exc:
            reason = re.sub(r"^\[Errno -?\d+\] ", "", str(exc)) or "no reason given"
            return outcome(AttemptOutcome.FAILED, None, f"cannot connect: {reason}")
        except httpx.HTTPError as exc:
            return outcome(AttemptOutcome.FAILED, None, f"{type(exc).__name__}: {exc}")
        code = response.status_code
        if 200 <= code < 300:
            return outcome(AttemptOutcome.DELIVERED, code, None)
        if 300 <= code < 400:
            where = response.headers.get("location", "?")[:200]
            return outcome(AttemptOutcome.FAILED, code, f"redirects are not followed (to {where})")
        return outcome(AttemptOutcome.FAILED, code, f"HTTP {code} {response.reason_phrase}")


def _body(delivery: q.Claimed, event: Any) -> bytes:
    """The signed body: the Standard Webhooks envelope around the event as the log holds it."""
    if event is None:
        envelope: dict[str, Any] = {
            "type": PING,
            "timestamp": format_time(delivery.created_at),
            "data": {
                "webhook": delivery.webhook_id,
                "team": delivery.team,
                "events": delivery.events,
            },
        }
    else:
        envelope = {
            "type": delivery.topic,
            "timestamp": event.at,
            "data": {
                "seq": event.seq,
                "type": event.type,
                "subject": event.subject,
                "actor": event.actor,
                "at": event.at,
                "payload": q.payload_of(event),
                "leaf_hash": event.leaf_hash,
                "root_hash": event.root_hash,
            },
        }
    return canonical_json(envelope)


def _scope(subject: str, deployments: dict[str, str]) -> tuple[str | None, str | None]:
    """The team an event is about and, if it is about a model, the model (``team/name``)."""
    kind, _, rest = subject.partition(":")
    if kind == "team":
        return rest, None
    if kind == "deployment":
        model = deployments.get(rest)
        return (model.partition("/")[0], model) if model else (None, None)
    path = rest.partition("@")[0]
    team, slash, _ = path.partition("/")
    if not slash:
        return None, None
    return team, path if kind == "model" else None
