"""A dirty archive, as portals and crawlers produce them: every record is either in the
index or named in the report, with the right exit code. Nothing is silently lost."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from indexer import store
from search.engine import Engine, SearchRequest

ROOT = Path(__file__).resolve().parents[1]
BODY = (
    "Sáng {day}, Trung tâm Y tế quận Hồng Phúc tổ chức tiêm chủng mở rộng cho hơn hai nghìn "
    "trẻ em trên địa bàn. Đồng chí Nguyễn Văn An, Phó Chủ tịch UBND quận, kiểm tra công tác "
    "tổ chức tại các trạm y tế phường. {extra}"
)


def portal_html(title: str, meta: str, crumbs: list[str], extra: str, canonical: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    items = "".join(f'<li><a href="#">{c}</a></li>' for c in ["Trang chủ", *crumbs])
    return (
        f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title} - Cổng TTĐT'
        f' quận Hồng Phúc</title>{link}</head><body><div class="menu"><a href="/">Trang chủ</a>'
        f' <a href="/tin">Tin tức</a></div><ul class="breadcrumb">{items}</ul>'
        f'<div class="article"><h1>{title}</h1><div class="meta">{meta}</div>'
        f"<p>{BODY.format(day='9/6', extra=extra)}</p><p>Theo kế hoạch, đợt tiêm kéo dài đến hết"
        " tháng, bảo đảm an toàn và hiệu quả cho người dân trên địa bàn quận.</p></div>"
        '<div class="footer">Bản quyền thuộc Cổng TTĐT quận Hồng Phúc.</div></body></html>'
    )


PORTAL_TXT = """Kho tư liệu Cổng thông tin điện tử quận Hồng Phúc

Tin tức Tin tức

Y tế Y tế

Khám sức khỏe miễn phí cho người cao tuổi
Ngày đăng 31/02/2020 | 08:00 | Lượt xem: 12

{body}

Kho tư liệu Cổng thông tin điện tử quận Hồng Phúc
Bản quyền thuộc Cổng thông tin điện tử quận Hồng Phúc
"""


def write_warc(path: Path) -> None:
    """Two pages, a 404, an image and a request record, written with warcio."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)

        def response(url: str, status: str, ctype: str, payload: bytes) -> None:
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(payload), http_headers=headers
            )
            writer.write_record(record)

        page = portal_html(
            "Phun thuốc diệt muỗi phòng sốt xuất huyết",
            "Thứ Hai, 21/9/2025 - 08:30 | Lượt xem: 77",
            ["Y tế", "Phòng chống dịch"],
            "Đợt phun thuốc thứ nhất.",
        )
        response(
            "https://hongphuc.example.vn/y-te/phun-thuoc", "200 OK", "text/html", page.encode()
        )
        page = portal_html("Hội nghị tổng kết", "", [], "Hội nghị tổng kết năm.")
        page = page.replace(
            "<head>",
            '<head><meta property="article:published_time" content="2024-12-30T09:00:00+07:00">',
        )
        page = page.replace('<div class="meta"></div>', "")
        response("https://hongphuc.example.vn/tin/tong-ket", "200 OK", "text/html", page.encode())
        response(
            "https://hongphuc.example.vn/mat-trang", "404 Not Found", "text/html", b"<p>404</p>"
        )
        response("https://hongphuc.example.vn/logo.png", "200 OK", "image/png", b"\x89PNG\r\n")
        req = writer.create_warc_record(
            "https://hongphuc.example.vn/tin/tong-ket", "request", payload=io.BytesIO(b"GET /")
        )
        writer.write_record(req)


