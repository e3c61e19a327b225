"""The article view ``/a/{id}`` rendered on the server: plain HTML that reads, links and
previews without JavaScript (``app.js`` only enhances it).

``render_article(template, article, related, canonical)`` fills the search page's own
``index.html`` (so both share one header, footer and stylesheet): the ``<title>``, a
description, OpenGraph tags (https://ogp.me: ``og:title``, ``og:description``,
``og:type=article``, ``og:url``, ``og:site_name``, ``article:published_time``) and a
canonical link in ``<head>``, and the article (title, date, category, body paragraphs,
officials, related articles) in ``<article id="article-view">``. Every value from the
archive is HTML-escaped; nothing is inserted as markup.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote, urlencode

DESCRIPTION_CHARS = 200
SITE_NAME = "Kho tư liệu tin bài"
_ARTICLE_VIEW = re.compile(r'<article id="article-view" class="article-view" hidden>\s*</article>')


def article_path(article_id: str) -> str:
    """``/a/<id>``, each ``/``-separated part of the id percent-encoded (as app.js does)."""
    return "/a/" + "/".join(quote(part, safe="") for part in article_id.split("/"))


def day_month_year(iso: str | None) -> str:
    """``2024-06-20T08:30+07:00`` → ``20/06/2024`` (how the page writes dates)."""
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    return f"{m[3]}/{m[2]}/{m[1]}" if m else ""


def description(body: str, limit: int = DESCRIPTION_CHARS) -> str:
    """The body's first words, at most ``limit`` characters, cut at a word, with "…"."""
    text = " ".join(body.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-–") + "…"


def _search_link(**params: str) -> str:
    return "/?" + urlencode(params)


def _attr(value: str) -> str:
    return escape(value, quote=True)


def head_tags(article: dict, canonical: str, site_name: str = SITE_NAME) -> str:
    """The ``<head>`` additions: description, OpenGraph and the canonical link."""
    title = article.get("title") or article["id"]
    desc = description(article.get("body") or "")
    tags = [
        f'<meta name="description" content="{_attr(desc)}">',
        f'<link rel="canonical" href="{_attr(canonical)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_attr(title)}">',
        f'<meta property="og:description" content="{_attr(desc)}">',
        f'<meta property="og:url" content="{_attr(canonical)}">',
        f'<meta property="og:site_name" content="{_attr(site_name)}">',
        '<meta property="og:locale" content="vi_VN">',
    ]
    if article.get("date"):
        tags.append(f'<meta property="article:published_time" content="{_attr(article["date"])}">')
    if article.get("category"):
        tags.append(f'<meta property="article:section" content="{_attr(article["category"])}">')
    return "\n  ".join(tags)


def article_html(article: dict, related: list[dict]) -> str:
    """The article view's inner HTML (the same classes app.js draws)."""
    title = escape(article.get("title") or article["id"])
    meta = []
    if article.get("date"):
        day = escape(article["date"][:10])
        meta.append(f'<time datetime="{day}">{escape(day_month_year(article["date"]))}</time>')
    if article.get("category"):
        href = _attr(_search_link(category=article["category"]))
        meta.append(
            f'<a class="tag" href="{href}" data-nav="top">{escape(article["category"])}</a>'
        )
    if article.get("views") is not None:
        views = f"{int(article['views']):,}".replace(",", ".")
        meta.append(f'<span class="views">{views} lượt xem</span>')
    if article.get("source"):
        meta.append(f'<span class="source">{escape(article["source"])}</span>')
    sep = '<span class="sep" aria-hidden="true">•</span>'
    paragraphs = "\n".join(
        f"<p>{escape(p.strip())}</p>" for p in (article.get("body") or "").split("\n") if p.strip()
    )
    source_link = ""
    url = article.get("url") or ""
    if re.match(r"https?://", url):
        source_link = (
            f'<p class="article-source"><a href="{_attr(url)}" rel="noopener noreferrer" '
            'target="_blank">Xem bài gốc ↗</a></p>'
        )
    side = []
    officials = article.get("officials") or []
    if officials:
        items = []
        for o in officials:
            name = o["name"] if isinstance(o, dict) else str(o)
            positions = "; ".join(o.get("positions") or []) if isinstance(o, dict) else ""
            pos = f'<span class="positions">{escape(positions)}</span>' if positions else ""
            href = _attr(_search_link(official=name))
            items.append(
                f'<li><a class="official-link" href="{href}" data-nav="top">{escape(name)}</a>{pos}</li>'
            )
        side.append(
            '<section class="side-box" aria-labelledby="officials-title">'
            '<h2 id="officials-title">Nhân vật trong bài</h2>'
            f'<ul class="officials">{"".join(items)}</ul></section>'
        )
    hits = [h for h in related if h.get("id") != article["id"]]
    if hits:
        items = []
        for h in hits:
            info = " · ".join(x for x in (day_month_year(h.get("date")), h.get("category")) if x)
            items.append(
                f'<li><a href="{_attr(article_path(h["id"]))}">{escape(h.get("title") or h["id"])}'
                f'</a><span class="related-meta">{escape(info)}</span></li>'
            )
        side.append(
            '<section class="side-box" id="related" aria-labelledby="related-title">'
            '<h2 id="related-title">Tin bài liên quan</h2>'
            f'<ul class="related-list">{"".join(items)}</ul></section>'
        )
    return (
        '<nav class="breadcrumb" aria-label="Điều hướng"><a href="/">‹ Về trang tìm kiếm</a></nav>'
        '<div class="article-layout"><div class="article-main">'
        f'<header><h1 class="article-title">{title}</h1>'
        f'<p class="article-meta">{sep.join(meta)}</p></header>'
        f'<div class="article-body">{paragraphs}</div>{source_link}</div>'
        f'<aside class="article-side">{"".join(side)}</aside></div>'
    )


def render_article(
    template: str, article: dict, related: list[dict], canonical: str, site_name: str = SITE_NAME
) -> str:
    """``template`` (index.html) with the article in it; see the module docstring."""
    title = escape(f"{article.get('title') or article['id']} – {site_name}")
    page = re.sub(r"<title>.*?</title>", lambda _: f"<title>{title}</title>", template, count=1)
    page = page.replace("</head>", "  " + head_tags(article, canonical, site_name) + "\n</head>", 1)
    view = (
        f'<article id="article-view" class="article-view" '
        f'data-rendered="{_attr(article["id"])}">{article_html(article, related)}</article>'
    )
    return _ARTICLE_VIEW.sub(lambda _: view, page, count=1)


def render_missing(template: str, site_name: str = SITE_NAME) -> str:
    """The 404 page of an unknown id, readable without JavaScript."""
    title = escape(f"Không tìm thấy tin bài – {site_name}")
    page = re.sub(r"<title>.*?</title>", lambda _: f"<title>{title}</title>", template, count=1)
    page = page.replace("</head>", '  <meta name="robots" content="noindex">\n</head>', 1)
    view = (
        '<article id="article-view" class="article-view" data-rendered="">'
        '<h1 class="article-title">Không tìm thấy tin bài</h1>'
        '<p>Tin bài này không có trong kho hoặc đã bị gỡ. <a href="/">Về trang tìm kiếm</a></p>'
        "</article>"
    )
    return _ARTICLE_VIEW.sub(lambda _: view, page, count=1)


__all__ = ["article_path", "description", "render_article", "render_missing"]
