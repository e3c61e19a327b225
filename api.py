"""The HTTP API: ``get_app()`` is what gunicorn runs; ``create_app(engine, settings)`` builds it.

    gunicorn 'api:get_app()'     # settings from the environment (``settings.Settings``)

Importing this module builds nothing. Every bad parameter answers 400 with
``{"error", "parameter"}``, an unknown id 404, a missing index 503; nothing answers 500
with a stack trace.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import unicodedata
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

import falcon

from indexer.analysis import drop_invisible
from indexer.store import IndexMissing
from search import export, officials, suggest
from search.admission import Busy, Slots
from search.analytics import QueryLog
from search.cursor import CursorError
from search.cursor import decode as decode_cursor
from search.dates import DateRangeError, parse_date_range
from search.engine import FACET_LIMIT, SORTS, Engine, SearchRequest
from search.related import RelatedFinder, RelatedRequest
from search.syntax import DATE_SYNTAX, unreadable_date
from settings import Settings
from web import article_page
from web import site as site_page
from web.site import Site

MAX_QUERY_CHARS = 1000
MAX_PER_PAGE = 100
MAX_FACET_LIMIT = 1000  # values per facet ("Xem thêm" on the page asks for more)
MAX_PAGE = 1_000  # with MAX_PER_PAGE: 100,000 hits deep; deeper results need a cursor
HISTOGRAMS = ("year", "month")
WEB_DIR = Path(__file__).resolve().parent / "web"
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
JSON_TYPES = ("application/json",)  # POST /related's body (a charset parameter is allowed)
log = logging.getLogger("vnsearch.api")


class BadParameter(Exception):
    """A request parameter that cannot be used; answered as 400."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


# --------------------------------------------------------------------------- parameters
def param_values(req: falcon.Request, name: str) -> list[str]:
    """Every value of the query parameter ``name``. A value whose percent-escapes do not
    spell UTF-8 (``q=%FF``, a lone ``%C3``) is a 400 naming ``name``: Falcon reads such
    bytes as U+FFFD, which would search or filter on text nobody sent."""
    values = req.get_param_as_list(name) or []
    if any("\ufffd" in v for v in values):
        for field in req.query_string.split("&"):
            key, _, raw = field.partition("=")
            if falcon.uri.decode(key) != name:
                continue
            try:
                unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadParameter(
                    name, f"'{name}' is not UTF-8 text (its %-escapes must spell UTF-8 bytes)"
                ) from None
    return values


def path_text(req: falcon.Request, value: str, name: str) -> str:
    """``value``, a field of the path; a 400 naming ``name`` when the path's bytes are
    not UTF-8 (``/articles/%FF``), which Falcon reads as U+FFFD."""
    if "\ufffd" in value:
        try:
            req.env.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        except UnicodeEncodeError:
            pass  # a server that already decoded the path: text as sent
        except UnicodeDecodeError:
            raise BadParameter(
                name, f"'{name}' is not UTF-8 text (its %-escapes must spell UTF-8 bytes)"
            ) from None
    return value


def _one(req: falcon.Request, name: str) -> str | None:
    values = param_values(req, name)
    if len(values) > 1:
        raise BadParameter(name, f"'{name}' may be given once")
    return values[0] if values else None


