"""What a hostile or merely odd client can send: never a 5xx, never a server path, always
the JSON error shape; expensive work refused at once when its slots are taken."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import falcon
import falcon.testing
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import api
from api import create_app
from search.dates import parse_bound
from settings import Settings

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = {"content_type": "application/json"}
DRAFT = (
    "Sở Y tế tỉnh An Hòa cảnh báo số ca sốt xuất huyết tiếp tục tăng. "
    "Giám đốc Sở Y tế Vũ Thị Mai yêu cầu các trung tâm y tế phun hóa chất diệt muỗi."
)


def _error_shape(result, status: int, parameter: str | None = None) -> None:
    assert result.status_code == status, (result.status_code, result.text[:300])
    assert result.headers["content-type"].startswith("application/json")
    assert result.json["error"]
    if parameter:
        assert result.json["parameter"] == parameter


# --------------------------------------------------------------------------- dates
EXTREME = [
    "0001-01-01T00:00+14:00",
    "0001-01-01T00:00:00+07:01",
    "9999-12-31T23:59-12:00",
    "9999-12-31T23:59:59.999999-00:01",
]


def test_a_bound_beyond_the_calendar_in_vietnam_time_means_no_bound(client):
    """0001-01-01T00:00+14:00 is before year 1 in Vietnam time: as ``from`` it keeps every
    article, as ``to`` none (it raised OverflowError, answered 503)."""
    everything = client.simulate_get("/search", params={"per_page": "1"}).json["total"]
    for early in EXTREME[:2]:
        assert parse_bound(early) == datetime.min
        assert client.simulate_get("/search", params={"from": early}).json["total"] == everything
        assert client.simulate_get("/search", params={"to": early}).json["total"] == 0
        draft = client.simulate_post("/related", json={"text": DRAFT, "to": early})
        assert draft.status_code == 200 and draft.json["hits"] == []
    for late in EXTREME[2:]:
        assert parse_bound(late, upper=True) == datetime.max
        assert client.simulate_get("/search", params={"to": late}).json["total"] == everything
        assert client.simulate_get("/search", params={"from": late}).json["total"] == 0
        related = client.simulate_get("/related", params={"id": "demo-021", "from": late})
        assert related.status_code == 200 and related.json["hits"] == []
        # the query language takes the same bounds
        in_query = client.simulate_get("/search", params={"q": f"đại hội date:..{late}"})
        assert in_query.status_code == 200, in_query.text[:300]


offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
any_datetime = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=offsets
)


@FUZZ
@given(moment=any_datetime, spec=st.sampled_from(["minutes", "seconds", "microseconds"]))
@example(moment=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), spec="minutes")
def test_any_date_with_any_offset_answers_200_or_400(client, moment, spec):
    value = moment.isoformat(timespec=spec)
    for name in ("from", "to"):
        result = client.simulate_get("/search", params={name: value, "per_page": "1"})
        assert result.status_code in (200, 400), (value, result.text[:200])
        if result.status_code == 400:
            assert result.json["parameter"] == name
        draft = client.simulate_post("/related", json={"text": "Đại hội", name: value})
        assert draft.status_code in (200, 400), (value, draft.text[:200])
    in_query = client.simulate_get("/search", params={"q": f"date:{value}..", "per_page": "1"})
    assert in_query.status_code in (200, 400), (value, in_query.text[:200])


def test_dates_are_rfc3339_with_seconds(client):
    hit = client.simulate_get("/search", params={"q": "đại hội"}).json["hits"][0]
    parsed = datetime.fromisoformat(hit["date"])
    assert parsed.utcoffset() == timedelta(hours=7)
    assert hit["date"] == parsed.isoformat(timespec="seconds")


# --------------------------------------------------------------------------- surrogates
surrogate_text = st.text(
    st.characters(codec=None, min_codepoint=0xD7F0, max_codepoint=0xE010) | st.characters(),
    min_size=1,
    max_size=12,
)
body_values = st.recursive(
    st.none() | st.integers() | surrogate_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(surrogate_text, inner, max_size=3),
    max_leaves=6,
)


@FUZZ
@given(
    doc=st.dictionaries(
        st.sampled_from(["text", "title", "category", "from", "to", "limit"]) | surrogate_text,
        body_values,
        max_size=5,
    )
)
@example(doc={"text": "\ud800"})
@example(doc={"text": "Đại hội", "title": "\udfff"})
@example(doc={"text": "Đại hội", "category": ["\udc80"]})
@example(doc={"text": "Đại hội", "from": "2020\ud800"})
@example(doc={"\ud800": "x", "text": "Đại hội"})
def test_surrogates_anywhere_in_a_draft_get_200_or_400(client, doc):
    body = json.dumps(doc)  # ASCII escapes: how a lone surrogate travels in JSON
    result = client.simulate_post("/related", body=body, **JSON)
    assert result.status_code in (200, 400), (doc, result.text[:300])
    result.text.encode("utf-8")  # the answer itself is clean UTF-8
    if result.status_code == 400:
        assert result.json["parameter"]


def test_a_surrogate_in_a_draft_is_a_400_naming_its_field(client):
    result = client.simulate_post("/related", body='{"text": "Đại hội \\ud800"}', **JSON)
    _error_shape(result, 400, "text")


# --------------------------------------------------------------------------- bodies
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_draft_needs_application_json(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    result = client.simulate_post("/related", body='{"text": "Đại hội"}', headers=headers)
    _error_shape(result, 415)


def test_a_draft_in_json_with_a_charset_is_read(client):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    result = client.simulate_post("/related", body=json.dumps({"text": DRAFT}), headers=headers)
    assert result.status_code == 200 and result.json["hits"]


def test_a_chunked_draft_is_read(demo_index, engine):
    """A WSGI request without Content-Length whose server decoded the chunks (gunicorn does)."""
    app = create_app(engine)
    body = json.dumps({"text": DRAFT}).encode()
    env = falcon.testing.create_environ(
        path="/related",
        method="POST",
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        body=body,
    )
    env.pop("CONTENT_LENGTH", None)
    status = []
    chunks = app(env, lambda s, h, exc=None: status.append(s))
    answer = json.loads(b"".join(chunks))
    assert status[0].startswith("200") and answer["hits"], answer


# --------------------------------------------------------------------------- admission
def _start(app, path: str, **kwargs):
    """Start a request and leave its body unread (a stream still being sent)."""
    status = []
    env = falcon.testing.create_environ(path=path, **kwargs)
    body = app(env, lambda s, h, exc=None: status.append((s, dict(h))))
    return status[0], body


def test_a_second_export_is_refused_at_once_while_searches_answer(engine):
    app = create_app(engine, Settings(heavy_slots=1))
    client = falcon.testing.TestClient(app)
    (status, _), first = _start(app, "/export", query_string="q=đại hội")
    assert status.startswith("200")
    busy = client.simulate_get("/export", params={"q": "quận"})
    _error_shape(busy, 429)
    assert int(busy.headers["retry-after"]) >= 1
    assert client.simulate_get("/search", params={"q": "đại hội"}).status_code == 200
    assert client.simulate_post("/related", json={"text": "Đại hội"}).status_code == 200
    first.close()  # the client went away: the slot is free again
    assert client.simulate_get("/export", params={"q": "quận"}).status_code == 200
    assert client.simulate_get("/export", params={"q": "quận"}).status_code == 200


def test_a_long_query_takes_a_slot_a_short_one_does_not(engine):
    app = create_app(engine, Settings(long_query_chars=20))
    client = falcon.testing.TestClient(app)
    search = app._router.find("/search")[0]
    search.long_slots.take()
    try:
        long = client.simulate_get("/search", params={"q": "đại hội đảng bộ quận hồng phúc"})
        _error_shape(long, 429)
        assert client.simulate_get("/search", params={"q": "đại hội"}).status_code == 200
    finally:
        search.long_slots.give_back()
    assert client.simulate_get("/search", params={"q": "đại hội đảng bộ quận"}).status_code == 200


# --------------------------------------------------------------------------- export modes
def test_export_off_public_or_with_a_key(engine):
    off = falcon.testing.TestClient(create_app(engine, Settings(export="off")))
    _error_shape(off.simulate_get("/export"), 403)
    keyed = falcon.testing.TestClient(create_app(engine, Settings(export="key", export_key="k1")))
    missing = keyed.simulate_get("/export")
    _error_shape(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    _error_shape(keyed.simulate_get("/export", headers={"Authorization": "Bearer k2"}), 401)
    _error_shape(keyed.simulate_get("/export", headers={"Authorization": "Basic k1"}), 401)
    ok = keyed.simulate_get("/export", headers={"Authorization": "Bearer k1"})
    assert ok.status_code == 200 and int(ok.headers["x-total-count"]) > 30


# --------------------------------------------------------------------------- headers
@pytest.mark.parametrize("path", ["/", "/search?q=x", "/articles/none", "/static/app.js"])
def test_browser_hardening_headers_on_every_answer(client, path):
    result = client.simulate_get(path.split("?")[0], query_string=path.partition("?")[2])
    csp = result.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert "unsafe-inline" not in csp
    assert result.headers["x-content-type-options"] == "nosniff"
    assert result.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_a_logo_from_another_site_is_allowed_by_the_csp(engine):
    settings = Settings(site_logo="https://portal.example/logo.png")
    client = falcon.testing.TestClient(create_app(engine, settings))
    csp = client.simulate_get("/").headers["content-security-policy"]
    assert "img-src 'self' data: https://portal.example;" in csp


def test_the_page_has_no_inline_script_or_style():
    page = (api.WEB_DIR / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert " onclick=" not in page.lower() and "javascript:" not in page


def test_cors_answers_vary_by_origin(engine):
    portal = "https://portal.example"
    client = falcon.testing.TestClient(create_app(engine, Settings(cors_origins=(portal,))))
    for origin in (portal, "https://elsewhere.example", None):
        headers = {"Origin": origin} if origin else {}
        result = client.simulate_get("/search", params={"q": "x"}, headers=headers)
        assert "Origin" in result.headers["vary"]


def test_a_missing_index_answers_503_without_naming_the_path(tmp_path):
    from search.engine import Engine

    root = tmp_path / "secret-place"
    client = falcon.testing.TestClient(create_app(Engine(root)))
    result = client.simulate_get("/search", params={"q": "x"})
    _error_shape(result, 503)
    assert "secret-place" not in result.text and str(tmp_path) not in result.text
    assert int(result.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "path",
    ["/health", "/", "/a/demo-001", "/static/app.js", "/embed.js", "/site.css", "/editor"]
    + ["/openapi.json", "/articles/demo-001", "/search", "/suggest", "/officials", "/stats"],
)
def test_head_answers_as_get_without_the_body(client, path):
    """Uptime monitors check a site with HEAD: every route answered 405."""
    head, get = client.simulate_head(path), client.simulate_get(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and get.content
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-security-policy"] == get.headers["content-security-policy"]


def test_head_of_a_streamed_export_is_refused(client):
    """An export's stream (and the slot it holds) would be dropped unread: 405."""
    assert client.simulate_head("/export", params={"q": "x"}).status_code == 405
    assert client.simulate_get("/export", params={"q": "x"}).status_code == 200


