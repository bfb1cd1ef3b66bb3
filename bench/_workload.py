"""The shared benchmark workload: deterministic names, digests, tags and metrics.

Standard library only: the MLflow half of ``mlflow_compare.py`` imports this from MLflow's
own virtual environment, where Cairn is not installed.
"""

from __future__ import annotations

import hashlib

TEAM = "bench"
DATASETS = ("bench/train", "bench/holdout")
DATASET_VERSIONS = 3


def model_name(i: int, models: int) -> str:
    """The model version ``i`` belongs to: versions are spread round-robin over models."""
    return f"model-{i % models:04d}"


def digest_of(*parts: object) -> str:
    """A sha256 digest of deterministic bytes, as an artifact would have."""
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def artifact_uri(i: int, models: int) -> str:
    return f"s3://bench-artifacts/{model_name(i, models)}/{i}/model.pkl"


def tag_pairs(i: int) -> dict[str, str]:
    """Five key/value tags (MLflow's shape); Cairn gets them as ``key=value`` strings."""
    return {
        "team": "fraud" if i % 2 else "growth",
        "family": ("gbm", "linear", "nn")[i % 3],
        "trigger": "schedule" if i % 5 else "manual",
        "batch": f"b{i // 1000}",
        "stage": "release" if i % 10 == 0 else "candidate",
    }


def tags(i: int) -> list[str]:
    return [f"{k}={v}" for k, v in tag_pairs(i).items()]


def inputs(i: int) -> list[str]:
    """Two dataset-version inputs."""
    return [f"dataset:{d}@{i % DATASET_VERSIONS + 1}" for d in DATASETS]


def metrics(i: int) -> list[dict[str, object]]:
    """Three metrics: two on the training data, one on a slice of it."""
    auc = 0.7 + (i * 37 % 290) / 1000
    ds = inputs(i)[0]
    return [
        {"name": "auc", "value": auc, "dataset": ds},
        {"name": "f1", "value": auc - 0.1, "dataset": ds},
        {"name": "auc", "value": auc - 0.02, "dataset": ds, "slice": "region=eu"},
    ]
