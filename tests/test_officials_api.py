"""GET /officials and /officials/{name} over the demo archive (search/officials.py)."""

from __future__ import annotations

import json
from urllib.parse import quote

import falcon.testing
import pytest

from api import create_app
from indexer.analysis import fold_diacritics
from search.engine import Engine


def get(client, path: str, **params) -> dict:
    resp = client.simulate_get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json


def listing(client, **params) -> list[dict]:
    return get(client, "/officials", **params)["officials"]


def folded(text: str) -> str:
    return fold_diacritics(text).lower()


def search_hits(client, official: str) -> list[dict]:
    answer = get(client, "/search", official=official, sort="newest", per_page=100)
    assert answer["total"] == len(answer["hits"])
    return answer["hits"]


@pytest.fixture(scope="module")
def everyone(client) -> list[dict]:
    answer = get(client, "/officials", limit=100)
    assert answer["total"] == len(answer["officials"]) >= 5
    return answer["officials"]


# --------------------------------------------------------------------------- listing
def test_most_frequent_first_with_counts_of_the_official_filter(client, everyone):
    counts = [o["articles"] for o in everyone]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    for official in everyone:
        assert official["articles"] == len(search_hits(client, official["name"])), official


def test_entries_carry_positions_and_date_range(client, everyone):
    top = everyone[0]
    assert set(top) == {"name", "articles", "positions", "first_date", "last_date"}
    assert top["positions"] and len(top["positions"]) <= 5
    assert all(isinstance(p, str) and p for p in top["positions"])
    dates = sorted(h["date"] for h in search_hits(client, top["name"]) if h["date"])
    assert (top["first_date"], top["last_date"]) == (dates[0], dates[-1])
    assert any(o["positions"] for o in everyone[1:])


def test_position_most_often_written_comes_first(client):
    (nva,) = listing(client, q="Nguyễn Văn An")
    assert nva["positions"][0] == "Phó Bí thư Thường trực Quận ủy"


def test_prefix_with_and_without_diacritics_and_case(client):
    accented = listing(client, q="Nguyễn V")
    assert [o["name"] for o in accented] == ["Nguyễn Văn An"]
    assert listing(client, q="nguyen v") == accented
    assert listing(client, q="NGUYEN VAN") == accented
    assert listing(client, q="nguyễn văn an") == accented
    assert listing(client, q="nguyen x") == []
    assert listing(client, q="nguyen van an ") == accented  # a trailing space: whole syllable
    assert listing(client, q="nguyen van a ") == []


def test_later_name_parts_match_after_whole_name_prefixes(client, everyone):
    answer = get(client, "/officials", q="t", limit=100)
    names = [o["name"] for o in answer["officials"]]
    assert answer["total"] == len(names)
    full = [n for n in names if folded(n).startswith("t")]
    later = [n for n in names if not folded(n).startswith("t")]
    assert full and later and names == full + later
    assert all(any(w.startswith("t") for w in folded(n).split()[1:]) for n in later)
    expected = {
        o["name"] for o in everyone if any(w.startswith("t") for w in folded(o["name"]).split())
    }
    assert set(names) == expected
    for group in (full, later):
        counts = [next(o["articles"] for o in everyone if o["name"] == n) for n in group]
        assert counts == sorted(counts, reverse=True)
    assert [o["name"] for o in listing(client, q="van an")] == ["Nguyễn Văn An"]


def test_limit_is_respected_and_total_counts_all_matches(client, everyone):
    answer = get(client, "/officials", limit=2)
    assert len(answer["officials"]) == 2 and answer["total"] == len(everyone)
    assert answer["officials"] == everyone[:2]


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_listing_parameters(client, params, parameter):
    resp = client.simulate_get("/officials", params=params)
    assert resp.status_code == 400
    assert resp.json["parameter"] == parameter and resp.json["error"]


