"""Governance: versioned policies, and aliases that move only through approved requests.

A model's alias (``staging``, ``production``, ``champion``) points at one of its versions and
changes only when a transition request is approved: by as many distinct approvers as the
strictest applicable policy asks, none of them the requester or the version's registrant
(:func:`cairn.core.governance.conflicted`, enforced here, not in a route or a UI). Each
approval is bound to the version's content digest; the request is re-checked against the
team's policies when the last approval arrives, and refused, listing every unmet rule, if they
no longer hold. An alias remembers the digest it was approved for: when the version's artifact
or metadata changes later, the alias is removed in the same transaction (``alias.removed``),
so an alias always names content that was approved as it is now.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from cairn.core.entities import Deprecation, Model, ModelVersion
from cairn.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cairn.core.events import EventDraft, EventType
from cairn.core.governance import (
    ALIAS_PATTERN,
    REQUEST_ID_PATTERN,
    Alias,
    HealthReport,
    ModelHealth,
    OwnerStatus,
    Policy,
    PolicyRef,
    PolicyRules,
    RequestStatus,
    TransitionRequest,
    Unmet,
    approvals_needed,
    conflicted,
    content_digest,
    deprecation_unmet,
    distinct_approvers,
    model_health,
    parse_policy_ref,
    team_health,
    unmet_rules,
)
from cairn.core.names import Kind, Ref, canonical_name, parse_ref
from cairn.services.base import Service, new_id, page_size
from cairn.store import governance as q
from cairn.store import lookup, reads
from cairn.store import tables as t
from cairn.store.uow import Tx

_ALIAS = re.compile(ALIAS_PATTERN)
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)


def alias_name(text: str) -> str:
    if not _ALIAS.match(text):
        raise ValidationFailed(
            f"{text!r} is not an alias name",
            field="alias",
            rule="pattern",
            hint="lower-case letters, digits and '-', starting with a letter: production",
        )
    return text


def _request_id(text: str) -> str:
    if not _REQUEST_ID.match(text):
        raise ValidationFailed(
            f"{text!r} is not a transition request id",
            field="request",
            rule="pattern",
            hint="use the id 'cairn request' printed, like transition:0190…",
        )
    return text.removeprefix(q.REQUEST_PREFIX)


class GovernanceService(Service):
    # -- policies ---------------------------------------------------------------------------
    def publish_policy(self, team: str, name: str, rules: PolicyRules) -> Policy:
        """Publish the next version of a team's policy; earlier decisions keep naming theirs."""
        team = canonical_name(team.removeprefix("team:"), field="team")
        name = canonical_name(name, field="name")
        with self.store.write(self.actor) as tx:
            team_id = lookup.team_id(tx.conn, team)
            version = q.latest_policy_version(tx.conn, team_id, name) + 1
            payload = {
                "id": new_id(),
                "team_id": team_id,
                "name": name,
                "version": version,
                "rules": rules.model_dump(mode="json"),
            }
            subject = f"policy:{team}/{name}"
            tx.emit(EventDraft(EventType.POLICY_PUBLISHED, subject, payload))
            return q.policies(tx.conn, team_id=team_id, name=name, version=version)[0]

    def list_policies(self, team: str) -> list[Policy]:
        """The newest version of each of a team's policies."""
        team = canonical_name(team.removeprefix("team:"), field="team")
        with self.store.read() as conn:
            return q.policies(conn, team_id=lookup.team_id(conn, team), latest=True)

    def get_policy(self, ref: str) -> Policy:
        """``team/name`` (the newest version) or ``team/name@version``."""
        team, name, version = parse_policy_ref(ref)
        with self.store.read() as conn:
            team_id = lookup.team_id(conn, canonical_name(team, field="team"))
            found = q.policies(
                conn, team_id=team_id, name=name, version=version, latest=version is None
            )
        if not found:
            wanted = f"policy:{team}/{name}" + (f"@{version}" if version else "")
            raise NotFound(f"{wanted} does not exist")
        return found[0]

    # -- transition requests ------------------------------------------------------------------
    def request_transition(
        self, version: str, alias: str, *, reason: str, release_notes: str | None = None
    ) -> TransitionRequest:
        """Ask for ``alias`` of the version's model to point at it. The team's policies are
        checked now: a request that fails one is recorded as refused, with every unmet rule."""
        ref = parse_ref(version, kind=Kind.MODEL, versioned=True)
        alias = alias_name(alias)
        if not reason.strip():
            raise ValidationFailed(
                "a transition request needs a reason", field="reason", rule="required"
            )
        with self.store.write(self.actor) as tx:
            model, found, model_id, version_id = _subject(tx.conn, ref)
            digest = content_digest(found)
            current = q.alias_row(tx.conn, model_id, alias)
            if current is not None and current.version_id == version_id:
                raise Conflict(f"{alias} of {found.model} already points at {found.id}")
            if q.has_pending(tx.conn, version_id, alias):
                raise Conflict(
                    f"a request to point {alias} at {found.id} is already pending",
                    hint="approve or reject it first (cairn request list)",
                )
            applicable = _applicable(tx.conn, model, alias)
            unmet = deprecation_unmet(model, found) + unmet_rules(applicable, model, found)
            request_id = new_id()
            payload = {
                "id": request_id,
                "model_id": model_id,
                "version_id": version_id,
                "alias": alias,
                "status": RequestStatus.REFUSED if unmet else RequestStatus.PENDING,
                "reason": reason,
                "release_notes": release_notes,
                "digest": digest,
                "approvals_needed": approvals_needed(applicable),
                "policies": [_ref(p, r).model_dump() for p, r in applicable],
                "unmet": [u.model_dump(mode="json") for u in unmet],
            }
            tx.emit(EventDraft(EventType.TRANSITION_REQUESTED, found.id, payload))
            return q.requests(tx.conn, request_id=request_id)[0]

    def approve(self, request: str, *, comment: str | None = None) -> TransitionRequest:
        """Approve a pending request. The approval counts for the version's content as it is
        now; once enough distinct approvers agree and the policies still hold, the alias moves.
        """
        request_id = _request_id(request)
        with self.store.write(self.actor) as tx:
            pending = self._pending_request(tx.conn, request_id)
            ref = parse_ref(pending.version, kind=Kind.MODEL)
            model, found, model_id, version_id = _subject(tx.conn, ref)
            people = (self.actor, pending.requested_by, found.registered_by)
            reason = conflicted(
                self.actor,
                requester=pending.requested_by,
                registrant=found.registered_by,
                acts_for=q.acts_for(tx.conn, people),
            )
            if reason:
                raise PermissionDenied(reason, rule="separation-of-duties")
            digest = content_digest(found)
            approvers = distinct_approvers(pending.approvals, digest) | {self.actor}
            # A policy published since the request may ask for more approvers: the stricter
            # count of then and now applies.
            applicable = _applicable(tx.conn, model, pending.alias)
            needed = max(pending.approvals_needed, approvals_needed(applicable))
            status = RequestStatus.PENDING
            unmet: list[Unmet] = []
            if len(approvers) >= needed:
                unmet = unmet_rules(applicable, model, found)
                status = RequestStatus.REFUSED if unmet else RequestStatus.APPROVED
            if status is RequestStatus.REFUSED:
                self._decide(
                    tx, pending, found, EventType.TRANSITION_VOIDED, status, comment, unmet
                )
            else:
                approval = {
                    "request_id": request_id,
                    "digest": digest,
                    "comment": comment,
                    "status": status,
                    "approvals_needed": needed,
                }
                tx.emit(EventDraft(EventType.TRANSITION_APPROVED, found.id, approval))
            if status is RequestStatus.APPROVED:
                moved = {
                    "model_id": model_id,
                    "alias": pending.alias,
                    "version_id": version_id,
                    "digest": digest,
                    "request_id": request_id,
                }
                tx.emit(EventDraft(EventType.ALIAS_SET, found.id, moved))
            return q.requests(tx.conn, request_id=request_id)[0]

    def reject(self, request: str, *, comment: str) -> TransitionRequest:
        """Reject a pending request, saying why."""
        request_id = _request_id(request)
        if not comment.strip():
            raise ValidationFailed(
                "a rejection needs a comment saying why", field="comment", rule="required"
            )
        with self.store.write(self.actor) as tx:
            pending = self._pending_request(tx.conn, request_id)
            found = _subject(tx.conn, parse_ref(pending.version, kind=Kind.MODEL))[1]
            self._decide(
                tx, pending, found, EventType.TRANSITION_REJECTED, RequestStatus.REJECTED, comment
            )
            return q.requests(tx.conn, request_id=request_id)[0]

    # -- deprecation ----------------------------------------------------------------------
    def deprecate(
        self,
        subject: str,
        *,
        reason: str,
        sunset: date | None = None,
        replacement: str | None = None,
    ) -> Deprecation:
        """Plan a model's or a version's retirement. Every read shows it from now on; no alias
        may move to it, and requests waiting to move one there are void."""
        ref = parse_ref(subject, kind=Kind.MODEL, versioned=None)
        kind = "model_version" if ref.version else "model"
        with self.store.write(self.actor) as tx:
            subject_id = lookup.entity_id(tx.conn, ref)
            if replacement is not None:
                replacement = self._replacement(tx.conn, ref, replacement)
            plan = {
                "reason": reason,
                "sunset": sunset.isoformat() if sunset else None,
                "replacement": replacement,
            }
            payload = {"id": subject_id, "kind": kind, "deprecation": plan}
            tx.emit(EventDraft(EventType.DEPRECATION_RECORDED, str(ref), payload))
            r = t.transition_requests.c
            waiting = select(r.id, r.version_id).where(r.status == RequestStatus.PENDING)
            waiting = waiting.where((r.version_id if ref.version else r.model_id) == subject_id)
            for request_id, version_id in tx.conn.execute(waiting).all():
                void = {
                    "request_id": request_id,
                    "status": RequestStatus.VOID,
                    "comment": f"deprecated: {reason}",
                }
                version = q.version_ref(tx.conn, version_id)
                tx.emit(EventDraft(EventType.TRANSITION_VOIDED, version, void))
            table = t.model_versions if ref.version else t.models
            stored = tx.conn.execute(
                select(table.c.deprecation).where(table.c.id == subject_id)
            ).scalar_one()
            return Deprecation.model_validate(stored)

    def _replacement(self, conn: Connection, ref: Ref, replacement: str) -> str:
        other = parse_ref(replacement, kind=Kind.MODEL, versioned=None)
        if str(other) == str(ref):
            raise ValidationFailed(
                f"{ref} cannot replace itself", field="replacement", rule="distinct"
            )
        other_id = lookup.entity_id(conn, other)  # NotFound if it does not exist
        table = t.model_versions if other.version else t.models
        deprecated = conn.execute(
            select(table.c.deprecation).where(table.c.id == other_id)
        ).scalar()
        if deprecated is not None:
            raise ValidationFailed(
                f"the replacement {other} is deprecated itself",
                field="replacement",
                rule="not-deprecated",
                hint="name what people should use instead",
            )
        return str(other)

    # -- reviews ------------------------------------------------------------------------------
    def complete_review(self, model: str, *, next_due: date, notes: str | None = None) -> Model:
        """Record that a model's metadata was reviewed, and when it is due again."""
        ref = parse_ref(model, kind=Kind.MODEL, versioned=False)
        with self.store.write(self.actor) as tx:
            if next_due <= tx.at.date():
                raise ValidationFailed(
                    f"the next review ({next_due}) must be after today ({tx.at.date()})",
                    field="next_due",
                    rule="future",
                    hint="e.g. a quarter from now",
                )
            model_id = lookup.entity_id(tx.conn, ref)
            payload = {"id": model_id, "review_due": next_due.isoformat(), "notes": notes}
            tx.emit(EventDraft(EventType.REVIEW_COMPLETED, str(ref), payload))
            return reads.models(tx.conn, reads.model_query().where(t.models.c.id == model_id))[0]

    def reviews(
        self, *, team: str | None = None, overdue_only: bool = True, limit: int = 100
    ) -> list[Model]:
        """Models with a review date, soonest (most overdue) first; only overdue ones unless
        ``overdue_only`` is False."""
        m = t.models.c
        query = (
            reads.model_query()
            .where(m.review_due.is_not(None))
            .order_by(m.review_due, t.teams.c.name, m.name)
            .limit(page_size(limit))
        )
        with self.store.read() as conn:
            if team:
                query = query.where(
                    m.team_id == lookup.team_id(conn, canonical_name(team, field="team"))
                )
            if overdue_only:
                query = query.where(m.review_due < self.store.clock().date())
            return reads.models(conn, query)

    # -- metadata health ----------------------------------------------------------------------
    def health(self, *, team: str | None = None) -> HealthReport:
        """Per model and per team: completeness against the team's policies, the owner, the
        review date, and every missing item (what a team lead reads before a review)."""
        m = t.models.c
        query = reads.model_query().order_by(t.teams.c.name, m.name)
        with self.store.read() as conn:
            if team:
                team = canonical_name(team.removeprefix("team:"), field="team")
                query = query.where(m.team_id == lookup.team_id(conn, team))
            models = reads.models(conn, query)
            known = {
                name
                for (name,) in conn.execute(
                    select(t.principals.c.name).where(t.principals.c.disabled.is_(False))
                )
            }
            policies: dict[str, list[tuple[str, PolicyRules]]] = {}
            found: list[ModelHealth] = []
            today = self.store.clock().date()
            for model in models:
                if model.team not in policies:
                    team_id = lookup.team_id(conn, model.team)
                    policies[model.team] = [
                        (p.id, p.rules) for p in q.policies(conn, team_id=team_id, latest=True)
                    ]
                newest = None
                if model.latest_version:
                    params = {
                        "team": model.team,
                        "model": model.name,
                        "version": model.latest_version,
                    }
                    newest = reads.fetch_versions(conn, reads.VERSION_BY_NAME, params)[0]
                owner = _owner(model.contact, known)
                found.append(model_health(model, newest, policies[model.team], owner, today))
        by_team: dict[str, list[ModelHealth]] = {}
        for item in found:
            by_team.setdefault(item.team, []).append(item)
        return HealthReport(
            teams=[team_health(name, items) for name, items in by_team.items()], models=found
        )

    def get_request(self, request: str) -> TransitionRequest:
        request_id = _request_id(request)
        with self.store.read() as conn:
            found = q.requests(conn, request_id=request_id)
        if not found:
            raise NotFound(f"{q.REQUEST_PREFIX}{request_id} does not exist")
        return found[0]

    def list_requests(
        self,
        *,
        model: str | None = None,
        status: RequestStatus | str | None = None,
        limit: int = 100,
    ) -> list[TransitionRequest]:
        """Requests newest first, of one model and in one status if given."""
        wanted = RequestStatus(status) if status is not None else None
        with self.store.read() as conn:
            model_id = (
                lookup.entity_id(conn, parse_ref(model, kind=Kind.MODEL, versioned=False))
                if model
                else None
            )
            return q.requests(conn, model_id=model_id, status=wanted, limit=page_size(limit))

    def aliases(self, model: str) -> list[Alias]:
        ref = parse_ref(model, kind=Kind.MODEL, versioned=False)
        with self.store.read() as conn:
            model_id = lookup.entity_id(conn, ref)
            return q.aliases(conn, model_id=model_id)

    # -- helpers ----------------------------------------------------------------------------
    def _pending_request(self, conn: Connection, request_id: str) -> TransitionRequest:
        found = q.requests(conn, request_id=request_id)
        if not found:
            raise NotFound(f"{q.REQUEST_PREFIX}{request_id} does not exist")
        if found[0].status is not RequestStatus.PENDING:
            raise Conflict(f"{found[0].id} is {found[0].status}, not pending")
        return found[0]

    def _decide(
        self,
        tx: Tx,
        pending: TransitionRequest,
        version: ModelVersion,
        event: EventType,
        status: RequestStatus,
        comment: str | None,
        unmet: list[Unmet] | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "request_id": pending.id.removeprefix(q.REQUEST_PREFIX),
            "status": status,
            "comment": comment,
        }
        if unmet is not None:
            payload["unmet"] = [u.model_dump(mode="json") for u in unmet]
        tx.emit(EventDraft(event, version.id, payload))


