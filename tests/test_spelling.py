"""Did you mean (``search/spelling.py`` and ``did_you_mean`` in ``/search``) over the demo archive."""

from __future__ import annotations

import pytest

from search.spelling import Spelling, lexicon_stats, suggest_correction


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


def test_a_slip_lets_its_neighbour_be_re_accented_by_a_known_word():
    # "hôi" is a word of its own, but beside the slip "quôc" the pair is "quốc hội"
    vocabulary = Spelling(
        best_forms={"quoc": ("quốc", 1000), "hoi": ("hội", 900)},
        form_freq={"quốc": 1000, "quôc": 1, "hội": 900, "hôi": 50},
        folded_df={"quoc": 500, "hoi": 400},
        words={"quoc_hoi": (("quốc_hội", 300),)},
        doc_count=1000,
    )
    assert suggest_correction(vocabulary, "quôc hôi") == "quốc hội"
    assert suggest_correction(vocabulary, "hôi") is None
