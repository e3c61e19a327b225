"""Related articles (``search/related.py``, ``GET/POST /related``) on the demo archive."""

from __future__ import annotations

import json
from pathlib import Path

import falcon.testing
import pytest

from api import create_app
from indexer.writer import index_paths
from search.engine import Engine
from search.related import (
    Draft,
    RelatedFinder,
    RelatedRequest,
    distinctive_terms,
    near_duplicate,
    shingles,
)

DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "demo" / "articles.jsonl"


def demo_record(article_id: str) -> dict:
    for line in DEMO_ARTICLES.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == article_id:
            return record
    raise KeyError(article_id)


@pytest.fixture(scope="module")
def client(demo_index: Path) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Engine(demo_index)))


def related(client, **params) -> dict:
    resp = client.simulate_get("/related", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json


def ids(answer: dict) -> list[str]:
    return [h["id"] for h in answer["hits"]]


# --------------------------------------------------------------------------- GET
def test_articles_sharing_distinctive_terms_come_first(client):
    # demo-019 and demo-021: Sở Y tế An Hòa, its director Vũ Thị Mai
    assert ids(related(client, id="demo-019"))[0] == "demo-021"
    # demo-021 back to demo-019, the only other article naming Vũ Thị Mai
    assert ids(related(client, id="demo-021"))[0] == "demo-019"
    # the athletes: Trịnh Văn Nam's gold medal ↔ the sea swim, the run
    assert set(ids(related(client, id="demo-023", limit=2))) <= {
        "demo-025",
        "portal/010_giai_chay_vi_hoa_binh",
        "demo-024",
    }


def test_never_returns_the_article_itself(client):
    for article_id in ("demo-001", "demo-014", "demo-019", "portal/001_dai_hoi_diem_dong_hoa"):
        answer = related(client, id=article_id, limit=50)
        assert article_id not in ids(answer)
        assert len(ids(answer)) == len(set(ids(answer)))


def test_hits_have_the_search_hit_shape(client):
    search_hit = client.simulate_get("/search", params={"q": "y tế"}).json["hits"][0]
    answer = related(client, id="demo-019")
    assert answer["hits"]
    for hit in answer["hits"]:
        assert set(hit) == set(search_hit)
        assert "_" not in hit["snippet"].replace("&#x27;", "")
    assert "<mark>" in answer["hits"][0]["snippet"]


def test_limit_is_respected(client):
    assert len(related(client, id="demo-001", limit=1)["hits"]) == 1
    assert len(related(client, id="demo-001", limit=3)["hits"]) == 3
    assert len(related(client, id="demo-001")["hits"]) == 5


def test_id_with_a_slash(client):
    answer = related(client, id="portal/007_dai_hoi_dang_bo_quan")
    assert answer["hits"]
    assert "portal/007_dai_hoi_dang_bo_quan" not in ids(answer)


def test_category_filter(client):
    answer = related(client, id="demo-019", category="suc khoe", limit=50)
    assert answer["hits"]
    assert {h["category"] for h in answer["hits"]} == {"Sức khỏe"}
    unfiltered = related(client, id="demo-019", limit=50)
    assert len(unfiltered["hits"]) > len(answer["hits"])


def test_date_filter(client):
    answer = related(client, id="demo-019", **{"from": "2022-01-01", "to": "2023-12-31"}, limit=50)
    assert answer["hits"]
    assert all("2022-01-01" <= h["date"][:10] <= "2023-12-31" for h in answer["hits"])
    assert "demo-021" in ids(answer)  # 2022-12-01
    assert related(client, id="demo-019", **{"from": "2030-01-01"})["hits"] == []


def test_unknown_id_is_404_json(client):
    resp = client.simulate_get("/related", params={"id": "no-such-article"})
    assert resp.status_code == 404
    assert "no-such-article" in resp.json["error"]


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({}, "id"),
        ({"id": ""}, "id"),
        ({"id": "demo-001", "limit": "0"}, "limit"),
        ({"id": "demo-001", "limit": "51"}, "limit"),
        ({"id": "demo-001", "limit": "five"}, "limit"),
        ({"id": "demo-001", "from": "yesterday-ish"}, "from"),
        ({"id": "demo-001", "from": "2024-01-01", "to": "2020-01-01"}, "from"),
    ],
)
def test_bad_get_parameters_are_400_naming_them(client, params, parameter):
    resp = client.simulate_get("/related", params=params)
    assert resp.status_code == 400
    assert resp.json["parameter"] == parameter


