"""Preparing articles for the index: the expensive analysis, run in worker processes.

Normalise the text, run pyvi (unless the content is already in the segmentation cache),
find officials and the repost key; ``to_document`` turns the result into Whoosh fields.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

from indexer.analysis import (
    SegmentedText,
    Span,
    content_key,
    folded_syllables,
    normalize_text,
    pyvi_word_spans,
)
from indexer.article import Article
from indexer.dates import VIETNAM_TZ
from indexer.officials import EXTRACTOR_VERSION, extract_officials
from indexer.segcache import SegmentationStore

BATCH_SIZE = 16  # articles a worker prepares at a time
SEGMENT_CHARS = 100_000  # pyvi reads longer texts a paragraph run at a time (bounded memory)
DERIVED_TITLE_MAX = 160
PR_SET_PDEATHSIG = 1
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s|\n")


@dataclass
class Prepared:
    """An article with everything the expensive analysis produced."""

    article: Article
    title_text: str
    title_derived: bool
    title_spans: list[Span]
    body_spans: list[Span]
    officials: list[dict]
    fresh: dict[str, tuple[list[Span], object]]  # cache entries computed by the worker

    @property
    def characters(self) -> int:
        """Text indexed for this article (what throughput is counted in)."""
        return len(self.article.body) + len(self.title_text)


@dataclass
class Failed:
    """An article whose preparation raised: reported and skipped, never fatal."""

    id: str
    origin: str | None
    reason: str


def derive_title(body: str) -> str:
    """The first sentence of ``body``, shortened at a word boundary."""
    text = body.strip()
    first = _SENTENCE_END.split(text, maxsplit=1)[0].strip() if text else ""
    if len(first) > DERIVED_TITLE_MAX:
        cut = first[:DERIVED_TITLE_MAX].rsplit(" ", 1)[0]
        first = cut.rstrip(",;:-– ") + " …"
    return first


def duplicate_key(body: str) -> str:
    """Same text republished → same key (case, accents, spacing and punctuation ignored).

    Built from the folded syllables that indexing computes for the body anyway.
    """
    return content_key(" ".join(folded_syllables(body)))


def _officials_key(title: str, body: str) -> str:
    return f"officials{EXTRACTOR_VERSION}:" + content_key(title + "\n\x00" + body)


_CACHE: SegmentationStore | None = None  # this worker's read-only view of the cache


def init_worker(cache_path: str | None, process: bool = True) -> None:
    """Open the segmentation cache for `prepare_batch`; in a worker ``process`` (not the
    indexer itself, which prepares in-process with one job) also `die_with_parent`."""
    global _CACHE
    if process:
        die_with_parent()
    _CACHE = SegmentationStore(cache_path, readonly=True) if cache_path else None


def _cached(keys: list[str]) -> dict[str, tuple[list[Span], object]]:
    """Look keys up in the on-disk cache (read-only, per worker process)."""
    return _CACHE.lookup(keys) if _CACHE is not None else {}


def _spans(key: str, text: str, cached: dict, fresh: dict) -> list[Span]:
    """Cached pyvi spans of ``text``, or computed now (and recorded in ``fresh``)."""
    if key in cached:
        return cached[key][0]
    spans = segment(text)
    fresh[key] = (spans, None)
    return spans


def segment(text: str) -> list[Span]:
    """pyvi's word spans of ``text``; a text over ``SEGMENT_CHARS`` is segmented in runs of
    whole lines (a line longer than that at spaces), so that pyvi's features, about 600
    bytes a character, never hold more than one run. Shorter texts are segmented whole,
    exactly as before."""
    if len(text) <= SEGMENT_CHARS:
        return pyvi_word_spans(text)
    spans: list[Span] = []
    for start, end in _runs(text, SEGMENT_CHARS):
        spans += [(s + start, e + start) for s, e in pyvi_word_spans(text[start:end])]
    return spans


def _runs(text: str, size: int) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of ``text`` of at most ``size`` characters, cut after a line
    break where there is one in the piece, else after a space, else anywhere."""
    runs, start = [], 0
    while len(text) - start > size:
        end = text.rfind("\n", start, start + size) + 1
        if end <= start:
            end = text.rfind(" ", start, start + size) + 1
        if end <= start:
            end = start + size
        runs.append((start, end))
        start = end
    runs.append((start, len(text)))
    return runs


