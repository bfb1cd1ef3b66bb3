"""Facet schemas evolve by published, immutable versions with JSON Patch migrations."""

from __future__ import annotations

from typing import Any

import pytest

from cairn.core.errors import Conflict, NotFound, ValidationFailed
from cairn.local import LocalRegistry

DIGEST = "sha256:" + "c" * 64
SCHEMA = "acme.credit-risk"

V1: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pd": {"type": "number", "minimum": 0, "maximum": 1},
        "segment": {"type": "string"},
    },
    "required": ["pd"],
}
V2: dict[str, Any] = {
    "type": "object",
    "properties": {
        "probability_of_default": {"type": "number", "minimum": 0, "maximum": 1},
        "segment": {"type": "string"},
        "horizon_months": {"type": "integer", "minimum": 1},
    },
    "required": ["probability_of_default", "horizon_months"],
}
MIGRATION = [
    {"op": "move", "from": "/pd", "path": "/probability_of_default"},
    {"op": "add", "path": "/horizon_months", "value": 12},
]


@pytest.fixture
def reg(registry: LocalRegistry) -> LocalRegistry:
    registry.create_team("acme")
    registry.register_schema(SCHEMA, 1, V1, team="acme", description="credit risk")
    return registry


def test_facets_survive_an_upgrade(reg: LocalRegistry) -> None:
    reg.create_model(
        "acme/scorer", facets={f"{SCHEMA}/1": {"pd": 0.02, "segment": "retail", "note": "x"}}
    )
    reg.register_version(
        "acme/scorer", "s3://m/scorer/1", DIGEST, metadata={"facets": {SCHEMA: {"pd": 0.5}}}
    )
    model_facet = reg.get_model("acme/scorer").facets[SCHEMA]
    assert (model_facet.schema_version, model_facet.data["pd"]) == (1, 0.02)
    # A field the schema does not name survives the round trip.
    assert model_facet.data["note"] == "x"

    published = reg.register_schema(SCHEMA, 2, V2, migration=MIGRATION)
    assert published.ref == f"{SCHEMA}/2"
    assert published.migration == MIGRATION

    # Old facets still read as version 1, unchanged.
    model = reg.get_model("acme/scorer")
    assert model.facets[SCHEMA].schema_version == 1
    assert model.facets[SCHEMA].data == {"pd": 0.02, "segment": "retail", "note": "x"}
    version = reg.get_version("acme/scorer@1")
    assert version.facets[SCHEMA].schema_version == 1
    assert version.facets[SCHEMA].data == {"pd": 0.5}

    # Upgrading moves them to version 2 with migrated data.
    assert reg.upgrade_facets("model:acme/scorer") == [f"{SCHEMA}/2"]
    upgraded = reg.get_model("acme/scorer").facets[SCHEMA]
    assert upgraded.schema_version == 2
    assert upgraded.data == {
        "probability_of_default": 0.02,
        "horizon_months": 12,
        "segment": "retail",
        "note": "x",
    }
    assert reg.upgrade_facets("model:acme/scorer@1") == [f"{SCHEMA}/2"]
    assert reg.get_version("acme/scorer@1").facets[SCHEMA].data == {
        "probability_of_default": 0.5,
        "horizon_months": 12,
    }
    # Nothing left to move: no new event.
    head = reg.log_head()
    assert reg.upgrade_facets("model:acme/scorer") == []
    assert reg.log_head() == head
    assert reg.check_log().ok


def test_facet_written_without_version_uses_the_latest(reg: LocalRegistry) -> None:
    reg.register_schema(SCHEMA, 2, V2, migration=MIGRATION)
    reg.create_model(
        "acme/scorer", facets={SCHEMA: {"probability_of_default": 0.1, "horizon_months": 6}}
    )
    assert reg.get_model("acme/scorer").facets[SCHEMA].schema_version == 2
    # Writing against version 1 explicitly still validates against version 1.
    reg.create_model("acme/legacy", facets={f"{SCHEMA}/1": {"pd": 0.3}})
    assert reg.get_model("acme/legacy").facets[SCHEMA].schema_version == 1


