"""Schema migrations through Alembic, run on first connect and by ``cairn db upgrade``.

Alembic is imported only when the schema is behind: opening an up-to-date registry costs one
query, which keeps CLI start-up fast.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from cairn.core.errors import StorageUnavailable
from cairn.store.errors import describe

#: The newest migration; tests/store/test_migrations.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0011"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; return the revision now in force."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "cairn.store:migrations")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(engine)


def ensure_current(engine: Engine) -> None:
    """Migrate if the schema is behind; a database that cannot be opened is StorageUnavailable."""
    try:
        if current_revision(engine) != SCHEMA_HEAD:
            upgrade(engine)
    except DBAPIError as exc:
        raise StorageUnavailable(
            f"cannot open the registry database: {describe(exc)}",
            hint="check the registry URL, and that the file is a Cairn registry",
        ) from None
