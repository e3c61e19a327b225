"""bench.scale's parts that do not need the shared corpus: alternation, the tantivy peer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import scale
from bench.peers import fold, words

DEMO = Path(__file__).resolve().parents[1] / "demo" / "articles.jsonl"


def test_queries_alternate_which_engine_goes_first():
    calls = []
    mine, theirs = scale.alternate(
        ["a", "b", "c"], lambda q: calls.append(("ours", q)), lambda q: calls.append(("peer", q))
    )
    assert calls == [("ours", "a"), ("peer", "a"), ("peer", "b"), ("ours", "b")] + [
        ("ours", "c"),
        ("peer", "c"),
    ]
    assert len(mine) == len(theirs) == 3


def test_copies_get_suffixed_ids_and_the_first_keeps_its_own():
    assert scale._copy({"id": "vntc/1"}, 0) == {"id": "vntc/1"}
    assert scale._copy({"id": "vntc/1"}, 3) == {"id": "vntc/1~r3"}


def test_tantivy_peer_counts_every_article_holding_a_folded_word(tmp_path):
    pytest.importorskip("tantivy")  # the bench extra
    from bench.peers import TantivyPeer

    articles = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    peer = TantivyPeer(tmp_path / "tv")
    assert peer.build(articles) == len(articles)
    peer.open()
    for query in ("đảng", "dai hoi", "Hà Nội"):
        wanted = set(words(fold(query)))
        holding = {
            a["id"]
            for a in articles
            if wanted & set(words(fold(f"{a.get('title') or ''} {a.get('body') or ''}")))
        }
        ids, count, categories = peer.search_with_facets(query)
        assert count == len(holding) > 0, query
        assert set(ids) <= holding and len(ids) == min(10, len(holding))
        buckets = categories["cats"]["buckets"]
        assert sum(b["doc_count"] for b in buckets) <= count


def test_verdict_judges_each_target_from_the_run(capsys):
    def rows(entries):
        keys = ("p50", "p95", "p99")
        return [(how, name, dict(zip(keys, m)), dict(zip(keys, t))) for how, name, m, t in entries]

    small = {"scale": 1.0, "rows": rows([("in-process", "search-box", (6, 9, 12), (2, 3, 4))])}
    large = {
        "scale": 4.0,
        "rows": rows(
            [
                ("in-process", "search-box", (20, 40, 50), (8, 15, 20)),
                ("gunicorn 2 workers", "search-box", (30, 60, 70), (8, 15, 20)),
                (
                    "gunicorn 2 workers (sync)" + scale.COMPARED,
                    "search-box",
                    (9, 90, 99),
                    (8, 15, 20),
                ),
            ]
        ),
    }
    scale.print_verdict([large, small])
    out = capsys.readouterr().out
    assert "1× search-box p50 6 ms = 3.0× tantivy's 2 (target ≤ 3×): MET" in out
    assert "1× search-box p95 9 ms = 3.0× tantivy's 3 (target ≤ 3×): MET" in out
    assert "in-process search-box p95 grew ×4.4 (target ≤ ×4): MISSED" in out
    assert "4× in-process search-box p95 40 ms (target < 50 ms): MET" in out
    assert "4× gunicorn 2 workers search-box p95 60 ms (target < 50 ms): MISSED" in out
    assert "90 ms" not in out  # a pass run only for comparison is judged by no target


def test_stale_posting_arrays_are_derived_again(scratch_index):
    """``derive_arrays`` rewrites a segment's arrays file that is stale (here: written
    holding long lists only), not only a missing one."""
    import time

    from indexer import segments, store
    from indexer.segments import arrays

    gen = store.current_generation(scratch_index)
    ix = segments.open_index(gen)
    with ix.reader() as reader:
        leaf = next(leaf for leaf, _ in reader.leaf_readers())
        stale = arrays.build_arrays(leaf, min_df=64)
        assert arrays.PostingArrays(stale).header["min_df"] == 64
        _seconds, size = scale.derive_arrays(scratch_index)
        assert size >= stale.stat().st_size > 0
        assert arrays.PostingArrays(stale).header["min_df"] == arrays.MIN_DF
        time.sleep(arrays.RECHECK_SECONDS)
        assert all(segments.arrays_for(part) is not None for part, _ in reader.leaf_readers())
    ix.close()


def test_the_memory_report_shows_each_read_ahead_part_beside_the_budget(capsys):
    def report(postings, spelling):
        parts = {"posting lists and scores": postings, "spelling": spelling}
        return {"budget_bytes": 100 << 20, "used_bytes": postings + spelling, "parts_bytes": parts}

    result = {
        "scale": 1.0,
        "rows": [],
        "memory": [],
        "in_process_worker": {"read_ahead": report(30 << 20, 10 << 20)},
        "stats_worker": {"read_ahead": report(20 << 20, 10 << 20)},
    }
    rows = scale.read_ahead_rows(result)
    assert rows[0] == {
        "read-ahead part": "posting lists and scores",
        "in-process MB": "30",
        "gunicorn worker MB": "20",
    }
    assert rows[-2]["in-process MB"] == "40" and rows[-1]["gunicorn worker MB"] == "100"
    scale.print_result(result)
    assert "spelling" in capsys.readouterr().out