def test_an_index_of_no_articles_answers_as_empty(tmp_path, capsys):
    """An index whose runs committed no article (an empty folder; every record skipped;
    a first run that failed after creating the index) answered 503 on every route,
    /health included (Whoosh's reader of no segments named itself as a leaf without
    one); it answers as an archive of 0 articles."""
    from indexer.cli import main as indexer_main
    from search.engine import Engine

    (tmp_path / "archive").mkdir()
    bad = tmp_path / "archive" / "bad.jsonl"
    bad.write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    root = tmp_path / "idx"
    assert indexer_main(["index", str(tmp_path / "archive"), "--index", str(root)]) == 1
    capsys.readouterr()
    engine = Engine(root)
    try:
        client = falcon.testing.TestClient(create_app(engine))
        assert client.simulate_get("/health").json["documents"] == 0
        for path, params in [
            ("/search", {"q": "đại hội"}),
            ("/search", {"q": "dai hoi", "histogram": "year", "category": "Chính trị"}),
            ("/search", {}),
        ]:
            answer = client.simulate_get(path, params=params)
            assert answer.status_code == 200 and answer.json["total"] == 0
        assert client.simulate_get("/suggest", params={"q": "đại"}).json == {"suggestions": []}
        assert client.simulate_get("/stats").json["documents"] == 0
        assert client.simulate_get("/officials").json["total"] == 0
        export = client.simulate_get("/export", params={"q": "x", "format": "csv"})
        assert export.status_code == 200 and export.headers["x-total-count"] == "0"
        assert client.simulate_get("/articles/x").status_code == 404
        assert client.simulate_get("/related", params={"id": "x"}).status_code == 404
        draft = client.simulate_post("/related", json={"text": "Đại hội đảng bộ quận"})
        assert draft.status_code == 200 and draft.json["hits"] == []
    finally:
        engine.close()


def test_the_service_logs_through_gunicorns_error_log(engine, tmp_path):
    gunicorn_log = logging.getLogger("gunicorn.error")
    handler = logging.FileHandler(tmp_path / "error.log")
    gunicorn_log.addHandler(handler)
    saved = {n: logging.getLogger(n).handlers[:] for n in ("vnsearch", "search", "indexer")}
    try:
        api._log_through_gunicorn()
        logging.getLogger("vnsearch.api").error("a test line %s", datetime.now(UTC))
        handler.flush()
        assert "a test line" in (tmp_path / "error.log").read_text()
    finally:
        gunicorn_log.removeHandler(handler)
        for name, handlers in saved.items():
            logging.getLogger(name).handlers = handlers
            logging.getLogger(name).propagate = True
