"""API tokens in a form leak scanners recognise, as GitHub's are.

A token is ``cairn_`` + a 12-character id + a 32-character secret + a 6-character CRC32 of
everything before it, all base62. The prefix lets secret scanners find a leaked token; the
checksum lets a server refuse a mistyped one without a database lookup; the id finds the
stored record, and only a keyed hash of the secret is ever stored::

    >>> token_id, text = new_token()
    >>> len(text), text.startswith("cairn_" + token_id)
    (56, True)
    >>> parse_token(text)[0] == token_id
    True
    >>> len(token_hash(b"k" * 32, parse_token(text)[1]))
    64
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

from cairn.core.errors import Unauthenticated

PREFIX = "cairn_"
ID_LENGTH = 12
SECRET_LENGTH = 32  # 62**32 is about 2**190: far beyond guessing
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits
TOKEN_LENGTH = len(PREFIX) + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE62 = frozenset(ALPHABET)


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    """The base62 CRC32 of ``body`` (the prefix, id and secret)."""
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def new_token() -> tuple[str, str]:
    """A fresh token: (its id, the full text to hand to its holder once)."""
    token_id = _random(ID_LENGTH)
    body = PREFIX + token_id + _random(SECRET_LENGTH)
    return token_id, body + checksum(body)


def _malformed(hint: str) -> Unauthenticated:
    # The token itself never goes into the error: errors end up in logs.
    return Unauthenticated("malformed token", hint=hint)


def parse_token(text: str) -> tuple[str, str]:
    """(id, secret) of a well-formed token; Unauthenticated("malformed token") otherwise."""
    if not text.startswith(PREFIX):
        raise _malformed(f"a Cairn token starts with {PREFIX!r}")
    if len(text) != TOKEN_LENGTH:
        raise _malformed(f"a Cairn token is {TOKEN_LENGTH} characters; was it copied whole?")
    rest = text[len(PREFIX) :]
    if not _BASE62.issuperset(rest):
        raise _malformed(f"a Cairn token has only ASCII letters and digits after {PREFIX!r}")
    body, check = text[:-CHECKSUM_LENGTH], text[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(checksum(body), check):
        raise _malformed("its checksum does not match: a character was changed or mistyped")
    return rest[:ID_LENGTH], rest[ID_LENGTH : ID_LENGTH + SECRET_LENGTH]


def token_hash(key: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of ``secret`` under the registry's token key: what is stored.

    Keyed, so a copy of the database alone does not let anyone test guesses offline.
    """
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
