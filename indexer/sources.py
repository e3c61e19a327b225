"""Walk input paths and yield `Article` records, reporting bad input with ``path:line``.

Supported inputs: JSON Lines (``.jsonl``, ``.json``, optionally gzipped), archived portal
pages (``.txt``) and folders holding them (read recursively, in sorted order). Everything
streams: a JSON Lines file is read one line at a time, gzip included.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from indexer.article import VIETNAM, Article, BadRecord
from indexer.portal import (
    id_from_url,
    nfc,
    parse_portal_page,
    parse_vietnamese_date,
)

JSONL_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
PAGE_SUFFIXES = (".txt",)
MAX_PAGE_BYTES = 10_000_000  # a portal page is a few kB; larger .txt files are not pages

OnError = Callable[[BadRecord], None]


def read_articles(paths: Iterable[str | Path], on_error: OnError) -> Iterator[Article]:
    """Yield every article found in ``paths``; report each bad record to ``on_error`` and go on."""
    for path in paths:
        yield from _read_path(Path(path), on_error)


def _read_path(path: Path, on_error: OnError) -> Iterator[Article]:
    """Dispatch one path: a folder, a JSON Lines file or a portal page."""
    if path.is_dir():
        for file in supported_files(path):
            yield from _read_file(file, on_error)
    elif path.is_file():
        if _kind(path) is None:
            on_error(BadRecord(f"{path}:0", "unsupported file type"))
        else:
            yield from _read_file(path, on_error)
    else:
        on_error(BadRecord(f"{path}:0", "no such file or directory"))


def supported_files(folder: Path) -> list[Path]:
    """Every supported file under ``folder``, recursively, skipping hidden ones; sorted."""
    found = []
    for file in folder.rglob("*"):
        hidden = any(part.startswith(".") for part in file.relative_to(folder).parts)
        if not hidden and _kind(file) is not None and file.is_file():
            found.append(file)
    return sorted(found, key=lambda f: f.relative_to(folder).as_posix())


def _kind(path: Path) -> str | None:
    """``"jsonl"``, ``"page"`` or None for what a file name says it holds."""
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PAGE_SUFFIXES):
        return "page"
    return None


def _read_file(path: Path, on_error: OnError) -> Iterator[Article]:
    if _kind(path) == "jsonl":
        yield from read_jsonl(path, on_error)
    else:
        article = read_page(path, on_error)
        if article is not None:
            yield article


# --- portal pages ---------------------------------------------------------------------


def read_page(path: Path, on_error: OnError) -> Article | None:
    """Read one portal page; report and return None when it cannot be read."""
    origin = f"{path}:1"
    try:
        if path.stat().st_size > MAX_PAGE_BYTES:
            raise BadRecord(origin, "file too large for a portal page")
        text = _decode_page(path, path.read_bytes())
        return parse_portal_page(text, origin)
    except BadRecord as bad:
        on_error(bad)
    except OSError as exc:
        on_error(BadRecord(origin, f"cannot read file: {exc.strerror or exc}"))
    return None


def _decode_page(path: Path, data: bytes) -> str:
    """Decode a page as UTF-8; on failure raise `BadRecord` naming the offending line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadRecord(f"{path}:{line}", "not valid UTF-8") from None


# --- JSON Lines -----------------------------------------------------------------------


def _open_binary(path: Path) -> IO[bytes]:
    """Open a file for streaming bytes, transparently gunzipping ``.gz``."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def read_jsonl(path: Path, on_error: OnError) -> Iterator[Article]:
    """Stream articles from a JSON Lines file (plain or gzip), one line at a time."""
    lineno = 0
    try:
        with _open_binary(path) as stream:
            for lineno, raw in enumerate(stream, 1):
                article = _jsonl_article(path, lineno, raw, on_error)
                if article is not None:
                    yield article
    except (OSError, EOFError, zlib.error) as exc:
        on_error(BadRecord(f"{path}:{lineno + 1}", f"cannot read file: {exc}"))


def _jsonl_article(path: Path, lineno: int, raw: bytes, on_error: OnError) -> Article | None:
    """Parse one raw line; report and return None when it is bad; None for blank lines."""
    origin = f"{path}:{lineno}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        on_error(BadRecord(origin, "not valid UTF-8"))
        return None
    if lineno == 1:
        text = text.removeprefix("\ufeff")
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        on_error(BadRecord(origin, f"malformed JSON ({exc.msg}, column {exc.colno})"))
        return None
    try:
        return article_from_record(record, origin)
    except BadRecord as bad:
        on_error(bad)
        return None


def article_from_record(record: Any, origin: str) -> Article:
    """Build an `Article` from one decoded JSON object; raise `BadRecord` if it is unusable."""
    if not isinstance(record, dict):
        raise BadRecord(origin, f"JSON value is a {type(record).__name__}, not an object")
    title = _text_field(record, "title", origin)
    body = _text_field(record, "body", origin) or ""
    if not body and not title:
        raise BadRecord(origin, "record has neither body nor title")
    url = _text_field(record, "url", origin)
    category, categories = _categories(record, origin)
    return Article(
        id=_record_id(record, url, origin),
        body=body,
        title=title,
        date=parse_date(record.get("date")),
        category=category,
        categories=categories,
        source=_text_field(record, "source", origin),
        url=url,
        views=_parse_views(record.get("views")),
        origin=origin,
    )


def _text_field(record: dict, key: str, origin: str) -> str | None:
    """A string field, NFC-normalised and stripped; None when missing, null or blank."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadRecord(origin, f"field {key!r} is a {type(value).__name__}, not a string")
    value = nfc(value).strip()
    return value or None


def _categories(record: dict, origin: str) -> tuple[str | None, list[str]]:
    """``(category, categories)`` from ``category`` (string or list) and ``categories``."""
    raw = record.get("categories")
    raw_category = record.get("category")
    if isinstance(raw_category, list):
        raw, raw_category = raw or raw_category, None
    names = [nfc(c).strip() for c in raw if isinstance(c, str) and c.strip()] if raw else []
    category = _text_field({"category": raw_category}, "category", origin)
    if category is None and names:
        category = names[-1]
    if category is not None and category not in names:
        names.append(category)
    return category, names


def _record_id(record: dict, url: str | None, origin: str) -> str:
    """The record's own id, else one derived from its URL, else from ``path:line``."""
    given = record.get("id")
    if given is not None and not isinstance(given, (dict, list, bool)) and str(given).strip():
        return nfc(str(given).strip())
    if url:
        return id_from_url(url)
    path, _, line = origin.rpartition(":")
    return f"{file_id(Path(path))}:{line}"


def file_id(path: Path) -> str:
    """``<parent folder>/<file name without its data suffixes>``, e.g. ``demo/articles``."""
    name = path.name
    for suffix in (".gz", ".jsonl", ".json", ".txt"):
        name = name.removesuffix(suffix)
    return f"{path.parent.name}/{name}" if path.parent.name else name


def parse_date(value: Any) -> datetime | None:
    """An ISO date/datetime (or a Vietnamese date form) as an aware datetime, else None.

    A date alone becomes midnight; a naive datetime is taken as Vietnam time (+07:00).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return parse_vietnamese_date(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=VIETNAM)


def _parse_views(value: Any) -> int | None:
    """A view count from an int or a numeric string (``"2.468"`` reads as 2468)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value >= 0 else None
    if isinstance(value, str):
        digits = "".join(ch for ch in value if ch.isdigit())
        return int(digits) if digits and not value.strip().startswith("-") else None
    return None
