"""/export: every match, streamed, as CSV or JSON Lines; and the /search histogram."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

import api
from indexer.writer import delete_ids, index_paths
from search import export
from search.engine import Engine, SearchRequest


def all_pages(client, params: dict) -> list[dict]:
    """Every hit of /search walked page by page with per_page=2."""
    hits, page = [], 1
    while True:
        answer = client.simulate_get("/search", params={**params, "per_page": "2", "page": page})
        assert answer.status_code == 200
        hits += answer.json["hits"]
        if page * 2 >= answer.json["total"]:
            return hits
        page += 1


def jsonl(resp) -> list[dict]:
    return [json.loads(line) for line in resp.text.splitlines()]


def csv_rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))


# --------------------------------------------------------------------------- completeness
@pytest.mark.parametrize(
    "params",
    [
        {"q": "quận"},
        {"q": "đại hội", "category": "Chính trị"},
        {"from": "2020", "to": "2022"},
        {"q": "giáo dục OR thể thao"},
    ],
)
def test_export_equals_the_union_of_all_pages(client, params):
    pages = all_pages(client, params)
    resp = client.simulate_get("/export", params=params)
    assert resp.status_code == 200
    rows = jsonl(resp)
    assert len(rows) > 2  # larger than one page
    assert sorted(r["id"] for r in rows) == sorted(h["id"] for h in pages)
    assert resp.headers["x-total-count"] == str(len(rows))
    by_id = {h["id"]: h for h in pages}
    for row in rows:
        hit = by_id[row["id"]]
        for key in export.BASE_FIELDS:
            assert row[key] == hit[key]


def test_export_has_no_cap_and_follows_the_sort(client, engine):
    newest = jsonl(client.simulate_get("/export", params={"sort": "newest"}))
    assert len(newest) == engine.doc_count() > api.MAX_PER_PAGE // 4
    dates = [r["date"] for r in newest]
    assert dates == sorted(dates, reverse=True)
    oldest = jsonl(client.simulate_get("/export", params={"q": "quận", "sort": "oldest"}))
    by_date = engine.search(SearchRequest(q="quận", sort="oldest", per_page=100))
    assert [r["id"] for r in oldest] == [h["id"] for h in by_date["hits"]]
    assert "score" not in oldest[0]


def test_export_of_a_query_is_in_relevance_order_with_scores(client, engine):
    """Rule 8: with ``q`` and no ``sort`` the file is the search's ranking."""
    ranked = jsonl(client.simulate_get("/export", params={"q": "quận"}))
    by_score = engine.search(SearchRequest(q="quận", per_page=100))
    assert [r["id"] for r in ranked] == [h["id"] for h in by_score["hits"]]
    assert [r["score"] for r in ranked] == [h["score"] for h in by_score["hits"]]
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    header = csv_rows(client.simulate_get("/export", params={"q": "quận", "format": "csv"}))[0]
    assert header == list(export.BASE_FIELDS) + ["score"]


# --------------------------------------------------------------------------- CSV
def test_csv_round_trips_with_vietnamese_text_intact(client, engine):
    resp = client.simulate_get(
        "/export", params={"q": "đại hội", "format": "csv", "fields": "body,officials_positions"}
    )
    assert resp.status_code == 200
    assert resp.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert resp.headers["content-type"].startswith("text/csv")
    assert "filename=" in resp.headers["content-disposition"]
    assert resp.headers["content-disposition"].rstrip('"').endswith(".csv")
    assert b"\r\n" in resp.content
    rows = csv_rows(resp)
    header, body = rows[0], rows[1:]
    assert header == list(export.BASE_FIELDS) + ["score", "body", "officials_positions"]
    assert len(body) == engine.search(SearchRequest(q="đại hội"))["total"]
    multiline = 0
    for cells in body:
        record = dict(zip(header, cells, strict=True))
        article = engine.article(record["id"])
        assert record["title"] == article["title"]
        assert record["body"] == article["body"]
        multiline += "\n" in record["body"]
        assert record["category"] == (article["category"] or "")
        assert record["officials"] == "; ".join(o["name"] for o in article["officials"])
        for official in article["officials"]:
            assert official["name"] in record["officials_positions"]
            for position in official["positions"]:
                assert position in record["officials_positions"]
    assert multiline  # bodies with line breaks survived the quoting
    assert any("Đại hội" in cells[1] for cells in body)


