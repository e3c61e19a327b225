"""Index storage whose segment files are read in place from a memory map.

Whoosh's ``FileStorage`` with ``supports_mmap=True`` maps each compound segment and hands
every file inside it to a ``BufferFile``, whose ``BytesIO(view)`` *copies* any buffer that
is not a ``bytes`` object: every reader holds its own copy of every posting file, and a
gunicorn worker has two readers (docs/benchmarks.md, "Memory of a worker").

``MappedStorage`` uses Whoosh's own extension points instead of patching it: it is a
``FileStorage`` that declares ``supports_mmap = False``, so a compound segment asks the
file returned by ``open_file`` for its parts (``StructFile.subset``); that file maps
itself once and returns ``ViewBufferFile``s, which read the mapped pages in place
(behind a small C read buffer, since ``pickle.load`` makes many small reads). Only
indexes opened through ``open_index`` read this way; the files on disk are Whoosh's.
"""

from __future__ import annotations

import io
import mmap
import os
import sys
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.index import FileIndex
from whoosh.reading import EmptyReader

MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)  # Linux 5.14+ (22 in its uapi)
READ_BUFFER = 2048  # bytes read ahead: a posting block's header is a small pickle


class ViewFile(io.RawIOBase):
    """A read-only, seekable file over a buffer: each read copies only what it returns."""

    def __init__(self, buffer) -> None:
        super().__init__()
        self._view = memoryview(buffer).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Like ``BytesIO.seek``: a negative absolute position is an error, a relative one stops at 0."""
        if whence == io.SEEK_SET and offset < 0:
            raise ValueError(f"negative seek value {offset}")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, target) -> int:
        """Copy the next bytes straight from the view (``read``, ``readline``: io's own)."""
        target = memoryview(target).cast("B")
        count = max(0, min(len(target), len(self._view) - self._pos))
        target[:count] = self._view[self._pos : self._pos + count]
        self._pos += count
        return count


class ViewBufferFile(BufferFile):
    """Whoosh's ``BufferFile`` reading its buffer in place (``BufferFile`` copies it)."""

    def __init__(self, buf, name=None, onclose=None) -> None:
        super().__init__(b"", name=name, onclose=onclose)  # sets Whoosh's own attributes
        self._buf = buf
        if isinstance(buf, bytes):
            self.file = io.BytesIO(buf)  # shares the bytes object
        else:  # buffered in C: pickle.load makes many small reads
            self.file = io.BufferedReader(ViewFile(buf), buffer_size=READ_BUFFER)


def populate_map(mapped: mmap.mmap) -> bool:
    """Put every page of ``mapped`` in this process's page tables now
    (``MADV_POPULATE_READ``): pages in the page cache are only mapped, others read, and
    they stay shared with every process mapping the file; reads then take no page
    fault. False where the kernel cannot (Linux before 5.14, other systems)."""
    if not sys.platform.startswith("linux"):  # the advice's number is Linux's
        return False
    try:
        mapped.madvise(MADV_POPULATE_READ)
    except (AttributeError, OSError, ValueError):
        return False
    return True


class MappedFile(StructFile):
    """A file of the index read as usual, whose parts (``subset``) are views of one map."""

    _map: mmap.mmap | None = None

    def subset(self, offset: int, length: int, name=None) -> StructFile:
        if self._map is None:
            if os.fstat(self.file.fileno()).st_size == 0:
                return super().subset(offset, length, name=name)
            self._map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(self._map)[offset : offset + length]
        return ViewBufferFile(view, name=name or str(self))

    def populate(self) -> bool:
        """``populate_map`` of the file's map (False before a part was asked for)."""
        return self._map is not None and populate_map(self._map)

    def close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a reader still holds a view: the map closes with it
                pass
            self._map = None
        super().close()


class MappedStorage(FileStorage):
    """A Whoosh ``FileStorage`` whose compound segments are read through ``MappedFile``."""

    supports_mmap = False  # compound segments then call our file's ``subset``

    def __init__(self, path, readonly: bool = False) -> None:
        super().__init__(str(path), supports_mmap=False, readonly=readonly)

    def open_file(self, name, **kwargs) -> StructFile:
        return MappedFile(open(self._fpath(name), "rb"), name=name, **kwargs)


class _NoSegments(EmptyReader):
    """The reader of an index that holds no segment yet: no leaves. Whoosh's
    ``EmptyReader`` names itself as one leaf whose ``segment()`` is None, which every
    per-segment reading (posting arrays, document tables, suggestions) would have to
    special-case; an index of no articles then answered nothing at all (503)."""

    def leaf_readers(self):
        return []


class _Index(FileIndex):
    """Whoosh's ``FileIndex``, with `_NoSegments` for an index without segments."""

    def reader(self, reuse=None):
        reader = super().reader(reuse=reuse)
        return _NoSegments(reader.schema) if type(reader) is EmptyReader else reader


def index_exists(path: Path | str) -> bool:
    """Whether ``path`` holds a Whoosh index."""
    storage = MappedStorage(path, readonly=True)
    return storage.index_exists()


def open_index(path: Path | str):
    """Open the Whoosh index in ``path``, reading its segments in place.

    Raises what ``whoosh.index.open_dir`` raises (``EmptyIndexError`` without an index).
    """
    return MappedStorage(path).open_index(indexclass=_Index)
