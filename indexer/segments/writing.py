"""A Whoosh segment writer that writes term-frequency postings in bulk.

Whoosh's ``SegmentWriter`` handles every posting as a Python tuple four times (pool,
external sort, field writer, block buffer): about 10 µs a posting, and an article has
about 900 postings in our eight text fields — more than pyvi costs to segment it.

``BulkWriter`` keeps the postings of every term-frequency or existence field (the text
fields, and ids, dates, categories, officials) in flat arrays of (term id, document,
frequency) instead, also when segments are merged; it sorts them with NumPy when the
segment is flushed and writes Whoosh's own W3 format (the same term-info records and
pickled blocks of at most 128 postings that ``W3PostingsWriter`` writes; tiny blocks are
stored uncompressed, which the format records per block). Everything else — stored
fields, lengths, columns, fields with vectors, deletions — is Whoosh's code, unchanged.
A test reads every term of a bulk-written index back through Whoosh and compares it
with the same documents written by Whoosh's own writer.

Large runs are cut into several segments (``segment_postings``) so memory stays bounded.
"""

from __future__ import annotations

import logging
import os
import types
import zlib
from array import array
from contextlib import suppress
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from pickle import dumps
from typing import NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.filedb.filetables import _hash_functions
from whoosh.filedb.filetables import _lengths as _LENGTHS
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_int, pack_ushort
from whoosh.writing import PostingPool, SegmentWriter

from indexer.segments import arrays
from indexer.segments.formats import FastFrequency
from indexer.segments.reading import length_bytes

log = logging.getLogger(__name__)

BLOCK = 128  # postings per block, as W3Codec's default blocklimit
COMPRESS_FROM = 64  # smaller blocks are stored uncompressed (+8% postings, no zlib calls)
COMPRESSION = 3  # zlib level, as Whoosh (level 1 wrote no faster and read slower)
FLUSH_BYTES = 8 << 20  # write buffered bytes out every 8 MB
CRC_HASH = 1  # whoosh.filedb.filetables: 0 = MD5, 1 = CRC-32, 2 = CDB
SEGMENT_POSTINGS = 48_000_000  # then a new segment: ≈ 2 GB at its peak, when written


