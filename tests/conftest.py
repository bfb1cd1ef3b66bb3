"""Shared fixtures: real SQLite in a temporary folder, real PostgreSQL when it is available.

PostgreSQL tests need ``CAIRN_TEST_POSTGRES_URL`` (an admin URL such as
``postgresql://postgres@127.0.0.1:5432/postgres``); each test gets its own database, cloned
from a migrated template and dropped afterwards. Without the variable they skip, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cairn.local import LocalRegistry
from cairn.store.engine import make_engine, resolve_url
from cairn.store.migrate import upgrade

PG_ADMIN_URL = os.environ.get("CAIRN_TEST_POSTGRES_URL")
PG_SKIP = "PostgreSQL tests need CAIRN_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"

RegistryFactory = Callable[[str], LocalRegistry]


def _pg_admin() -> object:
    assert PG_ADMIN_URL
    return create_engine(resolve_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    assert PG_ADMIN_URL
    return resolve_url(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database)


@pytest.fixture(scope="session")
def pg_template(worker_id: str) -> Iterator[str]:
    """A migrated template database, made once per test worker."""
    if not PG_ADMIN_URL:
        pytest.skip(PG_SKIP)
    name = f"cairn_tpl_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"cairn_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield _pg_url(name)
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return resolve_url(tmp_path / "registry")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty registry database, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def open_registry(db_url: str) -> Iterator[RegistryFactory]:
    """Open the test database as a given actor; every registry opened is closed afterwards."""
    opened: list[LocalRegistry] = []

    def factory(actor: str = "user:tester") -> LocalRegistry:
        registry = LocalRegistry(db_url, actor=actor)
        opened.append(registry)
        return registry

    yield factory
    for registry in opened:
        registry.close()


@pytest.fixture
def registry(open_registry: RegistryFactory) -> LocalRegistry:
    return open_registry("user:tester")
