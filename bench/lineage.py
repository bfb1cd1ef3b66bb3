"""Lineage queries on a generated registry: impact analysis and upstream provenance.

Workload: ``--models`` models × ``--versions`` versions (default 10,000 × 100 = 1,000,000).
Each model has a training run that read two datasets and produced all its versions, each
version trained on the same two datasets (2,000 datasets, one version each), every fifth
model's latest version deployed to production. One *popular* dataset version feeds the runs
and versions of ``--popular`` models (10 × 100 = ~1,000 versions). Then:

- impact analysis of the popular dataset version: every model version downstream with its
  path, team and contact, and every deployment of them (``registry.impact``);
- upstream provenance of random versions (``registry.lineage(direction="upstream")``), and
  one as W3C PROV-JSON;
- lineage completeness of one model, one team (100,000 versions) and the whole registry.

    .venv/bin/python bench/lineage.py --target /tmp/cairn-lineage-1m
    .venv/bin/python bench/lineage.py --target postgresql://postgres@127.0.0.1:5432/lineage1m

A target that already holds the workload is reused (generation is skipped).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

import cairn
from cairn.core.errors import NotFound
from cairn.core.prov import prov_json
from cairn.core.specs import VersionSpec
from cairn.local import LocalRegistry

TEAMS = 10
DATASETS = 2_000
POPULAR = "dataset:team-00/popular@1"


def team_of(model: int) -> str:
    return f"team-{model % TEAMS:02d}"


def inputs_of(model: int, popular: int) -> list[str]:
    first, other = model % DATASETS, (model * 7 + 3) % DATASETS
    second = POPULAR if model < popular else f"dataset:{team_of(other)}/ds-{other:04d}@1"
    return [f"dataset:{team_of(first)}/ds-{first:04d}@1", second]


def setup(registry: LocalRegistry, models: int, popular: int) -> None:
    for k in range(TEAMS):
        registry.create_team(f"team-{k:02d}", contact=f"team-{k:02d}@example.com")
    registry.create_environment("prod", stage="production")
    registry.create_dataset("team-00/popular", external_ids={"openlineage": "s3://lake/popular"})
    registry.add_dataset_version("team-00/popular", uri="s3://lake/popular/1")
    for d in range(DATASETS):
        ref = f"{team_of(d)}/ds-{d:04d}"
        registry.create_dataset(ref)
        registry.add_dataset_version(ref, uri=f"s3://lake/{ref}/1")
    with Progress(TextColumn("models and runs"), BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("models", total=models)
        for m in range(models):
            team = team_of(m)
            registry.create_model(f"{team}/model-{m:05d}")
            registry.create_run(
                f"{team}/train-{m:05d}",
                status="succeeded",
                inputs=inputs_of(m, popular),
                code={"repository": f"https://git.example.com/{team}/models", "commit": f"{m:07x}"},
            )
            bar.advance(task)


def specs(models: int, versions: int, popular: int) -> Iterator[VersionSpec]:
    for version in range(versions):
        for m in range(models):
            team = team_of(m)
            yield VersionSpec.model_validate(
                {
                    "model": f"{team}/model-{m:05d}",
                    "artifact_uri": f"s3://models/{team}/{m}/{version}",
                    "digest": "sha256:" + f"{m:032x}{version:032x}",
                    "run": f"{team}/train-{m:05d}",
                    "inputs": inputs_of(m, popular),
                }
            )


def generate(registry: LocalRegistry, models: int, versions: int, popular: int) -> None:
    began = time.perf_counter()
    setup(registry, models, popular)
    columns = (TextColumn("versions"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("versions", total=models * versions)
        registry.import_versions(
            specs(models, versions, popular),
            batch_size=10_000,
            progress=lambda n: bar.advance(task, n),
        )
    for m in range(0, models, 5):
        registry.deploy(f"model:{team_of(m)}/model-{m:05d}@{versions}", "prod")
    print(f"generated {models * versions:,} versions in {time.perf_counter() - began:.0f} s")


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    result = call()  # warm the caches and the statement compiler once
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
    return times, result


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"{name}: p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms ({len(times)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--popular", type=int, default=10, help="models fed by the popular dataset")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--generate-only", action="store_true", help="stop before measuring")
    args = parser.parse_args()
    registry = cairn.connect(args.target, actor="user:bench")
    try:
        try:
            registry.get_dataset_version(POPULAR)
        except NotFound:
            generate(registry, args.models, args.versions, args.popular)
        if args.generate_only:
            return
        registry.impact(POPULAR)
        # As the server does once started (cairn.server.app): long-lived objects out of the
        # cyclic collector's sight, so a full collection does not stall a measured call.
        gc.freeze()
        times, report = timed(lambda: registry.impact(POPULAR), args.repeat)
        deployed = sum(1 for d in report.deployments if d.active)
        print(
            summary("impact of " + POPULAR, times)
            + f": {len(report.versions)} versions, {deployed} active deployments, "
            f"teams {report.teams}, partial={report.partial}"
        )
        rng = random.Random(7)
        picks = [
            f"model:{team_of(m)}/model-{m:05d}@{rng.randrange(1, args.versions + 1)}"
            for m in (rng.randrange(args.models) for _ in range(args.repeat * 4))
        ]
        upstream: list[float] = []
        for ref in picks:
            began = time.perf_counter()
            graph = registry.lineage(ref, direction="upstream")
            upstream.append((time.perf_counter() - began) * 1000)
        print(summary("upstream of one version", upstream) + f": {len(graph.nodes)} nodes")
        times, _ = timed(lambda: registry.impact("ol-dataset:s3://lake/popular"), args.repeat)
        print(summary("impact of the popular dataset's OpenLineage identity", times))
        times, _ = timed(lambda: prov_json(registry.lineage(picks[0], direction="upstream")), 20)
        print(summary("PROV-JSON of one version's provenance", times))
        times, one = timed(lambda: registry.lineage_report("model:team-03/model-00003"), 20)
        print(summary("completeness of one model", times) + f": {one.summary.versions} versions")
        times, team = timed(lambda: registry.lineage_report("team:team-03"), 3)
        print(summary("completeness of a team", times) + f": {team.summary.versions:,} versions")
        times, whole = timed(lambda: registry.lineage_report(), 3)
        print(summary("completeness of the registry", times) + f": {whole.summary.versions:,}")
    finally:
        registry.close()


if __name__ == "__main__":
    main()