def int_param(req: falcon.Request, name: str, default: int, low: int, high: int) -> int:
    raw = _one(req, name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():  # int() would also take " 5", "+5", "5_0"
        if raw.startswith("-") and raw[1:].isascii() and raw[1:].isdigit():
            raise BadParameter(name, f"'{name}' must be between {low} and {high}, not {raw}")
        raise BadParameter(name, f"'{name}' must be a whole number, not {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BadParameter(name, f"'{name}' must be between {low} and {high}, not {value}")
    return value


def choice_param(req: falcon.Request, name: str, choices: tuple[str, ...], default):
    raw = _one(req, name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise BadParameter(name, f"'{name}' must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def bool_param(req: falcon.Request, name: str, default: bool) -> bool:
    raw = _one(req, name)
    if raw is None or raw == "":
        return default
    if raw in TRUE_WORDS:  # exactly these words (the OpenAPI enum)
        return True
    if raw in FALSE_WORDS:
        return False
    raise BadParameter(name, f"'{name}' must be true or false, not {raw!r}")


def date_range(date_from: object, date_to: object) -> tuple[datetime | None, datetime | None]:
    """``from`` and ``to`` as inclusive bounds (``search.dates.parse_date_range``); 400 naming
    the bound at fault."""
    try:
        return parse_date_range(date_from, date_to)
    except DateRangeError as exc:
        raise BadParameter(exc.bound, str(exc)) from None


def text_param(req: falcon.Request, name: str, limit: int = MAX_QUERY_CHARS) -> str:
    raw = _one(req, name) or ""
    # counted in composed letters: a decomposed paste (NFD, as some macOS apps copy)
    # spends up to three code points on one Vietnamese letter (e + ̂ + ́ = ế)
    if len(raw) > limit and (
        len(raw) > 3 * limit or len(unicodedata.normalize("NFC", raw)) > limit
    ):
        raise BadParameter(name, f"'{name}' is longer than {limit} characters")
    return checked_text(raw, name)


def read_body(req: falcon.Request, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body, sent with a Content-Length or chunked (gunicorn
    decodes the chunks; Falcon's bounded stream reads nothing without a length)."""
    chunked = "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
    stream = req.stream if req.content_length is None and chunked else req.bounded_stream
    return stream.read(limit)


def checked_text(value: str, name: str) -> str:
    """``value`` when it is text that UTF-8 can carry; a lone surrogate (``\\ud800``, which
    JSON's escapes can spell) is a 400 naming ``name``. Invisible characters (a soft
    hyphen, a zero-width space) are dropped, as they are from articles."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadParameter(name, f"'{name}' holds a character that is not text") from None
    return drop_invisible(value)


def list_param(req: falcon.Request, name: str) -> tuple[str, ...]:
    values = [v.strip() for v in param_values(req, name) if v.strip()]
    for v in values:
        if len(v) > 200:
            raise BadParameter(name, f"'{name}' values must be at most 200 characters")
    return tuple(kept for v in values if (kept := checked_text(v, name).strip()))


def search_request(req: falcon.Request, max_page: int = MAX_PAGE) -> SearchRequest:
    """Validate the parameters shared by /search, /export and the page."""
    q = text_param(req, "q")
    bad_date = unreadable_date(q)
    if bad_date is not None:
        raise BadParameter(
            "q", f"'q' filters on date:{bad_date}, which is not a date: {DATE_SYNTAX}"
        )
    date_from, date_to = date_range(_one(req, "from"), _one(req, "to"))
    per_page = int_param(req, "per_page", 10, 1, MAX_PER_PAGE)
    page = int_param(req, "page", 1, 1, max_page)  # bounds of their own: the contract
    return SearchRequest(
        q=q,
        date_from=date_from,
        date_to=date_to,
        categories=list_param(req, "category"),
        officials=list_param(req, "official"),
        sort=choice_param(req, "sort", SORTS, "relevance"),
        page=page,
        per_page=per_page,
        facets=bool_param(req, "facets", True),
        histogram=choice_param(req, "histogram", HISTOGRAMS, None),
        facet_limit=int_param(req, "facet_limit", FACET_LIMIT, 1, MAX_FACET_LIMIT),
    )


# --------------------------------------------------------------------------- resources
class Readable:
    """``HEAD`` answered as ``GET`` without the body (RFC 9110 9.3.2: every
    general-purpose server supports it; uptime monitors send it). Falcon drops the body
    and keeps the headers. Not for streamed answers (/export), whose stream would be
    dropped unread."""

    def on_head(self, req, resp, **params):
        self.on_get(req, resp, **params)


class HealthResource(Readable):
    def __init__(self, engine: Engine):
        self.engine = engine

    def on_get(self, req, resp):
        resp.media = {
            "status": "ok",
            "documents": self.engine.doc_count(),
            "warm": self.engine.is_warm(),
        }


class StatsResource(Readable):
    def __init__(self, engine: Engine):
        self.engine = engine

    def on_get(self, req, resp):
        resp.media = self.engine.stats()


class SearchResource(Readable):
    """``GET /search``. A query longer than ``long_query_chars`` takes one of
    ``long_slots``. With ``log=true`` (what the search page sends for a visitor's new
    search) the query text and whether it found anything go to the owner's query log."""

    def __init__(
        self,
        engine: Engine,
        max_page: int = MAX_PAGE,
        long_slots: Slots | None = None,
        long_query_chars: int = 200,
        query_log: QueryLog | None = None,
    ):
        self.engine = engine
        self.max_page = max_page
        self.long_slots = long_slots or Slots("long query", 1)
        self.long_query_chars = long_query_chars
        self.query_log = query_log

    def on_get(self, req, resp):
        request = search_request(req, self.max_page)
        token = _one(req, "cursor")
        logged = bool_param(req, "log", False)
        try:
            if token:  # a cursor replaces `page` (and may go deeper than MAX_PAGE)
                request = replace(request, after=decode_cursor(token, request))
            if len(request.q) > self.long_query_chars:
                with self.long_slots.held():
                    answer = self.engine.search(request)
            else:
                answer = self.engine.search(request)
        except CursorError as exc:
            raise BadParameter("cursor", str(exc)) from None
        if logged and self.query_log and request.page == 1 and not token and request.q.strip():
            self.query_log.record_search(request.q, answer["total"])
        resp.media = answer


class ClickResource:
    """``POST /queries/click`` ``{"q": …}``: a visitor opened a result of ``q`` (the query
    log counts clicks per query; nothing about the visitor is kept). Answers 204."""

    MAX_BODY_BYTES = 4096

    def __init__(self, query_log: QueryLog | None):
        self.query_log = query_log

    def on_post(self, req, resp):
        raw = read_body(req, self.MAX_BODY_BYTES + 1)
        try:
            doc = json.loads(raw.decode("utf-8")) if len(raw) <= self.MAX_BODY_BYTES else None
        except (UnicodeDecodeError, ValueError):
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("q"), str):
            raise BadParameter("q", "the body must be a JSON object with the query 'q'")
        if self.query_log and checked_text(doc["q"], "q").strip():
            self.query_log.record_click(doc["q"])
        resp.status = falcon.HTTP_204


class ExportResource:
    """``GET /export``: every match of a search as CSV or JSON Lines, streamed.

    ``mode`` is ``public``, ``key`` (``Authorization: Bearer <key>``) or ``off`` (403);
    a stream holds one of ``slots`` until it ends.
    """

    def __init__(
        self,
        engine: Engine,
        mode: str = "public",
        key: str | None = None,
        slots: Slots | None = None,
    ):
        self.engine = engine
        self.mode, self.key = mode, key
        self.slots = slots or Slots("export", 1)

    def allow(self, req) -> None:
        """Raise 403 when exports are off, 401 when a key is needed and not given."""
        if self.mode == "off":
            raise falcon.HTTPForbidden(description="exports are turned off on this server")
        if self.mode == "key":
            scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode("utf-8", "replace"), (self.key or "").encode("utf-8")
            ):
                raise falcon.HTTPUnauthorized(
                    description="exports need a key: Authorization: Bearer <key>",
                    challenges=['Bearer realm="export"'],
                )

    def on_get(self, req, resp):
        self.allow(req)
        request = search_request(req)
        fmt = choice_param(req, "format", export.FORMATS, "jsonl")
        extra = [f.strip() for v in param_values(req, "fields") for f in v.split(",")]
        try:
            export.columns([f for f in extra if f])
        except ValueError as exc:
            raise BadParameter("fields", str(exc)) from None
        self.slots.take()
        try:
            total, chunks = export.export_stream(self.engine, request, fmt, [f for f in extra if f])
        except BaseException:
            self.slots.give_back()
            raise
        resp.content_type = export.MEDIA_TYPES[fmt]
        resp.downloadable_as = export.export_filename(fmt, time.strftime("%Y%m%d-%H%M%S"))
        resp.set_header("X-Total-Count", str(total))
        resp.set_header("X-Accel-Buffering", "yes")  # nginx spools it for slow readers
        resp.stream = self.slots.hold_while(chunks)


class ArticleResource(Readable):
    def __init__(self, engine: Engine):
        self.engine = engine

    def on_get(self, req, resp, article_id: str):
        article = self.engine.article(path_text(req, article_id, "id"))
        if article is None:
            raise falcon.HTTPNotFound(
                title="Not Found", description=f"no article with id {article_id!r}"
            )
        resp.media = article


class SuggestResource(Readable):
    """``GET /suggest?q=…&limit=8``: completions of what has been typed, best first."""

    def __init__(self, engine: Engine):
        self.engine = engine
        suggest.warm_titles(engine.root)  # under --preload: once, in the master

    def on_get(self, req, resp):
        q = text_param(req, "q", suggest.MAX_QUERY_CHARS)
        limit = int_param(req, "limit", suggest.DEFAULT_LIMIT, 1, suggest.MAX_LIMIT)
        found = []
        if q.strip():
            found = self.engine.snapshot().suggester().suggest(q, limit)
        resp.media = {"suggestions": found}


class OfficialsResource(Readable):
    """``GET /officials?q=…&limit=20``: officials by article count, filtered by name prefix."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def on_get(self, req, resp):
        q = text_param(req, "q", officials.MAX_QUERY_CHARS)
        limit = int_param(req, "limit", officials.DEFAULT_LIMIT, 1, officials.MAX_LIMIT)
        resp.media = officials.official_directory(self.engine).listing(q, limit)


class OfficialResource(Readable):
    """``GET /officials/{name}``: one official's counts, positions, years and latest articles."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def on_get(self, req, resp, name: str):
        name = path_text(req, name, "name")
        if len(name) > officials.MAX_QUERY_CHARS:
            raise BadParameter(
                "name", f"'name' is longer than {officials.MAX_QUERY_CHARS} characters"
            )
        limit = int_param(req, "limit", officials.DEFAULT_LATEST, 1, officials.MAX_LATEST)
        answer = officials.official_directory(self.engine).detail(name, limit)
        if answer is None:
            raise falcon.HTTPNotFound(title="Not Found", description=f"no official named {name!r}")
        resp.media = answer


class RelatedResource(Readable):
    """``GET /related?id=…`` (an indexed article) and ``POST /related`` (a draft's text)."""

    MAX_LIMIT = 50
    MAX_BODY_BYTES = 100 * 1024

    def __init__(self, engine: Engine, slots: Slots | None = None):
        self.finder = RelatedFinder(engine)
        self.slots = slots or Slots("draft", 1)

    def on_get(self, req, resp):
        article_id = text_param(req, "id")
        if not article_id.strip():
            raise BadParameter("id", "'id' (the id of an indexed article) is required")
        date_from, date_to = date_range(_one(req, "from"), _one(req, "to"))
        limit = int_param(req, "limit", 5, 1, self.MAX_LIMIT)
        rel = RelatedRequest(limit, date_from, date_to, list_param(req, "category"))
        answer = self.finder.for_article(article_id, rel)
        if answer is None:
            raise falcon.HTTPNotFound(
                title="Not Found", description=f"no article with id {article_id!r}"
            )
        resp.media = answer

    def on_post(self, req, resp):
        doc = self._json_body(req)  # a field given as null is a field left out
        text, title = doc.get("text"), doc.get("title")
        if not isinstance(text, str) or not checked_text(text, "text").strip():
            raise BadParameter("text", "'text' (the article's text) is required")
        title = "" if title is None else title
        if not isinstance(title, str):
            raise BadParameter("title", "'title' must be a string")
        text, title = checked_text(text, "text"), checked_text(title, "title")
        limit = doc.get("limit")
        limit = 5 if limit is None else limit
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # JSON has one kind of number: 6.0 is the integer 6
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise BadParameter("limit", f"'limit' must be a whole number, not {limit!r}")
        if not 1 <= limit <= self.MAX_LIMIT:
            raise BadParameter("limit", f"'limit' must be between 1 and {self.MAX_LIMIT}")
        date_from, date_to = date_range(doc.get("from"), doc.get("to"))
        categories = doc.get("category")
        categories = [] if categories is None else categories
        categories = [categories] if isinstance(categories, str) else categories
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise BadParameter("category", "'category' must be a string or a list of strings")
        categories = [checked_text(c, "category") for c in categories]
        rel = RelatedRequest(limit, date_from, date_to, tuple(c for c in categories if c.strip()))
        with self.slots.held():
            resp.media = self.finder.for_text(text, title, rel)

    def _json_body(self, req) -> dict:
        """The body as a JSON object: ``application/json`` (415 otherwise, so that no page
        elsewhere can post a draft without a CORS preflight), at most 100 KB (413), with a
        Content-Length or chunked."""
        media = (req.content_type or "").split(";", 1)[0].strip().lower()
        if media not in JSON_TYPES:
            raise falcon.HTTPUnsupportedMediaType(
                description="the body must be sent as Content-Type: application/json"
            )
        if (req.content_length or 0) > self.MAX_BODY_BYTES:
            raise falcon.HTTPContentTooLarge(description="the body is larger than 100 KB")
        raw = read_body(req, self.MAX_BODY_BYTES + 1)
        if len(raw) > self.MAX_BODY_BYTES:
            raise falcon.HTTPContentTooLarge(description="the body is larger than 100 KB")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BadParameter("body", "the body must be a JSON object in UTF-8") from None
        if not isinstance(doc, dict):
            raise BadParameter("body", "the body must be a JSON object")
        return doc


WEB_TYPES = {".html": falcon.MEDIA_HTML, ".js": falcon.MEDIA_JS, ".css": "text/css"}
WEB_TYPES.update({".svg": "image/svg+xml", ".png": falcon.MEDIA_PNG, ".ico": "image/x-icon"})
WEB_STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(?:js|css|svg|png|ico)$")


def send_web_file(req, resp, path: Path, status: str = falcon.HTTP_200) -> None:
    """One file of web/ with its type and an ETag (304 when the browser has it)."""
    try:
        stat = path.stat()
    except OSError:
        raise falcon.HTTPNotFound(description=f"no such file: {path.name}") from None
    etag = falcon.ETag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
    resp.etag = etag
    resp.cache_control = ["no-cache"]
    if status == falcon.HTTP_200 and req.if_none_match and etag in req.if_none_match:
        resp.status = falcon.HTTP_304
        resp.content_type = None
        return
    resp.status = status
    resp.content_type = WEB_TYPES.get(path.suffix, falcon.MEDIA_TEXT)
    resp.data = path.read_bytes()


def send_text(req, resp, text: str, content_type: str) -> None:
    """A page or script built from web/ and the settings, with an ETag of its content."""
    data = text.encode("utf-8")
    etag = falcon.ETag(hashlib.blake2b(data, digest_size=12).hexdigest())
    resp.etag = etag
    resp.cache_control = ["no-cache"]
    if req.if_none_match and etag in req.if_none_match:
        resp.status = falcon.HTTP_304
        resp.content_type = None
        return
    resp.content_type = content_type
    resp.data = data


class PageResource(Readable):
    """The search page at ``/`` (drawn by app.js from the URL), with the site's brand."""

    def __init__(self, site: Site):
        self.site = site

    def on_get(self, req, resp):
        template = (WEB_DIR / "index.html").read_text(encoding="utf-8")
        send_text(req, resp, site_page.brand_page(template, self.site), falcon.MEDIA_HTML)


class EditorPageResource(Readable):
    """``/editor``: paste a draft, see the archive's related articles (web/editor.js asks
    ``POST /related``), with the site's brand."""

    def __init__(self, site: Site):
        self.site = site

    def on_get(self, req, resp):
        template = (WEB_DIR / "editor.html").read_text(encoding="utf-8")
        send_text(req, resp, site_page.brand_page(template, self.site), falcon.MEDIA_HTML)


class SiteStyleResource(Readable):
    """``/site.css``: the site's accent colour as the page's CSS variables."""

    def __init__(self, site: Site):
        self.site = site

    def on_get(self, req, resp):
        send_text(req, resp, site_page.site_css(self.site), "text/css; charset=utf-8")


class EmbedScriptResource(Readable):
    """``/embed.js`` carrying the allowed origins, the site's name and colour."""

    def __init__(self, site: Site):
        self.site = site

    def on_get(self, req, resp):
        source = (WEB_DIR / "embed.js").read_text(encoding="utf-8")
        script = site_page.embed_script(source, self.site)
        send_text(req, resp, script, "text/javascript; charset=utf-8")


class ArticlePageResource(Readable):
    """``/a/{id}``: the article rendered on the server (web.article_page), with its
    related articles; 404 with a readable page for an unknown id. Without an index, the
    plain page, which explains that the service is not ready."""

    RELATED = 5

    def __init__(self, engine: Engine, site: Site | None = None):
        self.engine = engine
        self.site = site or Site()
        self.finder = RelatedFinder(engine)

    def on_get(self, req, resp, article_id: str):
        try:
            article = self.engine.article(article_id)
        except IndexMissing:  # the page itself explains that the service is not ready
            send_web_file(req, resp, WEB_DIR / "index.html")
            return
        template = site_page.brand_page(
            (WEB_DIR / "index.html").read_text(encoding="utf-8"), self.site
        )
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-cache"]
        if article is None:
            resp.status = falcon.HTTP_404
            resp.text = article_page.render_missing(template, self.site.name)
            return
        related = self.finder.for_article(article_id, RelatedRequest(self.RELATED)) or {}
        canonical = req.prefix + article_page.article_path(article_id)
        resp.text = article_page.render_article(
            template, article, related.get("hits") or [], canonical, self.site.name
        )


class StaticResource(Readable):
    """``/static/{name}``: the page's scripts and styles from web/."""

    def on_get(self, req, resp, name: str):
        if not WEB_STATIC_NAME.match(name):
            raise falcon.HTTPNotFound(description=f"no such file: {name}")
        send_web_file(req, resp, WEB_DIR / name)


def add_web_routes(app: falcon.App, engine: Engine, site: Site | None = None) -> None:
    """The search page, the article view, their static files and embed.js."""
    site = site or Site()
    app.add_route("/", PageResource(site))
    app.add_route("/a/{article_id:path}", ArticlePageResource(engine, site))
    app.add_route("/static/{name}", StaticResource())
    app.add_route("/editor", EditorPageResource(site))
    app.add_route("/site.css", SiteStyleResource(site))
    app.add_route("/embed.js", EmbedScriptResource(site))


class OpenAPIResource(Readable):
    def __init__(self, spec_path: Path):
        self.spec_path = spec_path

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_JSON
        resp.text = self.spec_path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- errors
def _bad_parameter(req, resp, ex: BadParameter, params):
    resp.status = falcon.HTTP_400
    resp.media = {"error": ex.message, "parameter": ex.parameter}


def _http_error(req, resp, ex: falcon.HTTPError, params):
    resp.status = ex.status
    resp.media = {"error": ex.description or ex.title or str(ex.status)}
    if ex.headers:
        resp.set_headers(ex.headers)


def _index_missing(req, resp, ex: IndexMissing, params):
    log.warning("%s", ex)  # names the directory; the answer does not
    resp.status = falcon.HTTP_503
    resp.set_header("Retry-After", "30")
    resp.media = {"error": "no index has been built yet; try again later"}


def _busy(req, resp, ex: Busy, params):
    resp.status = falcon.HTTP_429
    resp.set_header("Retry-After", str(ex.retry_after))
    resp.media = {"error": str(ex)}


def _unexpected(req, resp, ex: Exception, params):
    if isinstance(ex, falcon.HTTPError):  # routing errors (404, 405) keep their status
        return _http_error(req, resp, ex, params)
    log.exception("unexpected error on %s %s", req.method, req.path)
    resp.status = falcon.HTTP_503
    resp.set_header("Retry-After", "5")
    resp.media = {"error": "the search service could not answer this request; try again"}


# --------------------------------------------------------------------------- headers
def security_headers(settings: Settings) -> dict[str, str]:
    """Browser hardening for every answer (nginx adds the same to the files it serves):
    the page runs only its own scripts and styles (it has no inline ones), nothing is
    sniffed, pages are framed only by this site, and queries do not leak to other sites."""
    logo = urlsplit(settings.site_logo or "")
    images = " ".join(["'self'", "data:"] + ([f"https://{logo.netloc}"] if logo.netloc else []))
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


class SecurityHeaders:
    """Sets ``headers`` on every answer, and ``Vary: Origin`` when CORS makes answers
    differ by origin (so that a cache never hands one origin's answer to another)."""

    def __init__(self, headers: dict[str, str], vary_origin: bool = False):
        self.headers = headers
        self.vary_origin = vary_origin

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_headers(self.headers)
        if self.vary_origin:
            resp.append_header("Vary", "Origin")


def _json_bytes(obj) -> bytes:
    """JSON in UTF-8 with Vietnamese as it is; ASCII escapes if a string could not be
    UTF-8. Bytes, so that Falcon sends them as they are (encoded once)."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj).encode("ascii")


# --------------------------------------------------------------------------- the app
def create_app(engine: Engine, settings: Settings | None = None) -> falcon.App:
    """The Falcon app over ``engine``, configured by ``settings`` (the defaults when None)."""
    settings = settings or Settings()
    middleware = [SecurityHeaders(security_headers(settings), bool(settings.cors_origins))]
    if settings.cors_origins:
        middleware.append(falcon.CORSMiddleware(allow_origins=list(settings.cors_origins)))
    app = falcon.App(middleware=middleware)
    app.req_options.keep_blank_qs_values = True
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = falcon.media.JSONHandler(dumps=_json_bytes)
    slots = settings.heavy_slots
    app.add_route("/health", HealthResource(engine))
    app.add_route("/stats", StatsResource(engine))
    log_path = settings.analytics_path(engine.root)
    query_log = QueryLog(log_path) if log_path else None
    search = SearchResource(
        engine, settings.max_page, Slots("long query", slots), settings.long_query_chars, query_log
    )
    app.add_route("/search", search)
    app.add_route("/queries/click", ClickResource(query_log))
    app.add_route("/articles/{article_id:path}", ArticleResource(engine))
    app.add_route("/openapi.json", OpenAPIResource(WEB_DIR / "openapi.json"))
    # feature routes (one line each; the logic behind them lives in search/)
    app.add_route(
        "/export",
        ExportResource(engine, settings.export, settings.export_key, Slots("export", slots)),
    )
    app.add_route("/related", RelatedResource(engine, Slots("draft", slots)))
    app.add_route("/suggest", SuggestResource(engine))
    app.add_route("/officials", OfficialsResource(engine))
    app.add_route("/officials/{name}", OfficialResource(engine))
    add_web_routes(app, engine, Site.from_settings(settings))
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(BadParameter, _bad_parameter)
    app.add_error_handler(IndexMissing, _index_missing)
    app.add_error_handler(Busy, _busy)
    return app


def get_app(settings: Settings | None = None) -> falcon.App:
    """The served app: ``settings`` (else read once from the environment), an engine over
    their index, and the resources over that engine. gunicorn runs ``api:get_app()``;
    under gunicorn the service's log goes to gunicorn's error log."""
    settings = settings or Settings.from_env()
    _log_through_gunicorn()
    engine = Engine(
        settings.index,
        warm_postings=settings.warm_postings,
        prefetch=settings.prefetch,
        workers=settings.workers,
        freeze_gc=True,
    )
    return create_app(engine, settings)


def _log_through_gunicorn() -> None:
    """Send the ``vnsearch`` and ``search``/``indexer`` loggers to gunicorn's error log
    (``--error-logfile``) when gunicorn has set one up; else leave logging alone."""
    gunicorn_log = logging.getLogger("gunicorn.error")
    if not gunicorn_log.handlers:
        return
    for name in ("vnsearch", "search", "indexer"):
        logger = logging.getLogger(name)
        logger.handlers = list(gunicorn_log.handlers)
        logger.setLevel(logging.INFO)
        logger.propagate = False
