"""Who may do what: principals, roles and the one authorization rule.

Roles are granted per team (viewer < contributor < approver < admin); a principal may also be
a registry-wide admin or a read-only auditor. Every request names an :class:`Action` and,
where the action concerns one team's entities, that team; :func:`allowed` is the only place
that decides, and it denies anything it does not explicitly allow::

    >>> alice = Principal("user:alice", teams={"fraud": Role.CONTRIBUTOR})
    >>> allowed(alice, Action.WRITE, "fraud"), allowed(alice, Action.WRITE, "risk")
    (True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from cairn.core.errors import ValidationFailed
from cairn.core.names import canonical_name


class Role(IntEnum):
    """A team role; each includes the ones below it."""

    VIEWER = 1
    CONTRIBUTOR = 2
    APPROVER = 3
    ADMIN = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        return cls[text.strip().upper()]


class RegistryRole(StrEnum):
    ADMIN = "admin"
    AUDITOR = "auditor"


class Action(StrEnum):
    """What a request does, as authorization sees it."""

    READ = "read"  # catalogue reads: models, versions, lineage inputs, history
    WRITE = "write"  # create and change a team's entities (contributor)
    DEPLOY = "deploy"  # put a version into an environment (approver)
    APPROVE = "approve"  # decide a team's transition requests (approver)
    TEAM_ADMIN = "team-admin"  # change the team itself, grant its roles (team admin)
    PUBLISH_SCHEMA = "publish-schema"  # facet schemas are shared: contributor of any team
    REPORT_LINEAGE = "report-lineage"  # OpenLineage events name no team: contributor of any
    REGISTRY_ADMIN = "registry-admin"  # teams, environments, principals, rebuild
    AUDIT = "audit"  # the access log and log verification (auditor or admin)
    OWN_CREDENTIALS = "own-credentials"  # who am I, my own tokens: any authenticated principal


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user or service account and what it holds."""

    name: str  # "user:alice" or "service:ci"; the actor recorded on events
    teams: dict[str, Role] = field(default_factory=dict)
    registry_role: RegistryRole | None = None

    @property
    def is_admin(self) -> bool:
        return self.registry_role is RegistryRole.ADMIN


#: Reads of the catalogue are open to every authenticated principal unless a server says
#: otherwise: discovery is the point of a registry, and MLflow and DataHub default the same.
OPEN_READS = True

_TEAM_MINIMUM = {
    Action.WRITE: Role.CONTRIBUTOR,
    Action.DEPLOY: Role.APPROVER,
    Action.APPROVE: Role.APPROVER,
    Action.TEAM_ADMIN: Role.ADMIN,
}


def allowed(
    principal: Principal | None,
    action: Action,
    team: str | None = None,
    *,
    open_reads: bool = OPEN_READS,
) -> bool:
    """Whether ``principal`` (None: anonymous) may perform ``action`` on ``team``'s entities."""
    if principal is None:
        return False
    if principal.is_admin:
        return True
    if action is Action.AUDIT:
        return principal.registry_role is RegistryRole.AUDITOR
    if action is Action.OWN_CREDENTIALS:
        return True
    if action is Action.READ:
        if open_reads or principal.registry_role is RegistryRole.AUDITOR:
            return True
        return team is not None and team in principal.teams
    if action in (Action.PUBLISH_SCHEMA, Action.REPORT_LINEAGE):
        return any(role >= Role.CONTRIBUTOR for role in principal.teams.values())
    minimum = _TEAM_MINIMUM.get(action)
    if minimum is None or team is None:
        return False  # registry-wide actions belong to admins, handled above
    return principal.teams.get(team, 0) >= minimum


@dataclass(frozen=True, slots=True)
class GroupGrant:
    """What membership of an identity provider's group grants: a role in one team, or a
    registry-wide role. Written ``GROUP=TEAM:ROLE`` or ``GROUP=registry-admin`` (or
    ``registry-auditor``)::

        >>> GroupGrant.parse("fraud-devs=fraud:contributor")
        GroupGrant(group='fraud-devs', team='fraud', role=<Role.CONTRIBUTOR: 2>, registry_role=None)
    """

    group: str
    team: str | None = None
    role: Role | None = None
    registry_role: RegistryRole | None = None

    @classmethod
    def parse(cls, text: str) -> GroupGrant:
        group, sep, grant = text.partition("=")
        group, grant = group.strip(), grant.strip()
        team, colon, role = grant.partition(":")
        try:
            if not (sep and group and grant):
                raise ValueError
            if colon:
                return cls(group, team=canonical_name(team, field="team"), role=Role.parse(role))
            if grant.startswith("registry-"):
                return cls(group, registry_role=RegistryRole(grant.removeprefix("registry-")))
            raise ValueError
        except (ValueError, KeyError):
            raise ValidationFailed(
                f"cannot read the group grant {text!r}",
                field="grant",
                rule="format",
                hint="write GROUP=TEAM:ROLE (viewer, contributor, approver, admin) or "
                "GROUP=registry-admin or GROUP=registry-auditor",
            ) from None


def principal_from_groups(
    name: str, groups: Iterable[str], grants: Iterable[GroupGrant]
) -> Principal:
    """The principal a verified identity speaks for: the highest role each of its groups grants
    per team; registry admin wins over auditor. A group nobody mapped grants nothing."""
    held = set(groups)
    teams: dict[str, Role] = {}
    registry_role: RegistryRole | None = None
    for grant in grants:
        if grant.group not in held:
            continue
        if grant.team is not None and grant.role is not None:
            teams[grant.team] = max(teams.get(grant.team, grant.role), grant.role)
        elif grant.registry_role is RegistryRole.ADMIN or registry_role is None:
            registry_role = grant.registry_role
    return Principal(name, teams=teams, registry_role=registry_role)
