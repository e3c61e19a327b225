"""Write articles into the index: a pool of segmenting processes feeding one writer.

Workers normalise text, run pyvi (unless the content is already in the segmentation
cache) and find officials; the single writing process turns the prepared records into
Whoosh documents, so Whoosh's analysers find every segmentation already memoised.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice
from pathlib import Path

from indexer import store
from indexer.analysis import (
    SegmentedText,
    Span,
    content_key,
    fold_diacritics,
    normalize_text,
    pyvi_word_spans,
)
from indexer.article import Article, BadRecord
from indexer.bulkwriter import BulkWriter
from indexer.officials import extract_officials
from indexer.segcache import SegmentationStore, lookup
from indexer.sources import read_articles

BATCH_SIZE = 16
VIETNAM = timezone(timedelta(hours=7))
DERIVED_TITLE_MAX = 160
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s|\n")


@dataclass
class Summary:
    """What one indexing run did."""

    indexed: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    segmented: int = 0
    seconds: float = 0.0
    characters: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"indexed {self.indexed}, updated {self.updated}, skipped {self.skipped}"


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
    content_hash: str  # duplicate_key of the body, computed in the worker too


# --------------------------------------------------------------------------- preparation
def derive_title(body: str) -> str:
    """The first sentence of ``body``, shortened at a word boundary."""
    text = body.strip()
    first = _SENTENCE_END.split(text, maxsplit=1)[0].strip() if text else ""
    if len(first) > DERIVED_TITLE_MAX:
        cut = first[:DERIVED_TITLE_MAX].rsplit(" ", 1)[0]
        first = cut.rstrip(",;:-– ") + " …"
    return first


def duplicate_key(body: str) -> str:
    """Same text republished → same key (case, accents, spacing and punctuation ignored)."""
    words = re.findall(r"\w+", fold_diacritics(normalize_text(body)).lower())
    return content_key(" ".join(words))


def _officials_key(title: str, body: str) -> str:
    return "officials:" + content_key(title + "\n\x00" + body)


_CACHE_DB: sqlite3.Connection | None = None
_CACHE_PATH: str | None = None


def _init_worker(cache_path: str | None) -> None:
    global _CACHE_DB, _CACHE_PATH
    die_with_parent()
    _CACHE_PATH = cache_path
    _CACHE_DB = None


def _cached(keys: list[str]) -> dict[str, tuple[list[Span], object]]:
    """Look keys up in the on-disk cache (read-only, per worker process)."""
    global _CACHE_DB
    if not _CACHE_PATH or not os.path.exists(_CACHE_PATH):
        return {}
    try:
        if _CACHE_DB is None:
            _CACHE_DB = sqlite3.connect(f"file:{_CACHE_PATH}?mode=ro", uri=True, timeout=30)
        return lookup(_CACHE_DB, keys)
    except sqlite3.Error:
        return {}


def _spans(key: str, text: str, cached: dict, fresh: dict) -> list[Span]:
    """Cached pyvi spans of ``text``, or computed now (and recorded in ``fresh``)."""
    if key in cached:
        return cached[key][0]
    spans = pyvi_word_spans(text)
    fresh[key] = (spans, None)
    return spans


def prepare_batch(articles: list[Article]) -> list[Prepared]:
    """Worker: segmentation and officials for a batch, reusing cached results."""
    plans = []
    keys: list[str] = []
    for article in articles:
        derived = not (article.title and article.title.strip())
        title = derive_title(article.body) if derived else article.title.strip()
        title_n, body_n = normalize_text(title), normalize_text(article.body)
        tk, bk, ok = content_key(title_n), content_key(body_n), _officials_key(title, article.body)
        plans.append((article, title, derived, title_n, body_n, tk, bk, ok))
        keys += [tk, bk, ok]
    cached = _cached(keys)
    prepared = []
    for article, title, derived, title_n, body_n, tk, bk, ok in plans:
        fresh: dict[str, tuple[list[Span], object]] = {}

        title_spans = _spans(tk, title_n, cached, fresh)
        body_spans = _spans(bk, body_n, cached, fresh)
        if ok in cached:
            officials = cached[ok][1] or []
        else:
            found = extract_officials(None if derived else title, article.body, body_spans)
            officials = [{"name": o.name, "positions": list(o.positions)} for o in found]
            fresh[ok] = ([], officials)
        prepared.append(
            Prepared(
                article,
                title,
                derived,
                title_spans,
                body_spans,
                officials,
                fresh,
                duplicate_key(article.body),
            )
        )
    return prepared


def to_document(p: Prepared) -> dict:
    """The Whoosh fields of one prepared article."""
    a = p.article
    doc = {
        "id": a.id,
        "title": p.title_text,
        "title_fold": p.title_text,
        "title_words": SegmentedText(p.title_text, p.title_spans),
        "title_pairs": p.title_text,
        "title_derived": p.title_derived,
        "body": a.body,
        "body_fold": a.body,
        "body_words": SegmentedText(a.body, p.body_spans),
        "body_pairs": a.body,
        "content_hash": p.content_hash,
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
    return doc


def to_vietnam_naive(value: datetime) -> datetime:
    """Dates are stored as naive Vietnam time (+07:00): filters and facets use local days."""
    if value.tzinfo is None:
        return value
    return value.astimezone(VIETNAM).replace(tzinfo=None)


# --------------------------------------------------------------------------- the run
def _batches(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _prepared_stream(
    articles: Iterable[Article], jobs: int, cache_path: Path
) -> Iterator[Prepared]:
    batches = _batches(articles, BATCH_SIZE)
    if jobs <= 1:
        _init_worker(str(cache_path))
        for batch in batches:
            yield from prepare_batch(batch)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(str(cache_path),)) as pool:
        for prepared in pool.imap(prepare_batch, batches, chunksize=1):
            yield from prepared


def _progress(total: int | None, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="art", disable=not enabled, smoothing=0.05, mininterval=0.5)


PR_SET_PDEATHSIG = 1
WRITER_MB = 256  # Whoosh's pool, now only for the small fields (id, category, officials…)


def _open_writer(ix) -> BulkWriter:
    """The index writer: Whoosh's, with the text fields' postings written in bulk."""
    return BulkWriter(ix, limitmb=WRITER_MB)


def die_with_parent() -> None:
    """Have Linux SIGKILL this worker when the indexer dies (no orphans after a kill -9)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def index_paths(
    paths: list[str | Path],
    root: Path,
    *,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: bool = False,
    on_error: Callable[[BadRecord], None] | None = None,
    lock_wait: float = 5.0,
) -> Summary:
    """Add or update the articles under ``paths``; with ``rebuild`` build anew and switch."""
    jobs = jobs or os.cpu_count() or 1
    summary = Summary()
    started = time.perf_counter()

    def report(err: BadRecord) -> None:
        summary.skipped += 1
        summary.errors.append(str(err))
        if on_error:
            on_error(err)

    with store.writer_lock(root, lock_wait):
        if rebuild:
            gen = store.new_generation(root)
            from whoosh import index as whoosh_index

            ix = whoosh_index.open_dir(str(gen))
        else:
            ix = store.ensure_index(root)
        cache = SegmentationStore(root / "segcache.sqlite")
        searcher = ix.searcher()
        fresh_index = rebuild or searcher.doc_count_all() == 0
        writer = _open_writer(ix)
        seen: set[str] = set()
        bar = _progress(None, progress)
        try:
            articles = read_articles([str(p) for p in paths], report)
            for p in _prepared_stream(articles, jobs, cache.path):
                for key, (spans, extra) in p.fresh.items():  # keep what pyvi produced
                    cache.put(key, spans, extra)
                    if extra is None:
                        summary.segmented += 1
                doc_id = p.article.id
                if doc_id in seen:  # the same id twice in one run: the later one wins
                    writer.commit()
                    searcher.close()
                    searcher, writer = ix.searcher(), _open_writer(ix)
                    seen.clear()
                existed = not fresh_index and searcher.document_number(id=doc_id) is not None
                doc = to_document(p)
                if existed:
                    writer.update_document(**doc)
                    summary.updated += 1
                else:
                    writer.add_document(**doc)
                    summary.indexed += 1
                seen.add(doc_id)
                summary.characters += len(p.article.body) + len(p.title_text)
                bar.update(1)
            cache.flush()
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        finally:
            bar.close()
            searcher.close()
            cache.close()
        if rebuild:
            store.switch_to(root, gen)
            store.write_meta(root, sources=[str(Path(p).resolve()) for p in paths])
        elif paths:
            meta = store.read_meta(root)
            known = meta.get("sources", [])
            new = [str(Path(p).resolve()) for p in paths if str(Path(p).resolve()) not in known]
            store.write_meta(root, sources=known + new)
        store.write_meta(root, last_update=datetime.now(UTC).isoformat(timespec="seconds"))
    summary.seconds = time.perf_counter() - started
    return summary


def delete_ids(ids: list[str], root: Path, lock_wait: float = 5.0) -> list[str]:
    """Delete articles by id; return the ids that were found (and deleted)."""
    with store.writer_lock(root, lock_wait):
        ix = store.open_current(root)
        with ix.searcher() as searcher:
            found = [i for i in ids if searcher.document_number(id=i) is not None]
        if found:
            writer = _open_writer(ix)
            for doc_id in found:
                writer.delete_by_term("id", doc_id)
            writer.commit()
            store.write_meta(root, last_update=datetime.now(UTC).isoformat(timespec="seconds"))
        return found
