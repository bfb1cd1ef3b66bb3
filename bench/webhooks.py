"""Webhook delivery throughput: events fanned out and deliveries sent per second.

A registry (SQLite in a temporary folder, or ``--postgres URL``) gets one subscription to a
receiver on loopback (allowed explicitly), then ``--events`` version registrations. One
delivery worker then queues a delivery per event (the fan-out: one pass over the log) and
sends them all, signed, to the receiver, which answers 200 at once. Reported: the time of each
phase and its rate, best of ``--repeat``::

    .venv/bin/python bench/webhooks.py --events 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from cairn.local import LocalRegistry
from cairn.store.engine import resolve_url


class _Count(BaseHTTPRequestHandler):
    """Answers 200 to every POST and counts them: the cheapest receiver there is."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would
    seen = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with self.lock:
            type(self).seen += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def once(url: str, events: int) -> dict[str, float]:
    _Count.seen = 0
    with (
        receiver() as hook,
        LocalRegistry(url, actor="user:bench", webhook_allow="127.0.0.1") as reg,
    ):
        reg.create_team("bench")
        reg.create_model("bench/model")
        reg.create_webhook(hook, team="bench", events=["model_version.registered"])
        specs = [
            {"model": "bench/model", "artifact_uri": f"s3://b/{n}", "digest": f"sha256:{n:064x}"}
            for n in range(events)
        ]
        for start in range(0, events, 1000):
            reg.register_versions(specs[start : start + 1000])
        with reg.webhook_dispatcher() as worker:
            started = time.perf_counter()
            queued, _ = worker.fan_out()
            fanned = time.perf_counter()
            sent = worker.run_once()
            done = time.perf_counter()
        assert queued == events and sent.delivered == events, (queued, sent)
        assert _Count.seen == events, (_Count.seen, events)
    return {
        "fan_out_s": fanned - started,
        "fan_out_per_s": events / (fanned - started),
        "deliver_s": done - fanned,
        "deliveries_per_s": events / (done - fanned),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="an admin URL; a database is made and dropped per run")
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    for _ in range(args.repeat):
        if args.postgres:
            name = f"cairn_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(resolve_url(args.postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                runs.append(
                    once(resolve_url(args.postgres.rsplit("/", 1)[0] + "/" + name), args.events)
                )
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(once(resolve_url(Path(tmp) / "registry"), args.events))
    report: dict[str, Any] = {
        "database": "postgresql" if args.postgres else "sqlite",
        "events": args.events,
        "best": {k: (max if k.endswith("per_s") else min)(r[k] for r in runs) for k in runs[0]},
        "median": {k: statistics.median(r[k] for r in runs) for k in runs[0]},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
