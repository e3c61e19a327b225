"""Write articles into the index, with pyvi on every core.

A new index (first run, ``--rebuild``) is built by ``indexer.shards``: one builder
process per core prepares and writes its share of the articles. Adding to an existing
index goes through one writer here, fed by a pool of segmenting processes. Either way
what pyvi produced is kept in the segmentation cache, keyed by content.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from indexer import segments, shards, store
from indexer.analysis import drop_invisible
from indexer.article import NOTED, SKIPPED, UNDATED, Article, BadRecord
from indexer.prepare import (
    BATCH_SIZE,
    Failed,
    Prepared,
    failure,
    init_worker,
    prepare_batch,
    to_document,
)
from indexer.segcache import SegmentationStore, cache_path
from indexer.segments import arrays
from indexer.segments.writing import BulkWriter
from indexer.sources import check_inputs, input_size, read_articles

MAX_TEXT_CHARS = 2_000_000  # a longer body is cut (at a line or space) and the cut reported
MAX_TITLE_CHARS = 2_000
PROGRESS_SECONDS = 5.0  # without a terminal, one progress line this often


@dataclass
class Summary:
    """What one indexing run did.

    ``skipped`` records are not in the index; ``undated`` ones are, without the date they
    gave; ``noted`` ones are, changed on the way in (cut to size, repaired, or replaced
    by a later record with the same id); ``left_out`` were deleted earlier (tombstones)
    and kept out of a rebuild. ``errors`` lists every report, ``path:line: reason``.
    """

    indexed: int = 0
    updated: int = 0
    skipped: int = 0
    undated: int = 0
    noted: int = 0
    left_out: int = 0
    deleted: int = 0
    segmented: int = 0
    seconds: float = 0.0
    characters: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        undated = f" ({self.undated} without a readable date)" if self.undated else ""
        text = f"indexed {self.indexed}{undated}, updated {self.updated}, skipped {self.skipped}"
        if self.noted:
            text += f", {self.noted} noted"
        if self.left_out:
            text += f", {self.left_out} deleted earlier left out"
        return text

    @property
    def clean(self) -> bool:
        """True when every record went in as it was, with its date."""
        return not (self.skipped or self.undated or self.noted)


# --------------------------------------------------------------------------- the run
def _batches(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _prepared_stream(
    articles: Iterable[Article], jobs: int, cache_path: Path
) -> Iterator[Prepared | Failed]:
    batches = _batches(articles, BATCH_SIZE)
    if jobs <= 1:  # in this process: it keeps its own signals (Ctrl-C; a nohup outlives the shell)
        init_worker(str(cache_path), process=False)
        for batch in batches:
            yield from prepare_batch(batch)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=init_worker, initargs=(str(cache_path),)) as pool:
        for prepared in pool.imap(prepare_batch, batches, chunksize=1):
            yield from prepared


class Progress:
    """Articles done and input read: a tqdm bar (total and ETA by bytes read) on a
    terminal, else one line to stderr every ``PROGRESS_SECONDS`` with a rate."""

    def __init__(self, total_bytes: int, mode: str):
        self.total, self.mode = max(total_bytes, 1), mode
        self.read = self.articles = 0
        self.started = self.last = time.monotonic()
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total, unit="B", unit_scale=True, smoothing=0.05, mininterval=0.5
            )

    def read_to(self, position: int) -> None:
        """The reader has consumed ``position`` bytes of the input (a cheap store)."""
        self.read = position

    def done(self, articles: int) -> None:
        self.articles += articles
        if self.bar is not None:
            self.bar.update(min(self.read, self.total) - self.bar.n)
            self.bar.set_postfix_str(f"{self.articles:,} articles", refresh=False)
        elif self.mode == "lines" and time.monotonic() - self.last >= PROGRESS_SECONDS:
            self.last = time.monotonic()
            print(self.status(), file=sys.stderr, flush=True)

    def status(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        share = min(self.read / self.total, 1.0)
        left = elapsed * (1 - share) / share if share > 0 else 0
        return (
            f"vnsearch index: {self.articles:,} articles, {share:.0%} of "
            f"{self.total / 1e6:,.1f} MB read, {self.articles / elapsed:,.0f} articles/s, "
            f"about {left / 60:.0f} min left"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


WRITER_MB = 256  # Whoosh's pool, now only for the small fields (id, category, officials…)


def _open_writer(ix) -> BulkWriter:
    """The index writer: Whoosh's, with the text fields' postings written in bulk."""
    return BulkWriter(ix, limitmb=WRITER_MB)


class _Cache:
    """The segmentation cache, which only ever saves time: when SQLite cannot open or
    write it (a full disk says "database or disk is full"), the run goes on without it."""

    def __init__(self, path: Path, report: Callable[[BadRecord], None]):
        self.path, self._report = path, report
        try:
            self._store: SegmentationStore | None = SegmentationStore(path)
        except sqlite3.Error as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        self._store = None
        self._report(BadRecord(str(self.path), f"segmentation cache not used: {exc}", NOTED))

    def keep(self, fresh: dict, summary: Summary) -> None:
        """Store what pyvi produced for later runs."""
        for key, (spans, extra) in fresh.items():
            if extra is None:
                summary.segmented += 1
            if self._store is not None:
                try:
                    self._store.put(key, spans, extra)
                except sqlite3.Error as exc:
                    self._give_up(exc)

    def flush(self) -> None:
        if self._store is not None:
            try:
                self._store.flush()
            except sqlite3.Error as exc:
                self._give_up(exc)

    def close(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except sqlite3.Error:
                self._store = None


def _write_sharded(articles, ix, cache: _Cache, jobs: int, summary: Summary, bar, report) -> None:
    """An empty index: ``jobs`` builder processes each segment and write a share."""
    writer = _open_writer(ix)

    def on_batch(done: shards.BatchDone) -> None:
        for fresh in done.fresh:
            cache.keep(fresh, summary)
        for failed in done.failed:
            report(BadRecord(failed.origin or failed.id, failed.reason, SKIPPED))
        summary.indexed += done.indexed
        summary.updated += done.updated
        summary.characters += done.characters
        bar.done(done.indexed + done.updated)

    try:
        shards.build(
            articles, writer, ix.storage.folder, str(cache.path), jobs, on_batch, WRITER_MB
        )
        cache.flush()
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def _write_serial(articles, ix, cache: _Cache, jobs: int, summary: Summary, bar, report) -> None:
    """Add to an index: segmenting workers feed this process's one writer."""
    searcher, writer = ix.searcher(), _open_writer(ix)
    fresh_index = searcher.doc_count_all() == 0
    seen: set[str] = set()
    try:
        for p in _prepared_stream(articles, jobs, cache.path):
            if isinstance(p, Failed):
                report(BadRecord(p.origin or p.id, p.reason, SKIPPED))
                continue
            cache.keep(p.fresh, summary)
            try:
                document = to_document(p, ix.schema)
            except Exception as exc:  # noqa: BLE001 - one record never aborts a run
                failed = failure(p.article, exc)
                report(BadRecord(failed.origin or failed.id, failed.reason, SKIPPED))
                continue
            doc_id = p.article.id
            if doc_id in seen:  # the same id twice in one run: the later one wins
                writer.commit()
                searcher.close()
                searcher, writer = ix.searcher(), _open_writer(ix)
                seen.clear()
                fresh_index = False
            if not fresh_index and searcher.document_number(id=doc_id) is not None:
                writer.update_document(**document)
                summary.updated += 1
            else:
                writer.add_document(**document)
                summary.indexed += 1
            seen.add(doc_id)
            summary.characters += p.characters
            bar.done(1)
        cache.flush()
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        searcher.close()