class _FieldPostings:
    """The postings of one field in one segment: parallel arrays plus a vocabulary."""

    __slots__ = ("docs", "field", "freqs", "terms", "text", "vocab")

    def __init__(self, field) -> None:
        self.field = field
        self.text = isinstance(field.format, FastFrequency)  # str terms, else UTF-8 bytes
        self.vocab: dict[str | bytes, int] = {}
        self.terms = array("I")
        self.docs = array("I")
        self.freqs = array("I")

    def __len__(self) -> int:
        return len(self.terms)

    def add_value(self, docnum: int, value) -> int:
        """Index ``value`` for ``docnum``; return the field's length in it."""
        field = self.field
        if self.text:
            counts = field.format.term_counts(value, field.analyzer)
        else:
            counts = {tbytes: freq for tbytes, freq, _w, _v in field.index(value)}
        length = self.add_document(docnum, counts)
        return length if field.scorable else 0

    def add_document(self, docnum: int, counts: dict) -> int:
        """Record ``counts`` (term → frequency) for ``docnum``; return their sum."""
        vocab = self.vocab
        ids = list(map(vocab.get, counts))
        if None in ids:  # terms this segment has not seen yet
            for i, term in enumerate(counts):
                if ids[i] is None:
                    ids[i] = vocab[term] = len(vocab)
        freqs = list(counts.values())
        self.terms.fromlist(ids)
        self.freqs.fromlist(freqs)
        self.docs.fromlist([docnum] * len(ids))
        return sum(freqs)

    def sorted_postings(self):
        """Terms in byte order, with each term's slice of (docs, freqs) in docnum order."""
        words = sorted(self.vocab)  # str order is UTF-8 byte order
        rank = np.empty(len(words), dtype=np.uint32)
        rank[np.fromiter(map(self.vocab.__getitem__, words), np.uint32, len(words))] = np.arange(
            len(words), dtype=np.uint32
        )
        keys = rank[np.frombuffer(self.terms, dtype=np.uint32)]
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        order = np.lexsort((docs, keys))
        keys, docs = keys[order], docs[order]
        freqs = np.frombuffer(self.freqs, dtype=np.uint32)[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return words, starts, docs, freqs


def _write_field(
    fieldwriter, fieldname: str, fieldobj, postings: _FieldPostings, lengths, min_df: int
) -> arrays.FieldArrays:
    """Write one field's terms and posting blocks through ``fieldwriter``'s files; return
    the lists the segment's posting-arrays file holds (``indexer.segments.arrays``)."""
    words, starts, docs, freqs = postings.sorted_postings()
    keys = [w.encode("utf-8") if isinstance(w, str) else w for w in words]
    total = docs.size
    ends = np.r_[starts[1:], total]
    counts = ends - starts
    # blocks of at most BLOCK postings within each term
    nblocks = (counts + BLOCK - 1) // BLOCK
    first_block = np.cumsum(nblocks) - nblocks
    within = np.arange(int(nblocks.sum())) - np.repeat(first_block, nblocks)
    bstarts = np.repeat(starts, nblocks) + within * BLOCK
    bends = np.r_[bstarts[1:], total]
    # per-posting values and per-block statistics, all vectorised
    deltas = docs.astype(np.int64)
    deltas[1:] -= docs[:-1]
    deltas[bstarts] = docs[bstarts]  # every block's ids restart from zero
    lenbytes = lengths[docs]
    weights = freqs.astype(np.float64) * fieldobj.format.field_boost
    bmaxw = np.maximum.reduceat(weights, bstarts)
    bminw = np.minimum.reduceat(weights, bstarts)
    bminlen = _min_length(lenbytes, bstarts)
    bmaxlen = np.maximum.reduceat(lenbytes, bstarts)
    tweight = np.add.reduceat(weights, starts)
    tmaxw = np.maximum.reduceat(weights, starts)
    tminlen = _min_length(lenbytes, starts)
    tmaxlen = np.maximum.reduceat(lenbytes, starts)
    with_freqs = fieldobj.format.fixed_value_size() != 0  # Frequency; Existence has none

    fieldwriter.start_field(fieldname, fieldobj)
    postfile = fieldwriter._postfile
    base = postfile.tell()
    offsets = np.empty(len(words), dtype=np.int64)
    sizes = np.empty(len(words), dtype=np.int64)
    single = counts == 1
    # terms with several postings: Whoosh's pickled blocks, one by one
    multi = np.flatnonzero(~single)
    in_multi = np.repeat(~single, nblocks)
    blocks = _Blocks(
        bstarts[in_multi].tolist(),
        bends[in_multi].tolist(),
        bmaxw[in_multi].tolist(),
        bminw[in_multi].tolist(),
        bminlen[in_multi].tolist(),
        bmaxlen[in_multi].tolist(),
    )
    columns = _Columns(docs, deltas, weights, freqs if with_freqs else None)
    rel_offsets, rel_sizes, written = _write_blocks(
        postfile, nblocks[multi].tolist(), blocks, columns
    )
    offsets[multi] = base + np.asarray(rel_offsets, dtype=np.int64)
    sizes[multi] = rel_sizes
    # terms with one posting (about half of all terms): fixed-size records, vectorised
    ones = np.flatnonzero(single)
    at = starts[ones]
    layout, constants = _SINGLE_LAYOUTS[with_freqs]
    records = np.zeros(ones.size, dtype=layout)
    for name, value in constants.items():
        records[name] = value
    records["info_id"] = docs[at]
    records["data_id"] = docs[at]
    records["info_w"] = weights[at]
    records["data_w"] = weights[at]
    records["info_minlen"] = lenbytes[at]
    records["info_maxlen"] = lenbytes[at]
    if with_freqs:
        records["data_freq"] = freqs[at]
    postfile.write(records.tobytes())
    offsets[ones] = base + written + np.arange(ones.size, dtype=np.int64) * layout.itemsize
    sizes[ones] = layout.itemsize
    # the term table, in term order
    info = np.zeros(len(words), dtype=_TERM_INFO)
    info["weight"] = tweight
    info["df"] = counts
    info["minlen"] = tminlen
    info["maxlen"] = tmaxlen
    info["maxw"] = tmaxw
    info["minid"] = docs[starts]
    info["maxid"] = docs[ends - 1]
    info["offset"] = offsets
    info["length"] = sizes
    _add_terms(fieldwriter._tindex, pack_ushort(fieldwriter._fieldid), keys, info.tobytes())
    fieldwriter.finish_field()
    chosen = arrays.chosen_terms(keys, counts, min_df)
    in_chosen = np.repeat(chosen, counts)
    return arrays.FieldArrays(
        fieldname,
        [k for k, c in zip(keys, chosen.tolist(), strict=True) if c],
        counts[chosen].astype(np.int64),
        docs[in_chosen].astype(np.int32),
        weights[in_chosen].astype(np.float32),
    )


class _Blocks(NamedTuple):
    """Per-block statistics, as Python lists (one entry per block)."""

    starts: list[int]
    ends: list[int]
    maxw: list[float]
    minw: list[float]
    minlen: list[int]
    maxlen: list[int]


def _min_length(lenbytes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each run's smallest non-zero length byte (0 when all are 0: Whoosh's "None")."""
    smallest = np.minimum.reduceat(np.where(lenbytes > 0, lenbytes, 256), starts)
    smallest[smallest == 256] = 0
    return smallest


class _Columns(NamedTuple):
    """One field's postings in term order (``freqs`` None: the format stores no values)."""

    docs: np.ndarray
    deltas: np.ndarray  # docnum gaps, restarting at every block
    weights: np.ndarray
    freqs: np.ndarray | None


def _write_blocks(
    postfile, nblocks: list[int], blocks: _Blocks, columns: _Columns
) -> tuple[list[int], list[int], int]:
    """Whoosh's pickled blocks, term after term (``nblocks[t]`` blocks for term ``t``).

    Returns each term's offset from the current position and its size, and the bytes
    written in all.
    """
    docs, deltas, weights, freqs = columns
    offsets: list[int] = []
    sizes: list[int] = []
    out = bytearray()
    flushed = 0
    b = 0
    for count in nblocks:
        offset = flushed + len(out)
        out += WHOOSH3_HEADER_MAGIC
        last = b + count - 1
        while b <= last:
            s, e = blocks.starts[b], blocks.ends[b]
            maxw, minw = blocks.maxw[b], blocks.minw[b]
            if maxw == minw:
                mini_w = None if maxw == 1.0 else maxw
            else:
                mini_w = tuple(weights[s:e].tolist())
            ids = tuple(deltas[s:e].tolist())
            values = None if freqs is None else freqs[s:e].astype(">u4").tobytes()
            data = dumps((ids, mini_w, values), 2)
            comp = 0
            if e - s >= COMPRESS_FROM:
                comp = COMPRESSION
                data = zlib.compress(data, comp)
            lastid = int(docs[e - 1])
            info = dumps((e - s, lastid, maxw, comp, blocks.minlen[b], blocks.maxlen[b]), 2)
            size = len(info) + len(data)
            out += pack_int(-size if b == last else size)
            out += info
            out += data
            b += 1
        offsets.append(offset)
        sizes.append(flushed + len(out) - offset)
        if len(out) > FLUSH_BYTES:
            postfile.write(bytes(out))
            flushed += len(out)
            out.clear()
    postfile.write(bytes(out))
    return offsets, sizes, flushed + len(out)


def _add_terms(tindex, prefix: bytes, terms: list[bytes], records: bytes) -> None:
    """``OrderedHashWriter.add`` for every (term bytes, record) of one field, in bulk."""
    keys = [prefix + t for t in terms]
    if not keys:
        return
    if keys[0] <= tindex.lastkey:
        raise ValueError("terms must be added in increasing order")
    width = _TERM_INFO.itemsize
    lens = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    sizes = _LENGTHS.size + lens + width
    positions = (tindex.dbfile.tell() + np.cumsum(sizes) - sizes).tolist()
    heads = np.zeros(len(keys), dtype=[("k", ">i4"), ("v", ">i4")])
    heads["k"] = lens
    heads["v"] = width
    head = heads.tobytes()
    hl = _LENGTHS.size
    tindex.dbfile.write(
        b"".join(
            head[i * hl : (i + 1) * hl] + key + records[i * width : (i + 1) * width]
            for i, key in enumerate(keys)
        )
    )
    buckets = tindex.buckets
    for key, h, pos in zip(keys, map(tindex.hashfn, keys), positions):
        buckets[h & 255].append((h, pos))
    tindex.index.extend(positions)
    tindex.lastkey = keys[-1]


# One block of one posting, pickled with fixed-width opcodes (protocol 4; Whoosh reads
# any protocol): info = (1, id, weight, 0, minlen, maxlen) and data = ((id,), weight,
# freq) — or ((id,), weight, None) for a format without values (Existence).
def _single_layout(with_freqs: bool) -> tuple[np.dtype, dict[str, bytes | int]]:
    fields = [
        ("magic", "S4"),
        ("size", ">i4"),
        ("info_head", "S5"),
        ("info_J", "S1"),
        ("info_id", "<i4"),
        ("info_G", "S1"),
        ("info_w", ">f8"),
        ("info_comp", "S3"),
        ("info_minlen", "u1"),
        ("info_K", "S1"),
        ("info_maxlen", "u1"),
        ("info_tail", "S2"),
        ("data_head", "S3"),
        ("data_id", "<i4"),
        ("data_tuple", "S2"),
        ("data_w", ">f8"),
    ]
    fields += [("data_C", "S2"), ("data_freq", ">u4")] if with_freqs else [("data_N", "S1")]
    fields += [("data_tail", "S2")]
    layout = np.dtype(fields)
    constants = {
        "magic": WHOOSH3_HEADER_MAGIC,
        "size": -(layout.itemsize - 8),
        "info_head": b"\x80\x04(K\x01",  # protocol 4, mark, the int 1
        "info_J": b"J",  # a 4-byte int follows
        "info_G": b"G",  # an 8-byte float follows
        "info_comp": b"K\x00K",  # the int 0 (not compressed), then a 1-byte int
        "info_K": b"K",
        "info_tail": b"t.",  # tuple from the mark, stop
        "data_head": b"\x80\x04J",
        "data_tuple": b"\x85G",  # 1-tuple of ids, then a float
        "data_tail": b"\x87.",  # 3-tuple, stop
    }
    constants.update({"data_C": b"C\x04"} if with_freqs else {"data_N": b"N"})  # 4 bytes / None
    return layout, constants


_SINGLE_LAYOUTS = {True: _single_layout(True), False: _single_layout(False)}
_POINTER = np.dtype([("hash", ">u4"), ("position", ">i8")])  # filetables._pointer, "!Iq"
# W3TermInfo.to_bytes of a term whose postings are in the postings file
_TERM_INFO = np.dtype(
    [
        ("flags", "u1"),
        ("weight", ">f4"),
        ("df", ">u4"),
        ("minlen", "u1"),
        ("maxlen", "u1"),
        ("maxw", ">f4"),
        ("minid", ">u4"),
        ("maxid", ">u4"),
        ("offset", ">i8"),
        ("length", ">i4"),
    ]
)


class BulkWriter(SegmentWriter):
    """``SegmentWriter`` with ``FastFrequency`` fields written in bulk (see module doc)."""

    def __init__(
        self,
        ix,
        *,
        segment_postings: int = SEGMENT_POSTINGS,
        min_df: int = arrays.MIN_DF,
        **kwargs,
    ) -> None:
        super().__init__(ix, **kwargs)
        self._min_df = min_df  # lists this long go into the segment's posting-arrays file
        # a temporary directory of its own for the pool: several writers may work on one
        # index at once, and Whoosh's writer deletes its temporary directory when done
        self._tempstorage = self.storage.temp_storage(
            f"{self.indexname}.{os.getpid()}.{id(self)}.tmp"
        )
        self._limitmb = kwargs.get("limitmb", 128)
        self.pool = self._new_pool()
        self._bulk = {
            name: field
            for name, field in self.schema.items()
            if field.indexed
            and type(field.format) in (FastFrequency, Frequency, Existence)
            and not field.vector
            and not field.separate_spelling()
        }
        self._segment_postings = segment_postings
        self._finished: list = []
        self._array_parts: dict[str, arrays.FieldArrays] = {}
        self._new_postings()
        _crc_term_hashes(self.fieldwriter)

    def _new_pool(self) -> PostingPool:
        """Whoosh's posting pool (for fields written the Whoosh way) of the new segment."""
        return PostingPool(self._tempstorage, self.newsegment, limitmb=self._limitmb)

    def _new_postings(self) -> None:
        self._postings = {name: _FieldPostings(field) for name, field in self._bulk.items()}

    @property
    def segment_number(self) -> int:
        """Which of this writer's segments the next document goes to (0, 1, …)."""
        return len(self._finished)

    def _pending(self) -> int:
        return sum(len(p) for p in self._postings.values())

    # ------------------------------------------------------------------ adding
    def add_document(self, **fields) -> None:
        """Whoosh's ``add_document``, with bulk fields recorded in arrays, not the pool."""
        self._check_state()
        schema, perdoc, docnum = self.schema, self.perdocwriter, self.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                if name in self._bulk:
                    length = self._postings[name].add_value(docnum, value)
                else:
                    length = self._index_field(name, field, value, docnum)
                stored = fields.get(f"_stored_{name}", value)
                perdoc.add_field(name, field, stored if field.stored else None, length)
                if field.column_type and stored is not None:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(stored))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1
        if self._pending() >= self._segment_postings:
            self._roll_segment()

    def _index_field(self, name: str, field, value, docnum: int) -> int:
        """A field the Whoosh way (its postings to the pool); returns its length."""
        if field.vector or field.separate_spelling():
            raise NotImplementedError(f"BulkWriter does not write vectors or spelling ({name})")
        length = 0
        if field.indexed:
            for tbytes, freq, weight, vbytes in field.index(value):
                if field.scorable:
                    length += freq
                self.pool.add((name, tbytes, docnum, weight, vbytes))
        return length

    def add_postings_to_pool(self, reader, startdoc, docmap) -> None:
        """Merged segments: bulk fields' postings go to the arrays too."""
        for fieldname, btext, docnum, _weight, vbytes in self._process_posts(
            reader.iter_postings(), startdoc, docmap
        ):
            if fieldname in self._bulk:
                postings = self._postings[fieldname]
                term = btext.decode("utf-8") if postings.text else btext
                freq = postings.field.format.decode_frequency(vbytes)
                postings.add_document(docnum, {term: freq})
            else:
                self.pool.add((fieldname, btext, docnum, _weight, vbytes))

    # ------------------------------------------------------------------ segments
    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader()
        try:
            count = pdr.doc_count_all()
            bulk = {n for n, p in self._postings.items() if len(p)}
            names = sorted(set(self.pool.fieldnames) | bulk)
            groups = groupby(self.pool.iter_postings(), key=itemgetter(0))
            pool_name, pool_items = next(groups, (None, None))
            for name in names:  # field by field in name order, as Whoosh writes them
                if name in bulk:
                    lengths = length_bytes(pdr, name, count).astype(np.int64)
                    self._array_parts[name] = _write_field(
                        self.fieldwriter,
                        name,
                        self._bulk[name],
                        self._postings[name],
                        lengths,
                        self._min_df,
                    )
                elif name == pool_name:
                    self.fieldwriter.add_postings(self.schema, pdr, pool_items)
                    pool_name, pool_items = next(groups, (None, None))
        finally:
            self.fieldwriter.close()
            pdr.close()
        self._new_postings()

    def _finalize_segment(self):
        """Whoosh's, then the segment's posting-arrays file from the lists just written
        (readers would otherwise decode them from the segment after the commit)."""
        segment = super()._finalize_segment()
        parts, self._array_parts = self._array_parts, {}
        folder = getattr(self.storage, "folder", None)
        names = arrays._derived_fields(self.schema)
        if folder is None or not set(names) <= set(self._bulk):
            return segment  # lists in Whoosh's pool: ``ensure_arrays`` decodes them later
        empty = np.zeros(0, dtype=np.int64)
        chosen = [
            parts.get(n) or arrays.FieldArrays(n, [], empty, empty.astype(np.int32), empty)
            for n in names
        ]
        path = Path(folder) / f"{segment.segment_id()}{arrays.SUFFIX}"
        try:
            arrays.write_arrays(
                path, arrays.identity_of(segment, Path(folder)), chosen, self._min_df
            )
        except OSError as exc:  # derived: the commit's ``ensure_arrays`` tries again
            log.warning("posting arrays of %s not written: %s", path.name, exc)
        return segment

    def _roll_segment(self) -> None:
        """Finish the current segment and start a new one in the same commit."""
        self._finished.append(self._finalize_segment())
        codec = self.codec
        self.newsegment = codec.new_segment(self.storage, self.indexname)
        self.pool = self._new_pool()
        self.perdocwriter = codec.per_document_writer(self.storage, self.newsegment)
        self.fieldwriter = codec.field_writer(self.storage, self.newsegment)
        _crc_term_hashes(self.fieldwriter)
        self.docnum = self.docbase = 0
        self._added = False

    def close_segments(self) -> list:
        """Finish the segments this writer wrote, without committing them: for a writer
        running in another process, whose segments the locking writer then ``adopt``s."""
        self._check_state()
        segments = list(self._finished)
        if self._added:
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._finish()
        return segments

    def adopt(self, segments: list) -> None:
        """Commit ``segments`` (written by other writers on this index) with this one's."""
        self._finished.extend(segments)

    def commit(self, mergetype=None, optimize=None, merge=None) -> None:
        """Whoosh's commit, plus the segments this writer has already finished."""
        self._check_state()
        segments = self._merge_segments(mergetype, optimize, merge) + self._finished
        if self._added:
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(segments)
        self._finish()
        self._remove_shared_temp()

    def _remove_shared_temp(self) -> None:
        """Whoosh's per-document writers share ``<index>.tmp``: remove it once empty."""
        with suppress(OSError):
            os.rmdir(os.path.join(self.storage.folder, f"{self.indexname}.tmp"))

    def cancel(self) -> None:
        self._finished = []
        super().cancel()
        self._remove_shared_temp()


