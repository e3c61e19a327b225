"""The Search API contract over the demo archive: parameters, errors, ranking, OpenAPI."""

from __future__ import annotations

import json
import os
import re
import unicodedata

import falcon
import falcon.testing
import pytest

import api
from api import create_app
from indexer.analysis import SYLLABLE_PATTERN, fold_diacritics, normalize_text
from search.dates import API_DATE_PATTERN
from search.engine import Engine

SLASH_ID = "portal/002_thanh_uy_kiem_tra_nhan_su"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def everything(client) -> list[dict]:
    """Every article of the demo index as a hit, newest first."""
    answer = search(client, q="", per_page=100)
    assert answer["total"] == len(answer["hits"]) > 30
    return answer["hits"]


@pytest.fixture(scope="module")
def texts(client, everything) -> dict[str, str]:
    """id → normalised, lowercased title and body of every demo article."""
    out = {}
    for hit in everything:
        article = client.simulate_get(f"/articles/{hit['id']}").json
        out[hit["id"]] = normalize_text(article["title"] + "\n" + article["body"]).lower()
    return out


def search(client, **params) -> dict:
    resp = client.simulate_get("/search", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json


def ids(answer: dict) -> list[str]:
    return [h["id"] for h in answer["hits"]]


def syllable_set(text: str, fold: bool = False) -> set[str]:
    syls = SYLLABLE_PATTERN.findall(normalize_text(text).lower())
    return {fold_diacritics(s) for s in syls} if fold else set(syls)


def holds_every_word(q: str, text: str) -> bool:
    """Every syllable of ``q`` is in ``text``: as typed when typed with diacritics,
    in any accented form otherwise."""
    exact, folded = syllable_set(text), syllable_set(text, fold=True)
    return all((s in exact) if fold_diacritics(s) != s else (s in folded) for s in syllable_set(q))


# --------------------------------------------------------------------------- 400s
BAD_REQUESTS = [
    ({"from": "2020-02-31"}, "from"),
    ({"from": "2020-13-01"}, "from"),
    ({"from": "abc"}, "from"),
    ({"to": "2020-02-31"}, "to"),
    ({"to": "2020-13-01"}, "to"),
    ({"to": "abc"}, "to"),
    ({"from": "2021-01-01", "to": "2020-12-31"}, "from"),
    ({"per_page": "0"}, "per_page"),
    ({"per_page": "101"}, "per_page"),
    ({"per_page": "x"}, "per_page"),
    ({"page": "0"}, "page"),
    ({"page": "x"}, "page"),
    ({"page": "1001"}, "page"),  # page and per_page have bounds of their own (the contract)
    ({"page": "1001", "per_page": "1"}, "page"),
    ({"sort": "best"}, "sort"),
    ({"histogram": "day"}, "histogram"),
    ({"facets": "maybe"}, "facets"),
    ({"q": "a" * 1001}, "q"),
    ({"q": ["đường", "dương"]}, "q"),
    ({"category": "x" * 201}, "category"),
]


@pytest.mark.parametrize(("params", "parameter"), BAD_REQUESTS)
def test_bad_parameter_is_400_naming_it(client, params, parameter):
    resp = client.simulate_get("/search", params=params)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/json")
    assert set(resp.json) == {"error", "parameter"}
    assert resp.json["parameter"] == parameter
    assert resp.json["error"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a" * 1000},
        {"page": "1000", "per_page": "10"},  # the deepest page
        {"page": "1000", "per_page": "100"},
        {"page": "100", "per_page": "100"},
        {"per_page": "1"},
        {"from": "2020", "to": "2020"},
        {"from": "", "to": "", "sort": "", "histogram": "", "page": "", "per_page": ""},
        {"facets": "false"},
    ],
)
def test_limits_themselves_are_accepted(client, params):
    assert client.simulate_get("/search", params=params).status_code == 200


