"""``cairn env``: the places models are deployed to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli import inputs
from cairn.cli import options as o
from cairn.cli import output as out
from cairn.cli.context import open_registry

if TYPE_CHECKING:
    from cairn.core.entities import Environment

app = typer.Typer(help="Deployment environments.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Environment name, e.g. prod-eu.")]


def render(env: Environment) -> None:
    out.panel(
        f"environment:{env.name}",
        {
            "stage": env.stage,
            "description": env.description,
            "python": env.runtime.python,
            "cuda": env.runtime.cuda,
            "image": env.runtime.image,
            "accelerator": env.hardware.accelerator,
            "accelerators": env.hardware.accelerators,
            "memory (GB)": env.hardware.memory_gb,
        },
    )


def _set(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@app.command("create")
def create(
    name: Name,
    stage: Annotated[str | None, typer.Option(help="development, staging or production.")] = None,
    description: o.Description = None,
    python: Annotated[str | None, typer.Option(help="Python version, e.g. 3.11.")] = None,
    cuda: Annotated[str | None, typer.Option(help="CUDA version.")] = None,
    image: Annotated[str | None, typer.Option(help="Container image.")] = None,
    accelerator: Annotated[str | None, typer.Option(help="e.g. nvidia-a100.")] = None,
    accelerators: Annotated[int | None, typer.Option(help="How many.")] = None,
    memory_gb: Annotated[float | None, typer.Option(help="Memory in GB.")] = None,
    metadata: o.Metadata = None,
    as_json: o.Json = False,
) -> None:
    """Create an environment. --stage is required (here or in --metadata)."""
    runtime = _set(python=python, cuda=cuda, image=image)
    hardware = _set(accelerator=accelerator, accelerators=accelerators, memory_gb=memory_gb)
    given = inputs.merge(
        metadata,
        ("name",),
        stage=stage,
        description=description,
        runtime=runtime,
        hardware=hardware,
    )
    with open_registry() as registry:
        env = registry.create_environment(name, **given)
    out.emit(env, as_json, lambda: out.done(f"created {env.id}"))


@app.command("list")
def list_(limit: o.Limit = 100, as_json: o.Json = False) -> None:
    """List environments."""
    with open_registry() as registry:
        envs = registry.list_environments(limit=limit)
    rows = [(e.name, e.stage, e.runtime.python, e.runtime.image, e.description) for e in envs]
    columns = ["name", "stage", "python", "image", "description"]
    out.emit(envs, as_json, lambda: out.table("Environments", columns, rows))


@app.command("show")
def show(name: Name, as_json: o.Json = False) -> None:
    """Show one environment."""
    with open_registry() as registry:
        env = registry.get_environment(name)
    out.emit(env, as_json, lambda: render(env))
