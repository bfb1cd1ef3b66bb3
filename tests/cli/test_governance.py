"""``cairn policy``, ``request``, ``approve``, ``reject`` and ``alias`` from the shell."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_a_refused_request_lists_every_unmet_rule_and_exits_1(seeded: Cli) -> None:
    published = seeded(
        "policy", "publish", "fraud", "gate", "--require", "owner", "--require", "intended_use"
    )
    assert published.code == 0, published.stderr
    assert "policy:fraud/gate@1" in published.stdout
    refused = seeded("request", "create", "fraud/churn@1", "production", "--reason", "ship")
    assert refused.code == 1, refused.stderr
    assert "refused" in refused.stdout
    assert "model.contact" in refused.stdout
    assert "model.documentation.intended_use" in refused.stdout
    listed = seeded("request", "list", "--status", "refused", "--json").json()
    assert [r["status"] for r in listed] == ["refused"]


def test_request_then_approve_by_another_moves_the_alias(seeded: Cli) -> None:
    asked = seeded(
        "--actor", "user:alice", "request", "create", "fraud/churn@1", "champion",
        "--reason", "better recall", "--json",
    )  # fmt: skip
    assert asked.code == 0, asked.stderr
    request = asked.json()["id"]
    own = seeded("--actor", "user:alice", "approve", request)
    assert own.code == 2
    assert own.stderr.startswith("error: user:alice requested this transition")
    assert len(own.stderr.strip().splitlines()) == 1
    registrant = seeded("approve", request)  # user:tester registered the version
    assert registrant.code == 2 and "registered this version" in registrant.stderr
    approved = seeded("--actor", "user:bob", "approve", request, "--comment", "ok", "--json")
    assert approved.code == 0, approved.stderr
    assert approved.json()["status"] == "approved"
    aliases = seeded("alias", "list", "fraud/churn", "--json").json()
    assert [(a["alias"], a["version"]) for a in aliases] == [("champion", "model:fraud/churn@1")]
    shown = seeded("request", "show", request)
    assert "approved" in shown.stdout and "user:bob" in shown.stdout


def test_reject_needs_a_comment_and_bad_ids_are_usage_errors(seeded: Cli) -> None:
    asked = seeded(
        "--actor", "user:alice", "request", "create", "fraud/churn@1", "staging",
        "--reason", "try", "--json",
    )  # fmt: skip
    request = asked.json()["id"]
    assert seeded("reject", request).code == 2  # --comment is required
    rejected = seeded("--actor", "user:bob", "reject", request, "--comment", "not yet")
    assert rejected.code == 0, rejected.stderr
    assert "rejected" in rejected.stdout
    bad = seeded("approve", "nonsense")
    assert bad.code == 2
    assert bad.stderr.startswith("error: 'nonsense' is not a transition request id")
    wrong_alias = seeded("request", "create", "fraud/churn@1", "Prod", "--reason", "x")
    assert wrong_alias.code == 2 and "alias" in wrong_alias.stderr


def test_policy_versions_show_and_list(seeded: Cli) -> None:
    seeded("policy", "publish", "fraud", "gate", "--require", "owner")
    seeded("policy", "publish", "fraud", "gate", "--approvals", "2", "--risk-class", "high")
    assert seeded("policy", "show", "fraud/gate@1", "--json").json()["rules"]["require"] == [
        "owner"
    ]
    newest = seeded("policy", "show", "fraud/gate", "--json").json()
    assert (newest["version"], newest["rules"]["approvals"]) == (2, 2)
    listed = seeded("policy", "list", "fraud")
    assert "policy:fraud/gate@2" in listed.stdout and "@1" not in listed.stdout


def test_deprecate_shows_on_reads_and_bad_dates_are_usage_errors(seeded: Cli) -> None:
    done = seeded("deprecate", "fraud/churn@1", "--reason", "stale", "--sunset", "2027-03-31")
    assert done.code == 0, done.stderr
    assert "sunset 2027-03-31" in done.stdout
    shown = seeded("version", "show", "fraud/churn@1", "--json").json()
    assert shown["deprecation"]["reason"] == "stale"
    bad = seeded("deprecate", "fraud/churn", "--reason", "x", "--sunset", "soon")
    assert bad.code == 2
    assert bad.stderr.startswith("error: --sunset 'soon' is not a date")


def test_review_lists_overdue_models_and_complete_records_one(seeded: Cli) -> None:
    assert seeded("model", "update", "fraud/churn", "--review-due", "2020-01-01").code == 0
    overdue = seeded("review", "--team", "fraud", "--json").json()
    assert [(m["id"], m["review_overdue"]) for m in overdue] == [("model:fraud/churn", True)]
    assert "overdue" in seeded("review").stdout
    done = seeded("review", "complete", "fraud/churn", "--next-due", "2099-01-01", "--notes", "ok")
    assert done.code == 0, done.stderr
    assert "next due 2099-01-01" in done.stdout
    assert seeded("review", "--json").json() == []
    past = seeded("review", "complete", "fraud/churn", "--next-due", "2020-01-01")
    assert past.code == 2 and "must be after today" in past.stderr


def test_health_shows_teams_and_what_needs_attention(seeded: Cli) -> None:
    seeded("policy", "publish", "fraud", "gate", "--require", "owner", "--require", "limitations")
    report = seeded("health", "--json").json()
    [team] = report["teams"]
    assert (team["team"], team["models"], team["complete"]) == ("fraud", 1, 0)
    [model] = report["models"]
    assert {u["field"] for u in model["missing"]} == {
        "model.contact",
        "model.documentation.limitations",
    }
    shown = seeded("health", "--team", "fraud")
    assert shown.code == 0, shown.stderr
    assert "Needs attention" in shown.stdout and "model.contact" in shown.stdout


def test_a_service_account_can_be_made_to_act_for_a_user(seeded: Cli) -> None:
    assert seeded("principal", "create", "user:alice").code == 0
    made = seeded("principal", "create", "alice-ci", "--service", "--acts-for", "alice", "--json")
    assert made.code == 0, made.stderr
    assert made.json()["acts_for"] == "user:alice"
    wrong = seeded("principal", "create", "user:bob", "--acts-for", "alice")
    assert wrong.code == 2 and "only a service account acts for someone" in wrong.stderr
