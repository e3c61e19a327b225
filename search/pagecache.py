"""Read an index's files into the page cache before queries need them.

Read-ahead (``scoring.PostingStore.warm``) copies the longest posting lists into memory,
but a query also reads stored fields (titles and bodies for snippets), term records and
shorter lists straight from the memory-mapped segments, and from a cold page cache each
of those reads is a disk read (docs/benchmarks.md has the cold and warm figures).
Reading the files once, in a background thread, fills the page cache; plain reads are
used because ``posix_fadvise(WILLNEED)`` reads only the first 8 MB of each file. When the files would take more than a share of the
available memory (capped by the container's cgroup limit) nothing is read, so a large
index never pushes everything else out.
"""

from __future__ import annotations

import os
from pathlib import Path

from indexer.segments import arrays

SHARE_OF_AVAILABLE = 0.5  # read nothing when the files take more of the available memory
# Of the available memory, what one worker may hold in posting lists of its own (lists
# read ahead or cached after merging segments; mapped posting arrays are shared and not
# counted). 2% of the 20 GB this 24 GB machine had available is 35M postings, about the
# fixed 32M that held the 85k benchmark's search-box p95 at 17 ms before.
WARM_SHARE = 0.02
BYTES_PER_POSTING = 12  # an int64 document number and a float32 frequency
FALLBACK_WARM_POSTINGS = 4_000_000  # when the available memory cannot be read
CGROUP_LIMITS = (  # a container's memory limit: cgroup v2, then v1
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def available_memory() -> int | None:
    """Bytes the kernel could hand out without swapping (``MemAvailable``), if known,
    and never more than the memory limit of the container this process runs in."""
    return _meminfo_within_limit("MemAvailable:")


def machine_memory() -> int | None:
    """Bytes of memory the machine has (``MemTotal``), if known, and never more than the
    memory limit of the container this process runs in (``search.memory``'s budget)."""
    return _meminfo_within_limit("MemTotal:")


def _meminfo_within_limit(key: str) -> int | None:
    """``/proc/meminfo``'s line ``key`` in bytes (None: unreadable), capped by the
    container's limit."""
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith(key):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        return None
    limit = container_limit()
    return found if limit is None or found is None else min(found, limit)


def container_limit() -> int | None:
    """This process's cgroup memory limit in bytes (None: none set, or not Linux)."""
    for path in CGROUP_LIMITS:
        try:
            raw = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:  # v1 writes "no limit" as about 2**63
            return int(raw)
        return None  # "max", or a limit too large to mean anything
    return None


_done: set[tuple[str, int, int]] = set()  # files this process has read (segments never change)
_BLOCK = 1 << 20


def _index_files(directory: Path | str) -> list[tuple[Path, os.stat_result]] | None:
    """The files of ``directory`` this release reads, with their stats (None: unreadable)."""
    try:
        return [
            (p, p.stat())
            for p in Path(directory).iterdir()
            if p.is_file() and not arrays.of_another_version(p.name)
        ]
    except OSError:
        return None


def _fits(files: list[tuple[Path, os.stat_result]], share: float) -> bool:
    available = available_memory()
    return available is not None and sum(st.st_size for _, st in files) <= share * available


def fits(directory: Path | str, share: float = SHARE_OF_AVAILABLE) -> bool:
    """Whether the index files of ``directory`` take at most ``share`` of the available
    memory: what ``prefetch`` reads, and what a process may then map whole."""
    files = _index_files(directory)
    return files is not None and _fits(files, share)


def prefetch(directory: Path | str, share: float = SHARE_OF_AVAILABLE) -> int:
    """Read every file in ``directory`` once, so that the kernel caches it; return bytes read.
    Posting-arrays files of other versions (``indexer.segments.arrays``) are left out:
    this release never reads them, and they would count against the share.

    Blocking (run it in a background thread). Returns 0, reading nothing, when the files
    take more than ``share`` of the available memory, or when this process has read them
    all before. (``Settings.prefetch`` decides whether an engine calls it at all.)
    """
    files = _index_files(directory)
    if files is None or not _fits(files, share):
        return 0
    buffer = bytearray(_BLOCK)
    done = 0
    for path, st in files:
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key in _done:
            continue
        try:
            with open(path, "rb", buffering=0) as f:
                while n := f.readinto(buffer):
                    done += n
        except OSError:  # a file a merge has just removed
            continue
        _done.add(key)
    return done


def warm_budget(share: float = WARM_SHARE) -> int:
    """Postings one worker may hold of its own: ``share`` of the available memory (see
    ``available_memory``) at ``BYTES_PER_POSTING`` each."""
    available = available_memory()
    if available is None:
        return FALLBACK_WARM_POSTINGS
    return int(share * available / BYTES_PER_POSTING)


def process_memory(pid: int | str = "self") -> dict[str, int] | None:
    """A process's memory in bytes, from ``/proc/<pid>/smaps_rollup`` (Linux):

    ``resident`` (RSS), ``shared`` (resident pages other processes map too: the index's
    mapped files, the preloaded code), ``private`` (its own: what each more worker
    costs) and ``proportional`` (PSS: shared pages divided among their users). None
    where the kernel does not say.
    """
    wanted = {
        "Rss": "resident",
        "Pss": "proportional",
        "Shared_Clean": "shared",
        "Shared_Dirty": "shared",
        "Private_Clean": "private",
        "Private_Dirty": "private",
    }
    out = {"resident": 0, "shared": 0, "private": 0, "proportional": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                name, _, rest = line.partition(":")
                if name in wanted:
                    out[wanted[name]] += int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return out
