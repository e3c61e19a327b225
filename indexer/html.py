"""HTML into articles: whole portal pages (main text by trafilatura) and HTML fragments
in CMS exports (entities unescaped, tags dropped, paragraphs kept as lines).

A page's metadata is read the way a reader of the portal sees it first: the title in
``<h1>``, the line under it (``Ngày đăng 09/06/2020 | 17:47 | Lượt xem: 2468``) and the
breadcrumb trail. Where the page has none of those, ``<meta>``/OpenGraph, ``<time>`` and
``<title>`` stand in.
"""

from __future__ import annotations

import html as html_lib
import re

import lxml.html
from lxml import etree

from indexer.article import PATH_SEPARATOR, Article, BadRecord
from indexer.dates import find_date, parse_vietnamese_date, read_date
from indexer.portal import id_from_url, is_meta_line, nfc, parse_views

_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
_BLOCKS = frozenset(
    ("p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table")
    + ("blockquote", "section", "article", "header", "footer", "figure", "figcaption", "pre")
    + ("dd", "dt", "dl", "hr", "nav", "aside", "main", "td", "th")
)
_DROPPED = frozenset(("script", "style", "noscript", "template", "head"))
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")  # \u200b is dropped, not a space (drop_invisible)
_SITE_SUFFIX = re.compile(r"\s+[-|–—»]\s+[^-|–—»]{2,60}$")
_NOT_CRUMBS = {"trang chủ", "home", "trang chu", "", "»", ">", "/", "›"}
_DATE_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "date",
    "dc.date.issued",
    "dc.date",
    "article:modified_time",
)


def has_markup(text: str) -> bool:
    """True when ``text`` holds a tag or a character entity."""
    return ("<" in text and _TAG.search(text) is not None) or (
        "&" in text and _ENTITY.search(text) is not None
    )


def clean_fragment(text: str, one_line: bool = False) -> str:
    """Plain text of an HTML fragment: entities unescaped, tags dropped, ``<p>``, ``<br>``
    and other blocks kept as line breaks (joined by spaces when ``one_line``).

    Text without markup is returned unchanged (the common case costs one scan).
    """
    if not has_markup(text):
        return text
    if "<" in text and _TAG.search(text):
        try:
            root = lxml.html.fragment_fromstring(text, create_parent="div")
            text = _block_text(root)
        except (etree.ParserError, ValueError):
            text = html_lib.unescape(_TAG.sub(" ", text))
    else:
        text = html_lib.unescape(text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return (" " if one_line else "\n").join(line for line in lines if line)


def _block_text(root) -> str:
    """Text of an lxml tree with a line break around every block element."""
    parts: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.lower() in _DROPPED or not tag:  # comments and processing instructions
            if node.tail:
                parts.append(node.tail)
            return
        block = tag.lower() in _BLOCKS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    walk(root)
    return "".join(parts)


# --- whole pages ----------------------------------------------------------------------


def parse_html_page(
    data: bytes | str, origin: str, fallback_id: str, url: str | None = None
) -> Article:
    """One HTML page as an `Article`; raise `BadRecord` when it holds no article text.

    ``url`` (a WARC record's target) wins over the page's canonical link for the id.
    """
    import trafilatura

    if isinstance(data, bytes):
        if b"\x00" in data[:8192]:
            raise BadRecord(origin, "binary data, not an HTML page")
        data = decode_html(data)
    data = _XML_DECLARATION.sub("", data, count=1)
    try:
        tree = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError) as exc:
        raise BadRecord(origin, f"not an HTML page ({exc})") from None
    page_url = url or _canonical(tree)
    title = _title(tree)
    meta_line = _meta_line(tree)
    date, undated = _date(tree, meta_line)
    crumbs = _breadcrumbs(tree, title)
    body = trafilatura.extract(
        tree, url=page_url, include_comments=False, include_tables=True, favor_recall=True
    )
    if not body or not body.strip():
        raise BadRecord(origin, "no article text found in the HTML page")
    body = nfc(_drop_leading(body, title, meta_line))
    return Article(
        id=id_from_url(page_url) if page_url else fallback_id,
        body=body,
        title=nfc(title) if title else None,
        date=date,
        category=PATH_SEPARATOR.join(crumbs) if crumbs else None,
        categories=crumbs,
        source=_meta(tree, "og:site_name"),
        url=page_url,
        views=parse_views(meta_line) if meta_line else None,
        origin=origin,
        undated=undated,
    )


