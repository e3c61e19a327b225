"""Reading posting lists ahead of queries: the longest first, within a budget."""

from __future__ import annotations

import numpy as np

from search.scoring import WARM_FIELDS, PostingStore


def fresh_store(engine) -> PostingStore:
    snap = engine.snapshot()
    return PostingStore(snap.searcher.reader(), snap.table.live)


def test_warming_reads_the_longest_lists_within_the_budget(engine):
    store = fresh_store(engine)
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


def test_a_zero_budget_reads_nothing(engine):
    store = fresh_store(engine)
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
        assert after.postings.reused > 0
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