# --------------------------------------------------------------------------- duplicates
@pytest.fixture
def with_duplicates(scratch_index: Path, tmp_path: Path) -> Path:
    """The demo index plus an exact repost and a near-identical repost of demo-019."""
    original = demo_record("demo-019")
    exact = dict(original, id="repost/demo-019", category="Xã hội")
    near = dict(
        original,
        id="repost/demo-019-edited",
        title=original["title"] + " (cập nhật)",
        body=original["body"].replace("Trước diễn biến", "Trước những diễn biến")
        + " Tin cập nhật lúc 18 giờ.",
    )
    source = tmp_path / "reposts.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (exact, near)), encoding="utf-8"
    )
    summary = index_paths([source], scratch_index, jobs=1)
    assert summary.indexed == 2
    return scratch_index


def test_duplicates_of_the_article_are_left_out(with_duplicates: Path):
    finder = RelatedFinder(Engine(with_duplicates))
    reposts = {"repost/demo-019", "repost/demo-019-edited"}
    answer = finder.for_article("demo-019", RelatedRequest(limit=50))
    assert not reposts & set(ids(answer))
    assert ids(answer)[0] == "demo-021"
    for repost in reposts:
        found = ids(finder.for_article(repost, RelatedRequest(limit=50)))
        assert not ({"demo-019"} | reposts) & set(found)
        assert found[0] == "demo-021"


def test_the_same_text_twice_is_one_hit(with_duplicates: Path):
    finder = RelatedFinder(Engine(with_duplicates))
    found = ids(finder.for_article("demo-021", RelatedRequest(limit=50)))
    # demo-019 and its exact repost share a content_hash: only one of them is listed
    assert len({"demo-019", "repost/demo-019"} & set(found)) == 1


def test_near_duplicate_detection():
    text = demo_record("demo-019")["body"]
    other = demo_record("demo-021")["body"]
    assert near_duplicate(shingles("A", text), shingles("A", text + " Thêm một câu."))
    assert not near_duplicate(shingles("A", text), shingles("A", other))
    assert not near_duplicate(shingles("A", text), shingles("A", text[: len(text) // 2]))


def test_distinctive_terms_skip_common_vocabulary(demo_index: Path):
    engine = Engine(demo_index)
    reader = engine.snapshot().searcher.reader()
    n = reader.doc_count()

    def doc_freq(kind: str, text: str) -> int:
        field = "body_words" if kind == "word" else "body"
        return reader.doc_frequency(field, text)

    record = demo_record("demo-019")
    terms = distinctive_terms(Draft(record["title"], record["body"]), doc_freq, n)
    assert terms
    texts = {t.text for t in terms}
    assert not {"của", "và", "các", "đã"} & texts
    assert all(doc_freq(t.kind, t.text) <= max(3, 0.05 * n) for t in terms)
    assert [t.weight for t in terms] == sorted((t.weight for t in terms), reverse=True)


# --------------------------------------------------------------------------- POST
def post(client, payload, **kwargs):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    kwargs.setdefault("content_type", "application/json")
    return client.simulate_post("/related", body=body, **kwargs)


def test_post_text_finds_related_articles(client):
    draft = (
        "Sở Y tế tỉnh An Hòa cảnh báo số ca sốt xuất huyết tiếp tục tăng. "
        "Giám đốc Sở Y tế Vũ Thị Mai yêu cầu các trung tâm y tế phun hóa chất diệt muỗi."
    )
    resp = post(client, {"text": draft, "limit": 3})
    assert resp.status_code == 200, resp.text
    found = [h["id"] for h in resp.json["hits"]]
    assert found[0] == "demo-021"
    assert len(found) <= 3


def test_post_with_title_and_filters(client):
    payload = {
        "title": "Bão số 3 quét qua quận Hồng Phúc",
        "text": "Nhiều cây xanh gãy đổ, nhà tốc mái sau khi bão đi qua quận Hồng Phúc.",
        "category": ["Xã hội"],
        "from": "2024-01-01",
    }
    resp = post(client, payload)
    assert resp.status_code == 200, resp.text
    hits = resp.json["hits"]
    assert hits and hits[0]["id"] == "demo-014"
    assert all(h["category"] == "Xã hội" and h["date"] >= "2024" for h in hits)


def test_post_of_an_archived_text_leaves_that_article_out(client):
    record = demo_record("demo-019")
    resp = post(client, {"title": record["title"], "text": record["body"], "limit": 50})
    assert resp.status_code == 200
    found = [h["id"] for h in resp.json["hits"]]
    assert "demo-019" not in found
    assert found[0] == "demo-021"


def test_post_over_100_kb_is_413(client):
    resp = post(client, {"text": "Hà Nội " * 20_000})
    assert resp.status_code == 413
    assert "error" in resp.json


@pytest.mark.parametrize(
    "payload, parameter",
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        (b"\xff\xfe", "body"),
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 42}, "text"),
        ({"text": "Hà Nội", "title": ["x"]}, "title"),
        ({"text": "Hà Nội", "limit": 0}, "limit"),
        ({"text": "Hà Nội", "limit": "5"}, "limit"),
        ({"text": "Hà Nội", "limit": 51}, "limit"),
        ({"text": "Hà Nội", "from": "not a date"}, "from"),
        ({"text": "Hà Nội", "category": 3}, "category"),
    ],
)
def test_bad_post_is_400_naming_the_parameter(client, payload, parameter):
    resp = post(client, payload)
    assert resp.status_code == 400
    assert resp.json["parameter"] == parameter


