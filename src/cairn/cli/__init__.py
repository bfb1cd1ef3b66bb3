"""The ``cairn`` command line: one Typer group per module, assembled in :mod:`cairn.cli.app`.

Only this package reads the environment (``CAIRN_REGISTRY``, ``CAIRN_HOME``, ``CAIRN_ACTOR``).
Modules here import the registry, Pydantic and SQLAlchemy inside command functions, so that
``cairn --help`` starts fast.
"""
