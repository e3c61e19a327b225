"""Autocomplete (``search/suggest.py`` and ``GET /suggest``) over the demo archive."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.analysis import fold_diacritics
from search.engine import Engine
from search.suggest import (
    Suggester,
    _Entries,
    _Infix,
    as_typed,
    entry_key,
    shape_and_tone,
    typed_key,
)


def suggest(client, **params) -> list[dict]:
    resp = client.simulate_get("/suggest", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json["suggestions"]


def folded(text: str) -> str:
    return fold_diacritics(text.lower())


# --------------------------------------------------------------------------- completions
def test_unaccented_prefix_completes_to_accented_phrase(client):
    found = suggest(client, q="thanh u")
    assert found, "no suggestion for 'thanh u'"
    assert found[0] == {"text": "thành ủy", "kind": "phrase"}
    assert all(" thanh uy" in " " + folded(s["text"]) for s in found)
    starting = [folded(s["text"]).startswith("thanh uy") for s in found]
    assert starting == sorted(starting, reverse=True), "matches from the start come first"
    texts = [s["text"] for s in found]
    assert (
        "Thành ủy Hà Nội kiểm tra công tác chuẩn bị đại hội đảng bộ nhiệm kỳ 2025 - 2030" in texts
    )


def test_accented_prefix_gives_the_same_completions(client):
    assert suggest(client, q="Thành ủ") == suggest(client, q="thanh u")


def test_last_word_is_a_prefix_and_earlier_words_are_whole(client):
    assert any(s["text"].startswith("đại hội đảng bộ") for s in suggest(client, q="dai hoi d"))
    # "ha" is a whole syllable: "hà nội" matches "ha n", but "hai" does not match "ha n"
    found = suggest(client, q="ha n")
    assert found and all(" ha n" in " " + folded(s["text"]) for s in found)
    assert suggest(client, q="thanh uyx") == []


def test_officials_come_with_their_kind(client):
    found = suggest(client, q="nguyen van")
    assert {"text": "Nguyễn Văn An", "kind": "official"} in found
    assert {"text": "Hoàng Quốc Dũng", "kind": "official"} in suggest(client, q="hoàng qu")


def test_titles_come_with_their_kind(client):
    found = suggest(client, q="quan uy hong")
    assert {
        "text": "Quận ủy Hồng Phúc sơ kết công tác quý I năm 2019",
        "kind": "title",
        "id": "demo-001",
    } in found


@pytest.mark.parametrize(
    "typed, title",
    [
        ("bóng đá", "Khai mạc giải bóng đá thiếu niên quận Hồng Phúc"),
        ("bong da", "Khai mạc giải bóng đá thiếu niên quận Hồng Phúc"),
        ("ngap", "Nhiều tuyến đường ngập sâu sau trận mưa lớn đầu mùa"),
        ("tiêm", "Trung tâm Y tế quận tiêm vắc xin xuyên đêm"),
        ("vac xin xuy", "Trung tâm Y tế quận tiêm vắc xin xuyên đêm"),
    ],
)
def test_any_word_of_a_title_completes_to_the_title(client, typed, title):
    """Infix: typed syllables in a row anywhere in a title, with or without diacritics."""
    found = [s for s in suggest(client, q=typed) if s["kind"] == "title"]
    assert title in [s["text"] for s in found]
    assert all(s["id"] for s in found)


def test_infix_keeps_syllable_boundaries_and_order(client):
    # "da bong" is not "bóng đá"; "ong da" does not start a syllable
    for typed in ("da bong", "ong da"):
        assert not any("bóng đá" in s["text"] for s in suggest(client, q=typed))


def test_infix_ranks_the_typed_diacritics_first_then_by_weight():
    keys = ["bỏng da tay", "giải bóng đá mini", "đá bóng", "bóng đá nữ"]
    infix = _Infix(keys, [30.0, 10.0, 50.0, 5.0])
    assert infix.find("bóng đá", "bong da", True, 5) == [1, 3, 0]
    assert infix.find("bong da", "bong da", False, 5) == [0, 1, 3]
    assert infix.find("bong da", "bong da", False, 2) == [0, 1]
    assert infix.find("b", "b", False, 5) == [2, 0, 1, 3]  # a lone prefix: any syllable
    assert infix.find("da ", "da ", False, 5) == [2, 0, 1, 3]
    assert infix.find("bong dax", "bong dax", False, 5) == []


def test_officials_match_from_any_part_of_the_name(client):
    assert {"text": "Hoàng Quốc Dũng", "kind": "official"} in suggest(client, q="dung")


def test_words_of_bodies_complete_what_no_title_holds(client):
    assert {"text": "khai giảng", "kind": "phrase"} in suggest(client, q="khai giang")


def test_no_duplicates_by_folded_text(client):
    found = suggest(client, q="t", limit=20)
    keys = [folded(s["text"]) for s in found]
    assert len(keys) == len(set(keys))


def test_limit_is_respected(client):
    many = suggest(client, q="t", limit=20)
    assert len(many) > 3
    assert len(suggest(client, q="t", limit=3)) == 3
    assert len(suggest(client, q="t")) <= 8


def test_empty_or_wordless_query_gives_no_suggestions(client):
    assert suggest(client, q="") == []
    assert suggest(client) == []
    assert suggest(client, q="  ?! ") == []


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"q": "thanh", "limit": "0"}, "limit"),
        ({"q": "thanh", "limit": "21"}, "limit"),
        ({"q": "thanh", "limit": "abc"}, "limit"),
        ({"q": "a" * 201}, "q"),
        ({"q": ["thanh", "uy"]}, "q"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(client, params, parameter):
    resp = client.simulate_get("/suggest", params=params)
    assert resp.status_code == 400
    assert resp.json["parameter"] == parameter
    assert resp.json["error"]


def test_diacritic_matches_rank_first_when_typed():
    terms, perm = _Entries.build(["dương lịch", "đường sắt", "đường phố"], [100.0, 5.0, 3.0])
    texts = [["dương lịch", "đường sắt", "đường phố"][i] for i in perm]
    kinds = np.zeros(3, dtype=np.int8)
    titles, _ = _Entries.build([], [])
    sugg = Suggester(terms, texts, kinds, titles, np.zeros(0, dtype=np.int64), lambda d: ("", ""))
    assert [s["text"] for s in sugg.suggest("đường")] == ["đường sắt", "đường phố", "dương lịch"]
    assert [s["text"] for s in sugg.suggest("duong")] == ["dương lịch", "đường sắt", "đường phố"]


def test_a_syllable_still_being_typed_keeps_its_marks_and_its_tone():
    assert shape_and_tone("hoàng") == ("hoang", 1)
    assert shape_and_tone("nguyễn") == ("nguyên", 3)
    assert shape_and_tone("đại") == ("đai", 5)
    word = str.split
    assert as_typed(word("bão"), False, word("bão số 3"))
    assert not as_typed(word("bão"), False, word("báo cáo"))
    assert as_typed(word("bã"), False, word("bão số 3"))  # the o comes after the tone
    assert as_typed(word("đa"), False, word("đại hội"))  # no tone typed yet: any tone
    assert not as_typed(word("đa"), False, word("dân số"))  # đ typed: not d
    assert as_typed(word("hòa"), False, word("hoàng quốc dũng"))  # the tone moves on
    assert not as_typed(word("hòa"), True, word("hoàng quốc dũng"))  # hòa finished
    assert as_typed(word("nguyê"), False, word("nguyễn văn an"))
    assert not as_typed(word("nguyế"), False, word("nguyễn văn an"))
    assert as_typed(word("dai hộ"), False, word("đại hội"))  # dai: any form
    assert not as_typed(word("bão s"), False, word("báo sóng"))
    assert as_typed(word("ủy"), False, word("thành ủy hà nội"), 1)


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("bão", "Quận Hồng Phúc khẩn trương khắc phục hậu quả bão số 3"),  # not báo cáo
        ("bã", "Quận Hồng Phúc khẩn trương khắc phục hậu quả bão số 3"),
        ("đa", "đại hội"),  # no tone typed yet
        ("hoà", "Hoàng Quốc Dũng"),  # typed hoaf (Telex) on the way to Hoàng
        ("nguyê", "Nguyễn Văn An"),
    ],
)
def test_what_matches_as_typed_comes_before_what_matches_only_unaccented(client, typed, wanted):
    found = suggest(client, q=typed)
    texts = [s["text"] for s in found]
    assert wanted in texts, texts
    key, complete = typed_key(typed)
    tiers = [_tier(key, complete, s["text"], s["kind"]) for s in found]
    assert tiers[0] == 0 and tiers[texts.index(wanted)] < 2, found


def test_suggestions_come_spelled_as_typed_then_as_typed_then_the_rest(client, demo_documents):
    """For every accented prefix of the demo's titles' first three syllables, as a
    visitor types them letter by letter: suggestions spelled as typed come first, then
    those matching as typed by rule 1 (a tone still to come, or placed elsewhere), then
    those matching only without diacritics; and the first matches as typed whenever
    the archive's own title does."""
    prefixes = set()
    for doc in demo_documents:
        if doc.get("title_derived"):  # a body's first sentence is not suggested
            continue
        words = (doc.get("title") or "").split()[:3]
        text = " ".join(words)
        prefixes.update(text[:n] for n in range(1, len(text) + 1))
    checked = 0
    for typed in sorted(prefixes):
        key, complete = typed_key(typed)
        if not key or fold_diacritics(key) == key:
            continue
        found = suggest(client, q=typed, limit=20)
        tiers = [_tier(key, complete, s["text"], s["kind"]) for s in found]
        assert tiers == sorted(tiers), (typed, found)
        assert tiers and tiers[0] < 2, (typed, found)
        checked += 1
    assert checked > 100


