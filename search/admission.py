"""Admission control: a worker runs a bounded number of expensive requests at once.

An export, a draft's related articles or a long query can each hold a core for a long
time. Each kind gets its own ``Slots`` per worker; a request that finds none free is
refused at once (``Busy``, answered 429 with ``Retry-After``) instead of queueing behind
the others, so the queue in front of a worker never grows with the expensive requests
and a search-box query never waits for one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class Busy(Exception):
    """Every slot of one kind is taken; try again after ``retry_after`` seconds."""

    def __init__(self, kind: str, retry_after: int):
        super().__init__(f"too many {kind} requests at once; retry after {retry_after} s")
        self.kind = kind
        self.retry_after = retry_after


class Slots:
    """At most ``size`` requests of one ``kind`` at a time in this process; none wait."""

    def __init__(self, kind: str, size: int, retry_after: int = 1):
        if size < 1:
            raise ValueError("a kind of request needs at least one slot")
        self.kind, self.size, self.retry_after = kind, size, retry_after
        self._free = threading.BoundedSemaphore(size)

    def take(self) -> None:
        """Take a slot or raise ``Busy`` at once; ``give_back`` returns it."""
        if not self._free.acquire(blocking=False):
            raise Busy(self.kind, self.retry_after)

    def give_back(self) -> None:
        self._free.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        """A slot for the duration of the block (``Busy`` when none is free)."""
        self.take()
        try:
            yield
        finally:
            self.give_back()

    def hold_while(self, chunks: Iterable[bytes]) -> HeldStream:
        """``chunks`` that keep a slot (already taken) until they are exhausted or closed."""
        return HeldStream(chunks, self)


class HeldStream:
    """A response body that gives its slot back exactly once: when the last chunk has
    been read, when the server closes it (a client that went away), or on an error."""

    def __init__(self, chunks: Iterable[bytes], slots: Slots):
        self._chunks = iter(chunks)
        self._slots = slots
        self._held = True

    def __iter__(self) -> HeldStream:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:  # StopIteration included: the stream is over
            self.close()
            raise

    def close(self) -> None:
        if self._held:
            self._held = False
            try:
                closer = getattr(self._chunks, "close", None)
                if closer is not None:
                    closer()
            finally:
                self._slots.give_back()
