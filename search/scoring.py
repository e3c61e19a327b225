"""BM25F over whole posting lists with NumPy: the ranking of plain-word queries.

Whoosh scores document by document in Python, and its block-quality shortcut does not
return the exact top 10 of our nested unions, while exact scoring of every match takes
seconds on 85k articles (docs/benchmarks.md, "Why the code is as it is"). Here each query term's posting
list is read block by block into arrays (cached per snapshot), scored with array
operations and summed into one array per query, so a 20-word question costs
milliseconds and the top hits are exact.

A term is scored over the title and the body together (BM25F as Robertson and Zaragoza
define it): each field's term frequency is length-normalised, weighted (a title
occurrence counts ``TITLE_WEIGHT`` body occurrences; a title derived from the body's
first sentence counts like body text) and summed before one saturation. Whoosh's
``BM25F`` instead adds a separately saturated BM25 per field, so a word in the title
and the body counts twice and a long body repeating common words outweighs the titles
(the held-out measurement is in docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import math
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from indexer import segments
from search import keptscores, pagecache
from search.memory import POSTINGS, SHARED_SCORES, ReadAhead, array_bytes

B = 0.75
K1 = 1.2
TITLE_WEIGHT = 2.0  # an occurrence in an article's own title counts as two in its body
DERIVED_TITLE_WEIGHT = 1.0  # a title derived from the first sentence is body text
WARM_FIELDS = ("body_fold", "body", "title_fold", "title")
# Postings a worker reads ahead and keeps (``Settings.warm_postings``); None: a share of
# the machine's available memory (``pagecache.warm_budget``). Segments with mapped
# posting arrays (``indexer.segments.arrays``) are not read ahead: every worker reads
# them in place from the shared page cache. Before those arrays, on the 85k benchmark
# index 4M postings (the 59 longest lists) left the search-box p95 at 52 ms in-process
# and 32M (1,957 lists, 0.4-0.5 GB a worker) brought it to 17 ms (docs/benchmarks.md).
WARM_POSTINGS: int | None = None
DF_KEPT = 1 << 18  # document frequencies kept per snapshot (a few MB)
# About what one entry of a dict from a (field, term) key to a number takes: the dict's
# slot, the key tuple, the term's string or bytes and the number (``frequency_bytes``).
DICT_ENTRY_BYTES = 160
SCORES_KEPT_FROM = 1024  # a term's scores are kept when it has this many documents
# While a worker warms it keeps the scores of the commonest syllables, up to this share
# of its postings budget (the rest is filled by queries, least recently used first out).
SCORES_AHEAD_SHARE = 0.5
# of what all the workers' other read-ahead leaves, what the scores they share (one
# file, mapped by each: ``share_scores_ahead``) may take at most
SHARED_MAX_SHARE = 0.75
# a body list → the term a query scores it by: a folded syllable (``query.FOLD``,
# ``BAG_WEIGHTS["fold"]``), a syllable typed with diacritics (``query.BOTH``, "exact")
AHEAD_TERMS = {"body_fold": (("title_fold", "body_fold"), 1.0), "body": (("title", "body"), 1.0)}
# Scoring some documents: a kept list up to this many times longer than the documents
# is read whole (one gather per posting, ~4 ns) rather than searched for each
# document (a binary search, ~50 ns).
GATHER_SHARE = 8
# Kept scores of a term that this share of the documents hold are kept dense (one
# float32 per document, 0 where absent): no larger than ids and values (12 B a
# posting), and scoring some documents is one gather instead of a search per document.
DENSE_SHARE = 3
EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


@dataclass
class Term:
    """One scored term: ``weight`` × BM25F of ``text`` over ``fields`` (title and body)."""

    fields: tuple[str, ...]
    text: str
    weight: float


@dataclass
class Clause:
    """A syllable the user typed: it matches through ``match`` fields, scores through all."""

    terms: list[Term]
    match_fields: tuple[str, ...] = ("title_fold", "body_fold")

    def matches(self, term: Term) -> bool:
        """Whether documents scored by ``term`` match the clause (all its fields match)."""
        return set(term.fields) <= set(self.match_fields)


@dataclass
class Bag:
    """Plain words: the clauses (one per distinct syllable) and extra ranking terms."""

    clauses: list[Clause]
    boosts: list[Term] = field(default_factory=list)
    as_typed: list[list[Term]] = field(default_factory=list)  # marked syllables, exact
    require_all: bool = True


class PostingStore:
    """Posting lists as arrays, document lengths per field, and BM25 statistics."""

    def __init__(
        self,
        reader,
        live: np.ndarray,
        capacity: int = 4096,
        budget: int | None = None,
        memory: ReadAhead | None = None,
    ):
        """``capacity``: lists kept at most; ``budget``: postings kept at most (None:
        what ``memory`` leaves, or without it ``pagecache.warm_budget()``, a share of the
        available memory); ``memory``: the snapshot's whole read-ahead budget
        (``search.memory``), which the kept lists and scores give way to, and where
        this store counts its parts."""
        self.reader = reader
        self.live = live
        self.size = reader.doc_count_all()
        self.doc_count = reader.doc_count_all()
        self.capacity = capacity
        self.memory = memory
        if budget is None:
            budget = pagecache.warm_budget() if memory is None else 1 << 62
        self._cap = budget
        self.held = 0  # postings in the cache
        self._cache: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        # the commonest syllables' scores, mapped from the file every worker shares
        # (``share_scores_ahead``): key → entry as ``_cache`` holds it, read-only
        self._shared: dict[tuple, tuple] = {}
        self._lengths: dict[str, np.ndarray] = {}
        self._avg: dict[str, float] = {}
        self._norms: dict[str, np.ndarray] = {}
        self._df: dict[tuple[str, str], int] = {}
        self._field_max: dict[tuple[str, str], float] = {}
        # (fields, every term of them → document frequency), read by ``warm``
        self._frequencies: tuple[frozenset[str], dict[tuple[str, bytes], int]] | None = None
        self._derived: np.ndarray | None = None
        self._longest: list[tuple[int, str, str]] = []  # found by ``warm``
        self._lock = threading.Lock()
        self.warmed = threading.Event()  # set when ``warm`` has finished (or given up)
        # segment id → (first document number, documents): where each segment sits
        self.segments = {
            leaf.segment().segment_id(): (offset, leaf.doc_count_all())
            for leaf, offset in reader.leaf_readers()
        }
        self.reused = 0  # segment lists taken from a previous snapshot by ``warm``
        self.leaves = list(reader.leaf_readers())
        self.all_live = bool(live.all())
        self._frequency_bytes = 0  # about, of ``_frequencies``
        if memory is not None:
            memory.add(POSTINGS, lambda: self.held * pagecache.BYTES_PER_POSTING)
            memory.add("document lengths", lambda: array_bytes(self._lengths, self._norms))
            memory.add("document frequencies", self.frequency_bytes)

    @property
    def budget(self) -> int:
        """Postings the cache may hold now: ``budget`` as given, and no more than what the
        other parts of the snapshot's read-ahead leave (``search.memory``)."""
        if self.memory is None:
            return self._cap
        room = self.memory.left_for(POSTINGS) // pagecache.BYTES_PER_POSTING
        return min(self._cap, room)

    def frequency_bytes(self) -> int:
        """About how many bytes the document frequencies kept for the snapshot take (the
        table ``warm`` reads, and those looked up since): ``DICT_ENTRY_BYTES`` an entry."""
        return self._frequency_bytes + (len(self._df) + len(self._field_max)) * DICT_ENTRY_BYTES

    def trim(self) -> None:
        """Drop the least recently used lists until the cache is within ``budget`` (the
        other parts of the read-ahead may have grown since a list was kept)."""
        budget = self.budget
        with self._lock:
            self._evict(budget)

    # ----------------------------------------------------------------- reading
    def postings(
        self,
        fieldname: str,
        text: str,
        reader=None,
        previous: PostingStore | None = None,
        keep: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, term frequencies) of live documents holding the term.

        ``reader``: another reader over the same segments (the warming thread has its
        own: Whoosh's files keep a read position, so two threads must not share them).
        ``previous``: the store of an earlier snapshot; the segments both share are
        taken from its cache instead of being read again. ``keep``: False reads the
        list without holding it.
        """
        key = (fieldname, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        ids_parts, tf_parts = [], []
        for leaf, offset in (reader or self.reader).leaf_readers():
            cached = (
                previous.segment_postings(key, leaf.segment().segment_id()) if previous else None
            )
            if cached is None:
                ids, tfs = segments.term_postings(leaf, fieldname, text)
            else:
                ids, tfs = cached
                self.reused += 1
            if ids.size:
                ids_parts.append(ids + offset)
                tf_parts.append(tfs)
        if ids_parts:
            ids = np.concatenate(ids_parts) if len(ids_parts) > 1 else ids_parts[0]
            tfs = np.concatenate(tf_parts) if len(tf_parts) > 1 else tf_parts[0]
            if not self.all_live:
                alive = self.live[ids]
                ids, tfs = ids[alive], tfs[alive]
            result = (ids, tfs)
        else:
            result = EMPTY
        if keep:
            self._keep(key, result)
        return result

    def segment_postings(
        self, key: tuple[str, str], segment_id: str
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """One segment's part of a cached list, numbered within the segment (None: not cached).

        Documents this snapshot saw deleted are left out; deletions only grow, so the
        caller's live mask still applies on top.
        """
        place = self.segments.get(segment_id)
        with self._lock:
            hit = self._cache.get(key)
        if place is None or hit is None:
            return None
        start, count = place
        ids, tfs = hit
        lo, hi = np.searchsorted(ids, [start, start + count])
        return ids[lo:hi] - start, tfs[lo:hi]

    def warm(
        self,
        reader=None,
        fields: tuple[str, ...] = WARM_FIELDS,
        budget: int | None = WARM_POSTINGS,
        previous: PostingStore | None = None,
        ahead: bool = True,
    ) -> int:
        """Read the longest posting lists ahead of queries (they are the slow ones).

        Runs once per snapshot in a background thread; stops at ``budget`` postings
        (about 12 bytes each; ``Settings.warm_postings`` in a served app; None: the
        store's own budget, a share of the available memory) or when the snapshot is
        closed. Returns postings read. Nothing is read when every segment has mapped
        posting arrays (the page cache holds them for all workers). With ``previous``
        (the store of the snapshot this one replaces), segments both share are copied
        from its cache: after a commit that adds a small segment only that segment is read.
        With mapped arrays, the scores of the commonest syllables are kept too
        (``keep_scores_ahead``) unless ``ahead`` is False (then the caller does it later,
        once the snapshot's other read-ahead is built and the budget left is known).
        """
        from whoosh.reading import ReaderClosed

        own = reader or self.reader
        budget = self.budget if budget is None else min(budget, self.budget)
        try:
            for fieldname in fields:
                self.lengths(fieldname, own)
            if all(segments.arrays_for(leaf) is not None for leaf, _ in own.leaf_readers()):
                self.derived_titles(own)
                freq = term_frequencies(own, fields)
                self._frequencies = (frozenset(fields), freq)  # read, so kept
                self._frequency_bytes = _table_bytes(freq)
                longest = _longest_lists(own, fields, self.capacity // 2, freq)
                for _, fieldname, text in longest:
                    self._bound_ahead(own, fieldname, text)
                self._longest = longest
                if ahead:
                    self.keep_scores_ahead(own, budget)
                return 0
            read = 0
            for df, fieldname, text in _longest_lists(own, fields, self.capacity // 2):
                if read + df > budget:
                    break
                read += self.postings(fieldname, text, own, previous)[0].size
            return read
        except (ReaderClosed, OSError, ValueError, AttributeError):
            return 0
        finally:
            self.warmed.set()

    def keep_scores_ahead(self, reader=None, budget: int | None = None) -> None:
        """``_scores_ahead`` of the longest lists ``warm`` found, within
        ``SCORES_AHEAD_SHARE`` of ``budget`` (None: of the store's budget now)."""
        from whoosh.reading import ReaderClosed

        budget = self.budget if budget is None else min(budget, self.budget)
        try:
            self._scores_ahead(
                reader or self.reader, self._longest, int(SCORES_AHEAD_SHARE * budget)
            )
        except (ReaderClosed, OSError, ValueError, AttributeError):
            pass

    def _scores_ahead(self, reader, longest: list[tuple[int, str, str]], budget: int) -> None:
        """Keep the scores of the commonest syllables (``AHEAD_TERMS``: the terms that
        score the longest body lists, folded and as typed), up to ``budget`` postings:
        nearly every query scores some of them, and computing one costs a pass over its
        lists."""
        for key, entry in _Ahead(self, reader, longest, budget):
            self._keep(key, entry)

    def share_scores_ahead(self, reader, folder, generation: int, limit: int | None = None) -> bool:
        """Map the commonest syllables' scores from the file all workers of commit
        ``generation`` share (``search.keptscores``), computing and writing it first
        when no worker has. Its budget is what a lone worker would keep ahead
        (``SCORES_AHEAD_SHARE`` of what the snapshot's other parts leave of the whole
        read-ahead budget), so every worker has the scores a single one would; at most
        ``SHARED_MAX_SHARE`` of what all the workers' other parts leave. The file's bytes
        then count once against the whole budget (``ReadAhead.share``). False when it
        cannot be shared (a folder that cannot be written, no mapped arrays, ``limit``
        0): the caller keeps them itself. ``limit``: postings a worker may keep ahead
        (``Settings.warm_postings``; None: no limit but the budget)."""
        from whoosh.reading import ReaderClosed

        longest = self._longest
        wanted = any(f in AHEAD_TERMS and df >= SCORES_KEPT_FROM for df, f, _ in longest)
        if not wanted or limit == 0:
            return False  # (nothing to keep: no file)
        if self.memory is None:
            budget = SCORES_AHEAD_SHARE * self.budget * pagecache.BYTES_PER_POSTING
        else:
            memory = self.memory
            others = sum(size for name, size in memory.sizes().items() if name != POSTINGS)
            lone = SCORES_AHEAD_SHARE * max(0, memory.whole - others)
            budget = min(lone, SHARED_MAX_SHARE * max(0, memory.whole - memory.workers * others))
        if limit is not None:
            budget = min(budget, SCORES_AHEAD_SHARE * limit * pagecache.BYTES_PER_POSTING)
        budget = int(min(budget, 1 << 50))

        def compute(within: int) -> _Ahead:
            return _Ahead(self, reader, longest, within // pagecache.BYTES_PER_POSTING)

        path = keptscores.path_for(folder, generation)
        try:
            found = keptscores.shared(path, self.fingerprint(), compute, budget)
        except (ReaderClosed, ValueError, AttributeError):
            return False
        if found is None:
            return False
        self._shared, size = found
        if self.memory is not None:
            self.memory.share(SHARED_SCORES, size)
            self.trim()
        return True

    def populate_shared(self) -> bool:
        """Map every page of the shared scores' file into this process now
        (``keptscores.populate``): no query then takes a page fault on it."""
        return keptscores.populate(self._shared)

    def fingerprint(self) -> dict:
        """What the snapshot's term scores depend on besides the code: its segments,
        live documents and the scoring constants (``search.keptscores``)."""
        live = hashlib.blake2b(np.packbits(self.live).tobytes(), digest_size=16).hexdigest()
        return {
            "documents": self.size,
            "live": live,
            "segments": [[sid, *place] for sid, place in sorted(self.segments.items())],
            "constants": [B, K1, TITLE_WEIGHT, DERIVED_TITLE_WEIGHT, DENSE_SHARE],
            "terms": repr(AHEAD_TERMS),
        }

    def lengths(self, fieldname: str, reader=None) -> np.ndarray:
        """Each document's length in ``fieldname`` (as Whoosh stores it: one byte)."""
        if fieldname not in self._lengths:
            reader = reader or self.reader
            out = np.zeros(self.size, dtype=np.float32)
            for leaf, offset in reader.leaf_readers():
                out[offset : offset + leaf.doc_count_all()] = segments.field_lengths(
                    leaf, fieldname
                )
            total = reader.field_length(fieldname)
            self._avg[fieldname] = (total / self.doc_count) if self.doc_count else 1.0
            self._lengths[fieldname] = out
        return self._lengths[fieldname]

    def length_norms(self, fieldname: str) -> np.ndarray:
        """Per document, BM25's length normalisation of ``fieldname``:
        ``(1 - B) + B × length / average length`` (float32, computed once per snapshot)."""
        norms = self._norms.get(fieldname)
        if norms is None:
            lengths = self.lengths(fieldname)
            avg = self._avg.get(fieldname) or 1.0
            norms = self._norms[fieldname] = (1 - B) + B * lengths / avg
        return norms

    def doc_frequency(self, fieldname: str, text: str, reader=None) -> int:
        """Whoosh's document frequency of a term (deleted documents included): from the
        table ``warm`` read for the longest fields, else counted from the segments' mapped
        arrays (or looked up in every segment's term table) and kept for the snapshot."""
        key = (fieldname, text)
        df = self._df.get(key)
        if df is None and self._frequencies is not None and fieldname in self._frequencies[0]:
            # every term of the field is in the table: one missing has no documents
            return self._frequencies[1].get((fieldname, text.encode("utf-8", "replace")), 0)
        if df is None:
            reader = reader or self.reader
            df = segments.mapped_frequency(reader, fieldname, text)  # (no Whoosh lookup)
            if df is None:
                df = reader.doc_frequency(fieldname, text)
            if len(self._df) >= DF_KEPT:
                self._df.clear()
            self._df[key] = df
        return df

    def derived_titles(self, reader=None) -> np.ndarray:
        """Documents whose title was derived from the body (no title of their own)."""
        if self._derived is None:
            mask = np.zeros(self.size, dtype=bool)
            for leaf, offset in (reader or self.reader).leaf_readers():
                mask[segments.term_postings(leaf, "title_derived", "t")[0] + offset] = True
            self._derived = mask & self.live
        return self._derived

    def _bound_ahead(self, reader, fieldname: str, text: str) -> None:
        """``field_max`` of a long list, read in place from the mapped arrays (nothing
        kept but the number): the warming thread does it for the longest lists, so that
        no query pays for their bounds. Deleted documents count too (a bound at least
        as large: still a bound)."""
        most = 0.0
        norms = self.length_norms(fieldname)
        for leaf, offset in reader.leaf_readers():
            found = segments.mapped_postings(leaf, fieldname, text)
            ids, tfs = found if found is not None else segments.term_postings(leaf, fieldname, text)
            if ids.size:
                docs = ids.astype(np.int64) + offset
                weight = self.field_weights(fieldname, docs)
                values = weight * tfs.astype(np.float32) / norms[docs]
                most = max(most, float(values.max()))
        with self._lock:
            self._field_max.setdefault((fieldname, text), most)

    # ----------------------------------------------------------------- scoring
    def field_weights(self, fieldname: str, ids: np.ndarray) -> float | np.ndarray:
        """How many body occurrences one occurrence in ``fieldname`` is worth, per document."""
        if not fieldname.startswith("title"):
            return 1.0
        derived = self.derived_titles()[ids]
        return np.where(derived, DERIVED_TITLE_WEIGHT, TITLE_WEIGHT).astype(np.float32)

    def term_scores(self, term: Term) -> tuple[np.ndarray, np.ndarray]:
        """(sorted documents, weighted BM25F score) of one term over its fields.

        A long list's scores are kept for the snapshot beside the postings (they count
        towards the same budget): the common syllables of pasted text recur from query
        to query, and their scores are most of a headline's cost.
        """
        kept = self.kept_scores(term)
        if kept is not None:
            return kept
        key = ("scores", term.fields, term.text, term.weight)
        result = self._score_term(term)
        if result[0].size >= SCORES_KEPT_FROM:
            self._keep(key, result)
        return result

    def term_scores_many(
        self, terms: list[Term], below: int | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``term_scores`` of each of ``terms``, value for value. Those with short lists
        (fewer than ``below`` postings, ``SCORES_KEPT_FROM`` by default: never kept; the
        rare syllables and pairs of a pasted headline) that the mapped arrays hold are
        computed together: one pass of array operations for all of them instead of some
        fifty small ones each (about 0.1 ms a term on the 85k index); those of
        ``SCORES_KEPT_FROM`` postings or more are then kept, as ``term_scores`` keeps them."""
        below = SCORES_KEPT_FROM if below is None else below
        out: list = [None] * len(terms)
        together = []  # (position, [(field, offset, ids view, tfs view), …])
        for n, term in enumerate(terms):
            views = None
            if len(term.fields) <= 2 and self.cost(term) < below:
                views = self._mapped_views(term)
            if views is None:
                out[n] = self.term_scores(term)
            else:
                together.append((n, views))
        if together:
            found = self._score_together([terms[n] for n, _ in together], [v for _, v in together])
            for (n, _), result in zip(together, found, strict=True):
                out[n] = result
                if result[0].size >= SCORES_KEPT_FROM:
                    term = terms[n]
                    self._keep(("scores", term.fields, term.text, term.weight), result)
        return out

    def _mapped_views(self, term: Term) -> list[tuple[str, int, np.ndarray, np.ndarray]] | None:
        """The term's (field, segment offset, ids, frequencies) views in each segment's
        mapped arrays (empty parts left out), or None when some segment has no arrays."""
        views = []
        for fieldname in term.fields:
            for leaf, offset in self.leaves:
                if segments.arrays_for(leaf) is None:
                    return None
                found = segments.mapped_postings(leaf, fieldname, term.text)
                if found is not None and found[0].size:
                    views.append((fieldname, offset, found[0], found[1]))
        return views

    def _score_together(
        self, terms: list[Term], views: list[list[tuple[str, int, np.ndarray, np.ndarray]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``_score_term`` of several terms of at most two fields each, from their mapped
        views, with the same float32 operations on each value: per field ``weight ×
        frequency / length norm``; per document the two fields' values added (one
        addition: the same whichever comes first); then the saturation with the term's
        ``weight × idf`` as a float32."""
        parts = sorted(
            (fieldname, n, offset, ids, tfs)
            for n, term_views in enumerate(views)
            for fieldname, offset, ids, tfs in term_views
        )  # grouped by field, so that each field is one slice
        if not parts:
            return [EMPTY] * len(terms)
        sizes = np.array([p[3].size for p in parts], dtype=np.int64)
        docs = np.concatenate([p[3] for p in parts]).astype(np.int64)
        docs += np.repeat(np.array([p[2] for p in parts], dtype=np.int64), sizes)
        tfs = np.concatenate([p[4] for p in parts]).astype(np.float32)
        names = list(dict.fromkeys(p[0] for p in parts))  # in the order of ``parts``
        width = len(names)
        # per posting: its term (and field, for the document frequencies below)
        owner = np.repeat(np.array([p[1] * width + names.index(p[0]) for p in parts]), sizes)
        x = np.empty(tfs.size, dtype=np.float32)
        ends = np.cumsum(sizes).tolist()
        at = 0
        for i, (fieldname, *_rest) in enumerate(parts):
            if i + 1 < len(parts) and parts[i + 1][0] == fieldname:
                continue  # (the field's slice ends with its last part)
            held = docs[at : ends[i]]
            weight = self.field_weights(fieldname, held)
            x[at : ends[i]] = weight * tfs[at : ends[i]] / self.length_norms(fieldname)[held]
            at = ends[i]
        if not self.all_live:
            alive = self.live[docs]
            docs, x, owner = docs[alive], x[alive], owner[alive]
        # the term's df: the largest of those of its fields with live postings
        present = np.flatnonzero(np.bincount(owner)).tolist()
        dfs = [0] * len(terms)
        for code in present:
            n, fieldname = divmod(code, width)
            fieldname = names[fieldname]
            dfs[n] = max(dfs[n], self.doc_frequency(fieldname, terms[n].text))
        constants = np.array(
            [t.weight * idf(df, self.doc_count) for t, df in zip(terms, dfs, strict=True)],
            dtype=np.float64,
        ).astype(np.float32)
        # each term's documents in order, a document's two fields side by side: added
        owner //= width
        order = np.argsort(owner * self.size + docs, kind="stable")
        docs, x, owner = docs[order], x[order], owner[order]
        first = np.ones(docs.size, dtype=bool)
        first[1:] = (docs[1:] != docs[:-1]) | (owner[1:] != owner[:-1])
        starts = np.flatnonzero(first)
        if starts.size < docs.size:
            x = np.add.reduceat(x, starts)
            docs, owner = docs[starts], owner[starts]
        values = constants[owner] * x * np.float32(K1 + 1) / (np.float32(K1) + x)
        bounds = np.searchsorted(owner, np.arange(len(terms) + 1))
        return [
            (docs[a:b], values[a:b]) if b > a else EMPTY
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ]

    def _score_term(self, term: Term, reader=None) -> tuple[np.ndarray, np.ndarray]:
        """``term_scores`` computed: each field's ``weight × frequency / length norm``,
        summed over fields per document, then one saturation (float32 throughout)."""
        parts, df = [], 0
        for fieldname in term.fields:
            ids, tfs = self.postings(fieldname, term.text, reader, keep=reader is None)
            if not ids.size:
                continue
            weight = self.field_weights(fieldname, ids)
            parts.append((ids, weight * tfs / self.length_norms(fieldname)[ids]))
            df = max(df, self.doc_frequency(fieldname, term.text, reader))
        if not parts:
            return EMPTY
        ids, tfs = parts[0]
        for more_ids, more_tfs in parts[1:]:
            ids, tfs = _union_sum(ids, tfs, more_ids, more_tfs)
        return ids, (term.weight * idf(df, self.doc_count) * tfs * (K1 + 1) / (K1 + tfs)).astype(
            np.float32
        )

    def _keep(self, key: tuple, value: tuple[np.ndarray, np.ndarray]) -> None:
        """Hold ``value`` under ``key`` (least recently used lists go past the budget);
        a term's scores that ``DENSE_SHARE`` of the documents hold, as one dense array."""
        value = self._kept_form(key, value)
        budget = self.budget  # (outside the lock: the other parts may take a while to sum)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = value
                self.held += _held(value)
            self._evict(budget)

    def _evict(self, budget: int) -> None:
        """(under the lock) Least recently used lists out, down to ``budget``."""
        while self._cache and (len(self._cache) > self.capacity or self.held > budget):
            self.held -= _held(self._cache.popitem(last=False)[1])

    def _kept_form(self, key: tuple, value: tuple) -> tuple:
        """``value`` as ``_keep`` holds it: a term's scores that ``DENSE_SHARE`` of the
        documents hold as one dense array (a 1-tuple), anything else as it is."""
        if len(value) == 1:
            return value
        ids, values = value
        dense = key[0] == "scores" and ids.size * DENSE_SHARE >= self.size and values.size
        if dense and float(values.min()) > 0:  # (always: 0 in a dense array means absent)
            dense = np.zeros(self.size, dtype=np.float32)
            dense[ids] = values
            return (dense,)
        return value

    def lookup(self, fieldname: str, text: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of the sorted live documents ``docs`` hold the term, their frequencies):
        ``postings`` read for those documents only. A list held in memory is searched;
        otherwise each segment's mapped arrays are searched in place, nothing copied."""
        with self._lock:
            held = self._cache.get((fieldname, text))
        if held is None:
            parts = []
            for leaf, offset in self.reader.leaf_readers():
                view = segments.mapped_postings(leaf, fieldname, text)
                if view is None:
                    parts = None
                    break
                parts.append((offset, leaf.doc_count_all(), view))
            if parts is None:
                held = self.postings(fieldname, text)
        hit = np.zeros(docs.size, dtype=bool)
        if held is not None:
            ids, tfs = held
            if not ids.size:
                return hit, np.zeros(0, dtype=np.float32)
            at = np.searchsorted(ids, docs)
            np.minimum(at, ids.size - 1, out=at)
            hit = ids[at] == docs
            return hit, tfs[at[hit]]
        found = []
        for offset, count, (ids, tfs) in parts:
            lo, hi = np.searchsorted(docs, [offset, offset + count])
            if lo == hi or not ids.size:
                continue
            local = docs[lo:hi] - offset
            at = np.searchsorted(ids, local)
            np.minimum(at, ids.size - 1, out=at)
            inside = ids[at] == local
            hit[lo:hi] = inside
            found.append(tfs[at[inside]])
        values = np.concatenate(found) if found else np.zeros(0)
        return hit, values.astype(np.float32)

    def has_live(self, fieldname: str, text: str) -> bool:
        """Whether a live document holds the term in ``fieldname``."""
        if not self.doc_frequency(fieldname, text):
            return False
        return self.all_live or self.postings(fieldname, text)[0].size > 0

    def term_scores_at(self, term: Term, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``docs`` hold the term, their scores): ``term_scores`` read for the
        sorted live documents ``docs`` only, value for value the same (the same float32
        operations in the same order; a list whose scores are kept is searched)."""
        dense = self.kept_dense(term)
        if dense is not None:
            present, values = _dense_at(dense, docs)
            return present, values[present]
        kept = self.kept_scores(term)
        if kept is not None:
            ids, values = kept
            if not ids.size or not docs.size:
                return np.zeros(docs.size, dtype=bool), np.zeros(0, dtype=np.float32)
            at = np.searchsorted(ids, docs)
            np.minimum(at, ids.size - 1, out=at)
            present = ids[at] == docs
            return present, values[at[present]]
        present = np.zeros(docs.size, dtype=bool)
        x = np.zeros(docs.size, dtype=np.float32)
        df = 0
        for fieldname in term.fields:
            if not docs.size:
                break
            if not self.has_live(fieldname, term.text):
                continue
            df = max(df, self.doc_frequency(fieldname, term.text))  # as term_scores
            hit, tfs = self.lookup(fieldname, term.text, docs)
            if not tfs.size:
                continue
            held = docs[hit]
            weight = self.field_weights(fieldname, held)
            x[hit] += weight * tfs / self.length_norms(fieldname)[held]
            present |= hit
        if not present.any():
            return present, np.zeros(0, dtype=np.float32)
        tfs = x[present]
        return present, (
            term.weight * idf(df, self.doc_count) * tfs * (K1 + 1) / (K1 + tfs)
        ).astype(np.float32)

    def score_docs(
        self, terms: list[Term], docs: np.ndarray, clauses: list[Clause] | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores of the sorted documents ``docs`` under ``terms`` (in ``ranked_terms``
        order), equal to those that scoring every document gives; and, with ``clauses``,
        how many of them each document matches (``score_bag``'s count)."""
        scores = np.zeros(docs.size, dtype=np.float32)
        matched = None if clauses is None else np.zeros(docs.size, dtype=np.int16)
        clause_of = {}
        if clauses is not None:
            for n, clause in enumerate(clauses):
                for term in clause.terms:
                    clause_of.setdefault(id(term), (n, clause))
        hits: dict[int, np.ndarray] = {}
        where = None  # document number → its position in ``docs`` (-1: not asked for)
        # lists that nothing keeps and that would be read whole (the query's rarer pairs
        # and syllables) are scored together (``term_scores_many``), then gathered
        below = max(SCORES_KEPT_FROM, docs.size * GATHER_SHARE + 1)
        short = [
            t
            for t in terms
            if len(t.fields) <= 2 and self.cost(t) < below and self._kept(t)[0] is None
        ]
        together = {}
        if len(short) > 1:
            found = self.term_scores_many(short, below)
            together = {id(t): r for t, r in zip(short, found, strict=True)}
        for term in terms:
            dense = self.kept_dense(term)
            if dense is not None:  # one gather (0 where absent: the same sums)
                present, values = _dense_at(dense, docs)
                scores += values
                self._count_clause(clause_of, hits, term, present)
                continue
            cost = self.cost(term)
            kept = together.get(id(term)) or self.kept_scores(term)
            if kept is None and SCORES_KEPT_FROM <= cost <= docs.size * GATHER_SHARE:
                kept = self.term_scores(term)  # kept from now on
            if kept is not None and (
                kept[0].size <= docs.size * GATHER_SHARE or id(term) in together
            ):
                # a pass over the list costs less than searching it for every document
                if where is None:
                    where = np.full(self.size, -1, dtype=np.int32)
                    where[docs] = np.arange(docs.size, dtype=np.int32)
                at = where[kept[0]]
                inside = at >= 0
                at = at[inside]
                present = np.zeros(docs.size, dtype=bool)
                present[at] = True
                scores[at] += kept[1][inside]  # (each document once: the same sums)
            else:
                present, values = self.term_scores_at(term, docs)
                if values.size:
                    scores[present] += values
            self._count_clause(clause_of, hits, term, present)
        if matched is not None:
            for hit in hits.values():
                matched += hit
        return scores, matched

    @staticmethod
    def _count_clause(clause_of: dict, hits: dict, term: Term, present: np.ndarray) -> None:
        """Mark ``present`` as matching the clause ``term`` matches for (``score_docs``)."""
        owner = clause_of.get(id(term))
        if owner is not None and owner[1].matches(term):
            hit = hits.setdefault(owner[0], np.zeros(present.size, dtype=bool))
            hit |= present

    def kept_scores(self, term: Term) -> tuple[np.ndarray, np.ndarray] | None:
        """The term's ``term_scores`` if they are kept (nothing computed), else None
        (kept dense: its documents found by a pass over the array)."""
        entry, scale = self._kept(term)
        if entry is None:
            return None
        if len(entry) == 1:
            ids = np.flatnonzero(entry[0])
            values = entry[0][ids]
        else:
            ids, values = entry
        return ids, _scaled(values, scale)

    def kept_dense(self, term: Term) -> tuple[np.ndarray, float] | None:
        """(every document's score under ``term``, 0 where absent; a factor to multiply
        them by) when the term's scores are kept dense, else None."""
        entry, scale = self._kept(term)
        return (entry[0], scale) if entry is not None and len(entry) == 1 else None

    def _kept(self, term: Term) -> tuple[tuple | None, float]:
        """The kept entry of ``term`` and the factor its values take: the entry kept
        for the term, else that of the same term with weight 1 when ``term.weight`` is a
        power of two (the restored-accent boosts: a power-of-two factor commutes with
        float32 rounding, so the products are the values computed, bit for bit)."""
        key = ("scores", term.fields, term.text, term.weight)
        entry = self._shared.get(key)
        if entry is not None:
            return entry, 1.0
        power_of_two = term.weight != 1 and term.weight > 0 and math.frexp(term.weight)[0] == 0.5
        if power_of_two:
            entry = self._shared.get(("scores", term.fields, term.text, 1.0))
            if entry is not None:
                return entry, term.weight
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
                return entry, 1.0
            if power_of_two:
                unit = ("scores", term.fields, term.text, 1.0)
                entry = self._cache.get(unit)
                if entry is not None:
                    self._cache.move_to_end(unit)
                    return entry, term.weight
        return None, 1.0

    def score_bound(self, term: Term) -> float:
        """The most ``term`` adds to any document's score: the largest of its scores
        (exact; computed unless kept) or, for a list whose fields' largest frequencies
        were found ahead (``warm``), ``upper_bound`` (nothing read)."""
        dense = self.kept_dense(term)
        if dense is not None:
            return float(dense[0].max() * np.float32(dense[1]))
        kept = self.kept_scores(term)
        if kept is None and not all((f, term.text) in self._field_max for f in term.fields):
            kept = self.term_scores(term)  # a bound would cost a pass over the list too
        if kept is not None:
            return float(kept[1].max()) if kept[1].size else 0.0
        return self.upper_bound(term)

    def upper_bound(self, term: Term) -> float:
        """The most ``term`` can add to any document's score: its BM25F with, in each
        field, the largest length-normalised weighted frequency of any document
        (``field_max``) and the smallest idf its fields give."""
        x, dfs = 0.0, []
        for fieldname in term.fields:
            most = self.field_max(fieldname, term.text)
            if most:
                x += most
                dfs.append(self.doc_frequency(fieldname, term.text))
        if not x:
            return 0.0
        # the score's idf takes the largest df of the fields with live postings: the
        # smallest of them all can only give a larger idf
        return term.weight * idf(min(dfs), self.doc_count) * x * (K1 + 1) / (K1 + x)

    def field_max(self, fieldname: str, text: str) -> float:
        """The largest ``field weight × frequency / length norm`` of the term over the
        live documents of ``fieldname`` (what ``term_scores`` sums over fields), kept
        for the snapshot: a term's bound costs one pass over its list once."""
        key = (fieldname, text)
        most = self._field_max.get(key)
        if most is None:
            ids, tfs = self.postings(fieldname, text)
            most = 0.0
            if ids.size:
                weight = self.field_weights(fieldname, ids)
                most = float((weight * tfs / self.length_norms(fieldname)[ids]).max())
            if len(self._field_max) >= DF_KEPT:
                self._field_max.clear()
            self._field_max[key] = most
        return most

    def cost(self, term: Term) -> int:
        """About how many postings scoring ``term`` reads (document frequencies)."""
        return sum(self.doc_frequency(f, term.text) for f in term.fields)

    def score_bag(self, bag: Bag, count: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Per document: summed score, and how many clauses it matches (None unless
        ``count``: only a short query's partial matches need it)."""
        scores = np.zeros(self.size, dtype=np.float32)
        matched = np.zeros(self.size, dtype=np.int16) if count else None
        terms = ranked_terms(bag, [])
        dense_of = [self.kept_dense(term) for term in terms]
        found = iter(self.term_scores_many([t for t, d in zip(terms, dense_of) if d is None]))
        dense_of = iter(dense_of)
        for clause in bag.clauses:
            hit = np.zeros(self.size, dtype=bool) if count else None
            for term in clause.terms:
                dense = next(dense_of)
                if dense is not None:  # (0 where absent: the same sums)
                    scores += _scaled(*dense)
                    if count and clause.matches(term):
                        hit |= dense[0] > 0
                    continue
                ids, values = next(found)
                if not ids.size:
                    continue
                _add(scores, ids, values)
                if count and clause.matches(term):
                    hit[ids] = True  # the documents holding it in any of its fields
            if count:
                matched += hit
        for _term in bag.boosts:
            dense = next(dense_of)
            if dense is not None:
                scores += _scaled(*dense)
                continue
            ids, values = next(found)
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
                for fieldname in term.fields:
                    one[self.postings(fieldname, term.text)[0]] = True
            mask &= one
        return mask


def ranked_terms(bag: Bag | None, scored: list[Term]) -> list[Term]:
    """Every term a plan ranks by, in the order their scores are summed (``score_bag``
    then the plan's other terms): float32 sums in this order give the same scores."""
    terms = [] if bag is None else [t for c in bag.clauses for t in c.terms] + list(bag.boosts)
    return terms + list(scored)


def _longest_lists(
    reader, fields: tuple[str, ...], limit: int, freq: dict[tuple[str, bytes], int] | None = None
) -> list[tuple[int, str, str]]:
    """(document frequency, field, term) of the ``limit`` longest lists in ``fields``
    (``freq``: their ``term_frequencies``, if already read)."""
    if freq is None:
        freq = term_frequencies(reader, fields)
    ranked = sorted(((df, f, text) for (f, text), df in freq.items()), reverse=True)
    return [(df, f, text.decode("utf-8")) for df, f, text in ranked[:limit]]


def term_frequencies(reader, fields: tuple[str, ...]) -> dict[tuple[str, bytes], int]:
    """Every term of ``fields`` (its indexed bytes) → Whoosh's document frequency
    (deleted documents included, as ``reader.doc_frequency`` counts them).

    Reads each segment's term table once in order (asking the whole reader for each
    term's frequency looked it up in every segment again: 6 of 21 s of warming).
    """
    freq: dict[tuple[str, bytes], int] = {}
    for leaf, _ in reader.leaf_readers():
        for fieldname in fields:
            for text, info in leaf.iter_field(fieldname):
                key = (fieldname, text)
                freq[key] = freq.get(key, 0) + info.doc_frequency()
    return freq


def _table_bytes(freq: dict[tuple[str, bytes], int]) -> int:
    """About the bytes of a ``term_frequencies`` table: the dict with its slots, and per
    entry its key tuple (56) and the term's bytes object (33 + length); most numbers are
    small ones Python shares (85k: 37 MB, as a deep walk counts it)."""
    return sys.getsizeof(freq) + len(freq) * (56 + 33) + sum(len(t) for _, t in freq)


def idf(df: int, doc_count: int) -> float:
    """Whoosh's idf: log(N / (df + 1)) + 1 (N and df may count deleted documents)."""
    return math.log(max(1, doc_count) / (df + 1)) + 1


def _union_sum(
    ids: np.ndarray, values: np.ndarray, more_ids: np.ndarray, more_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The sorted union of two sorted document lists, each document's values summed
    (float32 addition is commutative, so the sum is the same whichever list leads)."""
    if ids.size < more_ids.size:
        ids, values, more_ids, more_values = more_ids, more_values, ids, values
    values = values.copy()
    at = np.searchsorted(ids, more_ids)
    inside = np.minimum(at, ids.size - 1)
    both = ids[inside] == more_ids
    values[inside[both]] += more_values[both]
    if both.all():
        return ids, values
    only = ~both
    # each new document goes before the first larger one: past the ones inserted before it
    dest = at[only] + np.arange(int(only.sum()))
    rest = np.ones(ids.size + dest.size, dtype=bool)
    rest[dest] = False
    out_ids = np.empty(rest.size, dtype=ids.dtype)
    out_ids[dest] = more_ids[only]
    out_ids[rest] = ids
    out_values = np.empty(rest.size, dtype=values.dtype)
    out_values[dest] = more_values[only]
    out_values[rest] = values
    return out_ids, out_values


def _scaled(values: np.ndarray, scale: float) -> np.ndarray:
    """Kept scores times the factor ``_kept`` gave (a power of two: exact in float32)."""
    return values if scale == 1 else values * np.float32(scale)


def _dense_at(dense: tuple[np.ndarray, float], docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which of ``docs`` hold the term, every one's score, 0 where absent) from a
    ``kept_dense`` entry: one gather."""
    values = _scaled(dense[0][docs], dense[1])
    return values > 0, values


class _Ahead:
    """The commonest syllables' scores as ``PostingStore._keep`` holds them, (key, entry)
    in order of their lists' length, up to ``budget`` postings (``_held``); those kept
    already are left out. ``complete``: True once it ran out of terms within the budget."""

    def __init__(self, store: PostingStore, reader, longest: list, budget: int):
        self.store, self.reader, self.longest, self.budget = store, reader, longest, budget
        self.complete = False

    def __iter__(self):
        store, spent = self.store, 0
        for df, fieldname, text in self.longest:
            if fieldname not in AHEAD_TERMS or df < SCORES_KEPT_FROM:
                continue
            fields, weight = AHEAD_TERMS[fieldname]
            if spent + min(df, store.size * 4 // 12) > self.budget:  # (at least what it costs)
                return
            key = ("scores", fields, text, weight)
            if key in store._cache or key in store._shared:
                continue
            entry = store._kept_form(
                key, store._score_term(Term(fields, text, weight), self.reader)
            )
            if spent + _held(entry) > self.budget:
                return
            yield key, entry
            spent += _held(entry)  # as kept: a dense array counts for less than its list
        self.complete = True


def _held(value: tuple) -> int:
    """How many postings (about 12 bytes each) a kept entry counts for."""
    return sum(a.nbytes for a in value) // 12 if len(value) == 1 else value[0].size


def _add(scores: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """scores[ids] += values (ids are unique within one posting list)."""
    scores[ids] += values
