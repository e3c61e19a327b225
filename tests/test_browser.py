"""The search page end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright for Python) against real gunicorn over a copy of the demo index.

Skips when /usr/bin/chromium or the playwright package is missing (``make browser-deps``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest

from bench.latency import stop_process
from indexer.analysis import fold_diacritics

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("no /usr/bin/chromium (Debian package 'chromium')", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright Python package is not installed"
)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 15_000  # any one wait in the page
SERVER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class Portal:
    """A stand-in portal page on another origin that includes embed.js."""

    def __init__(self, root: Path, search_base: str):
        (root / "index.html").write_text(
            '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng quận</title>'
            '<form action="/tim"><label>Tìm <input id="portal-search" name="q"></label></form>'
            f'<script src="{search_base}/embed.js" data-input="#portal-search"></script>',
            encoding="utf-8",
        )
        self.httpd = HTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/index.html"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_index: Path):
    """gunicorn over a private copy of the demo index; CORS for the portal's origin only."""
    index = tmp_path_factory.mktemp("browser") / "index"
    shutil.copytree(demo_index, index, symlinks=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    site = Portal(tmp_path_factory.mktemp("portal"), base)
    log = tmp_path_factory.mktemp("logs") / "gunicorn.log"
    env = dict(
        os.environ,
        VNSEARCH_INDEX=str(index),
        VNSEARCH_CORS_ORIGINS=f"http://127.0.0.1:{site.port}",
    )
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "api:get_app()", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1", "--timeout", "60"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urlopen(f"{base}/health", timeout=5) as resp:
                    if json.load(resp)["documents"] > 30:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield {"base": base, "portal": site}
    finally:
        stop_process(proc, grace=20)
        site.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"script errors in the page: {errors}"


# --------------------------------------------------------------------------- helpers
def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def result_titles(page) -> list[str]:
    return page.locator("#results .result-title a").all_inner_texts()


def wait_results(page) -> None:
    """Wait until the page has drawn the answer for its current URL."""
    page.wait_for_function(
        "() => !document.querySelector('#results').hasAttribute('aria-busy')"
        " && !document.querySelector('#search-view').hidden"
    )
    page.locator("#summary strong").first.wait_for()


def wait_url(page, pattern: str) -> None:
    page.wait_for_url(re.compile(pattern))
    wait_results(page)


# --------------------------------------------------------------------------- the journey
def test_search_narrow_read_and_go_back(server, page):
    base = server["base"]
    page.goto(base + "/")
    wait_results(page)
    assert page.locator("#results .result").count() == 10  # newest articles, first page

    # --- autocomplete: type without diacritics, pick with the keyboard
    box = page.locator("#q")
    box.click()
    page.keyboard.type("thanh uy", delay=30)
    options = page.locator("#suggestions [role=option]")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    first = options.first
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    picked = first.locator(".suggestion-text").inner_text()
    page.keyboard.press("Enter")
    wait_url(page, r"/\?q=")
    assert query_of(page)["q"] == [picked]
    assert box.input_value() == picked
    assert page.locator("#suggestions").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"

    # --- a plain query: highlighted results, the total and the time
    box.fill("")
    page.keyboard.type("thanh uy", delay=30)
    options.first.wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#suggestions").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    wait_url(page, r"/\?q=thanh\+uy$")
    marks = page.locator("#results .result-snippet mark")
    assert marks.count() > 0
    for mark in marks.all_inner_texts():
        assert set(fold_diacritics(mark).lower().split()) <= {"thanh", "uy"}, mark
    total = int(page.locator("#summary strong").inner_text().replace(".", ""))
    assert total > 1 and len(result_titles(page)) == min(total, 10)
    assert "giây" in page.locator("#summary").inner_text()
    assert page.locator("#histogram svg rect.bar").count() >= 2

    # --- narrow by a category facet
    facet = page.locator("#facet-category a.facet").first
    category = facet.locator(".facet-name").inner_text()
    facet_count = int(facet.locator(".count").inner_text())
    facet.click()
    wait_url(page, r"category=")
    assert query_of(page)["category"] == [category]
    assert page.locator("#results .result").count() == min(facet_count, 10)
    assert set(page.locator("#results .result-meta .tag").all_inner_texts()) == {category}
    assert page.locator("#chips .chip").all_text_contents()[0].startswith("Chuyên mục: " + category)
    category_url = page.url
    category_titles = result_titles(page)

    # --- and a date range: the year of the first hit, typed into the date inputs
    year = page.locator("#results time").first.get_attribute("datetime")[:4]
    page.fill("#date-from", f"01/01/{year}")
    page.fill("#date-to", f"31/12/{year}")
    page.get_by_role("button", name="Áp dụng").click()
    wait_url(page, r"from=")
    assert query_of(page)["from"] == [f"{year}-01-01"]
    assert query_of(page)["to"] == [f"{year}-12-31"]
    dates = page.locator("#results time").all_inner_texts()
    assert dates and all(d.endswith("/" + year) for d in dates)
    assert page.locator("#chips .chip").count() == 2
    assert page.locator(f"#facet-date a.year.on:has-text('{year}')").count() == 1
    narrowed_url = page.url
    narrowed_titles = result_titles(page)
    assert set(narrowed_titles) <= set(category_titles)

    # --- open an article that names officials
    hit = page.locator("#results .result", has=page.locator(".result-officials")).first
    title = hit.locator(".result-title a").inner_text()
    hit.locator(".result-title a").click()
    page.wait_for_url(re.compile(r"/a/"))
    assert page.locator("h1.article-title").inner_text() == title
    assert page.locator(".article-body p").count() >= 1
    assert page.locator("#search-view").is_hidden()
    page.locator("#related li a").first.wait_for()
    assert title not in page.locator("#related li a").all_inner_texts()
    article_url = page.url

    # --- follow one of its officials
    official_link = page.locator("a.official-link").first
    official = official_link.inner_text()
    official_link.click()
    wait_url(page, r"/\?official=")
    assert query_of(page) == {"official": [official]}
    assert page.locator("#chips .chip").text_content().startswith("Nhân vật: " + official)
    for names in page.locator("#results .result-officials").all_inner_texts():
        assert official in names

    # --- back: the article, then the narrowed results, then the category only
    page.go_back()
    page.wait_for_url(article_url)
    page.locator("h1.article-title", has_text=title).wait_for()
    page.go_back()
    page.wait_for_url(narrowed_url)
    wait_results(page)
    assert result_titles(page) == narrowed_titles
    assert box.input_value() == "thanh uy"
    assert page.locator("#chips .chip").count() == 2
    page.go_back()
    page.wait_for_url(category_url)
    wait_results(page)
    assert result_titles(page) == category_titles
    assert page.locator("#chips .chip").count() == 1

    # --- reloading a shared URL draws the same page
    page.goto(narrowed_url)
    wait_results(page)
    assert result_titles(page) == narrowed_titles
    assert page.locator("#date-from").input_value() == f"01/01/{year}"

    # --- a removable chip: drop the category, keep the dates
    page.locator("#chips .chip", has_text="Chuyên mục").click()
    wait_url(page, r"from=")
    assert "category" not in query_of(page)
    assert query_of(page)["q"] == ["thanh uy"]


def test_sort_and_pagination(server, page):
    page.goto(server["base"] + "/?q=quan")
    wait_results(page)
    page.select_option("#sort", "oldest")
    wait_url(page, r"sort=oldest")
    days = page.locator("#results time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert days == sorted(days) and len(days) > 1
    page.locator("#pagination a", has_text="2").first.click()
    wait_url(page, r"page=2")
    second = page.locator("#results time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert second and min(second) >= max(days)
    assert page.locator("#pagination [aria-current=page]").inner_text() == "2"
    page.go_back()
    wait_url(page, r"sort=oldest$")
    assert page.locator("#results time").evaluate_all("ts => ts.map(t => t.dateTime)") == days


def test_histogram_bar_narrows_to_its_period(server, page):
    page.goto(server["base"] + "/?q=quan")
    wait_results(page)
    page.evaluate("window.samePage = true")
    bar = page.locator("#histogram svg a").first
    year = bar.get_attribute("aria-label")[:4]
    bar.click()
    wait_url(page, r"from=")
    assert query_of(page)["from"] == [f"{year}-01-01"]
    assert query_of(page)["to"] == [f"{year}-12-31"]
    assert page.evaluate("window.samePage") is True  # drawn in the page, no reload
    dates = page.locator("#results time").all_inner_texts()
    assert dates and all(d.endswith("/" + year) for d in dates)
    assert page.locator("#histogram figcaption").inner_text().startswith("Số kết quả theo tháng")


def test_empty_state_offers_tips(server, page):
    page.goto(server["base"] + "/?q=zzqxw+khongcotu&category=Gi%C3%A1o+d%E1%BB%A5c")
    wait_results(page)
    empty = page.locator("#empty")
    assert empty.is_visible()
    assert page.locator("#results .result").count() == 0
    assert "chính tả" in empty.inner_text()
    empty.get_by_role("link", name="tìm lại không kèm bộ lọc").click()
    wait_url(page, r"/\?q=zzqxw")
    assert "category" not in query_of(page)


def test_partial_matches_and_the_folded_reading_are_labelled(server, page):
    page.goto(server["base"] + "/?q=olympic+b%C3%A3o+x%C4%83ng")  # no article holds all three
    wait_results(page)
    assert page.locator("#summary strong").first.inner_text() == "0"
    assert page.locator("#results .result").count() == 0
    assert page.locator("#partial").is_visible()
    assert "một phần" in page.locator("#partial-title").inner_text()
    assert page.locator("#partial .result").count() > 0
    page.goto(server["base"] + "/?q=b%E1%BA%ABo")  # "bẫo": no article spells it so
    wait_results(page)
    assert "Hiển thị kết quả cho" in page.locator("#summary").inner_text()
    assert "bao" in page.locator("#summary .relaxed q").inner_text()
    assert page.locator("#results .result").count() > 0
    assert page.locator("#partial").is_hidden()


def test_did_you_mean_searches_the_correction(server, page):
    page.goto(server["base"] + "/?q=thnah+uy")
    wait_results(page)
    link = page.locator("#did-you-mean a")
    assert page.locator("#did-you-mean").inner_text().startswith("Bạn có muốn tìm:")
    correction = link.inner_text()
    assert fold_diacritics(correction) == "thanh uy"
    link.click()
    wait_url(page, r"q=th%C3%A0nh")
    assert query_of(page)["q"] == [correction]
    assert page.locator("#q").input_value() == correction
    page.go_back()
    wait_url(page, r"q=thnah")
    assert page.locator("#did-you-mean a").inner_text() == correction


def test_did_you_mean_fixes_a_slip_in_context(server, page):
    """A slip and missing accents: the page offers the archive's phrase, which finds it."""
    page.goto(server["base"] + "/?q=hoc+sinh+gioii")
    wait_results(page)
    link = page.locator("#did-you-mean a")
    assert link.inner_text() == "học sinh giỏi"
    link.click()
    wait_url(page, r"gi%E1%BB%8Fi")
    wait_results(page)
    assert page.locator("#results .result").count() > 0


def test_no_did_you_mean_that_only_adds_accents(server, page):
    """A query typed without diacritics that found results is not second-guessed."""
    answer = page.request.get(server["base"] + "/search?q=thanh+uy").json()
    assert answer["total"] > 0 and fold_diacritics(answer["did_you_mean"]) == "thanh uy"
    page.goto(server["base"] + "/?q=thanh+uy")
    wait_results(page)
    assert page.locator("#did-you-mean").is_hidden()


def test_snippet_html_other_than_mark_is_shown_as_text(server, page):
    """A snippet carrying markup besides <mark> is never inserted as HTML."""

    def tamper(route):
        answer = route.fetch().json()
        answer["hits"][0]["snippet"] = 'a <img src="x" onerror="window.pwned=1"> <mark>b</mark>'
        route.fulfill(json=answer)

    page.route("**/search?*", tamper)
    page.goto(server["base"] + "/?q=thanh+uy")
    wait_results(page)
    first = page.locator("#results .result-snippet").first
    assert first.locator("img").count() == 0 and first.locator("mark").count() == 0
    assert first.text_content() == "a  b"
    assert page.evaluate("window.pwned") is None
    assert page.locator("#results .result-snippet").nth(1).locator("mark").count() > 0


def test_article_view_of_an_unknown_id(server, page):
    page.goto(server["base"] + "/a/khong-co/bai-nay")
    page.locator("h1", has_text="Không tìm thấy tin bài").wait_for()


def test_embed_js_on_an_allowed_portal(server, page):
    base, portal = server["base"], server["portal"]
    page.goto(portal.url())
    box = page.locator("#portal-search")
    box.click()
    # the list is drawn again for each answer: choose in the one for the whole text
    with page.expect_response(lambda r: "/suggest?q=thanh+uy&" in r.url):
        page.keyboard.type("thanh uy", delay=30)
    option = page.locator("[role=listbox] [role=option]").first
    option.wait_for()
    page.keyboard.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    picked = option.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(base) + r"/\?q="))
    assert query_of(page)["q"] == [picked]
    wait_results(page)


def test_embed_js_from_an_origin_not_configured(server, page):
    """localhost is another origin than 127.0.0.1: the service gives it no CORS header."""
    portal = server["portal"]
    page.goto(portal.url(host="localhost"))
    with page.expect_event("requestfailed", lambda r: "/suggest?" in r.url) as failed:
        page.locator("#portal-search").click()
        page.keyboard.type("thanh uy", delay=30)
    assert failed.value.failure  # blocked by the browser: no Access-Control-Allow-Origin
    assert page.locator("[role=listbox] [role=option]").count() == 0
    page.keyboard.press("Enter")  # Enter still searches
    page.wait_for_url(re.compile(re.escape(server["base"]) + r"/\?q=thanh\+uy$"))
