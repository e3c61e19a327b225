"""Did you mean (``search/spelling.py`` and ``did_you_mean`` in ``/search``) over the demo archive."""

from __future__ import annotations

import pytest

from search.spelling import (
    channel_cost,
    lexicon_stats,
    restore_accents,
    suggest_correction,
    telex,
)


@pytest.fixture(scope="module")
def spelling(engine):
    return engine.snapshot().spelling()


def search(client, **params) -> dict:
    resp = client.simulate_get("/search", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json


# --------------------------------------------------------------------------- corrections
def test_unaccented_query_gets_the_archive_accents(spelling):
    assert suggest_correction(spelling, "thanh uy ha noi") == "thành ủy hà nội"
    assert suggest_correction(spelling, "quan uy hong phuc") == "quận ủy hồng phúc"


def test_case_and_filters_are_kept(spelling):
    assert suggest_correction(spelling, "Thanh uy Ha Noi") == "Thành ủy Hà Nội"
    assert suggest_correction(spelling, "date:2020 quan uy") == "date:2020 quận ủy"
    assert suggest_correction(spelling, "title:quan uy -tiem") == "title:quận ủy -tiêm"
    assert suggest_correction(spelling, 'official:"nguyen van an" tiem chung') == (
        'official:"nguyen van an" tiêm chủng'
    )


def test_typo_becomes_the_nearest_frequent_word(spelling):
    assert suggest_correction(spelling, "Hồng Phúx") == "Hồng Phúc"
    assert suggest_correction(spelling, "quan uy hong phux") == "quận ủy hồng phúc"


def test_wrong_accent_is_re_accented(spelling):
    assert suggest_correction(spelling, "tiêm chũng") == "tiêm chủng"


def test_nothing_to_correct(spelling):
    assert suggest_correction(spelling, "Thành ủy Hồng Phúc") is None
    assert suggest_correction(spelling, "tiêm chủng") is None
    assert suggest_correction(spelling, "") is None
    assert suggest_correction(spelling, "2019") is None


def test_accepts_a_snapshot(engine):
    assert suggest_correction(engine.snapshot(), "tiem chung") == "tiêm chủng"


def test_fast_lexicon_reader_matches_whoosh(engine):
    reader = engine.snapshot().searcher.reader()
    for fieldname in ("title", "body_words", "officials"):
        expected = [
            (term, info.weight(), info.doc_frequency())
            for term, info in reader.iter_field(fieldname)
        ]
        assert list(lexicon_stats(reader, fieldname)) == expected
    assert list(lexicon_stats(reader, "no_such_field")) == []


# --------------------------------------------------------------------------- /search
def test_search_offers_accents_for_an_unaccented_query(client):
    answer = search(client, q="vuon rau")
    assert answer["did_you_mean"] == "vườn rau"
    accented = search(client, q="vườn rau")
    assert "did_you_mean" not in accented
    # the answer stays that of the typed query, never silently the corrected one
    assert answer["query"] == "vuon rau"


def test_search_offers_a_typo_correction(client):
    answer = search(client, q="Hồng Phúx")
    assert answer["did_you_mean"] == "Hồng Phúc"
    typed = search(client, q="Hồng Phúc")
    assert "did_you_mean" not in typed


def test_no_did_you_mean_when_the_query_is_fine(client):
    for q in ("Thành ủy Hồng Phúc", "tiêm chủng", ""):
        assert "did_you_mean" not in search(client, q=q)


# --------------------------------------------------------------------------- in context
# A small archive where the wrong readings are the commoner syllables: "giới" (thế giới),
# "đã" and "và" outnumber "giỏi", "đá" and "vàng", so only the neighbours can choose.
CONTEXT_ARCHIVE = [
    (
        "Kỳ thi học sinh giỏi",
        "Kỳ thi học sinh giỏi cấp tỉnh đã diễn ra. Nhiều học sinh giỏi đã đạt giải.",
    ),
    ("Tuyên dương học sinh giỏi", "Các em học sinh giỏi quốc gia được tuyên dương và khen thưởng."),
    ("Kinh tế thế giới", "Kinh tế thế giới đã tăng trưởng. Các nước trên thế giới đã hợp tác."),
    ("Thế giới và Việt Nam", "Thế giới đã thay đổi và Việt Nam đã hội nhập với thế giới."),
    ("Giới trẻ và thế giới", "Giới trẻ đã quan tâm đến thế giới và các vấn đề của thế giới."),
    ("Bóng đá Việt Nam", "Đội tuyển bóng đá Việt Nam đã thắng. Người hâm mộ bóng đá đã ăn mừng."),
    ("Giải bóng đá nữ", "Giải bóng đá nữ đã khởi tranh và thu hút khán giả yêu bóng đá."),
    (
        "Giá vàng tăng",
        "Giá vàng hôm nay tăng mạnh. Giá vàng trong nước và giá vàng thế giới đều tăng.",
    ),
    ("Giá vàng giảm", "Giá vàng giảm và người dân đã bán vàng."),
    ("Quốc hội họp", "Quốc hội đã họp và thông qua luật. Đại biểu Quốc hội đã phát biểu."),
    ("Người dân và doanh nghiệp", "Người dân và doanh nghiệp đã đồng tình và ủng hộ."),
]


def index_context_archive(root):
    """Index ``CONTEXT_ARCHIVE`` for real under ``root``; returns the index directory."""
    import json

    from indexer.writer import index_paths

    source = root / "articles.jsonl"
    with source.open("w", encoding="utf-8") as f:
        for n, (title, body) in enumerate(CONTEXT_ARCHIVE):
            f.write(json.dumps({"id": f"c{n}", "title": title, "body": body}, ensure_ascii=False))
            f.write("\n")
    summary = index_paths([source], root / "index", jobs=1)
    assert summary.skipped == 0, summary.errors
    return root / "index"


@pytest.fixture(scope="module")
def context_engine(tmp_path_factory):
    from search.engine import Engine

    eng = Engine(index_context_archive(tmp_path_factory.mktemp("context")))
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def context_spelling(context_engine):
    return context_engine.snapshot().spelling()


def test_neighbours_choose_the_accents_over_the_commoner_syllable(context_spelling):
    # issue 16: these gave "học sinh giới" and "bóng đã"
    assert suggest_correction(context_spelling, "hoc sinh gioi") == "học sinh giỏi"
    assert suggest_correction(context_spelling, "the gioi") == "thế giới"
    assert suggest_correction(context_spelling, "bong da") == "bóng đá"
    assert suggest_correction(context_spelling, "da thang") == "đã thắng"
    assert suggest_correction(context_spelling, "gia vang") == "giá vàng"


def test_one_letter_slips_are_corrected_in_context(context_spelling):
    # issue 16: "hoc sinh gioii" → "học sinh giới", "bong daa" → "bóng đã", "giá vàg" → nothing
    assert suggest_correction(context_spelling, "hoc sinh gioii") == "học sinh giỏi"
    assert suggest_correction(context_spelling, "bong daa") == "bóng đá"
    assert suggest_correction(context_spelling, "giá vàg") == "giá vàng"
    # a letter dropped, swapped, replaced by a neighbouring key
    assert suggest_correction(context_spelling, "hoc snh gioi") == "học sinh giỏi"
    assert suggest_correction(context_spelling, "bogn da") == "bóng đá"
    assert suggest_correction(context_spelling, "quoc hoi hop") == "quốc hội họp"
    assert suggest_correction(context_spelling, "quoc hpi") == "quốc hội"


def test_restoring_accents_leaves_the_letters_alone(context_spelling):
    # what the query builder boosts for a query typed without accents
    assert restore_accents(context_spelling, "hoc sinh gioi") == "học sinh giỏi"
    assert restore_accents(context_spelling, "bong daa") == "bóng daa"
    assert restore_accents(context_spelling, "bóng đá") is None


def test_telex_leftovers_are_read(context_spelling):
    assert telex("vangf") == "vàng" and telex("dduowngf") == "đường" and telex("vang") is None
    assert suggest_correction(context_spelling, "gias vangf") == "giá vàng"
    assert suggest_correction(context_spelling, "bongs ddas") == "bóng đá"


def test_case_and_filters_survive_a_correction(context_spelling):
    assert suggest_correction(context_spelling, "Hoc sinh gioii") == "Học sinh giỏi"
    assert suggest_correction(context_spelling, "date:2020 bong daa") == "date:2020 bóng đá"


def test_a_query_that_reads_well_is_left_alone(context_spelling):
    for q in ("học sinh giỏi", "thế giới", "bóng đá", "Giá vàng", "giá vàng thế giới", "2020"):
        assert suggest_correction(context_spelling, q) is None, q
    # a common form typed with its diacritics is not re-accented into a likelier pair
    assert suggest_correction(context_spelling, "đã vàng") is None


def test_the_channel_prices_what_typists_do():
    assert channel_cost("hoc", "học") == 0  # diacritics left out: free
    assert 0 < channel_cost("gioii", "giỏi") < channel_cost("gioxi", "giỏi")  # doubled < other
    assert channel_cost("vàg", "vàng") < channel_cost("vàg", "và")  # g is no neighbour of à
    assert channel_cost("hóc", "học") > 0  # a typed diacritic replaced


def test_search_offers_the_correction_in_context(context_engine):
    import falcon.testing

    from api import create_app

    client = falcon.testing.TestClient(create_app(context_engine))
    answer = search(client, q="bong daa")
    assert answer["did_you_mean"] == "bóng đá"
    assert answer["query"] == "bong daa"  # still the typed query's answer
    assert search(client, q="giá vàg")["did_you_mean"] == "giá vàng"
    assert "did_you_mean" not in search(client, q="bóng đá")


def test_the_channel_distance_equals_the_plain_weighted_distance():
    """``channel_cost``'s distance (memoised substitutions, inlined cells) against the
    plain optimal-string-alignment recurrence, on the did-you-mean set's typed and
    intended syllables and random slips of them."""
    import json
    import random
    from pathlib import Path

    from search.spelling import _channel_distance, _substitution, _weighted_distance

    lines = (Path(__file__).parents[1] / "bench" / "data" / "didyoumean.jsonl").read_text(
        encoding="utf-8"
    )
    words = set()
    for line in lines.splitlines():
        record = json.loads(line)
        words.update(record["query"].lower().split() + record["intended"].lower().split())
    words = sorted(words)
    rng = random.Random(16)
    pairs = [(a, b) for a in words[:60] for b in words[:60]]
    letters = "aăâeêioôơuưyàáảãạđdgnhx"
    for word in words:
        slip = list(word)
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(slip) + 1)
            kind = rng.choice("isdt")
            if kind == "i":
                slip.insert(at, rng.choice(letters))
            elif kind == "s" and at < len(slip):
                slip[at] = rng.choice(letters)
            elif kind == "d" and at < len(slip):
                del slip[at]
            elif kind == "t" and at + 1 < len(slip):
                slip[at], slip[at + 1] = slip[at + 1], slip[at]
        pairs += [("".join(slip), word), (word, "".join(slip)), (word + word[:1], word)]
    assert len(pairs) > 3000
    for a, b in pairs:
        assert _channel_distance(a, b) == _weighted_distance(a, b, _substitution), (a, b)


