"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error leaves the server through here: Cairn's own errors keep their structured details
(field, rule, schema version, hint), FastAPI's request validation becomes the same shape, and
anything unexpected is a 500 whose body says nothing about the internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cairn.core import errors

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://cairn.dev/problems/"
MEDIA_TYPE = "application/problem+json"
#: On every response (the middleware adds it; the 500 handler runs outside the middleware).
NOSNIFF = (b"x-content-type-options", b"nosniff")

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


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extensions.items() if v is not None})
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = 'Bearer realm="cairn"'
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=sent or None)


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
    first: dict[str, Any] = dict(problems[0]) if problems else {}
    first.setdefault("loc", ())
    first.setdefault("msg", "invalid request")
    first.setdefault("type", "invalid")
    if first["type"] == "json_invalid":
        # FastAPI puts the character position where the field would be.
        at = first["loc"][-1] if first["loc"] else "?"
        reason = (first.get("ctx") or {}).get("error", first["msg"])
        return problem(
            422,
            "validation-failed",
            "Validation failed",
            f"the request body is not valid JSON: {reason} (at character {at})",
            field="(body)",
            rule="json_invalid",
        )
    # FastAPI says where the value was (body, query, path): the field name is what matters.
    loc = list(first["loc"])
    whole = "(body)" if loc[:1] == ["body"] else "(request)"
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    where = ".".join(str(p) for p in loc) or whole
    return problem(
        422,
        "validation-failed",
        "Validation failed",
        f"{where}: {first['msg']}",
        field=where,
        rule=first["type"],
        problems=len(problems),
    )


#: Problem codes for the HTTP errors Starlette and FastAPI raise themselves.
_HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http-error")
    detail = str(exc.detail)
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = "the request body could not be parsed: send UTF-8 JSON, nested modestly"
    # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
    return problem(exc.status_code, code, _title(code), detail, headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    nosniff = {NOSNIFF[0].decode(): NOSNIFF[1].decode()}
    return problem(
        500, "internal", "Internal error", "the server failed; see its log", headers=nosniff
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.CairnError, _cairn_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)
