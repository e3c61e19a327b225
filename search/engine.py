"""Search over one snapshot of the index: match, rank, page, facets, articles, statistics.

``Engine`` runs a request on the live snapshot that its ``SnapshotHolder``
(``search.snapshots``) keeps fresh; every step below takes that one snapshot, so a
request never mixes two commits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh import query as wq

from indexer import store
from indexer.analysis import load_segmenter
from search.cursor import CursorError, Position, date_resume_index
from search.cursor import encode as encode_cursor
from search.dates import parse_range, to_iso
from search.doctable import DocTable, match_key
from search.hits import make_article, make_hit
from search.query import QueryBuilder, QueryPlan
from search.scoring import WARM_POSTINGS
from search.snapshots import (
    FRESHNESS_CHECK_SECONDS,
    RETIRED_GRACE_SECONDS,
    Snapshot,
    SnapshotHolder,
)
from search.spelling import FEW_RESULTS, suggest_correction

RELAX_BELOW = 10  # fewer documents with every word: partial matches fill the page
FACET_LIMIT = 20
CACHE_SIZE = 512


@dataclass(frozen=True)
class SearchRequest:
    """A validated search: what ``/search``, the page and the CLI ask for."""

    q: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None
    categories: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    sort: str = "relevance"
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
    query: wq.Query | None  # the query run (the relaxed one when ``relaxed``)
    mask: np.ndarray  # live matching documents, filters applied
    filt: np.ndarray | None
    relaxed: bool
    scores: np.ndarray | None = None  # NumPy BM25F per document (plain-word queries)
    tier_masks: list = field(default_factory=list)  # documents that rank first, in order


class Engine:
    """Search over the live index of an index directory."""

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        warm_postings: int = WARM_POSTINGS,
        prefetch: bool = True,
        freshness_seconds: float = FRESHNESS_CHECK_SECONDS,
        retired_grace_seconds: float = RETIRED_GRACE_SECONDS,
    ):
        """An engine over the index directory ``root`` (``index_data/`` by default).

        Each new snapshot is read ahead in a background thread: the index files into
        the page cache when ``prefetch``, then ``warm_postings`` postings of the longest
        lists (0: none). ``Settings`` holds the served values. ``freshness_seconds`` and
        ``retired_grace_seconds``: see ``SnapshotHolder``.
        """
        self.root = Path(root or store.DEFAULT_DIR)
        self.snapshots = SnapshotHolder(
            self.root,
            warm_postings=warm_postings,
            prefetch=prefetch,
            prepare=self._prepare,
            freshness_seconds=freshness_seconds,
            retired_grace_seconds=retired_grace_seconds,
        )
        load_segmenter()

    def _prepare(self, snap: Snapshot) -> None:
        """Give a new snapshot its query builder (statistics and filters of that commit)."""
        reader = snap.searcher.reader()
        table = snap.table
        snap.builder = QueryBuilder(
            doc_freq=lambda f, t: reader.doc_frequency(f, t),
            doc_count=snap.searcher.doc_count(),
            resolve=lambda f, v: self._resolve(table, f, v),
        )
        snap.builder.restore = lambda text: suggest_correction(snap.spelling(), text)

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
    def _resolve(table: DocTable, fieldname: str, value: str) -> wq.Query | None:
        """A filter written inside the query text (``official:…``) as a Whoosh query."""
        if fieldname == "official":
            names = [table.official_names[c] for c in table.official_codes(value)]
            return _any_term("officials", names)
        if fieldname == "category":
            names = [table.category_names[c] for c in table.category_codes(value)]
            return _any_term("category", names)
        if fieldname == "source":
            return wq.Term("source", value.strip())
        if fieldname == "date":
            try:
                start, end = parse_range(value)
            except ValueError:
                return None
            return wq.DateRange("date", start, end)
        return None

    def _filter_mask(
        self, snap: Snapshot, req: SearchRequest, plan: QueryPlan
    ) -> np.ndarray | None:
        table = snap.table
        mask = None

        def narrow(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else mask & m

        if req.date_from or req.date_to:
            narrow(table.date_mask(req.date_from, req.date_to))
        if req.categories:  # several values of one facet: any of them
            narrow(table.category_mask(list(req.categories)))
        if req.officials:
            narrow(np.logical_or.reduce([table.official_mask(o) for o in req.officials]))
        for q in plan.filters:
            narrow(table.mask_for_ids(snap.searcher.docs_for_query(q)))
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

    def match(self, snap: Snapshot, req: SearchRequest) -> Match:
        """What ``req`` matches in ``snap`` (relaxed if need be), before any ordering."""
        plan = snap.builder.build(req.q)
        table = snap.table
        filt = self._filter_mask(snap, req, plan)
        if plan.bag is not None:
            return self._match_bag(snap, plan, filt)
        query = plan.query
        if query is not None:
            mask = self._matches(snap, query, filt)
        else:
            mask = table.live.copy() if filt is None else filt & table.live
        return Match(plan, query, mask, filt, relaxed=False)

    def _match_bag(self, snap: Snapshot, plan: QueryPlan, filt: np.ndarray | None) -> Match:
        """Plain words: match and score every document at once (search.scoring)."""
        bag = plan.bag
        live = snap.table.live
        scores, matched = snap.postings.score_bag(bag)
        full = (matched >= len(bag.clauses)) & live
        any_word = (matched > 0) & live
        relaxed = False
        as_typed = snap.postings.as_typed_mask(bag)
        tier_masks = []
        if bag.require_all and len(bag.clauses) > 1 and int(full.sum()) < RELAX_BELOW:
            relaxed, mask = True, any_word
            if as_typed is not None:
                tier_masks.append(full & as_typed)
            tier_masks.append(full)
        else:
            mask = full if bag.require_all else any_word
            if as_typed is not None and bag.require_all:
                tier_masks.append(as_typed)
        if plan.rest is not None:
            mask = mask & snap.table.mask_for_ids(snap.searcher.docs_for_query(plan.rest))
        if filt is not None:
            mask = mask & filt
        query = plan.relaxed if relaxed and plan.relaxed is not None else plan.query
        return Match(plan, query, mask, filt, relaxed, scores, tier_masks)

    def _page(
        self, snap: Snapshot, found: Match, start: int, count: int
    ) -> list[tuple[int, float]]:
        """One page of ``found`` by relevance."""
        if found.scores is None:
            return self._ranked_page(snap, found.query, found.mask, found.filt, start, count)
        cands = np.flatnonzero(found.mask)
        if start >= cands.size:
            return []
        tier = np.full(cands.size, len(found.tier_masks), dtype=np.int8)
        for i in reversed(range(len(found.tier_masks))):
            tier[found.tier_masks[i][cands]] = i
        score = found.scores[cands]
        order = np.lexsort((cands, -score, tier))
        chosen = order[start : start + count]
        return [(int(cands[i]), float(score[i])) for i in chosen]

    def _search(self, snap: Snapshot, req: SearchRequest) -> dict:
        found = self.match(snap, req)
        plan, query, mask, relaxed = found.plan, found.query, found.mask, found.relaxed
        table = snap.table
        total = int(mask.sum())
        start = (req.page - 1) * req.per_page
        sort = req.sort if query is not None else ("oldest" if req.sort == "oldest" else "newest")
        ordered = None
        if sort != "relevance":
            ordered = table.by_date(np.flatnonzero(mask), newest_first=sort == "newest")
        if req.after is not None:
            start = _cursor_start(req.after, sort, ordered, table)
        if sort == "relevance":
            page = self._page(snap, found, start, req.per_page)
        else:
            page = [(int(d), None) for d in ordered[start : start + req.per_page]]
        hits = [
            make_hit(snap.searcher.stored_fields(d), score, plan.highlight, plan.exact)
            for d, score in page
        ]
        answer = {
            "query": req.q,
            "total": total,
            "page": req.page,
            "per_page": req.per_page,
            "sort": sort,
            "relaxed": relaxed,
            "hits": hits,
            "next": _next_cursor(req, sort, start, page, total, table),
        }
        if req.after is not None:
            answer["page"] = start // req.per_page + 1
        if req.facets:
            answer["facets"] = self._facets(snap, req, mask)
        if req.histogram:
            answer["histogram"] = [
                {"period": str(p), "count": c} for p, c in table.period_counts(mask, req.histogram)
            ]
        if query is not None and (total < FEW_RESULTS or relaxed or not plan.accented):
            did_you_mean = suggest_correction(snap.spelling(), req.q)
            if did_you_mean:
                answer["did_you_mean"] = did_you_mean
        return answer

    def _facets(self, snap: Snapshot, req: SearchRequest, mask: np.ndarray) -> dict:
        """Facet counts. A facet with values chosen is counted without its own filter
        (the others still apply): each count is then the total that choosing that value
        alone would give, and the other values stay on offer to be added (OR)."""
        table = snap.table
        limit = req.facet_limit
        cat_mask = mask
        if req.categories:
            cat_mask = self.match(snap, replace(req, categories=())).mask
        off_mask = mask
        if req.officials:
            off_mask = self.match(snap, replace(req, officials=())).mask
        return {
            "category": table.category_counts(cat_mask, limit),
            "official": table.official_counts(off_mask, limit),
            "year": table.year_counts(mask),
        }

    @staticmethod
    def _matches(snap: Snapshot, query: wq.Query, filt: np.ndarray | None) -> np.ndarray:
        mask = snap.table.mask_for_ids(snap.searcher.docs_for_query(query))
        return mask if filt is None else mask & filt

    @staticmethod
    def _ranked_page(snap, query, mask, filt, start, count) -> list[tuple[int, float]]:
        """One page by Whoosh's score (queries with phrases, groups or fields only)."""
        if start >= int(mask.sum()):
            return []
        allow = None if filt is None else set(np.flatnonzero(mask).tolist())
        # optimize=False: Whoosh's block-quality skipping returned a wrong top-k for
        # nested unions (measured: 99 of 100 queries differed)
        results = snap.searcher.search(query, limit=start + count, filter=allow, optimize=False)
        return [(hit.docnum, hit.score) for hit in results[start : start + count]]

    def rank(self, q: str, limit: int = 10) -> list[str]:
        """Ids of the top ``limit`` hits for ``q`` by relevance (what /search ranks first)."""
        snap = self.snapshot()
        found = self.match(snap, SearchRequest(q=q, per_page=limit, facets=False))
        if found.query is None:
            return []
        page = self._page(snap, found, 0, limit)
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
        snap = self.snapshot()
        table = snap.table
        meta = store.read_meta(self.root)
        gen = store.current_generation(self.root)
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
            "index_size_bytes": store.directory_size(gen) if gen else 0,
            "last_update": meta.get("last_update"),
        }

    def is_warm(self) -> bool:
        """Whether the longest posting lists of the live snapshot are in memory yet."""
        postings = self.snapshot().postings
        return postings is None or postings.warmed.is_set()

    def doc_count(self) -> int:
        return self.snapshot().searcher.doc_count()


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


def _any_term(fieldname: str, values: list[str]) -> wq.Query:
    if not values:
        return wq.NullQuery
    terms = [wq.Term(fieldname, v) for v in values]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def _minute_to_datetime(minute: int | None) -> datetime | None:
    if minute is None:
        return None
    days, rest = divmod(minute, 24 * 60)
    return datetime.fromordinal(days + 1).replace(hour=rest // 60, minute=rest % 60)


__all__ = ["Engine", "SearchRequest", "match_key"]
