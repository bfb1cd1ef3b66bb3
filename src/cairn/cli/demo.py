"""``cairn demo``: fill a registry with a small, realistic example estate to explore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli import output as out
from cairn.cli.context import open_registry, target

DB_FILES = ("registry.db", "registry.db-wal", "registry.db-shm")


def _folder() -> Path:
    from cairn.core.errors import ValidationFailed

    place = target()
    if "://" in place or Path(place).suffix in {".db", ".sqlite", ".sqlite3"}:
        raise ValidationFailed(
            f"--reset works on a registry folder, not {place!r}",
            field="--reset",
            hint="point --registry or CAIRN_HOME at a folder",
        )
    return Path(place)


def _reset() -> None:
    folder = _folder()
    for name in DB_FILES:
        (folder / name).unlink(missing_ok=True)


def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the registry database first (folder only).")
    ] = False,
) -> None:
    """Seed the registry with demo teams, models, datasets, runs and deployments.

    Refuses a registry that already has models unless --reset is given.
    """
    from rich.progress import Progress

    from cairn.core.errors import Conflict
    from cairn.demo import seed

    if reset:
        _reset()
    with open_registry() as registry:
        if registry.list_models(limit=1):
            raise Conflict(
                f"the registry at {target()} already has models",
                hint="use --reset to start it afresh",
            )
        with Progress(console=out.console(stderr=True), transient=True) as bar:
            task = bar.add_task("seeding", total=None)

            def progress(description: str, done: int, total: int) -> None:
                bar.update(task, description=description, completed=done, total=total)

            summary = seed(registry, progress=progress)
    counts = summary.model_dump(mode="json")
    rows = [(k.replace("_", " "), v) for k, v in counts.items() if isinstance(v, int)]
    out.done(f"demo registry at {target()}")
    out.table("It holds", ["what", "count"], rows)