def test_readings_read_ahead_are_those_a_query_computes(engine):
    """The readings ``build_spelling`` computes ahead (the most frequent syllables typed
    without diacritics) equal the candidates a query computes for itself, and the
    answers are those of a spelling without them."""
    import json
    from pathlib import Path

    import search.spelling as spelling_module

    snapshot = engine.snapshot()
    ahead = spelling_module.build_spelling(snapshot)
    spelling_module.read_ahead(ahead)  # the demo is small: build_spelling leaves it out
    assert len(ahead.readings) > 100
    for (lower, fixed, edits), found in ahead.readings.items():
        typed = spelling_module._Syllable(0, len(lower), lower, lower, lower, fixed)
        fresh = spelling_module._candidates(typed, ahead, edits)
        assert [(c.form, c.cost, c.edited) for c in found] == [
            (c.form, c.cost, c.edited) for c in fresh
        ]
    plain = spelling_module.build_spelling(snapshot)
    assert not plain.readings
    lines = (Path(__file__).parents[1] / "bench" / "data" / "didyoumean.jsonl").read_text(
        encoding="utf-8"
    )
    queries = [json.loads(line)["query"] for line in lines.splitlines()]
    queries += ["thanh uy ha noi", "quan uy hong phuc", "bao lu mien trung", "gia vang"]
    for q in queries:
        assert suggest_correction(ahead, q) == suggest_correction(plain, q), q
        assert restore_accents(ahead, q) == restore_accents(plain, q), q


