"""What an identity provider's groups grant: the highest role per team, admin over auditor."""

from __future__ import annotations

import pytest

from cairn.core.access import GroupGrant, RegistryRole, Role, principal_from_groups
from cairn.core.errors import ValidationFailed

GRANTS = [
    GroupGrant.parse(text)
    for text in (
        "readers=fraud:viewer",
        "fraud-leads=fraud:approver",
        "risk-devs=risk:contributor",
        "audit=registry-auditor",
        "platform=registry-admin",
    )
]


def test_the_highest_role_a_user_holds_in_each_team_wins() -> None:
    ana = principal_from_groups("user:ana", ["fraud-leads", "readers", "risk-devs"], GRANTS)
    assert ana.teams == {"fraud": Role.APPROVER, "risk": Role.CONTRIBUTOR}
    assert ana.registry_role is None


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["audit"], RegistryRole.AUDITOR),
        (["audit", "platform"], RegistryRole.ADMIN),
        (["platform", "audit"], RegistryRole.ADMIN),
        ([], None),
        (["unmapped"], None),
    ],
)
def test_registry_admin_outranks_auditor(groups: list[str], role: RegistryRole | None) -> None:
    assert principal_from_groups("user:x", groups, GRANTS).registry_role is role


@pytest.mark.parametrize(
    "text",
    ["readers", "readers=", "=fraud:viewer", "x=fraud:owner", "x=registry-root", "x=Fraud:viewer"],
)
def test_a_grant_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        GroupGrant.parse(text)