def test_jsonl_is_one_object_per_line(client):
    resp = client.simulate_get("/export", params={"q": "quận", "fields": "officials_positions"})
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    assert resp.headers["content-disposition"].rstrip('"').endswith(".jsonl")
    assert resp.text.endswith("\n")
    for row in jsonl(resp):
        assert list(row) == list(export.BASE_FIELDS) + ["score", "officials_positions"]
        assert all(set(o) == {"name", "positions"} for o in row["officials_positions"])


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"format": "xlsx"}, "format"),
        ({"fields": "body,secret"}, "fields"),
        ({"from": "2020-13-01"}, "from"),
        ({"sort": "random"}, "sort"),
    ],
)
def test_bad_parameters_are_400(client, params, parameter):
    resp = client.simulate_get("/export", params=params)
    assert resp.status_code == 400
    assert resp.json["parameter"] == parameter


# --------------------------------------------------------------------------- streaming
def test_a_stream_keeps_its_snapshot_through_a_commit(scratch_index, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 4)
    # look for commits on every request; close a released snapshot at once
    eng = Engine(scratch_index, freshness_seconds=0.0, retired_grace_seconds=-1.0)
    expected = [h["id"] for h in eng.search(SearchRequest(sort="oldest", per_page=100))["hits"]]
    total, chunks = export.export_stream(eng, SearchRequest(), "jsonl")
    first = next(chunks)
    delete_ids(expected[-3:], scratch_index)  # a commit while the download runs
    assert eng.doc_count() == len(expected) - 3  # the engine moved on…
    rest = b"".join(chunks)  # …the stream still reads its own snapshot
    ids = [json.loads(line)["id"] for line in (first + rest).decode().splitlines()]
    assert total == len(ids) == len(expected)
    assert ids == expected
    assert not eng.snapshots.retired  # released and closed once the stream ended
    eng.close()


def test_export_stream_validates_before_streaming(engine):
    with pytest.raises(ValueError):
        export.export_stream(engine, SearchRequest(), "xml")
    with pytest.raises(ValueError):
        export.export_stream(engine, SearchRequest(), "csv", ["views"])


# --------------------------------------------------------------------------- histogram
@pytest.mark.parametrize("unit", ["year", "month"])
@pytest.mark.parametrize("q", ["", "quận", "đại hội"])
def test_histogram_counts_add_up_to_the_total(client, q, unit):
    answer = client.simulate_get("/search", params={"q": q, "histogram": unit}).json
    periods = [b["period"] for b in answer["histogram"]]
    assert periods == sorted(periods) and len(set(periods)) == len(periods)
    assert all(b["count"] > 0 for b in answer["histogram"])
    assert sum(b["count"] for b in answer["histogram"]) == answer["total"]
    width = 4 if unit == "year" else 7
    assert all(len(p) == width for p in periods)


def test_histogram_counts_only_dated_matches(scratch_index, tmp_path):
    undated = tmp_path / "undated.jsonl"
    rows = [
        {"id": f"undated-{i}", "title": f"Quận Hồng Phúc không ngày {i}", "body": "Tin quận."}
        for i in range(3)
    ]
    undated.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    index_paths([undated], scratch_index, jobs=1)  # a new segment without any date
    eng = Engine(scratch_index)
    for unit in ("year", "month"):
        answer = eng.search(SearchRequest(q="quận", histogram=unit))
        dated = eng.search(SearchRequest(q="quận", date_from=datetime(1, 1, 1)))["total"]
        assert answer["total"] == dated + 3 and dated > 0
        assert sum(b["count"] for b in answer["histogram"]) == dated
    eng.close()
