"""The Alembic migrations produce exactly the schema ``tables.metadata`` describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from cairn.local import LocalRegistry
from cairn.store.engine import make_engine
from cairn.store.migrate import SCHEMA_HEAD, current_revision, upgrade
from cairn.store.tables import metadata
from tests.store.rich import build_rich_registry


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", "cairn.store:migrations")
    return ScriptDirectory.from_config(config)


def test_schema_head_is_alembics_head() -> None:
    heads = _script().get_heads()
    assert heads == [SCHEMA_HEAD]


def test_migration_chain_is_linear() -> None:
    revisions = list(_script().walk_revisions())
    assert len({r.revision for r in revisions}) == len(revisions)
    assert sum(1 for r in revisions if r.down_revision is None) == 1


def test_migrated_schema_matches_metadata(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert upgrade(engine) == SCHEMA_HEAD
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert set(metadata.tables) <= tables
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert upgrade(engine) == SCHEMA_HEAD
        assert upgrade(engine) == SCHEMA_HEAD
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
    with LocalRegistry(db_url, actor="user:tester") as reg:
        reg.create_team("fraud")
        assert reg.upgrade_database() == SCHEMA_HEAD
        assert [t.name for t in reg.list_teams()] == ["fraud"]
        assert reg.check_log().ok


def test_fresh_sqlite_file_starts_unmigrated(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


def test_0010_back_fills_the_match_key_of_openlineage_datasets(sqlite_url: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from cairn.core.lineage import NodeKind, external_key

    engine = make_engine(sqlite_url)
    key = external_key(NodeKind.OL_DATASET, "postgres://db:5432", "sales.public.orders")
    job = external_key(NodeKind.OL_JOB, "airflow", "orders")
    try:
        assert upgrade(engine, "0009") == "0009"
        with engine.begin() as conn:
            insert = text(
                "INSERT INTO lineage_nodes (id, kind, namespace, name, facets, first_seen,"
                " last_seen) VALUES (:id, :kind, :namespace, :name, '{}', :at, :at)"
            )
            at = datetime(2026, 11, 1, tzinfo=UTC)
            conn.execute(
                insert,
                [
                    {
                        "id": key,
                        "kind": "ol-dataset",
                        "namespace": "postgres://db:5432",
                        "name": "sales.public.orders",
                        "at": at,
                    },
                    {
                        "id": job,
                        "kind": "ol-job",
                        "namespace": "airflow",
                        "name": "orders",
                        "at": at,
                    },
                ],
            )
        assert upgrade(engine) == SCHEMA_HEAD
        with engine.connect() as conn:
            found = dict(conn.execute(text("SELECT id, match_key FROM lineage_nodes")).all())
        assert found == {key: "public/orders", job: None}
    finally:
        engine.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = Config()
    config.set_main_option("script_location", "cairn.store:migrations")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_0011_back_fills_what_reads_of_versions_return(db_url: str) -> None:
    """Versions read the same after their views are dropped (back to 0010) and back-filled."""
    with LocalRegistry(db_url, actor="user:tester") as reg:
        build_rich_registry(reg)
        models = [m.id.removeprefix("model:") for m in reg.list_models()]
        before = [v.model_dump() for m in models for v in reg.list_versions(m)]
    assert any(v["metrics"] and v["inputs"] for v in before)
    assert any(m["run"] for v in before for m in v["metrics"])
    engine = make_engine(db_url)
    try:
        _downgrade(engine, "0010")
        assert current_revision(engine) == "0010"
        assert upgrade(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
    with LocalRegistry(db_url, actor="user:tester") as reg:
        after = [v.model_dump() for m in models for v in reg.list_versions(m)]
    assert after == before
