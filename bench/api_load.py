"""Cairn's REST server under load on loopback, against ``mlflow server`` on the same workload.

Both servers run on this machine, as subprocesses on free loopback ports, and so does the load
generator (``_loadgen.py``): one asyncio event loop (on uvloop when it is installed) drives
``--concurrency`` simulated clients, each a coroutine with its own keep-alive connection
speaking raw HTTP/1.1 over the socket. Each sends requests back to back for ``--seconds`` per
operation after an untimed warm-up, choosing what to read with a seeded random generator. Per
operation it reports requests, errors, requests/s and p50/p99 latency; per server the start-up
time (process start until its readiness probe answers) and the resident memory of the idle
process tree. The load generator used to be a thread per client, each with an
``httpx.Client``: httpx spent several hundred microseconds of CPU per request and the threads
contended for the GIL, so on a 2-core machine the client cost more CPU than the server's own
work and capped the figures below what the server could do.

Operations:

- ``get-version``: one version with its metadata.
  Cairn ``GET /api/v1/models/{team}/{name}/versions/{n}``;
  MLflow ``GET /api/2.0/mlflow/model-versions/get``.
- ``list-versions``: Cairn has no search yet, so this is its two list endpoints, half the
  requests each: a page of 20 versions of a model
  (``GET /api/v1/models/{team}/{name}/versions?limit=20``) and the first 20 models of a team
  (``GET /api/v1/models?team=...&limit=20``). MLflow gets the nearest equivalents, through
  search: ``GET /api/2.0/mlflow/model-versions/search?filter=name='...'&max_results=20`` and
  ``GET /api/2.0/mlflow/registered-models/search?filter=name LIKE 'team-..%'&max_results=20``.
- ``register-version``: a new version with an artifact URI and five tags (Cairn also a
  sha256 digest), on a random model. Cairn ``POST /api/v1/versions``; MLflow
  ``POST /api/2.0/mlflow/model-versions/create`` (its models made by
  ``registered-models/create`` during set-up).

Set-up, untimed: a Cairn registry of ``--versions`` versions over ``--models`` models in a
temporary folder, built by ``generate.py`` (or an existing one, ``--registry``), a token
from ``cairn admin bootstrap``, then ``cairn serve --workers N``. MLflow (from
``bench/.venv-mlflow``, created by ``mlflow_compare.py`` if missing) serves a SQLite database
that is seeded over its REST API with ``--mlflow-versions`` versions only: at MLflow's rate
(≈ 50 registrations/s in the issue, 5–12 on a busy 2-core machine) seeding 100,000 would take
from half an hour to hours, so MLflow's reads are measured against the smaller registry it
holds. MLflow is started twice: once to create and seed its database, once more on the
seeded database for the start-up and memory figures.

TCP_NODELAY (uvicorn issue #3149, see DESIGN.md): every server also gets a probe of
``--probe`` sequential ``get-version`` requests on one kept-alive connection and as many on
a new connection each. Without ``TCP_NODELAY`` every kept-alive request after the first waits
for the client's delayed ACK, ~40 ms more than on a new connection. Cairn is started a second
time with ``--nodelay-workers`` workers (default 2) for the probe and a loaded ``get-version``.

The load generator still shares the machine's cores with the servers: its own CPU time is
reported (``client CPU s``), to be weighed against the server's CPU per request.

    .venv/bin/python bench/api_load.py                     # 100,000 versions, 10 s per operation
    .venv/bin/python bench/api_load.py --versions 10000 --seconds 3 --mlflow-versions 200
    .venv/bin/python bench/api_load.py --registry /tmp/g100k --no-mlflow --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from rich.console import Console
from rich.table import Table

import _loadgen
from _loadgen import Call, Request, json_body
from _workload import digest_of, tag_pairs, tags
from mlflow_compare import MLFLOW_VENV, ensure_mlflow

TEAMS = 10  # as generate.py: model m belongs to team-(m % 10)
PAGE = 20
OPERATIONS = ("get-version", "list-versions", "register-version")
TARGETS = {
    "get-version": "≥ 1,500 req/s, p99 < 50 ms",
    "list-versions": "≥ 1,500 req/s, p99 < 50 ms",
    "register-version": "≥ 10× MLflow",
}
TARGET_IDLE_MB = 250
TARGET_STARTUP_S = 3.0


# -- processes: start-up, memory, CPU ------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from the parent ids in ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _status_kb(pid: int, path: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Memory:
    processes: int
    rss_mb: float  # sum of resident set sizes: counts pages shared between processes again
    pss_mb: float  # sum of proportional set sizes: shared pages divided among their sharers


def tree_memory(root: int) -> Memory:
    pids = process_tree(root)
    rss = sum(_status_kb(pid, "status", "VmRSS") for pid in pids)
    pss = sum(_status_kb(pid, "smaps_rollup", "Pss") for pid in pids)
    return Memory(len(pids), rss / 1024, pss / 1024)


def tree_cpu_s(root: int) -> float:
    """User plus system CPU seconds of the process tree (living processes only)."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    startup_s: float = 0.0
    settled_s: float = 0.0  # from ready until the process tree stopped changing, plus the idle
    idle: Memory | None = None
    loaded: Memory | None = None


