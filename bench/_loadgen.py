"""A lean HTTP/1.1 load generator: keep-alive connections driven by one asyncio event loop.

Each simulated client is one coroutine owning one TCP connection (``asyncio.open_connection``,
on uvloop when it is installed) and sends its requests back to back: it writes the request,
reads the status line and headers, then the body by ``Content-Length`` or by chunked transfer
coding, and sends the next one. A server's ``Connection: close`` is honoured by reconnecting.

It exists because a thread per client with an ``httpx.Client`` spent more CPU per request
than the servers under test, on the same cores, and so capped the figures it reported. Here a
request costs tens of microseconds of client CPU: the request bytes are built from a
precomputed header block and responses are parsed only as far as framing needs.

Standard library only (uvloop optional), so that it runs in any of the benchmarks' venvs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

try:
    import uvloop

    new_event_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    LOOP = f"uvloop {uvloop.__version__}"
except ImportError:
    new_event_loop = asyncio.new_event_loop
    LOOP = "asyncio"


class Call(NamedTuple):
    """One request, as the load generator and a plain HTTP client can both send it."""

    method: str
    target: str  # path and query string, already percent-encoded
    body: Any = None  # sent as JSON unless None
    kind: str = ""  # a label to report this request's latency under, besides the whole


#: Builds the next request from the connection's random generator and a global sequence number.
Request = Callable[[random.Random, int], Call]


class Sample(NamedTuple):
    kind: str
    seconds: float
    status: int


@dataclass
class Outcome:
    samples: list[Sample]  # every response of the timed phase, whatever its status
    errors: int  # timed requests answered with status >= 400 or failed on the connection
    first_error: str | None
    elapsed: float  # from the start of the timed phase until its last response
    cpu_s: float  # this process's CPU time over the same span
    loop: str = LOOP


def json_body(value: Any) -> bytes:
    """``value`` encoded as httpx encodes ``json=``, so both clients send the same bytes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode()


class Encoder:
    """Turns a Call into request bytes; the header lines that never change are built once."""

    def __init__(self, host: str, headers: Mapping[str, str]) -> None:
        lines = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host, **headers}.items())
        self._plain = f" HTTP/1.1\r\n{lines}\r\n".encode("latin-1")
        self._json = (
            f" HTTP/1.1\r\n{lines}Content-Type: application/json\r\nContent-Length: "
        ).encode("latin-1")

    def __call__(self, call: Call) -> bytes:
        start = f"{call.method} {call.target}".encode("ascii")
        if call.body is None:
            return start + self._plain
        body = json_body(call.body)
        return b"".join((start, self._json, str(len(body)).encode(), b"\r\n\r\n", body))


class ProtocolError(Exception):
    pass


