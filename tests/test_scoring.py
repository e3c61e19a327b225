"""BM25F over posting lists (``search.scoring``): a term's scores, kept or computed,
looked up or whole, are the float32 values of the definition written out here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import segments
from indexer.analysis import fold_diacritics
from search import scoring
from search.query import syllables
from search.scoring import K1, PostingStore, Term, _union_sum, idf, ranked_terms


def _reference(store: PostingStore, term: Term) -> np.ndarray:
    """Per document (dense), the term's BM25F as its definition states it: each field's
    weight × frequency / length norm summed over fields in float32, then one saturation."""
    x = np.zeros(store.size, dtype=np.float32)
    df = 0
    for fieldname in term.fields:
        ids, tfs = store.postings(fieldname, term.text)
        if not ids.size:
            continue
        weight = np.float32(1.0)
        if fieldname.startswith("title"):
            derived = store.derived_titles()[ids]
            weight = np.where(derived, scoring.DERIVED_TITLE_WEIGHT, scoring.TITLE_WEIGHT)
            weight = weight.astype(np.float32)
        x[ids] += weight * tfs.astype(np.float32) / store.length_norms(fieldname)[ids]
        df = max(df, store.doc_frequency(fieldname, term.text))
    c = np.float32(term.weight * idf(df, store.doc_count))
    return (c * x * np.float32(K1 + 1) / (np.float32(K1) + x)).astype(np.float32)


def _demo_terms(store: PostingStore) -> list[Term]:
    words = {"đại", "hội", "đảng", "bộ", "thành", "phố", "ủy", "ban", "nhân", "dân", "và", "của"}
    terms = []
    for syl in sorted(words):
        folded = syllables(syl)[0]
        terms.append(Term(("title_fold", "body_fold"), fold_diacritics(folded), 1.0))
        terms.append(Term(("title", "body"), syl, 1.0))
    terms.append(Term(("title_pairs", "body_pairs"), "dai_hoi", 0.7))
    return terms


@pytest.mark.parametrize("dense_share", [0, 10**9])  # kept lists never / always dense
def test_term_scores_kept_or_computed_equal_the_definition(engine, monkeypatch, dense_share):
    monkeypatch.setattr(scoring, "DENSE_SHARE", dense_share)
    store = engine.snapshot().postings
    store._cache.clear()
    rng = np.random.default_rng(7)
    for kept_from in (10**9, 0):  # never kept, always kept (the second call reads it)
        monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", kept_from)
        for term in _demo_terms(store):
            want = _reference(store, term)
            for _ in range(2):
                ids, values = store.term_scores(term)
                assert np.all(np.diff(ids) > 0), term  # sorted, unique
                assert ids.size == np.count_nonzero(want), term
                assert values.tobytes() == want[ids].tobytes(), term
            docs = np.flatnonzero(store.live)
            docs = np.sort(rng.choice(docs, size=min(docs.size, 40), replace=False))
            present, at = store.term_scores_at(term, docs)
            assert np.array_equal(present, want[docs] > 0), term
            assert at.tobytes() == want[docs[present]].tobytes(), term


def test_long_queries_skip_the_clause_count_short_ones_keep_it(engine):
    snap = engine.snapshot()
    long_plan = snap.builder.build("đại hội đảng bộ thành phố lần thứ nhiệm kỳ mới")
    short_plan = snap.builder.build("đại hội đảng")
    assert not long_plan.bag.require_all and short_plan.bag.require_all
    full, matched = snap.postings.score_bag(long_plan.bag)
    lean, none = snap.postings.score_bag(long_plan.bag, count=False)
    assert none is None and full.tobytes() == lean.tobytes()
    assert matched.max() >= 1


_sorted_ids = st.lists(st.integers(0, 400), max_size=60, unique=True).map(sorted)


@settings(max_examples=300, deadline=None)
@given(_sorted_ids, _sorted_ids, st.integers(0, 2**32 - 1))
def test_union_sum_is_the_dense_sum(a, b, seed):
    rng = np.random.default_rng(seed)
    a_ids, b_ids = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
    a_x = rng.random(a_ids.size, dtype=np.float32) * 5
    b_x = rng.random(b_ids.size, dtype=np.float32) * 5
    dense = np.zeros(401, dtype=np.float32)
    dense[a_ids] += a_x
    dense[b_ids] += b_x
    ids, values = _union_sum(a_ids, a_x, b_ids, b_x)
    assert ids.tolist() == sorted(set(a) | set(b))
    assert values.tobytes() == dense[ids].tobytes()


@pytest.mark.parametrize(
    "kept_from, gather, dense_share",
    [(10**9, 8, 3), (0, 10**9, 0), (0, 0, 0), (0, 10**9, 10**9), (0, 0, 10**9)],
)
def test_scoring_some_documents_equals_scoring_every_one(
    engine, monkeypatch, kept_from, gather, dense_share
):
    """``score_docs`` (lists read whole with a gather, searched per document, per
    field, or kept dense) gives the documents the float32 sums of scoring every one."""
    monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", kept_from)
    monkeypatch.setattr(scoring, "GATHER_SHARE", gather)
    monkeypatch.setattr(scoring, "DENSE_SHARE", dense_share)
    snap = engine.snapshot()
    store = snap.postings
    store._cache.clear()
    rng = np.random.default_rng(11)
    for q in ("đại hội đảng bộ", "thanh uy ha noi", "ủy ban nhân dân thành phố và của đảng"):
        plan = snap.builder.build(q)
        terms = ranked_terms(plan.bag, plan.scored)
        want = np.zeros(store.size, dtype=np.float32)
        for term in terms:
            want += _reference(store, term)
        clauses_held = np.zeros(store.size, dtype=np.int16)  # clauses each document matches
        for clause in plan.bag.clauses:
            held = [_reference(store, t) > 0 for t in clause.terms if clause.matches(t)]
            clauses_held += np.logical_or.reduce(held)
        live = np.flatnonzero(store.live)
        for size in (3, 30, live.size):
            docs = np.sort(rng.choice(live, size=min(size, live.size), replace=False))
            got, matched = store.score_docs(terms, docs, plan.bag.clauses)
            assert got.tobytes() == want[docs].tobytes(), (q, size)
            assert np.array_equal(matched, clauses_held[docs]), (q, size)


def test_warming_keeps_the_scores_of_the_commonest_syllables_within_its_share(engine, monkeypatch):
    """A warming worker keeps the scores (the query's own term: folded syllable, title
    and body) of the longest lists, within its share of the budget, and no raw lists;
    the kept scores are the ones a query computes."""
    from search.query import BAG_WEIGHTS, BOTH, FOLD
    from search.scoring import WARM_FIELDS, _longest_lists

    assert scoring.AHEAD_TERMS == {
        "body_fold": (FOLD, BAG_WEIGHTS["fold"]),
        "body": (BOTH, BAG_WEIGHTS["exact"]),
    }
    monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", 1)
    snap = engine.snapshot()
    fresh = PostingStore(snap.searcher.reader(), snap.table.live, budget=10**6)
    longest = [
        (f, text)
        for _, f, text in _longest_lists(fresh.reader, WARM_FIELDS, fresh.capacity // 2)
        if f in scoring.AHEAD_TERMS
    ][:3]
    terms = [
        Term(*scoring.AHEAD_TERMS[f][:1], text, scoring.AHEAD_TERMS[f][1]) for f, text in longest
    ]
    for t in terms:
        fresh.term_scores(t)
    # room for the three longest as they are kept (dense arrays count for less)
    share = sum(scoring._held(fresh._cache[("scores", t.fields, t.text, t.weight)]) for t in terms)
    assert share < sum(fresh.term_scores(t)[0].size for t in terms)  # one at least is dense
    fresh = PostingStore(snap.searcher.reader(), snap.table.live, budget=10**6)
    monkeypatch.setattr(scoring, "SCORES_AHEAD_SHARE", share / 10**6)
    assert fresh.warm() == 0
    kept = [key for key in fresh._cache]
    assert kept and all(key[0] == "scores" for key in kept)  # no raw lists held
    assert {(key[1][-1], key[2]) for key in kept} == set(longest)
    assert fresh.held <= share
    for key in kept:
        term = Term(key[1], key[2], key[3])
        ids, values = fresh.kept_scores(term)
        want = _reference(fresh, term)
        assert values.tobytes() == want[ids].tobytes()
        assert ids.size == np.count_nonzero(want)


def test_document_frequencies_read_ahead_equal_whoosh_lookups(engine):
    """After warming, a term's document frequency comes from the table read from the
    term tables; it equals Whoosh's own lookup, for present and absent terms."""
    from search.scoring import WARM_FIELDS

    snap = engine.snapshot()
    fresh = PostingStore(snap.searcher.reader(), snap.table.live, budget=10**6)
    fresh.warm()
    assert fresh._frequencies is not None
    reader = fresh.reader
    checked = 0
    for fieldname in WARM_FIELDS:
        for text in list(reader.lexicon(fieldname))[:400]:
            word = text.decode("utf-8")
            assert fresh.doc_frequency(fieldname, word) == reader.doc_frequency(fieldname, word)
            checked += 1
        for absent in ("qqzxwv", "hà_nội_xyz", "đđđ"):
            assert fresh.doc_frequency(fieldname, absent) == 0
            assert reader.doc_frequency(fieldname, absent) == 0
    assert checked > 400
    # other fields: from the mapped arrays (every list is there), the same numbers
    assert all(segments.arrays_for(leaf) is not None for leaf, _ in fresh.leaves)
    for fieldname in ("body_pairs", "title_pairs", "body_words", "body_breaks", "category"):
        terms = [t.decode("utf-8") for t in list(reader.lexicon(fieldname))[:300]]
        for word in [*terms, "qqzxwv", "dai_hoi_xyz"]:
            assert segments.mapped_frequency(reader, fieldname, word) == reader.doc_frequency(
                fieldname, word
            ), (fieldname, word)
            assert fresh.doc_frequency(fieldname, word) == reader.doc_frequency(fieldname, word)
            checked += 1
    assert checked > 1000
    assert segments.mapped_frequency(reader, "no_such_field", "dai") is None