@contextmanager
def serving(
    name: str, command: list[str], env: dict[str, str], cwd: Path, port: int, ready: str
) -> Iterator[Server]:
    """Start ``command`` in its own session; time it until ``ready`` answers 200; stop it."""
    log = cwd / f"{name.replace(' ', '-')}.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        began = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, url, process, log)
    try:
        server.startup_s = wait_ready(server, url + ready, began)
        yield server
    finally:
        stop(process)


def wait_ready(server: Server, url: str, began: float, timeout: float = 120.0) -> float:
    with httpx.Client(timeout=2.0) as client:
        while time.perf_counter() - began < timeout:
            if server.process.poll() is not None:
                tail = server.log.read_text(errors="replace")[-3000:]
                sys.exit(f"{server.name} exited with {server.process.returncode}:\n{tail}")
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - began
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    sys.exit(f"{server.name} did not answer {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (it was started as the leader of its own session),
    leaving none of its processes behind (MLflow's job runners outlive their parent a while)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def settle(server: Server, seconds: float, limit: float = 120.0) -> None:
    """Wait until the process tree has not changed for ``seconds`` (MLflow starts its job
    runners after it answers), then take its memory."""
    began = time.monotonic()
    tree, steady = process_tree(server.process.pid), time.monotonic()
    while time.monotonic() - steady < seconds and time.monotonic() - began < limit:
        time.sleep(0.25)
        now = process_tree(server.process.pid)
        if sorted(now) != sorted(tree):
            tree, steady = now, time.monotonic()
    server.settled_s = time.monotonic() - began
    server.idle = tree_memory(server.process.pid)


# -- the load ------------------------------------------------------------------------------------
@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    rate: float  # successful requests per second
    p50_ms: float
    p99_ms: float
    client_cpu_s: float
    server_cpu_ms_per_request: float
    first_error: str | None = None
    parts: dict[str, dict[str, float]] = field(default_factory=dict)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN for an empty one)."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def load(
    server: Server,
    headers: dict[str, str],
    request: Request,
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    seed: int,
) -> Result:
    """``concurrency`` keep-alive connections send ``request`` back to back: ``warmup`` s
    untimed, then all together for ``seconds`` timed."""
    server_cpu: list[float] = []
    outcome = _loadgen.run(
        server.url,
        headers,
        request,
        connections=concurrency,
        seconds=seconds,
        warmup=warmup,
        seed=seed,
        on_start=lambda: server_cpu.append(tree_cpu_s(server.process.pid)),
    )
    server_cpu_s = tree_cpu_s(server.process.pid) - server_cpu[0]

    samples = [sample for sample in outcome.samples if sample.status < 400]
    ordered = sorted(sample.seconds * 1000 for sample in samples)
    done = len(ordered) + outcome.errors
    parts = {}
    for kind in sorted({sample.kind for sample in samples} - {""}):
        own = sorted(sample.seconds * 1000 for sample in samples if sample.kind == kind)
        parts[kind] = {
            "requests": len(own),
            "p50_ms": percentile(own, 0.5),
            "p99_ms": percentile(own, 0.99),
        }
    return Result(
        requests=done,
        errors=outcome.errors,
        seconds=outcome.elapsed,
        rate=len(ordered) / outcome.elapsed,
        p50_ms=percentile(ordered, 0.5),
        p99_ms=percentile(ordered, 0.99),
        client_cpu_s=outcome.cpu_s,
        server_cpu_ms_per_request=1000 * server_cpu_s / max(1, done),
        first_error=outcome.first_error,
        parts=parts,
    )


