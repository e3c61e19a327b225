"""The engine keeps its searcher fresh: commits, rebuilds and deletions show up without a restart."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import falcon.testing
import pytest

from api import create_app
from indexer.store import IndexMissing, current_generation
from indexer.writer import delete_ids, index_paths
from search.engine import Engine, SearchRequest

NEW_ID = "fresh-001"
NEW_WORD = "khinh khí cầu"  # in no demo article


def write_article(directory: Path, article_id: str = NEW_ID, title: str | None = None) -> Path:
    path = directory / f"{article_id}.jsonl"
    record = {
        "id": article_id,
        "title": title or f"Lễ hội {NEW_WORD} lần đầu tổ chức tại quận Hồng Phúc",
        "body": f"Sáng 5/10, hơn hai mươi chiếc {NEW_WORD} bay trên bầu trời quận Hồng Phúc.",
        "date": "2024-10-05",
        "category": "Văn hóa",
    }
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def found(engine: Engine, q: str = NEW_WORD) -> list[str]:
    """Ids of the articles holding the phrase ``q`` (empty when none does)."""
    answer = engine.search(SearchRequest(q=f'"{q}"', per_page=100))
    return [h["id"] for h in answer["hits"]]


def test_new_commit_is_seen_by_the_same_engine(scratch_index, tmp_path):
    engine = Engine(scratch_index, freshness_seconds=0.0)
    try:
        before = engine.doc_count()
        assert found(engine) == []
        first = engine.snapshot()
        index_paths([write_article(tmp_path)], scratch_index, jobs=1)
        assert found(engine) == [NEW_ID]  # the cached empty answer is not reused
        assert engine.doc_count() == before + 1
        assert engine.snapshot() is not first
        assert engine.article(NEW_ID)["title"].startswith("Lễ hội")
    finally:
        engine.close()


def test_snapshot_is_kept_while_nothing_changes(scratch_index):
    engine = Engine(scratch_index, freshness_seconds=0.0)
    try:
        assert engine.snapshot() is engine.snapshot()
    finally:
        engine.close()


def test_update_and_delete_are_seen(scratch_index, tmp_path):
    engine = Engine(scratch_index, freshness_seconds=0.0)
    try:
        index_paths([write_article(tmp_path)], scratch_index, jobs=1)
        assert found(engine) == [NEW_ID]
        renamed = tmp_path / "renamed"
        renamed.mkdir()
        index_paths([write_article(renamed, title="Ngày hội diều giấy")], scratch_index, jobs=1)
        assert engine.article(NEW_ID)["title"] == "Ngày hội diều giấy"
        assert found(engine, "diều giấy") == [NEW_ID]
        assert delete_ids([NEW_ID], scratch_index) == [NEW_ID]
        assert engine.article(NEW_ID) is None
        assert found(engine) == []
    finally:
        engine.close()


def test_rebuild_switch_is_seen(scratch_index, tmp_path):
    engine = Engine(scratch_index, freshness_seconds=0.0)
    try:
        old_gen = current_generation(scratch_index)
        assert engine.article("demo-001") is not None
        index_paths([write_article(tmp_path)], scratch_index, rebuild=True, jobs=1)
        assert current_generation(scratch_index) != old_gen
        assert engine.doc_count() == 1
        assert found(engine) == [NEW_ID]
        assert engine.article("demo-001") is None
        assert engine.stats()["documents"] == 1
    finally:
        engine.close()


def test_snapshot_structures_are_built_once_per_commit(scratch_index, tmp_path):
    """Spelling, suggestions and the officials' directory: one build per snapshot, also
    when many threads ask at once, and a new one after a commit."""
    engine = Engine(scratch_index, freshness_seconds=0.0)
    try:
        snap = engine.snapshot()
        with ThreadPoolExecutor(8) as pool:
            built = list(pool.map(lambda _: snap.suggester(), range(8)))
        assert all(b is built[0] for b in built)
        assert snap.spelling() is snap.spelling() and snap.officials() is snap.officials()
        index_paths([write_article(tmp_path)], scratch_index, jobs=1)
        fresh = engine.snapshot()
        assert fresh is not snap
        assert fresh.suggester() is not built[0] and fresh.spelling() is not snap.spelling()
        assert fresh.spelling().doc_count == snap.spelling().doc_count + 1
    finally:
        engine.close()


def test_empty_directory_raises_index_missing(tmp_path):
    engine = Engine(tmp_path / "empty")
    with pytest.raises(IndexMissing):
        engine.snapshot()
    with pytest.raises(IndexMissing):
        engine.search(SearchRequest(q="đường"))
    with pytest.raises(IndexMissing):
        engine.doc_count()


@pytest.mark.parametrize(
    "path",
    ["/search", "/search?q=%C4%91%C6%B0%E1%BB%9Dng", "/health", "/stats", "/articles/demo-001"],
)
def test_api_answers_503_json_without_an_index(tmp_path, path):
    client = falcon.testing.TestClient(create_app(Engine(tmp_path / "empty")))
    route, _, query = path.partition("?")
    resp = client.simulate_get(route, query_string=query or None)
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/json")
    assert set(resp.json) == {"error"} and resp.json["error"]


def test_bad_parameters_still_400_without_an_index(tmp_path):
    client = falcon.testing.TestClient(create_app(Engine(tmp_path / "empty")))
    resp = client.simulate_get("/search", params={"per_page": "0"})
    assert resp.status_code == 400 and resp.json["parameter"] == "per_page"


def test_index_built_after_the_engine_started(tmp_path):
    root = tmp_path / "later"
    engine = Engine(root)
    client = falcon.testing.TestClient(create_app(engine))
    try:
        assert client.simulate_get("/health").status_code == 503
        index_paths([write_article(tmp_path)], root, jobs=1)
        resp = client.simulate_get("/health")
        assert resp.status_code == 200 and resp.json["documents"] == 1
        assert found(engine) == [NEW_ID]
    finally:
        engine.close()


def test_facet_counts_from_document_numbers_equal_the_plain_count(engine):
    """Category, official and year facets counted from a mask's document numbers (the
    gathered path for few matches) equal those counted from the mask, and the official
    counts equal a plain count: per shown name, the documents naming any spelling of it."""
    import numpy as np

    table = engine.snapshot().table
    rng = np.random.default_rng(9)
    masks = [table.live, np.zeros(table.size, bool)] + [
        table.live & (rng.random(table.size) < share) for share in (0.02, 0.1, 0.3, 0.7)
    ]
    named: dict[int, set[int]] = {}  # group → documents naming it
    for doc, code in zip(table.official_docs.tolist(), table.official_ids.tolist()):
        named.setdefault(int(table.official_group[code]), set()).add(doc)
    assert named
    for mask in masks:
        docs = np.flatnonzero(mask)
        for limit in (1, 3, 20, 1000):
            got = table.official_counts(mask, limit, docs)
            assert got == table.official_counts(mask, limit)
            plain = sorted(
                ((-sum(bool(mask[d]) for d in ds), g) for g, ds in named.items()),
            )
            expected = [{"value": table.official_shown[g], "count": -c} for c, g in plain if c]
            assert got == expected[:limit]
            assert table.category_counts(mask, limit, docs) == table.category_counts(mask, limit)
        assert table.year_counts(mask, docs) == table.year_counts(mask)


def test_year_facet_counts_what_the_year_histogram_counts(engine):
    import numpy as np

    table = engine.snapshot().table
    rng = np.random.default_rng(18)
    masks = [table.live, np.zeros(table.size, bool)] + [
        table.live & (rng.random(table.size) < share) for share in (0.1, 0.5)
    ]
    assert any(table.year_counts(m) for m in masks)
    for mask in masks:
        expected = [{"value": int(p), "count": c} for p, c in table.period_counts(mask, "year")]
        assert table.year_counts(mask) == expected


def test_frozen_collection_still_frees_a_retired_snapshot(scratch_index, tmp_path):
    """With ``freeze_gc`` a warm snapshot's objects are kept out of garbage collections
    (``gc.freeze``), yet a snapshot retired by a commit is collected, cycles and all,
    once it is closed: nothing of it stays frozen."""
    import gc
    import time
    import weakref

    engine = Engine(
        scratch_index, freshness_seconds=0.0, retired_grace_seconds=3600, freeze_gc=True
    )
    try:
        first = engine.snapshot()
        assert first.ready.wait(60)
        assert gc.get_freeze_count() > 0  # the warm snapshot's objects are frozen
        first_ref = weakref.ref(first)
        index_paths([write_article(tmp_path)], scratch_index, jobs=1)
        second = engine.snapshot()
        assert second is not first and second.ready.wait(60)
        del first
        assert first_ref() is not None  # retired, within its grace period
        engine.snapshots._close_retired(time.monotonic() + 7200)  # the grace is over
        assert found(engine) == [NEW_ID]  # the next request collects what was closed
        assert first_ref() is None
        assert gc.get_freeze_count() > 0
    finally:
        engine.close()
        gc.unfreeze()