def _tier(key: str, complete: bool, text: str, kind: str) -> int:
    """0 when ``text`` holds the typed syllables spelled as typed, 1 when it holds them
    as typed by rule 1, else 2: from its start (a phrase), or from any of its syllables
    (an official's name or a title)."""
    typed = key.split()
    syllables = entry_key(text).split()
    folded_typed = fold_diacritics(key).split()
    best = 2
    for start in range(len(syllables) if kind != "phrase" else 1):
        window = syllables[start : start + len(typed)]
        if len(window) < len(typed):
            continue
        folded_window = [fold_diacritics(s) for s in window]
        last = folded_window[-1]
        if folded_window[:-1] != folded_typed[:-1] or not (
            last == folded_typed[-1] if complete else last.startswith(folded_typed[-1])
        ):
            continue
        spelled = window[:-1] == typed[:-1] and (
            window[-1] == typed[-1] if complete else window[-1].startswith(typed[-1])
        )
        if spelled:
            return 0
        if as_typed(typed, complete, syllables, start):
            best = 1
    return best


def test_typed_key_marks_a_finished_last_word():
    assert typed_key("Thành ủ") == ("thành ủ", False)
    assert typed_key("thanh ") == ("thanh ", True)
    assert typed_key("") == ("", False)


def test_suggestions_follow_a_commit(scratch_index: Path, tmp_path: Path):
    from indexer.writer import index_paths

    eng = Engine(scratch_index)
    try:
        assert eng.snapshot().suggester().suggest("khanh thanh cau") == []
        record = {
            "id": "new-1",
            "title": "Khánh thành cầu Long Biên mới",
            "body": "Sáng nay, cầu mới được khánh thành và thông xe.",
            "date": "2024-05-01",
        }
        source = tmp_path / "new.jsonl"
        source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        index_paths([source], scratch_index, jobs=1)
        deadline = time.monotonic() + 5
        found: list[dict] = []
        while time.monotonic() < deadline and not found:
            time.sleep(0.25)
            found = eng.snapshot().suggester().suggest("khanh thanh cau")
        assert {"text": "Khánh thành cầu Long Biên mới", "kind": "title", "id": "new-1"} in found
    finally:
        eng.close()


def test_deleted_articles_are_not_suggested(scratch_index: Path):
    from indexer.writer import delete_ids

    text = "Quận ủy Hồng Phúc sơ kết công tác quý I năm 2019"
    title = {"text": text, "kind": "title", "id": "demo-001"}
    eng = Engine(scratch_index)
    try:
        assert title in eng.snapshot().suggester().suggest("quan uy hong phuc so")
        assert delete_ids(["demo-001"], scratch_index) == ["demo-001"]
        deadline = time.monotonic() + 5
        found = [title]
        while time.monotonic() < deadline and title in found:
            time.sleep(0.25)
            found = eng.snapshot().suggester().suggest("quan uy hong phuc so")
        assert title not in found
    finally:
        eng.close()
