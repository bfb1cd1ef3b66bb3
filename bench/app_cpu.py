"""CPU per request of the server application in process: no sockets, no uvicorn, no client.

``api_load.py`` measures what users see, but on a 2-core machine its figures swing by a
quarter between identical runs (the load generator shares the cores, and the kernel spreads 8
connections over 2 workers unevenly). This calls the ASGI application directly, with a bearer
token, on a copy of a registry built by ``generate.py``, and reports the CPU time of the whole
process per request (its access-log writer thread included): the lowest and the median of
``--rounds`` rounds, with the garbage collector set as ``cairn serve`` sets it (unless
``--no-serving-gc``). ``--groups`` also times ``register_versions`` called with groups of that
many versions, as the server's group commit makes them (``cairn.server.batching``).

    .venv/bin/python bench/generate.py --models 1000 --versions 100 --target /tmp/g100k
    .venv/bin/python bench/app_cpu.py --registry /tmp/g100k --requests 1000 --groups 1,4,8
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cairn.core.errors import Conflict
from cairn.core.specs import VersionSpec
from cairn.local import LocalRegistry
from cairn.server.app import create_app
from cairn.server.serving import import_for_serving
from cairn.server.settings import ServerSettings

TEAMS = 10  # as generate.py: model m belongs to team-(m % 10)
OPERATIONS = ("get-version", "list-versions", "list-models", "register-version")


def model_of(m: int) -> str:
    return f"team-{m % TEAMS:02d}/model-{m:06d}"


class Requests:
    """What each operation asks, chosen by a seeded generator like ``api_load.py``'s."""

    def __init__(self, models: int, per_model: int, seed: int) -> None:
        self.models, self.per_model = models, per_model
        self.rng = random.Random(seed)
        self.serial = int(time.time() * 1000)

    def __call__(self, operation: str) -> tuple[str, bytes, bytes | None]:
        model = model_of(self.rng.randrange(self.models))
        if operation == "get-version":
            version = self.rng.randint(1, self.per_model)
            return f"/api/v1/models/{model}/versions/{version}", b"", None
        if operation == "list-versions":
            return f"/api/v1/models/{model}/versions", b"limit=20", None
        if operation == "list-models":
            team = f"team-{self.rng.randrange(TEAMS):02d}"
            return "/api/v1/models", f"team={team}&limit=20".encode(), None
        self.serial += 1
        body = {
            "model": model,
            "artifact_uri": f"s3://bench-artifacts/{model}/cpu-{self.serial}/model.pkl",
            "digest": "sha256:" + hashlib.sha256(str(self.serial).encode()).hexdigest(),
            "tags": ["team=fraud", "family=gbm", "trigger=schedule", "batch=b0", "stage=release"],
        }
        return "/api/v1/versions", b"", json.dumps(body).encode()


async def call(app: Any, token: str, path: str, query: bytes, body: bytes | None) -> None:
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/json")]
        headers += [(b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if body is None else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] not in (200, 201):
        sys.exit(f"{path}: {sent[0]['status']} {sent[1]['body'][:300]!r}")


def rounds(run: Callable[[], None], count: int, repeat: int) -> tuple[float, float]:
    """Lowest and median CPU ms per call of ``repeat`` rounds of ``count`` calls."""
    spent = []
    for _ in range(repeat):
        began = time.process_time()
        for _ in range(count):
            run()
        spent.append(1000 * (time.process_time() - began) / count)
    return min(spent), statistics.median(spent)


def bench_token(access: Any) -> str:
    """The first admin's token or, when the registry has an admin already (``api_load.py``
    made ``user:bench`` one), a new token for ``user:bench``."""
    try:
        issued = access.bootstrap("user:bench")
    except Conflict:
        issued = access.issue_token("user:bench", name="app-cpu")
    token: str = issued.token
    return token


async def measure_requests(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    app = create_app(ServerSettings(target=str(folder), home=str(folder), deliver_webhooks=False))
    token = bench_token(app.state.cairn.access)
    ask = Requests(args.models, args.versions // args.models, args.seed)
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        for operation in args.only or OPERATIONS:
            for _ in range(args.warmup):
                await call(app, token, *ask(operation))
            spent = []
            for _ in range(args.rounds):
                began = time.process_time()
                for _ in range(args.requests):
                    await call(app, token, *ask(operation))
                spent.append(1000 * (time.process_time() - began) / args.requests)
            low, median = min(spent), statistics.median(spent)
            results[operation] = {"min_ms": low, "median_ms": median}
            print(f"{operation:18s} {low:6.3f} ms lowest, {median:6.3f} median")
    return results


def measure_groups(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    registry = LocalRegistry.open(str(folder), actor="user:bench")
    rng = random.Random(args.seed)
    serial = [0]

    def spec() -> VersionSpec:
        serial[0] += 1
        model = model_of(rng.randrange(args.models))
        return VersionSpec(
            model=model,
            artifact_uri=f"s3://bench-artifacts/{model}/group-{serial[0]}/model.pkl",
            digest="sha256:" + hashlib.sha256(f"group-{serial[0]}".encode()).hexdigest(),
            tags=["team=fraud", "family=gbm"],
        )

    results: dict[str, Any] = {}
    try:
        for size in args.groups:
            count = max(1, args.requests // size)

            def group(size: int = size) -> None:
                registry.register_versions([spec() for _ in range(size)])

            low, median = rounds(group, count, args.rounds)
            low, median = low / size, median / size
            results[str(size)] = {"min_ms_per_version": low, "median_ms_per_version": median}
            print(f"groups of {size:<3d}      {low:6.3f} ms a version lowest, {median:6.3f} median")
    finally:
        registry.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", type=Path, required=True, help="built by generate.py")
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", action="append", choices=OPERATIONS)
    parser.add_argument(
        "--groups", type=lambda v: [int(x) for x in v.split(",")], default=[], help="e.g. 1,4,8"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--serving-gc",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="set the garbage collector as 'cairn serve' does (serving.import_for_serving)",
    )
    args = parser.parse_args()
    if args.serving_gc:
        import_for_serving()
    with tempfile.TemporaryDirectory(prefix="cairn-app-cpu-") as tmp:
        folder = Path(tmp) / "registry"
        shutil.copytree(args.registry, folder)  # the timed writes must not grow the original
        out = {"requests": asyncio.run(measure_requests(args, folder))}
        if args.groups:
            out["groups"] = measure_groups(args, folder)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