JSONL = [
    {
        "id": "html-1",
        "title": "Th&agrave;nh ph&#7889; <b>xanh</b>",
        "date": "2025-9-21",
        "body": "<p>Th&agrave;nh ph&#7889; trồng thêm cây xanh.</p><p>Dòng hai<br>dòng ba &amp; hết</p>",
        "category": "Môi trường",
    },
    {
        "id": "sur-1",
        "title": "Tiêu đề lỗi \ud800 mã",
        "body": "Nội dung vẫn được giữ lại.",
        "date": "21 tháng 09 năm 2025",
    },
    {
        "id": "imp-1",
        "title": "Ngày không có thật",
        "body": "Bài có ngày 31 tháng 2.",
        "date": "31/02/2020",
    },
    {
        "id": "y1-1",
        "title": "Năm một",
        "body": "Năm một có múi giờ.",
        "date": "0001-01-01T00:00:00+05:00",
    },
    {
        "id": "y9-1",
        "title": "Năm chín nghìn",
        "body": "Năm 9999 có múi giờ.",
        "date": "9999-12-31T23:59:59-05:00",
    },
    {"id": "yy-1", "title": "Hai chữ số năm", "body": "Năm viết hai chữ số.", "date": "21/09/25"},
    {
        "id": "wd-1",
        "title": "Có thứ",
        "body": "Ngày có thứ và giờ.",
        "date": "Thứ Hai, 21/9/2025 - 08:30",
    },
    {
        "title": "Không id một",
        "body": "Bản ghi không có id thứ nhất.",
        "category": ["Y tế", "Phòng chống dịch"],
    },
    {"title": "Không id hai", "body": "Bản ghi không có id thứ hai."},
    {"id": "empty-1", "title": "", "body": ""},
    {"id": "long-1", "title": "Bài rất dài", "body": "Câu dài. " * 2000},
]


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    """The dirty archive (written here, nothing from outside)."""
    archive = tmp_path_factory.mktemp("dirty") / "archive"
    for day, canonical in (("2020/06/01", ""), ("2021/06/01", "")):
        (archive / day).mkdir(parents=True)
        meta = f"Ngày đăng {day[8:]}/{day[5:7]}/{day[:4]} | 17:47 | Lượt xem: 2.468"
        page = portal_html("Tiêm chủng mở rộng", meta, ["Y tế", "Phòng chống dịch"], day, canonical)
        (archive / day / "tin-1.html").write_text(page, encoding="utf-8")
    (archive / "2021/06/02").mkdir(parents=True)
    og = (
        portal_html("Trao quà Trung thu", "", ["Xã hội"], "Quà Trung thu.")
        .replace("<h1>Trao quà Trung thu</h1>", "")
        .replace(
            "<head>",
            '<head><meta property="og:title" content="Trao quà Trung thu">'
            '<meta property="article:published_time" content="2021-09-20">',
        )
    )
    with gzip.open(archive / "2021/06/02/tin-2.htm.gz", "wt", encoding="utf-8") as out:
        out.write(og)
    (archive / "2020/06/01/tin-1.txt").write_text(
        PORTAL_TXT.format(body=BODY.format(day="2/3", extra="Bản văn bản.")), encoding="utf-8"
    )
    lines = [json.dumps(r) for r in JSONL]  # \\ud800 escaped, as exports write it
    lines.insert(3, '{"id": "broken", "title": ')
    (archive / "export.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (archive / "empty.jsonl").write_bytes(b"")
    (archive / "binary.html").write_bytes(bytes(range(256)) * 8)
    (archive / "scan.pdf").write_bytes(b"%PDF-1.4")
    write_warc(archive / "crawl.warc.gz")
    return archive


@pytest.fixture(scope="module")
def indexed(dirty, tmp_path_factory):
    index = tmp_path_factory.mktemp("dirty_index")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "indexer.cli",
            "index",
            "archive",
            "--index",
            str(index),
            "--jobs",
            "2",
        ],
        check=False,
        cwd=dirty.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return index, proc


def ids_in(index: Path) -> set[str]:
    with store.open_current(index).searcher() as s:
        return {f["id"] for f in s.all_stored_fields()}


