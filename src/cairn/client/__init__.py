"""The remote registry: the ``Registry`` protocol over the REST API (httpx)."""

from cairn.client.http import HttpRegistry

__all__ = ["HttpRegistry"]
