"""Filling the page cache with an index's files before queries need them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from indexer import store
from indexer.segments import arrays
from search import pagecache
from search.engine import Engine


def resident_bytes(path: Path) -> int:
    """Bytes of ``path`` in the page cache, by util-linux ``fincore``."""
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip() or 0)


def evict(path: Path) -> None:
    """Drop ``path``'s clean pages from the page cache (or skip where the kernel keeps them)."""
    if shutil.which("fincore") is None or not hasattr(os, "posix_fadvise"):
        pytest.skip("needs fincore and posix_fadvise to see the page cache")
    os.sync()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    if resident_bytes(path) > path.stat().st_size // 2:
        pytest.skip("this file system keeps the pages (tmpfs?): eviction cannot be shown")


@pytest.fixture
def files(tmp_path) -> Path:
    folder = tmp_path / "gen"
    folder.mkdir()
    for name, size in [("a.seg", 3 << 20), ("b.seg", 5000), ("_MAIN_1.toc", 300)]:
        (folder / name).write_bytes(os.urandom(size))
    return folder


def test_every_file_is_read_once(files):
    total = sum(p.stat().st_size for p in files.iterdir())
    assert pagecache.prefetch(files) == total
    assert pagecache.prefetch(files) == 0  # segments never change: read once per process
    (files / "c.seg").write_bytes(b"x" * 1000)  # a new segment after a commit
    assert pagecache.prefetch(files) == 1000


def test_posting_arrays_of_another_version_are_not_read(files):
    """An older release's arrays files beside this one's: never read, never counted."""
    total = sum(p.stat().st_size for p in files.iterdir())
    (files / "MAIN_x.postings_arrays").write_bytes(b"x" * 5000)  # version 1's name
    (files / f"MAIN_x{arrays.SUFFIX}").write_bytes(b"y" * 700)
    assert arrays.of_another_version("MAIN_x.postings_arrays")
    assert not arrays.of_another_version(f"MAIN_x{arrays.SUFFIX}")
    assert pagecache.prefetch(files) == total + 700


def test_prefetch_fills_the_page_cache(files):
    big = files / "a.seg"
    evict(big)
    assert resident_bytes(big) < big.stat().st_size // 2
    pagecache.prefetch(files)
    assert resident_bytes(big) >= big.stat().st_size


def test_nothing_is_read_beyond_the_share_of_available_memory(files):
    available = pagecache.available_memory()
    assert available is not None and available > 0
    too_small = 1000 / available  # the files take far more than 1,000 bytes
    assert pagecache.prefetch(files, share=too_small) == 0


def test_an_opened_engine_reads_its_generation_ahead(scratch_index, monkeypatch):
    # (on an index this small, opening it reads every page anyway: watch the call instead)
    folders = []
    real = pagecache.prefetch

    def recording(folder, *args, **kwargs):
        folders.append(Path(folder))
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(pagecache, "prefetch", recording)
    engine = Engine(scratch_index)
    try:
        assert engine.snapshot().postings.warmed.wait(60)
        mine = [f for f in folders if scratch_index in f.parents]  # other engines may warm too
        assert mine == [store.current_generation(scratch_index)]
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("v2", "v1", "expected"),
    [
        ("max\n", None, None),
        ("1073741824\n", None, 1 << 30),
        (None, "9223372036854771712\n", None),  # cgroup v1's "no limit"
        (None, "536870912\n", 1 << 29),
        (None, None, None),
    ],
)
def test_a_container_limit_caps_the_available_memory(tmp_path, monkeypatch, v2, v1, expected):
    paths = (tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes")
    for path, text in zip(paths, (v2, v1), strict=True):
        if text is not None:
            path.write_text(text)
    monkeypatch.setattr(pagecache, "CGROUP_LIMITS", paths)
    assert pagecache.container_limit() == expected
    available = pagecache.available_memory()
    assert available is not None and available > 0
    if expected is not None:
        assert available <= expected


def test_workers_share_the_mapped_posting_arrays(demo_index, tmp_path):
    """Two processes reading one segment's posting arrays: the pages count as shared in
    both (one copy in the page cache), not as each one's private memory."""
    if pagecache.process_memory() is None:
        pytest.skip("no /proc/<pid>/smaps_rollup here")
    gen = store.current_generation(demo_index)
    files = sorted(gen.glob(f"*{arrays.SUFFIX}"))
    assert files, "the writer derives posting arrays at commit"
    big = tmp_path / "MAIN_shared.postings_arrays"  # a file large enough to measure
    big.write_bytes(b"\x01" * (16 << 20))
    touch = (
        "import mmap, sys, time\n"
        "f = open(sys.argv[1], 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n"
        "s = sum(m[i] for i in range(0, len(m), 4096)); print(s, flush=True); time.sleep(30)\n"
    )
    children = [
        subprocess.Popen(
            [os.sys.executable, "-c", touch, str(big)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == str(4096)
        for child in children:
            memory = pagecache.process_memory(child.pid)
            assert memory["shared"] >= 15 << 20, memory
            assert memory["private"] < memory["shared"]
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_the_warm_budget_is_a_share_of_the_available_memory():
    available = pagecache.available_memory()
    if available is None:
        pytest.skip("the available memory is not known here")
    small, large = pagecache.warm_budget(0.01), pagecache.warm_budget(0.04)
    assert 0 < small < large
    assert abs(large / small - 4) < 0.5  # proportional (the available memory moves a little)
    assert pagecache.warm_budget() <= pagecache.WARM_SHARE * available / 6