# --------------------------------------------------------------------------- odd input → 200
ODD_QUERIES = [
    '"đại hội',
    'bão"',
    '""',
    "OR",
    "OR đường",
    "đường OR",
    "AND",
    "-",
    "- đường",
    "đường -",
    "--đường",
    "(",
    ")",
    "((đường",
    "đường))",
    ")(",
    "😀",
    "😀 đường 🎉",
    "đường\x00\x07\x1b",
    "\x00",
    "thành\u200bủy",
    ":",
    "title:",
    "official:",
    "category:",
    "unknown:field",
    "<script>alert(1)</script>",
    "%00 %ZZ \\",
    unicodedata.normalize("NFD", "Thành ủy Hà Nội"),
    "(" * 50 + "đường" + ")" * 50,
    "- " * 300,
]


@pytest.mark.parametrize("field", ["title", "body", "official", "category", "source", "date"])
def test_a_field_with_nothing_after_it_is_ignored(client, field):
    """``đại hội title:`` (a box queried while the visitor types) found 0 articles: the
    prefix was searched as the word "title"; with nothing after it, it is ignored."""
    plain = search(client, q="đại hội")
    assert plain["total"] > 0
    for tail in (f"{field}:", f"{field.upper()}:", f'{field}:""', f"{field}:()", f"-{field}:"):
        answer = search(client, q=f"đại hội {tail}")
        assert answer["total"] == plain["total"], tail
        assert [h["id"] for h in answer["hits"]] == [h["id"] for h in plain["hits"]], tail
    everything = search(client, q="")
    assert search(client, q=f"{field}:")["total"] == everything["total"]


@pytest.mark.parametrize("q", ODD_QUERIES)
def test_odd_query_text_is_answered(client, q):
    answer = search(client, q=q)
    assert isinstance(answer["total"], int)
    assert len(answer["hits"]) <= 10


@pytest.mark.parametrize(
    "q",
    [
        "date:abc",
        "date:2020-13",
        "date:2021..2020",
        "-date:2020-02-30 đường",
        "đường (date:2020-00 OR bão)",
        "DATE:2020-13",
        'date:"2020-1-32"',
    ],
)
def test_an_unreadable_date_in_the_query_is_a_400_naming_q(client, q):
    """A ``date:`` that is no date would match nothing (negated: everything): refused
    like a bad ``from=``, by /search and /export alike, never answered with a count."""
    for path in ("/search", "/export"):
        resp = client.simulate_get(path, params={"q": q})
        assert resp.status_code == 400, (path, q, resp.text)
        assert resp.json["parameter"] == "q" and "date:" in resp.json["error"]


def test_readable_dates_in_the_query_are_answered(client):
    for q in ("date:2020", "date:2021-08", "date:2020-01-01..2020-06-30", "date:..2019", "10:30"):
        assert isinstance(search(client, q=q)["total"], int)
    assert search(client, q="date:2020..")["total"] > 0


def test_emoji_and_control_characters_do_not_change_the_words(client):
    plain = ids(search(client, q="đường", per_page=100))
    assert plain
    assert ids(search(client, q="😀 đường 🎉", per_page=100)) == plain
    assert ids(search(client, q="đường\x00\x07", per_page=100)) == plain


def test_invisible_characters_in_a_pasted_query_are_not_word_breaks(client):
    """A soft hyphen or zero-width character inside a word (pasted from a page or a word
    processor) is dropped, in the search box, the filters, suggestions and drafts alike."""
    plain = search(client, q="thành ủy", per_page=100)
    assert plain["total"] > 0
    for ch in ("\u200b", "\u00ad", "\u200d", "\ufeff", "\u2060"):
        assert ids(search(client, q=f"thà{ch}nh ủy", per_page=100)) == ids(plain)
        assert (
            search(client, q="", category=f"Chính{ch} trị")["total"]
            == (search(client, q="", category="Chính trị")["total"])
        )
        got = client.simulate_get("/suggest", params={"q": f"thà{ch}nh u"}).json
        assert got == client.simulate_get("/suggest", params={"q": "thành u"}).json
        assert got["suggestions"]
    draft = "Thành ủy Hà Nội kiểm tra công tác chuẩn bị đại hội Đảng bộ các quận, huyện."
    pasted = draft.replace("Thành", "Thà\u200bnh").replace("kiểm", "ki\u00adểm")
    related = [client.simulate_post("/related", json={"text": t}).json for t in (draft, pasted)]
    assert related[0]["hits"] and [h["id"] for h in related[0]["hits"]] == [
        h["id"] for h in related[1]["hits"]
    ]
    blank = client.simulate_post("/related", json={"text": "\u200b\u00ad "})
    assert blank.status_code == 400 and blank.json["parameter"] == "text"


