"""The writer process's side of a bulk import: a guarded batch is written whole or not at all."""

from __future__ import annotations

import io
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cairn.store.writer_process import Stale, WriterProcess, serve

GUARD = "SELECT size FROM log_state"


def _database(path: Path) -> str:
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE log_state (size INTEGER);"
        "INSERT INTO log_state VALUES (3);"
        "CREATE TABLE items (name TEXT UNIQUE);"
    )
    db.close()
    return str(path)


def _answers(path: str, *batches: Any) -> list[Any]:
    inbox = io.BytesIO(b"".join(pickle.dumps(b) for b in batches))
    outbox = io.BytesIO()
    serve(path, inbox, outbox)
    outbox.seek(0)
    answers = []
    while outbox.tell() < len(outbox.getvalue()):
        answers.append(pickle.load(outbox))
    return answers


def _items(path: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [name for (name,) in db.execute("SELECT name FROM items ORDER BY name")]


def test_a_batch_is_written_when_the_log_is_where_it_was_prepared(tmp_path: Path) -> None:
    path = _database(tmp_path / "r.db")
    insert = ("INSERT INTO items VALUES (?)", [("a",), ("b",)])
    advance = ("UPDATE log_state SET size = ?", [(5,)])
    assert _answers(path, (GUARD, 3, [insert, advance])) == [("ok", None)]
    assert _items(path) == ["a", "b"]


def test_a_batch_prepared_against_another_log_end_is_refused_whole(tmp_path: Path) -> None:
    path = _database(tmp_path / "r.db")
    insert = ("INSERT INTO items VALUES (?)", [("a",)])
    assert _answers(path, (GUARD, 2, [insert])) == [("stale", 3)]
    assert _items(path) == []


def test_a_failing_statement_rolls_the_whole_batch_back(tmp_path: Path) -> None:
    path = _database(tmp_path / "r.db")
    first = ("INSERT INTO items VALUES (?)", [("a",)])
    clash = ("INSERT INTO items VALUES (?)", [("b",), ("b",)])
    ok_after = ("INSERT INTO items VALUES (?)", [("c",)])
    outcome, (name, message) = _answers(path, (GUARD, 3, [first, clash]))[0]
    assert (outcome, name) == ("error", "IntegrityError")
    assert "UNIQUE" in message
    assert _items(path) == []
    # The process goes on serving after an error.
    assert _answers(path, (GUARD, 3, [first, clash]), (GUARD, 3, [ok_after]))[1] == ("ok", None)
    assert _items(path) == ["c"]


def test_the_process_answers_over_its_pipes(tmp_path: Path) -> None:
    path = _database(tmp_path / "r.db")
    writer = WriterProcess(path)
    try:
        writer.submit((GUARD, 3, [("INSERT INTO items VALUES (?)", [("a",)])]))
        writer.settle()
        writer.submit((GUARD, 2, [("INSERT INTO items VALUES (?)", [("b",)])]))
        with pytest.raises(Stale):
            writer.settle()
        writer.submit((GUARD, 3, [("INSERT INTO nowhere VALUES (?)", [("b",)])]))
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            writer.settle()
    finally:
        writer.close()
    assert _items(path) == ["a"]
