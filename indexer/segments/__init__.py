"""The one door to Whoosh's internals: how our index is stored, read and written.

Everything that depends on Whoosh's private structures (the W3 codec's posting blocks,
term tables and length columns, ``SegmentWriter``'s internals, the compound file's
memory map) lives in this package; the rest of the code reaches Whoosh only through its
public API or through the names below. ``tests/test_segments.py`` fails if a module
outside this package touches a private Whoosh name, compares every array below with
Whoosh's public readers, and searches our index with Whoosh's own parser and searcher.

Opening and creating (``files``)
    ``open_index(path)``, ``index_exists(path)``: a Whoosh index whose compound segments
    are read in place from a memory map (``MappedStorage``; no patching).
Reading (``reading``)
    ``term_postings(leaf, field, text)``: a term's (document numbers, frequencies) arrays
    in one segment; ``mapped_postings(leaf, field, text)``: the same as views of the mapped
    arrays (None when they lack it); ``mapped_frequency(reader, field, text)``: a term's
    document frequency from the mapped arrays' counts; ``field_terms(reader, field)``: every term with its total and document
    frequency; ``field_lengths(leaf, field)``: each document's length; ``stored_fields_reader
    (leaf)``: stored fields by document number (``stored_fields_by_number(reader)``: over
    every segment); ``live_documents(reader)``: the deletions as
    a mask; ``reader_over(ix, reader)``: a second reader over the same segments;
    ``populate(reader)``: map every page its queries read into this process now.
Posting arrays (``arrays``)
    ``ensure_arrays(reader)``, ``ensure_index_arrays(folder)``: decode each segment's long
    lists once into a memory-mapped file beside it (rebuilt when missing or stale), which
    ``term_postings`` then reads in place; ``arrays_for(leaf)``: one segment's mapped file.
Writing (``writing``, imported on its own: it is the indexer's)
    ``BulkWriter``: a ``SegmentWriter`` that writes term-frequency postings in bulk.
"""

from indexer.segments.arrays import arrays_for, ensure_arrays, ensure_index_arrays
from indexer.segments.files import index_exists, open_index
from indexer.segments.reading import (
    BYTE_LENGTHS,
    fast_paths_available,
    field_lengths,
    field_terms,
    live_documents,
    mapped_frequency,
    mapped_postings,
    populate,
    reader_over,
    stored_fields_by_number,
    stored_fields_reader,
    term_postings,
)

__all__ = [
    "BYTE_LENGTHS",
    "arrays_for",
    "ensure_arrays",
    "ensure_index_arrays",
    "fast_paths_available",
    "field_lengths",
    "field_terms",
    "index_exists",
    "live_documents",
    "mapped_frequency",
    "mapped_postings",
    "open_index",
    "populate",
    "reader_over",
    "stored_fields_by_number",
    "stored_fields_reader",
    "term_postings",
]
