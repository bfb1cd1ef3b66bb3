"""Tokens this process has verified, trusted again only while nothing about access changed.

An entry is used only if the database's access stamp (:mod:`cairn.store.access_stamp`) still
reads as it did before the token was checked, the token has not expired since, the secret
presented hashes to the one checked, and the entry is younger than a minute (a backstop for a
change made by hand in the database, which bumps no stamp). Refusals are never kept: a wrong
or revoked token is looked up every time. Where there is no stamp (PostgreSQL), nothing is kept.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, replace
from datetime import datetime

from cairn.core.access import Principal
from cairn.store.access_stamp import AccessStamp

TRUST_S = 60.0
_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Verified:
    stamp: bytes
    digest: str  # the keyed hash of the secret that was checked
    principal: Principal
    expires_at: datetime | None
    last_used_at: datetime | None
    trusted_until: float  # time.monotonic()


class VerifiedTokens:
    def __init__(self, stamp: AccessStamp | None) -> None:
        self._stamp = stamp
        self._kept: dict[str, Verified] = {}

    def stamp(self) -> bytes | None:
        """Read before a check: an entry kept under it is void once anything changes after."""
        return self._stamp.read() if self._stamp is not None else None

    def get(self, token_id: str, digest: str, now: datetime) -> Verified | None:
        if self._stamp is None or (kept := self._kept.get(token_id)) is None:
            return None
        if (
            kept.stamp != self._stamp.read()
            or time.monotonic() >= kept.trusted_until
            or (kept.expires_at is not None and now >= kept.expires_at)
        ):
            self._kept.pop(token_id, None)
            return None
        return kept if hmac.compare_digest(kept.digest, digest) else None

    def keep(
        self,
        token_id: str,
        stamp: bytes | None,
        digest: str,
        principal: Principal,
        *,
        expires_at: datetime | None,
        last_used_at: datetime | None,
    ) -> None:
        if stamp is None:
            return
        if len(self._kept) >= _LIMIT:
            self._kept.clear()
        until = time.monotonic() + TRUST_S
        self._kept[token_id] = Verified(stamp, digest, principal, expires_at, last_used_at, until)

    def used(self, token_id: str, at: datetime) -> None:
        """Remember that the token's last use was recorded at ``at``."""
        kept = self._kept.get(token_id)
        if kept is not None:
            self._kept[token_id] = replace(kept, last_used_at=at)
