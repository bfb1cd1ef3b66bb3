"""Concurrent writers get gapless, unique version numbers and a gapless, valid log."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import select

from cairn.core.errors import Conflict
from cairn.local import LocalRegistry
from cairn.store.tables import events
from tests.store.workers import digest, register_many, register_same


def _prepare(url: str) -> None:
    with LocalRegistry(url, actor="user:setup") as reg:
        reg.create_team("fraud")
        reg.create_model("fraud/churn")


def _assert_consistent(url: str, expected_versions: int) -> None:
    with LocalRegistry(url, actor="user:checker") as reg:
        versions = []
        after = 0
        while page := reg.list_versions("fraud/churn", limit=100, after=after):
            versions.extend(v.version for v in page)
            after = page[-1].version
        assert versions == list(range(1, expected_versions + 1))
        assert len(set(versions)) == expected_versions
        assert reg.get_model("fraud/churn").latest_version == expected_versions
        head = reg.log_head()
        with reg.store.read() as conn:
            seqs = list(conn.execute(select(events.c.seq).order_by(events.c.seq)).scalars())
        assert seqs == list(range(1, head.size + 1))
        assert head.size == 2 + expected_versions
        report = reg.check_log()
        assert report.ok, report.first_problem
        assert report.checked == head.size


@pytest.mark.slow
def test_processes_on_one_sqlite_file(sqlite_url: str) -> None:
    workers, each = 8, 25
    _prepare(sqlite_url)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(
            pool.map(register_many, [sqlite_url] * workers, range(workers), [each] * workers)
        )
    received = sorted(v for r in results for v in r)
    assert received == list(range(1, workers * each + 1))
    for r in results:
        assert r == sorted(r)  # each worker sees its own versions increase
    _assert_consistent(sqlite_url, workers * each)


def _threads(count: int, task: Callable[[int], int]) -> list[int | Exception]:
    barrier = Barrier(count)

    def run(i: int) -> int | Exception:
        barrier.wait()
        try:
            return task(i)
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.postgres
def test_threads_on_postgres(pg_url: str) -> None:
    threads, each = 32, 8
    _prepare(pg_url)
    with LocalRegistry(pg_url, actor="user:shared") as shared:

        def task(worker: int) -> list[int]:
            return [
                shared.register_version(
                    "fraud/churn", f"s3://m/{worker}/{n}", digest(worker, n)
                ).version
                for n in range(each)
            ]

        barrier = Barrier(threads)

        def run(worker: int) -> list[int]:
            barrier.wait()
            return task(worker)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(run, range(threads)))
    received = sorted(v for r in results for v in r)
    assert received == list(range(1, threads * each + 1))
    _assert_consistent(pg_url, threads * each)


@pytest.mark.postgres
def test_threads_with_a_registry_each_on_postgres(pg_url: str) -> None:
    threads, each = 16, 4
    _prepare(pg_url)
    results = _threads(threads, lambda worker: len(register_many(pg_url, worker, each)))
    assert results == [each] * threads
    _assert_consistent(pg_url, threads * each)


def test_idempotent_registration_under_concurrency(db_url: str) -> None:
    _prepare(db_url)
    results = _threads(12, lambda worker: register_same(db_url, worker))
    assert results == [1] * 12
    _assert_consistent(db_url, 1)


def test_same_key_other_digests_under_concurrency(db_url: str) -> None:
    _prepare(db_url)
    with LocalRegistry(db_url, actor="user:shared") as reg:

        def task(worker: int) -> int:
            return reg.register_version(
                "fraud/churn", f"s3://m/{worker}", digest(worker, 1), idempotency_key="k"
            ).version

        results = _threads(8, task)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert winners == [1]
    assert all(isinstance(r, Conflict) for r in results if r not in winners)
    _assert_consistent(db_url, 1)


@pytest.mark.slow
def test_idempotent_registration_across_processes(sqlite_url: str) -> None:
    _prepare(sqlite_url)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        results = list(pool.map(register_same, [sqlite_url] * 4, range(4)))
    assert results == [1, 1, 1, 1]
    _assert_consistent(sqlite_url, 1)