def test_nfd_query_equals_nfc_query(client):
    nfc = "Thành ủy Hà Nội"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert ids(search(client, q=nfd, per_page=100)) == ids(search(client, q=nfc, per_page=100))
    assert search(client, q=nfd)["total"] > 0


def test_a_long_decomposed_paste_is_measured_in_letters(client):
    """1,000 letters pasted decomposed (NFD) are about 1,300 code points: refused as
    "longer than 1000 characters" though the same text composed was answered."""
    text = ("Thành ủy Hà Nội kiểm tra công tác chuẩn bị đại hội đảng bộ nhiệm kỳ " * 20)[:1000]
    nfd = unicodedata.normalize("NFD", text)
    assert len(nfd) > 1000
    composed = search(client, q=text)
    assert ids(search(client, q=nfd)) == ids(composed) and composed["total"] > 0
    for too_long in (text + "x", unicodedata.normalize("NFD", text + "ế")):
        resp = client.simulate_get("/search", params={"q": too_long})
        assert resp.status_code == 400 and resp.json["parameter"] == "q"
    suggest_q = unicodedata.normalize("NFD", "đại hội đảng bộ nhiệm kỳ " * 8)[:290]
    assert client.simulate_get("/suggest", params={"q": suggest_q}).status_code == 200


def test_raw_query_strings_are_answered(client):
    for qs in ["q=%F0%9F%98%80", "q=%C3%28", "q=%ZZ", "q", "q=&q", "&&&", "category"]:
        resp = client.simulate_get("/search", query_string=qs)
        assert resp.status_code in (200, 400), qs
        if resp.status_code == 400:
            assert set(resp.json) == {"error", "parameter"}


@pytest.mark.parametrize(
    ("path", "qs", "parameter"),
    [
        ("/search", "q=%FF%FE", "q"),
        ("/search", "q=ab%ED%A0%80", "q"),  # a surrogate's bytes are not UTF-8
        ("/search", "q=%C3", "q"),  # a cut multi-byte letter
        ("/search", "q=th%C3nh+uy", "q"),
        ("/search", "q=thanh&category=Ch%EDnh+tr%E1", "category"),  # Latin-1, not UTF-8
        ("/search", "q=thanh&official=%FF", "official"),
        ("/search", "q=thanh&from=%FF", "from"),
        ("/search", "q=thanh&sort=%FF", "sort"),
        ("/search", "q=thanh&cursor=%FF", "cursor"),
        ("/export", "q=%FF", "q"),
        ("/export", "q=thanh&fields=%FF", "fields"),
        ("/suggest", "q=%FF", "q"),
        ("/officials", "q=%FF", "q"),
        ("/related", "id=%FF", "id"),
    ],
)
def test_bytes_that_are_not_utf8_are_a_400_naming_their_parameter(client, path, qs, parameter):
    resp = client.simulate_get(path, query_string=qs)
    assert resp.status_code == 400, (path, qs, resp.text[:200])
    assert resp.json["parameter"] == parameter
    assert "UTF-8" in resp.json["error"]


def test_utf8_text_with_a_replacement_character_is_still_read(client):
    """U+FFFD sent as UTF-8 (%EF%BF%BD) is text; only undecodable bytes are refused."""
    for qs in ["q=%EF%BF%BD", "q=%C4%91%C6%B0%E1%BB%9Dng+%EF%BF%BD", "q=b%C3%A3o"]:
        resp = client.simulate_get("/search", query_string=qs)
        assert resp.status_code == 200, qs
    assert client.simulate_get("/suggest", query_string="q=b%C3%A3o").status_code == 200


# --------------------------------------------------------------------------- articles
def test_unknown_article_is_404_json(client):
    resp = client.simulate_get("/articles/no-such-article")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
    assert "no-such-article" in resp.json["error"]


def test_unknown_route_is_404_json(client):
    resp = client.simulate_get("/no/such/route")
    assert resp.status_code == 404
    assert "error" in resp.json


