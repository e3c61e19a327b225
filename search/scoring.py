"""BM25F over whole posting lists with NumPy: the ranking of plain-word queries.

Whoosh scores document by document in Python, and its block-quality shortcut returned
a wrong top 10 for our nested unions (measured: 99 of 100 queries), while exact
scoring of every match took seconds on 85k articles. Here each query term's posting
list is read block by block into arrays (cached per snapshot), scored with the very
formula of ``whoosh.scoring.BM25F`` and summed into one array per query, so a
20-word question costs milliseconds and the top hits are exact.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh.util.numeric import byte_to_length

B = 0.75
K1 = 1.2
_BYTE_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
WARM_FIELDS = ("body_fold", "body", "title_fold", "title")
WARM_POSTINGS = 4_000_000
EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


@dataclass
class Term:
    """One scored term: ``weight`` × BM25 of ``text`` in ``field``."""

    field: str
    text: str
    weight: float


@dataclass
class Clause:
    """A syllable the user typed: it matches through ``match`` fields, scores through all."""

    terms: list[Term]
    match_fields: tuple[str, ...] = ("title_fold", "body_fold")


@dataclass
class Bag:
    """Plain words: the clauses (one per distinct syllable) and extra ranking terms."""

    clauses: list[Clause]
    boosts: list[Term] = field(default_factory=list)
    as_typed: list[list[Term]] = field(default_factory=list)  # marked syllables, exact
    require_all: bool = True


class PostingStore:
    """Posting lists as arrays, document lengths per field, and BM25 statistics."""

    def __init__(self, reader, live: np.ndarray, capacity: int = 4096):
        self.reader = reader
        self.live = live
        self.size = reader.doc_count_all()
        self.doc_count = reader.doc_count_all()
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lengths: dict[str, np.ndarray] = {}
        self._avg: dict[str, float] = {}
        self._lock = threading.Lock()
        self.warmed = threading.Event()  # set when ``warm`` has finished (or given up)

    # ----------------------------------------------------------------- reading
    def postings(self, fieldname: str, text: str, reader=None) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, term frequencies) of live documents holding the term.

        ``reader``: another reader over the same segments (the warming thread has its
        own: Whoosh's files keep a read position, so two threads must not share them).
        """
        key = (fieldname, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        ids_parts, tf_parts = [], []
        for leaf, offset in (reader or self.reader).leaf_readers():
            ids, tfs = _leaf_postings(leaf, fieldname, text)
            if ids.size:
                ids_parts.append(ids + offset)
                tf_parts.append(tfs)
        if ids_parts:
            ids = np.concatenate(ids_parts)
            tfs = np.concatenate(tf_parts)
            keep = self.live[ids]
            result = (ids[keep], tfs[keep])
        else:
            result = EMPTY
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return result

    def warm(
        self, reader=None, fields: tuple[str, ...] = WARM_FIELDS, budget: int = WARM_POSTINGS
    ) -> int:
        """Read the longest posting lists ahead of queries (they are the slow ones).

        Runs once per snapshot in a background thread; stops at ``budget`` postings
        (about 12 bytes each) or when the snapshot is closed. Returns postings read.
        """
        from whoosh.reading import ReaderClosed

        own = reader or self.reader
        try:
            for fieldname in fields:
                self.lengths(fieldname, own)
            ranked = []
            for fieldname in fields:
                for term in own.lexicon(fieldname):
                    text = term.decode("utf-8")
                    ranked.append((own.doc_frequency(fieldname, text), fieldname, text))
            ranked.sort(reverse=True)
            read = 0
            for df, fieldname, text in ranked[: self.capacity // 2]:
                if read + df > budget:
                    break
                read += self.postings(fieldname, text, own)[0].size
            return read
        except (ReaderClosed, OSError, ValueError, AttributeError):
            return 0
        finally:
            self.warmed.set()

    def lengths(self, fieldname: str, reader=None) -> np.ndarray:
        """Each document's length in ``fieldname`` (as Whoosh stores it: one byte)."""
        if fieldname not in self._lengths:
            reader = reader or self.reader
            out = np.zeros(self.size, dtype=np.float32)
            for leaf, offset in reader.leaf_readers():
                count = leaf.doc_count_all()
                column = f"_{fieldname}_len"
                perdoc = getattr(leaf, "_perdoc", None)
                if perdoc is not None and perdoc.has_column(column):
                    from whoosh.codec.whoosh3 import LENGTHS_COLUMN

                    raw = np.fromiter(perdoc.column_reader(column, LENGTHS_COLUMN), np.uint8, count)
                    out[offset : offset + count] = _BYTE_LENGTHS[raw]
                else:
                    for d in range(count):
                        out[offset + d] = leaf.doc_field_length(d, fieldname, 0) or 0
            total = reader.field_length(fieldname)
            self._avg[fieldname] = (total / self.doc_count) if self.doc_count else 1.0
            self._lengths[fieldname] = out
        return self._lengths[fieldname]

    def idf(self, fieldname: str, text: str) -> float:
        """Whoosh's idf: log(N / (df + 1)) + 1, df counted with deleted documents."""
        df = self.reader.doc_frequency(fieldname, text)
        return math.log(self.doc_count / (df + 1)) + 1

    # ----------------------------------------------------------------- scoring
    def term_scores(self, term: Term) -> tuple[np.ndarray, np.ndarray]:
        """(documents, weighted BM25 score) of one term."""
        ids, tfs = self.postings(term.field, term.text)
        if not ids.size:
            return ids, tfs
        lengths = self.lengths(term.field)[ids]
        avg = self._avg.get(term.field) or 1.0
        idf = self.idf(term.field, term.text)
        norm = K1 * ((1 - B) + B * lengths / avg)
        return ids, (term.weight * idf * (tfs * (K1 + 1)) / (tfs + norm)).astype(np.float32)

    def score_bag(self, bag: Bag) -> tuple[np.ndarray, np.ndarray]:
        """Per document: summed score, and how many clauses it matches."""
        scores = np.zeros(self.size, dtype=np.float32)
        matched = np.zeros(self.size, dtype=np.int16)
        for clause in bag.clauses:
            hit = np.zeros(self.size, dtype=bool)
            for term in clause.terms:
                ids, values = self.term_scores(term)
                if not ids.size:
                    continue
                _add(scores, ids, values)
                if term.field in clause.match_fields:
                    hit[ids] = True
            matched += hit
        for term in bag.boosts:
            ids, values = self.term_scores(term)
            if ids.size:
                _add(scores, ids, values)
        return scores, matched

    def as_typed_mask(self, bag: Bag) -> np.ndarray | None:
        """Documents holding every marked syllable with its marks (None: nothing marked)."""
        if not bag.as_typed:
            return None
        mask = np.ones(self.size, dtype=bool)
        for alternatives in bag.as_typed:
            one = np.zeros(self.size, dtype=bool)
            for term in alternatives:
                ids, _ = self.postings(term.field, term.text)
                one[ids] = True
            mask &= one
        return mask


def _add(scores: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """scores[ids] += values (ids are unique within one posting list)."""
    scores[ids] += values


def _leaf_postings(leaf, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw postings of one segment (deleted documents included), read block by block."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.reading import TermNotFound

    try:
        tbytes = leaf._text_to_bytes(fieldname, text)
        matcher = leaf._terms.matcher(fieldname, tbytes, leaf.schema[fieldname].format)
    except (TermNotFound, KeyError, AttributeError):
        return EMPTY
    if not isinstance(matcher, W3LeafMatcher):
        ids, tfs = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            tfs.append(matcher.weight())
            matcher.next()
        return np.asarray(ids, dtype=np.int64), np.asarray(tfs, dtype=np.float32)
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
