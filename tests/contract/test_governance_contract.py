"""Governance over every transport and both databases: aliases move only through approved
transition requests, approvers are never the requester or the registrant, policies refuse with
every unmet rule, and approvals are bound to the version's content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cairn.core.errors import CairnError, Conflict, NotFound, PermissionDenied, ValidationFailed
from cairn.core.governance import RequestStatus, Requirement
from cairn.local import LocalRegistry

Open = Callable[..., Any]
STRICT = {
    "aliases": ["production"],
    "require": ["owner", "intended_use", "limitations", "evaluation", "training_data"],
}


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


@pytest.fixture
def people(open_registry: Open) -> dict[str, Any]:
    """One registry per person, all on the same database."""
    admin = open_registry("user:admin")
    admin.create_team("fraud")
    admin.create_dataset("fraud/transactions")
    admin.add_dataset_version("fraud/transactions", digest=digest(7))
    admin.create_model("fraud/churn", risk_class="high")
    regs = {"admin": admin}
    for who in ("registrant", "requester", "ann", "bob"):
        regs[who] = open_registry(f"user:{who}")
    if isinstance(admin, LocalRegistry):  # over HTTP each actor is a principal already
        access = admin.access_service(secret_key="ab" * 32)
        for who in ("admin", "registrant", "requester", "ann", "bob"):
            access.create_principal(f"user:{who}")
    regs["registrant"].register_version(
        "fraud/churn", artifact_uri="s3://m/churn/1/model.pkl", digest=digest(1)
    )
    return regs


def _unchanged(reg: Any, call: Callable[[], Any], error: type[CairnError]) -> CairnError:
    head = reg.log_head()
    with pytest.raises(error) as info:
        call()
    assert reg.log_head() == head
    return info.value


def test_an_alias_moves_only_when_someone_else_approves(people: dict[str, Any]) -> None:
    requester, registrant, ann = people["requester"], people["registrant"], people["ann"]
    asked = requester.request_transition(
        "fraud/churn@1", "production", reason="beats the incumbent", release_notes="v1"
    )
    assert asked.status is RequestStatus.PENDING
    assert (asked.version, asked.alias, asked.requested_by) == (
        "model:fraud/churn@1",
        "production",
        "user:requester",
    )
    assert asked.approvals_needed == 1 and asked.digest.startswith("sha256:")
    # Separation of duties holds whatever roles they hold (over HTTP, all are registry admins).
    for conflicted in (requester, registrant):
        denied = _unchanged(
            conflicted, lambda c=conflicted: c.approve_transition(asked.id), PermissionDenied
        )
        assert "another approver" in denied.message
    assert requester.list_aliases("fraud/churn") == []
    done = ann.approve_transition(asked.id, comment="looks good")
    assert done.status is RequestStatus.APPROVED
    assert [(a.by, a.comment) for a in done.approvals] == [("user:ann", "looks good")]
    assert done.decided_by == "user:ann"
    [alias] = ann.list_aliases("fraud/churn")
    assert (alias.alias, alias.version, alias.request, alias.set_by) == (
        "production",
        "model:fraud/churn@1",
        asked.id,
        "user:ann",
    )
    assert alias.digest == asked.digest
    assert ann.get_transition(asked.id) == done
    types = [event.type for event in ann.history("model:fraud/churn@1")]
    assert types[-3:] == ["transition.requested", "transition.approved", "alias.set"]
    _unchanged(ann, lambda: people["bob"].approve_transition(asked.id), Conflict)
    _unchanged(
        requester,
        lambda: requester.request_transition("fraud/churn@1", "production", reason="again"),
        Conflict,
    )


def test_a_policy_refuses_with_every_unmet_rule_and_says_so_on_the_record(
    people: dict[str, Any],
) -> None:
    admin, requester = people["admin"], people["requester"]
    policy = admin.publish_policy("fraud", "production-gate", STRICT)
    assert (policy.id, policy.version) == ("policy:fraud/production-gate@1", 1)
    refused = requester.request_transition("fraud/churn@1", "production", reason="ship it")
    assert refused.status is RequestStatus.REFUSED
    assert [(u.rule, u.field) for u in refused.unmet] == [
        (Requirement.OWNER, "model.contact"),
        (Requirement.INTENDED_USE, "model.documentation.intended_use"),
        (Requirement.LIMITATIONS, "model.documentation.limitations"),
        (Requirement.EVALUATION, "version.metrics"),
        (Requirement.TRAINING_DATA, "version.inputs"),
    ]
    assert all(u.policy == policy.id and u.message for u in refused.unmet)
    assert [p.id for p in refused.policies] == [policy.id]
    assert [e.type for e in requester.history("model:fraud/churn@1")][-1] == "transition.requested"
    _unchanged(people["ann"], lambda: people["ann"].approve_transition(refused.id), Conflict)
    # Another alias is not gated by this policy.
    assert (
        requester.request_transition("fraud/churn@1", "staging", reason="try it").status
        is RequestStatus.PENDING
    )
    # Met: a documented model, a version trained on data and evaluated on a dataset version.
    admin.update_model(
        "fraud/churn",
        contact="fraud@example.com",
        documentation={"intended_use": "score card fraud", "limitations": ["EU only"]},
    )
    people["registrant"].register_version(
        "fraud/churn",
        artifact_uri="s3://m/churn/2/model.pkl",
        digest=digest(2),
        inputs=["fraud/transactions@1"],
    )
    admin.record_evaluation("fraud/churn@2", {"auc": 0.91}, dataset="fraud/transactions@1")
    assert (
        requester.request_transition("fraud/churn@2", "production", reason="ready").status
        is RequestStatus.PENDING
    )


def test_high_risk_needs_distinct_approvers_for_the_content_as_it_is(
    people: dict[str, Any],
) -> None:
    admin, ann, bob = people["admin"], people["ann"], people["bob"]
    admin.publish_policy(
        "fraud", "two-eyes", {"aliases": ["production"], "risk_classes": ["high"], "approvals": 2}
    )
    asked = people["requester"].request_transition("fraud/churn@1", "production", reason="go")
    assert asked.approvals_needed == 2
    assert ann.approve_transition(asked.id).status is RequestStatus.PENDING
    # The same approver twice is still one approver.
    assert ann.approve_transition(asked.id).status is RequestStatus.PENDING
    # The version changes: approvals given before no longer count.
    admin.update_version("fraud/churn@1", labels={"owner": "fraud"})
    assert bob.approve_transition(asked.id).status is RequestStatus.PENDING
    done = ann.approve_transition(asked.id)
    assert done.status is RequestStatus.APPROVED
    assert {a.by for a in done.approvals} == {"user:ann", "user:bob"}
    [alias] = admin.list_aliases("fraud/churn")
    # Any later change to what was approved removes the alias, on the record.
    admin.record_evaluation("fraud/churn@1", {"auc": 0.5})
    assert admin.list_aliases("fraud/churn") == []
    assert [e.type for e in admin.history("model:fraud/churn@1")][-1] == "alias.removed"
    assert alias.digest != done.digest  # approved for the labelled content, not the first


def test_a_rejection_says_why_and_ends_the_request(people: dict[str, Any]) -> None:
    asked = people["requester"].request_transition("fraud/churn@1", "champion", reason="r")
    bob = people["bob"]
    _unchanged(bob, lambda: bob.reject_transition(asked.id, comment=" "), ValidationFailed)
    rejected = bob.reject_transition(asked.id, comment="no evaluation yet")
    assert rejected.status is RequestStatus.REJECTED
    assert (rejected.decided_by, rejected.decision_comment) == ("user:bob", "no evaluation yet")
    _unchanged(bob, lambda: people["ann"].approve_transition(asked.id), Conflict)
    listed = bob.list_transitions(model="fraud/churn")
    assert [r.id for r in listed] == [asked.id]
    assert bob.list_transitions(status="pending") == []


def test_policies_are_versioned(people: dict[str, Any]) -> None:
    admin = people["admin"]
    admin.publish_policy("fraud", "gate", {"require": ["owner"]})
    second = admin.publish_policy("fraud", "gate", {"require": ["owner", "description"]})
    assert second.version == 2
    assert admin.get_policy("fraud/gate") == second
    assert admin.get_policy("fraud/gate@1").rules.require == [Requirement.OWNER]
    assert [p.id for p in admin.list_policies("fraud")] == ["policy:fraud/gate@2"]
    refused = people["requester"].request_transition("fraud/churn@1", "production", reason="x")
    assert [p.id for p in refused.policies] == ["policy:fraud/gate@2"]
    assert {u.rule for u in refused.unmet} == {Requirement.OWNER, Requirement.DESCRIPTION}


def test_bad_governance_input_is_refused_and_nothing_written(people: dict[str, Any]) -> None:
    reg = people["requester"]
    for call in (
        lambda: reg.request_transition("fraud/churn@1", "Prod", reason="x"),
        lambda: reg.request_transition("fraud/churn@1", "production", reason=""),
        lambda: reg.approve_transition("not-an-id"),
        lambda: people["admin"].publish_policy("fraud", "gate", {"approvals": 0}),
        lambda: people["admin"].publish_policy("fraud", "gate", {"require": ["vibes"]}),
        lambda: reg.get_policy("fraud"),
    ):
        _unchanged(reg, call, ValidationFailed)
    missing = "transition:01900000-0000-7000-8000-000000000000"
    _unchanged(reg, lambda: reg.get_transition(missing), NotFound)
    _unchanged(reg, lambda: reg.approve_transition(missing), NotFound)
    _unchanged(
        reg, lambda: reg.request_transition("fraud/churn@9", "production", reason="x"), NotFound
    )
    _unchanged(reg, lambda: reg.get_policy("fraud/nothing"), NotFound)


def test_a_stricter_policy_published_meanwhile_applies_at_approval(
    people: dict[str, Any],
) -> None:
    admin = people["admin"]
    asked = people["requester"].request_transition("fraud/churn@1", "production", reason="go")
    assert asked.approvals_needed == 1
    admin.publish_policy("fraud", "four-eyes", {"approvals": 2})
    waiting = people["ann"].approve_transition(asked.id)
    assert (waiting.status, waiting.approvals_needed) == (RequestStatus.PENDING, 2)
    assert people["bob"].approve_transition(asked.id).status is RequestStatus.APPROVED


def test_a_deprecated_version_shows_it_everywhere_and_takes_no_alias(
    people: dict[str, Any],
) -> None:
    from datetime import date

    admin, requester = people["admin"], people["requester"]
    people["registrant"].register_version(
        "fraud/churn", artifact_uri="s3://m/churn/2/model.pkl", digest=digest(2)
    )
    waiting = requester.request_transition("fraud/churn@1", "production", reason="go")
    plan = admin.deprecate(
        "fraud/churn@1",
        reason="leaks the label",
        sunset=date(2027, 3, 31),
        replacement="fraud/churn@2",
    )
    assert (plan.reason, plan.sunset, plan.replacement, plan.by) == (
        "leaks the label",
        date(2027, 3, 31),
        "model:fraud/churn@2",
        "user:admin",
    )
    assert admin.get_version("fraud/churn@1").deprecation == plan
    assert admin.list_versions("fraud/churn")[0].deprecation == plan
    assert admin.get_version("fraud/churn@2").deprecation is None
    # Waiting requests are void; new ones are refused on the record, saying why.
    voided = admin.get_transition(waiting.id)
    assert voided.status is RequestStatus.VOID
    assert voided.decision_comment == "deprecated: leaks the label"
    refused = requester.request_transition("fraud/churn@1", "champion", reason="anyway")
    assert refused.status is RequestStatus.REFUSED
    [unmet] = refused.unmet
    assert (unmet.rule, unmet.field) == (Requirement.NOT_DEPRECATED, "version.deprecation")
    assert "use model:fraud/churn@2" in unmet.message
    # A deprecated model refuses every version; its replacement must not be deprecated itself.
    admin.create_model("fraud/churn-v2")
    admin.deprecate("fraud/churn", reason="superseded", replacement="fraud/churn-v2")
    assert admin.get_model("fraud/churn").deprecation is not None
    again = requester.request_transition("fraud/churn@2", "production", reason="still?")
    assert [u.field for u in again.unmet] == ["model.deprecation"]
    for call in (
        lambda: admin.deprecate("fraud/churn-v2", reason="x", replacement="fraud/churn"),
        lambda: admin.deprecate("fraud/churn-v2", reason="x", replacement="fraud/churn-v2"),
        lambda: admin.deprecate("fraud/churn-v2", reason=" "),
    ):
        _unchanged(admin, call, ValidationFailed)
    _unchanged(admin, lambda: admin.deprecate("fraud/nothing", reason="x"), NotFound)


def test_overdue_reviews_are_flagged_and_completing_one_is_an_event(
    people: dict[str, Any],
) -> None:
    from datetime import UTC, date, datetime, timedelta

    admin = people["admin"]
    today = datetime.now(UTC).date()
    admin.update_model("fraud/churn", review_due=today - timedelta(days=3))
    admin.create_model("fraud/fresh", review_due=today + timedelta(days=30))
    stale = admin.get_model("fraud/churn")
    assert stale.review_overdue and not admin.get_model("fraud/fresh").review_overdue
    assert [m.id for m in admin.list_models(team="fraud") if m.review_overdue] == [
        "model:fraud/churn"
    ]
    assert [m.id for m in admin.list_reviews()] == ["model:fraud/churn"]
    assert [m.id for m in admin.list_reviews(team="fraud", overdue_only=False)] == [
        "model:fraud/churn",
        "model:fraud/fresh",
    ]
    next_due = today + timedelta(days=90)
    reviewed = people["ann"].complete_review("fraud/churn", next_due=next_due, notes="ok")
    assert (reviewed.review_due, reviewed.review_overdue) == (next_due, False)
    assert reviewed.last_review is not None
    assert (reviewed.last_review.by, reviewed.last_review.notes) == ("user:ann", "ok")
    assert admin.list_reviews() == []
    assert [e.type for e in admin.history("model:fraud/churn")][-1] == "review.completed"
    _unchanged(
        admin, lambda: admin.complete_review("fraud/churn", next_due=today), ValidationFailed
    )
    _unchanged(
        admin,
        lambda: admin.complete_review("fraud/nothing", next_due=date(2099, 1, 1)),
        NotFound,
    )


def test_metadata_health_names_what_is_missing_per_model_and_team(
    people: dict[str, Any],
) -> None:
    from datetime import UTC, datetime, timedelta

    admin = people["admin"]
    admin.publish_policy("fraud", "gate", STRICT)
    admin.publish_policy("fraud", "high", {"risk_classes": ["high"], "require": ["training_run"]})
    # The admin (user:admin) exists on every transport: its mailbox makes a known owner.
    admin.create_model("fraud/empty", contact="admin@acme.example", risk_class="minimal")
    admin.update_model("fraud/churn", review_due=datetime.now(UTC).date() - timedelta(days=1))
    report = admin.metadata_health(team="fraud")
    by_model = {m.model: m for m in report.models}
    churn, empty = by_model["model:fraud/churn"], by_model["model:fraud/empty"]
    # churn is high risk: both policies apply; its newest version has neither data nor a run.
    assert churn.version == "model:fraud/churn@1"
    assert {u.field for u in churn.missing} == {
        "model.contact",
        "model.documentation.intended_use",
        "model.documentation.limitations",
        "version.metrics",
        "version.inputs",
        "version.run",
    }
    assert churn.completeness == 0.0
    assert (churn.owner, churn.review_overdue, churn.days_since_review) == ("missing", True, None)
    # empty is minimal risk: only the gate applies; a known principal owns it; no version yet.
    assert empty.version is None
    assert empty.owner == "known"
    assert {u.field for u in empty.missing} == {
        "model.documentation.intended_use",
        "model.documentation.limitations",
        "version.metrics",
        "version.inputs",
    }
    assert empty.completeness == 1 / 5
    [team] = report.teams
    assert (team.team, team.models, team.complete, team.overdue_reviews) == ("fraud", 2, 0, 1)
    assert (team.owners_missing, team.owners_unknown) == (1, 0)
    assert team.completeness == (0.0 + 1 / 5) / 2


def test_a_service_account_acting_for_a_user_inherits_the_users_exclusions(
    open_registry: Open, people: dict[str, Any]
) -> None:
    from cairn.client import HttpRegistry
    from cairn.client.access import HttpAccess

    admin = people["admin"]
    access = (
        HttpAccess(admin)
        if isinstance(admin, HttpRegistry)
        else admin.access_service(secret_key="ab" * 32)
    )
    # Over HTTP the bots below become principals when first opened; create them first here.
    for bot, user in (("service:req-ci", "user:requester"), ("service:reg-ci", "user:registrant")):
        access.create_principal(bot, acts_for=user)
    requester_bot, registrant_bot = open_registry("service:req-ci"), open_registry("service:reg-ci")
    # The requester's pipeline asks; neither it nor its user may approve, nor the registrant's.
    asked = requester_bot.request_transition("fraud/churn@1", "production", reason="from CI")
    for conflicted in (requester_bot, people["requester"], registrant_bot):
        denied = _unchanged(
            admin, lambda c=conflicted: c.approve_transition(asked.id), PermissionDenied
        )
        assert "another approver" in denied.message
    # A version the registrant's pipeline registered: the registrant may not approve it either.
    registrant_bot.register_version(
        "fraud/churn", artifact_uri="s3://m/churn/2/model.pkl", digest=digest(2)
    )
    second = people["requester"].request_transition("fraud/churn@2", "staging", reason="ci")
    _unchanged(admin, lambda: people["registrant"].approve_transition(second.id), PermissionDenied)
    assert people["ann"].approve_transition(second.id).status is RequestStatus.APPROVED
