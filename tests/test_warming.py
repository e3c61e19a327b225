"""Reading posting lists ahead of queries: the longest first, within a budget."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import segments
from indexer import store as store_module
from indexer.segments import arrays
from search.scoring import WARM_FIELDS, PostingStore


def fresh_store(engine) -> PostingStore:
    snap = engine.snapshot()
    return PostingStore(snap.searcher.reader(), snap.table.live)


@pytest.fixture
def unmapped_store(scratch_index):
    """A store over the demo index whose segments have no posting arrays (Whoosh's blocks
    are decoded: what read-ahead is for)."""
    gen = store_module.current_generation(scratch_index)
    for path in gen.glob(f"*{arrays.SUFFIX}"):
        path.unlink()
    ix = segments.open_index(gen)
    reader = ix.reader()
    yield PostingStore(reader, segments.live_documents(reader))
    reader.close()
    ix.close()


def test_mapped_segments_are_not_read_ahead(engine):
    """Every worker reads mapped posting arrays in place: nothing is copied ahead."""
    store = fresh_store(engine)
    assert all(segments.arrays_for(leaf) for leaf, _ in store.reader.leaf_readers())
    assert store.warm(budget=10**9) == 0
    assert not store._cache and store.held == 0 and store.warmed.is_set()


def test_warming_reads_the_longest_lists_within_the_budget(unmapped_store):
    store = unmapped_store
    reader = store.reader
    sizes = {
        (f, t.decode("utf-8")): reader.doc_frequency(f, t.decode("utf-8"))
        for f in WARM_FIELDS
        for t in reader.lexicon(f)
    }
    budget = sum(sorted(sizes.values(), reverse=True)[:5])  # exactly the five longest
    read = store.warm(budget=budget)
    assert read == budget
    cached = set(store._cache)
    assert len(cached) == 5
    shortest_cached = min(sizes[k] for k in cached)
    assert all(size <= shortest_cached for key, size in sizes.items() if key not in cached)
    assert store.warmed.is_set()


def test_a_zero_budget_reads_nothing(unmapped_store):
    store = unmapped_store
    assert store.warm(budget=0) == 0
    assert not store._cache and store.warmed.is_set()


def test_after_a_commit_shared_segments_come_from_the_previous_snapshot(scratch_index, tmp_path):
    import json

    from indexer.writer import delete_ids, index_paths
    from search.engine import Engine

    engine = Engine(scratch_index, freshness_seconds=0.0)
    try:
        before = engine.snapshot()
        assert before.postings.warmed.wait(30)
        source = tmp_path / "new.jsonl"
        record = {"id": "new-1", "title": "Đường làng mới", "body": "Xã làm đường giao thông."}
        source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        index_paths([source], scratch_index, jobs=1)
        gone = before.searcher.stored_fields(0)["id"]
        delete_ids([gone], scratch_index)
        after = engine.snapshot()
        assert after is not before
        assert after.postings.warmed.wait(30)
        assert set(after.postings.segments) & set(before.postings.segments)
        # the writer derived the new segment's posting arrays at commit: all mapped
        leaves = [leaf for leaf, _ in after.searcher.reader().leaf_readers()]
        assert all(segments.arrays_for(leaf) is not None for leaf in leaves)
        disk = PostingStore(after.searcher.reader(), after.table.live)  # reads everything
        gone_doc = after.searcher.document_number(id=gone)
        assert gone_doc is None
        for (fieldname, text), (ids, tfs) in list(after.postings._cache.items()):
            want_ids, want_tfs = disk.postings(fieldname, text)
            assert np.array_equal(ids, want_ids) and np.array_equal(tfs, want_tfs), (
                fieldname,
                text,
            )
        assert engine.rank("đường giao thông", 100).count("new-1") == 1
        assert gone not in engine.rank("đường", 1000)
    finally:
        engine.close()


def test_after_a_commit_unmapped_shared_segments_come_from_the_previous_snapshot(
    unmapped_store, scratch_index
):
    """Without posting arrays, a new snapshot's store copies the segments it shares with
    the previous one from that one's cache instead of decoding them again."""
    previous = unmapped_store
    assert previous.warm(budget=10**9) > 0
    ix = segments.open_index(store_module.current_generation(scratch_index))
    reader = ix.reader()
    try:
        fresh = PostingStore(reader, segments.live_documents(reader))
        fresh.warm(budget=10**9, previous=previous)
        assert fresh.reused > 0
        for key, (ids, tfs) in list(previous._cache.items()):
            got = fresh.postings(*key)
            assert np.array_equal(got[0], ids) and np.array_equal(got[1], tfs)
    finally:
        reader.close()
        ix.close()
