"""Where the index lives on disk, and how generations are switched atomically.

Layout of an index directory (default ``index_data/``)::

    index_data/
      current -> gen-20261128T061500-1234   (symlink, replaced atomically)
      gen-.../                              (a complete Whoosh index)
      segcache.sqlite                       (pyvi output, keyed by content)
      tombstones.json                       (ids deleted, kept out of rebuilds)
      writer.lock                           (one writer at a time)

Incremental runs commit into the current generation (Whoosh commits are atomic);
``--rebuild`` writes a new generation beside it and switches the symlink, so readers
never see a half-built index. A generation being built holds a ``BUILDING`` file until
it is complete and synced to disk; one that still holds it when a writer takes the lock
was left by a failed or killed run, and is removed then, with any stray segment files of
the live generation. Pruning keeps the live generation and the newest complete old one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pickle
import shutil
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index

from indexer import segments
from indexer.schema import build_schema

DEFAULT_DIR = "index_data"
CURRENT = "current"
WRITER_LOCK = "writer.lock"
KEEP_OLD_GENERATIONS = 1
BUILDING = "BUILDING"  # present in a generation until it is complete and synced
TOMBSTONES = "tombstones.json"
REBUILD_SPACE_FACTOR = 1.2  # a rebuild needs about the live generation's size, plus margin


class IndexBusy(RuntimeError):
    """Another indexer holds the writer lock."""


class IndexMissing(RuntimeError):
    """No index has been built in this directory yet."""


class NotEnoughSpace(RuntimeError):
    """The disk has too little free space for the run asked for."""


def is_index_root(path: Path) -> bool:
    """Whether ``path`` is an index directory of ours (its ``current`` link, or the
    writer's lock file that every run leaves)."""
    return (path / CURRENT).is_symlink() or (path / WRITER_LOCK).is_file()


def current_generation(root: Path) -> Path | None:
    """The generation directory ``current`` points to, or None before the first build."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    path = root / target
    return path if path.is_dir() else None


# What unpickling the schema of an index written by another version of the code raises
# (a class it names was renamed or removed).
WRITTEN_BY_ANOTHER_VERSION = (AttributeError, ImportError, pickle.UnpicklingError)


def open_current(root: Path):
    """Open the live Whoosh index of ``root`` (raises IndexMissing)."""
    gen = current_generation(root)
    try:
        if gen is None or not segments.index_exists(gen):
            raise IndexMissing(f"no index in {root} (build one with: vnsearch index PATH)")
        return segments.open_index(gen)
    except WRITTEN_BY_ANOTHER_VERSION as exc:
        raise IndexMissing(
            f"the index in {root} was built by an older version ({exc}); "
            "rebuild it with: vnsearch index --rebuild"
        ) from exc


def new_generation(root: Path) -> Path:
    """Create an empty index in a fresh generation directory (not yet live)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    gen = root / f"gen-{stamp}-{os.getpid()}"
    gen.mkdir()
    try:
        (gen / BUILDING).write_text(f"pid {os.getpid()}\n", encoding="utf-8")
        whoosh_index.create_in(str(gen), build_schema())
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)
        raise
    return gen


def finish_generation(gen: Path) -> None:
    """Sync a built generation to disk, then mark it complete (remove ``BUILDING``)."""
    sync_files(gen.iterdir())
    (gen / BUILDING).unlink(missing_ok=True)
    sync_dir(gen)


def is_partial(gen: Path) -> bool:
    """True for a generation whose build has not finished (or never will)."""
    return (gen / BUILDING).exists()


def switch_to(root: Path, gen: Path) -> None:
    """Atomically make ``gen`` the live generation (synced to disk), then prune old ones."""
    tmp = root / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, root / CURRENT)
    sync_dir(root)
    prune_generations(root)


def prune_generations(root: Path) -> None:
    """Delete partial generations and complete ones older than the live one, keeping the
    newest complete old ones (a reader may still have them open for a moment).

    Call with the writer lock held: a partial generation is then never one being built.
    """
    live = current_generation(root)
    others = sorted(p for p in root.glob("gen-*") if p.is_dir() and p != live)
    complete = [p for p in others if not is_partial(p)]
    keep = set(complete[len(complete) - KEEP_OLD_GENERATIONS :]) if KEEP_OLD_GENERATIONS else set()
    for old in others:
        if old not in keep:
            shutil.rmtree(old, ignore_errors=True)


