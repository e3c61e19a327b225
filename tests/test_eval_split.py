"""The tune/report split of the eval sets (bench.data): stable, balanced, event-respecting."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest

# bench/ is not an installed package: make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.data import (
    SPLITS,
    has_shared,
    hash_split,
    judged_ids,
    load_eval,
    split_key,
    split_of,
    split_queries,
)


def test_split_is_fixed_across_processes_and_versions():
    # A changed hash, salt or parity rule would move queries between the halves and
    # silently report on tuned queries: these sides were computed once and must hold.
    expected = {
        "vims/00b1a0f2c9d1": "report",
        "vims/387567ca864d": "report",
        "viquad-dev/p0000": "tune",
        "viquad-dev/p0001": "tune",
        "dantri/news_business_001": "tune",
        "a": "tune",
    }
    assert {k: hash_split(k) for k in expected} == expected


def test_split_halves_are_balanced():
    sides = [hash_split(f"key-{i}") for i in range(4000)]
    share = sides.count("report") / len(sides)
    assert 0.46 < share < 0.54
    assert set(sides) == set(SPLITS)


def _event(name: str, size: int) -> list[str]:
    return [f"vims/{name}{i}" for i in range(size)]


def test_queries_of_one_event_stay_together_across_sets():
    events = [_event(f"e{n:03d}-", 4) for n in range(60)]
    queries = []
    for n, ids in enumerate(events):
        for article in ids:  # headline sets: the others relevant, the source excluded
            rest = [i for i in ids if i != article]
            queries.append({"qid": f"title:{article}", "relevant": rest, "exclude": [article]})
            queries.append({"qid": f"related:{article}", "article": article, "relevant": rest})
        for variant in ("", ":noaccent"):  # summaries judge the whole event
            queries.append({"qid": f"summary:Cluster_{n}/0{variant}", "relevant": list(ids)})
    side_of_article: dict[str, set[str]] = defaultdict(set)
    for q in queries:
        for article in judged_ids([q]):
            side_of_article[article].add(split_of(q))
    assert all(len(sides) == 1 for sides in side_of_article.values())
    both = {split_of(q) for q in queries}
    assert both == set(SPLITS)  # 60 events do not all fall on one side


def test_split_queries_partitions_in_order():
    queries = [{"qid": f"q{i}", "relevant": [f"doc{i}"]} for i in range(200)]
    tune = split_queries(queries, "tune")
    report = split_queries(queries, "report")
    assert sorted(q["qid"] for q in tune + report) == sorted(q["qid"] for q in queries)
    assert not {q["qid"] for q in tune} & {q["qid"] for q in report}
    assert [q["qid"] for q in tune] == [q["qid"] for q in queries if q in tune]
    with pytest.raises(ValueError):
        split_queries(queries, "test")
    with pytest.raises(ValueError):
        split_key({"qid": "empty", "relevant": []})


@pytest.mark.skipif(not has_shared(), reason="../shared is not present")
def test_real_sets_split_by_event_and_passage():
    sets = [
        "vims_dev_title_queries",
        "vims_dev_summary_queries",
        "vims_dev_summary_queries_unaccented",
        "vims_dev_related",
        "viquad_dev_queries",
        "viquad_dev_queries_unaccented",
        "dantri_dev_slug_queries",
    ]
    side_of_article: dict[str, set[str]] = defaultdict(set)
    for name in sets:
        queries = load_eval(name)
        report = load_eval(name, "report")
        assert 0.4 < len(report) / len(queries) < 0.6, name
        assert len(report) + len(load_eval(name, "tune")) == len(queries)
        for q in queries:
            for article in judged_ids([q]):
                side_of_article[article].add(split_of(q))
    assert all(len(sides) == 1 for sides in side_of_article.values())
