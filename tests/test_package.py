from __future__ import annotations

import subprocess
import sys

import cairn


def test_public_names_resolve() -> None:
    for name in cairn.__all__:
        assert getattr(cairn, name) is not None, name


def test_registry_protocol_lists_the_whole_embedded_surface() -> None:
    from cairn.core.registry import Registry
    from cairn.local import LocalRegistry

    protocol = {n for n in vars(Registry) if not n.startswith("_")}
    embedded = {n for n in vars(LocalRegistry) if not n.startswith("_")}
    # Opening, schema upgrades, the access layer, per-request actors and the webhook delivery
    # worker are the embedded transport's own business (a server's, on the registry's machine).
    assert embedded - protocol == {
        "open",
        "upgrade_database",
        "access_service",
        "as_actor",
        "webhook_dispatcher",
    }
    assert protocol <= embedded


def test_importing_cairn_loads_no_database_code() -> None:
    probe = (
        "import sys, cairn; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
