"""The commonest syllables' scores, computed once per commit and shared by every worker.

Nearly every query scores some of the commonest syllables, and computing one term's
scores is a pass over its long lists (``scoring.PostingStore``). A worker's warming
thread keeps them ahead; in its own memory every worker would compute and hold them
again, each within its share of the read-ahead budget (``search.memory``), so with
more workers each keeps fewer and computes the rest per query (341k articles, 2
workers: the headline p95 doubled). Here one worker computes them and writes one file
beside the index; every worker maps it, so the page cache holds them once for all, a
restarted worker reads them instead of computing, and the budget counts them once.

The file is named by the commit it was computed for (Whoosh's TOC generation) and holds
a fingerprint of what the scores depend on (segments, deletions, document count, the
scoring constants, ``VERSION``); a file that does not match is computed again. Scores are
written as computed (float32, document numbers int64) and read as read-only views: the
same values bit for bit. A folder that cannot be written leaves each worker to keep the
scores in its own memory, as before.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

VERSION = 1
MAGIC = b"VNKS"
PREFIX = "kept-scores-"
SUFFIX = f".v{VERSION}.scores"
ALIGN = 64
# a writer that has not finished in this long is taken for dead (its lock is removed)
WRITE_LOCK_SECONDS = 120.0
WAIT_POLL_SECONDS = 0.2
# a file computed within less than this share of the budget now is computed again
REUSE_SHARE = 0.9

Key = tuple  # ("scores", fields, text, weight): ``PostingStore``'s key of a term's scores
Entry = tuple  # (dense float32,) or (int64 documents, float32 scores)


def path_for(folder: Path | str, generation: int) -> Path:
    """Where the scores kept for commit ``generation`` of the index in ``folder`` live."""
    return Path(folder) / f"{PREFIX}{generation}{SUFFIX}"


def write(path: Path, fingerprint: dict, entries: Iterable[tuple[Key, Entry]], **more) -> int:
    """Write ``entries`` to ``path`` as they come (through a temporary file renamed into
    place, so a reader sees the whole file or none), with ``fingerprint`` and ``more``
    in its index; return the bytes of scores written.

    Layout: ``MAGIC``, ``VERSION`` (uint32) and the index's offset (uint64), the arrays
    from byte ``ALIGN`` on (each 8-byte aligned), then the index (JSON): the fingerprint
    and per entry its key, kind, offset and length."""
    index, at = [], 0
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(MAGIC + struct.pack("<IQ", VERSION, 0))
            for key, entry in entries:
                _, fields, text, weight = key
                kind = "dense" if len(entry) == 1 else "sparse"
                index.append([list(fields), text, float(weight), kind, at, int(entry[-1].size)])
                for a in entry:
                    out.seek(ALIGN + at)
                    out.write(np.ascontiguousarray(a).tobytes())
                    at += -(-a.nbytes // 8) * 8
            footer = json.dumps({"fingerprint": fingerprint, "entries": index, **more})
            out.seek(ALIGN + at)
            out.write(footer.encode("utf-8"))
            out.seek(len(MAGIC) + 4)
            out.write(struct.pack("<Q", ALIGN + at))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return at


def read(path: Path, fingerprint: dict) -> tuple[dict[Key, Entry], int, dict] | None:
    """The entries of the file at ``path`` as read-only views of its mapping, the bytes
    they take and the file's index; None when it is missing, unreadable or of another
    fingerprint."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC) + 12)
            if len(head) < len(MAGIC) + 12 or head[: len(MAGIC)] != MAGIC:
                return None
            version, index_at = struct.unpack("<IQ", head[len(MAGIC) :])
            if version != VERSION or index_at < ALIGN:
                return None
            f.seek(index_at)
            index = json.loads(f.read().decode("utf-8"))
        if index.get("fingerprint") != fingerprint:
            return None
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), index_at, access=mmap.ACCESS_READ)
        entries: dict[Key, Entry] = {}
        for fields, text, weight, kind, offset, count in index["entries"]:
            at = ALIGN + offset
            if kind == "dense":
                entry = (np.ndarray(count, np.float32, buffer=mapped, offset=at),)
            else:
                ids = np.ndarray(count, np.int64, buffer=mapped, offset=at)
                entry = (ids, np.ndarray(count, np.float32, buffer=mapped, offset=at + 8 * count))
            entries[("scores", tuple(fields), text, weight)] = entry
        return entries, index_at - ALIGN, index
    except (OSError, ValueError, TypeError, KeyError, struct.error, UnicodeDecodeError):
        return None


