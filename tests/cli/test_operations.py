"""Deployments, the as-of query, evaluations, history and the log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.conftest import Cli


def test_serving_at_a_moment_names_version_and_training_data(seeded: Cli) -> None:
    deployed = seeded("deploy", "fraud/churn@1", "prod", "--at", "2025-01-01T00:00:00Z")
    assert deployed.code == 0, deployed.stderr
    serving = seeded("serving", "prod", "--at", "2025-06-01T00:00:00Z", "--json").json()
    assert [s["version"]["id"] for s in serving] == ["model:fraud/churn@1"]
    assert serving[0]["version"]["inputs"][0]["id"] == "dataset:fraud/customers@1"
    assert seeded("serving", "prod", "--at", "2024-06-01", "--json").json() == []
    assert "dataset:fraud/customers@1" in seeded("serving", "prod").stdout


def test_evaluate_records_metrics(seeded: Cli) -> None:
    outcome = seeded("evaluate", "fraud/churn@1", "--metric", "f1=0.8", "--slice", "region=eu")
    assert outcome.code == 0, outcome.stderr
    assert "f1=0.8" in outcome.stdout


def test_history_lists_events_in_order(seeded: Cli) -> None:
    events = seeded("history", "model:fraud/churn", "--json").json()
    assert [e["type"] for e in events] == ["model.created", "model_version.registered"]
    assert all(e["actor"] == "user:tester" for e in events)


def test_log_check_ok_exits_zero(seeded: Cli) -> None:
    outcome = seeded("log", "check", "--json")
    assert outcome.code == 0
    assert outcome.json()["first_problem"] is None


def test_log_check_names_first_bad_event(seeded: Cli, home: Path) -> None:
    # An attacker with file access can drop the append-only trigger; the hashes still tell.
    with sqlite3.connect(home / "registry.db") as db:
        db.execute("DROP TRIGGER events_no_update")
        db.execute("UPDATE events SET actor = 'user:mallory' WHERE seq = 2")
    outcome = seeded("log", "check")
    assert outcome.code == 1
    assert "seq 2" in outcome.stderr


def test_rebuild_and_db_upgrade(seeded: Cli) -> None:
    report = seeded("admin", "rebuild", "--json").json()
    assert report["tables"]["models"] == 1
    assert seeded("db", "upgrade").code == 0
