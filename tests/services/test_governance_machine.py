"""Governance driven at random: grant (a service account acting for a user), register, edit,
document, deprecate, request, approve and reject, in any order, by anyone, on SQLite and
PostgreSQL. After every step: nobody approved their own request or a version they registered,
neither in person nor through a service account acting for them; every alias names content
approved as it is
now, under a policy that held when it was approved, and no alias moved to a deprecated
version; every change is an event and every refusal writes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from cairn.core.errors import Conflict, PermissionDenied
from cairn.core.governance import RequestStatus, content_digest
from cairn.local import LocalRegistry

PEOPLE = ("user:ann", "user:bob", "user:cat", "user:dan")
ALIASES = ("production", "champion")
_namespaces = itertools.count()


def machine_for(registry: LocalRegistry) -> type[RuleBasedStateMachine]:
    class Governance(RuleBasedStateMachine):
        """Each run gets its own team, so runs share one database without meeting."""

        versions = Bundle("versions")
        requests = Bundle("requests")
        bots = Bundle("bots")  # service accounts, each acting for one of PEOPLE
        anyone = st.one_of(st.sampled_from(PEOPLE), bots)

        def __init__(self) -> None:
            super().__init__()
            self.team = f"gov{next(_namespaces)}"
            self.model = f"{self.team}/scorer"
            admin = registry.as_actor("user:admin")
            admin.create_team(self.team)
            admin.create_model(self.model, risk_class="high")
            # Production needs an owner and two approvers; champion one approver, no rules.
            admin.publish_policy(self.team, "prod", {"require": ["owner"], "approvals": 2})
            self.access = registry.access_service(secret_key="cd" * 32)
            for person in PEOPLE:  # principals are registry-wide: the first run makes them
                with suppress(Conflict):
                    self.access.create_principal(person)
            self.acts_for: dict[str, str] = {}
            self.admin = admin
            self.owner_set = False
            self.registered = 0
            self.events = registry.log_head().size

        def as_(self, person: str) -> LocalRegistry:
            return registry.as_actor(person)

        def expect(self, added: int) -> None:
            self.events += added

        def selves(self, *who: str) -> set[str]:
            """Who these are under separation of duties: each, and whom each acts for."""
            return set(who) | {self.acts_for[w] for w in who if w in self.acts_for}

        # -- steps ----------------------------------------------------------------------
        @rule(target=bots, user=st.sampled_from(PEOPLE))
        def grant(self, user: str) -> str:
            name = f"service:{self.team}-bot{len(self.acts_for) + 1}"
            assert self.access.create_principal(name, acts_for=user).acts_for == user
            self.acts_for[name] = user
            self.expect(1)
            return name

        @rule(target=versions, who=anyone)
        def register(self, who: str) -> str:
            self.registered += 1
            n = self.registered
            found = self.as_(who).register_version(
                self.model, f"s3://m/{self.team}/{n}", "sha256:" + f"{n:064x}"
            )
            self.expect(1)
            return found.id

        @rule(version=versions, value=st.sampled_from(["a", "b"]))
        def edit(self, version: str, value: str) -> None:
            before = self.admin.get_version(version)
            stale = [a for a in self.admin.list_aliases(self.model) if a.version == version]
            after = self.admin.update_version(version, labels={"note": value})
            changed = content_digest(after) != content_digest(before)
            removed = len(stale) if changed else 0
            self.expect(1 + removed)

        @rule(owned=st.booleans())
        def document(self, owned: bool) -> None:
            self.admin.update_model(self.model, contact="owner@example.com" if owned else None)
            self.owner_set = owned
            self.expect(1)

        @rule(target=requests, who=anyone, version=versions, alias=st.sampled_from(ALIASES))
        def request(self, who: str, version: str, alias: str) -> str:
            try:
                asked = self.as_(who).request_transition(version, alias, reason="random walk")
            except Conflict:
                return ""  # already pointing there, or already pending: nothing written
            self.expect(1)
            deprecated = self.admin.get_version(version).deprecation is not None
            if deprecated or (alias == "production" and not self.owner_set):
                assert asked.status is RequestStatus.REFUSED
                expected = ["version.deprecation"] if deprecated else []
                if alias == "production" and not self.owner_set:
                    expected.append("model.contact")
                assert [u.field for u in asked.unmet] == expected
            else:
                assert asked.status is RequestStatus.PENDING
            return asked.id

        @rule(who=anyone, request=requests)
        def approve(self, who: str, request: str) -> None:
            if not request:
                return
            current = self.admin.get_transition(request)
            registrant = self.admin.get_version(current.version).registered_by
            conflicted = self.selves(who) & self.selves(current.requested_by, registrant)
            try:
                done = self.as_(who).approve_transition(request)
            except PermissionDenied:
                assert conflicted
                return
            except Conflict:
                assert current.status is not RequestStatus.PENDING
                return
            assert not conflicted
            if done.status is RequestStatus.APPROVED:
                self.expect(2)  # the approval and the alias move
                if done.alias == "production":
                    assert self.owner_set, "production approved while its policy did not hold"
            else:
                self.expect(1)  # an approval still short of the count, or a refusal

        @rule(bot=bots, version=versions, reverse=st.booleans())
        def stand_in(self, bot: str, version: str, reverse: bool) -> None:
            """A service account asks and the user it acts for approves, or the other way
            round: the same person on both sides, which must be refused."""
            user = self.acts_for[bot]
            asker, approver = (user, bot) if reverse else (bot, user)
            try:
                asked = self.as_(asker).request_transition(version, "champion", reason="stand-in")
            except Conflict:
                return
            self.expect(1)
            if asked.status is RequestStatus.PENDING:
                with pytest.raises(PermissionDenied):
                    self.as_(approver).approve_transition(asked.id)

        @rule(version=versions)
        def promote(self, version: str) -> None:
            """Champion, asked and approved by people free to: aliases exist often enough for
            edits to meet them."""
            registrant = self.admin.get_version(version).registered_by
            free = [p for p in PEOPLE if p not in self.selves(registrant)]
            try:
                asked = self.as_(free[0]).request_transition(version, "champion", reason="ok")
            except Conflict:
                return
            if asked.status is RequestStatus.REFUSED:  # the version is deprecated
                assert self.admin.get_version(version).deprecation is not None
                self.expect(1)
                return
            done = self.as_(free[1]).approve_transition(asked.id)
            assert done.status is RequestStatus.APPROVED
            self.expect(3)

        @rule(version=versions)
        def deprecate(self, version: str) -> None:
            waiting = self.admin.list_transitions(model=self.model, status="pending", limit=1000)
            voided = sum(1 for r in waiting if r.version == version)
            self.admin.deprecate(version, reason="superseded")
            self.expect(1 + voided)

        @rule(who=anyone, request=requests)
        def reject(self, who: str, request: str) -> None:
            if not request:
                return
            try:
                self.as_(who).reject_transition(request, comment="no")
            except Conflict:
                return
            self.expect(1)

        # -- after every step -------------------------------------------------------------
        @invariant()
        def every_change_is_an_event_and_refusals_write_nothing(self) -> None:
            assert registry.log_head().size == self.events

        @invariant()
        def nobody_approved_their_own_work(self) -> None:
            for request in self.admin.list_transitions(model=self.model, limit=1000):
                registrant = self.admin.get_version(request.version).registered_by
                approvers = self.selves(*(a.by for a in request.approvals))
                assert not approvers & self.selves(request.requested_by, registrant)

        @invariant()
        def no_alias_moved_to_a_deprecated_version(self) -> None:
            for alias in self.admin.list_aliases(self.model):
                plan = self.admin.get_version(alias.version).deprecation
                assert plan is None or alias.set_at <= plan.at

        @invariant()
        def aliases_name_approved_content_as_it_is(self) -> None:
            for alias in self.admin.list_aliases(self.model):
                assert alias.digest == content_digest(self.admin.get_version(alias.version))
                assert alias.request is not None
                approved = self.admin.get_transition(alias.request)
                assert approved.status is RequestStatus.APPROVED
                assert approved.version == alias.version
                counted = {a.by for a in approved.approvals if a.digest == alias.digest}
                assert len(counted) >= approved.approvals_needed
                if alias.alias == "production":
                    assert approved.approvals_needed == 2
                    assert [p.id for p in approved.policies] == [f"policy:{self.team}/prod@1"]

    return Governance


@pytest.mark.parametrize("steps", [30])
def test_governance_holds_under_random_walks(registry: LocalRegistry, steps: int) -> None:
    machine: Any = machine_for(registry)
    tuned: Callable[..., Any] = settings(
        max_examples=25,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    run_state_machine_as_test(machine, settings=tuned)
