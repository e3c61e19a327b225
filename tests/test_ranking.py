"""Ranking signals on a small crafted archive: titles, adjacent words, and what a pair adds."""

from __future__ import annotations

import json

import pytest

from indexer.writer import index_paths
from search.engine import Engine
from search.query import PAIR_FLOOR, QueryBuilder

FILLER = "Người dân trong xã đã tham gia buổi họp vào sáng thứ hai tuần trước."

# Articles about some plan that was criticised: "kế hoạch" and "chỉ trích" are common
# here, and "hoạch" and "trích" never occur apart from them.
PLAN_STORIES = [
    f"Thành phố lên kế hoạch mở rộng đường số {n}, nhiều người chỉ trích chi phí. {FILLER}"
    for n in range(12)
]

ARTICLES = [
    # the story a headline query names: its rare words, none of its common phrases
    {
        "id": "story",
        "title": "Montenegro gia nhập NATO, Nga dọa trừng phạt",
        "body": f"Nga phản đối việc Montenegro gia nhập NATO. {FILLER}",
    },
    # shares a four-syllable phrase of the headline, not its subject
    {
        "id": "phrases",
        "title": "Anh lên kế hoạch rút quân, bị chỉ trích",
        "body": f"Nga chỉ trích kế hoạch rút quân của Anh. {FILLER}",
    },
    # the same syllables, adjacent in one and scattered in the other
    {
        "id": "adjacent",
        "title": "Tin địa phương",
        "body": f"Xã đã hoàn thành đường giao thông nông thôn. {FILLER}",
    },
    {
        "id": "scattered",
        "title": "Tin địa phương",
        "body": f"Thông tin về đường làng được gửi tới ban giao nhận. {FILLER}",
    },
    # the same words in a title and only in a body
    {"id": "in-title", "title": "Hội thi cắm hoa nghệ thuật", "body": FILLER},
    {
        "id": "in-body",
        "title": "Tin địa phương",
        "body": f"{FILLER} Có hội thi cắm hoa nghệ thuật.",
    },
] + [{"id": f"plan-{n}", "title": "Tin đô thị", "body": b} for n, b in enumerate(PLAN_STORIES)]


@pytest.fixture(scope="module")
def ranked(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("ranking")
    source = folder / "articles.jsonl"
    lines = (json.dumps(a, ensure_ascii=False) for a in ARTICLES)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    index_paths([source], folder / "index", rebuild=True, jobs=1)
    engine = Engine(folder / "index")
    yield engine
    engine.close()


def position(engine: Engine, q: str, article_id: str) -> int:
    ranking = engine.rank(q, limit=len(ARTICLES))
    assert article_id in ranking, f"{article_id} not found for {q!r}"
    return ranking.index(article_id)


def test_the_named_story_ranks_above_articles_sharing_common_phrases(ranked):
    q = "Nga chỉ trích kế hoạch kết nạp Montenegro vào NATO"
    assert position(ranked, q, "story") < position(ranked, q, "phrases")


@pytest.mark.parametrize("q", ["đường giao thông", "duong giao thong"])
def test_adjacent_words_rank_above_scattered_syllables(ranked, q):
    assert position(ranked, q, "adjacent") < position(ranked, q, "scattered")


@pytest.mark.parametrize("q", ["hội thi cắm hoa", "hoi thi cam hoa"])
def test_title_matches_rank_above_body_matches(ranked, q):
    assert position(ranked, q, "in-title") < position(ranked, q, "in-body")


def builder(doc_freq: dict[tuple[str, str], int], docs: int = 10_000) -> QueryBuilder:
    return QueryBuilder(lambda f, t: doc_freq.get((f, t), 0), docs, lambda f, v: None)


def test_pair_weight_is_what_the_pair_adds_to_its_syllables():
    stats = {
        ("body_fold", "ke"): 900,
        ("body_fold", "hoach"): 300,
        ("body_pairs", "ke_hoach"): 300,  # "hoạch" hardly occurs without "kế"
        ("body_fold", "nga"): 200,
        ("body_fold", "chi"): 3000,
        ("body_pairs", "nga_chi"): 3,  # two syllables that rarely meet
    }
    b = builder(stats)
    assert b.pair_weight("ke", "hoach") == PAIR_FLOOR
    assert PAIR_FLOOR < b.pair_weight("nga", "chi") < 1.0
    # rarer meetings say more
    rarer = builder({**stats, ("body_pairs", "nga_chi"): 1})
    assert rarer.pair_weight("nga", "chi") > b.pair_weight("nga", "chi")


def test_long_queries_judge_a_marked_syllable_by_its_rarity_as_typed():
    stats = {
        ("body_fold", "putin"): 40,
        ("body_fold", "do"): 9000,  # do, đó, đỏ, độ… together are everywhere
        ("body", "dỗ"): 5,  # "dỗ" (to soothe) is rare
        ("body_fold", "va"): 9500,
        ("body", "và"): 9400,
    }
    kept = builder(stats)._distinctive(["putin", "dỗ", "và"])
    assert kept == ["dỗ", "putin"]  # rarest first; the common "và" is left out


def test_a_page_sorts_only_what_can_reach_it_and_equals_the_full_sort():
    """``Engine._page`` keeps the k best of each tier (ties at the k-th all kept) before
    sorting: every page equals the page of the full sort by (tier, -score, document)."""
    import numpy as np

    from search.engine import Engine

    rng = np.random.default_rng(18)
    for trial in range(40):
        n = int(rng.integers(50, 3000))
        scores = rng.integers(0, 6 if trial % 2 else 400, n).astype(np.float32) / 7
        mask = rng.random(n) < 0.7
        first = (rng.random(n) < 0.1) if trial % 3 == 0 else None
        cands = np.flatnonzero(mask)
        tier = np.zeros(cands.size, bool) if first is None else ~first[cands]
        full = cands[np.lexsort((cands, -scores[cands], tier))]
        for start, count in ((0, 10), (20, 10), (0, 1), (cands.size - 5, 10)):
            page = Engine._page(mask, scores, max(start, 0), count, first)
            assert [d for d, _ in page] == [int(d) for d in full[max(start, 0) : start + count]]
