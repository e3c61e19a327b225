"""Any request to any endpoint answers 200, 400 (naming the parameter) or 404, never an error.

``api._unexpected`` turns an unforeseen exception into 503, so a bug would hide behind a
polite status: these properties fail on any status outside the contract.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

ENDPOINTS = {
    "/search": (
        "q",
        "from",
        "to",
        "category",
        "official",
        "sort",
        "page",
        "per_page",
        "facets",
        "histogram",
        "cursor",
    ),
    "/export": ("q", "from", "to", "category", "official", "sort", "format", "fields"),
    "/suggest": ("q", "limit"),
    "/officials": ("q", "limit"),
    "/related": ("id", "from", "to", "category", "limit"),
}

# values near the edges of what each parameter accepts, and text of every kind
edge_values = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1",
        "100",
        "101",
        "99999999999999999999",
        "1e3",
        "true",
        "off",
        "newest",
        "oldest",
        "relevance",
        "year",
        "month",
        "csv",
        "jsonl",
        "2021-02-29",
        "2020-02-29",
        "2019-13-01",
        "0000-01-01",
        "9999-12-31T23:59:59",
        "2020-01-01T25:00",
        "2020-01-01T10:00:00+07:00",
        "hà nội",
        "thanh uy ha noi",
        '"đại hội',
        "-",
        "--x",
        "title:",
        "official:nguyen",
        "(((",
        "a" * 1001,
        "id,title,date",
        "bogus-field",
        "eyJhIjogMX0",
        "\x00\x1f",
        "e\u0301",
        "🙂",
        "demo-001",
        "portal/002_thanh_uy_kiem_tra_nhan_su",
    ]
)
values = st.one_of(edge_values, st.text(max_size=40), st.integers().map(str))
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat)
VALID = {  # mostly valid values, so that most requests reach the engine
    "q": st.sampled_from(["hà nội", "thanh uy ha noi", '"đại hội" -quận', "Hồng Phúc", ""])
    | st.text(max_size=30),
    "from": dates,
    "to": dates,
    "category": st.sampled_from(["Thời sự", "Xây dựng Đảng", "thoi su", "x"]),
    "official": st.sampled_from(["Trần Thị Bình", "tran thi binh", "Nguyễn"]),
    "sort": st.sampled_from(["relevance", "newest", "oldest"]),
    "page": st.integers(1, 5).map(str),
    "per_page": st.integers(1, 100).map(str),
    "facets": st.sampled_from(["true", "false", "1", "0"]),
    "histogram": st.sampled_from(["year", "month"]),
    "cursor": st.text(max_size=20),
    "format": st.sampled_from(["csv", "jsonl"]),
    "fields": st.sampled_from(["", "body", "views", "body,views"]),
    "limit": st.integers(1, 20).map(str),
    "id": st.sampled_from(["demo-001", "demo-017", "portal/002_thanh_uy_kiem_tra_nhan_su"]),
}


def params_for(path: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Up to four parameters of ``path``, each mostly valid, sometimes anything at all.

    Names repeat only where the API takes repeats (a repeated ``q`` is a 400, tested below).
    """
    pair = st.sampled_from(ENDPOINTS[path]).flatmap(
        lambda name: st.tuples(st.just(name), st.one_of(VALID[name], VALID[name], values))
    )
    repeatable = {"category", "official"}
    return st.lists(pair, max_size=4, unique_by=lambda kv: kv[0] if kv[0] not in repeatable else kv)


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _query_string(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs, quote_via=quote)


def _check(result, allowed: set[int]) -> None:
    event(f"status {result.status_code}")
    assert result.status_code in allowed, (result.status_code, result.text[:300])
    if result.status_code == 400:
        body = result.json
        assert body["error"] and body["parameter"], body
    if (result.headers.get("content-type") or "").startswith("application/json"):
        json.loads(result.text)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@FUZZ
@given(data=st.data())
def test_any_parameters_get_a_contract_status(client, path, data):
    pairs = data.draw(params_for(path), label="parameters")
    if path == "/related" and not any(k == "id" for k, _ in pairs):
        pairs.append(("id", "no-such-article"))
    result = client.simulate_get(path, query_string=_query_string(pairs))
    _check(result, {200, 400} | ({404} if path == "/related" else set()))
    if path == "/export" and result.status_code == 200:
        assert int(result.headers["x-total-count"]) >= 0


@FUZZ
@given(name=st.one_of(edge_values, st.text(min_size=1, max_size=60)))
def test_any_article_or_official_path_gets_200_400_or_404(client, name):
    encoded = quote(name, safe="/")
    if not encoded.strip("/"):
        return
    _check(client.simulate_get(f"/articles/{encoded}"), {200, 404})
    _check(client.simulate_get(f"/officials/{quote(name, safe='')}"), {200, 400, 404})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    doc=st.dictionaries(
        st.sampled_from(["text", "title", "limit", "from", "to", "category", "other"]),
        st.one_of(edge_values, json_values),
        max_size=6,
    )
)
@example(doc={"text": "Đại hội Đảng bộ quận", "limit": 50, "category": ["Thời sự"]})
def test_any_related_draft_gets_200_or_400(client, doc):
    result = client.simulate_post("/related", body=json.dumps(doc), content_type="application/json")
    _check(result, {200, 400})


@pytest.mark.parametrize("body", [b"\xff\xfe", b"[1, 2]", b"{", b"", b'"text"', b"null"])
def test_a_related_body_that_is_not_a_json_object_is_a_400_naming_the_body(client, body):
    result = client.simulate_post("/related", body=body, content_type="application/json")
    assert result.status_code == 400
    assert result.json["parameter"] == "body"


@pytest.mark.parametrize(
    "pairs, parameter",
    [
        ([("page", "1001"), ("per_page", "100")], "page"),
        ([("from", "2021-01-01"), ("to", "2020-01-01")], "from"),
        ([("q", "x"), ("q", "y")], "q"),
        ([("per_page", "101")], "per_page"),
        ([("to", "2021-02-29")], "to"),
    ],
)
def test_edge_parameters_are_a_400_naming_them(client, pairs, parameter):
    result = client.simulate_get("/search", query_string=_query_string(pairs))
    assert result.status_code == 400
    assert result.json["parameter"] == parameter