def send(client: httpx.Client, call: Call) -> httpx.Response:
    """``call`` through httpx, with the same request line and body as the load generator's."""
    if call.body is None:
        return client.request(call.method, call.target)
    json_type = {"Content-Type": "application/json"}
    return client.request(call.method, call.target, content=json_body(call.body), headers=json_type)


def probe(
    server: Server, headers: dict[str, str], request: Request, count: int
) -> dict[str, float]:
    """p50 (ms) of ``count`` sequential requests on one kept-alive connection (its first
    request excluded) and of ``count`` requests each on a new connection. Kept-alive requests
    ~40 ms slower than new connections: the server's sockets wait for delayed ACKs, because
    TCP_NODELAY is off (a new connection's first response is not held back)."""
    rng = random.Random(1)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    kept, fresh = [], []
    with httpx.Client(base_url=server.url, headers=headers, timeout=60, limits=limits) as client:
        send(client, request(rng, 0))
        for i in range(count):
            began = time.perf_counter()
            send(client, request(rng, i + 1)).raise_for_status()
            kept.append((time.perf_counter() - began) * 1000)
    for i in range(count):
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            began = time.perf_counter()
            send(client, request(rng, i + 1)).raise_for_status()
            fresh.append((time.perf_counter() - began) * 1000)
    return {
        "keepalive_p50_ms": percentile(sorted(kept), 0.5),
        "new_connection_p50_ms": percentile(sorted(fresh), 0.5),
    }


# -- Cairn ---------------------------------------------------------------------------------------
def cairn_model(m: int) -> tuple[str, str]:
    """(team, name) of model ``m`` as generate.py names it."""
    return f"team-{m % TEAMS:02d}", f"model-{m:06d}"


def cairn_requests(models: int, per_model: int) -> dict[str, Request]:
    def get_version(rng: random.Random, _: int) -> Call:
        team, name = cairn_model(rng.randrange(models))
        return Call("GET", f"/api/v1/models/{team}/{name}/versions/{rng.randint(1, per_model)}")

    def list_versions(rng: random.Random, _: int) -> Call:
        team, name = cairn_model(rng.randrange(models))
        if rng.random() < 0.5:
            path = f"/api/v1/models/{team}/{name}/versions?limit={PAGE}"
            return Call("GET", path, kind="versions of a model")
        query = urlencode({"team": f"team-{rng.randrange(TEAMS):02d}", "limit": PAGE})
        return Call("GET", f"/api/v1/models?{query}", kind="models of a team")

    def register_version(rng: random.Random, i: int) -> Call:
        team, name = cairn_model(rng.randrange(models))
        body = {
            "model": f"{team}/{name}",
            "artifact_uri": f"s3://bench-artifacts/{team}/{name}/load-{i}/model.pkl",
            "digest": digest_of("api-load", i),
            "tags": tags(i),
        }
        return Call("POST", "/api/v1/versions", body)

    return {
        "get-version": get_version,
        "list-versions": list_versions,
        "register-version": register_version,
    }


def cairn_cli() -> list[str]:
    beside = Path(sys.executable).with_name("cairn")
    found = str(beside) if beside.exists() else shutil.which("cairn")
    if not found:
        sys.exit("the cairn command is not installed: run this with the project's .venv")
    return [found]


