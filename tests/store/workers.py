"""Process entry points for the concurrency tests (importable by spawned children)."""

from __future__ import annotations

from cairn.local import LocalRegistry


def digest(worker: int, n: int) -> str:
    return "sha256:" + f"{worker:032x}{n:032x}"


def register_many(url: str, worker: int, count: int) -> list[int]:
    """Register ``count`` versions of fraud/churn; return the version numbers received."""
    with LocalRegistry(url, actor=f"user:worker-{worker}") as reg:
        return [
            reg.register_version(
                "fraud/churn", f"s3://models/churn/{worker}/{n}", digest(worker, n)
            ).version
            for n in range(count)
        ]


def register_same(url: str, worker: int) -> int:
    """Register one artifact under a shared idempotency key."""
    with LocalRegistry(url, actor=f"user:worker-{worker}") as reg:
        return reg.register_version(
            "fraud/churn", "s3://models/churn/shared", digest(0, 0), idempotency_key="shared"
        ).version