def _crc_term_hashes(fieldwriter) -> None:
    """Hash the term table with CRC-32 instead of MD5 (3× faster to write and to look
    up). The table records its hash type in its header, which readers follow; only the
    header has been written so far, so it is rewritten in place."""
    tindex = fieldwriter._tindex
    dbfile = tindex.dbfile
    if any(tindex.buckets):
        return  # keys already added: keep the hash they were added with
    end = dbfile.tell()
    dbfile.seek(tindex.startoffset + len(b"HSH3"))
    dbfile.write_byte(CRC_HASH)
    dbfile.seek(end)
    tindex.hashtype = CRC_HASH
    tindex.hashfn = _hash_functions[CRC_HASH]
    tindex._write_hashes = types.MethodType(_write_hashes, tindex)


def _write_hashes(self) -> None:
    """``HashWriter._write_hashes`` writing each bucket's table in one piece, not slot by
    slot (the same open-addressing tables: slot ``(hash >> 8) % size``, linear probing)."""
    dbfile = self.dbfile
    for entries in self.buckets:
        numslots = 2 * len(entries)
        self.directory.append((dbfile.tell(), numslots))
        hashes, positions = [0] * numslots, [0] * numslots
        for hashval, position in entries:
            slot = (hashval >> 8) % numslots
            while positions[slot]:  # no key is at position 0 (the file header is)
                slot = (slot + 1) % numslots
            hashes[slot], positions[slot] = hashval, position
        table = np.empty(numslots, dtype=_POINTER)
        table["hash"], table["position"] = hashes, positions
        dbfile.write(table.tobytes())