@pytest.mark.parametrize("below", [None, 10**9])  # the short lists / every list together
@pytest.mark.parametrize("deleted", [False, True])
def test_terms_scored_together_equal_each_scored_alone(engine, monkeypatch, deleted, below):
    """``term_scores_many`` (rare terms computed in one pass over their mapped views) gives
    each term's ``term_scores`` bit for bit: single fields, title and body pairs, folded
    and exact syllables, terms absent from a field or from the archive, kept terms among
    them, with and without deleted documents."""
    reader = engine.snapshot().searcher.reader()
    live = engine.snapshot().table.live.copy()
    if deleted:
        live[::7] = False
    rng = np.random.default_rng(11)
    terms = _demo_terms(PostingStore(reader, live))
    for fields in (("title_pairs", "body_pairs"), ("title_fold", "body_fold"), ("title", "body")):
        lexicon = [t.decode("utf-8") for t in reader.lexicon(fields[1])]
        for text in rng.choice(lexicon, size=40, replace=False).tolist():
            terms.append(Term(fields, text, float(rng.choice([1.0, 0.7, 0.35]))))
    terms += [
        Term(("body_fold",), "dai", 1.0),
        Term(("title_pairs", "body_pairs"), "no_such_pair", 0.7),
        Term(("title", "body", "body_fold"), "hội", 1.0),  # three fields: scored alone
    ]
    for kept_from in (10**9, 50, 5):
        monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", kept_from)
        alone = PostingStore(reader, live)
        together = PostingStore(reader, live)
        together.term_scores(terms[3])  # one kept before
        for _ in range(2):  # the second time, the long ones are kept
            found = together.term_scores_many(terms, below)
            for term, (ids, values) in zip(terms, found, strict=True):
                want_ids, want_values = alone.term_scores(term)
                assert ids.tolist() == want_ids.tolist(), term
                assert values.dtype == np.float32 and values.tobytes() == want_values.tobytes()
                want = _reference(alone, term)
                assert values.tobytes() == want[ids].tobytes(), term
        for term in terms:  # kept as term_scores keeps them
            held = together.kept_scores(term) is not None
            assert held == (alone.term_scores(term)[0].size >= kept_from), term


