"""Officials extraction: names with public positions, short mentions, captions, foreign officials."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.officials import Official, extract_officials, normalize_name_key

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "seeds" / "000_cd04a5e49f741aed.txt"


def names(text: str, title: str | None = None) -> list[str]:
    return [o.name for o in extract_officials(title, text)]


def by_name(text: str) -> dict[str, Official]:
    return {o.name: o for o in extract_officials(None, text)}


# --------------------------------------------------------------------------- the seed page
def test_seed_page_yields_exactly_the_two_officials_with_positions():
    if not SEED.is_file():
        pytest.skip(f"shared seed page not found at {SEED}")
    found = by_name(SEED.read_text(encoding="utf-8"))
    assert sorted(found) == ["Nguyễn Lan Hương", "Đàm Văn Huân"]
    huong = found["Nguyễn Lan Hương"].positions
    assert huong[:2] == [
        "Ủy viên Ban Thường vụ Thành ủy",
        "Chủ tịch UBMTTQ Việt Nam thành phố Hà Nội",
    ]
    assert "UVBTV" in huong
    assert found["Đàm Văn Huân"].positions == ["Phó Chủ tịch UBMTTQ Việt Nam thành phố Hà Nội"]


# --------------------------------------------------------------------------- positions
def test_title_before_name():
    found = by_name("Thủ tướng Phan Văn Khải yêu cầu Bộ trưởng Bộ GTVT Đào Đình Bình kiểm điểm.")
    assert found["Phan Văn Khải"].positions == ["Thủ tướng"]
    assert found["Đào Đình Bình"].positions == ["Bộ trưởng Bộ GTVT"]


def test_rank_and_positions_after_the_name():
    found = by_name("Đại tá Nguyễn Văn Bình, Giám đốc Công an tỉnh Lâm Đồng cho biết như vậy.")
    assert found["Nguyễn Văn Bình"].positions == ["Đại tá", "Giám đốc Công an tỉnh Lâm Đồng"]


def test_place_before_the_name_is_not_part_of_it():
    text = "Phó chủ tịch UBND phường Chương Dương Phạm Thị Xuân Mai cho biết sẽ bố trí chỗ ở."
    assert names(text) == ["Phạm Thị Xuân Mai"]


def test_caption_with_abbreviated_titles():
    text = "Đ/c Nguyễn Lan Hương - UVBTV, Chủ tịch UBMTTQ Việt Nam thành phố Hà Nội phát biểu"
    found = by_name(text)
    assert list(found) == ["Nguyễn Lan Hương"]
    assert found["Nguyễn Lan Hương"].positions == [
        "UVBTV",
        "Chủ tịch UBMTTQ Việt Nam thành phố Hà Nội",
    ]


def test_abbreviated_foreign_titles():
    found = by_name("TT Bush và TNS John McCain đã gặp nhau ở Washington.")
    assert found["Bush"].positions == ["TT"]
    assert found["John McCain"].positions == ["TNS"]


# --------------------------------------------------------------------------- mentions
def test_short_mentions_attach_to_the_full_name():
    text = (
        "Thủ tướng Phan Văn Khải đã chủ trì cuộc họp. Ông Khải yêu cầu các bộ báo cáo. "
        "Đồng chí Đàm Văn Huân - Phó Chủ tịch UBMTTQ thành phố dự họp. Đồng chí Huân phát biểu. "
        "Bà Hương cho biết thêm."
    )
    assert names(text) == ["Phan Văn Khải", "Đàm Văn Huân"]


def test_later_mentions_add_positions_but_not_people():
    text = "Ông Nguyễn Văn An, Chủ tịch UBND huyện, cho biết. Sau đó, ông An đi kiểm tra đê."
    found = by_name(text)
    assert list(found) == ["Nguyễn Văn An"]
    assert found["Nguyễn Văn An"].positions == ["Chủ tịch UBND huyện"]


def test_tone_mark_variants_are_one_person():
    text = "Chủ tịch UBND xã Nguyễn Văn Thủy cho biết. Ông Nguyễn Văn Thuỷ, Bí thư Đảng ủy xã, nói."
    found = extract_officials(None, text)
    assert len(found) == 1
    assert found[0].name == "Nguyễn Văn Thủy"  # as first written
    assert found[0].positions == ["Chủ tịch UBND xã", "Bí thư Đảng ủy xã"]


def test_title_is_read_too():
    assert names(
        "Đoàn công tác làm việc tại tỉnh.", title="Bộ trưởng Trần Văn Tâm thăm Cà Mau"
    ) == ["Trần Văn Tâm"]


# --------------------------------------------------------------------------- foreign officials
def test_foreign_officials_with_country():
    text = (
        "Tổng thống Mỹ George W. Bush hôm qua gặp Thủ tướng Israel Ariel Sharon. "
        "Ngoại trưởng Nga Sergei Lavrov cũng có mặt; ông Lavrov không bình luận."
    )
    found = by_name(text)
    assert list(found) == ["George W. Bush", "Ariel Sharon", "Sergei Lavrov"]
    assert found["Sergei Lavrov"].positions == ["Ngoại trưởng Nga"]


def test_foreign_surname_only_upgrades_to_the_full_name():
    text = "Thượng nghị sĩ (TNS) John McCain phát biểu. TNS McCain nói ông ủng hộ."
    assert names(text) == ["John McCain"]


# --------------------------------------------------------------------------- not officials
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a dotted abbreviation between the title and the name ("T.Ư" = Trung ương)
        (
            (
                "Tới dự có nguyên tổng bí thư Đỗ Mười, Chủ tịch Ủy ban T.Ư MTTQ Việt Nam "
                "Phạm Thế Duyệt cùng lãnh đạo thành phố."
            ),
            {
                "Đỗ Mười": ["nguyên tổng bí thư"],
                "Phạm Thế Duyệt": ["Chủ tịch Ủy ban T.Ư MTTQ Việt Nam"],
            },
        ),
        (
            "Bí thư Thành ủy TP.HCM Lê Thanh Hải phát biểu.",
            {"Lê Thanh Hải": ["Bí thư Thành ủy TP.HCM"]},
        ),
        # initials glued to the surname, or spaced, or several
        ("Chủ tịch Quốc hội V.Lytvyn đã bị cáo buộc.", {"V.Lytvyn": ["Chủ tịch Quốc hội"]}),
        ("Tổng thống Mỹ G.W.Bush hội đàm.", {"G.W.Bush": ["Tổng thống Mỹ"]}),
        ("Đại sứ Ấn Độ J.N. Dixit nói.", {"J.N. Dixit": ["Đại sứ Ấn Độ"]}),
        # no name at all: a brand, an anonymised person, a Roman numeral, a district
        ("Ông Trần Văn Hùng, Giám đốc V-PACK, cho biết.", {"Trần Văn Hùng": ["Giám đốc V-PACK"]}),
        ("Lãnh đạo S-Fone đưa ra nhiều nguyên nhân.", {}),
        ("“Không ai mua” - ông T., giám đốc một DN tư nhân, nói.", {}),
        ("Đại hội bầu Tổng Bí thư khóa X có hai cơ sở.", {}),
        ("Chủ tịch UBND Q.Bình Thạnh có văn bản.", {}),
    ],
)
def test_initials_and_dotted_abbreviations(text, expected):
    found = {o.name: o.positions for o in extract_officials(None, text)}
    assert found == expected


def test_position_without_a_name_yields_nothing():
    text = "Bài phát biểu của đồng chí Tổng Bí thư được quán triệt. Chủ tịch UBND tỉnh chỉ đạo."
    assert names(text) == []


def test_residents_victims_athletes_artists_business_people_yield_nothing():
    text = (
        "Anh Nguyễn Văn Nam, người dân xã Tân Phú, cho biết nhà anh bị ngập. "
        "Chị Trần Thị Lan, nạn nhân vụ cháy, kể lại. "
        "Vận động viên Nguyễn Thị Ánh Viên giành huy chương vàng. "
        "Ca sĩ Lê Quang Minh biểu diễn. "
        "Ông Trần Văn Hùng, Giám đốc Công ty TNHH Hoàng Long, cho biết doanh thu tăng."
    )
    assert names(text) == []


def test_empty_and_trigger_free_text():
    assert extract_officials(None, "") == []
    assert extract_officials(None, "Trời mưa to ở Hà Nội suốt đêm qua.") == []


def test_precomputed_segmentation_is_accepted():
    text = "Bộ trưởng Bộ Quốc phòng Việt Nam Phan Văn Giang chủ trì lễ đón."
    start = text.index("Phan")
    spans = [(start, start + len("Phan Văn Giang"))]
    assert [o.name for o in extract_officials(None, text, word_spans=spans)] == ["Phan Văn Giang"]


# --------------------------------------------------------------------------- name keys
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Nguyễn Lan Hương", "nguyen lan huong"),
        ("  Đàm   Văn Huân ", "dam van huan"),
        ("Nguyễn Thị Thủy", "nguyen thi thuy"),
        ("Nguyễn Thị Thuỷ", "nguyen thi thuy"),
        ("George W. Bush", "george w. bush"),
    ],
)
def test_normalize_name_key(name: str, key: str):
    assert normalize_name_key(name) == key


# --------------------------------------------------------------------------- labelled set
def test_labelled_set_precision_and_recall():
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED / 'corpus'}")
    from bench.officials import load_articles, load_labels, run_extraction, score

    labels = load_labels()
    articles = load_articles(set(labels))
    assert set(articles) == set(labels)
    scores = score(labels, run_extraction(articles))
    assert scores.precision >= 0.90, scores.false_positives
    assert scores.recall >= 0.85, scores.false_negatives