def _accounted(
    articles: Iterable[Article],
    report: Callable[[BadRecord], None],
    summary: Summary,
    left_out: set[str],
    seen: dict[str, str],
) -> Iterator[Article]:
    """The articles as read, cut to size, with their problems reported: a date that
    could not be read, changes made on the way in, and an id met twice in this run
    (the later record replaces the earlier, and the report names both). Ids in
    ``left_out`` (deleted earlier, on a rebuild) are counted and dropped."""
    for article in articles:
        origin = article.origin or article.id
        if article.id in left_out:
            summary.left_out += 1
            continue
        article.body = drop_invisible(article.body)
        article.title = drop_invisible(article.title).strip() or None if article.title else None
        if not article.body.strip() and not article.title:
            report(BadRecord(origin, "record has neither body nor title", SKIPPED))
            continue
        _cut_to_size(article)
        earlier = seen.get(article.id)
        if earlier is not None:
            article.notes.append(
                f"same id {article.id!r} as {earlier}: this later record replaces that one"
            )
        seen[article.id] = origin
        if article.undated:
            report(BadRecord(origin, f"indexed without a date: {article.undated}", UNDATED))
        for note in article.notes:
            report(BadRecord(origin, note, NOTED))
        yield article


def _cut_to_size(article: Article) -> None:
    """Cut a body over ``MAX_TEXT_CHARS`` (at a line break or space) and a title over
    ``MAX_TITLE_CHARS``, noting it: what one worker holds for a record stays bounded."""
    if len(article.body) > MAX_TEXT_CHARS:
        size = len(article.body)
        cut = article.body.rfind("\n", MAX_TEXT_CHARS // 2, MAX_TEXT_CHARS)
        if cut < 0:
            cut = article.body.rfind(" ", MAX_TEXT_CHARS // 2, MAX_TEXT_CHARS)
        article.body = article.body[: cut if cut > 0 else MAX_TEXT_CHARS]
        article.notes.append(
            f"body of {size:,} characters cut to {len(article.body):,} "
            f"(the limit is {MAX_TEXT_CHARS:,})"
        )
    if article.title and len(article.title) > MAX_TITLE_CHARS:
        article.notes.append(f"title of {len(article.title):,} characters cut")
        article.title = article.title[:MAX_TITLE_CHARS]


def index_paths(
    paths: list[str | Path],
    root: Path,
    *,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: bool | str = False,
    on_error: Callable[[BadRecord], None] | None = None,
    lock_wait: float = 5.0,
) -> Summary:
    """Add or update the articles under ``paths``; with ``rebuild`` build anew and switch.

    ``progress``: True or ``"bar"`` for a tqdm bar, ``"lines"`` for a line every few
    seconds, False for none. Raises `sources.UnusableInput` (a path that does not exist
    or a file of a type not read) before anything is written, and `store.IndexBusy`,
    `store.NotEnoughSpace`, `shards.BuilderFailed` or OSError (a full disk) when the run
    fails; then nothing was
    committed, the live index is unchanged, and what the run wrote has been removed (or
    is removed when the next writer takes the lock, should this process be killed).
    """
    check_inputs(paths)  # a mistyped path fails the run before anything is written
    jobs = jobs or os.cpu_count() or 1
    summary = Summary()
    started = time.perf_counter()
    wall_start = time.time()

    def report(err: BadRecord) -> None:
        if err.kind == SKIPPED:
            summary.skipped += 1
        elif err.kind == UNDATED:
            summary.undated += 1
        else:
            summary.noted += 1
        summary.errors.append(str(err))
        if on_error:
            on_error(err)

    with store.writer_lock(root, lock_wait):
        tombstones = store.read_tombstones(root)
        gen = None
        if rebuild:
            store.check_space_for_rebuild(root)
            gen = store.new_generation(root)
        cache: _Cache | None = None
        bar: Progress | None = None
        seen: dict[str, str] = {}
        try:  # from the new generation on: a failure or a Ctrl-C removes it
            ix = segments.open_index(gen) if gen is not None else store.ensure_index(root)
            cache = _Cache(cache_path(root), report)
            bar = Progress(input_size(paths), "bar" if progress is True else progress or "off")
            read = read_articles([str(p) for p in paths], report, bar.read_to)
            articles = _accounted(read, report, summary, tombstones if rebuild else set(), seen)
            if (rebuild or ix.doc_count_all() == 0) and jobs > 1:
                _write_sharded(articles, ix, cache, jobs, summary, bar, report)
            else:
                _write_serial(articles, ix, cache, jobs, summary, bar, report)
            _derive_arrays(Path(ix.storage.folder))
            if gen is not None:
                store.finish_generation(gen)
            else:
                store.sync_changed(Path(ix.storage.folder), wall_start)
        except BaseException:
            _remove_partial(root, gen)
            raise
        finally:
            if bar is not None:
                bar.close()
            if cache is not None:
                cache.close()
        if gen is not None:
            store.switch_to(root, gen)
        _record_run(root, paths, rebuild, tombstones, seen, report)
    summary.seconds = time.perf_counter() - started
    return summary


def _derive_arrays(folder: Path) -> None:
    """Write the posting arrays of the segments just committed (``indexer.segments.arrays``)
    and remove the files an older release's format left beside them.

    They only save readers time (a reader without them decodes through Whoosh, and builds
    them itself), so a failure here is logged, not raised: the articles are in.
    """
    try:
        segments.ensure_index_arrays(folder)
        arrays.remove_other_versions(folder)  # an older release's files: this one's are in
    except Exception as exc:  # noqa: BLE001 - derived files: never fail a committed run
        logging.getLogger(__name__).warning("posting arrays not derived: %s", exc)


def _remove_partial(root: Path, gen: Path | None) -> None:
    """After a failed run: remove the generation it was building, or the stray segment
    files it left in the live one (best effort: the next writer retries)."""
    try:
        if gen is not None:
            shutil.rmtree(gen, ignore_errors=True)
        elif (live := store.current_generation(root)) is not None:
            store.remove_stray_files(live)
    except Exception:  # noqa: BLE001, S110 - the original error is what the user must see
        pass


def _record_run(root, paths, rebuild, tombstones, seen, report) -> None:
    """Sources, last update and tombstones, after the commit (a failure here is reported,
    not fatal: the articles are in)."""
    try:
        if rebuild:
            store.write_meta(root, sources=[str(Path(p).resolve()) for p in paths])
        elif paths:
            meta = store.read_meta(root)
            known = meta.get("sources", [])
            new = [str(Path(p).resolve()) for p in paths if str(Path(p).resolve()) not in known]
            store.write_meta(root, sources=known + new)
        store.write_meta(root, last_update=datetime.now(UTC).isoformat(timespec="seconds"))
        if not rebuild and tombstones and not tombstones.isdisjoint(seen):
            store.write_tombstones(root, tombstones - seen.keys())
    except OSError as exc:
        report(BadRecord(str(root), f"indexed, but the bookkeeping was not saved: {exc}", NOTED))


def delete_ids(ids: list[str], root: Path, lock_wait: float = 5.0) -> list[str]:
    """Delete articles by id; return the ids that were found (and deleted).

    Every id deleted is remembered as a tombstone, so that ``--rebuild`` does not bring
    it back from the sources; indexing the id again (without ``--rebuild``) clears it.
    """
    with store.writer_lock(root, lock_wait):
        ix = store.open_current(root)
        with ix.searcher() as searcher:
            found = [i for i in ids if searcher.document_number(id=i) is not None]
        if found:
            wall_start = time.time()
            writer = _open_writer(ix)
            try:
                for doc_id in found:
                    writer.delete_by_term("id", doc_id)
                writer.commit()
            except BaseException:
                writer.cancel()
                _remove_partial(root, None)
                raise
            _derive_arrays(Path(ix.storage.folder))  # a deletion may have merged segments
            store.sync_changed(Path(ix.storage.folder), wall_start)
            tombstones = store.read_tombstones(root)
            if not tombstones.issuperset(found):
                store.write_tombstones(root, tombstones | set(found))
            store.write_meta(root, last_update=datetime.now(UTC).isoformat(timespec="seconds"))
        return found
