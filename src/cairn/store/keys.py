"""The key under which API token secrets are hashed.

A configured key (``CAIRN_SECRET_KEY``, hex, read by the CLI or the server's settings and
passed in) wins; otherwise the registry keeps 32 random bytes in ``<home>/secret.key``, made
on first use and readable by its owner only::

    key = token_key(Path(".cairn"), configured=os.environ.get(SECRET_KEY_ENV))

Every process that issues or checks tokens for one registry must use the same key, so a
PostgreSQL registry served by several machines wants ``CAIRN_SECRET_KEY`` set on each.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from cairn.core.errors import StorageUnavailable, ValidationFailed

SECRET_KEY_ENV = "CAIRN_SECRET_KEY"  # noqa: S105  (where the key is read from)
KEY_FILENAME = "secret.key"
KEY_BYTES = 32


def _configured(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise ValidationFailed(
            f"{SECRET_KEY_ENV} is not a key of at least {KEY_BYTES} bytes in hex",
            field=SECRET_KEY_ENV,
            rule="key",
            hint=f"make one with: openssl rand -hex {KEY_BYTES}",
        )
    return key


def _create(path: Path) -> None:
    """Write a fresh key so that it appears whole or not at all, and never replaces another."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
            out.flush()
            os.fsync(out.fileno())
        # A hard link fails if the key exists: two processes starting at once keep one key.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077:
        raise StorageUnavailable(
            f"the token key {str(path)!r} is open to other users (mode {stat.filemode(mode)})",
            hint=f"run: chmod 600 {path}",
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise StorageUnavailable(
            f"the token key {str(path)!r} holds {len(key)} bytes, not {KEY_BYTES}",
            hint="restore it from a backup; a new key invalidates every issued token",
        )
    return key


def token_key(home: Path | None, *, configured: str | None = None) -> bytes:
    """The token-hashing key: ``configured`` (hex) if given, else ``home/secret.key``."""
    if configured:
        return _configured(configured)
    if home is None:
        raise StorageUnavailable(
            "no folder to keep the token key in",
            hint=f"set CAIRN_HOME, or {SECRET_KEY_ENV} to {2 * KEY_BYTES} hex digits",
        )
    path = home / KEY_FILENAME
    try:
        if not path.exists():
            _create(path)
        return _read(path)
    except OSError as exc:
        raise StorageUnavailable(
            f"cannot read or create the token key {str(path)!r}: {exc.strerror or exc}",
            hint="check the folder's permissions",
        ) from None
