"""Typed events: every change to the registry is one, appended to the log.

An event is hashed over its canonical form (RFC 8785) of
``{seq, type, subject, actor, at, schema_version, payload}``; ``at`` is written as an RFC 3339
UTC timestamp with microseconds so the encoding is exact on every database::

    >>> at = parse_time("2026-01-01T00:00:00Z")
    >>> encode_event(1, "team.created", "team:risk", "alice", at, 1, {})[:24]
    b'{"actor":"alice","at":"2'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cairn.core.canonical import canonical_json, canonical_string


class EventType(StrEnum):
    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    MODEL_CREATED = "model.created"
    MODEL_UPDATED = "model.updated"
    VERSION_REGISTERED = "model_version.registered"
    VERSION_UPDATED = "model_version.updated"
    DATASET_CREATED = "dataset.created"
    DATASET_UPDATED = "dataset.updated"
    DATASET_VERSION_CREATED = "dataset_version.created"
    FEATURE_VIEW_CREATED = "feature_view.created"
    FEATURE_VIEW_UPDATED = "feature_view.updated"
    FEATURE_VIEW_VERSION_CREATED = "feature_view_version.created"
    RUN_CREATED = "run.created"
    RUN_UPDATED = "run.updated"
    ENVIRONMENT_CREATED = "environment.created"
    ENVIRONMENT_UPDATED = "environment.updated"
    DEPLOYMENT_STARTED = "deployment.started"
    DEPLOYMENT_RETIRED = "deployment.retired"
    EVALUATION_RECORDED = "evaluation.recorded"
    SCHEMA_PUBLISHED = "schema.published"
    PRINCIPAL_CREATED = "principal.created"
    PRINCIPAL_UPDATED = "principal.updated"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    # Tokens are recorded for audit (who issued which, for whom, until when); their payloads
    # never carry the secret or its hash.
    TOKEN_ISSUED = "token.issued"  # noqa: S105  (an event name, not a secret)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105  (an event name, not a secret)
    # The access log is kept apart from the event log and may be pruned; that it was, by whom
    # and up to when, is on the record.
    ACCESS_LOG_PRUNED = "access_log.pruned"
    # Governance: a policy version, a request to move an alias and each decision on it, and
    # the alias moves themselves.
    POLICY_PUBLISHED = "policy.published"
    TRANSITION_REQUESTED = "transition.requested"
    TRANSITION_APPROVED = "transition.approved"
    TRANSITION_REJECTED = "transition.rejected"
    TRANSITION_VOIDED = "transition.voided"
    ALIAS_SET = "alias.set"
    ALIAS_REMOVED = "alias.removed"
    DEPRECATION_RECORDED = "deprecation.recorded"
    REVIEW_COMPLETED = "review.completed"
    # Webhook subscriptions: recorded without their URL's path or query and without their
    # secret, either of which may be a credential.
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    # Lineage beyond what registrations imply: an OpenLineage event as it was received, and
    # edges added or removed by hand.
    LINEAGE_REPORTED = "lineage.reported"
    LINEAGE_EDGE_ADDED = "lineage.edge_added"
    LINEAGE_EDGE_REMOVED = "lineage.edge_removed"
    # Another name of an outside dataset identity: the alias's node, if any, merges into the
    # canonical one; later reports under either name land on it.
    LINEAGE_ALIAS_ADDED = "lineage.alias_added"
    LINEAGE_ALIAS_REMOVED = "lineage.alias_removed"


#: Events that change who may do what: a write emitting one changes the access stamp
#: (:mod:`cairn.store.access_stamp`), so no process trusts a token it verified before.
ACCESS_EVENTS = frozenset(
    {
        EventType.TEAM_CREATED,
        EventType.TEAM_UPDATED,
        EventType.PRINCIPAL_CREATED,
        EventType.PRINCIPAL_UPDATED,
        EventType.ROLE_GRANTED,
        EventType.ROLE_REVOKED,
        EventType.TOKEN_ISSUED,
        EventType.TOKEN_REVOKED,
    }
)

#: Payload schema version of every event type; bump one when its payload changes shape.
EVENT_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before the log gives it a sequence number, a time and hashes."""

    type: EventType
    subject: str
    payload: dict[str, Any] = field(default_factory=dict)
    schema_version: int = EVENT_SCHEMA_VERSION


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds: the one textual form of a time in the log."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def encode_event(
    seq: int,
    type_: str,
    subject: str,
    actor: str,
    at: datetime | str,
    schema_version: int,
    payload: dict[str, Any] | bytes,
) -> bytes:
    """The canonical bytes of an event: the Merkle leaf input.

    ``payload`` may be given already canonically encoded, so the log encodes it only once:
    the envelope's keys are fixed ASCII, so splicing the payload bytes in at its sorted place
    yields exactly the canonical encoding of the whole object.
    """
    body = payload if isinstance(payload, bytes) else canonical_json(payload)
    when = at if isinstance(at, str) else format_time(at)
    return b"".join(
        (
            b'{"actor":',
            canonical_string(actor),
            b',"at":',
            canonical_string(when),
            b',"payload":',
            body,
            b',"schema_version":',
            str(int(schema_version)).encode(),
            b',"seq":',
            str(int(seq)).encode(),
            b',"subject":',
            canonical_string(subject),
            b',"type":',
            canonical_string(type_),
            b"}",
        )
    )
