"""What pyvi produced, kept on disk keyed by content, so a rebuild does not segment again.

One SQLite table maps ``content_key(text)`` to the packed word spans of that text.
Only the writing process touches it (workers return their results to it), so there is
no write contention. A damaged or unreadable cache is simply recreated: it only ever
saves time.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from pathlib import Path

from indexer.analysis import Span

# Bump when segmentation changes, to ignore old entries (officials carry their own
# version in their keys: indexer.officials.EXTRACTOR_VERSION).
CACHE_VERSION = "1"


def pack_spans(spans: list[Span]) -> bytes:
    """Spans as a flat array of unsigned ints."""
    flat = array("I")
    for start, end in spans:
        flat.append(start)
        flat.append(end)
    return flat.tobytes()


def unpack_spans(blob: bytes) -> list[Span]:
    flat = array("I")
    flat.frombytes(blob)
    return list(zip(flat[0::2], flat[1::2]))


def lookup(db: sqlite3.Connection, keys: list[str]) -> dict[str, tuple[list[Span], object]]:
    """(spans, extra) for those of ``keys`` (at most 999) that ``db`` holds."""
    versioned = [f"{CACHE_VERSION}:{k}" for k in keys]
    marks = ",".join("?" * len(versioned))
    rows = db.execute(f"SELECT key, spans, extra FROM analysis WHERE key IN ({marks})", versioned)
    return {
        k.split(":", 1)[1]: (unpack_spans(blob), json.loads(extra) if extra else None)
        for k, blob, extra in rows
    }


class SegmentationStore:
    """A persistent map from content key to (word spans, officials)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)
            self._db = self._open(path)
        self._pending: list[tuple[str, bytes, str | None]] = []

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(str(path), timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS analysis ("
            "key TEXT PRIMARY KEY, spans BLOB NOT NULL, extra TEXT)"
        )
        return db

    def put(self, key: str, spans: list[Span], extra: object = None) -> None:
        """Queue one entry; written on ``flush``."""
        payload = json.dumps(extra, ensure_ascii=False) if extra is not None else None
        self._pending.append((f"{CACHE_VERSION}:{key}", pack_spans(spans), payload))
        if len(self._pending) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO analysis (key, spans, extra) VALUES (?, ?, ?)",
                    self._pending,
                )
            self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._db.close()
