"""Memory management for bulk work.

A bulk import keeps a batch of thousands of specs, payloads and rows alive until it commits.
None of them form reference cycles, so reference counting frees them all, yet every object
that survives two young collections counts towards a full collection: with a batch of 10,000
versions Python ran several full collections per batch, each walking every live object, a
third of an import's time. Pausing the cyclic collector while a batch is built and written
removes that; allocations still count while it is paused, so it catches up, at a batch boundary,
on whatever cyclic garbage other threads made meanwhile.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; nested or concurrent pauses compose
    (only the pause that found the collector running restarts it)."""
    was_running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_running:
            gc.enable()
