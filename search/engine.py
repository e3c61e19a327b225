"""Search over one snapshot of the index: match, rank, page, facets, articles, statistics.

``Engine`` runs a request on the live snapshot that its ``SnapshotHolder``
(``search.snapshots``) keeps fresh; every step below takes that one snapshot, so a
request never mixes two commits.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from indexer import segments, store
from indexer.analysis import load_segmenter
from indexer.schema import code_joins, sentence_aware_pairs
from search import pagecache, topk
from search.cursor import SORTS, CursorError, Position, date_resume_index
from search.cursor import encode as encode_cursor
from search.dates import to_iso
from search.doctable import DocTable, match_key
from search.hits import make_article, make_hits
from search.matching import KEPT_MASK_BYTES, DocSets, TermMasks
from search.memory import MASK_SHARE
from search.query import QueryBuilder, QueryPlan
from search.scoring import WARM_POSTINGS, ranked_terms
from search.snapshots import (
    FRESHNESS_CHECK_SECONDS,
    RETIRED_GRACE_SECONDS,
    Snapshot,
    SnapshotHolder,
)

RELAX_BELOW = 10  # fewer articles with every word: partial matches are offered apart
FACET_LIMIT = 20
CACHE_SIZE = 512
# Score by looking documents up in the lists when the lists hold this many times more
# postings than there are documents to score; else score the lists whole.
LOOKUP_SHARE = 16
FEW_RESULTS = 3  # /search offers a correction below this many results (or when unaccented)


@dataclass(frozen=True)
class SearchRequest:
    """A validated search: what ``/search``, the page and the CLI ask for."""

    q: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None
    categories: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    sort: str = "relevance"  # one of SORTS
    page: int = 1
    per_page: int = 10
    facets: bool = True
    histogram: str | None = None
    facet_limit: int = FACET_LIMIT  # values per facet (category, official)
    after: Position | None = None  # a decoded ``cursor``: resume after this hit


@dataclass
class Match:
    """What a request matches in one snapshot: ``Engine.match``."""

    plan: QueryPlan
    mask: np.ndarray  # live matching documents, filters applied: what every count counts
    scores: np.ndarray | None = None  # NumPy BM25F per document (queries with words)
    partial: np.ndarray | None = None  # some but not all words: offered apart, never counted
    every_word: np.ndarray | None = None  # every plain word (partial ones rank first)
    # scored only these (the top k cannot lie elsewhere: ``search.topk``); None: every
    # document of ``mask`` and ``partial`` has its score
    scored: np.ndarray | None = None

    @property
    def ranked(self) -> bool:
        return self.scores is not None

    @property
    def rankable(self) -> np.ndarray:
        """The documents of ``mask`` that a page by score may show."""
        return self.mask if self.scored is None else self.mask & self.scored

    @property
    def relaxed(self) -> bool:
        return self.partial is not None


class Engine:
    """Search over the live index of an index directory."""

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        warm_postings: int | None = WARM_POSTINGS,
        prefetch: bool = True,
        freshness_seconds: float = FRESHNESS_CHECK_SECONDS,
        retired_grace_seconds: float = RETIRED_GRACE_SECONDS,
        preload_segmenter: bool = True,
        workers: int = 1,
        freeze_gc: bool = False,
    ):
        """An engine over the index directory ``root`` (``index_data/`` by default).

        Each new snapshot is read ahead in a background thread: the index files into
        the page cache when ``prefetch``, then ``warm_postings`` postings of the longest
        lists (0: none). ``Settings`` holds the served values. ``freshness_seconds`` and
        ``retired_grace_seconds``: see ``SnapshotHolder``. ``preload_segmenter``: load
        pyvi's model now (a server) rather than when a query first needs it (one query
        from the command line: a one-word query never does). ``workers``: how many
        processes serve the index (each keeps ahead its share: ``search.memory``).
        ``freeze_gc`` (a server): keep each warm snapshot's objects out of garbage
        collections (``search.snapshots.refreeze``).
        """
        self.root = Path(root or store.DEFAULT_DIR)
        self.snapshots = SnapshotHolder(
            self.root,
            warm_postings=warm_postings,
            prefetch=prefetch,
            prepare=self._prepare,
            freshness_seconds=freshness_seconds,
            retired_grace_seconds=retired_grace_seconds,
            workers=workers,
            freeze_gc=freeze_gc,
        )
        if preload_segmenter:
            load_segmenter()

    def _prepare(self, snap: Snapshot) -> None:
        """Give a new snapshot its query builder (statistics and filters of that commit)."""
        snap.builder = QueryBuilder(
            doc_freq=snap.postings.doc_frequency,
            doc_count=snap.searcher.doc_count(),
        )
        snap.builder.restore = lambda text: _spelling().restore_accents(snap.spelling(), text)
        # the commonest syllables' masks are made ahead by the snapshot's warming thread
        kept = KEPT_MASK_BYTES
        if snap.read_ahead is not None:  # within the snapshot's read-ahead budget
            kept = min(kept, int(MASK_SHARE * snap.read_ahead.total))
        masks = TermMasks(snap.searcher.reader(), snap.table.live, snap.postings.postings, kept)
        snap.term_masks = masks
        snap.stored = segments.stored_fields_by_number(snap.searcher.reader())
        if snap.read_ahead is not None:
            snap.read_ahead.add("kept masks", masks.kept_size)

    def snapshot(self) -> Snapshot:
        """The snapshot of the latest commit (raises store.IndexMissing)."""
        return self.snapshots.current()

    def pinned(self):
        """The current snapshot, kept open until the ``with`` block ends (for streams)."""
        return self.snapshots.pinned()

    def close(self) -> None:
        self.snapshots.close()

    # ----------------------------------------------------------------- filters
    @staticmethod
    def _filter_mask(table: DocTable, req: SearchRequest) -> np.ndarray | None:
        """The URL's filters as one mask (the same masks as the query's ``date:``,
        ``category:`` and ``official:``: ``DocTable.filter_mask``)."""
        mask = None

        def narrow(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else mask & m

        if req.date_from or req.date_to:
            narrow(table.date_mask(req.date_from, req.date_to))
        if req.categories:  # several values of one facet: any of them
            narrow(table.category_mask(list(req.categories)))
        if req.officials:  # several values of one facet: any of them
            narrow(np.logical_or.reduce([table.official_mask(o) for o in req.officials]))
        return mask

    # ----------------------------------------------------------------- search
    def search(self, req: SearchRequest) -> dict:
        """Run a search; the answer shape of ``GET /search``."""
        started = time.perf_counter()
        clean = req.q.encode("utf-8", "replace").decode("utf-8")  # drops lone surrogates
        if clean != req.q:
            req = replace(req, q=clean)
        snap = self.snapshot()
        key = req
        cached = snap.answers.get(key)
        if cached is not None:
            snap.answers.move_to_end(key)
            answer = dict(cached)
        else:
            answer = self._search(snap, req)
            snap.answers[key] = answer
            if len(snap.answers) > CACHE_SIZE:
                snap.answers.popitem(last=False)
            answer = dict(answer)
        answer["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def match(
        self, snap: Snapshot, req: SearchRequest, top: int | None = None, scored: bool = True
    ) -> Match:
        """What ``req`` matches in ``snap``, before any ordering (``search.matching``).

        When syllables typed with diacritics match nothing, the query is read without
        them (``plan.folded_reading``), as the answer then says. ``top``: only the first
        ``top`` by score will be read (a ranked OR query then scores only the documents
        that can be among them: ``Match.rankable``); None: every match gets its score.
        ``scored``: False when only the mask is wanted.
        """
        found = self._match_plan(snap, req, snap.builder.build(req.q), top, scored)
        if not found.mask.any() and found.plan.has_exact:
            plan = snap.builder.build(req.q, folded_reading=True)
            folded = self._match_plan(snap, req, plan, top, scored)
            if folded.mask.any():
                return folded
        return found

    def _match_plan(
        self,
        snap: Snapshot,
        req: SearchRequest,
        plan: QueryPlan,
        top: int | None = None,
        scored: bool = True,
    ) -> Match:
        table = snap.table
        filt = self._filter_mask(table, req)
        sets = DocSets(
            table.live,
            snap.postings.postings,
            snap.searcher.stored_fields,
            table.filter_mask,
            snap.sequences,
            sentence_aware_pairs(snap.searcher.schema),
            snap.term_masks,
            code_joins(snap.searcher.schema),
        )
        mask = table.live.copy() if plan.match is None else sets.mask(plan.match)
        if filt is not None:
            mask &= filt
        if not plan.has_text:
            return Match(plan, mask)
        partial = None
        if plan.partial is not None and np.count_nonzero(mask) < RELAX_BELOW:
            partial = sets.mask(plan.partial) & ~mask
            if filt is not None:
                partial &= filt
            if not partial.any():
                partial = None
        if not scored:
            return Match(plan, mask, np.zeros(mask.size, dtype=np.float32), partial)
        if top and partial is None and plan.bag is not None and not plan.bag.require_all:
            terms = ranked_terms(plan.bag, plan.scored)
            best = topk.candidates(snap.postings, terms, mask, top)
            if best is not None:
                docs, values = best
                scores = np.zeros(mask.size, dtype=np.float32)
                scores[docs] = values
                chosen = np.zeros(mask.size, dtype=bool)
                chosen[docs] = True
                return Match(plan, mask, scores, None, None, chosen)
        scores, every_word = self._scores(snap, plan, mask if partial is None else mask | partial)
        return Match(plan, mask, scores, partial, every_word)

    @staticmethod
    def _scores(
        snap: Snapshot, plan: QueryPlan, wanted: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """NumPy BM25F for the plan's words (``search.scoring``) of every document of
        ``wanted`` (others may be 0), and which hold every plain word (None without
        plain words). Few documents are looked up in the lists; many, the lists are
        scored whole (either way the same values)."""
        postings = snap.postings
        terms = ranked_terms(plan.bag, plan.scored)
        docs = np.flatnonzero(wanted)
        if docs.size * LOOKUP_SHARE < sum(postings.cost(t) for t in terms):
            clauses = plan.bag.clauses if plan.bag is not None else None
            values, matched = postings.score_docs(terms, docs, clauses)
            scores = np.zeros(wanted.size, dtype=np.float32)
            scores[docs] = values
            every_word = None
            if matched is not None:
                every_word = np.zeros(wanted.size, dtype=bool)
                every_word[docs] = matched >= len(clauses)
            return scores, every_word
        every_word = None
        if plan.bag is not None:
            # only a short query (every word required) has partial matches to order
            scores, matched = postings.score_bag(plan.bag, count=plan.bag.require_all)
            if matched is not None:
                every_word = matched >= len(plan.bag.clauses)
        else:
            scores = np.zeros(postings.size, dtype=np.float32)
        for term in plan.scored:
            ids, values = postings.term_scores(term)
            scores[ids] += values
        return scores, every_word

    @staticmethod
    def _page(mask: np.ndarray, scores: np.ndarray, start: int, count: int, first=None, cands=None):
        """One page of ``mask`` by score (ties by document number); documents of
        ``first`` (a mask) before the others. ``cands``: ``np.flatnonzero(mask)`` when
        the caller has it."""
        if cands is None:
            cands = np.flatnonzero(mask)
        if start >= cands.size:
            return []
        score = scores[cands]
        tier = None if first is None else ~first[cands]
        keep = _best(score, tier, start + count)
        if keep is not None:  # only the documents that can reach the page are sorted
            cands, score = cands[keep], score[keep]
            tier = None if tier is None else tier[keep]
        order = np.lexsort((cands, -score) if tier is None else (cands, -score, tier))
        chosen = order[start : start + count]
        return [(int(cands[i]), float(score[i])) for i in chosen]

    def _search(self, snap: Snapshot, req: SearchRequest) -> dict:
        top = req.page * req.per_page if req.sort == "relevance" and req.after is None else None
        found = self.match(snap, req, top)
        plan, mask = found.plan, found.mask
        table = snap.table
        docs = np.flatnonzero(mask)  # the matches by number: counted, paged, faceted
        total = int(docs.size)
        start = (req.page - 1) * req.per_page
        sort = req.sort if found.ranked else ("oldest" if req.sort == "oldest" else "newest")
        ordered = None
        if sort != "relevance":
            ordered = table.by_date(docs, newest_first=sort == "newest")
        if req.after is not None:
            start = _cursor_start(req.after, sort, ordered, table)
        if sort == "relevance":
            cands = docs if found.scored is None else None  # rankable is mask
            page = self._page(found.rankable, found.scores, start, req.per_page, cands=cands)
        else:
            page = [(int(d), None) for d in ordered[start : start + req.per_page]]
        answer = {
            "query": req.q,
            "total": total,
            "page": req.page,
            "per_page": req.per_page,
            "sort": sort,
            "relaxed": found.relaxed,
            "hits": self._hits(snap, plan, page),
            "next": _next_cursor(req, sort, start, page, total, table),
        }
        if plan.folded_reading:
            answer["showing_results_for"] = plan.text
        if found.partial is not None:
            shown = (
                self._page(found.partial, found.scores, 0, req.per_page, found.every_word)
                if start == 0
                else []
            )
            answer["partial"] = {
                "total": int(np.count_nonzero(found.partial)),
                "hits": self._hits(snap, plan, shown),
            }
        if req.after is not None:
            answer["page"] = start // req.per_page + 1
        if req.facets:
            answer["facets"] = self._facets(snap, req, mask, docs)
        if req.histogram:
            answer["histogram"] = [
                {"period": str(p), "count": c} for p, c in table.period_counts(mask, req.histogram)
            ]
        if found.ranked and (total < FEW_RESULTS or found.relaxed or not plan.accented):
            did_you_mean = _spelling().suggest_correction(snap.spelling(), req.q)
            if did_you_mean:
                answer["did_you_mean"] = did_you_mean
        return answer

    def _facets(
        self, snap: Snapshot, req: SearchRequest, mask: np.ndarray, docs: np.ndarray
    ) -> dict:
        """Facet counts of ``mask`` (``docs``: its document numbers). A facet with values
        chosen is counted without its own filter (the others still apply): each count is
        then the total that choosing that value alone would give, and the other values
        stay on offer to be added (OR)."""
        table = snap.table
        limit = req.facet_limit
        cat_mask, cat_docs = mask, docs
        if req.categories:
            cat_mask = self.match(snap, replace(req, categories=()), scored=False).mask
            cat_docs = None
        off_mask, off_docs = mask, docs
        if req.officials:
            off_mask = self.match(snap, replace(req, officials=()), scored=False).mask
            off_docs = None
        return {
            "category": table.category_counts(cat_mask, limit, cat_docs),
            "official": table.official_counts(off_mask, limit, off_docs),
            "year": table.year_counts(mask, docs),
        }

    @staticmethod
    def _hits(snap: Snapshot, plan: QueryPlan, page: list) -> list[dict]:
        stored = [snap.stored(d) for d, _ in page]
        return make_hits(stored, [score for _, score in page], plan.highlight)

    def rank(self, q: str, limit: int = 10) -> list[str]:
        """Ids of the top ``limit`` hits for ``q`` by relevance (what /search ranks first)."""
        snap = self.snapshot()
        found = self.match(snap, SearchRequest(q=q, per_page=limit, facets=False), top=limit)
        if not found.ranked:
            return []
        page = self._page(found.rankable, found.scores, 0, limit)
        if len(page) < limit and found.partial is not None:  # as the page shows them
            page += self._page(found.partial, found.scores, 0, limit - len(page), found.every_word)
        return [snap.searcher.stored_fields(d)["id"] for d, _ in page]

    # ----------------------------------------------------------------- articles
    def docnum(self, article_id: str) -> int | None:
        return self.snapshot().searcher.document_number(id=article_id)

    def article(self, article_id: str) -> dict | None:
        """The whole stored article, or None for an unknown id."""
        snap = self.snapshot()
        docnum = snap.searcher.document_number(id=article_id)
        if docnum is None:
            return None
        return make_article(snap.searcher.stored_fields(docnum))

    def stats(self) -> dict:
        """What ``/stats`` answers: documents, categories, officials, dates, size, update."""
        snap = self.snapshot()
        table = snap.table
        facts = store.describe(self.root)
        first, last = table.first_minute, table.last_minute
        live_codes = table.category[table.live]
        counts = np.bincount(live_codes[live_codes >= 0], minlength=len(table.category_names))
        return {
            "documents": snap.searcher.doc_count(),
            "categories": [
                {"value": n, "count": int(c)} for n, c in zip(table.category_names, counts) if c
            ],
            "officials": len(table.official_names),
            "date_range": {
                "from": to_iso(_minute_to_datetime(first)),
                "to": to_iso(_minute_to_datetime(last)),
            },
            "index_size_bytes": facts["size_bytes"],
            "last_update": facts["last_update"],
            "worker": self.worker_memory(snap),
        }

    def worker_memory(self, snap=None) -> dict:
        """This process's memory (``pagecache.process_memory``: resident, shared, private
        and proportional bytes; None off Linux), whether it has read its posting lists ahead
        and built its spelling (``warm``, as ``/health`` says), the posting lists it holds
        of its own, its budget for them, the mapped posting arrays it reads in place, and
        what the snapshot keeps ahead in the process's own memory, part by part, beside
        its budget (``read_ahead``: ``search.memory.ReadAhead.report``)."""
        snap = snap or self.snapshot()
        postings = snap.postings
        mapped = [segments.arrays_for(leaf) for leaf, _ in snap.searcher.reader().leaf_readers()]
        return {
            "pid": os.getpid(),
            "memory_bytes": pagecache.process_memory(),
            "warm": snap.ready.is_set(),
            "held_postings": postings.held,
            "postings_budget": postings.budget,
            "mapped_segments": sum(m is not None for m in mapped),
            "segments": len(mapped),
            "mapped_bytes": sum(m.size() for m in mapped if m is not None),
            "read_ahead": snap.read_ahead.report() if snap.read_ahead is not None else None,
        }

    def is_warm(self) -> bool:
        """Whether the live snapshot's warming is done: its longest posting lists are in
        memory and its spelling is built."""
        return self.snapshot().ready.is_set()

    def doc_count(self) -> int:
        return self.snapshot().searcher.doc_count()


def _spelling():
    """``search.spelling``, imported when a query first needs it (not by a one-query CLI)."""
    from search import spelling

    return spelling


def _best(score: np.ndarray, tier: np.ndarray | None, k: int) -> np.ndarray | None:
    """Positions of every candidate that can be among the first ``k`` by (tier, -score,
    document): the first tier's ``k`` best scores, ties at the ``k``-th all kept, and
    the second tier's likewise when the first has fewer than ``k`` (``tier`` None: one
    tier). None: keep all."""
    if score.size <= 4 * k:
        return None
    if tier is None:
        return score >= np.partition(score, score.size - k)[score.size - k]
    keep = np.zeros(score.size, dtype=bool)
    left = k
    for in_tier in (~tier, tier):
        where = np.flatnonzero(in_tier)
        if not where.size or left <= 0:
            continue
        if where.size <= left:
            keep[where] = True
        else:
            values = score[where]
            kth = np.partition(values, values.size - left)[values.size - left]
            keep[where[values >= kth]] = True
        left -= where.size
    return keep


def _cursor_start(after: Position, sort: str, ordered: np.ndarray | None, table: DocTable) -> int:
    """Where a cursor's page starts in the ordered results."""
    if after.mode != sort:
        raise CursorError(f"the cursor was made for sort={after.mode}, not sort={sort}")
    if ordered is None:
        return after.key
    return date_resume_index(ordered, table.minutes, sort == "newest", after)


def _next_cursor(req, sort: str, start: int, page: list, total: int, table: DocTable):
    """The token for the page after this one, or None at the end."""
    if not page or start + len(page) >= total:
        return None
    last = page[-1][0]
    key = start + len(page) if sort == "relevance" else int(table.minutes[last])
    return encode_cursor(req, Position(sort, key, last))


def _minute_to_datetime(minute: int | None) -> datetime | None:
    if minute is None:
        return None
    days, rest = divmod(minute, 24 * 60)
    return datetime.fromordinal(days + 1).replace(hour=rest // 60, minute=rest % 60)


__all__ = ["SORTS", "Engine", "SearchRequest", "match_key"]