def test_article_id_with_a_slash(client, everything):
    assert SLASH_ID in {h["id"] for h in everything}
    for path in (f"/articles/{SLASH_ID}", "/articles/" + SLASH_ID.replace("/", "%2F")):
        resp = client.simulate_get(path)
        assert resp.status_code == 200, path
        article = resp.json
        assert article["id"] == SLASH_ID
        assert article["body"]
        assert {o["name"] for o in article["officials"]} >= {"Nguyễn Văn An"}


def test_every_hit_resolves_to_its_article(client, everything):
    for hit in everything:
        article = client.simulate_get(f"/articles/{hit['id']}").json
        for key in ("id", "title", "title_derived", "date", "category", "source", "url"):
            assert article[key] == hit[key], (hit["id"], key)
        assert [o["name"] for o in article["officials"]] == hit["officials"]


# --------------------------------------------------------------------------- dates
def test_full_iso_datetimes_in_from_and_to(client, everything):
    wanted = [
        h["id"] for h in everything if "2020-06-15T10:20" <= h["date"][:16] <= "2020-06-23T08:30"
    ]
    assert len(wanted) == 2
    answer = search(client, **{"from": "2020-06-15T10:20:00+07:00", "to": "2020-06-23T08:30:00"})
    assert sorted(ids(answer)) == sorted(wanted)
    # the same instant in UTC, and one minute earlier: the 08:30 article drops out
    same = search(client, **{"from": "2020-06-15T10:20", "to": "2020-06-23T01:30Z"})
    assert sorted(ids(same)) == sorted(wanted)
    earlier = search(client, **{"from": "2020-06-15T10:20", "to": "2020-06-23T01:29:00+00:00"})
    assert ids(earlier) == [i for i in wanted if i != SLASH_ID]


def test_date_range_filter(client, everything):
    answer = search(client, **{"from": "2020-07", "to": "2021"}, per_page=100)
    expected = [h["id"] for h in everything if "2020-07-01" <= h["date"][:10] <= "2021-12-31"]
    assert expected and ids(answer) == expected
    year_facet = {f["value"]: f["count"] for f in search(client, q="")["facets"]["year"]}
    assert search(client, **{"from": "2020", "to": "2020"})["total"] == year_facet[2020]


# --------------------------------------------------------------------------- category / official
def test_category_filter_ignores_accents_and_case(client, everything):
    expected = [h["id"] for h in everything if h["category"] == "Thể thao"]
    assert len(expected) >= 2
    for value in ("Thể thao", "the thao", "THỂ  THAO"):
        answer = search(client, category=value, per_page=100)
        assert ids(answer) == expected, value


def test_several_categories_are_a_union(client, everything):
    answer = search(client, category=["the thao", "van hoa"], per_page=100)
    expected = [h["id"] for h in everything if h["category"] in {"Thể thao", "Văn hóa"}]
    assert ids(answer) == expected
    assert search(client, category="không có mục này")["total"] == 0


def test_official_filter_without_diacritics(client, everything):
    expected = [h["id"] for h in everything if "Nguyễn Văn An" in h["officials"]]
    assert len(expected) >= 3
    answer = search(client, official="nguyen van an", per_page=100)
    assert ids(answer) == expected
    assert search(client, official="nobody at all")["total"] == 0


def test_several_officials_are_a_union(client, everything):
    """OR within a facet (as on the page); ``official:A official:B`` in q asks for both."""
    pair = {"Nguyễn Văn An", "Hoàng Quốc Dũng"}
    expected = [h["id"] for h in everything if pair & set(h["officials"])]
    both = [h["id"] for h in everything if pair <= set(h["officials"])]
    assert len(both) < len(expected)
    answer = search(client, official=["nguyen van an", "Hoàng Quốc Dũng"], per_page=100)
    assert ids(answer) == expected
    answer = search(client, q='official:"nguyen van an" official:"Hoàng Quốc Dũng"', per_page=100)
    assert ids(answer) == both


