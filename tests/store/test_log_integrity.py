"""The log proves its own integrity: an edited event row is named by its sequence number."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cairn.local import LocalRegistry
from tests.store.rich import build_rich_registry

Corruption = Callable[[dict[str, Any]], tuple[str, tuple[Any, ...], str]]


def _flip(hex_hash: str) -> str:
    return ("0" if hex_hash[0] != "0" else "1") + hex_hash[1:]


def _edit_payload(row: dict[str, Any]) -> tuple[str, tuple[Any, ...], str]:
    # A canonical edit: the row still looks well-formed, only its hash gives it away.
    payload = json.loads(row["payload"])
    payload["digest"] = "sha256:" + "f" * 64
    edited = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert edited != row["payload"]
    return "payload", (edited,), "leaf hash"


def _reformat_payload(row: dict[str, Any]) -> tuple[str, tuple[Any, ...], str]:
    return "payload", (row["payload"].replace(":", ": ", 1),), "canonical"


def _edit_leaf(row: dict[str, Any]) -> tuple[str, tuple[Any, ...], str]:
    return "leaf_hash", (_flip(row["leaf_hash"]),), "leaf hash"


def _edit_chain(row: dict[str, Any]) -> tuple[str, tuple[Any, ...], str]:
    return "chain_hash", (_flip(row["chain_hash"]),), "chain hash"


def _edit_root(row: dict[str, Any]) -> tuple[str, tuple[Any, ...], str]:
    return "root_hash", (_flip(row["root_hash"]),), "root"


CORRUPTIONS: dict[str, Corruption] = {
    "payload": _edit_payload,
    "payload-format": _reformat_payload,
    "leaf_hash": _edit_leaf,
    "chain_hash": _edit_chain,
    "root_hash": _edit_root,
}


def _target(reg: LocalRegistry) -> int:
    """The seq of a model-version registration in the middle of the log."""
    history = reg.history("model:fraud/churn@1")
    registered = [e for e in history if e.type == "model_version.registered"]
    assert len(registered) == 1
    seq = registered[0].seq
    assert 1 < seq < reg.log_head().size
    return seq


def _row(reg: LocalRegistry, seq: int) -> dict[str, Any]:
    from sqlalchemy import select

    from cairn.store.tables import events

    with reg.store.read() as conn:
        return dict(conn.execute(select(events).where(events.c.seq == seq)).mappings().one())


def _seqs(reg: LocalRegistry) -> list[int]:
    from sqlalchemy import select

    from cairn.store.tables import events

    with reg.store.read() as conn:
        return list(conn.execute(select(events.c.seq).order_by(events.c.seq)).scalars())


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    assert path
    return path


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def rich(registry: LocalRegistry) -> LocalRegistry:
    build_rich_registry(registry)
    return registry


def test_realistic_log_checks_out(rich: LocalRegistry) -> None:
    report = rich.check_log()
    head = rich.log_head()
    assert report.ok, report.first_problem
    assert report.checked == head.size > 30
    assert report.head == head
    assert _seqs(rich) == list(range(1, head.size + 1))
    # Every event's stored root is the tree root at that point; the last one is the head's.
    events = rich.history("model:fraud/churn", limit=1000)
    assert events
    assert [e.seq for e in events] == sorted(e.seq for e in events)


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_sqlite_corruption_is_named_by_seq(sqlite_url: str, kind: str) -> None:
    with LocalRegistry(sqlite_url, actor="user:tester") as reg:
        build_rich_registry(reg)
        seq = _target(reg)
        column, values, expected = CORRUPTIONS[kind](_row(reg, seq))

    with closing(sqlite3.connect(_sqlite_path(sqlite_url), isolation_level=None)) as db:
        # The append-only triggers refuse an ordinary edit...
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (*values, seq))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM events WHERE seq = ?", (seq,))
        # ...so an attacker with the file drops them first.
        db.execute("DROP TRIGGER events_no_update")
        db.execute("DROP TRIGGER events_no_delete")
        db.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (*values, seq))
        # SQLite itself sees nothing wrong.
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    with LocalRegistry(sqlite_url, actor="user:tester") as reg:
        report = reg.check_log()
        assert not report.ok
        assert report.first_problem is not None
        assert report.first_problem.seq == seq
        assert expected in report.first_problem.problem
        assert report.checked == seq - 1


def test_sqlite_deleted_event_is_a_gap(sqlite_url: str) -> None:
    with LocalRegistry(sqlite_url, actor="user:tester") as reg:
        build_rich_registry(reg)
        seq = _target(reg)
    with closing(sqlite3.connect(_sqlite_path(sqlite_url), isolation_level=None)) as db:
        db.execute("DROP TRIGGER events_no_delete")
        db.execute("DELETE FROM events WHERE seq = ?", (seq,))
    with LocalRegistry(sqlite_url, actor="user:tester") as reg:
        problem = reg.check_log().first_problem
        assert problem is not None
        assert problem.seq == seq + 1
        assert "gap" in problem.problem


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_postgres_corruption_is_named_by_seq(pg_url: str, kind: str) -> None:
    with LocalRegistry(pg_url, actor="user:tester") as reg:
        build_rich_registry(reg)
        seq = _target(reg)
        column, values, expected = CORRUPTIONS[kind](_row(reg, seq))
        size = reg.log_head().size

    with psycopg.connect(_pg_dsn(pg_url), autocommit=True) as db:
        # The trigger refuses UPDATE, DELETE and TRUNCATE even for the owner.
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute(f"UPDATE events SET {column} = %s WHERE seq = %s", (*values, seq))
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute("DELETE FROM events WHERE seq = %s", (seq,))
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute("TRUNCATE events")
        assert db.execute("SELECT count(*) FROM events").fetchone() == (size,)
        # A superuser can switch the trigger off and edit the row.
        with db.transaction():
            db.execute("ALTER TABLE events DISABLE TRIGGER USER")
            db.execute(f"UPDATE events SET {column} = %s WHERE seq = %s", (*values, seq))
            db.execute("ALTER TABLE events ENABLE TRIGGER USER")

    with LocalRegistry(pg_url, actor="user:tester") as reg:
        report = reg.check_log()
        assert report.first_problem is not None
        assert report.first_problem.seq == seq
        assert expected in report.first_problem.problem
        assert report.checked == seq - 1


def test_log_head_tampering_is_caught(registry: LocalRegistry) -> None:
    build_rich_registry(registry)
    size = registry.log_head().size
    registry.store.run_raw("UPDATE log_state SET root_hash = :h", h="0" * 64)
    problem = registry.check_log().first_problem
    assert problem is not None
    assert problem.seq == size
    assert "head" in problem.problem
