"""``driver.insert_values``: many rows in a few multi-row statements, in order, all or none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select

from cairn.core.errors import CairnError
from cairn.local import LocalRegistry
from cairn.store import tables as t
from cairn.store.driver import insert_values

_COLUMNS = ("at", "principal", "method", "path", "action", "team", "outcome", "status")
_APPEND = insert(t.access_log).values({name: bindparam(name) for name in _COLUMNS})
_START = datetime(2026, 1, 1, tzinfo=UTC)


def _rows(count: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "at": _START + timedelta(seconds=n),
            "principal": f"user:u{n}" if n % 3 else None,
            "method": "GET",
            "path": f"/api/v1/models/{n}",
            "action": "read",
            "team": None,
            "outcome": "allowed",
            "status": 200,
        }
        for n in range(start, start + count)
    ]


@pytest.mark.parametrize("count", [1, 63, 64, 65, 127, 200])
def test_every_row_arrives_in_order_with_its_values(db_url: str, count: int) -> None:
    with LocalRegistry(db_url, actor="user:tester") as reg:
        with reg.store.write_unlogged() as conn:
            insert_values(conn, _APPEND, _rows(count))
        with reg.store.read() as conn:
            stored = conn.execute(select(t.access_log).order_by(t.access_log.c.id)).all()
    assert [r.path for r in stored] == [f"/api/v1/models/{n}" for n in range(count)]
    assert [r.at for r in stored] == [_START + timedelta(seconds=n) for n in range(count)]
    assert [r.principal for r in stored] == [f"user:u{n}" if n % 3 else None for n in range(count)]
    assert {(r.method, r.status, r.team) for r in stored} == {("GET", 200, None)}


def test_no_rows_writes_nothing(sqlite_url: str) -> None:
    with LocalRegistry(sqlite_url, actor="user:tester") as reg:
        with reg.store.write_unlogged() as conn:
            insert_values(conn, _APPEND, [])
        with reg.store.read() as conn:
            assert conn.execute(select(t.access_log)).all() == []


def test_a_row_that_breaks_a_constraint_leaves_none_of_the_batch(db_url: str) -> None:
    rows = _rows(100)
    rows[90]["outcome"] = "maybe"  # the table's check refuses it
    with LocalRegistry(db_url, actor="user:tester") as reg:
        with pytest.raises(CairnError), reg.store.write_unlogged() as conn:
            insert_values(conn, _APPEND, rows)
        with reg.store.read() as conn:
            assert conn.execute(select(t.access_log)).all() == []


def test_a_statement_that_is_not_a_one_row_insert_is_refused(sqlite_url: str) -> None:
    with (
        LocalRegistry(sqlite_url, actor="user:tester") as reg,
        reg.store.write_unlogged() as conn,
        pytest.raises(ValueError, match="VALUES"),
    ):
        insert_values(conn, select(t.access_log.c.id), _rows(2))
