"""Around every request: the body size limit, the access log and the request metrics.

Written as plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a
stream copy per request, which shows on the read benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cairn.server.problems import problem

REQUESTS = Counter(
    "cairn_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "cairn_http_request_duration_seconds", "Time to answer a request", ["method", "route"]
)

Recorder = Callable[[dict[str, Any]], None]


class RequestGuard:
    """Refuse oversized bodies; count, time and record every request (allowed or not)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, record: Recorder) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = problem(
                413,
                "too-large",
                "Too large",
                f"the request body is {declared} bytes; the limit is {self.max_body_bytes}",
            )
            await response(scope, receive, send)
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

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        finally:
            self._done(scope, status, began)

    def _done(self, scope: Scope, status: int, began: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "(unmatched)"
        method = scope["method"]
        LATENCY.labels(method, route).observe(time.perf_counter() - began)
        REQUESTS.labels(method, route, str(status)).inc()
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
