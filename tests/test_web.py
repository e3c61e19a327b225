"""The page's routes without a browser: the HTML shell, its static files, embed.js, CORS."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import falcon
import falcon.testing
import pytest

from api import create_app
from search.engine import Engine
from settings import Settings

WEB = Path(__file__).resolve().parents[1] / "web"
SLASH_ID = "portal/002_thanh_uy_kiem_tra_nhan_su"
PORTAL = "https://portal.hongphuc.example"


def _is_page(resp) -> bool:
    return (
        resp.headers["content-type"].startswith("text/html")
        and 'role="combobox"' in resp.text
        and 'src="/static/app.js"' in resp.text
    )


# --------------------------------------------------------------------------- the page
def test_root_serves_the_search_page(client):
    resp = client.simulate_get("/", params={"q": "thanh uy ha noi", "page": "2"})
    assert resp.status == falcon.HTTP_200
    assert _is_page(resp)
    assert '<html lang="vi">' in resp.text
    assert 'aria-controls="suggestions"' in resp.text and 'role="listbox"' in resp.text


@pytest.mark.parametrize("article_id", ["demo-001", SLASH_ID])
def test_article_view_serves_the_page(client, article_id):
    resp = client.simulate_get(f"/a/{article_id}")
    assert resp.status == falcon.HTTP_200
    assert _is_page(resp)


def test_unknown_article_view_is_404_but_still_the_page(client):
    resp = client.simulate_get("/a/no-such-article")
    assert resp.status == falcon.HTTP_404
    assert _is_page(resp)
    assert "Không tìm thấy tin bài" in resp.text  # readable without the script
    assert '<meta name="robots" content="noindex">' in resp.text


def test_article_view_is_rendered_on_the_server(client, engine):
    """Title, date, body, officials, related, OpenGraph and canonical in the HTML itself."""
    article = engine.article("demo-001")
    resp = client.simulate_get("/a/demo-001")
    html = resp.text
    assert f'<h1 class="article-title">{escape(article["title"])}</h1>' in html
    assert f"<title>{escape(article['title'])} – " in html
    first = next(p for p in article["body"].split("\n") if p.strip())
    assert f"<p>{escape(first.strip())}</p>" in html
    assert '<time datetime="' + article["date"][:10] + '">' in html
    for official in article["officials"]:
        assert f">{escape(official['name'])}</a>" in html
    assert 'id="related"' in html and html.count('class="related-list"') == 1
    assert '<meta property="og:type" content="article">' in html
    assert f'<meta property="og:title" content="{escape(article["title"])}">' in html
    assert '<link rel="canonical" href="http://falconframework.org/a/demo-001">' in html
    assert 'data-rendered="demo-001"' in html
    assert "<script>" not in html  # no inline script (the page's CSP)


def test_editor_page_is_served_with_its_script(client):
    resp = client.simulate_get("/editor")
    assert resp.status == falcon.HTTP_200
    assert '<script src="/static/editor.js" defer></script>' in resp.text
    assert 'id="draft-text"' in resp.text and "<script>" not in resp.text
    assert client.simulate_get("/static/editor.js").status == falcon.HTTP_200


def test_article_page_escapes_what_the_archive_holds():
    from web.article_page import render_article

    template = (WEB / "index.html").read_text(encoding="utf-8")
    evil = '<img src=x onerror="alert(1)">'
    article = {
        "id": "x/<1>",
        "title": f"Tiêu đề {evil}",
        "body": f"Đoạn một {evil}\n\nĐoạn hai",
        "date": "2024-06-20T08:30+07:00",
        "category": evil,
        "officials": [{"name": evil, "positions": [evil]}],
        "url": "javascript:alert(1)",
    }
    related = [{"id": "y", "title": evil, "date": None, "category": None}]
    html = render_article(template, article, related, "https://s.example/a/x/%3C1%3E")
    assert "<img" not in html and "javascript:" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<p>Đoạn hai</p>" in html and "20/06/2024" in html


def test_article_view_without_an_index_still_serves_the_page(tmp_path):
    client = falcon.testing.TestClient(create_app(Engine(tmp_path / "empty")))
    resp = client.simulate_get("/a/demo-001")
    assert resp.status == falcon.HTTP_200
    assert _is_page(resp)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript"), ("style.css", "text/css")],
)
def test_static_files(client, name, content_type):
    resp = client.simulate_get(f"/static/{name}")
    assert resp.status == falcon.HTTP_200
    assert resp.headers["content-type"].startswith(content_type)
    assert resp.content == (WEB / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/static/openapi.json",  # not a page asset
        "/static/index.html",
        "/static/missing.js",
        "/static/..%2Fapi.py",
        "/static/.hidden.js",
    ],
)
def test_static_serves_only_page_assets(client, path):
    resp = client.simulate_get(path)
    assert resp.status == falcon.HTTP_404
    assert "error" in resp.json


def test_static_files_revalidate_with_etag(client):
    first = client.simulate_get("/static/app.js")
    etag = first.headers["etag"]
    again = client.simulate_get("/static/app.js", headers={"If-None-Match": etag})
    assert again.status == falcon.HTTP_304
    assert again.content == b""
    other = client.simulate_get("/static/app.js", headers={"If-None-Match": '"stale"'})
    assert other.status == falcon.HTTP_200 and other.content == first.content


def test_page_references_only_served_assets(client):
    page = client.simulate_get("/").text
    for asset in ("/static/app.js", "/static/style.css"):
        assert asset in page
        assert client.simulate_get(asset).status == falcon.HTTP_200


# --------------------------------------------------------------------------- embed.js
def test_embed_js_is_javascript(client):
    resp = client.simulate_get("/embed.js")
    assert resp.status == falcon.HTTP_200
    assert resp.headers["content-type"].startswith("text/javascript")
    source = (WEB / "embed.js").read_text(encoding="utf-8")
    slot = re.compile(r"/\*SITE\*/.*?/\*END\*/")
    assert slot.sub("", resp.text) == slot.sub("", source)  # the file, with its settings
    assert "data-input" in resp.text and "/suggest?" in resp.text


# --------------------------------------------------------------------------- CORS
def test_no_cors_by_default(client):
    resp = client.simulate_get("/search", params={"q": "thanh uy"}, headers={"Origin": PORTAL})
    assert resp.status == falcon.HTTP_200
    assert "access-control-allow-origin" not in resp.headers


def test_cors_only_for_configured_origins(engine):
    client = falcon.testing.TestClient(create_app(engine, Settings(cors_origins=(PORTAL,))))
    allowed = client.simulate_get("/search", params={"q": "thanh uy"}, headers={"Origin": PORTAL})
    assert allowed.status == falcon.HTTP_200
    assert allowed.headers["access-control-allow-origin"] == PORTAL
    other = client.simulate_get(
        "/search", params={"q": "thanh uy"}, headers={"Origin": "https://elsewhere.example"}
    )
    assert other.status == falcon.HTTP_200
    assert "access-control-allow-origin" not in other.headers


def test_cors_preflight_for_a_configured_origin(engine):
    client = falcon.testing.TestClient(create_app(engine, Settings(cors_origins=(PORTAL,))))
    resp = client.simulate_options(
        "/search", headers={"Origin": PORTAL, "Access-Control-Request-Method": "GET"}
    )
    assert resp.headers["access-control-allow-origin"] == PORTAL
    assert "GET" in resp.headers["access-control-allow-methods"]
