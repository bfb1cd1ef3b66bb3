"""Where an endpoint's blocking work runs: the route class every Cairn router uses.

FastAPI runs a plain ``def`` endpoint through anyio's thread pool. On a 2-core machine that
hand-off (a capacity limiter, a thread wake-up, the GIL passed back and forth) cost more CPU
than reading a version. :class:`CairnRoute` wraps each plain endpoint in a coroutine that asks
the process's :class:`~cairn.server.context.ServerContext` to run it: inline on the event loop
where that cannot stall it (bounded reads on SQLite), on the context's own executor otherwise.
Endpoints stay plain functions, so they read as what they are: calls into the registry.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

#: The keyword the wrapper asks FastAPI for when the endpoint takes no request of its own.
_REQUEST = "cairn_dispatch_request"


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
        return await request.app.state.cairn.run(request.method, endpoint, **values)

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
