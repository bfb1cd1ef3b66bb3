"""Around every request: the body size limit, safe responses, the access log and metrics.

Every response says ``X-Content-Type-Options: nosniff``, and JSON bodies have ``<``, ``>``,
``&``, U+2028 and U+2029 written as ``\\u`` escapes (as Go's encoding/json does): still the same
JSON, but a description holding ``<script>`` can never be read as HTML by a browser that
sniffs. The escaping is done on the encoded bytes, where those characters can only occur
inside strings, so routes keep FastAPI's fast path (Pydantic serializes straight to bytes).

Written as plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a
stream copy per request, which shows on the read benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cairn.server.problems import NOSNIFF, problem

REQUESTS = Counter(
    "cairn_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "cairn_http_request_duration_seconds", "Time to answer a request", ["method", "route"]
)


# The metrics' children, looked up once per label set: ``labels()`` takes a lock and builds
# its key on every call. Routes are templates and statuses few, so the sets stay few.
@lru_cache(maxsize=4096)
def _latency(method: str, route: str) -> Any:
    return LATENCY.labels(method, route)


@lru_cache(maxsize=4096)
def _requests(method: str, route: str, status: int) -> Any:
    return REQUESTS.labels(method, route, str(status))


Recorder = Callable[[dict[str, Any]], None]


class RequestGuard:
    """Refuse oversized bodies; count, time and record every request (allowed or not)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        record: Recorder,
        templates: Mapping[int, str],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.record = record
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        outgoing = SafeResponses(send, head=scope["method"] == "HEAD")
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = problem(
                413,
                "too-large",
                "Too large",
                f"the request body is {declared} bytes; the limit is {self.max_body_bytes}",
            )
            await response(scope, receive, outgoing)
            self._done(scope, 413, began)
            return

        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise HTTPException(
                        413, f"the request body exceeds {self.max_body_bytes} bytes"
                    )
            return message

        try:
            await self.app(scope, limited_receive, outgoing)
        finally:
            self._done(scope, outgoing.status, began)

    def _done(self, scope: Scope, status: int, began: float) -> None:
        matched = scope.get("route")
        route = self.templates.get(id(matched)) or getattr(matched, "path", None) or "(unmatched)"
        method = scope["method"]
        _latency(method, route).observe(time.perf_counter() - began)
        _requests(method, route, status).inc()
        state = scope.get("state", {})
        action = state.get("action")
        if action is None and route in ("/healthz", "/readyz", "/metrics"):
            return  # probes would drown the access log
        principal = state.get("principal")
        self.record(
            {
                "at": datetime.now(UTC),
                "principal": getattr(principal, "name", None),
                "method": method,
                "path": scope["path"][:2000],
                "action": str(action) if action is not None else None,
                "team": _teams(state.get("team")),
                "outcome": _outcome(status),
                "status": status,
            }
        )


class SafeResponses:
    """A ``send`` that marks every response nosniff and escapes the HTML-significant bytes of
    JSON bodies; it holds a JSON response's start until the body is known, to fix its length.
    """

    def __init__(self, send: Send, *, head: bool) -> None:
        self.send = send
        self.status = 500
        self._head = head  # a HEAD response has no body to escape
        self._held: Message | None = None
        self._streaming = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            headers = list(message.get("headers", ()))
            if NOSNIFF not in headers:
                headers.append(NOSNIFF)
            message = {**message, "headers": headers}
            if not self._head and _escapable(headers):
                self._held = message
                return
        elif kind == "http.response.body" and (self._held is not None or self._streaming):
            message = {**message, "body": escape_json(message.get("body", b""))}
            if self._held is not None:
                await self.send(self._start(message))
        await self.send(message)

    def _start(self, first: Message) -> Message:
        start, self._held = self._held, None
        assert start is not None
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        had_length = len(headers) < len(start["headers"])  # none on a 204, say
        if first.get("more_body", False):
            self._streaming = True  # the escaped length is not known yet: send none
        elif had_length:
            headers.append((b"content-length", str(len(first["body"])).encode()))
        return {**start, "headers": headers}


def escape_json(body: bytes) -> bytes:
    """``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\u`` escapes: the same JSON, never HTML.

    Outside strings JSON has none of these bytes, so replacing them everywhere is exact.
    """
    for raw, escaped in _ASCII_ESCAPES:
        if raw in body:
            body = body.replace(raw, escaped)
    # Both separators start with this byte in UTF-8. Looking for one byte is a memchr; looking
    # for the three-byte sequences took 20 µs each on a page of 20 versions (27 KB).
    if _SEPARATOR_LEAD in body:
        for raw, escaped in _SEPARATOR_ESCAPES:
            if raw in body:
                body = body.replace(raw, escaped)
    return body


_ASCII_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
_SEPARATOR_ESCAPES = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))
_SEPARATOR_LEAD = b"\xe2"
_JSON_TYPES = (b"application/json", b"application/problem+json")


def _escapable(headers: list[tuple[bytes, bytes]]) -> bool:
    """A JSON body we can rewrite: not compressed (its bytes would not be the JSON text)."""
    found = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"content-type":
            found = value.split(b";", 1)[0].strip().lower() in _JSON_TYPES
    return found


def _teams(team: str | list[str] | None) -> str | None:
    return ",".join(team)[:200] if isinstance(team, list) else team


def _outcome(status: int) -> str:
    if status in (401, 403):
        return "denied"
    return "allowed" if status < 400 else "failed"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
