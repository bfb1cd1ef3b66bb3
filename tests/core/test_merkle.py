"""RFC 6962 Merkle hashing and the incremental frontier, against the reference roots."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.merkle import EMPTY_ROOT, Frontier, leaf_hash, node_hash, tree_root
from tests.conftest import FIXTURES

REFERENCE = json.loads((FIXTURES / "merkle" / "rfc6962-reference-roots.json").read_text())


def _naive_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 MTH, written out recursively and independently of the frontier."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node_hash(_naive_root(leaves[:split]), _naive_root(leaves[split:]))


def test_empty_root_matches_reference() -> None:
    assert Frontier.empty().root().hex() == REFERENCE["empty_root"]
    assert EMPTY_ROOT.hex() == REFERENCE["empty_root"]
    assert tree_root([]).hex() == REFERENCE["empty_root"]


def test_root_after_each_append_matches_reference() -> None:
    assert len(REFERENCE["leaves"]) == len(REFERENCE["roots"]) >= 8
    frontier = Frontier.empty()
    leaves: list[bytes] = []
    for size, (data, expected) in enumerate(
        zip(REFERENCE["leaves"], REFERENCE["roots"], strict=True), start=1
    ):
        leaf = leaf_hash(bytes.fromhex(data))
        leaves.append(leaf)
        frontier = frontier.append(leaf)
        assert frontier.size == size
        assert frontier.root().hex() == expected, f"root after {size} leaves"
        assert tree_root(leaves).hex() == expected


def test_leaf_and_node_hashes_use_domain_separation() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 7, 8, 13, 64, 100])
def test_frontier_encode_decode_round_trip(size: int) -> None:
    frontier = Frontier.empty()
    for i in range(size):
        frontier = frontier.append(leaf_hash(i.to_bytes(4, "big")))
    assert len(frontier.hashes) == size.bit_count()
    decoded = Frontier.decode(size, frontier.encode())
    assert decoded == frontier
    assert decoded.root() == frontier.root()
    # The decoded frontier keeps growing exactly like the original.
    extra = leaf_hash(b"next")
    assert decoded.append(extra).root() == frontier.append(extra).root()


def test_decode_refuses_a_frontier_of_the_wrong_shape() -> None:
    frontier = Frontier.empty()
    for i in range(3):
        frontier = frontier.append(leaf_hash(bytes([i])))
    with pytest.raises(ValueError, match="hashes"):
        Frontier.decode(4, frontier.encode())
    with pytest.raises(ValueError, match="hashes"):
        Frontier.decode(1, "")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=16), max_size=300))
def test_frontier_root_equals_root_from_scratch(data: list[bytes]) -> None:
    leaves = [leaf_hash(d) for d in data]
    frontier = Frontier.empty()
    for leaf in leaves:
        frontier = frontier.append(leaf)
    assert frontier.size == len(leaves)
    assert frontier.root() == _naive_root(leaves)
    assert Frontier.decode(frontier.size, frontier.encode()).root() == frontier.root()


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=600), st.integers(min_value=0, max_value=2**32))
def test_frontier_of_random_size_resumes_like_a_fresh_tree(size: int, salt: int) -> None:
    leaves = [leaf_hash(f"{salt}:{i}".encode()) for i in range(size + 5)]
    frontier = Frontier.empty()
    for leaf in leaves[:size]:
        frontier = frontier.append(leaf)
    resumed = Frontier.decode(size, frontier.encode())
    for leaf in leaves[size:]:
        resumed = resumed.append(leaf)
    assert resumed.root() == _naive_root(leaves) == tree_root(leaves)
