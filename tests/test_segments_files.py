"""Segment files are read in place from a memory map (indexer.segments.files), for
indexes opened through the door only: Whoosh's own classes are left as they are."""

from __future__ import annotations

import io
import mmap
import pickle
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.filedb.structfile import BufferFile

from indexer import segments, store
from indexer.segments.files import ViewBufferFile, ViewFile

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 70)),
        st.tuples(st.just("readline"), st.integers(-1, 70)),
        st.tuples(st.just("seek"), st.integers(0, 80), st.sampled_from([0, 1, 2])),
        st.tuples(st.just("readinto"), st.integers(0, 70)),
    ),
    max_size=30,
)


@pytest.mark.parametrize("wrapped", [False, True], ids=["ViewFile", "ViewBufferFile.file"])
@given(data=st.binary(max_size=64), ops=OPS)
def test_view_file_reads_like_bytes_io(wrapped, data, ops):
    view = memoryview(bytearray(data))
    ours = ViewBufferFile(view).file if wrapped else ViewFile(view)
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
    f = ViewBufferFile(memoryview(bytearray(blob)))
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
            bf = ViewBufferFile(view[1024:], name="postings")
            bf.seek(size // 2)
            assert bf.read(4) == b"\0\0\0\0"
            assert bf.get(100, 3) == b"\0\0\0"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 2**20, f"opening a {size >> 20} MB buffer allocated {peak} bytes"
        bf.file = None  # release the view before the mapping closes
        del bf, view


def _segment_files(reader) -> list:
    """The posting and term files of each segment of ``reader``."""
    out = []
    for leaf, _ in reader.leaf_readers():
        out += [leaf._terms._postfile, leaf._terms._tindex.dbfile]
    return out


def test_the_door_reads_segments_in_place_and_whoosh_is_unchanged(demo_index):
    gen = store.current_generation(demo_index)
    ours = segments.open_index(gen)
    theirs = whoosh_index.open_dir(str(gen))
    with ours.reader() as mine, theirs.reader() as plain:
        assert all(isinstance(f, ViewBufferFile) for f in _segment_files(mine))
        assert all(isinstance(f.file, io.BufferedReader) for f in _segment_files(mine))
        # no process-wide patch: Whoosh's own storage still gives its BytesIO buffer files
        assert all(type(f) is BufferFile for f in _segment_files(plain))
        assert all(isinstance(f.file, io.BytesIO) for f in _segment_files(plain))
        assert isinstance(BufferFile(memoryview(b"ab")).file, io.BytesIO)
        assert mine.doc_count() == plain.doc_count()
    ours.close()
    theirs.close()


def test_closing_the_index_with_readers_gone_closes_the_maps(scratch_index):
    gen = store.current_generation(scratch_index)
    ix = segments.open_index(gen)
    reader = ix.reader()
    files = _segment_files(reader)
    assert files
    reader.close()
    ix.close()
    assert all(f.is_closed for f in files)
