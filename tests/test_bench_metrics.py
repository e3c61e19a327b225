"""Tests for bench.metrics and the two bench peers on a tiny inline corpus."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

# bench/ is not an installed package: make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.metrics import (
    clean_ranking,
    evaluate,
    format_table,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)
from bench.peers import Fts5Peer, WhooshStdPeer, top_words, words

DOCS = [
    {"id": "d1", "title": "Hà Nội đón Tết", "body": "Người dân Hà Nội đi chợ hoa ngày Tết."},
    {"id": "d2", "title": "Giá vàng tăng", "body": "Giá vàng trong nước tăng mạnh sáng nay."},
    {"id": "d3", "title": None, "body": "Thủ tướng Phan Văn Khải tiếp đoàn doanh nghiệp."},
    {"id": "d4", "title": "Bóng đá", "body": "Đội tuyển Việt Nam thắng trận, người hâm mộ vui."},
    {"id": "d5", "title": "Giá vàng giảm", "body": "Giá vàng thế giới giảm, vàng trong nước giảm."},
]

ODD_QUERIES = [
    "",
    "   ",
    '"',
    '"giá vàng',
    "AND OR NOT",
    "title:vàng",
    "(giá) AND -vàng*",
    "NEAR(a b)",
    "giá ^ vàng ~2",
    "🎉🔥",
    "[a TO z]",
    "_",
    "'; DROP TABLE t; --",
]


def test_mrr_at_k() -> None:
    assert mrr_at_k(["a", "b", "c"], ["c"]) == pytest.approx(1 / 3)
    assert mrr_at_k(["a", "b", "c"], ["b", "c"]) == pytest.approx(1 / 2)
    assert mrr_at_k(["a", "b", "c"], ["c"], k=2) == 0.0
    assert mrr_at_k([], ["a"]) == 0.0


def test_ndcg_at_k() -> None:
    # relevant at ranks 1 and 3 of 2 relevant: (1 + 1/log2(4)) / (1 + 1/log2(3))
    expected = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["a", "x", "b"], ["a", "b"]) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    # ideal is capped at k when there are more relevant ids than k
    assert ndcg_at_k(["a"], ["a", "b", "c"], k=1) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], ["a"]) == pytest.approx(1 / math.log2(3))


def test_recall_and_precision() -> None:
    assert recall_at_k(["a", "x", "b"], ["a", "b", "c", "d"]) == pytest.approx(0.5)
    assert recall_at_k(["a", "x", "b"], ["a", "b"], k=2) == pytest.approx(0.5)
    assert precision_at_k(["a", "x", "b"], ["a", "b"], k=5) == pytest.approx(2 / 5)
    assert precision_at_k(["a", "b"], ["a", "b"], k=2) == pytest.approx(1.0)


def test_clean_ranking_drops_excluded_and_repeats() -> None:
    assert clean_ranking(["q", "a", "a", "b"], ["q"]) == ["a", "b"]


def test_evaluate_applies_exclude_and_averages() -> None:
    qrels = [
        {"qid": "1", "relevant": ["a"], "exclude": ["self"]},
        {"qid": "2", "relevant": ["b", "c"]},
        {"qid": "3", "relevant": ["z"]},  # missing from the run: all zeros
        {"qid": "4", "relevant": []},  # no judgments: skipped
    ]
    run = {"1": ["self", "a"], "2": ["c", "x", "b"], "4": ["a"]}
    res = evaluate(run, qrels, k=10, p_k=5)
    assert res["queries"] == 3
    # q1: "self" dropped, so "a" is rank 1; q2: first hit rank 1; q3: 0
    assert res["MRR@10"] == pytest.approx((1 + 1 + 0) / 3)
    assert res["Recall@10"] == pytest.approx((1 + 1 + 0) / 3)
    ndcg2 = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert res["nDCG@10"] == pytest.approx((1 + ndcg2 + 0) / 3)
    assert res["P@5"] == pytest.approx((1 / 5 + 2 / 5 + 0) / 3)


def test_evaluate_exclude_matters() -> None:
    qrels = [{"qid": "1", "relevant": ["a"], "exclude": ["self"]}]
    assert evaluate({"1": ["self", "a"]}, qrels, k=1)["MRR@1"] == 1.0
    assert evaluate({"1": ["self", "a"]}, [{"qid": "1", "relevant": ["a"]}], k=1)["MRR@1"] == 0.0


def test_format_table_aligns_columns() -> None:
    text = format_table([{"engine": "ours", "MRR": 0.5}, {"engine": "fts5", "MRR": 0.25, "n": 3}])
    lines = text.splitlines()
    assert lines[0].split() == ["engine", "MRR", "n"]
    assert "0.5000" in lines[2] and "0.2500" in lines[3]
    assert len({len(line.rstrip()) for line in lines[2:]}) <= 2
    assert format_table([]) == ""


def test_words_and_top_words() -> None:
    assert words("Hà Nội, 2020_x!") == ["hà", "nội", "2020", "x"]
    assert top_words("vàng vàng giá a giá vàng", n=2) == ["vàng", "giá"]


@pytest.fixture(params=["fts5", "whoosh"])
def peer(request, tmp_path):
    engine = Fts5Peer(tmp_path / "fts.sqlite") if request.param == "fts5" else None
    if engine is None:
        engine = WhooshStdPeer(tmp_path / "whoosh")
    engine.build(DOCS)
    yield engine
    engine.close()


def test_peer_finds_accented_query(peer) -> None:
    assert peer.build_seconds > 0
    assert peer.search("giá vàng", 10)[:2] in (["d2", "d5"], ["d5", "d2"])
    assert peer.search("Phan Văn Khải", 3)[0] == "d3"
    assert len(peer.search("vàng", 1)) == 1


def test_peer_related_excludes_itself(peer) -> None:
    related = peer.related("d2", 3)
    assert "d2" not in related
    assert related[0] == "d5"
    assert peer.related("no-such-id", 3) == []


def test_peer_survives_odd_queries(peer) -> None:
    for query in ODD_QUERIES:
        assert isinstance(peer.search(query, 5), list)


def test_fts5_matches_unaccented_query(tmp_path) -> None:
    fts = Fts5Peer(tmp_path / "fts.sqlite")
    fts.build(DOCS)
    assert fts.search("ha noi", 5)[0] == "d1"
    assert fts.search("thu tuong phan van khai", 5)[0] == "d3"
    fts.close()


def test_whoosh_standard_is_accent_sensitive(tmp_path) -> None:
    wh = WhooshStdPeer(tmp_path / "whoosh")
    wh.build(iter(DOCS))
    assert wh.search("ha noi", 5) == []
    assert wh.search("hà nội", 5)[0] == "d1"
    wh.close()
