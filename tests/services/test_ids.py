"""Surrogate keys: RFC 9562 UUIDv7, strictly ordered within a process."""

from __future__ import annotations

import uuid

from cairn.services.base import new_id


def test_ids_are_uuid7_in_canonical_text_form() -> None:
    for _ in range(200):
        text = new_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_ids_minted_in_a_burst_are_strictly_increasing() -> None:
    # Thousands within one millisecond exhaust the 12-bit counter: order must still hold.
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
