"""Reading a Whoosh 3 index as arrays: posting lists, term tables, lengths, stored fields.

Whoosh reads one posting at a time through Python matchers (≈1 µs each, and tens of
millions of postings answer one common word on 85k articles). These functions read
the codec's own structures whole: a posting block's decoded id and weight arrays, the
term table's packed records, the per-document length column. Each one checks that the
structure is the one it knows (``W3LeafMatcher``, the W3 terms reader) and otherwise
answers through Whoosh's public reader API, slower but the same; ``fast_paths_available``
says which one a reader gets, and ``tests/test_segments.py`` compares every term of
every field with Whoosh's public ``postings()`` so an upgrade fails there, loudly.

Document numbers are a segment's own (``leaf``) unless said otherwise; a reader's
``leaf_readers()`` gives each segment's offset.
"""

from __future__ import annotations

import logging
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterator

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3LeafMatcher
from whoosh.reading import ReaderClosed, SegmentReader, TermNotFound
from whoosh.util.numeric import byte_to_length

from indexer.segments.arrays import arrays_for
from indexer.segments.files import MappedFile

log = logging.getLogger(__name__)
EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
# a length byte (Whoosh stores a field's length in one byte) → the length it stands for
BYTE_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # whoosh.filedb.filetables: key and value lengths
_TERM_INFO = struct.Struct("!xfI")  # W3TermInfo's head: flags, total weight, document freq.
_TERM_HEAD = struct.Struct("!BfIBBfII")  # W3TermInfo._struct: … maximum weight, min/max ids
_NO_ID = 0xFFFFFFFF  # W3TermInfo's minid when no posting set it


# --------------------------------------------------------------------------- postings
def term_postings(leaf, fieldname: str, text: str | bytes) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers int64, term frequencies float32) of ``text`` in one segment.

    ``text``: the term as the field parses it, or its indexed bytes. Deleted documents are
    included (the caller masks them with ``live_documents``);
    an unknown field or term gives two empty arrays. Read from the segment's mapped
    posting arrays (``arrays``) when they hold the term, else decoded from Whoosh.
    """
    try:
        field = leaf.schema[fieldname]
        tbytes = text if isinstance(text, bytes) else field.to_bytes(text)
    except KeyError:
        return EMPTY
    mapped = arrays_for(leaf)
    if mapped is not None:
        found = mapped.lookup(fieldname, tbytes)
        if found is not None:
            return found[0].astype(np.int64), found[1].astype(np.float32)
    return whoosh_postings(leaf, fieldname, tbytes)


def _term_bytes(leaf, fieldname: str, text: str | bytes) -> bytes | None:
    try:
        field = leaf.schema[fieldname]
    except KeyError:
        return None
    return text if isinstance(text, bytes) else field.to_bytes(text)


def mapped_postings(
    leaf, fieldname: str, text: str | bytes
) -> tuple[np.ndarray, np.ndarray] | None:
    """The term's (document numbers int32, frequencies) in one segment as read-only views
    of its mapped posting arrays (nothing copied; deleted documents included), or None
    when they do not hold it (``term_postings`` reads it then)."""
    tbytes = _term_bytes(leaf, fieldname, text)
    mapped = arrays_for(leaf) if tbytes is not None else None
    return mapped.lookup(fieldname, tbytes) if mapped is not None else None


def mapped_frequency(reader, fieldname: str, text: str | bytes) -> int | None:
    """Whoosh's document frequency of the term over ``reader``'s segments (deleted
    documents included) summed from their mapped arrays' counts, or None when a segment
    has no current file holding the field (ask ``reader.doc_frequency`` then)."""
    total = 0
    for leaf, _ in reader.leaf_readers():
        tbytes = _term_bytes(leaf, fieldname, text)
        mapped = arrays_for(leaf) if tbytes is not None else None
        count = mapped.frequency(fieldname, tbytes) if mapped is not None else None
        if count is None:
            return None
        total += count
    return total


def whoosh_postings(leaf, fieldname: str, text: str | bytes) -> tuple[np.ndarray, np.ndarray]:
    """``term_postings`` decoded from Whoosh's blocks (never from the mapped arrays)."""
    try:
        field = leaf.schema[fieldname]
        tbytes = text if isinstance(text, bytes) else field.to_bytes(text)
        matcher = leaf._terms.matcher(fieldname, tbytes, field.format)
    except (TermNotFound, KeyError):
        return EMPTY
    except AttributeError:  # not a Whoosh 3 segment reader
        return _public_postings(leaf, fieldname, tbytes)
    if not isinstance(matcher, W3LeafMatcher):
        return _matcher_arrays(matcher)
    id_blocks, tf_blocks = [], []
    while True:
        if matcher._data is None:
            matcher._read_data()
        raw_ids, raw_weights = matcher._data[0], matcher._data[1]
        ids = np.asarray(raw_ids, dtype=np.int64)
        if not matcher._byteids:
            ids = np.cumsum(ids)
        count = matcher._blocklength
        if raw_weights is None:
            tfs = np.ones(count, dtype=np.float32)
        elif isinstance(raw_weights, float):
            tfs = np.full(count, raw_weights, dtype=np.float32)
        else:
            tfs = np.asarray(raw_weights, dtype=np.float32)
        id_blocks.append(ids)
        tf_blocks.append(tfs)
        if matcher._lastblock:
            break
        matcher._next_block()
    return np.concatenate(id_blocks), np.concatenate(tf_blocks)


