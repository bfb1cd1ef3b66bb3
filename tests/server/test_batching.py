"""Group commit of registrations: requests that queue behind a write share the next
transaction, and each still hears exactly its own outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cairn.core.entities import ModelVersion
from cairn.core.errors import NotFound, StorageUnavailable
from cairn.core.specs import VersionSpec
from cairn.local import LocalRegistry
from cairn.server.batching import RegistrationBatcher
from tests.live import served_registry


def _spec(model: str, n: int) -> VersionSpec:
    return VersionSpec(
        model=model, artifact_uri=f"s3://models/{model}/{n}/model.pkl", digest="sha256:" + "a" * 64
    )


@pytest.fixture
def batcher(registry: LocalRegistry) -> Iterator[RegistrationBatcher]:
    registry.create_team("fraud")
    registry.create_model("fraud/churn")
    registry.create_model("fraud/score")
    made = RegistrationBatcher(registry)
    yield made
    made.close()


async def _queued_behind_a_write(
    registry: LocalRegistry, batcher: RegistrationBatcher, specs: list[VersionSpec]
) -> list[ModelVersion | BaseException]:
    """Register ``specs[0]``, and the rest while its transaction waits for the write lock."""
    with registry.store.write("user:blocker"):  # the writer thread blocks on this lock
        first = asyncio.ensure_future(batcher.register("user:ci", specs[0]))
        while batcher.queued == 0:
            await asyncio.sleep(0)
        deadline = time.monotonic() + 10
        while batcher.queued and time.monotonic() < deadline:  # taken: the thread is waiting
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(batcher.register("user:ci", s)) for s in specs[1:]]
        while batcher.queued < len(rest):
            await asyncio.sleep(0)
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_registrations_queued_behind_a_write_share_one_transaction(
    registry: LocalRegistry, batcher: RegistrationBatcher
) -> None:
    specs = [_spec("fraud/churn" if n % 2 else "fraud/score", n) for n in range(7)]
    outcomes = asyncio.run(_queued_behind_a_write(registry, batcher, specs))
    versions = [o for o in outcomes if isinstance(o, ModelVersion)]
    assert len(versions) == 7
    # Each request got its own version back, numbered in the order the requests arrived.
    assert [v.artifact_uri for v in versions] == [s.artifact_uri for s in specs]
    assert [v.id for v in versions] == [
        "model:fraud/score@1",
        "model:fraud/churn@1",
        "model:fraud/score@2",
        "model:fraud/churn@2",
        "model:fraud/score@3",
        "model:fraud/churn@3",
        "model:fraud/score@4",
    ]
    # The six that queued were committed together: one transaction, one timestamp.
    stamps = {v.created_at for v in versions[1:]}
    assert len(stamps) == 1
    assert versions[0].created_at not in stamps
    for version in versions:
        events = registry.history(version.id)
        assert [(e.type, e.actor) for e in events] == [("model_version.registered", "user:ci")]


def test_a_refused_registration_fails_alone_in_its_group(
    registry: LocalRegistry, batcher: RegistrationBatcher
) -> None:
    specs = [_spec("fraud/churn", n) for n in range(5)]
    specs[2] = _spec("fraud/missing", 2)
    outcomes = asyncio.run(_queued_behind_a_write(registry, batcher, specs))
    assert isinstance(outcomes[2], NotFound)
    assert "fraud/missing" in str(outcomes[2])
    good = [o for o in outcomes if isinstance(o, ModelVersion)]
    assert [v.id for v in good] == [f"model:fraud/churn@{n}" for n in range(1, 5)]
    assert [v.version for v in registry.list_versions("fraud/churn")] == [1, 2, 3, 4]


def test_closing_writes_what_has_queued(registry: LocalRegistry) -> None:
    registry.create_team("fraud")
    registry.create_model("fraud/churn")
    batcher = RegistrationBatcher(registry)

    async def scenario() -> list[str]:
        pending = [
            asyncio.ensure_future(batcher.register("user:ci", _spec("fraud/churn", n)))
            for n in range(3)
        ]
        await asyncio.sleep(0)
        done = await asyncio.gather(*pending)
        batcher.close()
        with pytest.raises(StorageUnavailable, match="shutting down"):
            await batcher.register("user:ci", _spec("fraud/churn", 9))
        return [v.id for v in done]

    assert asyncio.run(scenario()) == [f"model:fraud/churn@{n}" for n in range(1, 4)]


def test_concurrent_registrations_over_http_are_each_answered_with_their_own_version(
    tmp_path: Path,
) -> None:
    clients, each = 12, 8
    with served_registry(tmp_path) as (url, token, _home):
        headers = {"Authorization": f"Bearer {token}"}

        def client(c: int) -> list[tuple[str, int, str]]:
            answered = []
            with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
                for n in range(each):
                    uri = f"s3://models/churn/{c}-{n}/model.pkl"
                    body = {
                        "model": "fraud/churn",
                        "artifact_uri": uri,
                        "digest": "sha256:" + "b" * 64,
                    }
                    response = http.post("/api/v1/versions", json=body)
                    assert response.status_code == 201, response.text
                    answered.append(
                        (uri, response.json()["version"], response.json()["artifact_uri"])
                    )
            return answered

        with ThreadPoolExecutor(clients) as pool:
            answers = [a for part in pool.map(client, range(clients)) for a in part]
        listed = httpx.get(
            f"{url}/api/v1/models/fraud/churn/versions", params={"limit": 1000}, headers=headers
        ).json()
    assert all(sent == got for sent, _, got in answers)
    numbers = sorted(version for _, version, _ in answers)
    assert numbers == list(range(1, clients * each + 1))  # gapless, none given twice
    assert {v["version"]: v["artifact_uri"] for v in listed} == {v: u for u, v, _ in answers}