def test_a_chosen_facet_counts_without_its_own_filter(client):
    """Disjunctive facets: with a category chosen, every category still shows the total it
    would give alone (under the other filters), so a second one can be added."""
    every = {f["value"]: f["count"] for f in search(client, q="quận")["facets"]["category"]}
    first, second = sorted(every, key=every.get, reverse=True)[:2]
    chosen = search(client, q="quận", category=first)
    counts = {f["value"]: f["count"] for f in chosen["facets"]["category"]}
    assert counts == every
    assert chosen["total"] == every[first]
    both = search(client, q="quận", category=[first, second])
    assert both["total"] == every[first] + every[second]
    # the other facets count the chosen results
    assert sum(f["count"] for f in both["facets"]["year"]) <= both["total"]
    official = both["facets"]["official"][0]
    narrowed = search(client, q="quận", category=[first, second], official=official["value"])
    assert narrowed["total"] == official["count"]
    assert {f["value"]: f["count"] for f in narrowed["facets"]["category"]} != every


def test_facet_limit_asks_for_more_values(client):
    few = search(client, facet_limit=2)["facets"]
    many = search(client, facet_limit=1000)["facets"]
    assert len(few["official"]) == 2 < len(many["official"])
    assert many["official"][:2] == few["official"]
    resp = client.simulate_get("/search", params={"facet_limit": "0"})
    assert resp.status_code == 400 and resp.json["parameter"] == "facet_limit"


# --------------------------------------------------------------------------- facets
def test_facets_count_all_matches_not_the_page(client):
    full = search(client, q="đại hội", per_page=100)
    one = search(client, q="đại hội", per_page=1)
    assert full["total"] == one["total"] > 3
    assert len(one["hits"]) == 1
    assert one["facets"] == full["facets"]
    assert sum(f["count"] for f in one["facets"]["category"]) == one["total"]
    assert sum(f["count"] for f in one["facets"]["year"]) == one["total"]
    officials = {}
    for hit in full["hits"]:
        for name in hit["officials"]:
            officials[name] = officials.get(name, 0) + 1
    assert {f["value"]: f["count"] for f in one["facets"]["official"]} == officials


def test_facets_can_be_left_out_and_histogram_asked_for(client):
    answer = search(client, q="đại hội", facets="false", histogram="month")
    assert "facets" not in answer
    bins = answer["histogram"]
    assert [b["period"] for b in bins] == sorted(b["period"] for b in bins)
    assert all(re.fullmatch(r"\d{4}-\d{2}", b["period"]) for b in bins)
    assert sum(b["count"] for b in bins) == answer["total"]
    years = search(client, q="", histogram="year")
    assert [int(b["period"]) for b in years["histogram"]] == [
        f["value"] for f in years["facets"]["year"]
    ]
    assert "histogram" not in search(client, q="đại hội")


# --------------------------------------------------------------------------- ordering
@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_by_date(client, sort):
    relevance = search(client, q="đường", per_page=100)
    answer = search(client, q="đường", sort=sort, per_page=100)
    assert answer["sort"] == sort
    dates = [h["date"] for h in answer["hits"]]
    assert dates == sorted(dates, reverse=sort == "newest")
    assert sorted(ids(answer)) == sorted(ids(relevance))
    assert ids(answer) != ids(relevance)


def test_empty_query_with_a_filter_is_newest_first(client, everything):
    answer = search(client, q="", category="giao duc", per_page=100)
    assert answer["sort"] == "newest"
    dates = [h["date"] for h in answer["hits"]]
    assert len(dates) >= 3 and dates == sorted(dates, reverse=True)
    assert all(h["score"] is None for h in answer["hits"])
    assert search(client, q="", category="giao duc", sort="oldest")["sort"] == "oldest"


FILTERS = [
    ({"from": "2021"}, lambda h: h["date"] >= "2021"),
    ({"to": "2020-12-31"}, lambda h: h["date"] < "2021"),
    ({"category": "chinh tri"}, lambda h: h["category"] == "Chính trị"),
    ({"official": "nguyen van an"}, lambda h: "Nguyễn Văn An" in h["officials"]),
]


@pytest.mark.parametrize("q", ["đường", "duong", "đại hội", "học sinh", "quận hồng phúc"])
@pytest.mark.parametrize(("params", "keep"), FILTERS)
def test_filters_never_change_the_order_of_remaining_hits(client, q, params, keep):
    ranking = search(client, q=q, per_page=100)["hits"]
    filtered = search(client, q=q, per_page=100, **params)
    assert ids(filtered) == [h["id"] for h in ranking if keep(h)]