def prepare_batch(articles: list[Article]) -> list[Prepared | Failed]:
    """Worker: segmentation and officials for a batch, reusing cached results.

    Whatever one article raises (including MemoryError) makes it a `Failed` in its place;
    the rest of the batch is prepared as usual.
    """
    out: list[Prepared | Failed | None] = [None] * len(articles)
    plans = []
    keys: list[str] = []
    for i, article in enumerate(articles):
        try:
            plan = _plan(article)
        except Exception as exc:  # noqa: BLE001 - one record never aborts a run
            out[i] = failure(article, exc)
            continue
        plans.append((i, plan))
        keys += plan[5:8]
    cached = _cached(keys)
    for i, plan in plans:
        try:
            out[i] = _prepare(plan, cached)
        except Exception as exc:  # noqa: BLE001 - one record never aborts a run
            out[i] = failure(plan[0], exc)
    return out  # type: ignore[return-value]


def failure(article: Article, exc: BaseException) -> Failed:
    """A `Failed` naming the article and what went wrong, in one line."""
    reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
    return Failed(article.id, article.origin, f"could not be prepared ({reason})")


def _plan(article: Article) -> tuple:
    derived = not (article.title and article.title.strip())
    title = derive_title(article.body) if derived else article.title.strip()
    title_n, body_n = normalize_text(title), normalize_text(article.body)
    tk, bk, ok = content_key(title_n), content_key(body_n), _officials_key(title, article.body)
    return (article, title, derived, title_n, body_n, tk, bk, ok)


def _prepare(plan: tuple, cached: dict) -> Prepared:
    article, title, derived, title_n, body_n, tk, bk, ok = plan
    fresh: dict[str, tuple[list[Span], object]] = {}
    title_spans = _spans(tk, title_n, cached, fresh)
    body_spans = _spans(bk, body_n, cached, fresh)
    if ok in cached:
        officials = cached[ok][1] or []
    else:
        found = extract_officials(None if derived else title_n, body_n, body_spans, normalized=True)
        officials = [{"name": o.name, "positions": list(o.positions)} for o in found]
        fresh[ok] = ([], officials)
    return Prepared(article, title, derived, title_spans, body_spans, officials, fresh)


def to_document(p: Prepared, schema=None) -> dict:
    """The Whoosh fields of one prepared article; with ``schema`` (the index's own),
    only the fields it has: an index built before a derived field was added
    (``*_joins``) goes on without it, and its readers do without it."""
    a = p.article
    doc = {
        "id": a.id,
        "title": p.title_text,
        "title_fold": p.title_text,
        "title_words": SegmentedText(p.title_text, p.title_spans),
        "title_pairs": p.title_text,
        "title_breaks": p.title_text,
        "title_joins": p.title_text,
        "title_derived": p.title_derived,
        "body": a.body,
        "body_fold": a.body,
        "body_words": SegmentedText(a.body, p.body_spans),
        "body_pairs": a.body,
        "body_breaks": a.body,
        "body_joins": a.body,
        "content_hash": duplicate_key(a.body),
        "officials": ",".join(sorted({o["name"].replace(",", " ") for o in p.officials})),
        "officials_json": p.officials,
        "categories": a.categories or ([a.category] if a.category else []),
        "indexed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if a.date is not None:
        doc["date"] = to_vietnam_naive(a.date)
    if a.category:
        doc["category"] = a.category
    if a.source:
        doc["source"] = a.source
    if a.url:
        doc["url"] = a.url
    if a.views is not None:
        doc["views"] = int(a.views)
    if schema is not None:
        doc = {name: value for name, value in doc.items() if name in schema}
    return doc


def to_vietnam_naive(value: datetime) -> datetime:
    """Dates are stored as naive Vietnam time (+07:00): filters and facets use local days."""
    if value.tzinfo is None:
        return value
    return value.astimezone(VIETNAM_TZ).replace(tzinfo=None)


def die_with_parent() -> None:
    """Have Linux SIGKILL this worker when the indexer dies (no orphans after a kill -9),
    and leave a Ctrl-C to the indexer, which stops the run and its workers with it (each
    worker printed a traceback of its own)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
