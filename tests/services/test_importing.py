"""Bulk import: batches after the first are prepared here and written by a writer process on
SQLite (the same path runs in one process on PostgreSQL). Whichever way a batch went, the
registry must end as if every batch had been registered one after another."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from tests.store.rich import digest
from tests.store.test_rebuild import dump

import cairn
from cairn.core.errors import Conflict
from cairn.local import LocalRegistry


def _setup(reg: LocalRegistry) -> None:
    reg.create_team("fraud")
    reg.create_team("risk")
    reg.create_dataset("risk/customers")
    for n in (1, 2):
        reg.add_dataset_version("risk/customers", digest=digest(100 + n))
    for name in ("churn", "scorer"):
        reg.create_model(f"fraud/{name}")
    reg.create_run("fraud/train-1", status="succeeded")
    reg.register_schema("acme.card", 1, {"type": "object"})


def _records(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "model": f"fraud/{'churn' if n % 3 else 'scorer'}",
            "artifact_uri": f"s3://m/{n}",
            "digest": digest(n),
            "run": "fraud/train-1",
            "inputs": ["dataset:risk/customers@1", "dataset:risk/customers@2"],
            "metrics": [
                {"name": "auc", "value": 0.5 + n / 1000, "dataset": "risk/customers@2"},
                {"name": "auc", "value": 0.4, "dataset": "risk/customers@2", "slice": "eu"},
            ],
            "dependencies": {"libraries": ["numpy>=1.26"], "runtime": {"python": "3.11"}},
            "tags": ["imported", f"n-{n}"],
            "labels": {"source": "backfill"},
            "facets": {"acme.card/1": {"owner": "fraud", "n": n}},
            "idempotency_key": f"job-{n}",
        }
        | extra
        for n in range(count)
    ]


def _versions(reg: LocalRegistry, model: str) -> list[dict[str, Any]]:
    volatile = {"id", "created_at", "updated_at"}
    return [v.model_dump(exclude=volatile) for v in reg.list_versions(model, limit=1000)]


def test_a_pipelined_import_ends_as_one_big_batch_would(tmp_path: Path) -> None:
    piped = cairn.connect(tmp_path / "piped", actor="user:tester")
    single = cairn.connect(tmp_path / "single", actor="user:tester")
    for reg in (piped, single):
        _setup(reg)
    records = _records(50)

    report = piped.import_versions(records, batch_size=7)
    single.import_versions(records, batch_size=1000)

    assert (report.records, report.registered, report.batches) == (50, 50, 8)
    for model in ("fraud/churn", "fraud/scorer"):
        assert _versions(piped, model) == _versions(single, model)
    assert piped.get_model("fraud/churn").latest_version == 33
    assert piped.check_log().ok
    assert piped.log_head().size == single.log_head().size
    # The rows the batches wrote are the rows their events project to.
    before = dump(piped)
    piped.rebuild()
    assert dump(piped) == before


def test_a_write_between_batches_is_kept_and_no_version_is_lost(open_registry: Any) -> None:
    reg, other = open_registry(), open_registry("user:other")
    _setup(reg)
    written: list[int] = []

    def meanwhile(count: int) -> None:
        # Runs after each batch commits, while the next one is already prepared: another
        # writer's commit here makes that batch stale, so it must be registered again.
        written.append(count)
        other.create_team(f"team-{len(written)}")

    report = reg.import_versions(_records(40), batch_size=10, progress=meanwhile)

    assert (report.registered, report.batches) == (40, 4)
    assert written == [10, 10, 10, 10]
    assert [v.version for v in reg.list_versions("fraud/churn", limit=100)] == list(range(1, 27))
    assert [v.version for v in reg.list_versions("fraud/scorer", limit=100)] == list(range(1, 15))
    assert {t.name for t in reg.list_teams()} >= {"team-1", "team-2", "team-3", "team-4"}
    assert reg.check_log().ok
    # Each team was created between two batches: its event sits between theirs.
    team_seqs = [reg.history("team:team-1")[0].seq, reg.history("team:team-2")[0].seq]
    version_seqs = sorted(e.seq for e in reg.history("model:fraud/churn"))
    assert version_seqs[0] < team_seqs[0] < team_seqs[1] < version_seqs[-1]


def test_idempotency_keys_hold_across_batches_in_flight(registry: LocalRegistry) -> None:
    _setup(registry)
    records = _records(16)
    # Batch [4..7] is still being written while the batch repeating record 5 is prepared.
    repeat = records[5] | {}
    report = registry.import_versions([*records[:8], repeat, *records[8:12]], batch_size=4)
    assert (report.records, report.registered, report.unchanged) == (13, 12, 1)

    clash = records[14] | {"digest": digest(999)}
    with pytest.raises(Conflict) as info:
        registry.import_versions([*records[12:16], clash], batch_size=2)
    assert info.value.details["record"] == 4
    assert info.value.details["registered"] == 4
    assert registry.check_log().ok
    churn = registry.list_versions("fraud/churn", limit=100)
    assert registry.get_model("fraud/churn").latest_version == len(churn)


def test_an_import_interrupted_with_a_batch_in_flight_lets_the_writer_turn_go(
    tmp_path: Path,
) -> None:
    reg = cairn.connect(tmp_path / "r", actor="user:tester")
    _setup(reg)

    def records_then_failure() -> Any:
        yield from _records(25)
        raise RuntimeError("the source broke")  # not a Cairn error: nothing catches it

    with pytest.raises(RuntimeError):
        reg.import_versions(records_then_failure(), batch_size=10)
    # The batch in flight was still written, and another thread may write at once.
    assert (
        len(reg.list_versions("fraud/churn", limit=100))
        + len(reg.list_versions("fraud/scorer", limit=100))
        == 20
    )
    free: list[bool] = []

    def try_turn() -> None:
        with reg.store.writer_if_free() as taken:
            free.append(taken)

    other = threading.Thread(target=try_turn)
    other.start()
    other.join()
    assert free == [True]
