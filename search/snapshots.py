"""Snapshots of the index: one committed state each, kept fresh, retired and pinned.

A ``Snapshot`` is everything tied to one committed state of the index: the Whoosh
searcher, its ``DocTable``, its posting arrays, and the structures built from them once
(spelling, suggestions, the officials' directory), each a named attribute built on first
use under the snapshot's own lock. ``SnapshotHolder`` swaps snapshots when the indexer
commits or switches generation, so gunicorn workers pick up new data without a restart;
a retired snapshot is closed a little later, once no request can still be using it, and
never while a stream has it ``pinned``. What a search does with a snapshot is
``search.engine``'s.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh.scoring import BM25F

from indexer import segments, store
from search import pagecache
from search.doctable import DocTable
from search.memory import ReadAhead, object_bytes, read_ahead_budget
from search.scoring import WARM_POSTINGS, PostingStore

if TYPE_CHECKING:
    from search.officials import OfficialDirectory
    from search.spelling import Spelling
    from search.suggest import Suggester

FRESHNESS_CHECK_SECONDS = 0.2
RETIRED_GRACE_SECONDS = 30.0


@dataclass(eq=False)
class Snapshot:
    """One committed state of the index and what is built from it."""

    searcher: Any  # whoosh.searching.Searcher
    table: DocTable
    key: tuple  # (generation directory, Whoosh generation): which commit this is
    postings: PostingStore
    builder: Any = None  # search.query.QueryBuilder, set by whoever opens the snapshot
    term_masks: Any = None  # search.matching.TermMasks, likewise
    stored: Any = None  # document number → stored fields (``segments.stored_fields_by_number``)
    pins: int = 0  # streams (exports) still reading this snapshot
    answers: OrderedDict = field(default_factory=OrderedDict)  # search answers (the engine's)
    doc_freqs: dict = field(default_factory=dict)  # (kind, text) → df (search.related's)
    # phrases and codes confirmed against the stored text (search.matching's)
    sequences: OrderedDict = field(default_factory=OrderedDict)
    _spelling: Spelling | None = None
    _suggester: Suggester | None = None
    _officials: OfficialDirectory | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # set when the warming thread is done: posting lists read ahead, spelling built
    ready: threading.Event = field(default_factory=threading.Event)
    # what this snapshot keeps ahead, part by part, and its budget (``search.memory``)
    read_ahead: ReadAhead | None = None
    _sizes: dict = field(default_factory=dict)  # built structure's name → bytes (about)

    def count_parts(self) -> None:
        """Count the snapshot's own structures in ``read_ahead``: the document table,
        and the spelling, suggestions and officials once built (each measured once)."""
        if self.read_ahead is None:
            return
        self.read_ahead.add("document table", lambda: self._size("table", object_bytes))
        for name, part in (
            ("_spelling", "spelling"),
            ("_suggester", "suggestions"),
            ("_officials", "officials"),
        ):
            self.read_ahead.add(part, lambda name=name: self._size(name, object_bytes))

    def _size(self, name: str, measure: Callable[[Any], int]) -> int:
        """Bytes of the attribute ``name`` (0 until built), measured once."""
        size = self._sizes.get(name)
        if size is None:
            value = getattr(self, name)
            if value is None:
                return 0
            size = self._sizes[name] = measure(value)
        return size

    def spelling(self, reader=None) -> Spelling:
        """The archive's vocabulary for ``did_you_mean`` and the accent guess of unaccented
        queries (built once: by the warming thread, through its own ``reader``, or on first
        use)."""
        from search.spelling import build_spelling

        return self._once("_spelling", lambda snap: build_spelling(snap, reader))

    def suggester(self) -> Suggester:
        """Prefix completion over phrases, officials and titles (built on first use)."""
        from search.suggest import build_suggester

        return self._once("_suggester", build_suggester)

    def officials(self) -> OfficialDirectory:
        """The officials named in the archive, grouped (built on first use)."""
        from search.officials import OfficialDirectory

        return self._once("_officials", OfficialDirectory)

    def built(self) -> set[str]:
        """Which of ``spelling``, ``suggester`` and ``officials`` are built already."""
        return {
            name for name in ("spelling", "suggester", "officials") if getattr(self, f"_{name}")
        }

    def _once(self, name: str, build: Callable[[Snapshot], Any]) -> Any:
        value = getattr(self, name)
        if value is None:
            with self._lock:  # one build per snapshot; other threads wait for it
                value = getattr(self, name)
                if value is None:
                    value = build(self)
                    setattr(self, name, value)
            self.postings.trim()  # the kept lists give way to what was built
        return value

    def close(self) -> None:
        self.searcher.close()


def refreeze() -> None:
    """Collect every garbage cycle, then keep every object left out of later collections.

    A warmed snapshot holds hundreds of thousands of long-lived objects (the spelling and
    frequency tables); a full collection walks them all (200-240 ms at 85k articles), on
    whichever request happens to trigger it. Frozen (``gc.freeze``), they are never
    walked again; they are still freed by their reference counts, and cycles among them
    (a retired snapshot's) wait for the next ``refreeze``, which unfreezes them first.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _warm(
    snap: Snapshot,
    reader,
    folder: str,
    previous: PostingStore | None = None,
    budget: int | None = WARM_POSTINGS,
    prefetch: bool = True,
    freeze: bool = False,
) -> None:
    """Build the posting arrays of segments that lack them (``indexer.segments.arrays``),
    fill the page cache with the index's files (``search.pagecache``, when ``prefetch``)
    and then map the pages queries read into this process (``_populate``),
    then read up to ``budget`` postings of the longest lists ahead of queries through the
    thread's own reader (reusing what ``previous``, the replaced snapshot's store, holds),
    then make the masks of the commonest syllables (``snap.term_masks``, from the mapped
    arrays) and build the snapshot's spelling (the first unaccented query would wait for
    it: about 6 s on 85k articles), and last keep the commonest syllables' scores within
    what the rest leaves of the snapshot's read-ahead budget (``search.memory``).
    With ``freeze``, the objects then alive are left out of later garbage collections
    (``refreeze``). ``snap.ready`` is set when this ends, however it ends."""
    try:
        segments.ensure_arrays(reader)  # missing or stale: rebuilt (once, by one process)
        if prefetch:
            pagecache.prefetch(folder)
            if pagecache.fits(folder):  # the pages are cached: mapping them reads nothing
                _populate(snap)
        snap.postings.warm(reader, budget=budget, previous=previous, ahead=False)
        if snap.term_masks is not None:
            _keep_common_masks(snap.term_masks)
        snap.spelling(reader)
        snap._size("_spelling", object_bytes)  # counted now, not by the first /stats
        # the kept scores get what the rest of the read-ahead leaves of the budget: in
        # the file every worker maps, else (a folder that cannot be written) in this one
        snap.postings.trim()
        if snap.postings.share_scores_ahead(reader, folder, snap.key[1], budget):
            if prefetch and pagecache.fits(folder):  # (cached: mapping reads nothing)
                snap.postings.populate_shared()
        else:
            snap.postings.keep_scores_ahead(reader, budget)
    finally:
        reader.close()
        if freeze:
            refreeze()
        snap.ready.set()