def cairn_token(env: dict[str, str]) -> str:
    """The first admin's token (``cairn admin bootstrap``), or, when the registry already has
    an admin, a new token for it (``cairn token create``)."""
    cli = cairn_cli()
    run = [*cli, "admin", "bootstrap", "user:bench"]
    done = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        run = [*cli, "token", "create", "--principal", "user:bench", "--name", "api-load"]
        run += ["--expires-in", "1d"]
        done = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"could not get a token: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def build_registry(folder: Path, models: int, per_model: int) -> dict[str, Any]:
    from generate import generate

    began = time.perf_counter()
    with redirect_stdout(sys.stderr):  # the progress bar; stdout may be --json
        timings = generate(str(folder), models, per_model, 1000)
    timings["total_s"] = time.perf_counter() - began
    return timings


def cairn_command(port: int, workers: int) -> list[str]:
    return [*cairn_cli(), "serve", "--port", str(port), "--workers", str(workers)]


# -- MLflow --------------------------------------------------------------------------------------
MLFLOW_API = "/api/2.0/mlflow"


def mlflow_model(m: int) -> str:
    team, name = cairn_model(m)
    return f"{team}-{name}"


def mlflow_tags(i: int) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tag_pairs(i).items()]


def mlflow_requests(models: int, per_model: int) -> dict[str, Request]:
    def get_version(rng: random.Random, _: int) -> Call:
        name, version = mlflow_model(rng.randrange(models)), rng.randint(1, per_model)
        query = urlencode({"name": name, "version": version})
        return Call("GET", f"{MLFLOW_API}/model-versions/get?{query}")

    def list_versions(rng: random.Random, _: int) -> Call:
        if rng.random() < 0.5:
            name = mlflow_model(rng.randrange(models))
            query = urlencode({"filter": f"name='{name}'", "max_results": PAGE})
            path = f"{MLFLOW_API}/model-versions/search?{query}"
            return Call("GET", path, kind="versions of a model")
        team = f"team-{rng.randrange(TEAMS):02d}"
        query = urlencode({"filter": f"name LIKE '{team}-%'", "max_results": PAGE})
        path = f"{MLFLOW_API}/registered-models/search?{query}"
        return Call("GET", path, kind="models of a team")

    def register_version(rng: random.Random, i: int) -> Call:
        m = rng.randrange(models)
        team, name = cairn_model(m)
        body = {
            "name": mlflow_model(m),
            "source": f"s3://bench-artifacts/{team}/{name}/load-{i}/model.pkl",
            "tags": mlflow_tags(i),
        }
        return Call("POST", f"{MLFLOW_API}/model-versions/create", body)

    return {
        "get-version": get_version,
        "list-versions": list_versions,
        "register-version": register_version,
    }


