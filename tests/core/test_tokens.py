"""API tokens: format, parsing, and the checksum that refuses typos before any lookup."""

from __future__ import annotations

import doctest

import pytest

from cairn.core import tokens
from cairn.core.errors import Unauthenticated
from cairn.core.tokens import (
    ALPHABET,
    TOKEN_LENGTH,
    checksum,
    new_token,
    parse_token,
    token_hash,
)


def test_module_example_runs() -> None:
    assert doctest.testmod(tokens).failed == 0


def test_round_trip() -> None:
    token_id, text = new_token()
    assert len(text) == TOKEN_LENGTH == 56
    assert text.startswith("cairn_" + token_id)
    parsed_id, secret = parse_token(text)
    assert parsed_id == token_id
    assert text == "cairn_" + token_id + secret + checksum(text[:-6])
    assert set(text[6:]) <= set(ALPHABET)


def test_tokens_are_fresh() -> None:
    made = {new_token()[1] for _ in range(200)}
    assert len(made) == 200
    assert len({t[6:18] for t in made}) == 200


def _refused(text: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        parse_token(text)
    assert caught.value.message == "malformed token"
    assert not text or text not in caught.value.diagnostics()
    return str(caught.value.details["hint"])


def test_every_kind_of_malformation_is_refused() -> None:
    _, good = new_token()
    assert "starts with" in _refused("ghp_" + good[6:])
    assert "starts with" in _refused("Cairn_" + good[6:])
    assert "starts with" in _refused("")
    assert "characters" in _refused(good[:-1])
    assert "characters" in _refused(good + "0")
    assert "characters" in _refused(good + "\n")
    assert "letters and digits" in _refused(good[:20] + "-" + good[21:])
    assert "letters and digits" in _refused(good[:20] + "é" + good[21:])
    assert "checksum" in _refused(good[:-6] + ("000000" if good[-6:] != "000000" else "000001"))


@pytest.mark.parametrize("position", [6, 12, 17, 18, 30, 49, 50, 55])
def test_checksum_catches_a_one_character_change(position: int) -> None:
    _, good = new_token()
    original = good[position]
    replacement = "a" if original != "a" else "b"
    typo = good[:position] + replacement + good[position + 1 :]
    assert "checksum" in _refused(typo)


def test_checksum_catches_swapped_neighbours() -> None:
    _, good = new_token()
    i = next(i for i in range(20, 49) if good[i] != good[i + 1])
    swapped = good[:i] + good[i + 1] + good[i] + good[i + 2 :]
    assert "checksum" in _refused(swapped)


def test_hash_is_keyed_hex_hmac() -> None:
    _, text = new_token()
    _, secret = parse_token(text)
    one = token_hash(b"k" * 32, secret)
    assert len(one) == 64
    assert int(one, 16) >= 0
    assert one == token_hash(b"k" * 32, secret)
    assert one != token_hash(b"j" * 32, secret)
    assert secret not in one