def test_paging_continues_without_overlap(client):
    whole = search(client, q="đường", per_page=100)
    assert whole["total"] > 10
    pages = [search(client, q="đường", per_page=4, page=p) for p in range(1, 8)]
    joined = [i for p in pages for i in ids(p)]
    assert joined == ids(whole)[: len(joined)]
    assert len(joined) == len(set(joined)) == min(28, whole["total"])
    assert all(p["total"] == whole["total"] and p["per_page"] == 4 for p in pages)
    beyond = search(client, q="đường", per_page=10, page=50)
    assert beyond["hits"] == [] and beyond["total"] == whole["total"] and beyond["page"] == 50


# --------------------------------------------------------------------------- ranking
def test_accent_insensitive_matching(client, texts):
    holders = {i for i, t in texts.items() if "thành ủy hà nội" in t}
    assert holders
    answer = search(client, q="thanh uy ha noi")
    assert set(ids(answer)[: len(holders)]) == holders
    # the same articles lead either way (near-identical ones may swap: the accented
    # query also weighs exact-diacritic matches)
    accented = search(client, q="Thành ủy Hà Nội")
    assert set(ids(accented)[: len(holders)]) == holders
    assert answer["total"] == accented["total"]


@pytest.mark.parametrize(("typed", "other"), [("đường", "dương"), ("dương", "đường")])
def test_diacritics_typed_narrow_the_match(client, texts, typed, other):
    answer = search(client, q=typed, per_page=100)
    holders = {i for i, t in texts.items() if typed in syllable_set(t)}
    assert holders and any(other in syllable_set(t) for t in texts.values())
    assert set(ids(answer)) == holders and answer["total"] == len(holders)
    folded = search(client, q=fold_diacritics(typed), per_page=100)
    either = {i for i, t in texts.items() if fold_diacritics(typed) in syllable_set(t, fold=True)}
    assert set(ids(folded)) == either > holders and folded["total"] == len(either)
    # articles with the word as typed lead the unaccented search
    exact = [
        typed in syllable_set(texts[i]) or other in syllable_set(texts[i]) for i in ids(folded)
    ]
    assert exact[0]


@pytest.mark.parametrize("q", ["giao thông tuyến", "đại hội đảng bộ", "tiêm vắc xin"])
def test_short_query_matches_articles_with_every_word(client, texts, q):
    answer = search(client, q=q, per_page=100)
    holders = {i for i, t in texts.items() if holds_every_word(q, t)}
    assert set(ids(answer)) == holders and answer["total"] == len(holders)
    partial = answer.get("partial", {"hits": []})["hits"]
    assert not {h["id"] for h in partial} & holders


def test_words_that_never_meet_offer_partial_matches_apart(client, texts):
    q = "olympic bão xăng"
    words = syllable_set(q)
    assert not any(words <= syllable_set(t) for t in texts.values())
    answer = search(client, q=q)
    assert answer["relaxed"] is True
    assert answer["total"] == 0 and answer["hits"] == []
    assert answer["facets"]["category"] == [] and answer["facets"]["year"] == []
    assert answer["partial"]["total"] > 0 and answer["partial"]["hits"]
    for hit in answer["partial"]["hits"]:
        assert words & syllable_set(texts[hit["id"]])


QUESTION = (
    "Những học sinh nào đã được khen thưởng vì đạt giải trong kỳ thi Olympic "
    "và ai là người trao thưởng cho các em năm nay"
)


@pytest.mark.parametrize(
    "q",
    [
        QUESTION,
        fold_diacritics(QUESTION).lower(),
    ],
)
def test_long_question_finds_articles_matching_some_words(client, texts, q):
    assert len(q.split()) >= 20
    words = syllable_set(q, fold=True)
    assert not any(words <= syllable_set(t, fold=True) for t in texts.values())
    answer = search(client, q=q)
    assert answer["total"] > 0
    top = texts[answer["hits"][0]["id"]]
    assert "olympic" in top and "khen thưởng" in top