def decode_html(data: bytes) -> str:
    """The text of an HTML page: in the charset it declares, else UTF-8, else Windows-1258
    (the legacy Vietnamese code page), never failing (undecodable bytes become U+FFFD)."""
    declared = _CHARSET.search(data[:4096])
    names = [declared.group(1).decode("ascii", "replace")] if declared else []
    for name in [*names, "utf-8"]:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1258", "replace")


def _text(node) -> str:
    return _SPACES.sub(" ", node.text_content()).strip()


def _meta(tree, *names: str) -> str | None:
    """The content of the first ``<meta property|name|itemprop=…>`` among ``names``."""
    wanted = {n.lower() for n in names}
    for node in tree.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").lower()
        if key in wanted and (node.get("content") or "").strip():
            return nfc(node.get("content").strip())
    return None


def _canonical(tree) -> str | None:
    for node in tree.iter("link"):
        if (node.get("rel") or "").lower() == "canonical" and node.get("href", "").startswith(
            "http"
        ):
            return node.get("href").strip()
    found = _meta(tree, "og:url")
    return found if found and found.startswith("http") else None


def _title(tree) -> str | None:
    """The portal's own headline (``<h1>``), else OpenGraph, else ``<title>`` without the
    site name."""
    for node in tree.iter("h1"):
        text = _text(node)
        if text:
            return text
    og = _meta(tree, "og:title", "twitter:title")
    if og:
        return og
    for node in tree.iter("title"):
        text = _text(node)
        if text:
            return _SITE_SUFFIX.sub("", text) or text
    return None


def _meta_line(tree) -> str | None:
    """The short line holding the date under the headline (``Ngày đăng …``), if any."""
    body = tree.find("body")
    if body is None:
        return None
    lines = _block_text(body).splitlines()
    for line in lines:
        line = _SPACES.sub(" ", line).strip()
        if line and len(line) <= 160 and is_meta_line(line):
            return nfc(line)
    return None


def _date(tree, meta_line: str | None):
    """``(date, problem)`` from the meta line, else ``<meta>``, ``<time>`` or itemprop."""
    if meta_line:
        found = find_date(meta_line)
        if found is not None:
            parsed = parse_vietnamese_date(meta_line)
            return (parsed, None) if parsed else (None, f"impossible date {meta_line!r}")
    given = _meta(tree, *_DATE_META)
    if given is None:
        for node in tree.iter("time"):
            given = (node.get("datetime") or _text(node)).strip() or None
            if given:
                break
    if given is None:
        for node in tree.xpath("//*[@itemprop='datePublished']"):
            given = (node.get("content") or node.get("datetime") or _text(node)).strip() or None
            if given:
                break
    return read_date(given)


def _breadcrumbs(tree, title: str | None) -> list[str]:
    """The breadcrumb trail from the top section down, without "Trang chủ" and the title."""
    nodes = tree.xpath(
        "//*[contains(translate(@class,'BREADCRUMB','breadcrumb'),'breadcrumb')"
        " or contains(translate(@id,'BREADCRUMB','breadcrumb'),'breadcrumb')"
        " or contains(@itemtype,'BreadcrumbList')"
        " or contains(translate(@aria-label,'BREADCRUMB','breadcrumb'),'breadcrumb')]"
    )
    for node in nodes:
        items = node.xpath(".//li") or node.xpath(".//a") or [node]
        names: list[str] = []
        for item in items:
            name = nfc(_text(item)).strip(" >»›/|")
            if name.casefold() in _NOT_CRUMBS or name in names or len(name) > 80:
                continue
            names.append(name)
        if title and names and names[-1] == title:
            names.pop()
        if names:
            return names
    return []


def _drop_leading(body: str, title: str | None, meta_line: str | None) -> str:
    """The extracted text without a repeated headline or date line at its top."""
    lines = body.splitlines()
    while lines and (
        (title and lines[0].strip() == title) or (meta_line and lines[0].strip() == meta_line)
    ):
        lines = lines[1:]
    return "\n".join(lines).strip()