@pytest.mark.parametrize("dense_share", [0, 10**9])  # kept as ids and values / dense
def test_power_of_two_weights_read_the_kept_unit_scores_bit_for_bit(
    engine, monkeypatch, dense_share
):
    """A term weighted by a power of two (the restored-accent boosts: 0.5) is read from
    the kept scores of the same term with weight 1, scaled: the same float32 values as
    computing it, in every reader (whole, per document, summed, bound); another weight
    is computed, never scaled."""
    monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", 0)
    monkeypatch.setattr(scoring, "DENSE_SHARE", dense_share)
    snap = engine.snapshot()
    store = snap.postings
    store._cache.clear()
    live = np.flatnonzero(store.live)
    docs = live[::3]
    for text in ("đại", "hội", "thành", "dân"):
        unit = Term(("title", "body"), text, 1.0)
        store.term_scores(unit)  # kept from now on
        assert (store.kept_dense(unit) is not None) == bool(dense_share)
        for weight in (0.5, 0.25, 2.0, 0.7):
            term = Term(("title", "body"), text, weight)
            want = _reference(store, term)
            assert (store.kept_scores(term) is not None) == (weight != 0.7)
            ids, values = store.term_scores(term)
            assert values.tobytes() == want[ids].tobytes() and ids.size == np.count_nonzero(want)
            present, at = store.term_scores_at(term, docs)
            assert np.array_equal(present, want[docs] > 0)
            assert at.tobytes() == want[docs[present]].tobytes()
            got, _ = store.score_docs([unit, term], docs)
            assert got.tobytes() == (_reference(store, unit) + want)[docs].tobytes()
            assert store.score_bound(term) == float(want.max())


