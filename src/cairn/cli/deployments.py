"""``cairn deploy`` and ``cairn serving``: what runs where, now or at any past moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import Serving

Env = Annotated[str, typer.Argument(help="The environment name.")]


def deploy(
    version: Annotated[str, typer.Argument(help="The version, team/name@n.")],
    environment: Env,
    at: o.At = None,
    as_json: o.Json = False,
) -> None:
    """Deploy a model version to an environment (replacing that model's current deployment)."""
    with open_registry() as registry:
        done = registry.deploy(version, environment, at=inputs.moment(at))
    out.emit(
        done,
        as_json,
        lambda: out.done(
            f"deployed {done.version} to {done.environment} at {out.text(done.deployed_at)}"
        ),
    )


def render(environment: str, moment: datetime, found: list[Serving]) -> None:
    rows = [
        (
            s.version.id,
            s.deployment.deployed_at,
            s.deployment.deployed_by,
            [i.id for i in s.version.inputs],
            s.version.run,
        )
        for s in found
    ]
    columns = ["version", "deployed", "by", "trained on", "run"]
    out.table(f"Serving in {environment} at {out.text(moment)}", columns, rows)


def serving(environment: Env, at: o.At = None, as_json: o.Json = False) -> None:
    """What was serving in an environment at a moment, and what each model was trained on."""
    moment = inputs.moment(at) or datetime.now(UTC)
    with open_registry() as registry:
        found = registry.serving(environment, moment)
    out.emit(found, as_json, lambda: render(environment, moment, found))
