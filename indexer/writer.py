"""Write articles into the index, with pyvi on every core.

A new index (first run, ``--rebuild``) is built by ``indexer.shards``: one builder
process per core prepares and writes its share of the articles. Adding to an existing
index goes through one writer here, fed by a pool of segmenting processes. Either way
what pyvi produced is kept in the segmentation cache, keyed by content.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from indexer import segments, shards, store
from indexer.article import Article, BadRecord
from indexer.prepare import BATCH_SIZE, Prepared, init_worker, prepare_batch, to_document
from indexer.segcache import SegmentationStore
from indexer.segments.writing import BulkWriter
from indexer.sources import read_articles


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
        init_worker(str(cache_path))
        for batch in batches:
            yield from prepare_batch(batch)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=init_worker, initargs=(str(cache_path),)) as pool:
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


def _keep(cache: SegmentationStore, fresh: dict, summary: Summary) -> None:
    """Store what pyvi produced for later runs."""
    for key, (spans, extra) in fresh.items():
        cache.put(key, spans, extra)
        if extra is None:
            summary.segmented += 1


def _write_sharded(
    articles, ix, cache: SegmentationStore, jobs: int, summary: Summary, bar
) -> None:
    """An empty index: ``jobs`` builder processes each segment and write a share."""
    writer = _open_writer(ix)

    def on_batch(done: shards.BatchDone) -> None:
        for fresh in done.fresh:
            _keep(cache, fresh, summary)
        summary.indexed += done.indexed
        summary.updated += done.updated
        summary.characters += done.characters
        bar.update(done.indexed + done.updated)

    try:
        shards.build(
            articles, writer, ix.storage.folder, str(cache.path), jobs, on_batch, WRITER_MB
        )
        cache.flush()
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def _write_serial(articles, ix, cache: SegmentationStore, jobs: int, summary: Summary, bar) -> None:
    """Add to an index: segmenting workers feed this process's one writer."""
    searcher, writer = ix.searcher(), _open_writer(ix)
    fresh_index = searcher.doc_count_all() == 0
    seen: set[str] = set()
    try:
        for p in _prepared_stream(articles, jobs, cache.path):
            _keep(cache, p.fresh, summary)
            doc_id = p.article.id
            if doc_id in seen:  # the same id twice in one run: the later one wins
                writer.commit()
                searcher.close()
                searcher, writer = ix.searcher(), _open_writer(ix)
                seen.clear()
                fresh_index = False
            if not fresh_index and searcher.document_number(id=doc_id) is not None:
                writer.update_document(**to_document(p))
                summary.updated += 1
            else:
                writer.add_document(**to_document(p))
                summary.indexed += 1
            seen.add(doc_id)
            summary.characters += p.characters
            bar.update(1)
        cache.flush()
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        searcher.close()


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

            ix = segments.open_index(gen)
        else:
            ix = store.ensure_index(root)
        cache = SegmentationStore(root / "segcache.sqlite")
        bar = _progress(None, progress)
        try:
            articles = read_articles([str(p) for p in paths], report)
            if (rebuild or ix.doc_count_all() == 0) and jobs > 1:
                _write_sharded(articles, ix, cache, jobs, summary, bar)
            else:
                _write_serial(articles, ix, cache, jobs, summary, bar)
        finally:
            bar.close()
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