def test_every_record_is_indexed_or_reported(indexed, dirty):
    index, proc = indexed
    assert proc.returncode == 1, proc.stderr  # some records skipped or undated: listed
    assert "Traceback" not in proc.stderr
    ids = ids_in(index)
    report = proc.stderr
    export = "archive/export.jsonl"
    expected_in = {
        "archive/2020/06/01/tin-1",  # the .html and .txt share it: the later (.txt) replaces
        "archive/2021/06/01/tin-1",  # same file name, another day: its own id
        "archive/2021/06/02/tin-2",
        "hongphuc.example.vn/y-te/phun-thuoc",  # a WARC record's URL is its id
        "hongphuc.example.vn/tin/tong-ket",
        "html-1",
        "sur-1",
        "imp-1",
        "y1-1",
        "y9-1",
        "yy-1",
        "wd-1",
        "long-1",
        "archive/export:9",  # the id-less lines, by path and line (line 4 is broken JSON)
        "archive/export:10",
    }
    assert expected_in <= ids, expected_in - ids
    reported = {
        f"{export}:4": "malformed JSON",
        f"{export}:11": "neither body nor title",
        "archive/empty.jsonl:0": "empty file",
        "archive/binary.html:1": "binary data",
        "crawl.warc.gz@": "HTTP status 404",
        "archive:0": "files of other types not read: 1 .pdf",
        "archive/2020/06/01/tin-1.txt:1": "same id 'archive/2020/06/01/tin-1' as",
    }
    for origin, reason in reported.items():
        assert any(origin in line and reason in line for line in report.splitlines()), origin
    # the replaced page is named in the same line as the one that replaced it
    assert "archive/2020/06/01/tin-1.html:1" in report
    # the WARC's records that are not pages are accounted for in one line
    assert "not pages, not indexed: 1 request record, 1 response image/png" in report
    undated = [line for line in report.splitlines() if line.startswith("undated ")]
    assert len(undated) == 4, undated  # 31/02/2020 twice (JSONL and .txt page), year 1 and 9999
    summary = proc.stdout.strip().splitlines()[-1]
    assert "(4 without a readable date)" in summary and "skipped 5" in summary, summary


def test_records_read_right(indexed):
    index, _ = indexed
    engine = Engine(index)
    article = engine.article
    html = article("html-1")
    assert html["title"] == "Thành phố xanh"
    assert "agrave" not in html["body"] and "<" not in html["body"]
    assert html["body"].splitlines() == [
        "Thành phố trồng thêm cây xanh.",
        "Dòng hai",
        "dòng ba & hết",
    ]
    assert engine.search(SearchRequest(q="agrave"))["total"] == 0
    assert article("sur-1")["title"] == "Tiêu đề lỗi \ufffd mã"
    assert article("sur-1")["date"].startswith("2025-09-21")
    for doc_id in ("yy-1", "wd-1", "html-1"):
        assert article(doc_id)["date"].startswith("2025-09-21"), doc_id
    assert article("wd-1")["date"].startswith("2025-09-21T08:30")
    for doc_id in ("imp-1", "y1-1", "y9-1"):
        assert article(doc_id)["date"] is None
    page = article("archive/2021/06/01/tin-1")
    assert page["title"] == "Tiêm chủng mở rộng"
    assert page["date"].startswith("2021-06-01T17:47") and page["views"] == 2468
    assert page["category"] == "Y tế > Phòng chống dịch"
    assert article("archive/2021/06/02/tin-2")["date"].startswith("2021-09-20")
    assert article("hongphuc.example.vn/tin/tong-ket")["date"].startswith("2024-12-30T09:00")
    assert article("hongphuc.example.vn/y-te/phun-thuoc")["date"].startswith("2025-09-21T08:30")


def test_category_path_matches_its_sub_sections(indexed):
    index, _ = indexed
    engine = Engine(index)
    under = engine.search(SearchRequest(q="", categories=("Y tế",), per_page=50))
    ids = {h["id"] for h in under["hits"]}
    assert {
        "archive/2021/06/01/tin-1",
        "hongphuc.example.vn/y-te/phun-thuoc",
        "archive/export:9",
    } <= ids
    assert "archive/2020/06/01/tin-1" in ids  # the .txt page: category "Y tế"
    sub = engine.search(SearchRequest(q="", categories=("y te > phong chong dich",), per_page=50))
    assert {h["id"] for h in sub["hits"]} < ids
    assert "archive/2020/06/01/tin-1" not in {h["id"] for h in sub["hits"]}
    facets = {f["value"]: f["count"] for f in under["facets"]["category"]}
    assert facets["Y tế"] == under["total"]  # the section counts its sub-sections
    assert facets["Y tế > Phòng chống dịch"] == sub["total"] < facets["Y tế"]


