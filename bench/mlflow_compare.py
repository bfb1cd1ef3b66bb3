"""Cairn against MLflow's model registry on the same workload, both on SQLite, in one run.

Workload: ``--versions`` versions spread over ``--models`` models, 5 tags each, one client
call per version (MLflow: ``MlflowClient().create_model_version(name, source, tags=...)``;
Cairn: ``registry.register_version(model, uri, digest, tags=...)``). Model creation is set-up
and not timed on either side.

MLflow is not a dependency of Cairn: its half runs as a subprocess in ``bench/.venv-mlflow``,
which this script creates (``pip install mlflow``) if it is missing.

    .venv/bin/python bench/mlflow_compare.py --versions 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from _workload import TEAM, artifact_uri, digest_of, model_name, tag_pairs, tags

HERE = Path(__file__).resolve().parent
MLFLOW_VENV = HERE / ".venv-mlflow"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"


def ensure_mlflow() -> str:
    """Create the MLflow virtual environment on first use; return MLflow's version."""
    if not MLFLOW_PYTHON.exists():
        print(f"creating {MLFLOW_VENV} and installing mlflow (takes a few minutes)…")
        venv.create(MLFLOW_VENV, with_pip=True)
    probe = [str(MLFLOW_PYTHON), "-c", "import mlflow; print(mlflow.__version__)"]
    found = subprocess.run(probe, capture_output=True, text=True, check=False)
    if found.returncode != 0:
        pip = [str(MLFLOW_PYTHON), "-m", "pip", "install", "--quiet", "mlflow"]
        subprocess.run(pip, check=True)
        found = subprocess.run(probe, capture_output=True, text=True, check=True)
    return found.stdout.strip()


def mlflow_worker(db: Path, versions: int, models: int) -> dict[str, float]:
    """Runs inside MLflow's virtual environment: register the workload, return timings."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{db}")
    mlflow.set_registry_uri(f"sqlite:///{db}")
    client = MlflowClient()
    began = time.perf_counter()
    for m in range(min(models, versions)):
        client.create_registered_model(f"{TEAM}-{model_name(m, models)}")
    setup = time.perf_counter() - began
    began = time.perf_counter()
    for i in range(versions):
        client.create_model_version(
            f"{TEAM}-{model_name(i, models)}", artifact_uri(i, models), tags=tag_pairs(i)
        )
    return {"setup_s": setup, "register_s": time.perf_counter() - began}


def cairn_half(folder: Path, versions: int, models: int) -> dict[str, float]:
    import cairn

    with cairn.connect(folder, actor="user:bench") as registry:
        began = time.perf_counter()
        registry.create_team(TEAM)
        for m in range(min(models, versions)):
            registry.create_model(f"{TEAM}/{model_name(m, models)}")
        setup = time.perf_counter() - began
        began = time.perf_counter()
        for i in range(versions):
            registry.register_version(
                f"{TEAM}/{model_name(i, models)}",
                artifact_uri(i, models),
                digest_of("bench", i),
                tags=tags(i),
            )
        return {"setup_s": setup, "register_s": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--mlflow-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mlflow_worker:
        print(json.dumps(mlflow_worker(args.mlflow_worker, args.versions, args.models)))
        return

    version = ensure_mlflow()
    with tempfile.TemporaryDirectory(prefix="cairn-vs-mlflow-") as tmp:
        worker = [
            str(MLFLOW_PYTHON),
            __file__,
            "--versions",
            str(args.versions),
            "--models",
            str(args.models),
            "--mlflow-worker",
            str(Path(tmp) / "mlflow.db"),
        ]
        # Quiet MLflow's start-up chatter; the timing is all we read from it.
        env = {**os.environ, "MLFLOW_LOGGING_LEVEL": "ERROR", "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(worker, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"the MLflow half failed:\n{done.stderr[-4000:]}")
        theirs = json.loads(done.stdout.strip().splitlines()[-1])
        ours = cairn_half(Path(tmp) / "cairn", args.versions, args.models)

    mlflow_rate = args.versions / theirs["register_s"]
    cairn_rate = args.versions / ours["register_s"]
    print(f"workload: {args.versions:,} versions over {args.models} models, 5 tags each, SQLite")
    print(f"MLflow {version:<8} {theirs['register_s']:8.2f} s  {mlflow_rate:10,.0f} versions/s")
    print(f"Cairn  {'':<8} {ours['register_s']:8.2f} s  {cairn_rate:10,.0f} versions/s")
    print(f"Cairn / MLflow: {cairn_rate / mlflow_rate:.1f}×")


if __name__ == "__main__":
    main()
