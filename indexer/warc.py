"""Web archives (``.warc``, ``.warc.gz``, read with warcio): every HTML page in them.

Each ``response`` (or ``resource``) record whose payload is HTML becomes one article,
with the record's target URL as its id. A page answered with an error status is a
reported skip; records that are not pages (requests, metadata, images, scripts) are
counted and named once per file, so that nothing in the archive goes unaccounted for.
Origins read ``file.warc.gz@OFFSET``: the byte offset of the record, where warcio (or
``warcio extract``) finds it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from indexer.article import NOTED, Article, BadRecord
from indexer.html import parse_html_page

MAX_RECORD_BYTES = 10_000_000  # an HTML page is a few hundred kB; more is not a page


def read_warc(path: Path, on_error: Callable[[BadRecord], None], where=None) -> Iterator[Article]:
    """Stream the HTML pages of one WARC file as articles; report what is not indexed.
    ``where`` (``indexer.sources``) follows the offset read, for progress."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    other: Counter[str] = Counter()
    offset = 0
    try:
        with path.open("rb") as stream:
            if where is not None:
                where.stream = stream
            records = ArchiveIterator(stream)
            for record in records:
                kind = _page_kind(record)
                if kind is None:
                    other[_describe(record)] += 1
                    continue
                data = record.content_stream().read(MAX_RECORD_BYTES + 1)
                offset = records.get_record_offset()  # reads the record to its end
                article = _read_record(record, data, f"{path}@{offset}", on_error)
                if article is not None:
                    yield article
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        on_error(BadRecord(f"{path}@{offset}", f"cannot read the web archive further: {exc}"))
    if other:
        listed = ", ".join(f"{n} {what}" for what, n in sorted(other.items()))
        on_error(BadRecord(f"{path}@0", f"not pages, not indexed: {listed}", NOTED))


def _page_kind(record) -> str | None:
    """``"page"`` for a record holding an HTML page, else None."""
    if record.rec_type not in ("response", "resource"):
        return None
    content_type = (record.content_type or "").lower()
    if record.rec_type == "response" and record.http_headers is not None:
        content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    return "page" if "html" in content_type else None


def _describe(record) -> str:
    """A short name for a record that is not a page, for the per-file count."""
    if record.rec_type in ("response", "resource"):
        headers = record.http_headers
        content_type = headers.get_header("Content-Type") if headers is not None else None
        content_type = (content_type or record.content_type or "unknown").split(";")[0]
        return f"{record.rec_type} {content_type.strip()}"
    return f"{record.rec_type} record"


def _read_record(record, data: bytes, origin: str, on_error) -> Article | None:
    url = record.rec_headers.get_header("WARC-Target-URI")
    if record.rec_type == "response" and record.http_headers is not None:
        status = record.http_headers.get_statuscode() or ""
        if not status.startswith("2"):
            on_error(BadRecord(origin, f"HTTP status {status} for {url}, not a page"))
            return None
    try:
        if len(data) > MAX_RECORD_BYTES:
            raise BadRecord(origin, f"page over {MAX_RECORD_BYTES:,} bytes, not read")
        if not url:
            raise BadRecord(origin, "record has no WARC-Target-URI")
        return parse_html_page(data, origin, fallback_id=url, url=url)
    except BadRecord as bad:
        on_error(bad)
    except Exception as exc:  # noqa: BLE001 - one record never aborts a run
        on_error(BadRecord(origin, f"cannot read page {url}: {type(exc).__name__}: {exc}"))
    return None
