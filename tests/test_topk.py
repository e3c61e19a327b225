"""Top-k without scoring everything (``search.topk``): the page a ranked OR query shows
is the one exhaustive scoring gives, scores included, and its counts stay exact."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

from bench.data import corpus_path, has_shared, load_eval, search_box_queries
from search import topk
from search.engine import Engine, SearchRequest

DEMO = Path(__file__).resolve().parents[1] / "demo"


def _answers(engine: Engine, q: str, per_page: int, page: int) -> dict:
    snap = engine.snapshot()
    return engine._search(snap, SearchRequest(q=q, per_page=per_page, page=page))


def _compare(engine: Engine, queries: list[str], monkeypatch, pages=((10, 1), (3, 1), (3, 2))):
    """Every query's answer with pruning equals the exhaustive one; returns how many
    answers were pruned (so that a test can tell it was not vacuous)."""
    monkeypatch.setattr(topk, "PRUNE_ABOVE", 0)  # prune however short the lists
    real = topk.candidates
    pruned = 0

    def counting(*args, **kwargs):
        nonlocal pruned
        docs = real(*args, **kwargs)
        pruned += docs is not None
        return docs

    for q in queries:
        for per_page, page in pages:
            monkeypatch.setattr(topk, "candidates", counting)
            fast = _answers(engine, q, per_page, page)
            monkeypatch.setattr(topk, "candidates", lambda *a, **k: None)
            slow = _answers(engine, q, per_page, page)
            fast.pop("took_ms", None)
            slow.pop("took_ms", None)
            assert [(h["id"], h["score"]) for h in fast["hits"]] == [
                (h["id"], h["score"]) for h in slow["hits"]
            ], q
            assert fast == slow, q  # totals, facets, snippets, cursors too
            assert engine.rank(q, per_page) == _rank_exhaustive(engine, q, per_page, monkeypatch)
    monkeypatch.setattr(topk, "candidates", real)
    return pruned


def _rank_exhaustive(engine: Engine, q: str, k: int, monkeypatch) -> list[str]:
    real = topk.candidates
    monkeypatch.setattr(topk, "candidates", lambda *a, **kw: None)
    try:
        return engine.rank(q, k)
    finally:
        monkeypatch.setattr(topk, "candidates", real)


def _demo_queries() -> list[str]:
    out = []
    for line in (DEMO / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("title"):
            out.append(record["title"])
        out.append(" ".join((record.get("body") or "").split()[:25]))  # pasted text
    return [q for q in out if q.strip()]


def test_pruned_pages_equal_exhaustive_ones_on_the_demo_index(engine, monkeypatch):
    assert _compare(engine, _demo_queries(), monkeypatch) > 20


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory):
    """An index of the vims articles the first headline queries are about, and every
    30th other one (a few hundred real articles)."""
    if not has_shared():
        pytest.skip("../shared is not present on this machine")
    from indexer.writer import index_paths

    wanted = set()
    for q in load_eval("vims_dev_title_queries")[:40]:
        wanted.update(q["relevant"])
        wanted.update(q.get("exclude", []))
    folder = tmp_path_factory.mktemp("topk_sample")
    source = folder / "sample.jsonl"
    with gzip.open(corpus_path("vims"), "rt", encoding="utf-8") as src, source.open("w") as out:
        for n, line in enumerate(src):
            if line.strip() and (n % 30 == 0 or json.loads(line)["id"] in wanted):
                out.write(line)
    index_paths([source], folder / "index", jobs=2)
    eng = Engine(folder / "index", prefetch=False, warm_postings=0)
    yield eng
    eng.close()


def test_pruned_pages_equal_exhaustive_ones_on_the_eval_sets(sample_engine, monkeypatch):
    queries = [q["query"] for q in load_eval("vims_dev_title_queries")[:40]]
    queries += [q["query"] for q in load_eval("viquad_dev_queries")[:20]]
    queries += list(itertools.islice(dict.fromkeys(search_box_queries()), 20))
    assert _compare(sample_engine, queries, monkeypatch, pages=((10, 1), (10, 2))) > 20


def test_scores_looked_up_for_the_matches_equal_whole_lists(engine, monkeypatch):
    """Scoring only the matching documents (``LOOKUP_SHARE``) gives every answer the
    scores, order, partial matches and counts that scoring whole lists gives."""
    from search import engine as engine_module

    queries = _demo_queries() + ["đại hội", "thanh uy ha noi", '"ban chấp hành" đảng', "xyz hà"]
    for q in queries:
        answers = []
        for share in (0, 10**9):  # always looked up, never
            monkeypatch.setattr(engine_module, "LOOKUP_SHARE", share)
            answer = _answers(engine, q, 10, 1)
            answer.pop("took_ms", None)
            answers.append(answer)
        assert answers[0] == answers[1], q