def test_transitions_of_a_subset_of_readings_are_taken_from_the_whole_matrix(spelling):
    """``_correct`` decodes the readings without edits with the transitions it computed
    for all readings, indexed: equal to computing them for the subset."""
    import itertools

    import numpy as np

    import search.spelling as spelling_module

    checked = 0
    for text in ["hoc sinh gioii", "bong daa", "thanh uy ha noi", "quan uy hong phuc", "vangf"]:
        sylls = spelling_module._syllables(text)
        options = [spelling_module._readings(s, spelling, True) for s in sylls]
        steps = [
            spelling_module._transitions(spelling, a, b) for a, b in itertools.pairwise(options)
        ]
        kept = [[k for k, c in enumerate(opts) if not c.edited] for opts in options]
        plain = [[opts[k] for k in ks] for opts, ks in zip(options, kept, strict=True)]
        for step, (a, b), (pa, pb) in zip(
            steps, itertools.pairwise(kept), itertools.pairwise(plain), strict=True
        ):
            assert np.array_equal(
                step[np.ix_(a, b)], spelling_module._transitions(spelling, pa, pb)
            )
            checked += 1
    assert checked >= 5


_BOTH_QUERIES = [
    "thanh uy ha noi",
    "quan uy hong phuc",
    "hoc sinh gioii",
    "bong daa",
    "vangf",
    "dai hoi",
    "Thanh Uy HA NOI",
    "thành ủy hà nội",
    "ha noi category:x",
    "thanh pho ho chi minh",
    "",
]


