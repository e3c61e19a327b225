"""A Whoosh segment writer that writes term-frequency postings in bulk.

Whoosh's ``SegmentWriter`` handles every posting as a Python tuple four times (pool,
external sort, field writer, block buffer): about 10 µs a posting, and an article has
about 900 postings in our eight text fields — more than pyvi costs to segment it.

``BulkWriter`` keeps the postings of ``FastFrequency`` fields in flat arrays of
(term id, document, frequency) instead, sorts them with NumPy when the segment is
flushed, and writes Whoosh's own W3 format (the same term-info records and pickled
blocks of at most 128 postings that ``W3PostingsWriter`` writes; tiny blocks are stored
uncompressed, which the format records per block). Everything else — stored fields,
lengths, columns, other fields, deletions, merges — is Whoosh's code, unchanged. A test
reads every term of a bulk-written index back through Whoosh and compares it with the
same documents written by Whoosh's own writer.

Large runs are cut into several segments (``segment_postings``) so memory stays bounded.
"""

from __future__ import annotations

import os
import zlib
from array import array
from contextlib import suppress
from itertools import groupby
from operator import itemgetter
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.filedb.filetables import _hash_functions
from whoosh.filedb.filetables import _lengths as _LENGTHS
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.writing import PostingPool, SegmentWriter

from indexer.schema import FastFrequency

BLOCK = 128  # postings per block, as W3Codec's default blocklimit
COMPRESS_FROM = 16  # blocks with fewer postings are stored uncompressed
COMPRESSION = 1  # zlib level (Whoosh's default is 3: 2× slower, 4% smaller blocks)
FLUSH_BYTES = 8 << 20  # write buffered bytes out every 8 MB
CRC_HASH = 1  # whoosh.filedb.filetables: 0 = MD5, 1 = CRC-32, 2 = CDB
SEGMENT_POSTINGS = 12_000_000  # about 1 GB of accumulated postings, then a new segment


