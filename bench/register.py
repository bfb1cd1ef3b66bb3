"""Versions per second through the SDK: one ``register_version`` per call, and in batches.

Workload per version: 5 tags, 3 metrics (keyed by dataset version, one on a slice), 2
dataset-version inputs, spread over ``--models`` models. Runs on SQLite (a fresh temporary
folder) and, when a URL is given, on PostgreSQL (a fresh database created and dropped here).

    .venv/bin/python bench/register.py --versions 2000
    .venv/bin/python bench/register.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

``--postgres`` defaults to ``$CAIRN_BENCH_POSTGRES_URL``; ``--postgres ''`` skips PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

import cairn
from _workload import (
    DATASET_VERSIONS,
    DATASETS,
    TEAM,
    artifact_uri,
    digest_of,
    inputs,
    metrics,
    model_name,
    tags,
)
from cairn.local import LocalRegistry
from cairn.store.engine import resolve_url


def prepare(registry: LocalRegistry, models: int) -> None:
    registry.create_team(TEAM)
    for ds in DATASETS:
        registry.create_dataset(ds)
        for v in range(DATASET_VERSIONS):
            registry.add_dataset_version(ds, digest=digest_of(ds, v))
    for m in range(models):
        registry.create_model(f"{TEAM}/{model_name(m, models)}", task="classification")


def spec(i: int, models: int, offset: int) -> dict[str, object]:
    n = offset + i
    return {
        "model": f"{TEAM}/{model_name(n, models)}",
        "artifact_uri": artifact_uri(n, models),
        "digest": digest_of("bench", n),
        "tags": tags(n),
        "inputs": inputs(n),
        "metrics": metrics(n),
    }


def single(registry: LocalRegistry, versions: int, models: int) -> float:
    """Seconds to register ``versions`` versions, one SDK call each."""
    began = time.perf_counter()
    for i in range(versions):
        s = spec(i, models, 0)
        registry.register_version(
            str(s["model"]),
            str(s["artifact_uri"]),
            str(s["digest"]),
            tags=tags(i),
            inputs=inputs(i),
            metrics=metrics(i),
        )
    return time.perf_counter() - began


def batched(registry: LocalRegistry, versions: int, models: int, batch: int) -> float:
    """Seconds to register ``versions`` more versions through ``register_versions``."""
    began = time.perf_counter()
    for start in range(0, versions, batch):
        chunk = range(start, min(start + batch, versions))
        registry.register_versions([spec(i, models, versions) for i in chunk])
    return time.perf_counter() - began


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server at ``admin_url``, dropped afterwards."""
    name = f"cairn_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(resolve_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(target: str, versions: int, models: int, batch: int) -> list[tuple[str, float]]:
    with cairn.connect(target, actor="user:bench") as registry:
        prepare(registry, models)
        one = single(registry, versions, models)
        many = batched(registry, versions, models, batch)
    return [("one call per version", one), (f"register_versions ×{batch}", many)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("CAIRN_BENCH_POSTGRES_URL", ""))
    args = parser.parse_args()

    results: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="cairn-bench-") as folder:
        for mode, seconds in measure(str(Path(folder)), args.versions, args.models, args.batch):
            results.append(("SQLite", mode, seconds))
    if args.postgres:
        with postgres_database(args.postgres) as url:
            for mode, seconds in measure(url, args.versions, args.models, args.batch):
                results.append(("PostgreSQL", mode, seconds))

    table = Table(title=f"{args.versions:,} versions, 5 tags + 3 metrics + 2 inputs each")
    for column in ("database", "mode", "seconds", "versions/s"):
        table.add_column(column, justify="right" if column in {"seconds", "versions/s"} else "left")
    for database, mode, seconds in results:
        table.add_row(database, mode, f"{seconds:.2f}", f"{args.versions / seconds:,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
