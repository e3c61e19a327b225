"""bench/latency.py end to end on the demo index: a handful of queries over real gunicorn
beside a FTS5 peer built over the same articles (no timing is asserted)."""

from __future__ import annotations

from bench import latency
from bench.peers import Fts5Peer
from indexer.sources import read_articles


def test_latency_bench_measures_both_workloads(demo_index, demo_dir, shared_dir, tmp_path):
    fts = tmp_path / "fts.sqlite"
    assert not latency.fts_ready(fts)
    peer = Fts5Peer(fts)
    peer.build(read_articles([demo_dir / "articles.jsonl", demo_dir / "portal"], print))
    peer.close()
    assert latency.fts_ready(fts)

    argv = ["--index", str(demo_index), "--fts", str(fts), "--max-short", "4", "--max-long", "3"]
    works = latency.measure_all(latency.parse_args(argv))
    assert {name: len(w.queries) for name, w in works.items()} == {"short": 4, "long": 3}
    for work in works.values():
        for p in (work.cold, work.warm, work.fts):
            assert p is not None and not p.errors, p and p.errors
            assert sorted(p.latencies) == list(range(len(work.queries))) and p.skipped == 0
        assert len(work.cold.took_ms) == len(work.queries)  # ours answered with took_ms
        assert not work.fts.took_ms
    rows = latency.table_rows(works)
    assert [(r["workload"], r["engine"]) for r in rows] == [
        (f"{name} ({n})", engine)
        for name, n in (("short", 4), ("long", 3))
        for engine in ("ours cold", "ours warm", "sqlite-fts5")
    ]
    assert rows[0]["p50/fts5"] != "-" and rows[2]["p50/fts5"] == "-"
    line = latency.verdict(works)
    assert "short p95" in line and "long p50" in line and "vs FTS5" in line
