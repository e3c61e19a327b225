"""Related articles: the archive's articles closest to one article or to a draft.

An article (indexed, or pasted by an editor) becomes a weighted ``Or`` query of its most
distinctive terms, analysed exactly as the index was (``indexer.analysis``):

* pyvi words (``title_words``/``body_words``) and exact syllables (``title``/``body``),
  weighted by tf·idf from the index statistics; terms most articles share are dropped;
* title terms count extra, and so do the officials the article names and proper
  nouns (multi-syllable words written capitalised: places, organisations, people);
* the ~25 best terms (within a budget of postings, which bounds the time) are run as
  one BM25F query, a preloaded ``Or`` with a boost per term;
* for a draft, that query is then widened by the distinctive terms of its two best hits
  (pseudo-relevance feedback, Rocchio-style) and run again: a single sentence names an
  event in a few words, the articles on the event share many more. Chosen on the tune
  half of ``bench.related_drafts`` (85k): first sentences P@5 0.812 → 0.876, whole
  summaries 0.912 → 0.956. An indexed article is long enough already (+0.003 on
  ``bench.related``'s tune half, for a second query): it is not widened.

The article itself and its duplicates (same ``content_hash``, or near-identical
title+body) never appear among the hits; nor does one text twice.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.query.compound import PreloadedOr

from indexer.analysis import (
    SEGMENTS,
    SYLLABLE_PATTERN,
    content_key,
    exact_analyzer,
    fold_diacritics,
    normalize_text,
    word_analyzer,
)
from indexer.officials import extract_officials
from indexer.prepare import duplicate_key
from indexer.segcache import SegmentationStore, cache_path
from search.hits import make_hit

MAX_TERMS = 25
MAX_DF_SHARE = 0.05  # terms in more than this share of the archive are not distinctive
MIN_DF_CAP = 3  # …but a tiny archive keeps terms found in a few articles
# When none of a text's terms is that rare (a short draft on a small archive: "đại hội
# đảng bộ" among 40 articles), its terms held by at most this share are used instead,
# the bound of a long query's distinctive syllables (docs/query-syntax.md, rule 2).
COMMON_DF_SHARE = 0.5
POSTINGS_BUDGET = 12_000  # postings scored per query: bounds the time on a large archive
TITLE_TF = 3.0  # one title occurrence counts as this many body occurrences
PROPER_NOUN_BOOST = 1.2
OFFICIAL_BOOST = 2.0
FIELD_BOOSTS = {"title": 1.5, "body": 1.0}
NEAR_DUPLICATE_JACCARD = 0.8
SHINGLE = 3
LENGTH_RATIO = 0.6  # texts whose lengths differ more than this are never near-duplicates
HIGHLIGHT_TERMS = 8
# A draft's query is widened by the distinctive terms of its best first-pass hits
# (pseudo-relevance feedback); values chosen on bench.related_drafts' tune half, 85k.
FEEDBACK_DOCS = 2  # first-pass hits read for feedback
FEEDBACK_WEIGHT = 1.5  # the feedback terms' weight in all beside the draft's (each scaled to 1)
FEEDBACK_TERMS = 30  # terms of the widened query

_EXACT = exact_analyzer()
_WORDS = word_analyzer()


@dataclass(frozen=True)
class RelatedRequest:
    """How many related articles, and the /search filters that narrow them."""

    limit: int = 5
    date_from: datetime | None = None
    date_to: datetime | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeightedTerm:
    """One query term: ``word`` (pyvi word, ``hà_nội``) or ``syllable``; its weight."""

    kind: str
    text: str
    weight: float


@dataclass
class Draft:
    """The text whose related articles are wanted."""

    title: str
    body: str
    officials: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- terms
def term_counts(draft: Draft) -> tuple[Counter, Counter, set[str]]:
    """(word tf, syllable tf, proper-noun words) of a draft; title occurrences weigh more."""
    words: Counter = Counter()
    syllables: Counter = Counter()
    proper: set[str] = set()
    for text, weight in ((draft.title, TITLE_TF), (draft.body, 1.0)):
        if not text:
            continue
        for t in _WORDS(text, keeporiginal=True):
            words[t.text] += weight
            if _capitalised(t.original):
                proper.add(t.text)
        for t in _EXACT(text):
            syllables[t.text] += weight
    return words, syllables, proper


def _capitalised(original: str) -> bool:
    syls = SYLLABLE_PATTERN.findall(original)
    return len(syls) > 1 and all(s[0].isupper() for s in syls) and not original.isupper()


def distinctive_terms(
    draft: Draft,
    doc_freq,
    doc_count: int,
    max_terms: int | None = None,
    min_df: int = 1,
) -> list[WeightedTerm]:
    """The draft's most distinctive terms, best first, weighted by tf·idf.

    ``doc_freq(kind, text)`` is the number of articles holding the term; terms held by
    fewer than ``min_df`` (2 for an indexed article: only itself) or by too many
    articles (``MAX_DF_SHARE``; ``COMMON_DF_SHARE`` when no term is that rare) are left out, and a term is skipped when its postings would take the
    query past ``POSTINGS_BUDGET`` (what bounds the query's time on a large archive).
    """
    words, syllables, proper = term_counts(draft)
    official_syllables = {
        s.lower() for name in draft.officials for s in SYLLABLE_PATTERN.findall(name)
    }
    cap = max(MAX_DF_SHARE * doc_count, MIN_DF_CAP)
    common_cap = max(cap, COMMON_DF_SHARE * doc_count)
    scored: list[tuple[float, str, str, int]] = []
    common: list[tuple[float, str, str, int]] = []  # used only when nothing is rarer
    for kind, counts in (("word", words), ("syllable", syllables)):
        for text, tf in counts.items():
            df = doc_freq(kind, text)
            if df < max(min_df, 1) or df > common_cap:
                continue
            weight = (1.0 + math.log(tf)) * math.log(doc_count / df + 1.0)
            if text in proper:
                weight *= PROPER_NOUN_BOOST
            if official_syllables and all(p in official_syllables for p in text.split("_")):
                weight *= OFFICIAL_BOOST
            (scored if df <= cap else common).append((-weight, kind, text, df))
    scored = scored or common
    scored.sort()
    best = ((WeightedTerm(kind, text, -neg), df) for neg, kind, text, df in scored)
    return within_budget(best, max_terms or MAX_TERMS)


def within_budget(ranked, max_terms: int) -> list[WeightedTerm]:
    """The first ``max_terms`` of ``ranked`` ((term, doc frequency) pairs, best first),
    skipping a term whose postings would take the query past ``POSTINGS_BUDGET``; the
    first term is always kept."""
    kept: list[WeightedTerm] = []
    postings = 0
    for term, df in ranked:
        if len(kept) >= max_terms:
            break
        if kept and postings + df > POSTINGS_BUDGET:
            continue
        postings += df
        kept.append(term)
    return kept


def related_query(terms: list[WeightedTerm], officials: list[str]) -> wq.Query | None:
    """An ``Or`` of the terms over the word and exact fields (title and body) and officials."""
    if not terms:
        return None
    top = terms[0].weight
    clauses: list[wq.Query] = []
    for t in terms:
        suffix = "_words" if t.kind == "word" else ""
        for part, boost in FIELD_BOOSTS.items():
            clauses.append(wq.Term(f"{part}{suffix}", t.text, boost=boost * t.weight / top))
    clauses += [wq.Term("officials", name, boost=OFFICIAL_BOOST) for name in officials]
    # Preloaded: one pass over each posting list. Whoosh's default tree of unions spends
    # most of its time on block-quality bookkeeping with this many clauses (≈8× slower).
    return PreloadedOr(clauses)


def highlight_terms(terms: list[WeightedTerm]) -> tuple[set[str], set[str]]:
    """(folded, exact) syllables of the best terms, for the snippet's marks."""
    exact = {s for t in terms[:HIGHLIGHT_TERMS] for s in t.text.split("_")}
    return {fold_diacritics(s) for s in exact}, exact


# --------------------------------------------------------------------------- duplicates
def shingles(title: str, body: str) -> set[int]:
    """Hashed runs of SHINGLE folded syllables: what near-duplicate texts share."""
    syls = SYLLABLE_PATTERN.findall(fold_diacritics(normalize_text(f"{title}\n{body}")).lower())
    if len(syls) < SHINGLE:
        return {hash(tuple(syls))}
    return {hash(tuple(syls[i : i + SHINGLE])) for i in range(len(syls) - SHINGLE + 1)}


def near_duplicate(a: set[int], b: set[int]) -> bool:
    """True when two shingle sets are near-identical (Jaccard ≥ NEAR_DUPLICATE_JACCARD)."""
    if not a or not b:
        return False
    small, large = sorted((len(a), len(b)))
    if small < NEAR_DUPLICATE_JACCARD * large:
        return False
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE_JACCARD


class _Fingerprint:
    """One text's shingles, computed only when a candidate is close enough in length."""

    def __init__(self, title: str, body: str):
        self.title, self.body = title, body
        self.length = len(title) + len(body)
        self._shingles: set[int] | None = None

    def same_text(self, title: str, body: str) -> bool:
        """True when ``title``+``body`` is a near-duplicate of this text."""
        length = len(title) + len(body)
        if min(length, self.length) < LENGTH_RATIO * max(length, self.length):
            return False
        if self._shingles is None:
            self._shingles = shingles(self.title, self.body)
        return near_duplicate(self._shingles, shingles(title, body))


# --------------------------------------------------------------------------- segmentation
class StoredSpans:
    """The writer's pyvi spans of indexed texts (``indexer.segcache``, read-only), so an
    indexed article is not segmented again."""

    def __init__(self, root: Path):
        self.store = SegmentationStore(cache_path(root), readonly=True)

    def preload(self, *texts: str) -> None:
        """Put the stored pyvi spans of ``texts`` into the in-memory segmentation cache."""
        keys = {content_key(normalize_text(t)): t for t in texts if t}
        missing = [k for k in keys if SEGMENTS.get(k) is None]
        if not missing:
            return
        for key, (spans, _) in self.store.lookup(missing).items():
            SEGMENTS.put(key, spans)


# --------------------------------------------------------------------------- the search
class RelatedFinder:
    """Related articles over an ``Engine``'s live index."""

    def __init__(self, engine):
        self.engine = engine
        self.spans = StoredSpans(Path(engine.root))

    # ----------------------------------------------------------------- entry points
    def for_article(self, article_id: str, req: RelatedRequest) -> dict | None:
        """Related articles of an indexed article; None when the id is unknown."""
        started = time.perf_counter()
        snap = self.engine.snapshot()
        docnum = snap.searcher.document_number(id=article_id)
        if docnum is None:
            return None
        stored = snap.searcher.stored_fields(docnum)
        title, body = stored.get("title") or "", stored.get("body") or ""
        self.spans.preload(title, body)
        officials = [o["name"] for o in stored.get("officials_json") or []]
        draft = Draft(title, body, officials)
        exclude = {docnum}
        if stored.get("content_hash"):
            exclude.update(
                snap.searcher.docs_for_query(wq.Term("content_hash", stored["content_hash"]))
            )
        hits = self._related(snap, draft, req, exclude, min_df=2)
        return {"id": article_id, "hits": hits, "took_ms": _ms(started)}

    def for_text(self, text: str, title: str, req: RelatedRequest) -> dict:
        """Related articles of a draft that is not in the archive."""
        started = time.perf_counter()
        snap = self.engine.snapshot()
        officials = [o.name for o in extract_officials(title or None, text)]
        draft = Draft(title, text, officials)
        same = wq.Term("content_hash", duplicate_key(text))
        exclude = set(snap.searcher.docs_for_query(same))
        hits = self._related(snap, draft, req, exclude, min_df=1, feedback=True)
        return {"hits": hits, "took_ms": _ms(started)}

    # ----------------------------------------------------------------- internals
    def _doc_freq(self, snap):
        reader = snap.searcher.reader()
        cache = snap.doc_freqs

        def doc_freq(kind: str, text: str) -> int:
            key = (kind, text)
            df = cache.get(key)
            if df is None:
                field = "body_words" if kind == "word" else "body"
                title_field = "title_words" if kind == "word" else "title"
                df = max(reader.doc_frequency(field, text), reader.doc_frequency(title_field, text))
                if len(cache) > 500_000:
                    cache.clear()
                cache[key] = df
            return df

        return doc_freq

    def _related(
        self,
        snap,
        draft: Draft,
        req: RelatedRequest,
        exclude: set[int],
        min_df: int,
        feedback: bool = False,
    ):
        doc_count = max(1, snap.searcher.doc_count())
        doc_freq = self._doc_freq(snap)
        terms = distinctive_terms(draft, doc_freq, doc_count, min_df=min_df)
        officials = [
            o for o in draft.officials if snap.searcher.reader().doc_frequency("officials", o) > 0
        ]
        query = related_query(terms, officials)
        if query is None:
            return []
        allow = _allowed(snap.table, req)
        if allow is not None and not allow:
            return []
        own = _Fingerprint(draft.title, draft.body)
        folded, exact = highlight_terms(terms)
        if feedback and FEEDBACK_DOCS:
            first = self._distinct_hits(snap, query, own, FEEDBACK_DOCS, allow, exclude)
            wider = self._widen(terms, first, doc_freq, doc_count)
            query = related_query(wider, officials)
        return [
            make_hit(stored, score, folded, exact)
            for stored, score in self._distinct_hits(snap, query, own, req.limit, allow, exclude)
        ]

    def _distinct_hits(self, snap, query, own: _Fingerprint, limit: int, allow, exclude):
        """The best ``limit`` (stored fields, score): no duplicate text, not the draft's."""
        hits: list[tuple[dict, float]] = []
        seen_hashes: set[str] = set()
        want = limit + len(exclude) + 5
        results = snap.searcher.search(query, limit=want, filter=allow, mask=exclude or None)
        for hit in results:
            stored = hit.fields()
            key = stored.get("content_hash")
            if key and key in seen_hashes:
                continue
            if own.same_text(stored.get("title") or "", stored.get("body") or ""):
                continue
            seen_hashes.add(key)
            hits.append((stored, hit.score))
            if len(hits) >= limit:
                break
        return hits

    def _widen(self, terms: list[WeightedTerm], first, doc_freq, doc_count: int):
        """The draft's terms plus its first hits' distinctive terms (Rocchio-style): each
        list scaled to 1 at its best term, a hit's list by its score over the best hit's,
        feedback lists weighing ``FEEDBACK_WEIGHT`` in all; best ``FEEDBACK_TERMS`` kept
        within the postings budget."""
        weights: dict[tuple[str, str], float] = {}
        top = terms[0].weight
        for t in terms:
            weights[(t.kind, t.text)] = t.weight / top
        best = first[0][1] if first else 1.0
        for stored, score in first:
            title, body = stored.get("title") or "", stored.get("body") or ""
            self.spans.preload(title, body)  # the writer's pyvi spans: not segmented again
            officials = [o["name"] for o in stored.get("officials_json") or []]
            got = distinctive_terms(Draft(title, body, officials), doc_freq, doc_count, min_df=2)
            if not got:
                continue
            share = FEEDBACK_WEIGHT * (score / best) / len(first) / got[0].weight
            for t in got:
                key = (t.kind, t.text)
                weights[key] = weights.get(key, 0.0) + share * t.weight
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])
        best = ((WeightedTerm(k, t, w), doc_freq(k, t)) for (k, t), w in ranked)
        return within_budget(best, FEEDBACK_TERMS)


def _allowed(table, req: RelatedRequest) -> set[int] | None:
    """Document numbers the filters allow (None: no filter)."""
    mask = None
    if req.date_from or req.date_to:
        mask = table.date_mask(req.date_from, req.date_to)
    if req.categories:
        cats = table.category_mask(list(req.categories))
        mask = cats if mask is None else mask & cats
    return None if mask is None else set(np.flatnonzero(mask).tolist())


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
