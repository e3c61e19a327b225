"""Parse one archived page of a Vietnamese district portal into an `Article`.

The archive stores each page as plain text::

    <archive name>
    <menu / breadcrumb lines, each category printed twice on one line>
    <title>
    Ngày đăng dd/mm/yyyy | HH:MM  | Lượt xem: N
    <body paragraphs, photo captions>
    <archive name again>
    Bản quyền … / Địa chỉ … / Tel … / Email …      (the portal's footer)

Menu and footer are dropped; everything between the date line and the footer is body.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath
from urllib.parse import urlsplit

from indexer.article import Article, BadRecord
from indexer.dates import VIETNAM_TZ, find_date, parse_vietnamese_date, time_pattern

__all__ = [  # VIETNAM_TZ and parse_vietnamese_date live in indexer.dates, re-exported here
    "VIETNAM_TZ",
    "id_from_origin",
    "id_from_url",
    "is_doubled",
    "is_meta_line",
    "nfc",
    "parse_portal_page",
    "parse_vietnamese_date",
    "parse_views",
]
_TIME = time_pattern()

_VIEWS = re.compile(
    r"(?:Lượt xem|Lượt đọc|Số lượt xem|Lượt truy cập)\s*:?\s*(\d[\d.,]*)", re.IGNORECASE
)
_META_LABEL = re.compile(
    r"Ngày đăng|Đăng ngày|Ngày cập nhật|Cập nhật|Ngày xuất bản|Thời gian|Đăng lúc|lúc|ngày"
    r"|Thứ\s+(?:Hai|Ba|Tư|Năm|Sáu|Bảy|[2-7])|Chủ\s+nhật|\bCN\b|\bT[2-7]\b|GMT\s*\+\s*7",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"(?:Bản quyền|Copyright|©|Địa chỉ|Tel|Điện thoại|Fax|E-?mail|Hotline|Chịu trách nhiệm"
    r"|Trưởng ban biên tập|Cơ quan chủ quản|Giấy phép|Ghi rõ nguồn|Lượt truy cập|Đang truy cập"
    r"|Đang online)\b",
    re.IGNORECASE,
)
_STRONG_FOOTER = re.compile(r"(?:Bản quyền|Copyright|©)", re.IGNORECASE)
_SITE_NAME = re.compile(
    r"(?:Kho tư liệu|Cổng thông tin|Cổng TTĐT|Trang thông tin|Trang tin điện tử|Website)\b",
    re.IGNORECASE,
)
_URL_LINE = re.compile(
    r"(?:(?:URL|Link|Liên kết|Nguồn|Source|Địa chỉ bài viết)\s*:\s*)?(https?://\S+)", re.IGNORECASE
)
_NOT_CATEGORIES = {"trang chủ", "home"}
_HEADER_SCAN = 40  # lines searched for the date line
_LONG_LINE_WORDS = 30  # longer lines are body text, never menu or footer


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC (cheap when it already is)."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def parse_views(text: str) -> int | None:
    """Return N from ``Lượt xem: N`` (``2.468`` and ``2,468`` read as 2468)."""
    m = _VIEWS.search(text)
    return int(re.sub(r"\D", "", m[1])) if m else None


def is_doubled(line: str) -> bool:
    """True for a menu/breadcrumb line: the same words printed twice, e.g. ``Tin tức Tin tức``."""
    words = line.split()
    half = len(words) // 2
    return half > 0 and len(words) % 2 == 0 and words[:half] == words[half:]


def _doubled_name(line: str) -> str:
    """Return the category printed twice on a doubled line."""
    words = line.split()
    return " ".join(words[: len(words) // 2])


def is_meta_line(line: str) -> bool:
    """True for the line under the title that holds the date (and perhaps time and views)."""
    found = find_date(line)
    if found is None or len(line.split()) > 20:
        return False
    start, end = found[1]
    rest = _VIEWS.sub(" ", line[:start] + " " + line[end:])
    rest = _META_LABEL.sub(" ", _TIME.sub(" ", rest))
    return len(re.findall(r"[^\W\d_]{2,}", rest)) <= 3


def id_from_url(url: str) -> str:
    """A stable id for a URL: host and path (and query), without scheme, ``www.`` or ``/`` end."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    ident = host + parts.path.rstrip("/")
    return f"{ident}?{parts.query}" if parts.query else ident


def id_from_origin(origin: str) -> str:
    """A stable id for a file: ``<parent folder>/<name without extension>``."""
    path = PurePath(re.sub(r":\d+$", "", origin))
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def _is_footer_line(line: str) -> bool:
    return len(line.split()) <= _LONG_LINE_WORDS and bool(_FOOTER.match(line))


def _is_name_line(line: str, site_name: str) -> bool:
    if len(line.split()) > 20:
        return False
    return line.casefold() == site_name.casefold() or bool(_SITE_NAME.match(line))


