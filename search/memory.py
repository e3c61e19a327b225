"""One worker's read-ahead memory: bounded as a whole, shown part by part.

Per snapshot a worker keeps what makes queries fast, in its own (private) memory: the
document table and lengths, the table of document frequencies, the spelling, kept term
masks (``matching.TermMasks``) and kept posting lists and term scores
(``scoring.PostingStore``). The index files themselves are mapped and shared by every
worker through the page cache; they are not counted here.

One budget bounds the sum: ``READ_AHEAD_SHARE`` of the machine's memory (its total, or
the container's limit: ``pagecache.machine_memory``) divided among the workers that
serve the index (``Settings.workers``). The parts whose size the archive decides (the
document table, frequencies, spelling) are counted as they are; the caches get what
they leave: the kept masks at most ``MASK_SHARE`` of the budget, the posting lists and
scores the rest, least recently used out first. ``/stats`` and ``bench.scale`` show
each part (``ReadAhead.report``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import numpy as np

from search import pagecache

# Of the machine's memory, what all the workers of an index may keep ahead together:
# on this 24 GB machine 1.9 GB, 0.96 GB a worker of two. The 85k benchmark's worker kept
# about 0.55 GB of its own (0.35 GB of it kept scores), the 341k one about 1 GB.
READ_AHEAD_SHARE = 0.08
MASK_SHARE = 0.05  # of the budget, at most, for kept term masks
FALLBACK_BUDGET = 512 << 20  # bytes, when the machine's memory cannot be read
POSTINGS = "posting lists and scores"  # the part that gives way to all the others
SHARED_SCORES = "kept scores, shared"  # one mapped file for all workers (search.keptscores)


def read_ahead_budget(workers: int = 1, share: float = READ_AHEAD_SHARE) -> int:
    """Bytes one worker may keep ahead: ``share`` of the machine's memory
    (``pagecache.machine_memory``) divided by ``workers`` (at least 1)."""
    memory = pagecache.machine_memory()
    if memory is None:
        return FALLBACK_BUDGET
    return int(share * memory / max(1, workers))


class ReadAhead:
    """The parts of one snapshot's read-ahead and their budget (bytes).

    ``whole``: the budget of all ``workers`` together; ``total``: one worker's, what the
    parts all workers share (``share``: counted once) leave, divided among them."""

    def __init__(self, whole: int, workers: int = 1):
        self.whole = whole
        self.workers = max(1, workers)
        self.total = whole // self.workers
        self.shared: dict[str, int] = {}
        self._parts: dict[str, Callable[[], int]] = {}
        self._lock = threading.Lock()

    def share(self, name: str, size: int) -> None:
        """Count ``size`` bytes that every worker maps from one file as shared part
        ``name``: once, out of the whole budget, before it is divided among the workers."""
        with self._lock:
            self.shared[name] = size
            self.total = max(0, self.whole - sum(self.shared.values())) // self.workers

    def add(self, name: str, measure: Callable[[], int]) -> None:
        """Count ``measure()`` (bytes, read whenever the parts are summed) as part ``name``."""
        with self._lock:
            self._parts[name] = measure

    def sizes(self) -> dict[str, int]:
        """Each part's bytes now, by name."""
        with self._lock:
            parts = list(self._parts.items())
        return {name: int(measure()) for name, measure in parts}

    def left_for(self, name: str) -> int:
        """Bytes part ``name`` may hold: the budget less every other part (at least 0)."""
        others = sum(size for part, size in self.sizes().items() if part != name)
        return max(0, self.total - others)

    def report(self) -> dict:
        """``{"budget_bytes", "used_bytes", "parts_bytes": {name: bytes}, "shared_bytes":
        {name: bytes}}`` (for ``/stats``): one worker's own parts within its budget, and
        the parts all workers share (mapped once, out of the whole budget)."""
        sizes = self.sizes()
        return {
            "budget_bytes": self.total,
            "used_bytes": sum(sizes.values()),
            "parts_bytes": sizes,
            "shared_bytes": dict(self.shared),
        }


def array_bytes(*values) -> int:
    """Bytes of the NumPy arrays in ``values`` (arrays, or dicts, lists and tuples of them;
    views count nothing: their base is counted where it is held)."""
    total = 0
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, np.ndarray):
            total += value.nbytes if value.base is None else 0
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return total


def object_bytes(value, limit: int = 10_000_000) -> int:
    """About how many bytes a structure of dicts, lists, tuples, sets, strings, numbers
    and arrays takes (``sys.getsizeof`` of each object once, arrays by their data;
    objects' attributes followed). Visits at most ``limit`` objects."""
    seen: set[int] = set()
    stack = [value]
    total = 0
    while stack and len(seen) < limit:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            total += 112 + (item.nbytes if item.base is None else 0)
            continue
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            stack.append(vars(item))
    return total
