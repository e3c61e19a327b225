"""Reading articles from JSON Lines, portal pages and folders, with bad input reported."""

from __future__ import annotations

import gzip
import inspect
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from indexer.article import NOTED, Article, BadRecord
from indexer.sources import parse_date, read_articles

VN = timezone(timedelta(hours=7))
ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"

PAGE = """Kho tư liệu Cổng thông tin điện tử quận Hồng Phúc

Tin tức Tin tức

Giao thông Giao thông

Thông xe cầu vượt nút giao đường Hồng Hà
Ngày đăng 02/09/2021 | 08:00  | Lượt xem: 15

Sáng 2/9, cầu vượt tại nút giao đường Hồng Hà chính thức thông xe sau mười tháng thi công.

Xe ô tô đi qua cầu vượt trong ngày đầu thông xe

Kho tư liệu Cổng thông tin điện tử quận Hồng Phúc

Bản quyền Cổng TTĐT: Quận Hồng Phúc - TP Hà Nội.
Email: vanphong@hongphuc.example
"""


def write_jsonl(path: Path, records: list[object], gz: bool = False) -> Path:
    """Write records (dicts, or raw strings taken as lines) as JSON Lines."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if gz:
        with gzip.open(path, "wb") as out:
            out.write(data)
    else:
        path.write_bytes(data)
    return path


def read(paths: list[Path | str]) -> tuple[list[Article], list[BadRecord]]:
    errors: list[BadRecord] = []
    return list(read_articles(paths, errors.append)), errors


# --- JSON Lines -----------------------------------------------------------------------


def test_jsonl_fields(tmp_path: Path) -> None:
    record = {
        "id": "a1",
        "title": "Khai giảng năm học mới",
        "body": "Học sinh trở lại trường.",
        "date": "2023-09-05",
        "category": "Giáo dục",
        "source": "Bản tin quận",
        "url": "https://hongphuc.example/a1",
        "views": 12,
        "extra": {"ignored": True},
    }
    (article,), errors = read([write_jsonl(tmp_path / "a.jsonl", [record])])
    assert errors == []
    assert article.id == "a1"
    assert article.title == "Khai giảng năm học mới"
    assert article.body == "Học sinh trở lại trường."
    assert article.date == datetime(2023, 9, 5, tzinfo=VN)
    assert (article.category, article.categories) == ("Giáo dục", ["Giáo dục"])
    assert (article.source, article.url, article.views) == (
        "Bản tin quận",
        "https://hongphuc.example/a1",
        12,
    )
    assert article.origin == f"{tmp_path / 'a.jsonl'}:1"


def test_null_and_missing_titles(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {"id": "n", "title": None, "body": "Trời mưa to. Nhiều tuyến đường ngập."},
            {"id": "m", "body": "Không có tiêu đề."},
            {"id": "b", "title": "  ", "body": "Tiêu đề trống."},
        ],
    )
    articles, errors = read([path])
    assert errors == []
    assert [a.title for a in articles] == [None, None, None]
    assert articles[0].body.startswith("Trời mưa to.")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-10-01", datetime(2020, 10, 1, tzinfo=VN)),
        ("2020-10-01T08:30:00", datetime(2020, 10, 1, 8, 30, tzinfo=VN)),
        ("2020-10-01 08:30", datetime(2020, 10, 1, 8, 30, tzinfo=VN)),
        ("2020-10-01T01:30:00Z", datetime(2020, 10, 1, 1, 30, tzinfo=UTC)),
        ("09/06/2020", datetime(2020, 6, 9, tzinfo=VN)),
        ("không rõ", None),
        ("", None),
        (None, None),
        (20201001, None),
    ],
)
def test_dates(value: object, expected: datetime | None) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_gzip_and_json_suffixes(tmp_path: Path) -> None:
    gz = write_jsonl(tmp_path / "a.jsonl.gz", [{"id": "g", "body": "Nén gzip."}], gz=True)
    js = write_jsonl(tmp_path / "b.json", [{"id": "j", "body": "Đuôi json."}])
    articles, errors = read([gz, js])
    assert errors == []
    assert [a.id for a in articles] == ["g", "j"]
    assert articles[0].origin == f"{gz}:1"


def test_truncated_gzip_reports_and_keeps_earlier_lines(tmp_path: Path) -> None:
    records = [{"id": f"r{i}", "body": "Bài viết số " + str(i) * 200} for i in range(200)]
    full = write_jsonl(tmp_path / "full.jsonl.gz", records, gz=True)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    articles, errors = read([cut])
    assert 0 < len(articles) < 200
    assert len(errors) == 1 and errors[0].origin.startswith(f"{cut}:")


def test_ids_from_url_and_path(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "ids.jsonl",
        [
            {"id": 42, "body": "Số."},
            {"url": "https://www.hongphuc.example/tin-tuc/bai-2/", "body": "Có URL."},
            {"id": "", "body": "Không id, không URL."},
        ],
    )
    articles, errors = read([path])
    assert errors == []
    assert [a.id for a in articles] == [
        "42",
        "hongphuc.example/tin-tuc/bai-2",
        "ids:3",  # the file as named on the command line, without its suffix
    ]


def test_ids_are_stable_across_runs(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [{"body": "Một."}, {"body": "Hai."}])
    assert [a.id for a in read([path])[0]] == [a.id for a in read([path])[0]]


def test_bad_lines_reported_with_line_and_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        '{"id": "ok1", "body": "Tốt."}'.encode(),
        b'{"id": "broken", "body": ',
        b"[1, 2, 3]",
        b'{"id": "empty", "title": null, "body": ""}',
        '{"id": "latin", "body": "Café"}'.encode("latin-1"),
        b"",
        b'{"id": "typed", "body": ["not", "text"]}',
        '{"id": "ok2", "title": "Chỉ có tiêu đề"}'.encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    articles, errors = read([path])
    assert [a.id for a in articles] == ["ok1", "ok2"]
    assert articles[0].body == "Tốt."
    assert [e.origin for e in errors] == [f"{path}:{n}" for n in (2, 3, 4, 5, 7)]
    assert all(isinstance(e, BadRecord) and e.reason for e in errors)
    assert "UTF-8" in errors[3].reason


def test_files_joined_with_their_byte_order_marks_are_read_whole(tmp_path: Path) -> None:
    """``cat a.jsonl b.jsonl`` of two exports that each start with a BOM: the BOM that
    starts line 2 skipped its record as "malformed JSON (Unexpected UTF-8 BOM)"."""
    path = tmp_path / "joined.jsonl"
    first = '\ufeff{"id": "a", "body": "Tin một."}\n'
    second = '\ufeff{"id": "b", "body": "Tin hai."}\n'
    path.write_text(first + second, encoding="utf-8")
    articles, errors = read([path])
    assert [a.id for a in articles] == ["a", "b"] and errors == []


@pytest.mark.parametrize(
    ("encoding", "bom", "gz"),
    [
        ("utf-16-le", b"\xff\xfe", False),
        ("utf-16-be", b"\xfe\xff", False),
        ("utf-16-le", b"\xff\xfe", True),
    ],
)
def test_utf16_json_lines_are_read(tmp_path: Path, encoding: str, bom: bytes, gz: bool) -> None:
    """Windows PowerShell writes UTF-16 with a byte-order mark: every line was skipped
    ('not valid UTF-8', then 'malformed JSON'). Bad lines are still reported by number."""
    lines = [
        '{"id": "a", "title": "Bão số 3", "body": "Cơn bão đổ bộ."}',
        '{"id": "broken", "body": ',
        '{"id": "b", "body": "Thành ủy Hà Nội."}',
    ]
    data = bom + "\r\n".join(lines).encode(encoding) + "\r\n".encode(encoding)
    path = tmp_path / ("ps.jsonl.gz" if gz else "ps.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    articles, errors = read([path])
    assert [(a.id, a.title) for a in articles] == [("a", "Bão số 3"), ("b", None)]
    assert [e.origin for e in errors] == [f"{path}:2"]


def test_a_utf16_file_cut_mid_letter_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    good = '{"id": "a", "body": "Tin một."}\n'.encode("utf-16")
    path.write_bytes(good + '{"id": "b"'.encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    articles, errors = read([path])
    assert [a.id for a in articles] == ["a"] and len(errors) == 1


def test_values_left_out_of_an_article_are_noted(tmp_path: Path) -> None:
    """A view count that is not a count and category items that are not text were
    dropped without a word ("nothing is lost silently")."""
    rows = [
        {"id": "v", "body": "Có.", "views": "nhiều"},
        {"id": "c", "body": "Có.", "category": ["Thể thao", None, 5, {"x": 1}]},
        {"id": "ok", "body": "Có.", "views": "2.468", "category": ["Y tế", None]},
    ]
    articles, errors = read([write_jsonl(tmp_path / "odd.jsonl", rows)])
    assert errors == []  # noted by the writer, which reports each article's notes
    assert [a.id for a in articles] == ["v", "c", "ok"]
    assert articles[0].views is None and articles[2].views == 2468
    assert articles[1].category == "Thể thao" and articles[2].notes == []
    assert "'views' 'nhiều' is not a count" in articles[0].notes[0]
    assert "items that are not text left out: [5, {'x': 1}]" in articles[1].notes[0]


def test_missing_and_unsupported_paths(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "g.jsonl", [{"id": "g", "body": "Có."}])
    other = tmp_path / "notes.md"
    other.write_text("# ghi chú", encoding="utf-8")
    articles, errors = read([tmp_path / "missing.jsonl", other, good])
    assert [a.id for a in articles] == ["g"]
    assert [e.origin for e in errors] == [f"{tmp_path / 'missing.jsonl'}:0", f"{other}:0"]


def test_is_a_lazy_generator(tmp_path: Path) -> None:
    errors: list[BadRecord] = []
    stream = read_articles([tmp_path / "missing.jsonl"], errors.append)
    assert inspect.isgenerator(stream)
    assert errors == []  # nothing is read before iteration
    assert list(stream) == [] and len(errors) == 1


def test_bom_and_nfd_normalised(tmp_path: Path) -> None:
    title = unicodedata.normalize("NFD", "Thủy điện Hòa Bình")
    body = unicodedata.normalize("NFD", "Nhà máy thuỷ điện xả lũ.")
    line = json.dumps({"id": "x", "title": title, "body": body, "category": "Xã hội"})
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + unicodedata.normalize("NFD", line).encode() + b"\n")
    (article,), errors = read([path])
    assert errors == []
    assert article.title == unicodedata.normalize("NFC", "Thủy điện Hòa Bình")
    assert article.body == unicodedata.normalize("NFC", "Nhà máy thuỷ điện xả lũ.")
    assert unicodedata.is_normalized("NFC", article.category or "")


# --- portal pages and folders ---------------------------------------------------------


def test_portal_page_file(tmp_path: Path) -> None:
    page = tmp_path / "pages" / "cau_vuot.txt"
    page.parent.mkdir()
    page.write_text(PAGE, encoding="utf-8")
    (article,), errors = read([page])
    assert errors == []
    assert article.id == "cau_vuot"  # the file as named, without its suffix
    assert article.origin == f"{page}:1"
    assert article.title == "Thông xe cầu vượt nút giao đường Hồng Hà"
    assert article.category == "Giao thông"
    assert article.date == datetime(2021, 9, 2, 8, 0, tzinfo=VN)
    assert "Bản quyền" not in article.body


def test_page_not_utf8_reports_line(tmp_path: Path) -> None:
    page = tmp_path / "latin.txt"
    page.write_bytes(b"Tin tuc Tin tuc\n\n" + "Café à la carte\n".encode("latin-1"))
    articles, errors = read([page])
    assert articles == []
    assert [e.origin for e in errors] == [f"{page}:3"]


def test_folder_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", [{"id": "b1", "body": "B."}])
    (tmp_path / "a" / "z").mkdir(parents=True)
    write_jsonl(tmp_path / "a" / "z" / "deep.jsonl.gz", [{"id": "deep", "body": "Sâu."}], gz=True)
    (tmp_path / "a" / "page.txt").write_text(PAGE, encoding="utf-8")
    write_jsonl(tmp_path / "a" / "c.json", [{"id": "c1", "body": "C."}])
    (tmp_path / ".hidden").mkdir()
    write_jsonl(tmp_path / ".hidden" / "h.jsonl", [{"id": "hidden", "body": "Ẩn."}])
    (tmp_path / "readme.md").write_text("bỏ qua", encoding="utf-8")
    articles, errors = read([tmp_path])
    assert [(e.kind, e.reason) for e in errors] == [(NOTED, "files of other types not read: 1 .md")]
    assert [a.id for a in articles] == ["c1", f"{tmp_path.name}/a/page", "deep", "b1"]


# --- the demo archive -----------------------------------------------------------------


def test_demo_archive_reads_cleanly() -> None:
    articles, errors = read([DEMO / "articles.jsonl", DEMO / "portal"])
    assert errors == []
    assert 35 <= len(articles) <= 45
    assert len({a.id for a in articles}) == len(articles)
    assert sum(a.title is None for a in articles) == 3
    jsonl = [a for a in articles if a.origin and ".jsonl:" in a.origin]
    assert 6 <= len({a.category for a in jsonl}) <= 8
    assert {a.date.year for a in articles if a.date} >= set(range(2019, 2025))
    pages = [a for a in articles if a.origin and a.origin.endswith(".txt:1")]
    assert len(pages) >= 8
    for page in pages:
        assert page.title and page.date and page.views and page.category
        assert "Bản quyền" not in page.body and "Email" not in page.body
    text = "\n".join(f"{a.title}\n{a.body}" for a in articles)
    for word in ("Thành ủy Hà Nội", "đường", "dương", "hòa", "hoà", "thủy", "thuỷ", "Ủy", "Uỷ"):
        assert word in text
    assert all(unicodedata.is_normalized("NFC", a.body) for a in articles)


def test_demo_bad_folder_reports_exactly_the_expected_errors() -> None:
    bad = DEMO / "bad"
    articles, errors = read([bad])
    assert sorted(e.origin for e in errors) == [
        f"{bad / 'latin1.jsonl'}:1",
        f"{bad / 'menu_only.txt'}:1",
        f"{bad / 'mixed.jsonl'}:2",
        f"{bad / 'mixed.jsonl'}:4",
    ]
    assert [a.origin for a in articles] == [f"{bad / 'mixed.jsonl'}:{n}" for n in (1, 3, 5)]


def test_lone_surrogates_are_replaced_and_noted_in_every_text_field(tmp_path: Path) -> None:
    line = (
        '{"id": "s\\ud800", "title": "T\\udc00", "body": "B\\ud83d\\ude00 ok",'
        ' "category": ["Y t\\u1ebf", "Ph\\udfff"], "categories": ["X\\ud801"], "source": "S\\ud802"}'
    )
    (tmp_path / "s.jsonl").write_text(line + "\n", encoding="utf-8")
    (article,), errors = read([tmp_path / "s.jsonl"])
    assert errors == []
    assert article.id == "s\ufffd" and article.title == "T\ufffd"
    assert article.body == "B\U0001f600 ok"  # a valid pair is an emoji, left alone
    assert article.category == "Y tế > Ph\ufffd" and "X\ufffd" in article.categories
    assert article.source == "S\ufffd"
    assert len(article.notes) == 5 and all("U+FFFD" in n for n in article.notes)
    for text in (article.id, article.title, article.category, *article.categories):
        text.encode("utf-8")  # all writable
