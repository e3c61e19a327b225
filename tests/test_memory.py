"""A worker's read-ahead memory (``search.memory``): one budget, a share of the machine's
memory divided among the workers, bounds every part, and ``/stats`` shows each part."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search import keptscores, memory, pagecache, scoring, snapshots
from search.engine import Engine, SearchRequest
from search.memory import POSTINGS, ReadAhead
from settings import Settings, SettingsError

PARTS = {
    POSTINGS,
    "document lengths",
    "document frequencies",
    "document table",
    "spelling",
    "suggestions",
    "officials",
    "kept masks",
}
QUERIES = ["đại hội", "dai hoi dang bo", "thành phố hà nội", "ủy ban nhân dân", "bí thư"]
DEMO = Path(__file__).resolve().parents[1] / "demo" / "articles.jsonl"


def test_the_budget_is_a_share_of_the_machine_divided_among_the_workers(monkeypatch):
    monkeypatch.setattr(pagecache, "machine_memory", lambda: 24 << 30)
    one = memory.read_ahead_budget(1)
    assert one == int(memory.READ_AHEAD_SHARE * (24 << 30))
    assert memory.read_ahead_budget(4) == one // 4
    assert memory.read_ahead_budget(0) == one  # at least one worker
    assert memory.read_ahead_budget(2, share=0.5) == 6 << 30
    monkeypatch.setattr(pagecache, "machine_memory", lambda: None)
    assert memory.read_ahead_budget(2) == memory.FALLBACK_BUDGET


def test_the_machine_memory_is_capped_by_the_container(monkeypatch):
    total = pagecache.machine_memory()
    if total is None:
        pytest.skip("/proc/meminfo is not readable here")
    monkeypatch.setattr(pagecache, "container_limit", lambda: 1 << 30)
    assert pagecache.machine_memory() == min(total, 1 << 30)
    monkeypatch.setattr(pagecache, "container_limit", lambda: None)
    assert pagecache.machine_memory() == total


def test_a_part_gets_what_the_others_leave():
    sizes = {"a": 300, "b": 200}
    budget = ReadAhead(1000)
    budget.add("a", lambda: sizes["a"])
    budget.add("b", lambda: sizes["b"])
    assert budget.left_for("a") == 800 and budget.left_for("c") == 500
    sizes["b"] = 2000
    assert budget.left_for("a") == 0
    assert budget.report() == {
        "budget_bytes": 1000,
        "used_bytes": 2300,
        "parts_bytes": {"a": 300, "b": 2000},
        "shared_bytes": {},
    }


def _warm_engine(root: Path, monkeypatch, total: int | None, workers: int = 1) -> Engine:
    if total is not None:
        monkeypatch.setattr(snapshots, "read_ahead_budget", lambda workers: total)
    engine = Engine(root, workers=workers)
    assert engine.snapshot().ready.wait(60)
    return engine


def _ask(engine: Engine, queries: list[str] = QUERIES) -> None:
    for q in queries:
        engine.search(SearchRequest(q=q))
    snap = engine.snapshot()
    snap.suggester()
    snap.officials()


def test_every_part_is_counted_and_shown_in_stats(demo_index, monkeypatch):
    engine = _warm_engine(demo_index, monkeypatch, None, workers=3)
    try:
        _ask(engine)
        report = engine.stats()["worker"]["read_ahead"]
        # the scores every worker maps (none on the demo: no list is long enough) count
        # once, out of the budget of all three (tests/test_keptscores.py)
        shared = sum(report["shared_bytes"].values())
        assert report["budget_bytes"] == (memory.read_ahead_budget(1) - shared) // 3
        parts = report["parts_bytes"]
        assert set(parts) == PARTS
        built = ("document lengths", "document frequencies", "document table", "spelling")
        assert all(parts[name] > 0 for name in (*built, "suggestions", "officials")), parts
        assert report["used_bytes"] == sum(parts.values()) <= report["budget_bytes"]
        snap = engine.snapshot()
        assert parts[POSTINGS] == snap.postings.held * pagecache.BYTES_PER_POSTING > 0
        assert parts["kept masks"] == sum(b.nbytes for b in snap.term_masks._kept.values())
        # the document table as its arrays; the spelling as a deep walk counts it when
        # built (its own bounded caches of readings fill as queries come)
        table = sum(a.nbytes for a in vars(snap.table).values() if isinstance(a, np.ndarray))
        assert parts["document table"] >= table
        assert 0 < parts["spelling"] <= memory.object_bytes(snap._spelling)
    finally:
        engine.close()


def test_the_kept_lists_and_masks_give_way_to_the_rest_of_the_budget(demo_index, monkeypatch):
    """With a budget just above what the archive's own structures take, the caches stay
    within what those leave; with a larger one the same queries keep more."""
    monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", 1)  # every term's scores kept
    # each worker keeps them itself (no shared file: tests/test_keptscores.py), and the
    # session's demo index is not written
    monkeypatch.setattr(keptscores, "shared", lambda *args, **kwargs: None)
    titles = [json.loads(line)["title"] for line in DEMO.read_text("utf-8").splitlines()]
    queries = QUERIES + [t for t in titles if t]
    roomy = _warm_engine(demo_index, monkeypatch, 1 << 30)
    try:
        _ask(roomy, queries)
        parts = roomy.snapshot().read_ahead.sizes()
        fixed = sum(size for name, size in parts.items() if name != POSTINGS)
        assert parts[POSTINGS] > 20_000
    finally:
        roomy.close()
    total = fixed + 5_000
    tight = _warm_engine(demo_index, monkeypatch, total)
    try:
        snap = tight.snapshot()
        assert snap.term_masks.kept_bytes <= memory.MASK_SHARE * total
        _ask(tight, queries)
        report = tight.stats()["worker"]["read_ahead"]
        parts = report["parts_bytes"]
        others = sum(size for name, size in parts.items() if name != POSTINGS)
        assert 0 < parts[POSTINGS] <= max(0, total - others)
        assert report["used_bytes"] <= total
        assert snap.postings.budget * pagecache.BYTES_PER_POSTING <= total - others
    finally:
        tight.close()


def test_workers_are_read_from_the_environment():
    assert Settings.from_env({}).workers == 1
    assert Settings.from_env({"WEB_CONCURRENCY": "3"}).workers == 3
    assert Settings.from_env({"WEB_CONCURRENCY": "3", "VNSEARCH_WORKERS": "5"}).workers == 5
    with pytest.raises(SettingsError, match="VNSEARCH_WORKERS must be at least 1"):
        Settings.from_env({"VNSEARCH_WORKERS": "0"})
    with pytest.raises(SettingsError, match="VNSEARCH_WORKERS"):
        Settings.from_env({"VNSEARCH_WORKERS": "two"})
