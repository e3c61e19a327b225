"""Walk input paths and yield `Article` records, reporting bad input with ``path:line``.

Supported inputs: JSON Lines (``.jsonl``, ``.json``, optionally gzipped), archived portal
pages (``.txt``), HTML pages (``.html``, ``.htm``, optionally gzipped), web archives
(``.warc``, ``.warc.gz``) and folders holding them (read recursively, in sorted order).
Everything streams: a JSON Lines file is read one line at a time, gzip included.

Ids are the record's own (``id``), else its URL, else where it was read, relative to the
input named on the command line and starting with that input's own name:
``vnsearch index archive/`` and ``cd archive && vnsearch index .`` both give
``archive/2020/06/01/tin-1`` for ``archive/2020/06/01/tin-1.txt`` (the data suffixes
dropped), and ``archive/export:12`` for line 12 of ``archive/export.jsonl``.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from indexer import store
from indexer.analysis import drop_invisible
from indexer.article import NOTED, PATH_SEPARATOR, Article, BadRecord
from indexer.dates import parse_date, read_date
from indexer.html import clean_fragment, parse_html_page
from indexer.portal import id_from_url, nfc, parse_portal_page

JSONL_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
PAGE_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
WARC_SUFFIXES = (".warc", ".warc.gz")
DATA_SUFFIXES = (".gz", ".jsonl", ".json", ".txt", ".html", ".htm", ".warc")
MAX_PAGE_BYTES = 10_000_000  # a portal page is a few kB; larger .txt files are not pages
MAX_LINE_BYTES = 64_000_000  # one JSON Lines record; longer lines are skipped unread
CATEGORY_SEPARATORS = (">", "»", "›")

__all__ = ["article_from_record", "parse_date", "read_articles"]  # parse_date: re-exported

OnError = Callable[[BadRecord], None]
READ_KINDS = ".jsonl, .json, .html, .htm (each also .gz), .warc, .warc.gz, .txt or a folder"


class UnusableInput(ValueError):
    """Inputs named to the indexer that cannot be read at all (missing, or of a type it
    does not read): a mistyped path, so the run stops before it writes anything."""


def check_inputs(paths: Iterable[str | Path]) -> None:
    """Raise `UnusableInput` naming every path of ``paths`` that does not exist or is a
    file of a type not read (a folder's other files are only counted, see `_read_path`)."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    unread = [str(p) for p in paths if Path(p).is_file() and _kind(Path(p)) is None]
    problems = []
    if missing:
        problems.append(f"no such file or folder: {', '.join(missing)}")
    if unread:
        problems.append(f"not a kind of file vnsearch reads ({READ_KINDS}): {', '.join(unread)}")
    if problems:
        raise UnusableInput("; ".join(problems) + "; nothing was indexed")


def read_articles(
    paths: Iterable[str | Path],
    on_error: OnError,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[Article]:
    """Yield every article found in ``paths``; report each bad record to ``on_error`` and go
    on. ``on_progress`` is told the bytes of input read so far (of `input_size`) after
    each article."""
    where = _Position()
    for path in paths:
        for article in _read_path(Path(path), on_error, where):
            if on_progress is not None:
                on_progress(where.bytes())
            yield article


def input_size(paths: Iterable[str | Path]) -> int:
    """Bytes on disk of every supported file under ``paths`` (gzip counts compressed)."""
    total = 0
    for path in map(Path, paths):
        files = _scan(path)[0] if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            try:
                total += file.stat().st_size
            except OSError:
                pass
    return total


class _Position:
    """How far reading has got: whole files done, plus the open file's raw offset."""

    def __init__(self) -> None:
        self.base = 0
        self.stream: IO[bytes] | None = None

    def bytes(self) -> int:
        try:
            return self.base + (self.stream.tell() if self.stream is not None else 0)
        except (OSError, ValueError):
            return self.base

    def file_done(self, path: Path) -> None:
        self.stream = None
        try:
            self.base += path.stat().st_size
        except OSError:
            pass


def _read_path(path: Path, on_error: OnError, where: _Position) -> Iterator[Article]:
    """Dispatch one path given on the command line: a folder or one file."""
    if path.is_dir():
        label = path.resolve().name
        if store.is_index_root(path):
            on_error(BadRecord(f"{path}:0", "a vnsearch index, not an archive: not read", NOTED))
            return
        files, other = _scan(path)
        for file in files:
            rel = file.relative_to(path).as_posix()
            named = path_text(f"{label}/{rel}" if label else rel)
            yield from _read_file(file, named, on_error, where)
            where.file_done(file)
        if other:
            listed = ", ".join(f"{n} {suffix}" for suffix, n in sorted(other.items()))
            on_error(BadRecord(f"{path}:0", f"files of other types not read: {listed}", NOTED))
        elif not files:
            on_error(
                BadRecord(f"{path}:0", f"no files to read in this folder ({READ_KINDS})", NOTED)
            )
    elif path.is_file():
        if _kind(path) is None:
            on_error(BadRecord(f"{path}:0", "unsupported file type"))
        else:
            yield from _read_file(path, path_text(path.name), on_error, where)
            where.file_done(path)
    else:
        on_error(BadRecord(f"{path}:0", "no such file or directory"))


def path_text(name: str) -> str:
    """A file name as text for ids: bytes of the name that are not UTF-8 (a Windows or
    zip archive's ``caf\xe9.jsonl``, which Python holds as lone surrogates that no index
    can store) written as ``\\xe9``, so distinct names stay distinct."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def supported_files(folder: Path) -> list[Path]:
    """Every supported file under ``folder``, recursively, skipping hidden ones; sorted."""
    return _scan(folder)[0]


def _scan(folder: Path) -> tuple[list[Path], Counter[str]]:
    """Supported files under ``folder`` (sorted) and a count of the others by suffix. An
    index directory inside it is passed over: it holds no articles (``vnsearch index .``
    where the index lives read its meta.json as JSON Lines, and counted its segments)."""
    found, other = [], Counter()
    indexes: dict[Path, bool] = {}
    for file in folder.rglob("*"):
        parts = file.relative_to(folder).parts
        hidden = any(part.startswith(".") for part in parts)
        if hidden or not file.is_file():
            continue
        if any(_is_index(folder.joinpath(*parts[:n]), indexes) for n in range(1, len(parts))):
            continue
        if _kind(file) is not None:
            found.append(file)
        else:
            other[file.suffix.lower() or "(no suffix)"] += 1
    found.sort(key=lambda f: f.relative_to(folder).as_posix())
    return found, other


def _is_index(directory: Path, known: dict[Path, bool]) -> bool:
    if directory not in known:
        known[directory] = store.is_index_root(directory)
    return known[directory]


def _kind(path: Path) -> str | None:
    """``"jsonl"``, ``"page"``, ``"html"``, ``"warc"`` or None for what a file name says."""
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PAGE_SUFFIXES):
        return "page"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    return None


def record_id(relative: str) -> str:
    """The id of a file's record: its path relative to the input, without data suffixes."""
    name = relative
    while True:
        stripped = next((name[: -len(s)] for s in DATA_SUFFIXES if name.lower().endswith(s)), name)
        if stripped == name or not stripped or stripped.endswith("/"):
            return name
        name = stripped


def _read_file(
    path: Path, relative: str, on_error: OnError, where: _Position | None = None
) -> Iterator[Article]:
    """Every article of one file; ``relative`` names it for ids (see the module doc)."""
    kind = _kind(path)
    try:
        if path.stat().st_size == 0:
            on_error(BadRecord(f"{path}:0", "empty file"))
            return
    except OSError as exc:
        on_error(BadRecord(f"{path}:0", f"cannot read file: {exc.strerror or exc}"))
        return
    if kind == "jsonl":
        yield from read_jsonl(path, on_error, record_id(relative), where)
    elif kind == "warc":
        from indexer.warc import read_warc

        yield from read_warc(path, on_error, where)
    else:
        article = read_page(path, on_error, record_id(relative), html=kind == "html")
        if article is not None:
            yield article


# --- portal and HTML pages -----------------------------------------------------------


def read_page(
    path: Path, on_error: OnError, fallback_id: str | None = None, html: bool = False
) -> Article | None:
    """Read one portal page (``.txt``) or HTML page; report and return None when it
    cannot be read. ``fallback_id`` is the id when the page names no URL of its own."""
    origin = f"{path}:1"
    fallback_id = fallback_id or record_id(path.name)
    try:
        data = _read_limited(path, origin)
        if html:
            return parse_html_page(data, origin, fallback_id)
        return parse_portal_page(_decode_page(path, data), origin, fallback_id)
    except BadRecord as bad:
        on_error(bad)
    except OSError as exc:
        on_error(BadRecord(origin, f"cannot read file: {exc.strerror or exc}"))
    except Exception as exc:  # noqa: BLE001 - one page never aborts a run
        on_error(BadRecord(origin, f"cannot read page: {type(exc).__name__}: {exc}"))
    return None


def _read_limited(path: Path, origin: str) -> bytes:
    """The bytes of a page (gunzipped), refusing more than ``MAX_PAGE_BYTES``."""
    with _open_binary(path) as stream:
        data = stream.read(MAX_PAGE_BYTES + 1)
    if len(data) > MAX_PAGE_BYTES:
        raise BadRecord(origin, f"file over {MAX_PAGE_BYTES:,} bytes, too large for a page")
    return data


def _decode_page(path: Path, data: bytes) -> str:
    """Decode a page as UTF-8; on failure raise `BadRecord` naming the offending line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadRecord(f"{path}:{line}", "not valid UTF-8") from None


# --- JSON Lines -----------------------------------------------------------------------


@contextmanager
def _open_binary(path: Path, where: _Position | None = None) -> Iterator[IO[bytes]]:
    """Open a file for streaming bytes, transparently gunzipping ``.gz``; ``where``
    follows the raw (compressed) offset."""
    with path.open("rb") as raw:
        if where is not None:
            where.stream = raw
        if path.name.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


def read_jsonl(
    path: Path, on_error: OnError, file_id: str | None = None, where: _Position | None = None
) -> Iterator[Article]:
    """Stream articles from a JSON Lines file (plain or gzip), one line at a time.

    A line longer than ``MAX_LINE_BYTES`` is skipped without being held in memory.
    """
    file_id = file_id or record_id(path.name)
    lineno = 0
    try:
        with _open_binary(path, where) as binary:
            stream = _utf8_lines(binary)
            while raw := stream.readline(MAX_LINE_BYTES + 1):
                lineno += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    _skip_line(stream)
                    on_error(BadRecord(f"{path}:{lineno}", f"line over {MAX_LINE_BYTES:,} bytes"))
                    continue
                article = _jsonl_article(path, lineno, raw, file_id, on_error)
                if article is not None:
                    yield article
    except (OSError, EOFError, zlib.error) as exc:
        on_error(BadRecord(f"{path}:{lineno + 1}", f"cannot read file: {exc}"))
    except UnicodeDecodeError:  # only a UTF-16 file decodes as it streams
        on_error(BadRecord(f"{path}:{lineno + 1}", "not valid UTF-16; the rest not read"))


class _Utf16Lines:
    """The lines of a UTF-16 stream (as Windows PowerShell writes files) as UTF-8 bytes."""

    def __init__(self, stream: IO[bytes]):
        self.text = io.TextIOWrapper(stream, encoding="utf-16", newline="")

    def readline(self, limit: int) -> bytes:
        return self.text.readline(limit).encode("utf-8", "surrogatepass")


def _utf8_lines(stream: IO[bytes]):
    """``stream``, or its UTF-16 text read as UTF-8 lines when it starts with a UTF-16
    byte-order mark (every line was 'not valid UTF-8' or malformed)."""
    head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    if head in (b"\xff\xfe", b"\xfe\xff"):
        return _Utf16Lines(stream)
    return stream


def _skip_line(stream: IO[bytes]) -> None:
    """Read past the rest of an over-long line, a block at a time."""
    while block := stream.readline(1 << 20):
        if block.endswith(b"\n"):
            return


def _jsonl_article(
    path: Path, lineno: int, raw: bytes, file_id: str, on_error: OnError
) -> Article | None:
    """Parse one raw line; report and return None when it is bad; None for blank lines."""
    origin = f"{path}:{lineno}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        on_error(BadRecord(origin, "not valid UTF-8"))
        return None
    # a byte-order mark starts the file, or a line where files were joined (cat a b)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return None
    try:
        record = json.loads(text)
        # a lone surrogate can only come from a \\uD8xx-\\uDFxx escape: skip the check otherwise
        escaped = b"\\ud" in raw or b"\\uD" in raw
        return article_from_record(record, origin, f"{file_id}:{lineno}", escaped)
    except json.JSONDecodeError as exc:
        on_error(BadRecord(origin, f"malformed JSON ({exc.msg}, column {exc.colno})"))
    except BadRecord as bad:
        on_error(bad)
    except Exception as exc:  # noqa: BLE001 - one record never aborts a run
        on_error(BadRecord(origin, f"cannot read record: {type(exc).__name__}: {exc}"))
    return None


def article_from_record(
    record: Any, origin: str, fallback_id: str | None = None, check_unicode: bool = True
) -> Article:
    """Build an `Article` from one decoded JSON object; raise `BadRecord` if it is unusable.

    HTML in ``title`` and ``body`` is cleaned (``indexer.html.clean_fragment``); a lone
    surrogate is replaced by U+FFFD; both are noted on the article.
    """
    if not isinstance(record, dict):
        raise BadRecord(origin, f"JSON value is a {type(record).__name__}, not an object")
    notes: list[str] | None = [] if check_unicode else None
    title = _text_field(record, "title", origin, notes, one_line=True)
    body = _text_field(record, "body", origin, notes) or ""
    if not body and not title:
        raise BadRecord(origin, "record has neither body nor title")
    url = _text_field(record, "url", origin, notes)
    category, categories = _categories(record, origin, notes)
    date, undated = read_date(record.get("date"))
    views = _parse_views(record.get("views"))
    left_out = _left_out(record, views)  # values that are not what their field holds
    return Article(
        id=_record_id(record, url, fallback_id or origin, notes),
        body=body,
        title=title,
        date=date,
        category=category,
        categories=categories,
        source=_text_field(record, "source", origin, notes),
        url=url,
        views=views,
        origin=origin,
        undated=undated,
        notes=(notes or []) + left_out,
    )


def _left_out(record: dict, views: int | None) -> list[str]:
    """Notes for values left out of the article: a ``views`` that is not a count
    (``"nhiều"``), items of a ``category``/``categories`` list that are not text."""
    notes = []
    raw_views = record.get("views")
    if raw_views is not None and views is None and raw_views != "":
        notes.append(f"field 'views' {raw_views!r} is not a count: left out")
    for key in ("category", "categories"):
        items = record.get(key)
        if isinstance(items, list):
            odd = [item for item in items if item is not None and not isinstance(item, str)]
            if odd:
                notes.append(f"field {key!r}: items that are not text left out: {odd!r}"[:300])
    return notes


def _text_field(
    record: dict, key: str, origin: str, notes: list[str] | None, one_line: bool = False
) -> str | None:
    """A string field, cleaned of HTML, NFC-normalised and stripped; None when missing,
    null or blank. Lone surrogates are replaced (and noted) unless ``notes`` is None."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadRecord(origin, f"field {key!r} is a {type(value).__name__}, not a string")
    if notes is not None:
        value = _valid_unicode(value, key, notes)
    value = nfc(drop_invisible(clean_fragment(value, one_line=one_line))).strip()
    return value or None


def _valid_unicode(value: str, key: str, notes: list[str]) -> str:
    """``value`` with lone surrogates (``"\\ud800"`` in JSON) replaced by U+FFFD."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        fixed = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
        notes.append(f"field {key!r}: lone surrogate replaced by U+FFFD")
        return fixed


def category_path(parts: Iterable[str]) -> str | None:
    """``"Y tế > Phòng chống dịch"`` from its parts (blank parts dropped); None when empty."""
    names = [p.strip() for p in parts if p and p.strip()]
    return PATH_SEPARATOR.join(names) if names else None


def split_category(value: str) -> list[str]:
    """The parts of a category path written with ``>``, ``»`` or ``›``."""
    for sep in CATEGORY_SEPARATORS[1:]:
        value = value.replace(sep, CATEGORY_SEPARATORS[0])
    return [p.strip() for p in value.split(CATEGORY_SEPARATORS[0]) if p.strip()]


def _categories(record: dict, origin: str, notes: list[str] | None) -> tuple[str | None, list[str]]:
    """``(category path, categories)``: ``category`` is a name, a path (``"Y tế > Phòng
    chống dịch"``) or a breadcrumb list; ``categories`` are further labels."""
    raw = record.get("categories")
    raw_category = record.get("category")

    def listed(values: Any) -> list[str]:
        if not isinstance(values, list):
            values = [values]
        found = []
        for value in values:  # names only: other values in a list are not categories
            if isinstance(value, str):
                text = _text_field({"category": value}, "category", origin, notes, True)
                if text:
                    found.append(text)
        return found

    names = listed(raw) if raw else []
    if isinstance(raw_category, list):
        category = category_path(listed(raw_category))
    else:
        text = _text_field({"category": raw_category}, "category", origin, notes, one_line=True)
        category = category_path(split_category(text)) if text else None
    if category is None and names:
        category = names[-1]
    for part in split_category(category) if category else []:
        if part not in names:
            names.append(part)
    return category, names


def _record_id(record: dict, url: str | None, fallback: str, notes: list[str] | None) -> str:
    """The record's own id, else one derived from its URL, else ``fallback``."""
    given = record.get("id")
    if given is not None and not isinstance(given, (dict, list, bool)) and str(given).strip():
        given = str(given) if notes is None else _valid_unicode(str(given), "id", notes)
        return nfc(given.strip())
    if url:
        return id_from_url(url)
    return fallback


def _parse_views(value: Any) -> int | None:
    """A view count from an int or a numeric string (``"2.468"`` reads as 2468)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        digits = "".join(ch for ch in value if ch.isdigit())
        return int(digits) if digits and not value.strip().startswith("-") else None
    return None
