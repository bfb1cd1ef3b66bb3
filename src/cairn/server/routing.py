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

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, APIRouter

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


def add_routes(
    app: FastAPI, router: APIRouter, *, prefix: str, responses: dict[int | str, Any]
) -> list[APIRoute]:
    """Add ``router``'s routes to the application itself, under ``prefix``; return them.

    Instead of ``include_router``: FastAPI keeps an included router as a wrapper that every
    request walks route by route through its effective contexts, then walks again to handle the
    one it chose. A route added to the application is matched by its regular expression alone,
    where the included router's matching was 13 % of a version read's samples (docs/benchmarks.md).
    The application's own dependencies (the access gate) apply to each route as it is added.
    """
    added: list[APIRoute] = []
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r} is not an API route: add it to the application itself")
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses={**responses, **route.responses},
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
        )
        made = app.router.routes[-1]
        assert isinstance(made, APIRoute)  # add_api_route appends one, of route_class_override
        added.append(made)
    return added
