"""What a search matches and counts is exactly what the user typed (docs/query-syntax.md).

One test per rule on a fixture archive built for it (tests/fixtures/exact_results.jsonl),
plus property tests over the demo archive: a query typed with diacritics never matches an
article without its exact syllables, facets agree with filters, and /export holds
exactly ``total`` rows.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import create_app
from indexer.analysis import (
    analyze,
    break_pair_analyzer,
    exact_analyzer,
    fold_diacritics,
    normalize_text,
    pair_analyzer,
)
from search.engine import Engine, SearchRequest

FIXTURE = Path(__file__).parent / "fixtures" / "exact_results.jsonl"


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    from indexer.writer import index_paths

    root = tmp_path_factory.mktemp("exact_results")
    summary = index_paths([FIXTURE], root, jobs=1)
    assert summary.skipped == 0, summary.errors
    eng = Engine(root)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def fx_client(fx):
    return falcon.testing.TestClient(create_app(fx))


def found(engine: Engine, q: str, **params) -> set[str]:
    answer = engine.search(SearchRequest(q=q, per_page=100, **params))
    assert answer["total"] == len(answer["hits"])
    return {h["id"] for h in answer["hits"]}


# --------------------------------------------------------------------------- rule 1
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("bão", {"storm"}),  # not báo, bảo, bao
        ("BÃO", {"storm"}),
        ("bao", {"storm", "newspaper"}),  # every accented form
        ("đường", {"roads"}),
        ("duong", {"roads"}),
        ("thuế", {"taxes"}),
        ("sữa", {"taxes"}),
        ("giá vang", {"gold", "gold-split"}),  # exact giá, any vang; "gia … vang" is not
        ("gia vang", {"gold", "gold-split", "family"}),
    ],
)
def test_diacritics_typed_narrow_the_match_per_syllable(fx, q, expected):
    assert found(fx, q) == expected


def test_one_tone_placement_including_misplaced_marks():
    for typed, placed in [("hoà", "hòa"), ("thuỷ", "thủy"), ("baỏ", "bảo"), ("BAỎ", "BẢO")]:
        assert normalize_text(typed) == placed
        assert analyze(exact_analyzer(), typed) == analyze(exact_analyzer(), placed)


def test_exact_reading_that_matches_nothing_answers_with_the_folded_one(fx):
    answer = fx.search(SearchRequest(q="bẫo"))  # no article spells it so
    assert answer["showing_results_for"] == "bao"
    assert {h["id"] for h in answer["hits"]} == {"storm", "newspaper"} and answer["total"] == 2
    assert "showing_results_for" not in fx.search(SearchRequest(q="bão"))


# --------------------------------------------------------------------------- rule 2
def test_short_query_counts_only_articles_with_every_word(fx):
    answer = fx.search(SearchRequest(q="chó người", histogram="year"))
    assert {h["id"] for h in answer["hits"]} == {"dog", "market"}
    assert answer["total"] == 2
    assert sum(c["count"] for c in answer["facets"]["category"]) == 2
    assert sum(c["count"] for c in answer["histogram"]) == 2
    partial = answer["partial"]
    assert partial["total"] == len(partial["hits"]) > 0
    assert not {h["id"] for h in partial["hits"]} & {"dog", "market"}


def test_long_query_counts_the_set_it_ranks(fx, fx_client):
    q = "cơn bão mạnh đổ bộ Quảng Nam người dân sơ tán khỏi vùng lũ"
    answer = fx.search(SearchRequest(q=q, per_page=100))
    assert answer["total"] == len(answer["hits"]) > 2 and not answer["relaxed"]
    rows = fx_client.simulate_get("/export", params={"q": q}).text.splitlines()
    assert [json.loads(r)["id"] for r in rows] == [h["id"] for h in answer["hits"]]


# --------------------------------------------------------------------------- rule 3
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("chó -chợ", {"dog"}),
        ("hỗ trợ -chó", {"support"}),  # "cho" is not "chó"
        ("hỗ trợ -cho", set()),  # unaccented: every form of cho
        ('"giá vàng"', {"gold"}),  # not "tăng giá. Vàng miếng"
        ('"gia vang"', {"gold"}),
        ('"gia vàng"', {"gold"}),  # gia: any form; vàng: exactly
        ('"giá vang"', {"gold"}),
        ('"giả vàng"', {"gold"}),  # exact reading empty: the folded one, said so (rule 1)
        ("châu âu OR châu phi", {"europe", "africa"}),
        ("Châu Âu OR Châu Phi", {"europe", "africa"}),
        ('"lo âu" OR "châu phi"', {"jewel", "africa"}),
    ],
)
def test_operators_are_exact(fx, q, expected):
    assert found(fx, q) == expected


def test_a_phrase_typed_with_diacritics_is_exact(fx):
    answer = fx.search(SearchRequest(q='"giả vàng"'))
    assert answer["showing_results_for"] == '"gia vang"'
    assert "showing_results_for" not in fx.search(SearchRequest(q='"giá vàng"'))


def test_phrase_does_not_cross_a_sentence():
    text = "Xăng tăng giá. Vàng miếng giảm; TP. Hồ Chí Minh"
    pairs = analyze(pair_analyzer(), text)
    assert "gia_vang" in pairs and "vang_mieng" in pairs and "tp_ho" in pairs
    assert analyze(break_pair_analyzer(), text) == ["gia_vang"]  # the one across a break


# --------------------------------------------------------------------------- rule 4
@pytest.mark.parametrize("code", ["2,4%", "COVID-19", "100/2019/NĐ-CP", "NĐ-CP", "Q.10", "H5N1"])
def test_codes_are_tokens(fx, code):
    assert found(fx, code) == {"codes"}  # not "scattered", which holds the pieces
    assert found(fx, f'"{code}"') == {"codes"}


def test_a_slash_and_a_dash_are_one_separator():
    from search.matching import Sequence, Syllable, pattern_for

    date = pattern_for(Sequence((Syllable("28"), Syllable("5")), ("/",)))
    assert date.found_in("ngày 28-5, tại") and date.found_in("ngày 28/5.")
    assert not date.found_in("ngày 28.5") and not date.found_in("128/5")


def test_code_pieces_alone_still_match_as_words(fx):
    assert found(fx, "covid") == {"codes", "scattered", "lookalike"}


# --------------------------------------------------------------------------- rule 5
def test_lookalike_and_compatibility_characters_are_letters(fx):
    assert normalize_text("\u00d0à Nẵng") == "Đà Nẵng"
    assert normalize_text("ＣＯＶＩＤ－１９") == "COVID-19"
    assert normalize_text("a\u00a0b") == "a b"
    assert fold_diacritics("\u00d0\u00f0") == "Dd"
    assert analyze(exact_analyzer(), "ﬁnance") == ["finance"]
    assert found(fx, "Đà Nẵng") == found(fx, "\u00d0à Nẵng") == {"lookalike"}
    assert found(fx, "covid finance") == {"lookalike"}


def test_han_runs_are_split_into_characters(fx):
    assert analyze(exact_analyzer(), "大越國史記") == ["大", "越", "國", "史", "記"]
    assert found(fx, "大越") == {"han"}


# --------------------------------------------------------------------------- rule 6
def test_facets_group_spellings_and_agree_with_filters(fx):
    answer = fx.search(SearchRequest(q="", per_page=100))
    groups = {c["value"]: c["count"] for c in answer["facets"]["category"]}
    keys = [fold_diacritics(normalize_text(v)).lower().strip() for v in groups]
    assert len(keys) == len(set(keys))  # "Thời sự", "thời sự", NFD and "Thời Sự " are one
    assert groups["Thời sự"] == 4  # shown with its most frequent spelling
    assert groups["Kinh tế"] == groups["Kinh tế > Chứng khoán"] + 5  # sub-sections count
    for value, count in groups.items():
        assert fx.search(SearchRequest(categories=(value,)))["total"] == count
        assert fx.search(SearchRequest(q=f'category:"{value}"'))["total"] == count


@pytest.mark.parametrize(
    ("typed", "params"),
    [
        ('category:"thời sự"', {"categories": ("THỜI SỰ",)}),
        ("date:2020", {"date_from": None}),
        ('source:"báo tin tức"', {}),
    ],
)
def test_filters_in_the_text_and_the_url_are_one_mask(fx, typed, params):
    from search.dates import parse_range

    in_text = found(fx, typed)
    if "date_from" in params:
        start, end = parse_range("2020")
        params = {"date_from": start, "date_to": end}
    if params:
        assert in_text == found(fx, "", **params)
    else:
        assert in_text == {"storm", "newspaper", "dog"}


# --------------------------------------------------------------------------- rule 7
def test_highlights_show_what_matched(fx):
    snippet = fx.search(SearchRequest(q='"giá vàng"'))["hits"][0]["snippet"]
    assert "<mark>Giá vàng</mark>" in snippet
    snippet = fx.search(SearchRequest(q="bão"))["hits"][0]["snippet"]
    assert "<mark>BÃO</mark>" in snippet
    snippet = fx.search(SearchRequest(q="bao"))["hits"]
    marked = " ".join(h["snippet"] for h in snippet)
    assert "<mark>báo</mark>" in marked.lower()
    answer = fx.search(SearchRequest(q="báo chí"))
    assert all("<mark>bão" not in h["snippet"].lower() for h in answer["hits"])
    snippet = fx.search(SearchRequest(q="COVID-19"))["hits"][0]["snippet"]
    assert "<mark>COVID-19</mark>" in snippet


# --------------------------------------------------------------------------- properties
WORDS = [
    "bão", "báo", "bao", "đường", "dương", "duong", "chợ", "chó", "cho", "thuế", "thuê",
    "quận", "quan", "hội", "hoi", "đại", "dai", "học", "sinh", "giáo", "dục", "ủy", "uy",
    "hà", "nội", "giá", "vàng", "xây", "dựng", "-chó", "-đường", "-hoi",
]  # fmt: skip
QUERIES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_SYLLABLE = re.compile(r"\w+")


def _exact_syllables(text: str) -> set[str]:
    """The article's syllables, lowercased NFC, written here without the project's
    analysis (the demo archive has no alternative tone placements)."""
    return set(_SYLLABLE.findall(unicodedata.normalize("NFC", text).lower()))


@pytest.fixture(scope="module")
def demo_texts(engine) -> dict[str, str]:
    answer = engine.search(SearchRequest(per_page=100))
    articles = [engine.article(h["id"]) for h in answer["hits"]]
    return {a["id"]: a["title"] + "\n" + a["body"] for a in articles}


@SLOW
@given(QUERIES)
def test_accented_words_never_match_articles_without_them(engine, demo_texts, q):
    answer = engine.search(SearchRequest(q=q, per_page=100))
    if answer.get("showing_results_for"):
        return  # the folded reading, said so in the answer
    typed = [w for w in q.split() if not w.startswith("-") and fold_diacritics(w) != w]
    for hit in answer["hits"]:
        assert set(typed) <= _exact_syllables(demo_texts[hit["id"]])


@SLOW
@given(QUERIES)
def test_faceting_then_filtering_gives_the_same_counts(engine, q):
    answer = engine.search(SearchRequest(q=q))
    for facet in answer["facets"]["category"]:
        narrowed = engine.search(SearchRequest(q=q, categories=(facet["value"],), facets=False))
        assert narrowed["total"] == facet["count"]
    for facet in answer["facets"]["official"][:5]:
        narrowed = engine.search(SearchRequest(q=q, officials=(facet["value"],), facets=False))
        assert narrowed["total"] == facet["count"]


@SLOW
@given(QUERIES, st.sampled_from(["relevance", "newest", "oldest"]))
def test_export_rows_equal_total(client, q, sort):
    total = client.simulate_get("/search", params={"q": q, "sort": sort}).json["total"]
    resp = client.simulate_get("/export", params={"q": q, "sort": sort})
    assert len(resp.text.splitlines()) == total == int(resp.headers["x-total-count"])


def test_the_compatibility_scan_finds_every_mapped_character():
    from indexer.analysis import _COMPAT_CHARS, _COMPAT_TABLE

    assert all(_COMPAT_CHARS.fullmatch(chr(code)) for code in _COMPAT_TABLE)


def _folded(syllable: str) -> str:
    """A syllable without diacritics, đ as d, written here without the project's analysis."""
    stripped = unicodedata.normalize("NFD", syllable.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in stripped if not unicodedata.combining(c))


