"""The segmentation cache (indexer.segcache): one owner, written by the writer, read by
the indexing workers and the related-articles search alike."""

from __future__ import annotations

import pytest

from indexer.segcache import SegmentationStore, cache_path


def test_readers_see_what_the_writer_flushed(tmp_path):
    path = cache_path(tmp_path)
    writer = SegmentationStore(path)
    spans = {f"k{i}": [(i, i + 3)] for i in range(2500)}  # more keys than one statement
    for key, value in spans.items():
        writer.put(key, value, {"n": 1} if key == "k7" else None)
    writer.flush()
    reader = SegmentationStore(path, readonly=True)
    found = reader.lookup([*spans, "absent"])
    assert {k: v[0] for k, v in found.items()} == spans
    assert found["k7"][1] == {"n": 1} and found["k8"][1] is None
    with pytest.raises(ValueError):
        reader.put("k", [(0, 1)])
    reader.close()
    writer.close()


def test_a_missing_or_damaged_cache_reads_as_empty(tmp_path):
    path = cache_path(tmp_path)
    assert SegmentationStore(path, readonly=True).lookup(["a"]) == {}
    assert not path.exists()  # a reader never creates it
    path.write_bytes(b"not a database" * 100)
    assert SegmentationStore(path, readonly=True).lookup(["a"]) == {}
    writer = SegmentationStore(path)  # the writer starts a damaged cache afresh
    writer.put("a", [(0, 2)])
    writer.close()
    assert SegmentationStore(path, readonly=True).lookup(["a"]) == {"a": ([(0, 2)], None)}