def shared(
    path: Path,
    fingerprint: dict,
    compute: Callable[[int], Iterable[tuple[Key, Entry]]],
    budget: int,
    wait: float = WRITE_LOCK_SECONDS,
) -> tuple[dict[Key, Entry], int] | None:
    """The scores of ``path`` (``read``: entries, bytes), written first from
    ``compute(budget)`` (at most ``budget`` bytes) when missing, stale, larger than
    ``budget``, or computed within a budget much smaller than this one (it could hold
    more). ``compute``'s iterator may set ``complete`` (True: it ran out of terms before
    the budget). Several processes may call this at once: a lock file lets one compute and
    write while the others wait for the file (up to ``wait`` seconds). None when the
    folder cannot be written or the writer did not finish in time (the caller then keeps
    the scores in its own memory)."""

    def usable(found) -> bool:
        if found is None or found[1] > budget:
            return False
        index = found[2]
        return bool(index.get("complete")) or index.get("budget", 0) >= REUSE_SHARE * budget

    found = read(path, fingerprint)
    if usable(found):
        return found[:2]
    lock = path.with_name(f".{path.name}.lock.tmp")
    deadline = time.monotonic() + wait
    while True:
        try:
            if lock.exists() and time.time() - lock.stat().st_mtime > WRITE_LOCK_SECONDS:
                lock.unlink(missing_ok=True)  # its writer died
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:  # another process is writing it: wait for the file
            if time.monotonic() > deadline:
                return None
            time.sleep(WAIT_POLL_SECONDS)
            found = read(path, fingerprint)
            if usable(found):
                return found[:2]
        except OSError:
            return None  # a folder that cannot be written
    try:
        os.close(fd)
        found = read(path, fingerprint)  # (written meanwhile by the lock's last holder)
        if not usable(found):
            started = time.perf_counter()
            entries = compute(budget)
            size = write(
                path,
                fingerprint,
                entries,
                budget=budget,
                complete=bool(getattr(entries, "complete", False)),
            )
            took = time.perf_counter() - started
            log.info("kept scores %s: %d MB in %.1fs", path.name, size >> 20, took)
            remove_older(path)
            found = read(path, fingerprint)
        return found[:2] if found is not None else None
    except OSError as exc:
        log.warning("kept scores %s not written: %s", path.name, exc)
        return None
    finally:
        lock.unlink(missing_ok=True)


def populate(entries: dict[Key, Entry]) -> bool:
    """Map every page of the file ``entries`` were read from into this process now
    (``indexer.segments.files.populate_map``), so that no query takes a page fault on
    it. False where the kernel cannot, or with no entries."""
    from indexer.segments.files import populate_map

    for entry in entries.values():
        base = entry[0].base
        return isinstance(base, mmap.mmap) and populate_map(base)
    return False


def remove_older(path: Path) -> list[Path]:
    """Remove the kept-scores files of earlier commits beside ``path``; return them. A
    worker still mapping one keeps its pages until it unmaps them."""
    mine = _generation(path.name)
    removed = []
    for other in path.parent.glob(f"{PREFIX}*.scores"):
        gen = _generation(other.name)
        if mine is not None and gen is not None and gen < mine:
            try:
                other.unlink()
                removed.append(other)
            except OSError:
                pass
    return removed


def _generation(name: str) -> int | None:
    try:
        return int(name[len(PREFIX) :].split(".", 1)[0])
    except ValueError:
        return None
