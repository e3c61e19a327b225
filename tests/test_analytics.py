"""The owner's query log (search/analytics.py): counts per query and day, no visitor data;
``GET /search?log=true`` and ``POST /queries/click`` feed it, ``vnsearch queries`` reads it."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import falcon.testing
import pytest

import cli
from api import create_app
from search.analytics import QueryLog, normalise
from search.engine import Engine
from settings import Settings


@pytest.fixture
def logged(scratch_index, tmp_path):
    path = tmp_path / "queries.sqlite"
    engine = Engine(scratch_index)
    client = falcon.testing.TestClient(create_app(engine, Settings(analytics=str(path))))
    yield client, path, scratch_index
    engine.close()


def test_counts_searches_empty_results_and_clicks(logged):
    client, path, _ = logged
    for q in ("Thành ủy", "thành  ủy", "zzqxw khongco", "quận"):
        assert client.simulate_get("/search", params={"q": q, "log": "true"}).status_code == 200
    client.simulate_get("/search", params={"q": "quận", "page": "2", "log": "true"})  # paging
    client.simulate_get("/search", params={"q": "quận"})  # an API call: not the page's
    resp = client.simulate_post("/queries/click", json={"q": "quận"})
    assert resp.status_code == 204
    report = QueryLog(path).report()
    top = {e["query"]: e for e in report["top"]}
    assert top["thành ủy"] == {"query": "thành ủy", "searches": 2, "zero": 0, "clicks": 0}
    assert top["quận"] == {"query": "quận", "searches": 1, "zero": 0, "clicks": 1}
    assert [e["query"] for e in report["zero"]] == ["zzqxw khongco"]
    assert [e["query"] for e in report["no_click"]] == ["thành ủy"]
    assert report["top"][0]["query"] == "thành ủy"


def test_nothing_about_the_visitor_is_stored(logged):
    client, path, _ = logged
    client.simulate_get(
        "/search",
        params={"q": "quận", "log": "true"},
        headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "SecretAgent/1.0"},
        remote_addr="198.51.100.7",
    )
    raw = path.read_bytes() + b"".join(p.read_bytes() for p in path.parent.glob("*-wal"))
    for secret in (b"203.0.113.9", b"198.51.100.7", b"SecretAgent"):
        assert secret not in raw
    with sqlite3.connect(path) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(queries)")]
    assert columns == ["day", "query", "searches", "zero", "clicks"]


def test_bad_click_bodies_are_400(logged):
    client, _, _ = logged
    for body in (b"not json", b'{"x": 1}', b'["q"]', b"{" * 5000):
        resp = client.simulate_post("/queries/click", body=body)
        assert resp.status_code == 400 and resp.json["parameter"] == "q"


def test_the_log_can_be_off(scratch_index):
    engine = Engine(scratch_index)
    client = falcon.testing.TestClient(create_app(engine, Settings(analytics="off")))
    assert client.simulate_get("/search", params={"q": "quận", "log": "1"}).status_code == 200
    assert client.simulate_post("/queries/click", json={"q": "quận"}).status_code == 204
    assert not (scratch_index / "queries.sqlite").exists()
    engine.close()


def test_days_window_and_normalising(tmp_path):
    log = QueryLog(tmp_path / "q.sqlite")
    old = date.today() - timedelta(days=40)
    log.record_search("Bão số 3", 5, day=old)
    log.record_search("bão  SỐ 3", 0)
    assert normalise("  Bão\tSỐ 3 ") == "bão số 3"
    assert log.report(days=7)["top"] == [
        {"query": "bão số 3", "searches": 1, "zero": 1, "clicks": 0}
    ]
    assert log.report()["top"][0]["searches"] == 2
    # more days than the calendar holds: every day (--days 99999999999 raised OverflowError)
    for days in (10**6, 10**11, (date.today() - date.min).days + 1):
        assert log.report(days=days)["top"][0]["searches"] == 2
    assert log.report(days=(date.today() - date.min).days)["top"][0]["searches"] == 2


def test_vnsearch_queries_prints_the_three_lists(capsys, logged, monkeypatch):
    client, path, index = logged
    client.simulate_get("/search", params={"q": "zzqxw", "log": "true"})
    client.simulate_get("/search", params={"q": "quận", "log": "true"})
    # the CLI reads the log where the settings say (here: the file the app used)
    monkeypatch.setenv("VNSEARCH_ANALYTICS", str(path))
    assert cli.main(["queries", "--index", str(index), "--json", "--limit", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {e["query"] for e in report["top"]} == {"zzqxw", "quận"}
    assert [e["query"] for e in report["zero"]] == ["zzqxw"]
    assert cli.main(["queries", "--index", str(index)]) == 0
    text = capsys.readouterr().out
    assert "Queries with no results:" in text and "zzqxw" in text