class _FieldPostings:
    """The postings of one field in one segment: parallel arrays plus a vocabulary."""

    __slots__ = ("docs", "freqs", "terms", "vocab")

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.terms = array("I")
        self.docs = array("I")
        self.freqs = array("I")

    def __len__(self) -> int:
        return len(self.terms)

    def add_document(self, docnum: int, counts: dict[str, int]) -> int:
        """Record ``counts`` (term → frequency) for ``docnum``; return the field length."""
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
        rank[np.fromiter((self.vocab[w] for w in words), np.uint32, len(words))] = np.arange(
            len(words), dtype=np.uint32
        )
        keys = rank[np.frombuffer(self.terms, dtype=np.uint32)]
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        order = np.lexsort((docs, keys))
        keys, docs = keys[order], docs[order]
        freqs = np.frombuffer(self.freqs, dtype=np.uint32)[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return words, starts, docs, freqs


def _write_field(fieldwriter, fieldname: str, fieldobj, postings: _FieldPostings, lengths):
    """Write one field's terms and posting blocks through ``fieldwriter``'s files."""
    words, starts, docs, freqs = postings.sorted_postings()
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
    bminlen = np.minimum.reduceat(np.where(lenbytes > 0, lenbytes, 255), bstarts)
    bmaxlen = np.maximum.reduceat(lenbytes, bstarts)
    tweight = np.add.reduceat(weights, starts)
    tmaxw = np.maximum.reduceat(weights, starts)
    tminlen = np.minimum.reduceat(np.where(lenbytes > 0, lenbytes, 255), starts)
    tmaxlen = np.maximum.reduceat(lenbytes, starts)
    values = freqs.astype(">u4").tobytes()

    delta_list, weight_list = deltas.tolist(), weights.tolist()
    docs_list = docs.tolist()
    bstarts_l, bends_l = bstarts.tolist(), bends.tolist()
    bmaxw_l, bminw_l = bmaxw.tolist(), bminw.tolist()
    bminlen_l, bmaxlen_l = bminlen.tolist(), bmaxlen.tolist()
    nblocks_l = nblocks.tolist()
    starts_l, ends_l = starts.tolist(), ends.tolist()
    tweight_l, tmaxw_l = tweight.tolist(), tmaxw.tolist()
    tminlen_l, tmaxlen_l = tminlen.tolist(), tmaxlen.tolist()

    fieldwriter.start_field(fieldname, fieldobj)
    postfile = fieldwriter._postfile
    terms = _TermTable(fieldwriter._tindex, pack_ushort(fieldwriter._fieldid))
    pack_info = W3TermInfo._struct.pack
    out = bytearray()
    base = postfile.tell()
    b = 0
    for t, word in enumerate(words):
        offset = base + len(out)
        out += WHOOSH3_HEADER_MAGIC
        last_block = b + nblocks_l[t] - 1
        while b <= last_block:
            s, e = bstarts_l[b], bends_l[b]
            if bmaxw_l[b] == bminw_l[b]:
                mini_w = None if bmaxw_l[b] == 1.0 else bmaxw_l[b]
            else:
                mini_w = tuple(weight_list[s:e])
            data = dumps((tuple(delta_list[s:e]), mini_w, values[4 * s : 4 * e]), 2)
            comp = 0
            if e - s >= COMPRESS_FROM:
                comp = COMPRESSION
                data = zlib.compress(data, comp)
            info = dumps((e - s, docs_list[e - 1], bmaxw_l[b], comp, bminlen_l[b], bmaxlen_l[b]), 2)
            size = len(info) + len(data)
            out += pack_int(-size if b == last_block else size)
            out += info
            out += data
            b += 1
        s, e = starts_l[t], ends_l[t]
        record = pack_info(
            0,
            tweight_l[t],
            e - s,
            tminlen_l[t],
            tmaxlen_l[t],
            tmaxw_l[t],
            docs_list[s],
            docs_list[e - 1],
        )
        terms.add(word, record + pack_long(offset) + pack_int(base + len(out) - offset))
        if len(out) > FLUSH_BYTES:
            postfile.write(bytes(out))
            base += len(out)
            out.clear()
    postfile.write(bytes(out))
    terms.flush()
    fieldwriter.finish_field()


class _TermTable:
    """Bulk ``OrderedHashWriter.add`` for one field's keys (already in increasing order)."""

    def __init__(self, tindex, prefix: bytes) -> None:
        self.tindex = tindex
        self.prefix = prefix
        self.out = bytearray()
        self.base = tindex.dbfile.tell()
        self.hashfn = tindex.hashfn
        self.buckets = tindex.buckets
        self.positions = tindex.index
        self.last = None

    def add(self, word: str, value: bytes) -> None:
        key = self.prefix + word.encode("utf-8")
        pos = self.base + len(self.out)
        self.out += _LENGTHS.pack(len(key), len(value))
        self.out += key
        self.out += value
        h = self.hashfn(key)
        self.buckets[h & 255].append((h, pos))
        self.positions.append(pos)
        self.last = key
        if len(self.out) > FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.last is not None and self.tindex.lastkey >= self.last:
            raise ValueError("terms must be added in increasing order")
        self.tindex.dbfile.write(bytes(self.out))
        self.base += len(self.out)
        self.out.clear()
        if self.last is not None:
            self.tindex.lastkey = self.last


class BulkWriter(SegmentWriter):
    """``SegmentWriter`` with ``FastFrequency`` fields written in bulk (see module doc)."""

    def __init__(self, ix, *, segment_postings: int = SEGMENT_POSTINGS, **kwargs) -> None:
        super().__init__(ix, **kwargs)
        # a temporary directory of its own for the pool: several writers may work on one
        # index at once, and Whoosh's writer deletes its temporary directory when done
        self._tempstorage = self.storage.temp_storage(
            f"{self.indexname}.{os.getpid()}.{id(self)}.tmp"
        )
        self.pool = PostingPool(
            self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128)
        )
        self._bulk = {
            name: field
            for name, field in self.schema.items()
            if isinstance(field.format, FastFrequency)
            and field.scorable
            and not field.vector
            and not field.separate_spelling()
        }
        self._segment_postings = segment_postings
        self._limitmb = kwargs.get("limitmb", 128)
        self._finished: list = []
        self._new_postings()
        _crc_term_hashes(self.fieldwriter)

    def _new_postings(self) -> None:
        self._postings = {name: _FieldPostings() for name in self._bulk}

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
                    counts = field.format.term_counts(value, field.analyzer)
                    length = self._postings[name].add_document(docnum, counts)
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
        decode = FastFrequency().decode_frequency
        for fieldname, btext, docnum, _weight, vbytes in self._process_posts(
            reader.iter_postings(), startdoc, docmap
        ):
            if fieldname in self._bulk:
                self._postings[fieldname].add_document(
                    docnum, {btext.decode("utf-8"): decode(vbytes)}
                )
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
                    lengths = _length_bytes(pdr, name, count)
                    _write_field(
                        self.fieldwriter, name, self._bulk[name], self._postings[name], lengths
                    )
                elif name == pool_name:
                    self.fieldwriter.add_postings(self.schema, pdr, pool_items)
                    pool_name, pool_items = next(groups, (None, None))
        finally:
            self.fieldwriter.close()
            pdr.close()
        self._new_postings()

    def _roll_segment(self) -> None:
        """Finish the current segment and start a new one in the same commit."""
        self._finished.append(self._finalize_segment())
        codec = self.codec
        self.newsegment = codec.new_segment(self.storage, self.indexname)
        self.pool = PostingPool(self._tempstorage, self.newsegment, limitmb=self._limitmb)
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


def _length_bytes(pdr, fieldname: str, count: int) -> np.ndarray:
    """Every document's length byte in ``fieldname`` (0 where absent)."""
    column = f"_{fieldname}_len"
    if not pdr.has_column(column):
        return np.zeros(count, dtype=np.int64)
    raw = np.fromiter(pdr.column_reader(column, LENGTHS_COLUMN), np.uint8, count)
    return raw.astype(np.int64)
