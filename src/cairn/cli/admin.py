"""``cairn init``, ``cairn db`` and ``cairn admin``: creating, migrating and repairing."""

from __future__ import annotations

import typer

from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry, target

db = typer.Typer(help="Database schema.", no_args_is_help=True)
admin = typer.Typer(help="Maintenance.", no_args_is_help=True)


def init() -> None:
    """Create the registry (or migrate it to the current schema) and say where it is."""
    with open_registry() as registry:
        head = registry.log_head()
    out.done(f"registry ready at {target()} ({head.size} events in the log)")


@db.command("upgrade")
def upgrade() -> None:
    """Migrate the database schema to the newest revision."""
    from cairn.cli.context import actor
    from cairn.core.errors import ValidationFailed
    from cairn.local import LocalRegistry
    from cairn.store.engine import resolve_url

    if target().startswith(("http://", "https://")):
        raise ValidationFailed(
            "a database is upgraded on its own machine, not through a server",
            field="registry",
            rule="embedded",
            hint="run it with --registry set to the folder or database URL the server uses",
        )
    # Open without migrating, so the upgrade is this command's explicit act.
    registry = LocalRegistry(resolve_url(target()), actor=actor(), migrate=False)
    try:
        revision = registry.upgrade_database()
    finally:
        registry.close()
    out.done(f"database at revision {revision or '(none)'}")


@admin.command("rebuild")
def rebuild(as_json: o.Json = False) -> None:
    """Empty every read table and replay the whole log into them (one transaction)."""
    with open_registry() as registry:
        report = registry.rebuild()
    rows = sorted(report.tables.items())
    out.emit(
        report,
        as_json,
        lambda: out.table(f"Rebuilt from {report.events_replayed} events", ["table", "rows"], rows),
    )
