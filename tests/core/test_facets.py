from __future__ import annotations

import pytest

from cairn.core.errors import ValidationFailed
from cairn.core.facets import migrate, parse_facet_key, validate

SCHEMA = {"type": "object", "properties": {"pd": {"type": "number", "maximum": 1}}}


def test_violation_names_field_rule_and_schema() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate("acme.risk/1", SCHEMA, {"pd": 2})
    assert (caught.value.field, caught.value.rule, caught.value.schema) == (
        "pd",
        "maximum",
        "acme.risk/1",
    )


def test_integers_beyond_double_precision_are_refused_whatever_the_schema() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate("acme.risk/1", {}, {"ids": [1, 2**53]})
    assert caught.value.rule == "safe-integer"
    assert caught.value.field == "ids[1]"
    validate("acme.risk/1", {}, {"ids": [2**53 - 1, -(2**53 - 1)]})


def test_migration_skips_moves_of_absent_fields() -> None:
    ops = [
        {"op": "move", "from": "/pd", "path": "/probability"},
        {"op": "add", "path": "/unit", "value": "ratio"},
    ]
    assert migrate({"pd": 0.1}, ops) == {"probability": 0.1, "unit": "ratio"}
    assert migrate({}, ops) == {"unit": "ratio"}


@pytest.mark.parametrize("key", ["acme", "Acme.risk", "acme.risk/0", "acme.risk/x", "acme..risk"])
def test_malformed_facet_keys_are_refused(key: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_facet_key(key)