def _populate(snap: Snapshot) -> None:
    """Map every page that the snapshot's queries read (its posting arrays and segment
    files: ``indexer.segments.populate``) into this process: after the page cache is
    filled, a minor fault per page (or per 16) is all a query would otherwise pay on
    its first reads. A snapshot closed meanwhile only ends it early."""
    from whoosh.reading import ReaderClosed

    try:
        segments.populate(snap.searcher.reader())
    except (OSError, ValueError, ReaderClosed):
        pass


def _keep_common_masks(masks) -> None:
    """``TermMasks.keep_common`` (``search.matching``): a snapshot closed meanwhile (its
    mapped files gone) only ends it early."""
    from whoosh.reading import ReaderClosed

    try:
        masks.keep_common()
    except (OSError, ValueError, TypeError, ReaderClosed):
        pass


class SnapshotHolder:
    """The live snapshot of an index directory: fresh after commits, retired with grace."""

    def __init__(
        self,
        root: Path,
        *,
        warm_postings: int | None = WARM_POSTINGS,
        prefetch: bool = True,
        prepare: Callable[[Snapshot], None] | None = None,
        freshness_seconds: float = FRESHNESS_CHECK_SECONDS,
        retired_grace_seconds: float = RETIRED_GRACE_SECONDS,
        workers: int = 1,
        freeze_gc: bool = False,
    ):
        """Snapshots of the index in ``root``.

        Each new snapshot is read ahead in a background thread: the index files into
        the page cache when ``prefetch``, then ``warm_postings`` postings of the longest
        lists (0: none), then the snapshot's spelling is built (``Snapshot.ready`` is set
        when all that is done). ``prepare(snapshot)`` runs on each new snapshot before it is
        served (the engine sets its query builder there). A commit is looked for at most
        every ``freshness_seconds``; a replaced snapshot is closed ``retired_grace_seconds``
        after it was replaced (later while pinned). ``workers``: how many processes
        serve the index; each snapshot keeps ahead at most its share of the memory
        budget (``search.memory.read_ahead_budget``). ``freeze_gc`` (a server): once a
        snapshot is warm, and on the first request after retired snapshots are closed,
        garbage cycles are collected and every object left is frozen out of later
        collections (``refreeze``), so that no request pays for walking them.
        """
        self.root = Path(root)
        self.warm_postings = warm_postings
        self.prefetch = prefetch
        self.prepare = prepare
        self.freshness_seconds = freshness_seconds
        self.retired_grace_seconds = retired_grace_seconds
        self.workers = workers
        self.freeze_gc = freeze_gc
        self._refreeze_due = False  # retired snapshots were closed: collect their cycles
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self.retired: list[tuple[float, Snapshot]] = []  # (since, snapshot), not yet closed

    def current(self) -> Snapshot:
        """The snapshot of the latest commit (raises store.IndexMissing)."""
        with self._lock:
            if self._refreeze_due:  # here no frame holds the closed snapshots any more
                self._refreeze_due = False
                refreeze()
            now = time.monotonic()
            snap = self._snapshot
            if snap is not None and now - self._checked < self.freshness_seconds:
                return snap
            self._checked = now
            gen = store.current_generation(self.root)
            if snap is not None and snap.key[0] == gen and snap.searcher.up_to_date():
                return snap
            fresh = self._open(gen, snap.postings if snap is not None else None)
            if snap is not None:
                self.retired.append((now, snap))
            self._snapshot = fresh
            self._close_retired(now)
            return fresh

    def _open(self, gen: Path | None, previous: PostingStore | None = None) -> Snapshot:
        ix = store.open_current(self.root)
        searcher = ix.searcher(weighting=BM25F(B=0.75, K1=1.2))
        reader = searcher.reader()
        table = DocTable(reader)
        key = (store.current_generation(self.root) or gen, ix.latest_generation())
        memory = ReadAhead(read_ahead_budget(1), self.workers)
        snap = Snapshot(
            searcher,
            table,
            key,
            PostingStore(reader, table.live, budget=self.warm_postings or None, memory=memory),
            read_ahead=memory,
        )
        snap.count_parts()
        if self.prepare is not None:
            self.prepare(snap)
        if not (self.warm_postings or self.prefetch or previous is not None):
            snap.postings.warmed.set()  # nothing to read ahead (a one-query process)
            snap.ready.set()
            return snap
        own = segments.reader_over(ix, reader)  # the warming thread's own files
        threading.Thread(
            target=_warm,
            args=(snap, own, ix.storage.folder, previous),
            kwargs={
                "budget": self.warm_postings,
                "prefetch": self.prefetch,
                "freeze": self.freeze_gc,
            },
            name="warm-postings",
            daemon=True,
        ).start()
        return snap

    def _close_retired(self, now: float) -> None:
        keep = []
        for since, snap in self.retired:
            if now - since > self.retired_grace_seconds and snap.pins == 0:
                snap.close()
                self._refreeze_due = self.freeze_gc
            else:
                keep.append((since, snap))
        self.retired = keep

    @contextmanager
    def pinned(self) -> Iterator[Snapshot]:
        """The current snapshot, kept open until the block ends (for long streams)."""
        snap = self.current()
        with self._lock:
            snap.pins += 1
        try:
            yield snap
        finally:
            with self._lock:
                snap.pins -= 1
                self._close_retired(time.monotonic())

    def close(self) -> None:
        """Close every snapshot (the live one too)."""
        with self._lock:
            for _, snap in self.retired:
                snap.close()
            self.retired = []
            if self._snapshot:
                self._snapshot.close()
                self._snapshot = None
