"""Canonical names and identifiers: one spelling per name, nothing silently rewritten."""

from __future__ import annotations

import pytest

from cairn.core.errors import ValidationFailed
from cairn.core.names import MAX_NAME_LENGTH, Kind, Ref, canonical_name, parse_ref

#: Spellings that could be confused with ``churn``; every one must be refused.
LOOKALIKES = [
    "churn%20",
    "%63hurn",
    "\uff43hurn",  # full-width c
    "churn\u200b",  # zero-width space
    "Churn",
    "..",
    "a/b",
    "churn\x00",
    "",
    "c" * (MAX_NAME_LENGTH + 1),
    "churn ",
    " churn",
    "-churn",
    "churn-",
    "ch..urn",
    "\u0441hurn",  # Cyrillic es
]


def test_canonical_name_accepts_churn() -> None:
    assert canonical_name("churn") == "churn"
    assert canonical_name("c" * MAX_NAME_LENGTH) == "c" * MAX_NAME_LENGTH
    for ok in ["a", "x1", "churn-v2", "churn_v2", "churn.v2", "0day"]:
        assert canonical_name(ok) == ok


@pytest.mark.parametrize("raw", LOOKALIKES, ids=repr)
def test_lookalike_names_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        canonical_name(raw)
    assert info.value.rule == "name"
    assert info.value.field == "name"
    assert info.value.details.get("hint")


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [
        ("Churn", "churn"),
        ("\uff43hurn", "churn"),
        ("churn\u200b", "churn"),
        ("churn ", "churn"),
        ("churn%20", "churn"),
        ("%63hurn", "churn"),
        ("Card Fraud", "card-fraud"),
    ],
)
def test_refusal_suggests_the_canonical_spelling(raw: str, suggestion: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        canonical_name(raw, field="model")
    assert info.value.field == "model"
    assert f"did you mean {suggestion!r}" in info.value.details["hint"]
    assert f"did you mean {suggestion!r}" in info.value.diagnostics()


def test_too_long_name_says_the_limit() -> None:
    with pytest.raises(ValidationFailed) as info:
        canonical_name("c" * (MAX_NAME_LENGTH + 1))
    assert str(MAX_NAME_LENGTH) in info.value.details["hint"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model:fraud/churn@3", Ref(Kind.MODEL, "churn", "fraud", 3)),
        ("model:fraud/churn", Ref(Kind.MODEL, "churn", "fraud", None)),
        ("dataset:risk/customers@2", Ref(Kind.DATASET, "customers", "risk", 2)),
        ("feature-view:risk/spend@10", Ref(Kind.FEATURE_VIEW, "spend", "risk", 10)),
        ("run:fraud/train-42", Ref(Kind.RUN, "train-42", "fraud", None)),
        ("team:fraud", Ref(Kind.TEAM, "fraud")),
        ("environment:prod-eu", Ref(Kind.ENVIRONMENT, "prod-eu")),
    ],
)
def test_parse_ref_round_trips(text: str, expected: Ref) -> None:
    ref = parse_ref(text)
    assert ref == expected
    assert str(ref) == text
    assert parse_ref(str(ref)) == ref


def test_parse_ref_parts() -> None:
    ref = parse_ref("model:fraud/churn@3")
    assert ref.path == "fraud/churn"
    assert ref.unversioned() == Ref(Kind.MODEL, "churn", "fraud")
    assert str(ref.unversioned()) == "model:fraud/churn"


def test_kind_may_be_given_instead_of_prefixed() -> None:
    assert parse_ref("fraud/churn@3", kind=Kind.MODEL) == parse_ref("model:fraud/churn@3")
    assert parse_ref("risk/customers@2", kind=Kind.DATASET).kind is Kind.DATASET


@pytest.mark.parametrize(
    ("text", "kwargs", "rule"),
    [
        ("fraud/churn", {}, "kind"),  # no kind at all
        ("widget:fraud/churn", {}, "kind"),  # unknown kind
        ("dataset:risk/customers@2", {"kind": Kind.MODEL}, "kind"),  # wrong kind
        ("model:fraud/churn", {"versioned": True}, "versioned"),
        ("model:fraud/churn@3", {"versioned": False}, "unversioned"),
        ("model:fraud/churn@0", {}, "positive-integer"),
        ("model:fraud/churn@03", {}, "positive-integer"),
        ("model:fraud/churn@-1", {}, "positive-integer"),
        ("model:fraud/churn@x", {}, "positive-integer"),
        ("model:fraud/churn@", {}, "positive-integer"),
        ("model:fraud/churn@\u0663", {}, "positive-integer"),  # Arabic-Indic digit three
        ("model:churn", {}, "namespaced"),
        ("model:a/b/c", {}, "namespaced"),
        ("team:a/b", {}, "global"),
        ("model:Fraud/churn", {}, "name"),
        ("model:fraud/Churn", {}, "name"),
        ("model:fraud/churn%20", {}, "name"),
    ],
)
def test_parse_ref_refuses(text: str, kwargs: dict[str, object], rule: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_ref(text, **kwargs)  # type: ignore[arg-type]
    assert info.value.rule == rule


def test_namespace_errors_name_the_team_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_ref("model:Fraud/churn")
    assert info.value.field == "team"