def _public_postings(leaf, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``term_postings`` through Whoosh's public reader (live documents only)."""
    try:
        return _matcher_arrays(leaf.postings(fieldname, text))
    except (TermNotFound, KeyError):
        return EMPTY


def _matcher_arrays(matcher) -> tuple[np.ndarray, np.ndarray]:
    ids, tfs = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        tfs.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(tfs, dtype=np.float32)


# --------------------------------------------------------------------------- terms
def field_terms(reader, fieldname: str) -> Iterator[tuple[bytes, float, int]]:
    """(term, total frequency, document frequency) of every term of a field, in term order.

    Reads the W3 term table's records directly (≈1 µs a term rather than ≈10 µs through
    ``iter_field``). Frequencies of a multi-segment reader are summed per term; deleted
    documents are counted, as Whoosh counts them.
    """
    if fieldname not in reader.schema:
        return iter(())
    if not reader.is_atomic():
        return _merged([field_terms(r, fieldname) for r, _ in reader.leaf_readers()])
    try:
        return iter(list(_table_terms(reader, fieldname)))
    except (AttributeError, KeyError, TypeError, struct.error):
        return ((t, float(i.weight()), i.doc_frequency()) for t, i in reader.iter_field(fieldname))


def single_postings(leaf, fieldname: str) -> Iterator[tuple[bytes, int, int | None, float]]:
    """(term, document frequency, document number, weight) of every term of one segment's
    field, in term order; for a term of one posting, that posting as its term record
    holds it (its smallest document number and total weight), else None and 0.0 (read
    its postings). Falls back to Whoosh's public term infos (document None) when the
    codec's term table is not the one this module knows."""
    try:
        found = list(_table_terms(leaf, fieldname, heads=True))
    except (AttributeError, KeyError, TypeError, struct.error):
        found = None
    if found is None:
        return ((t, i.doc_frequency(), None, 0.0) for t, i in leaf.iter_field(fieldname))
    return iter(found)


def _table_terms(reader, fieldname: str, heads: bool = False) -> Iterator[tuple]:
    """The term table's records of a field: (term, total weight, df), or with ``heads``
    (term, df, the one posting's document or None, its weight)."""
    terms = reader._terms
    table = terms._tindex
    prefix = terms._keycoder(fieldname, b"")
    pos = table.closest_key_pos(prefix)
    if pos is None:
        return
    raw = getattr(table.dbfile, "_buf", None)  # a memoryview/mmap: read without copying
    if raw is not None:
        buf = memoryview(raw)[pos : table.endofdata]
    else:
        buf = table.dbfile.get(pos, table.endofdata - pos)
    end = len(buf)
    at = 0
    lengths = _KEY_VALUE_LENGTHS.unpack_from
    info = _TERM_INFO.unpack_from
    head = _TERM_HEAD.unpack_from
    while at < end:
        keylen, datalen = lengths(buf, at)
        key = buf[at + 8 : at + 8 + keylen]
        if key[:2] != prefix:
            return
        if heads:
            _flags, weight, df, _minlen, _maxlen, _maxw, minid, _maxid = head(buf, at + 8 + keylen)
            single = df == 1 and minid != _NO_ID
            yield bytes(key[2:]), df, (minid if single else None), (weight if single else 0.0)
        else:
            weight, df = info(buf, at + 8 + keylen)
            yield bytes(key[2:]), weight, df
        at += 8 + keylen + datalen


def _merged(parts: list[Iterator[tuple[bytes, float, int]]]) -> Iterator[tuple[bytes, float, int]]:
    import heapq

    current = None
    for term, weight, df in heapq.merge(*parts, key=lambda t: t[0]):
        if current is not None and current[0] == term:
            current = (term, current[1] + weight, current[2] + df)
            continue
        if current is not None:
            yield current
        current = (term, weight, df)
    if current is not None:
        yield current


# --------------------------------------------------------------------------- per document
def length_bytes(perdoc, fieldname: str, count: int) -> np.ndarray:
    """Every document's length in ``fieldname`` as Whoosh stores it (one byte, uint8; 0
    where absent), read from a segment's per-document reader in one pass."""
    column = f"_{fieldname}_len"
    if not perdoc.has_column(column):
        return np.zeros(count, dtype=np.uint8)
    return np.fromiter(perdoc.column_reader(column, LENGTHS_COLUMN), np.uint8, count)


def field_lengths(leaf, fieldname: str) -> np.ndarray:
    """Every document's length in ``fieldname`` (float32, as Whoosh's one byte decodes)."""
    if isinstance(leaf, SegmentReader) and hasattr(leaf, "_perdoc"):
        return BYTE_LENGTHS[length_bytes(leaf._perdoc, fieldname, leaf.doc_count_all())]
    count = leaf.doc_count_all()
    return np.array(
        [leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(count)], dtype=np.float32
    )


def stored_fields_reader(leaf) -> Callable[[int], dict]:
    """A function from a segment's document number to its stored fields (deleted ones too).

    The codec's own reader skips ``SegmentReader``'s per-field schema check (a third of
    the time of reading every title).
    """
    return getattr(getattr(leaf, "_perdoc", None), "stored_fields", None) or leaf.stored_fields


def stored_fields_by_number(reader) -> Callable[[int], dict]:
    """A function from a document number of ``reader`` to its stored fields: what
    ``reader.stored_fields`` answers (fields the schema no longer has left out; raises
    ``ReaderClosed`` once the reader is closed), through each segment's codec reader
    without Whoosh's per-call dispatch (about a third of reading a hit's fields)."""
    leaves = list(reader.leaf_readers())
    offsets = [offset for _, offset in leaves]
    getters = [stored_fields_reader(leaf) for leaf, _ in leaves]
    names = frozenset(reader.schema.names())

    def stored(docnum: int) -> dict:
        at = max(0, bisect_right(offsets, docnum) - 1)
        leaf = leaves[at][0]
        if leaf.is_closed:
            raise ReaderClosed
        fields = getters[at](docnum - offsets[at])
        return {name: value for name, value in fields.items() if name in names}

    return stored


def live_documents(reader) -> np.ndarray:
    """A bool per document number of ``reader``: False where the document is deleted."""
    live = np.ones(reader.doc_count_all(), dtype=bool)
    for leaf, offset in reader.leaf_readers():
        if not leaf.has_deletions():
            continue
        perdoc = getattr(leaf, "_perdoc", None)
        if perdoc is not None:
            deleted = np.fromiter(perdoc.deleted_docs(), dtype=np.int64)
        else:
            deleted = np.flatnonzero([leaf.is_deleted(d) for d in range(leaf.doc_count_all())])
        live[offset + deleted] = False
    return live


def populate(reader) -> int:
    """Map every page that ``reader``'s queries read into this process now: each
    segment's posting arrays and its compound file (stored fields, lengths), so that no
    query takes a page fault on them (``files.populate_map``; at 85k the search box's
    first reads took 30-150 a query). Returns the bytes populated (0 where the kernel
    cannot). Call after the page cache is filled: pages not in it are read."""
    done = 0
    for leaf, _ in reader.leaf_readers():
        mapped = arrays_for(leaf)
        if mapped is not None and mapped.populate():
            done += mapped.size()
        compound = getattr(getattr(leaf, "_storage", None), "a", None)
        whole = getattr(compound, "_file", None)
        if isinstance(whole, MappedFile) and whole.populate():
            done += len(whole._map)
    return done


# --------------------------------------------------------------------------- readers
def reader_over(ix, reader):
    """Another reader over exactly ``reader``'s segments, with its own open files
    (Whoosh's files keep a read position, so two threads must never share a reader)."""
    segments = [leaf.segment() for leaf, _ in reader.leaf_readers()]
    return ix._reader(ix.storage, ix.schema, segments, reader.generation())


def fast_paths_available(leaf) -> bool:
    """Whether the readers above take one segment's codec structures directly (False:
    they answer through Whoosh's public API, slower)."""
    terms = getattr(leaf, "_terms", None)
    return (
        isinstance(leaf, SegmentReader)
        and isinstance(leaf.codec(), W3Codec)
        and hasattr(leaf, "_perdoc")
        and hasattr(terms, "_tindex")
        and hasattr(terms, "_keycoder")
        and hasattr(W3LeafMatcher, "_read_data")
        and hasattr(W3LeafMatcher, "_next_block")
    )