# --------------------------------------------------------------------------- snippets
@pytest.mark.parametrize("q", ["đường", "thanh uy ha noi", "học sinh giỏi", "đại hội đảng bộ"])
def test_snippets_mark_matches_and_hide_segmentation(client, q):
    hits = search(client, q=q)["hits"]
    assert hits
    assert "<mark>" in hits[0]["snippet"]
    for hit in hits:
        assert "_" not in hit["snippet"]
        text_only = re.sub(r"</?mark>", "", hit["snippet"])
        assert "<" not in text_only and ">" not in text_only


def test_snippets_are_html_escaped(scratch_index, tmp_path):
    from indexer.writer import index_paths

    source = tmp_path / "evil.jsonl"
    body = (
        'Tuyến đường <b>Hồng Hà</b> (dài < 3 km) & phố "Hòa Bình" được sửa; '
        "<script>alert('x')</script> "
        "người dân đi đường vòng."
    )
    record = {"id": "evil-1", "title": "Sửa đường", "body": body, "date": "2024-10-01"}
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    index_paths([source], scratch_index, jobs=1)
    engine = Engine(scratch_index)
    try:
        client = falcon.testing.TestClient(create_app(engine))
        hit = next(
            h
            for h in search(client, q="đường hồng hà", per_page=100)["hits"]
            if h["id"] == "evil-1"
        )
    finally:
        engine.close()
    snippet = hit["snippet"]
    assert "<mark>" in snippet
    # markup in a body is cleaned when indexed (tags dropped, scripts gone); what is
    # left of "<" and "&" is text, escaped in the snippet
    assert "&lt; 3 km" in snippet and "&amp;" in snippet and "alert" not in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


# --------------------------------------------------------------------------- health, stats
def test_health(client, everything):
    resp = client.simulate_get("/health")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok" and resp.json["documents"] == len(everything)
    assert isinstance(resp.json["warm"], bool)


def test_stats(client, everything):
    stats = client.simulate_get("/stats").json
    assert stats["documents"] == len(everything)
    by_category = {}
    for hit in everything:
        by_category[hit["category"]] = by_category.get(hit["category"], 0) + 1
    assert {c["value"]: c["count"] for c in stats["categories"]} == by_category
    assert stats["officials"] == len({n for h in everything for n in h["officials"]})
    dates = sorted(h["date"] for h in everything)
    assert stats["date_range"] == {"from": dates[0], "to": dates[-1]}
    assert stats["index_size_bytes"] > 0
    assert stats["last_update"]
    worker = stats["worker"]  # the process that answered, and what it holds of its own
    assert worker["pid"] == os.getpid()
    assert worker["warm"] is client.simulate_get("/health").json["warm"]
    assert worker["memory_bytes"]["resident"] >= worker["memory_bytes"]["private"] > 0
    assert worker["segments"] >= 1 and worker["mapped_segments"] == worker["segments"]
    assert worker["mapped_bytes"] > 0 and 0 <= worker["held_postings"] <= worker["postings_budget"]


def test_answer_shape(client):
    answer = search(client, q="đại hội", histogram="year")
    assert set(answer) >= {
        "query", "total", "page", "per_page", "took_ms", "sort", "relaxed", "hits", "facets",
        "histogram",
    }  # fmt: skip
    assert answer["query"] == "đại hội" and answer["sort"] == "relevance"
    hit = answer["hits"][0]
    assert set(hit) == {
        "id", "title", "title_derived", "date", "category", "source", "url", "officials",
        "snippet", "score",
    }  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", hit["date"])  # RFC 3339
    assert isinstance(hit["score"], float)
    assert set(answer["facets"]) == {"category", "official", "year"}


