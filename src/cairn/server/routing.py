"""Where an endpoint's blocking work runs: the route class every Cairn router uses.

FastAPI runs a plain ``def`` endpoint through anyio's thread pool. On a 2-core machine that
hand-off (a capacity limiter, a thread wake-up, the GIL passed back and forth) cost more CPU
than reading a version, and a third of a registration. :class:`CairnRoute` wraps each plain
endpoint in a coroutine that asks the process's :class:`~cairn.server.context.ServerContext`
to run it, inline on the event loop or on a thread, by the :class:`Work` it does: a GET is
a read unless declared otherwise (:func:`writes`), any other method a short write, and
endpoints that may run for seconds say so (:func:`slow`). Endpoints stay plain functions, so
they read as what they are: calls into the registry.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.routing import APIRoute

#: The keyword the wrapper asks FastAPI for when the endpoint takes no request of its own.
_REQUEST = "cairn_dispatch_request"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_READS = frozenset({"GET", "HEAD"})


class Work(StrEnum):
    READ = "read"  # bounded, writes nothing
    WRITE = "write"  # a short write
    SLOW = "slow"  # may take seconds: never on the event loop


def writes(endpoint: Endpoint) -> Endpoint:
    """Declare that a GET endpoint writes too (the audit flushes buffered records first)."""
    endpoint.__cairn_work__ = Work.WRITE  # type: ignore[attr-defined]
    return endpoint


def slow(endpoint: Endpoint) -> Endpoint:
    """Declare an endpoint whose work may take seconds (a rebuild, a batch of 1,000)."""
    endpoint.__cairn_work__ = Work.SLOW  # type: ignore[attr-defined]
    return endpoint


def work_of(method: str, endpoint: Callable[..., Any] | None = None) -> Work:
    declared: Work | None = getattr(endpoint, "__cairn_work__", None)
    return declared or (Work.READ if method in _READS else Work.WRITE)


def dispatched(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine that runs ``endpoint`` where its request's server context says."""
    if inspect.iscoroutinefunction(endpoint) or getattr(endpoint, "__cairn_dispatched__", False):
        return endpoint
    signature = inspect.signature(endpoint, eval_str=True)
    # FastAPI hands the request to one parameter annotated Request: the endpoint's own, if any.
    own = next((p.name for p in signature.parameters.values() if p.annotation is Request), None)

    @functools.wraps(endpoint)  # keeps the access declaration (__cairn_policy__) and the docs
    async def run(**values: Any) -> Any:
        request: Request = values[own] if own else values.pop(_REQUEST)
        work = work_of(request.method, endpoint)
        return await request.app.state.cairn.run(work, endpoint, **values)

    if own is None:
        if _REQUEST in signature.parameters:
            raise TypeError(f"{endpoint.__name__} may not take a parameter named {_REQUEST}")
        extra = inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        params = [*signature.parameters.values()]
        # Keyword-only parameters must come last; FastAPI passes everything by keyword.
        signature = signature.replace(
            parameters=[
                *(p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY),
                *(p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY),
                extra,
            ]
        )
    run.__signature__ = signature  # type: ignore[attr-defined]
    run.__cairn_dispatched__ = True  # type: ignore[attr-defined]
    return run


class CairnRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, dispatched(endpoint), **kwargs)
