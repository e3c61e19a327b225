"""Building a new index on every core: each builder process prepares *and* writes.

Used for a first run into an empty index and for ``--rebuild``. The parent reads the
articles and deals them out by id (the same id always goes to the same builder, so
"the later one wins" still holds); each builder segments its share with pyvi (or takes
it from the segmentation cache), writes its own Whoosh segments with ``BulkWriter``, and
sends back what pyvi produced, which only the parent stores in the cache. The parent
then commits every builder's segments at once: until that commit, the index on disk is
the previous one.
"""

from __future__ import annotations

import queue
import traceback
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from indexer import segments
from indexer.article import Article
from indexer.prepare import (
    BATCH_SIZE,
    Failed,
    ctrl_c_held,
    die_with_parent,
    failure,
    init_worker,
    prepare_batch,
    to_document,
)
from indexer.segments.writing import BulkWriter

INBOX_BATCHES = 8  # batches queued per builder before the reader waits
POLL_SECONDS = 0.5


@dataclass
class BatchDone:
    """What a builder reports after each batch."""

    fresh: list[dict]  # cache entries pyvi produced, one dict per article
    indexed: int
    updated: int
    characters: int
    failed: list[Failed]  # articles skipped, with why


class BuilderFailed(RuntimeError):
    """A builder process raised or died; the index was not changed.

    The message is one line (the error's last line); ``details`` holds the traceback.
    """

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def shard_of(doc_id: str, shards: int) -> int:
    """The builder that gets ``doc_id`` (stable across runs and processes)."""
    return zlib.crc32(doc_id.encode("utf-8")) % shards


def _builder(index_dir: str, cache_path: str, limitmb: int, inbox, outbox) -> None:
    """One builder process: prepare and write every batch it is sent, then report its
    segments (with the earlier copies of repeated ids deleted)."""
    die_with_parent()
    init_worker(cache_path)
    writer = None
    try:
        writer = BulkWriter(segments.open_index(index_dir), _lk=False, limitmb=limitmb)
        where: dict[str, tuple[int, int]] = {}  # id → (segment number, docnum)
        superseded: list[tuple[int, int]] = []
        while (batch := inbox.get()) is not None:
            indexed = updated = characters = 0
            fresh, failed = [], []
            for p in prepare_batch(batch):
                if isinstance(p, Failed):
                    failed.append(p)
                    continue
                fresh.append(p.fresh)
                try:
                    document = to_document(p, writer.schema)
                except Exception as exc:  # noqa: BLE001 - one record never aborts a run
                    failed.append(failure(p.article, exc))
                    continue
                earlier = where.get(p.article.id)
                where[p.article.id] = (writer.segment_number, writer.docnum)
                writer.add_document(**document)
                if earlier is not None:
                    superseded.append(earlier)
                    updated += 1
                else:
                    indexed += 1
                characters += p.characters
            outbox.put(BatchDone(fresh, indexed, updated, characters, failed))
        written = writer.close_segments()
        for number, docnum in superseded:
            written[number].delete_document(docnum)
        outbox.put(("segments", written))
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the run
        if writer is not None and not writer.is_closed:
            writer.cancel()
        outbox.put(("failed", traceback.format_exc()))


def build(
    articles: Iterable[Article],
    writer: BulkWriter,
    index_dir: str,
    cache_path: str,
    jobs: int,
    on_batch: Callable[[BatchDone], None],
    limitmb: int = 256,
) -> None:
    """Index ``articles`` with ``jobs`` builders; their segments join ``writer``'s commit."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    outbox = ctx.Queue()
    inboxes = [ctx.Queue(maxsize=INBOX_BATCHES) for _ in range(jobs)]
    builders = [
        ctx.Process(
            target=_builder, args=(index_dir, cache_path, limitmb, inbox, outbox), daemon=True
        )
        for inbox in inboxes
    ]
    finished: list = []

    def handle(message) -> None:
        if isinstance(message, BatchDone):
            on_batch(message)
        elif message[0] == "segments":
            finished.append(message[1])
        else:
            details = message[1]
            last = details.strip().splitlines()[-1] if details.strip() else "unknown error"
            raise BuilderFailed(f"an indexing process failed: {last}", details)

    def drain(block: bool) -> None:
        try:
            handle(outbox.get(timeout=POLL_SECONDS) if block else outbox.get_nowait())
            while True:
                handle(outbox.get_nowait())
        except queue.Empty:
            if any(b.exitcode not in (None, 0) for b in builders):
                raise BuilderFailed("an indexing process died") from None

    def send(shard: int, batch) -> None:
        while True:
            try:
                inboxes[shard].put(batch, timeout=POLL_SECONDS)
                return
            except queue.Full:
                drain(block=False)
                if not builders[shard].is_alive():
                    raise BuilderFailed("an indexing process died") from None

    try:
        with ctrl_c_held():
            for b in builders:
                b.start()
        pending: list[list[Article]] = [[] for _ in range(jobs)]
        for article in articles:
            shard = shard_of(article.id, jobs)
            pending[shard].append(article)
            if len(pending[shard]) >= BATCH_SIZE:
                send(shard, pending[shard])
                pending[shard] = []
                drain(block=False)
        for shard in range(jobs):
            if pending[shard]:
                send(shard, pending[shard])
            send(shard, None)
        while len(finished) < jobs:
            drain(block=True)
    finally:
        for b in builders:
            if b.pid is None:  # never started
                continue
            if b.is_alive() and len(finished) < jobs:
                b.kill()
            b.join(timeout=5)
    for made in finished:
        writer.adopt(made)
