"""``Store.snapshot``: the lean read transaction of the hot read paths."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cairn.local import LocalRegistry
from cairn.store import tables as t
from cairn.store.driver import fetch

_TEAM_COUNT = select(func.count().label("n")).select_from(t.teams)


def _teams(conn: object) -> int:
    return int(fetch(conn, _TEAM_COUNT)[0].n)  # type: ignore[arg-type]


def test_a_snapshot_reads_one_state_while_others_commit(sqlite_url: str) -> None:
    with (
        LocalRegistry(sqlite_url, actor="user:reader") as reader,
        LocalRegistry(sqlite_url, actor="user:writer") as writer,
    ):
        writer.create_team("fraud")
        with reader.store.snapshot() as conn:
            assert _teams(conn) == 1
            writer.create_team("risk")  # committed by another connection meanwhile
            assert _teams(conn) == 1
        with reader.store.snapshot() as conn:
            assert _teams(conn) == 2


def test_a_failed_snapshot_leaves_nothing_open(db_url: str) -> None:
    with LocalRegistry(db_url, actor="user:tester") as reg:
        reg.create_team("fraud")

        def fail_inside() -> None:
            with reg.store.snapshot() as conn:
                assert _teams(conn) == 1
                raise RuntimeError("the caller failed")

        for _ in range(12):  # more failures than the pool has connections
            with pytest.raises(RuntimeError):
                fail_inside()
        reg.create_team("risk")  # a writer is not blocked by a read left open
        with reg.store.snapshot() as conn:
            assert _teams(conn) == 2
        assert [team.name for team in reg.list_teams()] == ["fraud", "risk"]
