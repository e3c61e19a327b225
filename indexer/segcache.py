"""What pyvi produced, kept on disk keyed by content, so a rebuild does not segment again.

One SQLite table in ``segcache.sqlite`` beside the index maps ``content_key(text)`` to the
packed word spans of that text (and, for officials' keys, what was extracted).
``SegmentationStore`` owns the file: the writing process writes it (workers return their
results to it, so there is no write contention); the indexer's workers and the related-
articles search read it through a read-only ``SegmentationStore``. A damaged or unreadable
cache is recreated by the writer and reads as empty to readers: it only ever saves time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from array import array
from pathlib import Path

from indexer.analysis import Span

# Bump when segmentation changes, to ignore old entries (officials carry their own
# version in their keys: indexer.officials.EXTRACTOR_VERSION).
CACHE_VERSION = "1"
FILE_NAME = "segcache.sqlite"  # in the index directory, beside ``current``
MAX_KEYS = 999  # SQLite's default limit of parameters in one statement


def cache_path(root: Path) -> Path:
    """Where the segmentation cache of the index directory ``root`` lives."""
    return Path(root) / FILE_NAME


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


class SegmentationStore:
    """A persistent map from content key to (word spans, extra): the one owner of the file.

    ``readonly``: for readers beside the writer (indexing workers, the API). They open
    the file lazily, one connection per thread, never create or repair it, and read a
    missing or damaged file as empty.
    """

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        self._pending: list[tuple[str, bytes, str | None]] = []
        self._db: sqlite3.Connection | None = None
        if readonly:
            return
        try:
            self._db = self._open(self.path)
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)
            self._db = self._open(self.path)

    def _connection(self) -> sqlite3.Connection | None:
        if not self.readonly:
            return self._db
        db = getattr(self._local, "db", None)
        if db is None and self.path.exists():
            try:
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            except sqlite3.Error:
                return None
            self._local.db = db
        return db

    def lookup(self, keys: list[str]) -> dict[str, tuple[list[Span], object]]:
        """(spans, extra) of those of ``keys`` the cache holds (an unreadable cache: none)."""
        db = self._connection()
        found: dict[str, tuple[list[Span], object]] = {}
        if db is None:
            return found
        for i in range(0, len(keys), MAX_KEYS):
            versioned = [f"{CACHE_VERSION}:{k}" for k in keys[i : i + MAX_KEYS]]
            marks = ",".join("?" * len(versioned))
            query = f"SELECT key, spans, extra FROM analysis WHERE key IN ({marks})"
            try:
                rows = db.execute(query, versioned).fetchall()
            except sqlite3.Error:
                return found
            for k, blob, extra in rows:
                found[k.split(":", 1)[1]] = (
                    unpack_spans(blob),
                    json.loads(extra) if extra else None,
                )
        return found

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
        """Queue one entry; written on ``flush`` (the writer's store only)."""
        if self.readonly:
            raise ValueError(f"{self.path} was opened read-only")
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
        if self._db is not None:
            self.flush()
            self._db.close()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
