"""Cursor paging: each hit exactly once, tokens bound to their query, 400 on bad tokens."""

from __future__ import annotations

import base64
from dataclasses import replace

import falcon.testing
import pytest

import api
from indexer.writer import delete_ids
from search import cursor
from search.cursor import CursorError, Position
from search.engine import Engine, SearchRequest
from settings import Settings


def walk(engine: Engine, req: SearchRequest) -> list[str]:
    """Ids of every page, following ``next`` until it is null."""
    answer = engine.search(req)
    seen = [h["id"] for h in answer["hits"]]
    while answer["next"]:
        answer = engine.search(replace(req, after=cursor.decode(answer["next"], req)))
        seen += [h["id"] for h in answer["hits"]]
    return seen


CASES = [
    ("", "newest", ()),
    ("", "oldest", ()),
    ("quận", "relevance", ()),
    ("quận", "newest", ()),
    ("quận", "oldest", ()),
    ("hội nghị", "relevance", ()),
    ("đại hội", "oldest", ("Chính trị", "Sự kiện Đại hội Đảng")),
]


@pytest.mark.parametrize(("q", "sort", "categories"), CASES)
@pytest.mark.parametrize("per_page", [1, 2])
def test_walking_all_pages_returns_each_hit_once_in_order(engine, q, sort, categories, per_page):
    req = SearchRequest(q=q, sort=sort, categories=categories, per_page=per_page, facets=False)
    everything = engine.search(replace(req, per_page=100))
    assert everything["total"] > 2 * per_page  # several pages
    seen = walk(engine, req)
    assert len(seen) == len(set(seen)) == everything["total"]
    assert seen == [h["id"] for h in everything["hits"]]


def test_date_order_breaks_ties_by_document(engine):
    # every demo article is dated, some on the same day: the walk must still be exact
    req = SearchRequest(sort="oldest", per_page=2, facets=False)
    answer = engine.search(replace(req, per_page=100))
    dates = [h["date"] for h in answer["hits"]]
    assert dates == sorted(dates)
    assert walk(engine, req) == [h["id"] for h in answer["hits"]]


def test_last_page_has_no_next_and_page_numbers_follow(engine):
    req = SearchRequest(q="quận", sort="newest", per_page=4, facets=False)
    first = engine.search(req)
    assert first["next"] and first["page"] == 1
    second = engine.search(replace(req, after=cursor.decode(first["next"], req)))
    assert second["page"] == 2
    single = engine.search(replace(req, per_page=100))
    assert single["next"] is None


def test_the_per_page_may_change_during_a_walk(engine):
    req = SearchRequest(q="quận", sort="oldest", per_page=2, facets=False)
    first = engine.search(req)
    rest = engine.search(replace(req, per_page=50, after=cursor.decode(first["next"], req)))
    everything = engine.search(replace(req, per_page=100))
    assert [h["id"] for h in first["hits"] + rest["hits"]] == [h["id"] for h in everything["hits"]]


def test_date_cursor_resumes_after_a_deletion(scratch_index):
    req = SearchRequest(sort="newest", per_page=5, facets=False)
    before = Engine(scratch_index)
    first = before.search(req)
    everything = [h["id"] for h in before.search(replace(req, per_page=100))["hits"]]
    before.close()
    gone = everything[7]
    delete_ids([gone], scratch_index)
    after = Engine(scratch_index)  # a later commit: the token is still valid
    rest = walk_from(after, req, first["next"])
    after.close()
    assert [h["id"] for h in first["hits"]] + rest == [i for i in everything if i != gone]


def walk_from(engine: Engine, req: SearchRequest, token: str) -> list[str]:
    seen: list[str] = []
    while token:
        answer = engine.search(replace(req, after=cursor.decode(token, req)))
        seen += [h["id"] for h in answer["hits"]]
        token = answer["next"]
    return seen


# --------------------------------------------------------------------------- tokens
def test_token_round_trips_and_is_url_safe():
    req = SearchRequest(q="đại hội", sort="newest")
    pos = Position("newest", 1_060_000_000, 17)
    token = cursor.encode(req, pos)
    assert token.isascii() and all(c.isalnum() or c in "-_" for c in token)
    assert cursor.decode(token, req) == pos
    assert cursor.decode(token, replace(req, page=3, per_page=50, facets=False)) == pos


@pytest.mark.parametrize(
    "change",
    [
        {"q": "đại hội đảng"},
        {"sort": "oldest"},
        {"categories": ("Kinh tế",)},
        {"officials": ("Nguyễn Văn An",)},
    ],
)
def test_token_refuses_other_parameters(change):
    req = SearchRequest(q="đại hội", sort="newest")
    token = cursor.encode(req, Position("newest", 5, 3))
    with pytest.raises(CursorError, match="another query"):
        cursor.decode(token, replace(req, **change))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "!!!!",
        "A" * 200,
        base64.urlsafe_b64encode(b"\x02" + b"\x00" * 25).decode(),  # unknown version
        base64.urlsafe_b64encode(b"x" * 10).decode(),  # wrong length
    ],
)
def test_malformed_tokens_are_refused(token):
    with pytest.raises(CursorError):
        cursor.decode(token, SearchRequest())


# --------------------------------------------------------------------------- over HTTP
def test_http_walk_with_next_tokens(client, engine):
    params = {"q": "quận", "sort": "newest", "per_page": "3", "facets": "false"}
    seen, answer = [], client.simulate_get("/search", params=params).json
    seen += [h["id"] for h in answer["hits"]]
    while answer["next"]:
        answer = client.simulate_get("/search", params={**params, "cursor": answer["next"]}).json
        seen += [h["id"] for h in answer["hits"]]
    assert len(seen) == len(set(seen)) == answer["total"]


def test_http_bad_and_foreign_cursors_are_400_naming_cursor(client):
    token = client.simulate_get("/search", params={"q": "quận", "per_page": "2"}).json["next"]
    for params in (
        {"q": "quận", "cursor": "not-a-token"},
        {"q": "quận đại hội", "per_page": "2", "cursor": token},
        {"q": "quận", "sort": "oldest", "cursor": token},
    ):
        resp = client.simulate_get("/search", params=params)
        assert resp.status_code == 400
        assert resp.json["parameter"] == "cursor"


def test_cursor_goes_beyond_the_page_bound(engine):
    client = falcon.testing.TestClient(api.create_app(engine, Settings(max_page=4)))
    params = {"sort": "oldest", "per_page": "1"}
    assert client.simulate_get("/search", params={**params, "page": "5"}).status_code == 400
    seen, answer = [], client.simulate_get("/search", params=params).json
    seen += [h["id"] for h in answer["hits"]]
    while answer["next"]:
        answer = client.simulate_get("/search", params={**params, "cursor": answer["next"]}).json
        seen += [h["id"] for h in answer["hits"]]
    assert len(seen) == len(set(seen)) == answer["total"] > 4
    assert answer["page"] == answer["total"]