@pytest.mark.parametrize("fixture", ["spelling", "context_spelling"])
def test_accents_and_correction_decoded_together_equal_each_alone(request, fixture, monkeypatch):
    """``restore_accents`` decodes the correction at the same time (sharing the
    transitions): both answers equal decoding each alone, in either order of asking,
    also when the readings without edits are not those of the readings with them (then
    they are decoded on their own)."""
    import search.spelling as spelling_module

    spelling = request.getfixturevalue(fixture)
    real = spelling_module._candidates

    def shifted(s, spelling, edits):
        found = real(s, spelling, edits)
        if not edits and found:
            found[0].cost -= 20.0  # the reading as typed wins
        return found

    for perturb in (False, True):
        if perturb:  # readings without edits that differ from the edited ones' subset
            monkeypatch.setattr(spelling_module, "_candidates", shifted)
        for text in _BOTH_QUERIES:
            spelling.readings.clear()
            spelling.cache.clear()
            alone = (
                spelling_module._correct(spelling, text, True),
                spelling_module._correct(spelling, text, False),
            )
            assert spelling_module._correct_both(spelling, text) == alone, text
            spelling.cache.clear()
            assert restore_accents(spelling, text) == alone[1]
            assert suggest_correction(spelling, text) == alone[0]
            spelling.cache.clear()
            assert suggest_correction(spelling, text) == alone[0]
            assert restore_accents(spelling, text) == alone[1]
    spelling.readings.clear()
    spelling.cache.clear()


def test_word_bonuses_go_to_the_pairs_of_forms_that_spell_a_word(spelling):
    """``_transitions`` adds ``WORD_BONUS`` exactly where the two forms, joined, are one
    of the archive's words for their folded pair (the plain double loop)."""
    import itertools

    import numpy as np

    import search.spelling as spelling_module

    checked = 0
    for text in ["thanh uy ha noi", "quan uy hong phuc", "hoc sinh gioii", "dai hoi dang bo"]:
        sylls = spelling_module._syllables(text)
        for edits in (True, False):
            options = [spelling_module._readings(s, spelling, edits) for s in sylls]
            for left, right in itertools.pairwise(options):
                expected = np.zeros((len(left), len(right)))
                for (a, ca), (b, cb) in itertools.product(enumerate(left), enumerate(right)):
                    known = spelling.words.get(f"{ca.folded}_{cb.folded}") or ()
                    if any(w == f"{ca.form}_{cb.form}" for w, _ in known):
                        expected[a, b] = spelling_module.WORD_BONUS
                        checked += 1
                with_bonus = spelling_module._transitions(spelling, left, right)
                spelling.words, kept = {}, spelling.words
                try:
                    without = spelling_module._transitions(spelling, left, right)
                finally:
                    spelling.words = kept
                assert np.array_equal(with_bonus != without, expected > 0)
                assert np.allclose(with_bonus - without, expected)
    assert checked > 3


# --------------------------------------------------------------------------- warming
def test_a_warmed_snapshot_has_its_spelling_and_pair_statistics_built(demo_index):
    """The warming thread builds did-you-mean's tables, the pair statistics included, so
    no visitor's first unaccented query waits for them; a one-query process builds none."""
    from search.engine import Engine

    served = Engine(demo_index)
    try:
        snap = served.snapshot()
        assert snap.ready.wait(60)
        assert "spelling" in snap.built()
        pairs = snap.spelling().pairs
        assert len(pairs.keys) > 0 and pairs.id_of("hà") > 0
    finally:
        served.close()
    one_query = Engine(demo_index, warm_postings=0, prefetch=False)
    try:
        snap = one_query.snapshot()
        assert snap.ready.is_set() and "spelling" not in snap.built()
    finally:
        one_query.close()