def _brute_force_matches(q: str, texts: dict[str, str]) -> set[str]:
    """Articles holding every typed syllable (exactly where typed with diacritics, in any
    accented form where typed without) and none of the excluded ones, by scanning raw text."""
    wanted = [w for w in q.split() if not w.startswith("-")]
    excluded = [w[1:] for w in q.split() if w.startswith("-")]

    def holds(word: str, syllables: set[str], folded: set[str]) -> bool:
        return word in syllables if _folded(word) != word else word in folded

    out = set()
    for doc_id, text in texts.items():
        syllables = _exact_syllables(text)
        folded = {_folded(s) for s in syllables}
        if all(holds(w, syllables, folded) for w in wanted) and not any(
            holds(w, syllables, folded) for w in excluded
        ):
            out.add(doc_id)
    return out


@SLOW
@given(QUERIES)
def test_total_facets_and_export_equal_a_brute_force_count_on_raw_text(
    engine, client, demo_texts, q
):
    """Rule 2 counted from outside the engine: a short query's total, its category facet
    and its export hold exactly the articles whose raw text has every typed syllable."""
    if all(w.startswith("-") for w in q.split()):
        return  # exclusions alone are not a query
    answer = engine.search(SearchRequest(q=q, per_page=100))
    if answer.get("showing_results_for"):
        return  # the folded reading, said so in the answer
    expected = _brute_force_matches(q, demo_texts)
    assert {h["id"] for h in answer["hits"]} == expected
    assert answer["total"] == len(expected)
    categories: dict[str, int] = {}
    for doc_id in expected:
        category = engine.article(doc_id).get("category")
        if category:
            categories[category] = categories.get(category, 0) + 1
    for facet in answer["facets"]["category"]:
        assert facet["count"] == categories.get(facet["value"]), facet
    exported = client.simulate_get("/export", params={"q": q})
    assert len(exported.text.splitlines()) == len(expected)
