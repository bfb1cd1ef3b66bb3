"""Read latencies on a registry built by ``bench/generate.py``: p50 and p99 of each call.

    .venv/bin/python bench/generate.py --models 1000 --versions 1000 --target /tmp/cairn-1m
    .venv/bin/python bench/reads.py --target /tmp/cairn-1m --models 1000 --versions 1000

``--check`` also times a full ``check_log`` (every event re-encoded and re-hashed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

import cairn


def model_ref(i: int, models: int) -> str:
    m = i % models
    return f"team-{m % 10:02d}/model-{m:06d}"


def latencies(call: Callable[[int], object], samples: int) -> tuple[float, float]:
    """(p50, p99) in milliseconds over ``samples`` calls."""
    times = []
    for i in range(samples):
        began = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(samples * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--models", type=int, required=True)
    parser.add_argument("--versions", type=int, required=True)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    registry = cairn.connect(args.target, actor="user:bench")
    m, v, n = args.models, args.versions, args.samples

    def version(i: int) -> str:
        return f"{model_ref(i * 7919, m)}@{i * 7 % v + 1}"

    as_of = datetime(2026, 2, 1, tzinfo=UTC)
    calls: list[tuple[str, Callable[[int], object]]] = [
        ("get_version", lambda i: registry.get_version(version(i))),
        ("get_model", lambda i: registry.get_model(model_ref(i * 7919, m))),
        ("list_versions (100)", lambda i: registry.list_versions(model_ref(i, m), limit=100)),
        ("history of a version", lambda i: registry.history(f"model:{version(i)}")),
        ("history of a model (first 100)", lambda i: registry.history(f"model:{model_ref(i, m)}")),
        ("serving as of a date", lambda i: registry.serving("bench-prod-eu", as_of)),
    ]
    table = Table(title=f"reads on {registry.log_head().size:,} events, {n} samples each")
    for column in ("call", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "call" else "right")
    for name, call in calls:
        p50, p99 = latencies(call, n)
        table.add_row(name, f"{p50:.2f}", f"{p99:.2f}")
    Console().print(table)
    if args.check:
        began = time.perf_counter()
        report = registry.check_log()
        seconds = time.perf_counter() - began
        print(f"check_log: ok={report.ok} over {report.checked:,} events in {seconds:.1f} s")
    registry.close()


if __name__ == "__main__":
    main()