def test_pair_counts_read_from_narrow_keys_equal_the_wide_ones(spelling):
    """The pair model's keys are int32 when they fit: every count (seen, unseen and
    unknown ids) equals the one read from the same keys as int64."""
    import numpy as np

    from search.spelling import PairModel

    pairs = spelling.pairs
    assert pairs.keys.dtype == np.int32 and pairs.size * pairs.size < 2**31
    wide = PairModel(pairs.ids, pairs.keys.astype(np.int64), pairs.counts, pairs.left, pairs.size)
    rng = np.random.default_rng(5)
    for _ in range(20):
        left = rng.integers(-1, pairs.size, 12)
        right = rng.integers(-1, pairs.size, 12)
        real = pairs.keys[rng.choice(pairs.keys.size, 4)].astype(np.int64)  # pairs seen
        left[:4], right[:4] = real // pairs.size, real % pairs.size
        narrow = pairs.pair_counts(left, right)
        assert np.array_equal(narrow, wide.pair_counts(left, right))
        assert narrow.any()


def test_pair_table_counts_equal_the_sorted_keys_counts(spelling, monkeypatch):
    """The hashed pair table answers every key (held or not, dense or sparse, int32 or
    int64) with the count a search of the sorted keys finds; when insertions kick too
    often it grows until every key is placed."""
    import numpy as np

    from search import spelling as spelling_module
    from search.spelling import PairTable

    def by_search(keys, counts, wanted):
        at = np.searchsorted(keys, wanted).clip(0, len(keys) - 1)
        return np.where(keys[at] == wanted, counts[at], 0)

    rng = np.random.default_rng(7)
    pairs = spelling.pairs
    cases = [(pairs.keys, pairs.counts)]
    for dtype, top in ((np.int32, 2**31 - 1), (np.int64, 2**62)):
        keys = np.unique(rng.integers(0, top, 5_000)).astype(dtype)
        cases.append((keys, rng.integers(1, 1_000, keys.size).astype(np.int32)))
    dense = np.arange(0, 3_000, dtype=np.int64)  # consecutive keys, as a common row gives
    cases.append((dense, np.arange(1, 3_001, dtype=np.int32)))
    for keys, counts in cases:
        table = PairTable(keys, counts)
        assert 1 << table.bits > 2 * keys.size
        assert (table.packed is not None) == (keys.dtype == np.int32)  # both layouts tested
        held = keys[rng.choice(keys.size, min(keys.size, 500), replace=False)].astype(np.int64)
        other = rng.integers(0, int(keys.max()) + 2, 500)
        wanted = np.concatenate([held, other, held + 1])
        assert np.array_equal(table.counts_of(wanted), by_search(keys, counts, wanted))
        assert (table.counts_of(held) > 0).all()
    monkeypatch.setattr(spelling_module, "_MAX_KICKS", 1)
    keys, counts = cases[1]
    table = PairTable(keys, counts)
    wanted = np.concatenate([keys.astype(np.int64), rng.integers(0, 2**31, 500)])
    assert np.array_equal(table.counts_of(wanted), by_search(keys, counts, wanted))


def test_a_typed_readings_score_is_the_viterbi_score_of_that_one_reading(spelling):
    """``_path_score`` computes one reading's transitions together: the same value as
    ``_viterbi`` over one candidate a syllable, bit for bit (word bonuses, unseen forms
    and syllables of one form included)."""
    import itertools

    from indexer.analysis import fold_diacritics
    from search import spelling as spelling_module
    from search.spelling import _Candidate, _path_score, _viterbi

    def by_viterbi(forms, costs):
        options = [
            [
                _Candidate(
                    f, c, False, fold_diacritics(f), spelling.unigram(f), spelling.pairs.id_of(f)
                )
            ]
            for f, c in zip(forms, costs, strict=True)
        ]
        return _viterbi(spelling, options)[1]

    texts = [
        "thành ủy hà nội",
        "thanh uy ha noi",
        "quận ủy hồng phúc",
        "tiêm chủng",
        "xyzq hà",
        "hà",
        "ủy ban nhân dân tỉnh",
        "qqq www eee",
    ]
    bonus = 0
    for text in texts:
        forms = text.split()
        for costs in ([0.0] * len(forms), [float(i) / 3 for i in range(len(forms))]):
            assert _path_score(spelling, forms, costs) == by_viterbi(forms, costs)
        bonus += any(
            f"{a}_{b}"
            in {w for w, _ in spelling.words.get(f"{fold_diacritics(a)}_{fold_diacritics(b)}", ())}
            for a, b in itertools.pairwise(forms)
        )
    assert bonus >= 2 and spelling_module.WORD_BONUS
