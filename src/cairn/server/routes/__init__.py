"""REST resources under ``/api/v1``, one module per area; each route declares its access."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import Depends, Request, Response

from cairn.core.entities import Record
from cairn.core.errors import PreconditionFailed

if TYPE_CHECKING:
    from cairn.local import LocalRegistry


# Dependencies that do no I/O are ``async def``: FastAPI would run a plain ``def`` in the
# thread pool, a hand-off per dependency per request that costs more than their work.
async def _registry(request: Request) -> LocalRegistry:
    registry: LocalRegistry = request.app.state.cairn.registry_for(request)
    return registry


Reg = Annotated["LocalRegistry", Depends(_registry)]


async def _if_match(request: Request) -> int | None:
    """The revision named by ``If-Match`` (``"3"`` or ``W/"3"``); ``*`` or none: no condition."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed(
            f"If-Match {header!r} names no revision of this entity",
            hint='send the ETag of your last read, e.g. If-Match: "3"',
        )
    return int(tag)


IfMatch = Annotated[int | None, Depends(_if_match)]
RecordT = TypeVar("RecordT", bound=Record)


def tagged(response: Response, record: RecordT) -> RecordT:
    """Give the response the entity's ETag: its revision, which every change bumps."""
    response.headers["ETag"] = f'"{record.revision}"'
    return record