def mlflow_command(db: Path, artifacts: Path, port: int, workers: int | None) -> list[str]:
    command = [str(MLFLOW_VENV / "bin" / "mlflow"), "server"]
    command += ["--backend-store-uri", f"sqlite:///{db}"]
    command += ["--default-artifact-root", str(artifacts), "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    return command


def seed_mlflow(server: Server, models: int, versions: int) -> float:
    """Create the models and register ``versions`` versions round-robin, one client, one
    request at a time; return the registrations per second of that."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for m in range(models):
            made = client.post(
                f"{MLFLOW_API}/registered-models/create", json={"name": mlflow_model(m)}
            )
            made.raise_for_status()
        began = time.perf_counter()
        for i in range(versions):
            m = i % models
            team, name = cairn_model(m)
            body = {
                "name": mlflow_model(m),
                "source": f"s3://bench-artifacts/{team}/{name}/{i}/model.pkl",
                "tags": mlflow_tags(i),
            }
            client.post(f"{MLFLOW_API}/model-versions/create", json=body).raise_for_status()
        return versions / (time.perf_counter() - began)


# -- the run -------------------------------------------------------------------------------------
def run_operations(
    server: Server, headers: dict[str, str], requests: dict[str, Request], args: argparse.Namespace
) -> dict[str, Result]:
    results = {}
    for name in args.only or OPERATIONS:
        print(f"  {server.name}: {name} for {args.seconds:g} s…", file=sys.stderr)
        results[name] = load(
            server,
            headers,
            requests[name],
            concurrency=args.concurrency,
            seconds=args.seconds,
            warmup=args.warmup,
            seed=args.seed,
        )
    server.loaded = tree_memory(server.process.pid)
    return results


def server_facts(server: Server) -> dict[str, Any]:
    return {
        "startup_s": server.startup_s,
        "settled_s": server.settled_s,
        "idle": asdict(server.idle) if server.idle else None,
        "after_load": asdict(server.loaded) if server.loaded else None,
    }


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
        "cores": os.cpu_count(),
        "load_generator": f"bench/_loadgen.py on {_loadgen.LOOP}",
        "settings": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"
        },
    }
    per_model = args.versions // args.models

    # Cairn: the registry, a token, the server.
    folder = args.registry or tmp / "cairn"
    if args.registry is None:
        print(f"generating {args.models * per_model:,} versions in {folder}…", file=sys.stderr)
        out["generate"] = build_registry(folder, args.models, per_model)
    env = {**os.environ, "CAIRN_HOME": str(folder)}
    env.pop("CAIRN_REGISTRY", None)
    token = cairn_token(env)
    headers = {"Authorization": f"Bearer {token}"}
    requests = cairn_requests(args.models, per_model)
    port = free_port()
    with serving(
        f"Cairn ({args.workers}w)", cairn_command(port, args.workers), env, tmp, port, "/readyz"
    ) as server:
        settle(server, args.idle)
        out["cairn_probe"] = probe(server, headers, requests["get-version"], args.probe)
        out["cairn"] = {
            k: asdict(v) for k, v in run_operations(server, headers, requests, args).items()
        }
        out["cairn_server"] = server_facts(server)

    if args.nodelay_workers:
        port = free_port()
        command = cairn_command(port, args.nodelay_workers)
        name = f"Cairn ({args.nodelay_workers}w)"
        with serving(name, command, env, tmp, port, "/readyz") as server:
            settle(server, args.idle)
            out["nodelay"] = {
                "workers": args.nodelay_workers,
                "probe": probe(server, headers, requests["get-version"], args.probe),
            }
            print(f"  {server.name}: get-version for {args.seconds:g} s…", file=sys.stderr)
            loaded = load(
                server,
                headers,
                requests["get-version"],
                concurrency=args.concurrency,
                seconds=args.seconds,
                warmup=args.warmup,
                seed=args.seed,
            )
            out["nodelay"]["get-version"] = asdict(loaded)
            out["nodelay"]["server"] = server_facts(server)

    if args.mlflow:
        out["mlflow_version"] = ensure_mlflow()
        db, artifacts = tmp / "mlflow.db", tmp / "mlartifacts"
        mlflow_env = {**os.environ, "MLFLOW_LOGGING_LEVEL": "ERROR", "PYTHONWARNINGS": "ignore"}
        mlflow_models = min(args.mlflow_models, args.mlflow_versions)
        mlflow_per_model = args.mlflow_versions // mlflow_models
        port = free_port()
        command = mlflow_command(db, artifacts, port, args.mlflow_workers)
        with serving("MLflow (first start)", command, mlflow_env, tmp, port, "/health") as server:
            out["mlflow_first_startup_s"] = server.startup_s
            settle(server, args.idle)  # its job runners start after it answers
            print(f"  seeding MLflow with {args.mlflow_versions:,} versions…", file=sys.stderr)
            out["mlflow_seed_rate"] = seed_mlflow(
                server, mlflow_models, mlflow_models * mlflow_per_model
            )
        port = free_port()
        command = mlflow_command(db, artifacts, port, args.mlflow_workers)
        with serving("MLflow", command, mlflow_env, tmp, port, "/health") as server:
            settle(server, args.idle)
            theirs = mlflow_requests(mlflow_models, mlflow_per_model)
            out["mlflow_probe"] = probe(server, {}, theirs["get-version"], args.probe)
            out["mlflow"] = {
                k: asdict(v) for k, v in run_operations(server, {}, theirs, args).items()
            }
            out["mlflow_server"] = server_facts(server)
            out["mlflow_registry"] = {
                "models": mlflow_models,
                "versions": mlflow_models * mlflow_per_model,
            }
    out["load_average_at_end"] = os.getloadavg()
    return out


# -- the report ----------------------------------------------------------------------------------
def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}"


def report(out: dict[str, Any], console: Console) -> None:
    settings = out["settings"]
    ours, theirs = out["cairn"], out.get("mlflow")
    size = f"{(settings['versions'] // settings['models']) * settings['models']:,} versions"
    if theirs:
        size += f"; MLflow {out['mlflow_registry']['versions']:,} versions"
    title = (
        f"REST under load: {settings['concurrency']} keep-alive clients, {settings['seconds']:g} s "
        f"per operation, Cairn {settings['workers']} worker(s) ({size})"
    )
    table = Table(title=title)
    columns = ["operation", "Cairn req/s", "p50 ms", "p99 ms", "errors"]
    if theirs:
        columns += ["MLflow req/s", "p50 ms", "p99 ms", "errors", "Cairn/MLflow"]
    for column in [*columns, "target"]:
        table.add_column(column, justify="left" if column in ("operation", "target") else "right")
    for name in [name for name in OPERATIONS if name in ours]:
        a = ours[name]
        row = [name, f"{a['rate']:,.0f}", ms(a["p50_ms"]), ms(a["p99_ms"]), str(a["errors"])]
        if theirs:
            b = theirs[name]
            ratio = a["rate"] / b["rate"] if b["rate"] else math.inf
            row += [f"{b['rate']:,.1f}", ms(b["p50_ms"]), ms(b["p99_ms"]), str(b["errors"])]
            row += [f"{ratio:,.1f}×"]
        table.add_row(*row, TARGETS[name])
        parts = a["parts"]
        for part, figures in parts.items():
            sub = [f"  {part}", "", ms(figures["p50_ms"]), ms(figures["p99_ms"]), ""]
            if theirs:
                other = theirs[name]["parts"].get(part)
                sub += ["", ms(other["p50_ms"]) if other else "-"]
                sub += [ms(other["p99_ms"]) if other else "-", "", ""]
            table.add_row(*sub, "")
    console.print(table)

    facts = Table(
        title="Servers: start-up and memory (RSS sums count shared pages again; PSS does not)"
    )
    for column in (
        "server",
        "start-up s",
        "processes",
        "idle RSS MB",
        "idle PSS MB",
        "RSS after load MB",
        "client CPU s",
        "server CPU ms/request",
        "target",
    ):
        facts.add_column(column, justify="left" if column in ("server", "target") else "right")

    def add(name: str, server: dict[str, Any], results: dict[str, Any]) -> None:
        idle, loaded = server["idle"], server["after_load"]
        cpu = sum(r["client_cpu_s"] for r in results.values())
        per_request = [r["server_cpu_ms_per_request"] for r in results.values()]
        facts.add_row(
            name,
            f"{server['startup_s']:.2f}",
            str(idle["processes"]),
            f"{idle['rss_mb']:,.0f}",
            f"{idle['pss_mb']:,.0f}",
            f"{loaded['rss_mb']:,.0f}" if loaded else "-",
            f"{cpu:.1f}",
            " / ".join(f"{v:.2f}" for v in per_request),
            f"< {TARGET_STARTUP_S:g} s; one worker < {TARGET_IDLE_MB} MB",
        )

    add(f"Cairn, {settings['workers']} worker(s)", out["cairn_server"], ours)
    nodelay = out.get("nodelay")
    if nodelay:
        add(
            f"Cairn, {nodelay['workers']} workers",
            nodelay["server"],
            {"get-version": nodelay["get-version"]},
        )
    if theirs:
        add(f"MLflow {out['mlflow_version']}", out["mlflow_server"], theirs)
    console.print(facts)
    if theirs:
        console.print(
            f"MLflow's first start (creating its database): {out['mlflow_first_startup_s']:.2f} s; "
            f"seeding over REST, one client: {out['mlflow_seed_rate']:.1f} registrations/s"
        )

    probes = Table(
        title="TCP_NODELAY: get-version p50, sequential, on one kept-alive connection and on "
        "a new connection each"
    )
    concurrent = f"{settings['concurrency']} clients"
    for column in (
        "server",
        "kept-alive p50 ms",
        "new connection p50 ms",
        "difference ms",
        f"{concurrent} req/s",
        "p50 ms",
        "p99 ms",
    ):
        probes.add_column(column, justify="left" if column == "server" else "right")
    # get-version under load is absent when --only left it out.
    rows = [
        (f"Cairn, {settings['workers']} worker(s)", out["cairn_probe"], ours.get("get-version"))
    ]
    if nodelay:
        workers = f"Cairn, {nodelay['workers']} workers"
        rows.append((workers, nodelay["probe"], nodelay.get("get-version")))
    if theirs:
        mlflow = f"MLflow {out['mlflow_version']}"
        rows.append((mlflow, out["mlflow_probe"], theirs.get("get-version")))
    for name, found, loaded in rows:
        kept, fresh = found["keepalive_p50_ms"], found["new_connection_p50_ms"]
        probes.add_row(
            name,
            ms(kept),
            ms(fresh),
            f"{kept - fresh:+,.1f}",
            *(
                (f"{loaded['rate']:,.1f}", ms(loaded["p50_ms"]), ms(loaded["p99_ms"]))
                if loaded
                else ("—", "—", "—")
            ),
        )
    console.print(probes)
    console.print(
        "kept-alive requests ~40 ms slower than new connections wait for a delayed ACK: "
        "TCP_NODELAY is off on the server's sockets (uvicorn issue #3149)"
    )
    for side in ("cairn", "mlflow"):
        for name, result in (out.get(side) or {}).items():
            if result["first_error"]:
                console.print(f"{side} {name}: first error: {result['first_error']}")
    console.print(
        f"load average {out['load_average_at_start'][0]:.2f} at start, "
        f"{out['load_average_at_end'][0]:.2f} at end ({out['cores']} cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--versions", type=int, default=100_000, help="Cairn registry size")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument(
        "--registry",
        type=Path,
        help="an existing registry built by generate.py with the same --models and --versions "
        "(register-version adds versions to it); default: generate one in a temporary folder",
    )
    parser.add_argument("--workers", type=int, default=1, help="cairn serve --workers")
    parser.add_argument(
        "--nodelay-workers",
        type=int,
        default=2,
        help="also run get-version against Cairn with this many workers (0: skip)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="concurrent clients: keep-alive connections"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per operation")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds before each")
    parser.add_argument("--idle", type=float, default=3.0, help="idle seconds before memory")
    parser.add_argument("--probe", type=int, default=100, help="requests of the nodelay probe")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only",
        action="append",
        choices=OPERATIONS,
        help="run only this operation (repeat for several); default: all of them",
    )
    parser.add_argument("--mlflow", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--mlflow-versions", type=int, default=500, help="versions seeded")
    parser.add_argument("--mlflow-models", type=int, default=10, help="models seeded")
    parser.add_argument(
        "--mlflow-workers", type=int, help="mlflow server --workers (default: its own)"
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="print the figures as JSON instead of tables; with PATH, write them there too",
    )
    args = parser.parse_args()
    if args.versions < args.models:
        parser.error("--versions must be at least --models")

    with tempfile.TemporaryDirectory(prefix="cairn-api-load-") as tmp:
        out = run(args, Path(tmp))
    if args.json and args.json != "-":
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    if args.json == "-":
        print(json.dumps(out, indent=2))
    else:
        console = Console()
        report(out, console if console.is_terminal else Console(width=150))


if __name__ == "__main__":
    main()