def remove_stale_aliases(tx: Tx, version_id: str) -> None:
    """After a version changed: remove every alias approved for its earlier content."""
    aliases = q.aliases(tx.conn, version_id=version_id)
    if not aliases:
        return
    tx.flush()
    found = reads.versions(
        tx.conn, reads.version_query().where(t.model_versions.c.id == version_id)
    )
    digest = content_digest(found[0])
    model_id = q.model_id_of(tx.conn, version_id)
    for alias in aliases:
        if alias.digest != digest:
            payload = {
                "model_id": model_id,
                "alias": alias.alias,
                "reason": "the version changed after its approval",
                "approved_digest": alias.digest,
                "digest": digest,
            }
            tx.emit(EventDraft(EventType.ALIAS_REMOVED, found[0].id, payload))


def _owner(contact: str | None, known: set[str]) -> OwnerStatus:
    """A contact is a known user when its mailbox name is an enabled user's name
    (alice@example.com and user:alice): someone the registry can hold to account."""
    if not contact:
        return OwnerStatus.MISSING
    mailbox = contact.split("@", 1)[0].lower()
    return OwnerStatus.KNOWN if f"user:{mailbox}" in known else OwnerStatus.UNKNOWN


# -- queries ------------------------------------------------------------------------------------
def _subject(conn: Connection, ref: Ref) -> tuple[Model, ModelVersion, str, str]:
    """The version ``ref`` names, its model, and their keys (NotFound naming what is missing)."""
    version_id = lookup.entity_id(conn, ref)
    model_id = q.model_id_of(conn, version_id)
    params = {"team": ref.namespace, "model": ref.name, "version": ref.version}
    version = reads.fetch_versions(conn, reads.VERSION_BY_NAME, params)[0]
    model = reads.models(conn, reads.model_query().where(t.models.c.id == model_id))[0]
    return model, version, model_id, version_id


def _applicable(conn: Connection, model: Model, alias: str) -> list[tuple[str, PolicyRules]]:
    team_id = lookup.team_id(conn, model.team)
    return [
        (p.id, p.rules)
        for p in q.policies(conn, team_id=team_id, latest=True)
        if p.rules.applies(alias, model.risk_class)
    ]


def _ref(policy: str, rules: PolicyRules) -> PolicyRef:
    return PolicyRef(id=policy, approvals=rules.approvals)
