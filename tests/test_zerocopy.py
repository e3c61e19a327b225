"""Whoosh's buffer files read memory-mapped segments in place (indexer.zerocopy)."""

from __future__ import annotations

import io
import mmap
import pickle
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh.filedb.structfile import BufferFile

import indexer.store  # noqa: F401  (installs the zero-copy buffer files)
from indexer.zerocopy import ViewFile

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 70)),
        st.tuples(st.just("readline"), st.integers(-1, 70)),
        st.tuples(st.just("seek"), st.integers(0, 80), st.sampled_from([0, 1, 2])),
        st.tuples(st.just("readinto"), st.integers(0, 70)),
    ),
    max_size=30,
)


@pytest.mark.parametrize("wrapped", [False, True], ids=["ViewFile", "BufferFile.file"])
@given(data=st.binary(max_size=64), ops=OPS)
def test_view_file_reads_like_bytes_io(wrapped, data, ops):
    view = memoryview(bytearray(data))
    ours = BufferFile(view).file if wrapped else ViewFile(view)
    theirs = io.BytesIO(data)
    for op, *args in ops:
        if op == "seek":
            offset, whence = args
            offset = offset if whence == 0 else offset - 40  # also seek backwards
            try:
                expected = theirs.seek(offset, whence)
            except ValueError:
                continue
            assert ours.seek(offset, whence) == expected
        elif op == "readinto":
            a, b = bytearray(args[0]), bytearray(args[0])
            assert ours.readinto(a) == theirs.readinto(b)
            assert a == b
        else:
            assert getattr(ours, op)(args[0]) == getattr(theirs, op)(args[0])
        assert ours.tell() == theirs.tell()


def test_pickles_load_from_a_view_file():
    records = [{"id": "a/1", "title": "Thành ủy Hà Nội"}, list(range(300)), "dòng\nhai"]
    blob = b"".join(pickle.dumps(r, protocol=p) for r in records for p in (0, 2, 4))
    f = BufferFile(memoryview(bytearray(blob)))
    expected = [r for r in records for _ in "xyz"]
    assert [f.read_pickle() for _ in expected] == expected
    assert f.tell() == len(blob)


def test_buffer_file_over_a_mapping_does_not_copy_it(tmp_path):
    size = 32 * 2**20
    path = tmp_path / "segment.bin"
    with path.open("wb") as out:
        out.truncate(size)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        tracemalloc.start()
        try:
            bf = BufferFile(view[1024:], name="postings")
            bf.seek(size // 2)
            assert bf.read(4) == b"\0\0\0\0"
            assert bf.get(100, 3) == b"\0\0\0"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 2**20, f"opening a {size >> 20} MB buffer allocated {peak} bytes"
        bf.file = None  # release the view before the mapping closes
        del bf, view
