"""Where the index lives on disk, and how generations are switched atomically.

Layout of an index directory (default ``index_data/``)::

    index_data/
      current -> gen-20261128T061500-1234   (symlink, replaced atomically)
      gen-.../                              (a complete Whoosh index)
      segcache.sqlite                       (pyvi output, keyed by content)
      writer.lock                           (one writer at a time)

Incremental runs commit into the current generation (Whoosh commits are atomic);
``--rebuild`` writes a new generation beside it and switches the symlink, so readers
never see a half-built index.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index

from indexer import segments
from indexer.schema import build_schema

DEFAULT_DIR = "index_data"
CURRENT = "current"
KEEP_OLD_GENERATIONS = 1


class IndexBusy(RuntimeError):
    """Another indexer holds the writer lock."""


class IndexMissing(RuntimeError):
    """No index has been built in this directory yet."""


def current_generation(root: Path) -> Path | None:
    """The generation directory ``current`` points to, or None before the first build."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    path = root / target
    return path if path.is_dir() else None


def open_current(root: Path):
    """Open the live Whoosh index of ``root`` (raises IndexMissing)."""
    gen = current_generation(root)
    try:
        if gen is None or not segments.index_exists(gen):
            raise IndexMissing(f"no index in {root} (build one with: vnsearch index PATH)")
        return segments.open_index(gen)
    except (AttributeError, ImportError, pickle.UnpicklingError) as exc:
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
    whoosh_index.create_in(str(gen), build_schema())
    return gen


def switch_to(root: Path, gen: Path) -> None:
    """Atomically make ``gen`` the live generation, then prune old ones."""
    tmp = root / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, root / CURRENT)
    prune_generations(root)


def prune_generations(root: Path) -> None:
    """Delete generations older than the live one, keeping a few for open readers."""
    live = current_generation(root)
    gens = sorted(p for p in root.glob("gen-*") if p.is_dir() and p != live)
    # Keep the newest old ones: a reader may still have them open for a moment.
    for old in gens[: max(0, len(gens) - KEEP_OLD_GENERATIONS)]:
        shutil.rmtree(old, ignore_errors=True)


def ensure_index(root: Path):
    """The live index, creating an empty first generation when there is none."""
    if current_generation(root) is None:
        switch_to(root, new_generation(root))
    return open_current(root)


@contextmanager
def writer_lock(root: Path, wait_seconds: float = 5.0):
    """Hold the one-writer lock of ``root``; wait briefly, then raise IndexBusy."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "writer.lock"
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
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, root / "meta.json")


def directory_size(path: Path) -> int:
    """Total bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