def test_same_ids_from_inside_the_archive(dirty, tmp_path):
    """``vnsearch index .`` inside the archive gives the ids ``vnsearch index archive`` gives."""
    index = tmp_path / "idx"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "indexer.cli",
            "index",
            ".",
            "--index",
            str(index),
            "--jobs",
            "1",
            "--quiet",
        ],
        check=False,
        cwd=dirty,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 1, proc.stderr
    assert "archive/2021/06/01/tin-1" in ids_in(index)
    assert "archive/export:9" in ids_in(index)


def test_no_date_at_all_is_not_a_problem(tmp_path):
    from indexer.writer import index_paths

    path = tmp_path / "plain.jsonl"
    path.write_text(json.dumps({"id": "p", "body": "Không có ngày."}) + "\n", encoding="utf-8")
    summary = index_paths([path], tmp_path / "idx", jobs=1)
    assert summary.clean and summary.line() == "indexed 1, updated 0, skipped 0"


def test_a_body_over_the_limit_is_cut_and_noted(tmp_path, monkeypatch):
    import indexer.writer

    monkeypatch.setattr(indexer.writer, "MAX_TEXT_CHARS", 3_000)
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"id": "l", "body": "Câu dài. " * 1000}) + "\n", encoding="utf-8")
    summary = indexer.writer.index_paths([path], tmp_path / "idx", jobs=1)
    assert summary.indexed == 1 and summary.noted == 1
    assert "cut to" in summary.errors[0] and "long.jsonl:1" in summary.errors[0]
    with store.open_current(tmp_path / "idx").searcher() as s:
        assert len(s.document(id="l")["body"]) <= 3_000


