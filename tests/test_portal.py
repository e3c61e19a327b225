"""Parsing archived portal pages: title, date, views, breadcrumbs, body; menu and footer dropped."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from indexer.article import BadRecord
from indexer.portal import (
    id_from_origin,
    id_from_url,
    is_doubled,
    is_meta_line,
    parse_portal_page,
    parse_vietnamese_date,
    parse_views,
)

VN = timezone(timedelta(hours=7))
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "seeds" / "000_cd04a5e49f741aed.txt"

SITE = "Kho tư liệu Cổng thông tin điện tử quận Hồng Phúc"
FOOTER = [
    "Bản quyền Cổng TTĐT: Quận Hồng Phúc - TP Hà Nội.",
    "Địa chỉ: Số 12, phố Hòa Bình, Quận Hồng Phúc, TP Hà Nội.",
    "Tel: (024) 3800 1234, Fax: (024) 3800 1235",
    "Email: vanphong@hongphuc.example",
]
TITLE = "Quận Hồng Phúc ra quân làm sạch hồ Thạch Thuỷ"
BODY = [
    (
        "Sáng 9/6, hơn 500 đoàn viên thanh niên và người dân quận Hồng Phúc đã tham gia thu gom "
        "rác, vớt bèo quanh hồ Thạch Thuỷ. Đồng chí Nguyễn Văn An - Phó Bí thư Thường trực "
        "Quận ủy dự."
    ),
    "Đ/c Nguyễn Văn An - Phó Bí thư Thường trực Quận ủy phát biểu",
    "Ban tổ chức cho biết hoạt động sẽ được duy trì vào sáng Chủ nhật hằng tháng./.",
]


def make_page(
    meta: str = "Ngày đăng 09/06/2020 | 17:47  | Lượt xem: 2468",
    menu: tuple[str, ...] = ("Tin tức Tin tức", "Môi trường Môi trường"),
    title: str = TITLE,
    body: list[str] = BODY,
) -> str:
    """A page in the archive's layout, built from our own text."""
    head = [SITE, *menu, f"{title}\n{meta}" if meta else title]
    return "\n\n".join([*head, *body, SITE, "\n".join(FOOTER)]) + "\n"


# --- the real seed page ---------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip("../shared/seeds is not available on this machine")
    return SEED.read_text(encoding="utf-8")


