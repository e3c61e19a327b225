"""HTML fragments in exports and whole portal pages."""

from __future__ import annotations

import pytest

from indexer.article import BadRecord
from indexer.html import clean_fragment, parse_html_page


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Th&agrave;nh ph&#7889; H&agrave; N&#x1ED9;i", "Thành phố Hà Nội"),
        ("<p>Một</p><p>Hai<br>Ba</p>", "Một\nHai\nBa"),
        ("<DIV align=left><TABLE><TR><TD>Ô</TD><TD>Bảng</TD></TR></TABLE></DIV>", "Ô\nBảng"),
        ("Trước <script>alert(1)</script>sau <style>p{}</style>hết", "Trước sau hết"),
        ("R&D và H&M, 3 < 5 > 2", "R&D và H&M, 3 < 5 > 2"),  # no markup: unchanged
        ("Lợi nhuận &gt; 5% &amp; tăng", "Lợi nhuận > 5% & tăng"),
        ("Không có thẻ nào", "Không có thẻ nào"),
    ],
)
def test_fragments(raw, clean):
    assert clean_fragment(raw) == clean


def test_one_line_for_titles():
    assert clean_fragment("<b>Tin</b><br>nóng", one_line=True) == "Tin nóng"


PAGE = """<html><head><title>Lễ hội mùa xuân | Cổng TTĐT phường</title>
<meta property="og:url" content="https://phuong.example.vn/le-hoi">
<meta name="pubdate" content="2023-02-01T07:00:00+07:00"></head><body>
<nav aria-label="breadcrumb"><a href="/">Trang chủ</a> › <a href="/vh">Văn hóa</a></nav>
<article><p>Lễ hội mùa xuân được tổ chức tại sân vận động phường với nhiều hoạt động văn hóa,
thể thao hấp dẫn, thu hút đông đảo nhân dân tham gia trong suốt ba ngày.</p>
<p>Ban tổ chức cho biết năm nay có thêm hội thi ẩm thực truyền thống của các tổ dân phố.</p>
</article></body></html>"""


def test_meta_fallbacks_when_the_portal_prints_none():
    article = parse_html_page(PAGE.encode(), "p.html:1", "site/p")
    assert article.id == "phuong.example.vn/le-hoi"
    assert article.title == "Lễ hội mùa xuân"  # <title> without the site name
    assert article.date.isoformat() == "2023-02-01T07:00:00+07:00"
    assert article.category == "Văn hóa" and article.views is None
    assert "hội thi ẩm thực" in article.body


def test_a_page_without_text_is_reported():
    with pytest.raises(BadRecord, match="no article text"):
        parse_html_page(b"<html><body><div></div></body></html>", "e.html:1", "e")
