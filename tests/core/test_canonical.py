"""Canonical JSON: the fast path must agree byte for byte with the RFC 8785 reference."""

from __future__ import annotations

import math
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cairn.core.canonical import canonical_json, sha256_hex
from cairn.core.specs import VersionSpec

MAX_SAFE = 2**53 - 1  # the safe-integer range RFC 8785 accepts

keys = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)),  # any code point, incl. non-BMP
    max_size=8,
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False),
    st.floats(min_value=1e15, max_value=1e17, allow_nan=False),
    st.sampled_from(
        [0.0, -0.0, 1e-4, 9.999999999999999e-5, 1e16, 1e21, 5e-324, 1.7976931348623157e308]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-MAX_SAFE, max_value=MAX_SAFE),
    floats,
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(keys, inner, max_size=5),
    ),
    max_leaves=25,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(json_values)
@example({"\U0001f600": 1, "\ue000": 2, "a": 3})  # UTF-16 order differs from code-point order
@example({"b": [1.0, 0.5, 1e-7, 1e16, -0.0]})
@example([1e20, 1e21, 1.5e-7, 1e-5, 1e-10, 3.05, -2.0, 1e300, 5e-324])
@example({"x": "numpy>=2.0,<3", "y": ":1.0,", "z": "[1e-05]"})
@example({"x": {"\U00010000": None, "\uffff": True}})
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_non_bmp_keys_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, which sorts before U+E000.
    encoded = canonical_json({"\ue000": 1, "\U0001f600": 2})
    assert encoded == '{"\U0001f600":2,"\ue000":1}'.encode()


def test_integral_floats_are_written_as_integers() -> None:
    assert canonical_json({"b": 1, "a": [1.0, 0.5]}) == b'{"a":[1,0.5],"b":1}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({"metric": bad})
    with pytest.raises(ValueError):
        canonical_json([1, [bad]])


def test_keys_that_would_collide_are_refused() -> None:
    # Object keys must be strings (specs refuse others); an int key that would collide with
    # a string key after coercion must never yield two equal keys.
    with pytest.raises(TypeError):
        canonical_json({1: "x", "1": "y"})


def test_facet_documents_must_have_string_keys() -> None:
    with pytest.raises(ValidationError):
        VersionSpec.model_validate(
            {
                "model": "t/m",
                "artifact_uri": "s3://b/m",
                "digest": "sha256:" + "0" * 64,
                "facets": {"acme.x/1": {"nested": {1: "x"}}},
            }
        )


@pytest.mark.parametrize(
    "text",
    ["version 1.0, then 2", "x:1e-05]", "ratio [3.0}", "\U0001f600 beyond the BMP"],
)
def test_strings_that_look_like_numbers_or_hold_astral_characters(text: str) -> None:
    value = {"s": text, text: [1, 0.25], "n": 0.5}
    assert canonical_json(value) == rfc8785.dumps(value)


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