def clean_up(root: Path) -> list[str]:
    """Remove what failed or killed runs left behind; return what was removed.

    Partial generations, the live generation's segment files that its table of contents
    does not name (a cancelled or crashed writer's), writers' temporary folders and our
    own temporary files. Call with the writer lock held.
    """
    removed = []
    for gen in root.glob("gen-*"):
        if gen.is_dir() and is_partial(gen) and gen != current_generation(root):
            shutil.rmtree(gen, ignore_errors=True)
            removed.append(gen.name)
    for tmp in [*root.glob(f".{CURRENT}.*"), *root.glob(".meta.*.json"), *root.glob(".tomb*")]:
        tmp.unlink(missing_ok=True)
        removed.append(tmp.name)
    live = current_generation(root)
    try:
        if live is not None and segments.index_exists(live):
            removed += remove_stray_files(live)
    except WRITTEN_BY_ANOTHER_VERSION:
        pass  # unreadable here: a --rebuild replaces it; other writers say so on opening
    return removed


def remove_stray_files(gen: Path) -> list[str]:
    """Delete the files of ``gen`` that its latest table of contents does not use."""
    before = {p.name for p in gen.iterdir()}
    for tmp in gen.glob("*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
    ix = segments.open_index(gen)
    with ix.reader() as reader:
        in_use = [leaf.segment() for leaf, _ in reader.leaf_readers() if hasattr(leaf, "segment")]
    whoosh_index.clean_files(ix.storage, ix.indexname, ix.latest_generation(), in_use)
    return sorted(before - {p.name for p in gen.iterdir()})


def check_space_for_rebuild(root: Path) -> None:
    """Raise `NotEnoughSpace` unless the disk holds about one more live generation."""
    live = current_generation(root)
    if live is None:
        return
    needed = int(directory_size(live) * REBUILD_SPACE_FACTOR)
    free = shutil.disk_usage(root).free
    if free < needed:
        raise NotEnoughSpace(
            f"not enough free space for a rebuild in {root}: it needs about "
            f"{_mb(needed)} (the live index is {_mb(directory_size(live))}), "
            f"{_mb(free)} are free. Free some space, or rebuild into another --index."
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"


def sync_files(paths: Iterable[Path]) -> None:
    """fsync each regular file among ``paths``."""
    for path in paths:
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def sync_dir(path: Path) -> None:
    """fsync a directory, so that the names it holds survive a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_changed(gen: Path, since: float) -> None:
    """fsync the files of ``gen`` changed since ``since`` (epoch seconds), and ``gen``."""
    sync_files(p for p in gen.iterdir() if p.is_file() and p.stat().st_mtime >= since - 2)
    sync_dir(gen)


def is_disk_full(exc: BaseException) -> bool:
    """True for the errors a full disk or quota raises."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def ensure_index(root: Path):
    """The live index, creating an empty first generation when there is none."""
    if current_generation(root) is None:
        gen = new_generation(root)
        finish_generation(gen)
        switch_to(root, gen)
    return open_current(root)


@contextmanager
def writer_lock(root: Path, wait_seconds: float = 5.0, clean: bool = True):
    """Hold the one-writer lock of ``root``; wait briefly, then raise IndexBusy.

    Holding it, first remove what failed or killed runs left behind (`clean_up`).
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / WRITER_LOCK
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise IndexBusy(
                        f"{root} is being written by {holder}; waited {wait_seconds:g}s. "
                        "Only one indexer can write at a time: try again when it finishes."
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            if clean:
                clean_up(root)
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_meta(root: Path) -> dict:
    """Small bookkeeping saved beside the index (sources, last update)."""
    try:
        return json.loads((root / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(root: Path, **values) -> None:
    """Merge ``values`` into meta.json atomically."""
    meta = read_meta(root)
    meta.update(values)
    tmp = root / f".meta.{os.getpid()}.json"
    try:
        text = json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8")
    except UnicodeEncodeError:  # a source path that is not UTF-8: kept, as \udcXX escapes
        text = json.dumps(meta, indent=1).encode("ascii")
    tmp.write_bytes(text)
    os.replace(tmp, root / "meta.json")


def describe(root: Path) -> dict:
    """What an index directory says about its live index without opening it: the
    generation's name, its size on disk (bytes), the last update and the sources indexed
    (from meta.json). The one source of these facts for ``vnsearch stats`` and ``/stats``."""
    gen = current_generation(root)
    meta = read_meta(root)
    return {
        "generation": gen.name if gen else None,
        "size_bytes": directory_size(gen) if gen else 0,
        "last_update": meta.get("last_update"),
        "sources": meta.get("sources", []),
    }


def read_tombstones(root: Path) -> set[str]:
    """Ids deleted from the index, kept out of ``--rebuild`` until indexed again."""
    try:
        ids = json.loads((root / TOMBSTONES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()


def write_tombstones(root: Path, ids: set[str]) -> None:
    """Replace the tombstone list atomically (and durably)."""
    tmp = root / f".tombstones.{os.getpid()}.json"
    tmp.write_text(json.dumps(sorted(ids), ensure_ascii=False), encoding="utf-8")
    sync_files([tmp])
    os.replace(tmp, root / TOMBSTONES)


def directory_size(path: Path) -> int:
    """Total bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