# --------------------------------------------------------------------------- OpenAPI
@pytest.fixture(scope="module")
def spec(client) -> dict:
    resp = client.simulate_get("/openapi.json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    return json.loads(resp.text)


def _app_routes(app: falcon.App) -> set[str]:
    """Every URI template of the app, parameters written ``{}``."""
    found: set[str] = set()

    def walk(nodes):
        for node in nodes:
            if node.resource is not None:
                found.add(re.sub(r"\{[^}]*\}", "{}", node.uri_template))
            walk(node.children)

    walk(app._router._roots)
    return found


def _resolve(spec: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_openapi_lists_every_route(spec, client):
    assert spec["openapi"].startswith("3.1")
    documented = {re.sub(r"\{[^}]*\}", "{}", path) for path in spec["paths"]}
    assert documented == _app_routes(client.app)


def test_openapi_refs_resolve(spec):
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(spec))
    assert refs
    for ref in refs:
        assert _resolve(spec, {"$ref": ref}) is not None


def _parameters_read(monkeypatch, client, path: str) -> set[str]:
    """The query parameters the app reads while answering ``GET path``."""
    read: set[str] = set()
    for name in dir(falcon.Request):
        if name.startswith("get_param"):
            original = getattr(falcon.Request, name)

            def recording(self, param, *args, _original=original, **kwargs):
                read.add(param)
                return _original(self, param, *args, **kwargs)

            monkeypatch.setattr(falcon.Request, name, recording)
    assert client.simulate_get(path, params={"q": "đường"}).status_code == 200
    monkeypatch.undo()
    return read


def test_openapi_lists_every_search_parameter(spec, client, monkeypatch):
    read = _parameters_read(monkeypatch, client, "/search")
    assert read >= {"q", "from", "to", "category", "official", "sort", "page", "per_page"}
    params = spec["paths"]["/search"]["get"]["parameters"]
    documented = {_resolve(spec, p)["name"] for p in params}
    assert documented == read
    for p in params:
        if _resolve(spec, p)["name"] in {"category", "official"}:
            assert _resolve(spec, p)["schema"]["type"] == "array"


def test_openapi_search_limits_match_the_code(spec):
    params = {p["name"]: p for p in spec["paths"]["/search"]["get"]["parameters"]}
    assert params["q"]["schema"]["maxLength"] == api.MAX_QUERY_CHARS
    assert params["per_page"]["schema"]["anyOf"][0]["maximum"] == api.MAX_PER_PAGE
    assert params["page"]["schema"]["anyOf"][0]["maximum"] == api.MAX_PAGE
    assert params["sort"]["schema"]["enum"] == [*api.SORTS, ""]  # empty: the default
    assert params["histogram"]["schema"]["enum"] == [*api.HISTOGRAMS, ""]
    words = {*api.TRUE_WORDS, *api.FALSE_WORDS, ""}
    assert sorted(params["facets"]["schema"]["enum"]) == sorted(words)
    for name in ("from", "to"):
        assert params[name]["schema"]["pattern"] == API_DATE_PATTERN


def test_openapi_schemas_match_real_answers(spec, client):
    schemas = spec["components"]["schemas"]
    answer = search(client, q="đại hội", histogram="year")
    assert set(answer) <= set(schemas["SearchAnswer"]["properties"])
    assert set(schemas["SearchAnswer"]["required"]) <= set(answer)
    assert set(answer["hits"][0]) == set(schemas["Hit"]["required"])
    article = client.simulate_get(f"/articles/{SLASH_ID}").json
    assert set(article) == set(schemas["Article"]["required"])
    assert set(client.simulate_get("/stats").json) == set(schemas["Stats"]["required"])
    assert set(client.simulate_get("/health").json) == set(schemas["Health"]["required"])
    bad = client.simulate_get("/search", params={"per_page": "x"}).json
    assert set(bad) == set(schemas["BadParameter"]["required"])
    responses = spec["paths"]["/search"]["get"]["responses"]
    assert {"200", "400", "503"} <= set(responses)
    assert "404" in spec["paths"]["/articles/{id}"]["get"]["responses"]


def test_answers_are_utf8_json_or_ascii_escaped_when_a_string_is_not_unicode(engine):
    """The JSON handler sends Vietnamese as it is, in UTF-8; a string that UTF-8 cannot
    hold (a lone surrogate) is escaped instead of failing the answer."""
    handler = create_app(engine).resp_options.media_handlers[falcon.MEDIA_JSON]
    plain = {"q": "Hà Nội", "hits": [{"snippet": "<mark>hà</mark> nội"}]}
    body = handler.serialize(plain, falcon.MEDIA_JSON)
    assert "Hà Nội".encode() in body and json.loads(body) == plain
    odd = {"q": "hà\ud800"}
    body = handler.serialize(odd, falcon.MEDIA_JSON)
    assert body.isascii() and json.loads(body) == odd