def test_an_exception_in_one_record_is_a_skip(tmp_path, monkeypatch):
    """Whatever preparing one record raises, that record is reported and the rest indexed
    (both in this process and in builder processes)."""
    import indexer.prepare

    real = indexer.prepare.extract_officials

    def fragile(title, body, spans, **options):
        if "HỎNG" in body:
            raise RecursionError("maximum recursion depth exceeded")
        return real(title, body, spans, **options)

    monkeypatch.setattr(indexer.prepare, "extract_officials", fragile)
    from indexer.writer import index_paths

    path = tmp_path / "mixed.jsonl"
    rows = [{"id": f"r{i}", "body": f"Bài số {i}." + (" HỎNG" if i == 3 else "")} for i in range(8)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    for jobs in (1, 2):
        summary = index_paths([path], tmp_path / f"idx{jobs}", jobs=jobs)
        assert (summary.indexed, summary.skipped) == (7, 1)
        assert "mixed.jsonl:4" in summary.errors[0] and "RecursionError" in summary.errors[0]


def test_dates_of_the_fixture_parse_as_the_issue_lists():
    from indexer.dates import read_date

    assert read_date("21 tháng 09 năm 2025")[0].date() == datetime(2025, 9, 21).date()
    assert read_date("31/02/2020") == (None, "impossible date '31/02/2020'")


# Invisible characters a CMS, a word processor or a paste leaves inside words: soft
# hyphen, zero-width space / non-joiner / joiner, word joiner, byte-order mark, bidi marks.
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u202c"]


def test_invisible_characters_inside_words_are_not_word_breaks(tmp_path):
    """A syllable with an invisible character inside (``Thà\\u200bnh``) is found by the
    syllable typed plainly, with or without diacritics, and by the same paste; the
    stored text and the snippet hold no invisible character. JSON Lines and HTML alike."""
    from indexer.writer import index_paths

    rows = [
        {
            "id": f"z{i}",
            "title": f"Tin {i}",
            "body": f"Thà{ch}nh phố Hồng Phúc khai mạc hội{ch} chợ.",
        }
        for i, ch in enumerate(INVISIBLE)
    ]
    (tmp_path / "zw.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    (tmp_path / "zw.html").write_text(
        '<html><head><meta charset="utf-8"><title>Hội chợ</title></head><body><article>'
        "<h1>Hội chợ</h1><p>Thà\u200bnh phố Hồng Phúc khai mạc hội\u00ad chợ xuân, thu hút"
        " đông đảo người dân và du khách tham quan mua sắm trong những ngày cuối năm.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    summary = index_paths([tmp_path / "zw.jsonl", tmp_path / "zw.html"], tmp_path / "idx", jobs=1)
    assert summary.indexed == len(INVISIBLE) + 1 and summary.skipped == 0
    every = {r["id"] for r in rows} | {"zw"}
    engine = Engine(tmp_path / "idx")
    for q in ("thành phố", "thanh pho", "Thà\u200bnh phố", "thà\u00adnh", "hội chợ"):
        result = engine.search(SearchRequest(q=q, per_page=100))
        assert {h["id"] for h in result["hits"]} == every, q
        for hit in result["hits"]:
            assert not any(ch in hit["snippet"] for ch in INVISIBLE), (q, hit["snippet"])
    with store.open_current(tmp_path / "idx").searcher() as s:
        assert not any(ch in s.document(id="z1")["body"] for ch in INVISIBLE)


@pytest.mark.parametrize("jobs", [1, 2])
def test_file_names_that_are_not_utf8_do_not_abort_the_run(tmp_path, jobs):
    """An archive copied from Windows or a zip keeps names in its own code page
    (``caf\\xe9.jsonl``): the id of an id-less record there, made of the name, held
    bytes no index can store, and the whole run failed (exit 2, nothing indexed).
    Such bytes are written ``\\xe9`` in ids; names stay distinct; --rebuild reads the
    recorded source again."""
    from indexer.cli import main as indexer_main

    archive = tmp_path / "archive"
    archive.mkdir()
    for raw, title in [(b"caf\xe9.jsonl", "Quán cà phê"), (b"caf\xe8.jsonl", "Quán trà")]:
        record = {"title": title, "body": f"{title} mở cửa trên phố Hồng Phúc."}
        (archive / os.fsdecode(raw)).write_text(json.dumps(record, ensure_ascii=False) + "\n")
    page = archive / os.fsdecode(b"trang-\xe1.html")
    page.write_text(
        '<html><head><meta charset="utf-8"><title>Hội chợ</title></head><body><article>'
        "<p>Hội chợ xuân khai mạc tại quận Hồng Phúc, thu hút đông đảo người dân và du"
        " khách tham quan mua sắm trong những ngày cuối năm.</p></article></body></html>",
        encoding="utf-8",
    )
    root = tmp_path / "idx"
    argv = ["index", str(archive), "--index", str(root), "--jobs", str(jobs), "--quiet"]
    assert indexer_main(argv) == 0
    expected = {"archive/caf\\xe9:1", "archive/caf\\xe8:1", "archive/trang-\\xe1"}
    engine = Engine(root)
    try:
        hits = engine.search(SearchRequest(q="", per_page=10))["hits"]
        assert {h["id"] for h in hits} == expected
        assert engine.article("archive/caf\\xe9:1")["title"] == "Quán cà phê"
    finally:
        engine.close()
    one = archive / os.fsdecode(b"caf\xe9.jsonl")  # a source named alone, then rebuilt
    assert indexer_main(["index", str(one), "--index", str(tmp_path / "one"), "--quiet"]) == 0
    assert indexer_main(["index", "--rebuild", "--index", str(tmp_path / "one"), "--quiet"]) == 0
    assert store.read_meta(tmp_path / "one")["sources"] == [str(one.resolve())]


def test_an_index_inside_the_archive_is_not_read_as_articles(tmp_path, capsys):
    """``vnsearch index .`` in a folder that holds the index: the second run read the
    index's meta.json as JSON Lines (6 records skipped, exit 1) and counted its segment
    files as files of other types; an index folder named as input is noted, not read."""
    from indexer.cli import main as indexer_main

    site = tmp_path / "site"
    site.mkdir()
    source = Path(__file__).resolve().parents[1] / "demo" / "articles.jsonl"
    (site / "articles.jsonl").write_bytes(source.read_bytes())
    index = site / "idx"
    for _ in range(2):
        assert indexer_main(["index", str(site), "--index", str(index)]) == 0
        err = capsys.readouterr().err
        assert "idx" not in err and "skipped" not in err, err
    engine = Engine(index)
    try:
        total = engine.search(SearchRequest(q=""))["total"]
    finally:
        engine.close()
    assert total == sum(1 for line in source.read_text(encoding="utf-8").splitlines() if line)
    assert indexer_main(["index", str(index), "--index", str(tmp_path / "other")]) == 1
    assert "a vnsearch index, not an archive" in capsys.readouterr().err
