"""What the OpenAPI document says about errors: every route may answer with a problem body.

Documented once for all routes as ``4XX`` and ``5XX`` responses of type
``application/problem+json``, so that generated clients and schemathesis know the shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """RFC 9457 problem details, with Cairn's extensions (field, rule, schema, hint, ...)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://cairn.dev/problems/not-found"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"description": "The request was refused: see the problem body", "content": _PROBLEM},
    "5XX": {"description": "The server or its database failed", "content": _PROBLEM},
}


def add_problem_schema(document: dict[str, Any]) -> dict[str, Any]:
    """Put the Problem schema into ``components`` (the responses refer to it by name)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return document
