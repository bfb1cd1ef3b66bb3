"""RFC 6962 Merkle tree hashing over the event log, kept as an incremental frontier.

The frontier is the list of roots of the perfect subtrees that make up a tree of ``size``
leaves, largest first: appending a leaf merges equal-height subtrees (like binary carry), and
the root folds the frontier right to left. Both are O(log n), so the root after every append is
kept without rescanning the log::

    >>> f = Frontier.empty()
    >>> f = f.append(leaf_hash(b""))
    >>> f.root().hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """Hash chain link ``SHA-256(previous || leaf)``; names the first altered row on a check."""
    return hashlib.sha256(previous + leaf).digest()


GENESIS_CHAIN = bytes(32)


@dataclass(frozen=True, slots=True)
class Frontier:
    """The perfect-subtree roots of a tree of ``size`` leaves, largest subtree first."""

    size: int
    hashes: tuple[bytes, ...]

    @classmethod
    def empty(cls) -> Frontier:
        return cls(0, ())

    def append(self, leaf: bytes) -> Frontier:
        """Return the frontier after appending one leaf hash."""
        hashes = list(self.hashes)
        node = leaf
        size = self.size
        # Each trailing 1-bit of the old size is a perfect subtree of equal height to merge.
        while size & 1:
            node = node_hash(hashes.pop(), node)
            size >>= 1
        hashes.append(node)
        return Frontier(self.size + 1, tuple(hashes))

    def root(self) -> bytes:
        """The RFC 6962 Merkle tree hash of all leaves appended so far."""
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node

    def encode(self) -> str:
        """Compact text form for storage: hex hashes joined by commas."""
        return ",".join(h.hex() for h in self.hashes)

    @classmethod
    def decode(cls, size: int, text: str) -> Frontier:
        hashes = tuple(bytes.fromhex(part) for part in text.split(",")) if text else ()
        if len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} hashes")
        return cls(size, hashes)


def tree_root(leaves: list[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (already leaf-hashed), computed from scratch."""
    frontier = Frontier.empty()
    for leaf in leaves:
        frontier = frontier.append(leaf)
    return frontier.root()
