"""Traversal bounds of lineage walks, apart so the CLI can name them without importing models.

The defaults answer the usual questions; the maxima keep one request from walking the whole
registry. An answer cut short by them says so (``partial``).
"""

DEFAULT_DEPTH = 10
MAX_DEPTH = 50
DEFAULT_NODE_LIMIT = 10_000
MAX_NODE_LIMIT = 100_000
