"""Printing results: JSON for machines (``--json``), Rich tables and panels for people.

Rich is imported inside the functions so that ``cairn --help`` does not pay for it twice.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

Row = Sequence[object]


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def dump(result: BaseModel | Sequence[BaseModel]) -> None:
    """Print Pydantic result(s) as JSON (``model_dump(mode="json")``)."""
    from pydantic import BaseModel

    if isinstance(result, BaseModel):
        data: Any = result.model_dump(mode="json")
    else:
        data = [item.model_dump(mode="json") for item in result]
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def text(value: object) -> str:
    """A cell: times to the second, lists joined, empty values as a dash."""
    if value is None or value == [] or value == {}:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(getattr(value, "value", value))


def table(title: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Print a Rich table; an empty one says so instead."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    count = 0
    for row in rows:
        grid.add_row(*(text(cell) for cell in row))
        count += 1
    if count:
        console().print(grid)
    else:
        console().print(f"[dim]{title}: none[/dim]")


def panel(title: str, fields: Mapping[str, object]) -> None:
    """Print one record as a titled panel of ``field  value`` lines."""
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in fields.items():
        grid.add_row(key, text(value))
    console().print(Panel(grid, title=title, title_align="left", expand=False))


def done(message: str) -> None:
    """Confirm a change in one line."""
    console().print(f"[green]✓[/green] {message}")


def emit(
    result: BaseModel | Sequence[BaseModel],
    as_json: bool,
    render: Callable[[], None],
) -> None:
    """Print ``result`` as JSON when asked, otherwise through ``render``."""
    if as_json:
        dump(result)
    else:
        render()
