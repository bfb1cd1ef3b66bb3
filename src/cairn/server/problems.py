"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error leaves the server through here: Cairn's own errors keep their structured details
(field, rule, schema version, hint), FastAPI's request validation becomes the same shape, and
anything unexpected is a 500 whose body says nothing about the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cairn.core import errors

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://cairn.dev/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS: dict[type[errors.CairnError], int] = {
    errors.PreconditionFailed: 412,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.ValidationFailed: 422,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.VerificationFailed: 409,
    errors.StorageUnavailable: 503,
}


def problem(status: int, code: str, title: str, detail: str, **extensions: Any) -> JSONResponse:
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extensions.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="cairn"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: errors.CairnError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def _title(code: str) -> str:
    return code.replace("-", " ").capitalize()


async def _cairn_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.CairnError)
    details = {k: v for k, v in exc.details.items() if _jsonable(v)}
    return problem(status_of(exc), exc.code, _title(exc.code), exc.message, **details)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request", "type": "invalid"}
    # FastAPI says where the value was (body, query, path): the field name is what matters.
    loc = list(first["loc"])
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    where = ".".join(str(p) for p in loc) or "(request)"
    return problem(
        422,
        "validation-failed",
        "Validation failed",
        f"{where}: {first['msg']}",
        field=where,
        rule=first["type"],
        problems=len(problems),
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
        exc.status_code, "http-error"
    )
    return problem(exc.status_code, code, _title(code), str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal", "Internal error", "the server failed; see its log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.CairnError, _cairn_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)