def test_violation_names_field_rule_and_schema(reg: LocalRegistry) -> None:
    reg.create_model("acme/scorer")
    head = reg.log_head()
    with pytest.raises(ValidationFailed) as info:
        reg.update_model("acme/scorer", facets={f"{SCHEMA}/1": {"pd": 1.5}})
    assert info.value.field == "pd"
    assert info.value.rule == "maximum"
    assert info.value.schema == f"{SCHEMA}/1"
    with pytest.raises(ValidationFailed) as missing:
        reg.update_model("acme/scorer", facets={SCHEMA: {"segment": "retail"}})
    assert missing.value.rule == "required"
    assert missing.value.schema == f"{SCHEMA}/1"
    with pytest.raises(ValidationFailed) as wrong_type:
        reg.update_model("acme/scorer", facets={SCHEMA: {"pd": 0.1, "segment": 3}})
    assert (wrong_type.value.field, wrong_type.value.rule) == ("segment", "type")
    assert reg.log_head() == head
    assert reg.get_model("acme/scorer").facets == {}


def test_published_versions_are_immutable_and_sequential(reg: LocalRegistry) -> None:
    head = reg.log_head()
    with pytest.raises(Conflict):
        reg.register_schema(SCHEMA, 1, {"type": "object"})
    with pytest.raises(ValidationFailed) as skipped:
        reg.register_schema(SCHEMA, 3, V2, migration=MIGRATION)
    assert (skipped.value.field, skipped.value.rule) == ("version", "sequential")
    with pytest.raises(ValidationFailed) as no_migration:
        reg.register_schema(SCHEMA, 2, V2)
    assert (no_migration.value.field, no_migration.value.rule) == ("migration", "required")
    assert reg.log_head() == head

    reg.register_schema(SCHEMA, 2, V2, migration=MIGRATION)
    with pytest.raises(Conflict):
        reg.register_schema(SCHEMA, 1, V1)
    with pytest.raises(Conflict):
        reg.register_schema(SCHEMA, 2, V2, migration=MIGRATION)
    with pytest.raises(ValidationFailed) as third:
        reg.register_schema(SCHEMA, 3, V2)
    assert third.value.rule == "required"
    assert reg.get_schema(f"{SCHEMA}/1").json_schema == V1
    assert reg.get_schema(SCHEMA).version == 2


def test_first_version_must_be_one(registry: LocalRegistry) -> None:
    with pytest.raises(ValidationFailed) as info:
        registry.register_schema("acme.other", 2, V1, migration=[])
    assert info.value.rule == "sequential"


@pytest.mark.parametrize(
    ("name", "schema", "migration"),
    [
        ("Acme.Risk", V1, None),  # bad facet name
        ("cairn.custom", V1, None),  # reserved prefix
        ("acme.bad", {"type": "no-such-type"}, None),  # not a JSON Schema
        ("acme.bad", V1, [{"op": "test", "path": "/x", "value": 1}]),  # unsupported op
        ("acme.bad", V1, [{"op": "move", "path": "/x"}]),  # move without from
    ],
)
def test_bad_schemas_are_refused(
    registry: LocalRegistry, name: str, schema: dict[str, Any], migration: Any
) -> None:
    head = registry.log_head()
    with pytest.raises(ValidationFailed):
        registry.register_schema(name, 1, schema, migration=migration)
    assert registry.log_head() == head


def test_builtin_and_unknown_schemas(reg: LocalRegistry) -> None:
    refs = [s.ref for s in reg.list_schemas()]
    assert "cairn.documentation/1" in refs
    assert "cairn.dependencies/1" in refs
    assert f"{SCHEMA}/1" in refs
    builtin = reg.get_schema("cairn.documentation/1")
    assert builtin.builtin
    assert "purpose" in builtin.json_schema["properties"]
    with pytest.raises(NotFound):
        reg.get_schema("acme.nothing/1")
    reg.create_model("acme/scorer")
    with pytest.raises(NotFound):
        reg.update_model("acme/scorer", facets={"acme.nothing/1": {}})
    with pytest.raises(ValidationFailed) as builtin_facet:
        reg.update_model("acme/scorer", facets={"cairn.documentation/1": {"purpose": "x"}})
    assert builtin_facet.value.rule == "builtin"


def test_unknown_documentation_fields_survive(registry: LocalRegistry) -> None:
    registry.create_team("acme")
    documentation = {"purpose": "score loans", "reviewer_notes": "added by a newer producer"}
    registry.create_model("acme/scorer", documentation=documentation)
    stored = registry.get_model("acme/scorer").documentation.model_dump()
    assert stored["purpose"] == "score loans"
    assert stored["reviewer_notes"] == "added by a newer producer"
