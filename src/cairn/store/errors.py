"""The one seam where database errors become Cairn's errors.

SQLAlchemy wraps driver errors (``DBAPIError.orig``); the hot path in :mod:`cairn.store.driver`
raises the driver's own. Both are classified here by the driver's DB-API classes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

from cairn.core.canonical import nul_refused
from cairn.core.errors import CairnError, Conflict, StorageUnavailable


def describe(exc: BaseException) -> str:
    """The first line of what the database said."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original)
    return text.splitlines()[0] if text else type(original).__name__


def _about_nul(message: str) -> bool:
    return "NUL (0x00)" in message or "\\u0000 cannot be converted to text" in message


def translate(exc: BaseException, dbapi: Any) -> CairnError:
    """Map a SQLAlchemy or driver error onto Conflict or StorageUnavailable."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = describe(exc)
    if isinstance(original, dbapi.DataError) and _about_nul(str(original)):
        # psycopg refuses such text before PostgreSQL sees it, and PostgreSQL refuses it in
        # JSON; the event log refuses it on SQLite (cairn.store.eventlog): one answer for all.
        return nul_refused()
    if isinstance(original, dbapi.IntegrityError):
        return Conflict(f"the change conflicts with the registry's state: {detail}")
    if isinstance(original, dbapi.OperationalError):
        return StorageUnavailable(
            f"the database is unavailable: {detail}", hint="check the registry URL and retry"
        )
    return StorageUnavailable(f"the database refused the operation: {detail}")