# --------------------------------------------------------------------------- one official
def test_official_detail(client, everyone):
    top = everyone[0]
    detail = get(client, f"/officials/{quote(top['name'])}")
    assert {k: detail[k] for k in top} == top
    hits = search_hits(client, top["name"])
    dated = [h for h in hits if h["date"]]
    assert sum(y["count"] for y in detail["per_year"]) == len(dated)
    years = [y["year"] for y in detail["per_year"]]
    assert years == sorted(years) and len(years) > 1
    for row in detail["per_year"]:
        assert row["count"] == sum(h["date"].startswith(str(row["year"])) for h in dated)
    latest = detail["latest"]
    assert [h["id"] for h in latest] == [h["id"] for h in hits[:10]]
    dates = [h["date"] for h in latest]
    assert dates == sorted(dates, reverse=True)
    assert set(latest[0]) == set(hits[0])
    assert all(top["name"] in h["officials"] for h in latest)


def test_official_found_without_diacritics_and_latest_limit(client, everyone):
    top = everyone[0]
    detail = get(client, f"/officials/{quote(folded(top['name']).upper())}", limit=2)
    assert detail["name"] == top["name"] and detail["articles"] == top["articles"]
    assert len(detail["latest"]) == 2


def test_unknown_official_is_404(client):
    resp = client.simulate_get(f"/officials/{quote('Không Có Ai')}")
    assert resp.status_code == 404 and resp.json["error"]


@pytest.mark.parametrize("limit", ["0", "51", "x"])
def test_bad_detail_limit(client, everyone, limit):
    resp = client.simulate_get(f"/officials/{quote(everyone[0]['name'])}", params={"limit": limit})
    assert resp.status_code == 400 and resp.json["parameter"] == "limit"


def test_too_long_name_is_400(client):
    resp = client.simulate_get(f"/officials/{'a' * 201}")
    assert resp.status_code == 400 and resp.json["parameter"] == "name"


def test_answers_match_the_openapi_schemas(client, everyone):
    schemas = json.loads(client.simulate_get("/openapi.json").text)["components"]["schemas"]
    assert set(everyone[0]) == set(schemas["Official"]["required"])
    detail = get(client, f"/officials/{quote(everyone[0]['name'])}")
    assert set(detail) == set(schemas["OfficialDetail"]["required"])


# --------------------------------------------------------------------------- merging
def test_tone_mark_variants_are_one_official(scratch_index, tmp_path):
    from indexer.writer import index_paths

    records = [
        {
            "id": "hoa-1",
            "title": "Tiếp đoàn công tác",
            "body": "Chiều 5/3, bà Lê Thị Hoà, Chủ tịch UBND tỉnh Hồng Phúc, đã tiếp đoàn công tác.",
            "date": "2024-03-05",
        },
        {
            "id": "hoa-2",
            "title": "Họp giao ban",
            "body": "Sáng 9/4, Chủ tịch UBND tỉnh Lê Thị Hòa chủ trì cuộc họp giao ban.",
            "date": "2024-04-09",
        },
    ]
    source = tmp_path / "hoa.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    index_paths([source], scratch_index, jobs=1)
    engine = Engine(scratch_index)
    try:
        variants = [n for n in engine.snapshot().table.official_names if folded(n) == "le thi hoa"]
        assert variants, "the extractor found neither spelling"
        client = falcon.testing.TestClient(create_app(engine))
        found = listing(client, q="le thi ho")
        assert len(found) == 1 and found[0]["name"] in variants
        assert found[0]["articles"] == 2
        assert found[0]["positions"][0].startswith("Chủ tịch UBND tỉnh")
        # both tone placements name the one official, however the index spells it
        for spelling in {*variants, "Lê Thị Hoà", "Lê Thị Hòa"}:
            detail = get(client, f"/officials/{quote(spelling)}")
            assert detail["name"] == found[0]["name"]
            assert [h["id"] for h in detail["latest"]] == ["hoa-2", "hoa-1"]
            assert detail["per_year"] == [{"year": 2024, "count": 2}]
    finally:
        engine.close()