def _footer_start(lines: list[str]) -> int:
    """Index of the first footer line (``len(lines)`` when there is no footer)."""
    site_name = lines[0]
    start = len(lines)
    while start > 1 and (
        _is_footer_line(lines[start - 1]) or _is_name_line(lines[start - 1], site_name)
    ):
        start -= 1
    last_long = max(
        (i for i, t in enumerate(lines) if len(t.split()) > _LONG_LINE_WORDS), default=0
    )
    for i in range(last_long + 1, start):
        if _STRONG_FOOTER.match(lines[i]):
            start = i
            break
    while start > 1 and _is_name_line(lines[start - 1], site_name):
        start -= 1
    return start


def _find_meta(lines: list[str], start: int) -> int | None:
    """Index of the date line under the title (searched from ``start``), or None."""
    for i in range(max(start, 1), min(len(lines), start + _HEADER_SCAN)):
        if is_meta_line(lines[i]):
            return i
    return None


def _header_end(lines: list[str]) -> int:
    """Index just after the last menu line (doubled lines before the first long line)."""
    end = 0
    for i, line in enumerate(lines):
        if len(line.split()) > _LONG_LINE_WORDS:
            break
        if is_doubled(line):
            end = i + 1
    return end


def _find_url(lines: list[str]) -> tuple[int, str] | None:
    """A line holding only the page's own URL (with a path), as ``(index, url)``."""
    for i, line in enumerate(lines):
        m = _URL_LINE.fullmatch(line)
        if m and urlsplit(m[1]).path.strip("/"):
            return i, m[1]
    return None


def _split_page(lines: list[str]) -> tuple[list[str], str | None, str, list[str]]:
    """Split content lines into ``(menu lines, title, meta text, body lines)``."""
    head_end = _header_end(lines)
    meta = _find_meta(lines, head_end + 1)
    if meta is not None:
        meta_text, body = _take_views_lines(lines[meta], lines[meta + 1 :])
        return lines[:head_end], lines[meta - 1], meta_text, body
    if head_end < len(lines):
        meta_text, body = _take_views_lines("", lines[head_end + 1 :])
        return lines[:head_end], lines[head_end], meta_text, body
    return lines[:head_end], None, "", []


def _take_views_lines(meta_text: str, body: list[str]) -> tuple[str, list[str]]:
    """Move short ``Lượt xem: N`` lines from the top of the body into the meta text."""
    while body and len(body[0].split()) <= 6 and parse_views(body[0]) is not None:
        meta_text, body = f"{meta_text} | {body[0]}", body[1:]
    return meta_text, body


def _categories(menu: list[str]) -> list[str]:
    """Category names from the doubled menu/breadcrumb lines, in page order, once each."""
    names: list[str] = []
    for line in menu:
        name = _doubled_name(line) if is_doubled(line) else ""
        if name and name.casefold() not in _NOT_CATEGORIES and name not in names:
            names.append(name)
    return names


def _content_lines(text: str) -> list[str]:
    """Non-empty, stripped lines of the NFC-normalised page."""
    text = nfc(text.removeprefix("\ufeff")).replace("\u00a0", " ")
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_portal_page(text: str, origin: str, fallback_id: str | None = None) -> Article:
    """Parse the text of one archived portal page; raise `BadRecord` if it holds no article.

    The id is the page's URL when it prints one, else ``fallback_id`` (the file's path
    relative to the input, see ``indexer.sources``), else ``<folder>/<file stem>``.
    """
    lines = _content_lines(text)
    if not lines:
        raise BadRecord(origin, "empty page")
    lines = lines[: _footer_start(lines)]
    url_hit = _find_url(lines)
    if url_hit is not None:
        lines = lines[: url_hit[0]] + lines[url_hit[0] + 1 :]
    menu, title, meta, body = _split_page(lines)
    if title is None or not body:
        raise BadRecord(origin, "no recognisable title and body in portal page")
    url = url_hit[1] if url_hit else None
    date = parse_vietnamese_date(meta)
    undated = None
    if date is None and find_date(meta) is not None:
        undated = f"impossible date in {meta.strip(' |')!r}"
    return Article(
        id=id_from_url(url) if url else fallback_id or id_from_origin(origin),
        body="\n".join(body),
        title=title,
        date=date,
        undated=undated,
        category=_last_doubled(menu),
        categories=_categories(menu),
        source=menu[0] if menu and not is_doubled(menu[0]) else None,
        url=url,
        views=parse_views(meta),
        origin=origin,
    )


def _last_doubled(menu: list[str]) -> str | None:
    """The breadcrumb nearest the title: the category of the last doubled line."""
    for line in reversed(menu):
        if is_doubled(line) and _doubled_name(line).casefold() not in _NOT_CATEGORIES:
            return _doubled_name(line)
    return None
