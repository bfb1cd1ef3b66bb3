"""Build a deterministic synthetic registry of any size through the batch API.

Workload: ``--models`` models × ``--versions`` versions. Every version carries 5 tags,
3 metrics (two on a dataset version, one of them on a slice), 2 dataset-version inputs,
a training run (one run per model, shared by that model's versions: runs are created one
call each, and a million of them would measure ``create_run``, not registration) and its
environment as ``dependencies.runtime`` (python, CUDA, image digest) plus libraries.
Three environments are created and the latest version of the first few models is deployed,
so environments and deployments exist without dominating the run.

    .venv/bin/python bench/generate.py --models 100 --versions 1000 --target /tmp/cairn-100k
    .venv/bin/python bench/generate.py --models 1000 --versions 1000 --target postgresql://...

Prints versions per second for the registration phase (setup is timed separately).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

import cairn
from cairn.core.specs import VersionSpec
from cairn.local import LocalRegistry

TEAMS = 10
DATASETS_PER_TEAM = 2
DATASET_VERSIONS = 5
DEPLOYED_MODELS = 20
ENVIRONMENTS = (("bench-staging", "staging"), ("bench-prod-eu", "production"))
LIBRARIES = (
    ["scikit-learn>=1.4,<1.6", "numpy>=1.26,<3", "pandas>=2.1"],
    ["xgboost>=2.0,<3", "numpy>=1.26,<3"],
    ["torch>=2.2,<2.6", "numpy>=1.26,<3"],
)
RUNTIMES = (
    {"python": "3.11", "image": "ghcr.io/acme/serve-cpu@sha256:" + "1" * 64},
    {"python": "3.12", "image": "ghcr.io/acme/serve-cpu@sha256:" + "2" * 64},
    {"python": "3.11", "cuda": "12.1", "image": "ghcr.io/acme/serve-gpu@sha256:" + "3" * 64},
)


def digest_of(*parts: object) -> str:
    """A sha256 digest of deterministic bytes, as an artifact would have."""
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def team_of(model: int) -> str:
    return f"team-{model % TEAMS:02d}"


def setup(registry: LocalRegistry, models: int) -> None:
    """Teams, datasets with versions, environments, models and one training run per model."""
    for k in range(TEAMS):
        registry.create_team(f"team-{k:02d}", contact=f"team-{k:02d}@example.com")
        for d in range(DATASETS_PER_TEAM):
            ref = f"team-{k:02d}/data-{d}"
            registry.create_dataset(ref, uri=f"s3://bench-data/{ref}")
            for v in range(DATASET_VERSIONS):
                registry.add_dataset_version(
                    ref,
                    uri=f"s3://bench-data/{ref}/v{v + 1}.parquet",
                    digest=digest_of(ref, v),
                    row_count=10_000 * (v + 1),
                    fields=[{"name": "id", "type": "string"}, {"name": "x", "type": "float"}],
                )
    for name, stage in ENVIRONMENTS:
        registry.create_environment(name, stage=stage, runtime=RUNTIMES[0])
    for m in range(models):
        team = team_of(m)
        registry.create_model(f"{team}/model-{m:06d}", task="classification", framework="sklearn")
        registry.create_run(
            f"{team}/train-{m:06d}",
            status="succeeded",
            code={"repository": f"https://git.example.com/{team}/models", "commit": f"{m:07x}"},
        )


def spec(model: int, version: int) -> VersionSpec:
    """The version spec for (model, version); built directly, it is already validated."""
    team = team_of(model)
    ds_a = f"dataset:{team}/data-0@{version % DATASET_VERSIONS + 1}"
    ds_b = f"dataset:{team}/data-1@{(version + 2) % DATASET_VERSIONS + 1}"
    auc = 0.7 + ((model * 31 + version * 17) % 290) / 1000
    return VersionSpec.model_validate(
        {
            "model": f"{team}/model-{model:06d}",
            "artifact_uri": f"s3://bench-models/{team}/model-{model:06d}/{version}/model.pkl",
            "digest": digest_of(model, version),
            "run": f"{team}/train-{model:06d}",
            "inputs": [ds_a, ds_b],
            "metrics": [
                {"name": "auc", "value": auc, "dataset": ds_a},
                {"name": "f1", "value": auc - 0.1, "dataset": ds_a},
                {"name": "auc", "value": auc - 0.02, "dataset": ds_a, "slice": "region=eu"},
            ],
            "dependencies": {
                "libraries": LIBRARIES[model % 3],
                "runtime": RUNTIMES[model % 3],
            },
            "tags": [
                "benchmark",
                f"team-{model % TEAMS:02d}",
                f"family-{model % 7}",
                f"batch-{version // 100}",
                "candidate" if version % 10 else "release",
            ],
        }
    )


def specs(models: int, versions: int) -> Iterator[VersionSpec]:
    # Version-major order: one batch touches many models, as a real backfill would.
    for version in range(versions):
        for model in range(models):
            yield spec(model, version)


def chunks(items: Iterator[VersionSpec], size: int) -> Iterator[list[VersionSpec]]:
    batch: list[VersionSpec] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def deploy_some(registry: LocalRegistry, models: int, versions: int) -> None:
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for m in range(min(models, DEPLOYED_MODELS)):
        ref = f"{team_of(m)}/model-{m:06d}"
        for i, (env, _) in enumerate(ENVIRONMENTS):
            registry.deploy(f"{ref}@{versions}", env, at=start + timedelta(days=m, hours=i))


def generate(target: str, models: int, versions: int, batch: int) -> dict[str, Any]:
    """Generate the registry at ``target``; return timings."""
    registry = cairn.connect(target, actor="user:bench")
    try:
        began = time.perf_counter()
        setup(registry, models)
        setup_s = time.perf_counter() - began
        total = models * versions
        columns = (
            TextColumn("registering"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8} v/s"),
            TimeRemainingColumn(),
        )
        began = time.perf_counter()
        with Progress(*columns) as progress:
            task = progress.add_task("versions", total=total, rate="-")

            def advance(count: int) -> None:
                rate = progress.tasks[task].completed / (time.perf_counter() - began)
                progress.update(task, advance=count, rate=f"{rate:,.0f}")

            report = registry.import_versions(
                specs(models, versions), batch_size=batch, progress=advance
            )
        assert report.registered == total, report
        register_s = time.perf_counter() - began
        deploy_some(registry, models, versions)
        return {
            "versions": total,
            "setup_s": setup_s,
            "register_s": register_s,
            "rate": total / register_s,
        }
    finally:
        registry.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--target", required=True, help="a new folder or a postgresql:// URL")
    parser.add_argument(
        "--batch", type=int, default=1000, help="versions per import batch (one transaction each)"
    )
    args = parser.parse_args()
    result = generate(args.target, args.models, args.versions, args.batch)
    print(
        f"{result['versions']:,} versions in {result['register_s']:.1f} s "
        f"({result['rate']:,.0f} versions/s; setup {result['setup_s']:.1f} s)"
    )


if __name__ == "__main__":
    main()
