"""The access layer on both databases: principals, roles, tokens, authentication, access log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cairn.core.access import RegistryRole, Role
from cairn.core.entities import AccessRecord
from cairn.core.errors import CairnError, Conflict, NotFound, Unauthenticated, ValidationFailed
from cairn.core.tokens import checksum, new_token, parse_token
from cairn.local import LocalRegistry
from cairn.services.access import INVALID_TOKEN, AccessService
from cairn.store import tables as t

KEY = "cd" * 32


@pytest.fixture
def access(registry: LocalRegistry) -> AccessService:
    registry.create_team("fraud")
    registry.create_team("risk")
    return registry.access_service(secret_key=KEY)


def _refusal(access: AccessService, text: str, now: datetime | None = None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        access.authenticate(text, now)
    return caught.value


def test_bootstrap_makes_the_first_admin_once(access: AccessService) -> None:
    issued = access.bootstrap("user:root")
    assert issued.principal == "user:root"
    assert issued.expires_at is None
    principal = access.authenticate(issued.token)
    assert principal.name == "user:root"
    assert principal.is_admin
    with pytest.raises(Conflict, match="already has an admin"):
        access.bootstrap("user:other")
    with pytest.raises(NotFound):
        access.get_principal("user:other")


def test_bootstrap_promotes_an_existing_principal(access: AccessService) -> None:
    access.create_principal("user:alice")
    access.set_disabled("user:alice", True)
    issued = access.bootstrap("alice")
    assert access.authenticate(issued.token).registry_role is RegistryRole.ADMIN
    assert not access.get_principal("user:alice").disabled


def test_token_round_trip(access: AccessService) -> None:
    access.create_principal("ci", kind="service", display_name="CI robot")
    issued = access.issue_token("service:ci", name="deploy", expires_in=timedelta(days=30))
    assert issued.expires_at == issued.created_at + timedelta(days=30)
    assert issued.token.startswith("cairn_" + issued.id)
    assert issued.token not in repr(issued)
    principal = access.authenticate(issued.token)
    assert principal.name == "service:ci"
    assert principal.teams == {}
    assert principal.registry_role is None
    listed = access.list_tokens("service:ci")
    assert [(t.id, t.name) for t in listed] == [(issued.id, "deploy")]
    assert "token" not in listed[0].model_dump()
    assert "hash" not in listed[0].model_dump()
    assert listed[0].last_used_at is not None
    assert [t.id for t in access.list_tokens()] == [issued.id]


def test_every_failure_says_the_same(access: AccessService) -> None:
    access.create_principal("user:alice")
    access.create_principal("user:bob")
    good = access.issue_token("user:alice")
    token_id, secret = parse_token(good.token)
    other = "0" if secret[0] != "0" else "1"
    wrong_body = "cairn_" + token_id + other + secret[1:]
    wrong_secret = wrong_body + checksum(wrong_body)
    unknown = new_token()[1]
    revoked = access.issue_token("user:alice", name="old")
    access.revoke_token(revoked.id)
    expiring = access.issue_token("user:alice", expires_in=timedelta(hours=1))
    held_by_bob = access.issue_token("user:bob")
    access.set_disabled("user:bob", True)
    later = datetime.now(UTC) + timedelta(hours=2)

    refusals = [
        _refusal(access, wrong_secret),
        _refusal(access, unknown),
        _refusal(access, revoked.token),
        _refusal(access, expiring.token, later),
        _refusal(access, held_by_bob.token),
    ]
    malformed = _refusal(access, good.token[:-1] + ("a" if good.token[-1] != "a" else "b"))
    assert {r.message for r in [*refusals, malformed]} == {INVALID_TOKEN}
    # The database-side refusals cannot be told apart, not even by their hints.
    assert len({r.diagnostics() for r in refusals}) == 1
    assert "checksum" in malformed.diagnostics()
    # The good token still works, and the expiring one did until it expired.
    assert access.authenticate(good.token).name == "user:alice"
    assert access.authenticate(expiring.token).name == "user:alice"


def test_only_a_keyed_hash_is_stored_and_the_log_never_sees_it(
    registry: LocalRegistry, access: AccessService
) -> None:
    access.create_principal("user:alice")
    issued = access.issue_token("user:alice")
    access.revoke_token(issued.token)  # revoking by the full text, as for a leaked token
    secret = parse_token(issued.token)[1]
    with registry.store.read() as conn:
        stored = conn.execute(select(t.api_tokens.c.hash)).scalar_one()
        payloads = conn.execute(select(t.events.c.type, t.events.c.payload)).all()
    assert len(stored) == 64
    assert secret not in stored
    assert stored != issued.token
    assert {"token.issued", "token.revoked"} <= {p.type for p in payloads}
    for _, payload in payloads:
        assert secret not in payload
        assert stored not in payload
    # Another key does not accept the token: the hash is keyed.
    other = registry.access_service(secret_key="ef" * 32)
    access.create_principal("user:bob")
    fresh = access.issue_token("user:bob")
    with pytest.raises(Unauthenticated):
        other.authenticate(fresh.token)


def test_grants_are_reflected_in_the_principal(access: AccessService) -> None:
    access.create_principal("user:alice")
    issued = access.issue_token("user:alice")
    access.grant("user:alice", "fraud", "contributor")
    access.grant("user:alice", "team:risk", Role.VIEWER)
    assert access.authenticate(issued.token).teams == {
        "fraud": Role.CONTRIBUTOR,
        "risk": Role.VIEWER,
    }
    info = access.grant("user:alice", "fraud", "APPROVER")  # replaces, case-insensitive
    assert info.teams == {"fraud": "approver", "risk": "viewer"}
    access.revoke_role("user:alice", "risk")
    assert access.principal("user:alice").teams == {"fraud": Role.APPROVER}
    access.set_registry_role("user:alice", "auditor")
    assert access.principal("user:alice").registry_role is RegistryRole.AUDITOR
    access.set_registry_role("user:alice", None)
    assert access.principal("user:alice").registry_role is None


def test_setting_what_is_already_so_writes_nothing(
    registry: LocalRegistry, access: AccessService
) -> None:
    access.create_principal("user:alice")
    access.grant("user:alice", "fraud", "viewer")
    size = registry.log_head().size
    access.grant("user:alice", "fraud", "viewer")
    access.set_disabled("user:alice", False)
    access.set_registry_role("user:alice", None)
    assert registry.log_head().size == size
    access.as_actor("user:root").set_disabled("user:alice", True)
    events = registry.history("user:alice")
    assert [(e.type, e.actor) for e in events] == [
        ("principal.created", "user:tester"),
        ("role.granted", "user:tester"),
        ("principal.updated", "user:root"),
    ]
    assert events[-1].payload["changes"] == {"disabled": True}


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda a: a.grant("user:alice", "fraud", "owner"), ValidationFailed, "viewer"),
        (lambda a: a.grant("user:alice", "nowhere", "viewer"), NotFound, "team:nowhere"),
        (lambda a: a.grant("user:nobody", "fraud", "viewer"), NotFound, "user:nobody"),
        (lambda a: a.revoke_role("user:alice", "risk"), NotFound, "no role"),
        (lambda a: a.create_principal("robot:x"), ValidationFailed, "neither"),
        (lambda a: a.create_principal("user:Alice"), ValidationFailed, "not a valid name"),
        (lambda a: a.create_principal("user:ci", kind="service"), ValidationFailed, "service"),
        (lambda a: a.create_principal("alice"), Conflict, "already exists"),
        (lambda a: a.set_registry_role("user:alice", "root"), ValidationFailed, "auditor"),
        (
            lambda a: a.issue_token("user:alice", expires_in=timedelta(0)),
            ValidationFailed,
            "future",
        ),
        (lambda a: a.issue_token("user:alice", name=""), ValidationFailed, "printable"),
        (lambda a: a.revoke_token("nosuchtoken1"), NotFound, "does not exist"),
        (lambda a: a.access_log(outcome="maybe"), ValidationFailed, "allowed"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    registry: LocalRegistry,
    access: AccessService,
    call: Callable[[AccessService], object],
    error: type[CairnError],
    words: str,
) -> None:
    access.create_principal("user:alice")
    size = registry.log_head().size
    with pytest.raises(error) as caught:
        call(access)
    assert isinstance(caught.value, CairnError)
    assert words in caught.value.diagnostics()  # allowed values are named in the hint
    assert registry.log_head().size == size


def test_disabled_principals_get_no_new_tokens(access: AccessService) -> None:
    access.create_principal("user:alice")
    access.set_disabled("user:alice", True)
    with pytest.raises(Conflict, match="disabled"):
        access.issue_token("user:alice")
    with pytest.raises(Unauthenticated):
        access.principal("user:alice")


def test_last_use_is_written_at_most_once_a_minute(access: AccessService) -> None:
    access.create_principal("user:alice")
    issued = access.issue_token("user:alice")
    start = datetime.now(UTC)
    access.authenticate(issued.token, start)
    access.authenticate(issued.token, start + timedelta(seconds=30))
    assert access.list_tokens("alice")[0].last_used_at == start
    access.authenticate(issued.token, start + timedelta(seconds=61))
    assert access.list_tokens("alice")[0].last_used_at == start + timedelta(seconds=61)


def test_tokens_survive_a_rebuild(registry: LocalRegistry, access: AccessService) -> None:
    access.create_principal("user:alice")
    access.grant("user:alice", "fraud", "contributor")
    issued = access.issue_token("user:alice")
    registry.rebuild()
    assert access.authenticate(issued.token).teams == {"fraud": Role.CONTRIBUTOR}
    assert registry.check_log().ok


def _record(n: int, principal: str | None, outcome: str = "allowed") -> AccessRecord:
    return AccessRecord(
        at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        principal=principal,
        method="GET",
        path=f"/api/v1/models/{n}",
        action="read",
        team="fraud",
        outcome=outcome,  # type: ignore[arg-type]
        status=200 if outcome == "allowed" else 403,
    )


def test_access_log_pages_newest_first_and_filters(
    registry: LocalRegistry, access: AccessService
) -> None:
    access.record_access([_record(n, "user:alice") for n in range(5)])
    access.record_access(
        [
            _record(5, "user:bob", "denied"),
            _record(6, None, "denied"),
            {"at": datetime(2026, 1, 2, tzinfo=UTC), "principal": None, "method": "GET",
             "path": "/nowhere" + "x" * 5000, "action": None, "outcome": "failed", "status": 404},
        ]
    )  # fmt: skip
    newest = access.access_log(limit=3)
    assert [r.path for r in newest[1:]] == ["/api/v1/models/6", "/api/v1/models/5"]
    assert newest[0].action is None
    assert len(newest[0].path) == 2000
    rest = access.access_log(limit=100, after=newest[-1].id)
    assert [r.path for r in rest] == [f"/api/v1/models/{n}" for n in (4, 3, 2, 1, 0)]
    assert [r.principal for r in access.access_log(outcome="denied")] == [None, "user:bob"]
    alice = access.access_log(principal="alice", limit=2)
    assert [r.path for r in alice] == ["/api/v1/models/4", "/api/v1/models/3"]
    assert access.access_log(principal="user:alice", after=alice[-1].id)[0].path.endswith("/2")
    # The access log is not the event log.
    assert registry.log_head().size == 2  # the two teams


def test_pruning_deletes_old_access_records_and_says_so_in_the_event_log(
    registry: LocalRegistry, access: AccessService
) -> None:
    now = registry.store.clock()
    old = [
        _record(n, "user:alice").model_copy(update={"at": now - timedelta(days=100)})
        for n in range(3)
    ]
    recent = _record(9, "user:bob").model_copy(update={"at": now - timedelta(days=10)})
    access.record_access([*old, recent])
    head = registry.log_head().size

    pruned = access.as_actor("user:root").prune_access_log(timedelta(days=90))

    assert pruned.deleted == 3
    assert [r.principal for r in access.access_log()] == ["user:bob"]
    events = registry.history("registry:access-log")
    assert registry.log_head().size == head + 1
    assert events[-1].type == "access_log.pruned"
    assert events[-1].actor == "user:root"
    assert events[-1].payload["deleted"] == 3
    # Nothing older left: nothing deleted, nothing written to the event log.
    assert access.prune_access_log(timedelta(days=90)).deleted == 0
    assert registry.log_head().size == head + 1
    # The log still checks out and a rebuild still matches.
    assert registry.check_log().ok
    registry.rebuild()


def test_pruning_keeps_at_least_a_day(access: AccessService) -> None:
    with pytest.raises(ValidationFailed, match="cannot be pruned") as caught:
        access.prune_access_log(timedelta(hours=23))
    assert caught.value.details["field"] == "older_than"


def test_a_bad_record_fails_the_batch_cleanly(access: AccessService) -> None:
    with pytest.raises(ValidationFailed, match="outcome"):
        access.record_access([_record(1, None), {**_record(2, None).model_dump(), "outcome": "?"}])
    assert access.access_log() == []


def test_a_service_account_may_act_for_an_existing_user_only(access: AccessService) -> None:
    access.create_principal("user:alice")
    bot = access.create_principal("service:alice-ci", acts_for="alice")
    assert bot.acts_for == "user:alice"
    assert access.get_principal("service:alice-ci").acts_for == "user:alice"
    with pytest.raises(NotFound):
        access.create_principal("service:ghost-ci", acts_for="user:ghost")
    with pytest.raises(ValidationFailed):
        access.create_principal("user:bob", acts_for="user:alice")
    with pytest.raises(ValidationFailed):
        access.create_principal("service:bot-ci", acts_for="service:alice-ci")
