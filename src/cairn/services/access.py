"""Principals, their roles, API tokens and the access log: the access layer's use cases.

Authorization itself is :func:`cairn.core.access.allowed`; this service says who a caller is
and what it holds. Changes to principals, grants and tokens are events like any other; a
token's secret is returned once and only its keyed hash is stored::

    access = AccessService(store, "user:root", token_key(home))
    issued = access.bootstrap("user:alice")          # the first registry admin
    access.authenticate(issued.token).is_admin       # True
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, get_args

from pydantic import ValidationError as PydanticError
from sqlalchemy import select

from cairn.core.access import Principal, RegistryRole, Role
from cairn.core.entities import (
    AccessPruned,
    AccessRecord,
    IssuedToken,
    Outcome,
    PrincipalInfo,
    TokenInfo,
)
from cairn.core.errors import (
    Conflict,
    NotFound,
    StorageUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from cairn.core.events import EventDraft, EventType, format_time
from cairn.core.names import canonical_name
from cairn.core.tokens import PREFIX, new_token, parse_token, token_hash
from cairn.services.base import MAX_SEQUENCE, Service, new_id, page_cursor, page_size
from cairn.services.verified_tokens import VerifiedTokens
from cairn.store import access as q
from cairn.store import lookup
from cairn.store import tables as t
from cairn.store.uow import Store, Tx

logger = logging.getLogger(__name__)

KINDS = ("user", "service")
#: Token use is written back at most this often: authentication is a read on the hot path.
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: Pruning never reaches the last day of access records.
MIN_ACCESS_RETENTION = timedelta(days=1)
_PRUNE_BATCH = 10_000
#: The event log subject of prunings: ``cairn history registry:access-log`` lists them.
ACCESS_LOG_SUBJECT = "registry:access-log"
#: One message for every token that does not authenticate, so none tells an id exists.
INVALID_TOKEN = "invalid token"  # noqa: S105  (a message, not a secret)
_INVALID_HINT = "the token is unknown, revoked or expired, or its holder is disabled"
# Compared against when the id is unknown, so that case costs what a wrong secret costs.
_NO_HASH = "0" * 64


def principal_name(raw: str, *, kind: str | None = None) -> str:
    """``user:NAME`` or ``service:NAME`` with a canonical NAME; a bare NAME is a ``kind``.

    >>> principal_name("alice"), principal_name("ci", kind="service")
    ('user:alice', 'service:ci')
    """
    prefix, sep, name = raw.partition(":")
    if not sep:
        prefix, name = kind or "user", raw
    if prefix not in KINDS:
        raise ValidationFailed(
            f"principal {raw!r} is neither a user nor a service",
            field="principal",
            rule="kind",
            hint=f"write user:{name} or service:{name}",
        )
    if kind is not None and prefix != kind:
        raise ValidationFailed(f"principal {raw!r} is not a {kind}", field="principal", rule="kind")
    return f"{prefix}:{canonical_name(name, field='principal')}"


def parse_role(text: str) -> Role:
    try:
        return Role.parse(text)
    except KeyError:
        raise ValidationFailed(
            f"{text!r} is not a team role",
            field="role",
            rule="enum",
            hint="one of: " + ", ".join(str(r) for r in Role),
        ) from None


def parse_registry_role(text: str | RegistryRole | None) -> RegistryRole | None:
    if text is None or isinstance(text, RegistryRole):
        return text
    try:
        return RegistryRole(text.strip().lower())
    except ValueError:
        raise ValidationFailed(
            f"{text!r} is not a registry role",
            field="registry_role",
            rule="enum",
            hint="one of: " + ", ".join(r.value for r in RegistryRole),
        ) from None


def _label(text: str, *, field: str, limit: int) -> str:
    text = text.strip()
    if not text or len(text) > limit or not text.isprintable():
        raise ValidationFailed(
            f"{field} {text!r} must be 1 to {limit} printable characters", field=field, rule="text"
        )
    return text


def _missing(name: str) -> NotFound:
    return NotFound(f"{name} does not exist", id=name, hint="see 'cairn principal list'")


class AccessService(Service):
    """Who is who, and what each holds. ``key`` hashes token secrets (see store.keys)."""

    def __init__(
        self, store: Store, actor: str, key: bytes, verified: VerifiedTokens | None = None
    ) -> None:
        super().__init__(store, actor)
        self._key = key
        self._verified = verified or VerifiedTokens(store.access_stamp)

    def as_actor(self, actor: str) -> AccessService:
        """The same service (same store, key and verified tokens) recording ``actor`` on its
        events."""
        return AccessService(self.store, actor, self._key, self._verified)

    # -- principals and roles -------------------------------------------------------------
    def bootstrap(self, name: str, *, expires_in: timedelta | None = None) -> IssuedToken:
        """Make ``name`` the first registry admin and issue its token.

        Conflict once any registry admin exists: there is never a default password, and
        later admins are made by admins.
        """
        name = principal_name(name)
        with self.store.write(self.actor) as tx:
            if q.any_admin(tx.conn):
                raise Conflict(
                    "the registry already has an admin",
                    hint="an admin can run 'cairn principal create' and 'cairn token create'",
                )
            row = q.principal_row(tx.conn, name)
            principal_id = self._create(tx, name, None) if row is None else str(row.id)
            admin = RegistryRole.ADMIN.value
            self._change(tx, name, principal_id, registry_role=admin, disabled=False)
            return self._issue(tx, principal_id, name, "bootstrap", expires_in)

    def create_principal(
        self,
        name: str,
        *,
        kind: str | None = None,
        display_name: str | None = None,
        acts_for: str | None = None,
    ) -> PrincipalInfo:
        """A new user or service; ``kind`` defaults to the name's prefix, else ``user``.

        A service account may act for a user (a pipeline run on alice's behalf): it then
        shares that user's exclusions under separation of duties.
        """
        name = principal_name(name, kind=kind)
        if display_name is not None:
            display_name = _label(display_name, field="display_name", limit=500)
        with self.store.write(self.actor) as tx:
            if q.principal_row(tx.conn, name) is not None:
                raise Conflict(f"{name} already exists", id=name)
            if acts_for is not None:
                acts_for = self._principal_for(tx, name, acts_for)
            self._create(tx, name, display_name, acts_for)
            return self._info(tx, name)

    def _principal_for(self, tx: Tx, name: str, acts_for: str) -> str:
        if not name.startswith("service:"):
            raise ValidationFailed(
                f"{name} is a user; only a service account acts for someone",
                field="acts_for",
                rule="service-only",
            )
        user = principal_name(acts_for, kind="user")  # refuses a service account
        if q.principal_row(tx.conn, user) is None:
            raise _missing(user)
        return user

    def get_principal(self, name: str) -> PrincipalInfo:
        name = principal_name(name)
        with self.store.read() as conn:
            found = q.principals(conn, select(t.principals).where(t.principals.c.name == name))
        if not found:
            raise _missing(name)
        return found[0]

    def admit(self, principal: Principal) -> Principal:
        """``principal`` (from an identity token) unless a principal of that name is stored
        and disabled: ``cairn principal disable`` shuts single sign-on out too."""
        try:
            stored = self.get_principal(principal.name)
        except NotFound:
            return principal
        if stored.disabled:
            raise Unauthenticated(INVALID_TOKEN, hint=_INVALID_HINT)
        return principal

    def describe(self, principal: Principal) -> PrincipalInfo:
        """The caller as ``/me`` shows it: its stored record, or, for a principal known only
        from its identity token (single sign-on), what the token granted, as of now."""
        try:
            return self.get_principal(principal.name)
        except NotFound:
            now = self.store.clock()
            return PrincipalInfo(
                name=principal.name,
                kind="user",
                registry_role=principal.registry_role.value if principal.registry_role else None,
                teams={team: str(role) for team, role in principal.teams.items()},
                created_at=now,
                updated_at=now,
            )

    def list_principals(self, *, limit: int = 100, after: str | None = None) -> list[PrincipalInfo]:
        query = select(t.principals).order_by(t.principals.c.name).limit(page_size(limit))
        if after:
            query = query.where(t.principals.c.name > after)
        with self.store.read() as conn:
            return q.principals(conn, query)

    def set_registry_role(self, name: str, role: str | RegistryRole | None) -> PrincipalInfo:
        """Make ``name`` a registry admin or auditor, or (None) neither."""
        value = parse_registry_role(role)
        return self._update(name, registry_role=value.value if value else None)

    def set_disabled(self, name: str, disabled: bool) -> PrincipalInfo:
        """A disabled principal's tokens stop authenticating; its grants are kept."""
        return self._update(name, disabled=disabled)

    def grant(self, name: str, team: str, role: str | Role) -> PrincipalInfo:
        """Give ``name`` ``role`` in ``team``, replacing any role it held there."""
        name = principal_name(name)
        team = canonical_name(team.removeprefix("team:"), field="team")
        granted = role if isinstance(role, Role) else parse_role(role)
        with self.store.write(self.actor) as tx:
            principal_id = self._id(tx, name)
            payload = {
                "principal": name,
                "principal_id": principal_id,
                "team": team,
                "team_id": lookup.team_id(tx.conn, team),
                "role": str(granted),
            }
            if q.roles_of(tx.conn, [principal_id]).get(principal_id, {}).get(team) != str(granted):
                tx.emit(EventDraft(EventType.ROLE_GRANTED, name, payload))
            return self._info(tx, name)

    def revoke_role(self, name: str, team: str) -> PrincipalInfo:
        """Take away whatever role ``name`` holds in ``team``; NotFound if it holds none."""
        name = principal_name(name)
        team = canonical_name(team.removeprefix("team:"), field="team")
        with self.store.write(self.actor) as tx:
            principal_id = self._id(tx, name)
            team_id = lookup.team_id(tx.conn, team)
            if team not in q.roles_of(tx.conn, [principal_id]).get(principal_id, {}):
                raise NotFound(f"{name} holds no role in team:{team}", id=name)
            payload = {"principal": name, "principal_id": principal_id, "team": team}
            tx.emit(EventDraft(EventType.ROLE_REVOKED, name, {**payload, "team_id": team_id}))
            return self._info(tx, name)

    def principal(self, name: str) -> Principal:
        """What ``name`` holds, for authorization in an embedded caller."""
        info = self.get_principal(name)
        if info.disabled:
            raise Unauthenticated(f"{info.name} is disabled")
        return _as_principal(info.name, info.registry_role, info.teams)

    # -- tokens ----------------------------------------------------------------------------
    def issue_token(
        self, principal: str, *, name: str = "default", expires_in: timedelta | None = None
    ) -> IssuedToken:
        """A new token for ``principal``; its text is in the result and nowhere else."""
        principal = principal_name(principal)
        with self.store.write(self.actor) as tx:
            row = q.principal_row(tx.conn, principal)
            if row is None:
                raise _missing(principal)
            if row.disabled:
                raise Conflict(f"{principal} is disabled", id=principal)
            return self._issue(tx, row.id, principal, name, expires_in)

    def revoke_token(self, token: str, *, owner: str | None = None) -> TokenInfo:
        """Revoke a token by its id (or its full text, e.g. one found leaked); idempotent.

        With ``owner``, only a token of that principal is found (a caller revoking its own).
        """
        token_id = parse_token(token)[0] if token.startswith(PREFIX) else token
        with self.store.write(self.actor) as tx:
            found = q.tokens(tx.conn, token_id=token_id)
            if owner is not None and found and found[0].principal != principal_name(owner):
                found = []  # someone else's token: as if it did not exist
            if not found:
                raise NotFound(
                    f"token {token_id!r} does not exist", id=token_id, hint="see 'cairn token list'"
                )
            if found[0].revoked_at is None:
                q.set_token_time(tx.conn, token_id, "revoked_at", tx.at)
                payload = {"id": token_id, "principal": found[0].principal}
                tx.emit(EventDraft(EventType.TOKEN_REVOKED, found[0].principal, payload))
            return q.tokens(tx.conn, token_id=token_id)[0]

    def list_tokens(self, principal: str | None = None) -> list[TokenInfo]:
        """Tokens newest first (all principals' if none is named); never secrets or hashes."""
        with self.store.read() as conn:
            if principal is None:
                return q.tokens(conn)
            name = principal_name(principal)
            row = q.principal_row(conn, name)
            if row is None:
                raise _missing(name)
            return q.tokens(conn, principal_id=row.id)

    def authenticate(
        self,
        token_text: str,
        now: datetime | None = None,
        *,
        record_use: Callable[[str, Callable[[], None]], None] | None = None,
    ) -> Principal:
        """The principal a token speaks for; Unauthenticated("invalid token") otherwise.

        The token's last use is written at most once a minute, at once or, given ``record_use``,
        by handing ``record_use`` the token id and that write: a server reading on its event
        loop must not wait there for the write lock.
        """
        now = now or self.store.clock()
        try:
            token_id, secret = parse_token(token_text)
        except Unauthenticated as exc:
            raise Unauthenticated(INVALID_TOKEN, hint=exc.details.get("hint")) from None
        digest = token_hash(self._key, secret)
        kept = self._verified.get(token_id, digest, now)
        if kept is not None:
            self._note_use(token_id, kept.last_used_at, now, record_use)
            return kept.principal
        stamp = self._verified.stamp()
        with self.store.read() as conn:
            row = q.credential(conn, token_id)
            matches = hmac.compare_digest(digest, row.hash if row else _NO_HASH)
            if row is None or not matches or not _usable(row, now):
                raise Unauthenticated(INVALID_TOKEN, hint=_INVALID_HINT)
            teams = q.roles_of_one(conn, row.principal_id)
        principal = _as_principal(row.principal, row.registry_role, teams)
        self._verified.keep(
            token_id,
            stamp,
            digest,
            principal,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
        )
        self._note_use(token_id, row.last_used_at, now, record_use)
        return principal

    def _note_use(
        self,
        token_id: str,
        last_used_at: datetime | None,
        now: datetime,
        record_use: Callable[[str, Callable[[], None]], None] | None,
    ) -> None:
        if last_used_at is not None and now - last_used_at < LAST_USED_RESOLUTION:
            return
        touch = functools.partial(self._touch, token_id, now)
        if record_use is None:
            touch()
        else:
            record_use(token_id, touch)
        self._verified.used(token_id, now)

    def _touch(self, token_id: str, now: datetime) -> None:
        try:
            with self.store.write_unlogged() as conn:
                q.set_token_time(conn, token_id, "last_used_at", now)
        except StorageUnavailable as exc:
            # Last use is bookkeeping: a busy database must not turn a good token away.
            logger.warning("could not record the use of token %s: %s", token_id, exc.message)

    # -- the access log --------------------------------------------------------------------
    def record_access(self, records: Sequence[AccessRecord | Mapping[str, Any]]) -> None:
        """Append a batch of access records (the server buffers them); all or none."""
        checked = [r if isinstance(r, AccessRecord) else _access_record(r) for r in records]
        with self.store.write_unlogged() as conn:
            q.append_access(conn, checked)

    def access_log(
        self,
        *,
        principal: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[AccessRecord]:
        """Records newest first; pass the last id seen as ``after`` for the next page."""
        if outcome is not None and outcome not in get_args(Outcome):
            raise ValidationFailed(
                f"{outcome!r} is not an outcome",
                field="outcome",
                rule="enum",
                hint="one of: " + ", ".join(get_args(Outcome)),
            )
        if principal is not None:
            principal = principal_name(principal)
        if after is not None:
            page_cursor(after, MAX_SEQUENCE)
        with self.store.read() as conn:
            return q.access_page(
                conn, principal=principal, outcome=outcome, limit=page_size(limit), after=after
            )

    def prune_access_log(self, older_than: timedelta) -> AccessPruned:
        """Delete access records older than ``older_than``; the event log records each pruning
        that deleted any (a server pruning hourly finds nothing most times).

        Deleted in batches, each its own short transaction, so a server keeps serving (and
        writing) while months of records go. At least a day is kept: pruning cannot hide
        what was just done.
        """
        if older_than < MIN_ACCESS_RETENTION:
            raise ValidationFailed(
                f"access records younger than {MIN_ACCESS_RETENTION.days} day cannot be pruned",
                field="older_than",
                rule="minimum",
                hint="keep at least a day, e.g. 90d",
            )
        before = self.store.clock() - older_than
        deleted = 0
        while True:
            with self.store.write_unlogged() as conn:
                batch = q.prune_access(conn, before, _PRUNE_BATCH)
            deleted += batch
            if batch < _PRUNE_BATCH:
                break
        if deleted:
            payload = {"before": format_time(before), "deleted": deleted}
            with self.store.write(self.actor) as tx:
                tx.emit(EventDraft(EventType.ACCESS_LOG_PRUNED, ACCESS_LOG_SUBJECT, payload))
        return AccessPruned(before=before, deleted=deleted)

    # -- inside a transaction --------------------------------------------------------------
    def _create(
        self, tx: Tx, name: str, display_name: str | None, acts_for: str | None = None
    ) -> str:
        payload = {
            "id": new_id(),
            "name": name,
            "kind": name.split(":", 1)[0],
            "display_name": display_name,
            "registry_role": None,
            "disabled": False,
            "acts_for": acts_for,
        }
        tx.emit(EventDraft(EventType.PRINCIPAL_CREATED, name, payload))
        return str(payload["id"])

    def _change(self, tx: Tx, name: str, principal_id: str, **changes: Any) -> None:
        payload = {"id": principal_id, "changes": changes}
        tx.emit(EventDraft(EventType.PRINCIPAL_UPDATED, name, payload))

    def _update(self, name: str, **changes: Any) -> PrincipalInfo:
        name = principal_name(name)
        with self.store.write(self.actor) as tx:
            row = q.principal_row(tx.conn, name)
            if row is None:
                raise _missing(name)
            changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if changed:  # setting what is already so writes nothing to the log
                self._change(tx, name, row.id, **changed)
            return self._info(tx, name)

    def _id(self, tx: Tx, name: str) -> str:
        row = q.principal_row(tx.conn, name)
        if row is None:
            raise _missing(name)
        return str(row.id)

    def _info(self, tx: Tx, name: str) -> PrincipalInfo:
        return q.principals(tx.conn, select(t.principals).where(t.principals.c.name == name))[0]

    def _issue(
        self, tx: Tx, principal_id: str, principal: str, name: str, expires_in: timedelta | None
    ) -> IssuedToken:
        name = _label(name, field="token name", limit=100)
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValidationFailed(
                "a token must expire in the future", field="expires_in", rule="positive"
            )
        token_id, text = new_token()
        info = TokenInfo(
            id=token_id,
            principal=principal,
            name=name,
            created_at=tx.at,
            expires_at=tx.at + expires_in if expires_in else None,
        )
        q.add_token(tx.conn, info, principal_id, token_hash(self._key, parse_token(text)[1]))
        payload = info.model_dump(mode="json", include={"id", "principal", "name", "expires_at"})
        tx.emit(EventDraft(EventType.TOKEN_ISSUED, principal, payload))
        return IssuedToken(**info.model_dump(), token=text)


def _access_record(fields: Mapping[str, Any]) -> AccessRecord:
    try:
        return AccessRecord.model_validate(fields)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(record)"
        raise ValidationFailed(
            f"access record {where}: {first['msg']}", field=where, rule=first["type"]
        ) from None


def _usable(row: Any, now: datetime) -> bool:
    if row.revoked_at is not None or row.disabled:
        return False
    return row.expires_at is None or now < row.expires_at


def _as_principal(name: str, registry_role: str | None, teams: Mapping[str, str]) -> Principal:
    return Principal(
        name,
        teams={team: Role.parse(role) for team, role in teams.items()},
        registry_role=RegistryRole(registry_role) if registry_role else None,
    )