def test_post_text_without_distinctive_terms_is_empty_not_an_error(client):
    resp = post(client, {"text": "của và các"})
    assert resp.status_code == 200
    assert resp.json["hits"] == []


@pytest.mark.parametrize("text", ["hà nội thành ủy", "đại hội đảng bộ", "Đại hội Đảng bộ"])
def test_a_short_draft_of_words_common_in_a_small_archive_still_finds_related(client, text):
    """On a small archive every word of a short draft may be in more than 5% of the
    articles; its words held by at most half of them are used then, not none."""
    resp = post(client, {"text": text})
    assert resp.status_code == 200, resp.text
    assert resp.json["hits"], text
    first = client.simulate_get(f"/articles/{resp.json['hits'][0]['id']}").json
    words = text.lower().split()
    held = (first["title"] + " " + first["body"]).lower()
    assert " ".join(words[:2]) in held or " ".join(words[2:]) in held


@pytest.fixture
def chess_event(scratch_index: Path, tmp_path: Path) -> Path:
    """Two articles on one chess event (only the first names the opponent) and one on
    Kazakhstan's oil, added to the demo archive."""
    records = [
        {
            "id": "chess/round-3",
            "title": "Lê Quang Liêm hòa ván thứ ba tại Olympiad cờ vua Baku",
            "body": "Trong ván đấu thứ ba tại Olympiad cờ vua ở Baku, Lê Quang Liêm gặp đối "
            "thủ Kazhgalayev Murtas của Kazakhstan. Đội tuyển cờ vua Việt Nam giữ vị trí "
            "trong nhóm dẫn đầu Olympiad sau ba ván.",
        },
        {
            "id": "chess/team",
            "title": "Đội tuyển cờ vua Việt Nam lên đường dự Olympiad Baku",
            "body": "Lê Quang Liêm cùng đội tuyển cờ vua Việt Nam đã lên đường sang Baku dự "
            "Olympiad cờ vua. Ban huấn luyện kỳ vọng Lê Quang Liêm giành huy chương tại "
            "Olympiad năm nay.",
        },
        {
            "id": "oil/kazakhstan",
            "title": "Kazakhstan tăng sản lượng dầu mỏ",
            "body": "Kazakhstan cho biết sẽ tăng sản lượng dầu mỏ trong quý tới, đối thủ "
            "cạnh tranh của các nước xuất khẩu dầu trong khu vực.",
        },
    ]
    source = tmp_path / "chess.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    assert index_paths([source], scratch_index, jobs=1).indexed == 3
    return scratch_index


def test_a_one_sentence_draft_also_finds_its_event_through_its_best_hit(chess_event, monkeypatch):
    """The sentence names the opponent only; the other article on the event shares none
    of its rare words, and is found through the words of the sentence's best hit
    (pseudo-relevance feedback), ahead of an article that shares one name by chance."""
    from search import related as module

    draft = "Trong ván đấu thứ ba, kỳ thủ gặp đối thủ Kazhgalayev Murtas của Kazakhstan."
    finder = RelatedFinder(Engine(chess_event))
    found = ids(finder.for_text(draft, "", RelatedRequest(limit=3)))
    assert found[:2] == ["chess/round-3", "chess/team"]
    monkeypatch.setattr(module, "FEEDBACK_DOCS", 0)  # without feedback it is not found
    assert ids(finder.for_text(draft, "", RelatedRequest(limit=3)))[1] != "chess/team"