def _expected_from_seed(text: str) -> tuple[str, str]:
    """The title (line above ``Ngày đăng``) and the last doubled line above it, read naively."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meta = next(i for i, line in enumerate(lines) if line.startswith("Ngày đăng"))
    doubled = [line for line in lines[:meta] if is_doubled(line)]
    words = doubled[-1].split()
    return lines[meta - 1], " ".join(words[: len(words) // 2])


def test_seed_page_record(seed_text: str) -> None:
    article = parse_portal_page(seed_text, f"{SEED}:1")
    title, category = _expected_from_seed(seed_text)
    assert article.title == title
    assert article.title.startswith("Thành ủy Hà Nội kiểm tra")
    assert article.date == datetime(2020, 6, 9, 17, 47, tzinfo=VN)
    assert article.date.utcoffset() == timedelta(hours=7)
    assert article.views == 2468
    assert article.category == category
    assert article.categories[-1] == category and len(article.categories) >= 2
    assert article.body.startswith("Chiều ngày 09/6/2020")
    assert article.id == "seeds/000_cd04a5e49f741aed"
    assert article.origin == f"{SEED}:1"


def test_seed_page_keeps_caption_and_drops_menu_and_footer(seed_text: str) -> None:
    article = parse_portal_page(seed_text, str(SEED))
    lines = [line.strip() for line in seed_text.splitlines() if line.strip()]
    assert any(line.startswith("Đ/c ") and line in article.body for line in lines)
    footer_start = next(i for i, line in enumerate(lines) if line.startswith("Bản quyền"))
    for line in [lines[0], *lines[footer_start - 1 :]]:  # archive name, its repeat, footer
        assert line not in article.body
    for marker in ("Bản quyền", "Địa chỉ:", "Tel:", "Email:", "Ngày đăng", "Lượt xem"):
        assert marker not in article.body
    assert article.body.rstrip().endswith("./.")


# --- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ngày đăng 09/06/2020 | 17:47  | Lượt xem: 2468", datetime(2020, 6, 9, 17, 47)),
        ("Thứ Ba, 09/06/2020 - 17:47", datetime(2020, 6, 9, 17, 47)),
        ("09-06-2020", datetime(2020, 6, 9)),
        ("9/6/2020", datetime(2020, 6, 9)),
        ("ngày 9 tháng 6 năm 2020", datetime(2020, 6, 9)),
        ("Ngày 9 tháng 6 năm 2020, 08:05", datetime(2020, 6, 9, 8, 5)),
        ("Cập nhật lúc 17h47 ngày 09.06.2020", datetime(2020, 6, 9, 17, 47)),
        ("2020-06-09 17:47", datetime(2020, 6, 9, 17, 47)),
        ("Chủ nhật, 7/6/2020 5:30 PM", datetime(2020, 6, 7, 17, 30)),
    ],
)
def test_date_forms(text: str, expected: datetime) -> None:
    assert parse_vietnamese_date(text) == expected.replace(tzinfo=VN)
    assert is_meta_line(text)


@pytest.mark.parametrize("text", ["", "Lượt xem: 12", "31/02/2020", "nhiệm kỳ 2020 - 2025"])
def test_no_date(text: str) -> None:
    assert parse_vietnamese_date(text) is None


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("Ngày đăng 09/06/2020 | 17:47  | Lượt xem: 2468", datetime(2020, 6, 9, 17, 47)),
        ("Thứ Ba, 09/06/2020 - 17:47", datetime(2020, 6, 9, 17, 47)),
        ("Ngày đăng 09-06-2020 | Lượt xem: 5", datetime(2020, 6, 9)),
        ("9/6/2020", datetime(2020, 6, 9)),
        ("Ngày đăng ngày 9 tháng 6 năm 2020", datetime(2020, 6, 9)),
    ],
)
def test_page_date_forms(meta: str, expected: datetime) -> None:
    article = parse_portal_page(make_page(meta=meta), "pages/p1.txt:1")
    assert article.title == TITLE
    assert article.date == expected.replace(tzinfo=VN)
    assert article.body.startswith("Sáng 9/6")


def test_page_without_date_line() -> None:
    article = parse_portal_page(make_page(meta=""), "pages/p1.txt:1")
    assert article.title == TITLE
    assert article.date is None and article.views is None
    assert article.body.startswith("Sáng 9/6")


def test_title_containing_a_date_is_not_the_date_line() -> None:
    title = "Kỷ niệm 75 năm Cách mạng Tháng Tám và Quốc khánh 2/9/1945"
    article = parse_portal_page(make_page(title=title), "pages/p1.txt:1")
    assert article.title == title
    assert article.date == datetime(2020, 6, 9, 17, 47, tzinfo=VN)


# --- views, menu, footer --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "views"), [("Lượt xem: 2468", 2468), ("Lượt xem: 2.468", 2468), ("không", None)]
)
def test_views(text: str, views: int | None) -> None:
    assert parse_views(text) == views


def test_views_on_their_own_line() -> None:
    page = make_page(meta="Thứ Ba, 09/06/2020 - 17:47\nLượt xem: 77")
    article = parse_portal_page(page, "p.txt")
    assert article.views == 77
    assert "Lượt xem" not in article.body


@pytest.mark.parametrize(
    ("line", "doubled"),
    [
        ("Sự kiện Đại hội Đảng Sự kiện Đại hội Đảng", True),
        ("Tin tức - Sự kiện Tin tức - Sự kiện", True),
        ("Video Video", True),
        ("Văn bản chỉ đạo", False),
        ("Hà Nội Hà Nội mùa thu", False),
        ("", False),
    ],
)
def test_doubled_menu_lines(line: str, doubled: bool) -> None:
    assert is_doubled(line) is doubled


def test_breadcrumbs_become_categories() -> None:
    menu = ("Trang chủ Trang chủ", "Tin tức Tin tức", "Môi trường Môi trường")
    article = parse_portal_page(make_page(menu=menu), "p.txt")
    assert article.categories == ["Tin tức", "Môi trường"]
    assert article.category == "Môi trường"
    assert article.source == SITE
    for line in menu:
        assert line not in article.body


def test_todays_date_in_the_top_bar_is_not_the_date_line() -> None:
    menu = ("Hôm nay: Thứ Năm, 11/06/2020", "Tin tức Tin tức", "Môi trường Môi trường")
    article = parse_portal_page(make_page(menu=menu), "p.txt")
    assert article.title == TITLE
    assert article.date == datetime(2020, 6, 9, 17, 47, tzinfo=VN)
    assert article.category == "Môi trường"


def test_page_without_menu() -> None:
    page = f"{TITLE}\nThứ Ba, 09/06/2020 - 17:47\n\n" + "\n\n".join(BODY)
    article = parse_portal_page(page, "p.txt")
    assert (article.title, article.categories, article.category) == (TITLE, [], None)
    assert article.body.splitlines() == BODY


def test_footer_and_repeated_site_name_dropped() -> None:
    article = parse_portal_page(make_page(), "p.txt")
    assert SITE not in article.body
    for line in FOOTER:
        assert line not in article.body
    assert article.body.splitlines() == BODY


def test_caption_kept_even_as_last_body_line() -> None:
    body = [BODY[0], BODY[2], "Đ/c Trần Thị Bình - Chủ tịch UBND quận phát biểu tại buổi lễ"]
    article = parse_portal_page(make_page(body=body), "p.txt")
    assert article.body.splitlines() == body


def test_body_paragraph_starting_like_footer_is_kept() -> None:
    long_line = (
        "Bản quyền truyền hình các trận đấu của giải bóng đá thiếu niên quận năm nay được "
        "trao miễn phí cho đài phát thanh quận, để người dân ở mọi phường đều có thể theo dõi "
        "các trận cầu của con em mình."
    )
    article = parse_portal_page(make_page(body=[long_line, *BODY]), "p.txt")
    assert article.body.splitlines() == [long_line, *BODY]


# --- ids, normalisation, bad pages ----------------------------------------------------


def test_id_from_path_and_url() -> None:
    assert id_from_origin("archive/pages/p_001.txt:1") == "pages/p_001"
    assert id_from_origin("p_001.txt") == "p_001"
    assert (
        id_from_url("https://www.hongphuc.example/tin-tuc/bai-1/")
        == "hongphuc.example/tin-tuc/bai-1"
    )
    assert id_from_url("http://x.example/a?id=7") == "x.example/a?id=7"


def test_url_line_gives_the_id() -> None:
    page = make_page(body=["URL: https://hongphuc.example/tin-tuc/lam-sach-ho", *BODY])
    article = parse_portal_page(page, "pages/p1.txt:1")
    assert article.url == "https://hongphuc.example/tin-tuc/lam-sach-ho"
    assert article.id == "hongphuc.example/tin-tuc/lam-sach-ho"
    assert "URL" not in article.body


def test_nfd_input_is_normalised() -> None:
    page = "\ufeff" + unicodedata.normalize("NFD", make_page())
    article = parse_portal_page(page, "p.txt")
    assert article.title == TITLE
    assert unicodedata.is_normalized("NFC", article.body)
    assert article.category == "Môi trường"
    assert article.date == datetime(2020, 6, 9, 17, 47, tzinfo=VN)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "\n\n".join([SITE, "Tin tức Tin tức", "Giới thiệu Giới thiệu", SITE, *FOOTER]),
        make_page(body=[]),
    ],
)
def test_page_without_title_or_body_is_bad(text: str) -> None:
    with pytest.raises(BadRecord) as info:
        parse_portal_page(text, "bad/page.txt:1")
    assert info.value.origin == "bad/page.txt:1"
    assert info.value.reason