def _header(lower: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` (given as b"\\r\\nname:") in a lower-cased response head."""
    at = lower.find(name)
    if at < 0:
        return None
    start = at + len(name)
    return lower[start : lower.index(b"\r\n", start)].strip()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the connection stays open) of the next response."""
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or head[12:13] not in (b" ", b"\r"):
        raise ProtocolError(f"not an HTTP/1.x status line: {head[:80]!r}")
    status = int(head[9:12])
    lower = head.lower()
    connection = _header(lower, b"\r\nconnection:")
    if head.startswith(b"HTTP/1.1"):
        keep = connection is None or b"close" not in connection
    else:
        keep = connection is not None and b"keep-alive" in connection
    if status < 200 or status in (204, 304):
        return status, b"", keep
    coding = _header(lower, b"\r\ntransfer-encoding:")
    if coding is not None and b"chunked" in coding:
        return status, await _read_chunked(reader), keep
    length = _header(lower, b"\r\ncontent-length:")
    if length is not None:
        return status, await reader.readexactly(int(length)), keep
    return status, await reader.read(), False  # delimited by the server closing the connection


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            break
        chunk = await reader.readexactly(size + 2)
        if chunk[-2:] != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
        chunks.append(chunk[:-2])
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, if any
        pass
    return b"".join(chunks)


#: What a failed exchange can raise: the connection is dropped and the request counted failed.
FAILURES = (OSError, EOFError, asyncio.LimitOverrunError, ProtocolError, ValueError)


class _Connection:
    """One keep-alive connection, opened on first use and again after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, data: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            # No drain(): a request is far below the write buffer's limit, and the response
            # cannot come before the request has left, so waiting for it covers the flush.
            self.writer.write(data)
            status, body, keep = await read_response(self.reader)
        except BaseException:
            self.close()
            raise
        if not keep:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Run:
    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        request: Request,
        *,
        connections: int,
        seconds: float,
        warmup: float,
        seed: int,
        on_start: Callable[[], None],
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"only http:// URLs with a host: {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.encode = Encoder(parts.netloc, headers)
        self.request = request
        self.connections, self.seconds, self.warmup, self.seed = connections, seconds, warmup, seed
        self.on_start = on_start
        self.sequence = itertools.count()
        self.samples: list[list[Sample]] = [[] for _ in range(connections)]
        self.errors = 0
        self.first_error: str | None = None
        self.arrived = 0
        self.go = asyncio.Event()
        self.began = self.deadline = self.cpu = 0.0

    def fail(self, error: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = error

    async def _arrive(self) -> None:
        """Wait for every connection to be warm; the last one to arrive starts the clock."""
        self.arrived += 1
        if self.arrived < self.connections:
            await self.go.wait()
        else:
            self._start_clock()

    def _start_clock(self) -> None:
        self.on_start()
        self.began = time.perf_counter()
        self.deadline = self.began + self.seconds
        self.cpu = time.process_time()
        self.go.set()

    async def client(self, k: int, warm_until: float) -> None:
        rng = random.Random(self.seed * 1000 + k)
        connection = _Connection(self.host, self.port)
        request, encode, sequence = self.request, self.encode, self.sequence
        clock = time.perf_counter
        try:
            while True:  # at least one request: the connection is open before the clock starts
                with suppress(*FAILURES):
                    await connection.exchange(encode(request(rng, next(sequence))))
                if clock() >= warm_until:
                    break
            await self._arrive()
            mine, deadline = self.samples[k], self.deadline
            while clock() < deadline:
                call = request(rng, next(sequence))
                data = encode(call)
                began = clock()
                try:
                    status, body = await connection.exchange(data)
                except FAILURES as exc:
                    self.fail(f"{type(exc).__name__}: {exc}")
                    continue
                mine.append(Sample(call.kind, clock() - began, status))
                if status >= 400:
                    self.fail(f"HTTP {status}: {body.decode(errors='replace')[:300]}")
        finally:
            connection.close()

    async def main(self, limit: float) -> tuple[float, float]:
        """Run every client; return the timed phase's elapsed seconds and CPU seconds."""
        warm_until = time.perf_counter() + self.warmup
        tasks = [asyncio.create_task(self.client(k, warm_until)) for k in range(self.connections)]
        try:
            async with asyncio.timeout(self.warmup + self.seconds + limit):
                await asyncio.gather(*tasks)
        except TimeoutError:
            stuck = sum(not task.done() for task in tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not self.go.is_set():  # a connection never got warm: there was no timed phase
                self._start_clock()
            self.errors += stuck
            self.first_error = f"{stuck} connection(s) timed out after {limit:g} s"
        return time.perf_counter() - self.began, time.process_time() - self.cpu


def run(
    url: str,
    headers: Mapping[str, str],
    request: Request,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    seed: int,
    on_start: Callable[[], None] = lambda: None,
    limit: float = 60.0,
) -> Outcome:
    """``connections`` clients send ``request`` back to back to ``url``: ``warmup`` seconds
    untimed (at least one request each), then all start together for ``seconds`` timed.

    Client ``k`` draws from ``random.Random(seed * 1000 + k)``; the sequence number passed to
    ``request`` is shared by all. ``on_start`` runs just before the clock starts (to take the
    server's CPU time, say). The whole run is given up ``limit`` seconds after it should have
    ended, the unfinished connections counted as errors."""
    state = _Run(
        url,
        headers,
        request,
        connections=connections,
        seconds=seconds,
        warmup=warmup,
        seed=seed,
        on_start=on_start,
    )
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        elapsed, cpu = runner.run(state.main(limit))
    return Outcome(
        samples=[sample for mine in state.samples for sample in mine],
        errors=state.errors,
        first_error=state.first_error,
        elapsed=elapsed,
        cpu_s=cpu,
    )
