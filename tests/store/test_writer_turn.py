"""Writers to one SQLite file queue on one turn, across threads and across processes."""

from __future__ import annotations

import contextlib
import gc
import threading
from pathlib import Path

from cairn.store.writer_turn import WriterTurn, turn_for


def test_a_turn_held_elsewhere_is_not_free(tmp_path: Path) -> None:
    # Two turns on one file stand for two processes: flock excludes separate open files.
    mine, theirs = WriterTurn(tmp_path / "r.db-writers"), WriterTurn(tmp_path / "r.db-writers")
    with mine:
        assert not theirs.try_enter()
        with mine:  # re-entrant in the holding thread
            pass
        assert not theirs.try_enter()  # still held: the outer level has not left
    assert theirs.try_enter()
    theirs.__exit__(None, None, None)


def test_a_waiting_writer_gets_the_turn_when_it_is_let_go(tmp_path: Path) -> None:
    mine, theirs = WriterTurn(tmp_path / "lock"), WriterTurn(tmp_path / "lock")
    order: list[str] = []
    mine.__enter__()

    def other() -> None:
        with theirs:
            order.append("theirs")

    waiter = threading.Thread(target=other)
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive()  # still waiting
    order.append("mine")
    mine.__exit__(None, None, None)
    waiter.join(timeout=10)
    assert order == ["mine", "theirs"]


def test_threads_of_one_process_share_the_turn_of_a_file(tmp_path: Path) -> None:
    database = tmp_path / "registry.db"
    assert turn_for(database) is turn_for(tmp_path / "." / "registry.db")
    turn = turn_for(database)
    with turn:
        held_elsewhere = []
        thread = threading.Thread(target=lambda: held_elsewhere.append(not turn.try_enter()))
        thread.start()
        thread.join()
        assert held_elsewhere == [True]


def test_without_a_lock_file_the_turn_is_the_threads_alone(tmp_path: Path) -> None:
    turn = WriterTurn(tmp_path / "missing-folder" / "lock")  # cannot be created
    assert turn.try_enter()
    turn.__exit__(None, None, None)


def test_a_turn_let_go_by_every_registry_closes_its_file(tmp_path: Path) -> None:
    def lock_files_open() -> list[str]:
        targets = []
        for fd in Path("/proc/self/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                targets.append(str(fd.readlink()))
        return [t for t in targets if t.startswith(str(tmp_path))]

    turns = [turn_for(tmp_path / f"r{n}.db") for n in range(5)]
    for turn in turns:
        with turn:
            pass
    assert len(lock_files_open()) == 5
    del turns, turn
    gc.collect()
    assert lock_files_open() == []
