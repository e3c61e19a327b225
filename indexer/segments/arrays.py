"""Read-optimised posting arrays: one memory-mapped file beside each Whoosh segment.

Decoding a Whoosh posting list means unpickling and inflating its blocks in Python, on
every query (or copying the decoded lists into each worker's memory ahead of queries,
which multiplies the memory by the workers). Here each segment's lists, every one of
them, are decoded once, when the segment is committed, into flat arrays in a file
beside it, so that no query decodes a Whoosh block:

    MAIN_<segment id>.postings_arrays2
        magic ``VNPARR02``, a little-endian uint64 header length, a JSON header, then
        64-byte aligned arrays. Per field a run of rows, one per term, ordered by the
        term's 64-bit hash (``hashes``: BLAKE2b of its bytes, a lookup is one binary
        search); per row the term's bytes (``key_starts``/``key_lengths`` into
        ``key_bytes``), its ``starts``/``counts`` into ``ids`` (int32, the segment's own
        document numbers, deleted ones included) and ``tfs`` (uint16, or float32 when a
        weight is not a small whole number), and its blocks of ``BLOCK`` postings'
        largest weight (``block_starts``/``block_max``, for pruning).

Every process maps the same file, so the page cache holds one copy for all workers.
The file's name matches Whoosh's segment-file pattern, so Whoosh's own ``clean_files``
removes it with its segment after a merge. The Whoosh segment stays the source of
truth: a file that is missing, unreadable, of another format ``VERSION``, holding only
longer lists than ``MIN_DF`` asks for, or written for another segment (its header names
the segment, its document count and the segment file's size) is stale: every reader
ignores it (``arrays_for``) and ``ensure_arrays`` rebuilds it. A term it does not hold (a
field not derived) is read from Whoosh as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import struct
import time
import weakref
from pathlib import Path
from typing import NamedTuple

import numpy as np

from indexer.segments.files import populate_map

log = logging.getLogger(__name__)

MAGIC = b"VNPARR02"
VERSION = 2  # files of another version are stale (rebuilt, never read)
# the suffix names the version: files of another version (another release reading the
# same index) sit beside, untouched, and each reader maps its own
SUFFIX = f".postings_arrays{VERSION}"
# Lists this long go into the files: every list. A rare term decoded from Whoosh costs
# about 20 µs a segment, and a pasted headline scores a dozen rare pairs (85k: 0.9 ms
# of a 10 ms query); with them the files grow by a quarter of their postings.
MIN_DF = 1
BLOCK = 128  # postings per pruning block (Whoosh's own block size)
MAX_KEY = 65535  # longer terms stay in Whoosh (a key's length is a uint16)
ALIGN = 64
BUILD_LOCK_SECONDS = 900  # a build lock older than this was left by a dead process
RECHECK_SECONDS = 1.0  # how often a segment without arrays looks for them again
ENABLED = True  # False: every read decodes Whoosh's blocks (bench.scale compares the two)
_HEAD = struct.Struct("<8sQ")


class PostingArrays:
    """One segment's mapped posting arrays (see the module doc for the layout)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, size = _HEAD.unpack_from(self._map, 0)
        if magic != MAGIC:
            raise ValueError(f"{path}: not a posting-arrays file")
        self.header = json.loads(bytes(self._map[_HEAD.size : _HEAD.size + size]))
        self.path = path
        self.arrays = {
            name: np.frombuffer(
                self._map, dtype=np.dtype(spec["dtype"]), count=spec["count"], offset=spec["offset"]
            )
            for name, spec in self.header["arrays"].items()
        }
        self.fields = {name: tuple(span) for name, span in self.header["fields"].items()}
        self._hashes = self.arrays["hashes"]
        self._key_starts = self.arrays["key_starts"]
        self._key_lengths = self.arrays["key_lengths"]
        self._key_offset = self.header["arrays"]["key_bytes"]["offset"]

    def matches(self, identity: dict, min_df: int = MIN_DF) -> bool:
        """Whether the file is current for the segment ``identity`` describes: this
        ``VERSION``, written for that segment, holding every list of ``min_df`` postings
        or more (a file that is not is stale)."""
        return (
            self.header.get("version") == VERSION
            and self.header.get("segment") == identity
            and int(self.header.get("min_df", MIN_DF + 1)) <= min_df
        )

    def _slot(self, fieldname: str, tbytes: bytes) -> int | None:
        """The term's row, or None when the file lacks it."""
        span = self.fields.get(fieldname)
        if span is None or not _representable(tbytes):
            return None
        lo, hi = span
        hashes = self._hashes
        code = term_hash(tbytes)
        at = lo + int(hashes[lo:hi].searchsorted(code))
        while at < hi and hashes[at] == code:  # (equal hashes: compare the bytes)
            if self.key(at) == tbytes:
                return at
            at += 1
        return None

    def key(self, row: int) -> bytes:
        """The term bytes of one row."""
        start = self._key_offset + int(self._key_starts[row])
        return self._map[start : start + int(self._key_lengths[row])]

    def rows(self, fieldname: str) -> range:
        """The rows of one field's terms (empty when the file does not hold the field)."""
        return range(*self.fields.get(fieldname, (0, 0)))

    def lookup(self, fieldname: str, tbytes: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(ids int32, tfs) views of the term's postings, or None when the file lacks it."""
        at = self._slot(fieldname, tbytes)
        if at is None:
            return None
        start = int(self.arrays["starts"][at])
        end = start + int(self.arrays["counts"][at])
        return self.arrays["ids"][start:end], self.arrays["tfs"][start:end]

    def frequency(self, fieldname: str, tbytes: bytes) -> int | None:
        """How many postings the term has in the segment (deleted documents included, as
        Whoosh counts its document frequency): 0 when the file lacks it, None when the
        file does not hold the field or could not hold the term (then ask Whoosh)."""
        if fieldname not in self.fields or not _representable(tbytes):
            return None
        at = self._slot(fieldname, tbytes)
        return 0 if at is None else int(self.arrays["counts"][at])

    def block_maxima(self, fieldname: str, tbytes: bytes) -> np.ndarray | None:
        """The largest weight of each run of ``BLOCK`` postings of the term (None: not held)."""
        at = self._slot(fieldname, tbytes)
        if at is None:
            return None
        start = int(self.arrays["block_starts"][at])
        count = -(-int(self.arrays["counts"][at]) // BLOCK)
        return self.arrays["block_max"][start : start + count]

    def postings(self) -> int:
        """How many postings the file holds."""
        return int(self.arrays["ids"].size)

    def size(self) -> int:
        """Bytes of the file."""
        return len(self._map)

    def populate(self) -> bool:
        """Map every page of the file into this process now (``files.populate_map``),
        so that no query takes a page fault on it later (at 85k a search-box query
        took 30-150 of them on its first reads). False where the kernel cannot."""
        return populate_map(self._map)


def remove_other_versions(folder: Path | str) -> list[Path]:
    """Delete the posting-arrays files of other versions in an index folder (an older
    release's, left when this one derived its own); return them. For the index's one
    writer after a commit: a reader of the older format still running would derive its
    files again, only slower meanwhile."""
    removed = []
    for path in Path(folder).iterdir():
        if path.name.startswith(".") or not of_another_version(path.name):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def of_another_version(name: str) -> bool:
    """Whether a file name is a posting-arrays file of another version (older releases'
    files, left beside this one's: this release never reads them)."""
    return ".postings_arrays" in name and not name.endswith(SUFFIX)


def _representable(term: bytes) -> bool:
    """Whether a row's key can hold the term (its length is a uint16)."""
    return 0 < len(term) <= MAX_KEY


def term_hash(term: bytes) -> np.uint64:
    """A term's row order within its field: the first 8 bytes of its BLAKE2b digest."""
    return np.frombuffer(hashlib.blake2b(term, digest_size=8).digest(), dtype="<u8")[0]


def _term_hashes(keys: list[bytes]) -> np.ndarray:
    """``term_hash`` of each key (uint64)."""
    digests = b"".join(hashlib.blake2b(k, digest_size=8).digest() for k in keys)
    return np.frombuffer(digests, dtype="<u8")


# --------------------------------------------------------------------------- identity
def segment_identity(leaf) -> dict:
    """What a file must have been written for: the segment's id, its document count and
    the size of its compound file (0 when the segment is not compound)."""
    return identity_of(leaf.segment(), _folder(leaf) or Path("."))


def identity_of(segment, folder: Path) -> dict:
    """``segment_identity`` of a Whoosh segment object stored in ``folder``."""
    segid = segment.segment_id()
    try:
        size = (folder / f"{segid}.seg").stat().st_size
    except OSError:
        size = 0
    return {"id": segid, "documents": segment.doc_count_all(), "seg_bytes": size}


def arrays_path(leaf) -> Path | None:
    """Where a segment's posting arrays live (None: the storage is not a folder)."""
    folder = _folder(leaf)
    if folder is None:
        return None
    return folder / f"{leaf.segment().segment_id()}{SUFFIX}"


def _folder(leaf) -> Path | None:
    """The folder of a segment reader's index (a compound segment reads through an
    overlay whose second storage is the index's own)."""
    storage = getattr(leaf, "_storage", None)
    storage = getattr(storage, "b", storage)
    folder = getattr(storage, "folder", None)
    return Path(folder) if folder else None


# --------------------------------------------------------------------------- mapping
_mapped: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # leaf → PostingArrays
_missing: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # leaf → when last looked


def arrays_for(leaf) -> PostingArrays | None:
    """The mapped arrays of one segment reader, or None while there are none (missing,
    stale or unreadable files are ignored here; ``ensure_arrays`` rebuilds them)."""
    if not ENABLED:
        return None
    try:
        found = _mapped.get(leaf)
    except TypeError:  # not weak-referenceable: not a segment reader of ours
        return None
    if found is not None:
        return found
    now = time.monotonic()
    if now - _missing.get(leaf, -RECHECK_SECONDS) < RECHECK_SECONDS:
        return None
    found = _load(leaf)
    if found is None:
        _missing[leaf] = now
    else:
        _mapped[leaf] = found
        _missing.pop(leaf, None)
    return found


def _load(leaf, min_df: int = MIN_DF) -> PostingArrays | None:
    """The segment's current arrays file, mapped (None: missing, stale or unreadable)."""
    try:
        path = arrays_path(leaf)
        if path is None or not path.exists():
            return None
        found = PostingArrays(path)
        return found if found.matches(segment_identity(leaf), min_df) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, struct.error):
        return None


# --------------------------------------------------------------------------- building
def _derived_fields(schema) -> list[str]:
    """The fields whose postings are derived: term-frequency and existence fields."""
    from whoosh.formats import Existence, Frequency

    return sorted(
        name
        for name, field in schema.items()
        if field.indexed and isinstance(field.format, (Frequency, Existence)) and not field.vector
    )


def build_arrays(leaf, min_df: int = MIN_DF) -> Path | None:
    """Decode one segment's lists of at least ``min_df`` postings into its arrays file.

    Written to a temporary file and renamed into place, so readers see a whole file or
    none. Returns the path (None when the storage is not a folder). Raises OSError when
    the folder cannot be written.
    """
    from indexer.segments.reading import single_postings, whoosh_postings

    path = arrays_path(leaf)
    if path is None:
        return None
    parts = []
    for fieldname in _derived_fields(leaf.schema):
        chosen = sorted(
            entry
            for entry in single_postings(leaf, fieldname)
            if entry[1] >= min_df and _representable(entry[0])
        )
        counts = np.array([df for _, df, _, _ in chosen], dtype=np.int64)
        ids = np.empty(int(counts.sum()), dtype=np.int32)
        weights = np.empty(ids.size, dtype=np.float32)
        at = 0
        for term, df, doc, weight in chosen:
            if doc is not None:  # one posting, in the term's record (half of all terms)
                ids[at], weights[at] = doc, weight
                at += 1
                continue
            got_ids, got_tfs = whoosh_postings(leaf, fieldname, term)
            if got_ids.size != df:  # the term table and the list disagree: trust the list
                raise ValueError(f"{fieldname}:{term!r}: {got_ids.size} postings, table says {df}")
            ids[at : at + df] = got_ids
            weights[at : at + df] = got_tfs
            at += df
        parts.append(FieldArrays(fieldname, [t for t, _, _, _ in chosen], counts, ids, weights))
    write_arrays(path, segment_identity(leaf), parts, min_df)
    return path


class FieldArrays(NamedTuple):
    """One field's chosen lists, in term byte order: ``keys[i]`` has ``counts[i]``
    postings, whose document numbers and weights follow each other in ``ids``/``weights``."""

    field: str
    keys: list[bytes]
    counts: np.ndarray  # int64
    ids: np.ndarray  # int32
    weights: np.ndarray  # float32


def chosen_terms(keys: list[bytes], counts: np.ndarray, min_df: int = MIN_DF) -> np.ndarray:
    """Which of a field's terms an arrays file holds: ``min_df`` postings or more, and a
    key a row can hold (``_representable``; a boolean mask over ``keys``)."""
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    return (np.asarray(counts) >= min_df) & (lengths > 0) & (lengths <= MAX_KEY)


def write_arrays(
    path: Path, identity: dict, parts: list[FieldArrays], min_df: int = MIN_DF
) -> None:
    """Write a segment's arrays file from its fields' chosen lists (``parts``, in field
    name order, as ``_derived_fields``): ``build_arrays`` decodes them from Whoosh, the
    bulk writer hands over what it has just written. ``identity``: `segment_identity`."""
    keys = [k for part in parts for k in part.keys]
    counts = np.concatenate([p.counts for p in parts]) if parts else np.zeros(0, np.int64)
    counts = counts.astype(np.int64)
    starts = np.zeros(len(keys), dtype=np.int64)  # in term order
    if len(keys):
        starts[1:] = np.cumsum(counts)[:-1]
    blocks = -(-counts // BLOCK)
    block_starts = np.zeros(len(keys), dtype=np.int64)
    if len(keys):
        block_starts[1:] = np.cumsum(blocks)[:-1]
    total = int(counts.sum())
    ids = np.concatenate([p.ids for p in parts] or [np.zeros(0, np.int32)]).astype(np.int32)
    weights = np.concatenate([p.weights for p in parts] or [np.zeros(0, np.float32)])
    weights = weights.astype(np.float32, copy=False)
    if ids.size != total or weights.size != total:
        raise ValueError(f"{path.name}: {ids.size} postings, the counts say {total}")
    small = weights.size == 0 or (
        float(weights.min()) >= 0
        and float(weights.max()) < 65536
        and bool(np.all(weights == np.floor(weights)))
    )
    tfs = weights.astype(np.uint16) if small else weights
    block_max = (
        np.maximum.reduceat(tfs, _block_edges(counts, starts))
        if total
        else np.zeros(0, dtype=tfs.dtype)
    )
    key_lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    key_starts = np.zeros(len(keys), dtype=np.int64)
    if len(keys):
        key_starts[1:] = np.cumsum(key_lengths)[:-1]
    # rows: each field's terms ordered by hash (ties in term order)
    hashes = _term_hashes(keys)
    order = np.arange(len(keys), dtype=np.int64)
    fields, lo = {}, 0
    for part in parts:
        hi = lo + len(part.keys)
        fields[part.field] = [lo, hi]
        order[lo:hi] = lo + np.argsort(hashes[lo:hi], kind="stable")
        lo = hi
    arrays = {
        "hashes": hashes[order],
        "key_starts": key_starts[order].astype(_offsets_dtype(int(key_lengths.sum()))),
        "key_lengths": key_lengths[order].astype(np.uint16),
        "starts": starts[order].astype(_offsets_dtype(total)),
        "counts": counts[order].astype(_offsets_dtype(total)),
        "block_starts": block_starts[order].astype(_offsets_dtype(int(blocks.sum()))),
        "key_bytes": np.frombuffer(b"".join(keys), dtype=np.uint8),
        "ids": ids,
        "tfs": tfs,
        "block_max": block_max,
    }
    header = {
        "version": VERSION,
        "segment": identity,
        "min_df": min_df,
        "block": BLOCK,
        "fields": fields,
        "arrays": {},
    }
    _write(path, header, arrays)


def _offsets_dtype(most: int) -> np.dtype:
    """uint32 when every offset fits in it, else int64."""
    return np.dtype(np.uint32) if most < 1 << 32 else np.dtype(np.int64)


def _block_edges(counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Where each block of ``BLOCK`` postings of each list starts, in the flat arrays."""
    nblocks = -(-counts // BLOCK)
    first = np.cumsum(nblocks) - nblocks
    within = np.arange(int(nblocks.sum()), dtype=np.int64) - np.repeat(first, nblocks)
    return np.repeat(starts, nblocks) + within * BLOCK


def _write(path: Path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    offset = 0
    for name, array in arrays.items():
        header["arrays"][name] = {"dtype": array.dtype.str, "count": int(array.size), "offset": 0}
    # the offsets depend on the header's length, which depends on the offsets' digits
    for _ in range(3):
        raw = json.dumps(header).encode("utf-8")
        offset = _align(_HEAD.size + len(raw) + 64)
        for name, array in arrays.items():
            header["arrays"][name]["offset"] = offset
            offset = _align(offset + array.nbytes)
    raw = json.dumps(header).encode("utf-8")
    assert _HEAD.size + len(raw) <= min(spec["offset"] for spec in header["arrays"].values())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(_HEAD.pack(MAGIC, len(raw)))
            f.write(raw)
            for name, array in arrays.items():
                f.seek(header["arrays"][name]["offset"])
                f.write(np.ascontiguousarray(array).tobytes())
            f.truncate(offset)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def ensure_arrays(reader, min_df: int = MIN_DF) -> list[Path]:
    """Build the arrays of every segment of ``reader`` that has none that fit (missing,
    stale or unreadable); return the files written.

    Several processes may call it at once: a lock file beside the segment lets one build
    while the others go on reading through Whoosh. A folder that cannot be written is
    left as it is (queries then decode through Whoosh, slower but the same).
    """
    written = []
    for leaf, _offset in reader.leaf_readers():
        if not hasattr(leaf, "_storage") or _load(leaf, min_df) is not None:
            continue
        path = arrays_path(leaf)
        if path is None:
            continue
        lock = path.with_name(f".{path.name}.lock.tmp")
        try:
            if lock.exists() and time.time() - lock.stat().st_mtime > BUILD_LOCK_SECONDS:
                lock.unlink(missing_ok=True)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except OSError:
            continue  # another process is building it, or the folder is read-only
        try:
            os.close(fd)
            started = time.perf_counter()
            build_arrays(leaf, min_df)
            written.append(path)
            log.info("posting arrays of %s in %.1fs", path.name, time.perf_counter() - started)
        except OSError as exc:
            log.warning("posting arrays of %s not written: %s", path.name, exc)
        finally:
            lock.unlink(missing_ok=True)
        _missing.pop(leaf, None)
    return written


def ensure_index_arrays(folder: Path | str, min_df: int = MIN_DF) -> list[Path]:
    """``ensure_arrays`` over the latest generation of the Whoosh index in ``folder``
    (the writer calls it after each commit)."""
    from indexer.segments.files import open_index

    ix = open_index(folder)
    try:
        with ix.reader() as reader:
            return ensure_arrays(reader, min_df)
    finally:
        ix.close()