def test_dense_kept_scores_sum_like_lists_in_a_bag_and_count_less_than_them(engine, monkeypatch):
    """``score_bag`` adds a dense kept term's array whole: the same sums and clause
    counts as adding its list; a dense entry counts for no more postings than its list."""
    snap = engine.snapshot()
    store = snap.postings
    plan = snap.builder.build("thanh uy ha noi")
    assert any(t.weight == 0.5 for t in plan.bag.boosts)
    sums = {}
    for dense_share in (0, 10**9):
        monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", 0)
        monkeypatch.setattr(scoring, "DENSE_SHARE", dense_share)
        store._cache.clear()
        store.held = 0
        for boost in plan.bag.boosts:  # the restored accents' boosts read these, scaled
            store.term_scores(Term(boost.fields, boost.text, 1.0))
        for _ in range(2):  # computed and kept, then read from what is kept
            sums[dense_share] = store.score_bag(plan.bag)
        assert all(
            (len(v) == 1) == bool(dense_share) for k, v in store._cache.items() if k[0] == "scores"
        )
    monkeypatch.setattr(scoring, "DENSE_SHARE", 3)
    store._cache.clear()
    store.held = 0
    store.score_bag(plan.bag)
    postings = 0
    for key, value in store._cache.items():
        dense = len(value) == 1
        ids = np.flatnonzero(value[0]) if dense else value[0]
        assert dense == (key[0] == "scores" and ids.size * 3 >= store.size)
        postings += ids.size
    assert store.held <= postings
    want = np.zeros(store.size, dtype=np.float32)
    for term in ranked_terms(plan.bag, []):
        want += _reference(store, term)
    for scores, matched in sums.values():
        assert scores.tobytes() == want.tobytes()
    assert np.array_equal(sums[0][1], sums[10**9][1])
