"""Officials extraction: names with public positions, short mentions, captions, foreign officials."""

from __future__ import annotations

import pytest

from bench.data import shared_dir
from indexer.officials import Official, extract_officials, normalize_name_key

SHARED = shared_dir()
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


# --------------------------------------------------------------------------- issue 17's kinds
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # deputy and compound titles: the position grammar (unit + trưởng/phó, trưởng/phó + unit)
        (
            "Cục phó Cục Hải quan Trần Minh Đức cho biết.",
            {"Trần Minh Đức": ["Cục phó Cục Hải quan"]},
        ),
        (
            "Vụ phó Vụ Pháp chế Nguyễn Thị Lan ký văn bản.",
            {"Nguyễn Thị Lan": ["Vụ phó Vụ Pháp chế"]},
        ),
        (
            "Chi cục trưởng Chi cục Kiểm lâm Hoàng Văn Bảy đã có mặt.",
            {"Hoàng Văn Bảy": ["Chi cục trưởng Chi cục Kiểm lâm"]},
        ),
        (
            "Đội phó Đội cảnh sát giao thông Phạm Quốc Huy lập biên bản.",
            {"Phạm Quốc Huy": ["Đội phó Đội cảnh sát giao thông"]},
        ),
        (
            "Phó công an xã Tân Lập Đỗ Văn Mạnh giải thích.",
            {"Đỗ Văn Mạnh": ["Phó công an xã Tân Lập"]},
        ),
        ("Tiểu khu trưởng Lò Văn Pọm đi tuần.", {"Lò Văn Pọm": ["Tiểu khu trưởng"]}),
        # "vụ" is an incident here, and "Phó Chủ tịch" the title
        ("Trong vụ Phó Chủ tịch Lê Thị Hoa bị kiện, tòa đã xử.", {"Lê Thị Hoa": ["Phó Chủ tịch"]}),
    ],
)
def test_deputy_and_compound_titles(text, expected):
    assert {o.name: o.positions for o in extract_officials(None, text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Anh Vũ Văn Toản, công an viên xã Hòa Bình, đã can ngăn.",
            {"Vũ Văn Toản": ["công an viên xã Hòa Bình"]},
        ),
        (
            "Bà Lê Thị Nga, cán bộ tư pháp xã Yên Phú, xác nhận giấy tờ.",
            {"Lê Thị Nga": ["cán bộ tư pháp xã Yên Phú"]},
        ),
        (
            "Ông Trịnh Văn Lực, chuyên viên chính của Vụ Tổ chức cán bộ, cho biết.",
            {"Trịnh Văn Lực": ["chuyên viên chính của Vụ Tổ chức cán bộ"]},
        ),
        (
            "Hôm qua Lý Văn Quang (SN 1962) - cán bộ địa chính phường 3 - bị bắt.",
            {"Lý Văn Quang": ["cán bộ địa chính phường 3"]},
        ),
        # a junior title counts beside a public body only
        (
            "Chị Đào Thị Mơ, nhân viên Hải quan tỉnh, kiểm tra hàng.",
            {"Đào Thị Mơ": ["nhân viên Hải quan tỉnh"]},
        ),
        ("Chị Đào Thị Mơ, nhân viên bán hàng, kể lại.", {}),
        # names joined by "và" share the position written after the last one
        (
            "Ngô Văn Hải và Tạ Văn Bình - nguyên hai cán bộ địa chính xã An Lạc - bị phạt.",
            {
                "Ngô Văn Hải": ["cán bộ địa chính xã An Lạc"],
                "Tạ Văn Bình": ["cán bộ địa chính xã An Lạc"],
            },
        ),
    ],
)
def test_junior_and_local_officials(text, expected):
    assert {o.name: o.positions for o in extract_officials(None, text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ông Khánh, trưởng thôn Đông, nói dân rất vui.", {"Khánh": ["trưởng thôn Đông"]}),
        ("Trưởng thôn Khánh đã báo lên xã.", {"Khánh": ["Trưởng thôn"]}),
        ("Anh Sơn (trưởng ấp 3) dẫn đoàn đi.", {"Sơn": ["trưởng ấp 3"]}),
        # a capitalised word that is part of a common word, an office, a place or a generic title
        ("Bộ trưởng Tài chính cho biết như vậy.", {}),
        ("Giám đốc Sở cho biết như vậy.", {}),
        ("Các nhà lãnh đạo Ảrập đã tới dự.", {}),
        # one given name with a title goes to the full name it stands for
        (
            "Anh Phạm Văn Long bị thương. Theo kiểm lâm viên Long, xe chạy rất nhanh.",
            {"Phạm Văn Long": ["kiểm lâm viên"]},
        ),
    ],
)
def test_officials_named_by_a_given_name(text, expected):
    assert {o.name: o.positions for o in extract_officials(None, text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Bộ trưởng Ngoại giao Kenya Raphael Tuju đến Hà Nội.",
            {"Raphael Tuju": ["Bộ trưởng Ngoại giao Kenya"]},
        ),
        (
            "Bộ trưởng Quốc phòng Nhật Bản Yoshinori Ohno thăm căn cứ.",
            {"Yoshinori Ohno": ["Bộ trưởng Quốc phòng Nhật Bản"]},
        ),
        (
            "Tổng tham mưu trưởng Đài Loan Lee Tien-yu dự lễ.",
            {"Lee Tien-yu": ["Tổng tham mưu trưởng Đài Loan"]},
        ),
        ("Thủ tướng Campuchia Hun Sen tiếp đoàn.", {"Hun Sen": ["Thủ tướng Campuchia"]}),
        (
            "Ngoại trưởng Ireland (nước đang giữ chức chủ tịch EU) Brian Cowan có mặt.",
            {"Brian Cowan": ["Ngoại trưởng Ireland"]},
        ),
        (
            "Người phụ trách các vấn đề châu Á tại Hội đồng An ninh Quốc gia Mỹ Mark Stone tới.",
            {"Mark Stone": ["Người phụ trách các vấn đề châu Á tại Hội đồng An ninh Quốc gia Mỹ"]},
        ),
        (
            "Chỉ huy cảnh sát khu vực Basilan, ông Ramon Dela Cruz, cho biết.",
            {"Ramon Dela Cruz": ["Chỉ huy cảnh sát khu vực Basilan"]},
        ),
        # "Biden" alone may be either of two people: it names neither
        (
            "Tổng thống Joe Biden và phu nhân Jill Biden tới. Tổng thống Biden phát biểu.",
            {"Joe Biden": ["Tổng thống"]},
        ),
    ],
)
def test_foreign_officials(text, expected):
    assert {o.name: o.positions for o in extract_officials(None, text)} == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tổng giám đốc Samsung Electronics Lee Kun-hee đến thăm nhà máy.",
        "Chủ tịch Chelsea Roman Abramovich xem trận đấu.",
        "Giám đốc Công ty Hoàng Long Nguyễn Văn Phúc cho biết.",
        "Ông Mai Văn Tùng, Trưởng phòng Đào tạo ĐH Bán công Tôn Đức Thắng, cho biết.",
        # a bare title, when the article also gives the person's company
        (
            "Trưởng phòng Cao Văn Quế ký hợp đồng. Cao Văn Quế, Trưởng phòng Hành chính Công ty "
            "bảo hiểm Bình Minh, bị bắt."
        ),
    ],
)
def test_companies_brands_and_schools_are_not_officials(text):
    assert extract_officials(None, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a club's or a company's chairman in an article about sport or business
        (
            (
                "Chủ tịch Carlo Bruni rất thích tiền vệ này. Đội bóng sẽ chi 15 triệu bảng để mua "
                "cầu thủ này trong kỳ chuyển nhượng."
            ),
            {},
        ),
        # the same words do not unmake a public title
        (
            "Chủ tịch UBND tỉnh Lê Văn Bốn thăm công ty. Các doanh nghiệp và nhà đầu tư dự họp.",
            {"Lê Văn Bốn": ["Chủ tịch UBND tỉnh"]},
        ),
        # an international organisation is a public body
        (
            "Ông Peter Hall, giám đốc điều hành WFP, đang ở thăm Bắc Kinh.",
            {"Peter Hall": ["giám đốc điều hành WFP"]},
        ),
        # a public body written after the name stands for the position
        (
            "Bộ trưởng Lê Văn Tư thăm Nguyễn Văn Kha (Chi cục Kiểm lâm Hải Phòng) bị thương.",
            {
                "Lê Văn Tư": ["Bộ trưởng"],
                "Nguyễn Văn Kha": ["Chi cục Kiểm lâm Hải Phòng"],
            },
        ),
        # a junior title's public body after a verb
        (
            "Ông Hiro Sato, công chức làm việc trong chính quyền thành phố Osaka, phát biểu.",
            {"Hiro Sato": ["công chức làm việc"]},
        ),
    ],
)
def test_business_articles_and_public_bodies(text, expected):
    assert {o.name: o.positions for o in extract_officials(None, text)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a country or a city between the title and the name
        (
            "Tổng thống Burkina Faso Blaise Kaboré thăm Hà Nội.",
            {"Blaise Kaboré": ["Tổng thống Burkina Faso"]},
        ),
        (
            "Thị trưởng Las Vegas Oscar Hart phát biểu trên truyền hình.",
            {"Oscar Hart": ["Thị trưởng Las Vegas"]},
        ),
        # "tối cao" (supreme) is part of the title, not "tối" (evening)
        (
            "Tư lệnh tối cao Somchai Pong khẳng định như vậy.",
            {"Somchai Pong": ["Tư lệnh tối cao"]},
        ),
        # "ở" before a place is where, not a new clause
        (
            "Chỉ huy Palestine ở Nam Gaza Jamil Saed tuyên bố.",
            {"Jamil Saed": ["Chỉ huy Palestine ở Nam Gaza"]},
        ),
        # a headline glued to its body: the next sentence's first word is not a name
        (
            "Tưởng niệm Chủ tịch Tôn Đức Thắng Các đại biểu dâng hương.",
            {"Tôn Đức Thắng": ["Chủ tịch"]},
        ),
        # "vụ" (affair) before a name: the title is not that person's
        ("Các lãnh đạo Ủy ban TDTT vụ Leroux đã im lặng.", {}),
        ("Bộ trưởng Nội vụ Đỗ Văn Trọng cho biết.", {"Đỗ Văn Trọng": ["Bộ trưởng Nội vụ"]}),
        # a sales office is a company's
        ("Ông Kenji Sato, Trưởng phòng bán hàng, cho biết xe mới rất bền.", {}),
        # the title before the next name is that name's; what comes before it is this one's
        (
            "Ông Khalid Saeb, cố vấn của Chủ tịch Palestine Yasser Arafat, bị bắn.",
            {"Khalid Saeb": ["cố vấn"], "Yasser Arafat": ["Chủ tịch Palestine"]},
        ),
        # a family name first: "Roh" stands for Roh Moo-hyun
        (
            "Tổng thống Roh Moo-hyun bị luận tội. Tổng thống Roh vi phạm luật bầu cử.",
            {"Roh Moo-hyun": ["Tổng thống"]},
        ),
        # a generic title before a people's name
        ("Nhà lãnh đạo Do Thái không có mặt ở nhà.", {}),
        # a state steering board about enterprises is public
        (
            "Phó trưởng Ban chỉ đạo đổi mới doanh nghiệp Hồ Văn Hiền bình luận.",
            {"Hồ Văn Hiền": ["Phó trưởng Ban chỉ đạo đổi mới doanh nghiệp"]},
        ),
        # names of the Central Highlands peoples
        ("Ông A Brôi - Chủ tịch xã Đắk Tô chỉ đạo.", {"A Brôi": ["Chủ tịch xã Đắk Tô"]}),
    ],
)
def test_places_and_name_edges(text, expected):
    assert {o.name: o.positions for o in extract_officials(None, text)} == expected


# --------------------------------------------------------------------------- labelled sets
@pytest.mark.parametrize(
    "text, expected",
    [
        # a title, "là", then the name; or the name, "là", then its title and its place
        ("Công an đã bắt chủ tịch UBND phường này là Hà Quang Vĩnh.", ["Hà Quang Vĩnh"]),
        (
            (
                "Trong đó có Tạ Văn Lực là xã đội trưởng Bình Minh và Lê Thị Hoa - phó chủ tịch "
                "UBND thị trấn."
            ),
            ["Tạ Văn Lực", "Lê Thị Hoa"],
        ),
        # age or birth year before the title
        (
            "Công an bắt Vũ Văn Toản (45 tuổi, cán bộ địa chính xã Tân Lập) hôm qua.",
            ["Vũ Văn Toản"],
        ),
        ("Kẻ cầm đầu là Lê Hữu Phước sinh 1970, phó phòng nội vụ huyện Kỳ Sơn.", ["Lê Hữu Phước"]),
        (
            "Lệnh bắt Cao Văn Tính (chủ mưu, Phó phòng tài chính huyện Đô Lương) đã có.",
            ["Cao Văn Tính"],
        ),
        # "cách chức <title> với ông <Name>"
        (
            (
                "Tỉnh quyết định cách chức chủ tịch UBND huyện Yên Lạc với ông Phùng Văn Đức "
                "và phó bí thư huyện ủy Tam Dương với ông Kiều Minh Sơn."
            ),
            ["Phùng Văn Đức", "Kiều Minh Sơn"],
        ),
        # given names after "tên là"
        ("Hai cán bộ VKS tên là Lợi và Khoa đã gặp gia đình.", ["Lợi", "Khoa"]),
        # after a hamlet's word a full name is the person; after "Huyện" it is a place
        (
            "Có trưởng ban Lê Văn Kha, trưởng thôn Trịnh Quang Hưng, phó thôn Đào Văn Lý.",
            ["Lê Văn Kha", "Trịnh Quang Hưng", "Đào Văn Lý"],
        ),
        ("Đặng Minh Phú, kế toán trưởng Phòng Nội vụ Huyện Mai Sơn, bị bắt.", ["Đặng Minh Phú"]),
        # highland surnames
        ("Ông Giàng A Páo, công an viên xã Lao Chải, bị thương.", ["Giàng A Páo"]),
        # a Party committee or a mass organisation named after its place is no person
        (
            "Ông Lê Quang Huy (Phó chủ nhiệm Ủy ban kiểm tra Thị ủy Sông Công) bị bắt.",
            ["Lê Quang Huy"],
        ),
        (
            "Ngoài ra, Trần Văn Tú - nguyên bí thư Đoàn thanh niên xã Hòa An - bị phạt.",
            ["Trần Văn Tú"],
        ),
        # "hàng không" (aviation) and "liên bang" (federal) are words, not a verb or a state
        ("Phó bí thư Đảng uỷ Cục hàng không Lê Văn Hòa đã ký.", ["Lê Văn Hòa"]),
        ("Bộ trưởng Tư pháp liên bang Ashcroft phản đối.", ["Ashcroft"]),
        # the prosecution; an envoy "tại" a country
        ("Công tố viên Đức Klaus Wendt đề nghị mức án.", ["Klaus Wendt"]),
        ("Ông gặp đại sứ Anh tại Pháp Peter Westmacott hôm qua.", ["Peter Westmacott"]),
    ],
)
def test_grammar_of_titles_names_and_places(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # a counterpart, a deputy, an envoy; a candidate holds no post
        ("Ông đã gọi cho người đồng nhiệm Pháp Michel Barnier hôm qua.", ["Michel Barnier"]),
        (
            "Kang Sok-ju, người phó của chủ tịch Kim Châng In, khẳng định.",
            ["Kang Sok-ju", "Kim Châng In"],
        ),
        ("Ông Ri Song Chol, đặc phái viên của Triều Tiên, cho biết.", ["Ri Song Chol"]),
        ("Ứng viên Tổng thống Mỹ John Kerry tuyên bố sẵn sàng gặp.", []),
        # "thời" (in the time of) ends a title; "lâm thời" (interim) does not
        ("Luật sư của Naji Sabri, cựu ngoại trưởng thời Saddam Hussein, phản đối.", ["Naji Sabri"]),
        ("Cố vấn cho Bộ trưởng Nội vụ lâm thời Falah Naqib bị bắn.", ["Falah Naqib"]),
        # "nơi" (where) ends a title: the hospital's spokesman is not the patient's
        (
            (
                "Chủ tịch Palestine Yasser Arafat vẫn nguy kịch. Phát ngôn viên của bệnh viện "
                "nơi ông Arafat điều trị cho biết."
            ),
            ["Yasser Arafat"],
        ),
        # a bus station or an area is a place; after "huyện" three words are a person,
        # unless the district is named after one (places.txt)
        ("Ông cử một phó giám đốc chuyên trách khu vực bến xe Giáp Bát.", []),
        (
            "Có Chánh văn phòng UBND huyện Lê Văn Tâm, cán bộ địa chính huyện Vũ Đình Hào.",
            ["Lê Văn Tâm", "Vũ Đình Hào"],
        ),
        (
            "Ông Lê Văn Hùng (Trưởng công an huyện Dương Minh Châu, Tây Ninh) cho biết.",
            ["Lê Văn Hùng"],
        ),
    ],
)
def test_counterparts_candidates_eras_and_district_names(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # a title, its country and a comma, then a foreign name or an addressed one
        ("Đặc biệt, Thủ tướng Tây Ban Nha, Jose Luis Zapatero cũng đến.", ["Jose Luis Zapatero"]),
        ("Đại sứ Lào tại Việt Nam, ông Khamphao Ernthavanh đã phát biểu.", ["Khamphao Ernthavanh"]),
        ("Đại sứ Campuchia tại Việt Nam, ông Hul Phany đã đọc diễn văn.", ["Hul Phany"]),
        # "X Thị Y" is a Vietnamese name whatever X is; after "Bà" a title may follow bare
        ("Bà Thượng Thị Lan chủ tịch UBND phường Tân Định cho biết.", ["Thượng Thị Lan"]),
        ("Ông Nguyễn Văn Ba trưởng thành từ quân đội.", []),
        # a market's word in a place's name is a place ("huyện Chợ Mới"); each title of a
        # chain is judged by its own words ("Phó Ban Tổ chức" does not make the first one
        # a business title); "Phó văn phòng"; the title's own place and a comma
        ("Ông Lê Văn Năm, Phó chủ tịch UBND huyện Chợ Mới, cho biết.", ["Lê Văn Năm"]),
        (
            "Ông Hồ Văn Tư, Phó Chủ tịch UBND tỉnh, Phó Ban Tổ chức Lễ hội Hoa, cho biết.",
            ["Hồ Văn Tư"],
        ),
        ("Theo ông Lê Văn Sơn, Phó văn phòng Công an tỉnh, hiện có nhiều.", ["Lê Văn Sơn"]),
        ("Trưởng công an xã Tân Hòa, Trần Văn Út hỏi điều tra viên.", ["Trần Văn Út"]),
        ("Tại xã Mỹ Hòa, Phó trưởng Công an xã Nguyễn Văn Tám cho biết.", ["Nguyễn Văn Tám"]),
    ],
)
def test_appositions_after_a_title_and_bare_titles_after_an_address(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Thủ tướng Phan Văn Khải và PGS.TS Nguyễn Văn A, Chi cục trưởng, Phó công an xã.",
        "THỦ TƯỚNG PHAN VĂN KHẢI, ĐỒNG CHÍ BỘ TRƯỞNG, ông Ba, Đ/c Tư, trưởng thôn Năm.",
        "İstanbul: Tổng thống Thổ Nhĩ Kỳ và nguyên Phó chủ tịch UBND xã, đại tá Lê Văn Sáu.",
        "xãtrưởng phóthôn cán bộchi cục-trưởng chi cục phó. T.Ư, TP.HCM, UBND.",
    ],
)
def test_triggers_are_found_exactly_as_the_grammar_finds_them(text):
    """find_triggers looks only where a trigger's first word starts: the same matches."""
    from indexer.officials import find_triggers, lexicon

    lex = lexicon()
    expected = [(m.start(), m.end()) for m in lex.trigger_re.finditer(text)]
    assert expected
    assert [(m.start(), m.end()) for m in find_triggers(text, lex)] == expected
    if SEED.is_file():
        seed = SEED.read_text(encoding="utf-8")
        assert [m.span() for m in find_triggers(seed, lex)] == [
            m.span() for m in lex.trigger_re.finditer(seed)
        ]


def test_index_path_normalised_input_gives_the_same_officials():
    from indexer.analysis import normalize_text

    title, body = (
        "Thủ tướng thăm Hoà Bình",
        "Chủ tịch UBND xã Nguyễn Văn Hoà và ông Lê Thuỷ, trưởng thôn.",
    )
    raw = extract_officials(title, body)
    normalised = extract_officials(normalize_text(title), normalize_text(body), normalized=True)
    assert [o.name for o in raw] == ["Nguyễn Văn Hoà", "Lê Thuỷ"]  # as written
    assert [o.name for o in normalised] == ["Nguyễn Văn Hòa", "Lê Thủy"]  # one canonical form
    assert [o.positions for o in raw] == [o.positions for o in normalised]


def test_headline_title_goes_to_the_foreign_person_the_lead_addresses():
    found = extract_officials(
        "Thủ tướng Italy từ chức", "Ông Romano Prodi hôm nay đệ đơn lên tổng thống."
    )
    assert [(o.name, o.positions) for o in found] == [("Romano Prodi", ["Thủ tướng Italy"])]
    # one with a position of their own, or a Vietnamese name, takes nothing from the headline
    assert names("Ông Lê Văn Ba hôm nay nói.", title="Thủ tướng Italy từ chức") == []


# --------------------------------------------------------------------------- third session
@pytest.mark.parametrize(
    "text, name, position",
    [
        (
            "Bị can đầu vụ là Huỳnh Văn Hôn (sinh 1971, cán bộ địa chính thị trấn Hộ Phòng).",
            "Huỳnh Văn Hôn",
            "cán bộ địa chính thị trấn Hộ Phòng",
        ),
        (
            "Ba đồng phạm gồm Trần Văn Định (1977, cán bộ Phòng Tài nguyên huyện Giá Rai).",
            "Trần Văn Định",
            "cán bộ Phòng Tài nguyên huyện Giá Rai",
        ),
        (
            "Trần Khắc Trung, (nguyên phó Phòng Tài nguyên huyện) 3 năm tù.",
            "Trần Khắc Trung",
            "nguyên phó Phòng Tài nguyên huyện",
        ),
        (
            "Bộ trưởng đã bổ nhiệm ông Hoàng Thành vào chức Tổng giám đốc Cụm cảng hàng không.",
            "Hoàng Thành",
            "Tổng giám đốc Cụm cảng hàng không",
        ),
        (
            "Bà Kim Yo Jong đã được thăng chức làm Phó ban Tuyên giáo của Đảng Lao động Triều Tiên.",
            "Kim Yo Jong",
            "Phó ban Tuyên giáo của Đảng Lao động Triều Tiên",
        ),
    ],
)
def test_a_title_after_a_birth_year_a_comma_and_parenthesis_or_a_verb_of_taking_a_post(
    text, name, position
):
    assert by_name(text)[name].positions == [position]


def test_a_verb_capitalised_or_acting_as_someone_is_no_official():
    assert names("Giả làm thiếu tướng để xin việc. Thích làm lãnh đạo trong mọi việc.") == []
    assert names("4/2006: Được bầu làm Tổng Bí thư Ban Chấp hành Trung ương Đảng khóa X.") == []


def test_a_sentence_glued_to_the_next_ends_at_its_dot():
    text = "Đó là ông Đỗ Ngọc Biên, Trưởng Công an xã Tân Nghĩa- Hàm Tân.Đó là Nguyễn Trung Tâm."
    assert names(text) == ["Đỗ Ngọc Biên"]
    assert names("Ông Lê Văn A, Phó chủ tịch UBND TP.HCM, nói.") == ["Lê Văn A"]


def test_all_of_them_are_gives_one_title_to_the_names_before_as_many_as_it_says():
    before = "Công an vừa bắt giam Trần Huy Chiến, Trần Văn Trường và tạm giữ Phùng Mạnh Quân. "
    found = by_name(before + "Cả ba là cán bộ địa chính phường Phù Liễn, quận Kiến An.")
    assert sorted(found) == ["Phùng Mạnh Quân", "Trần Huy Chiến", "Trần Văn Trường"]
    assert found["Trần Huy Chiến"].positions == ["cán bộ địa chính phường Phù Liễn, quận Kiến An"]
    assert names(before + "Cả hai là cán bộ địa chính phường Phù Liễn.") == []  # three named


def test_a_counted_group_before_a_title_gives_it_to_as_many_names_listed_after_it():
    text = (
        "TAND xét xử 5 bị cáo nguyên là cán bộ Đội thuế thị trấn Tân Phú về tội nhận hối lộ. "
        "Họ gồm: Lê Quang Nha (nguyên đội trưởng), Nguyễn Văn Châu (đội phó), Nguyễn Tài Lợi, "
        "Phạm Văn Quốc, Lê Văn Chung."
    )
    found = by_name(text)
    assert len(found) == 5
    assert found["Lê Văn Chung"].positions == ["cán bộ Đội thuế thị trấn Tân Phú"]
    assert found["Lê Quang Nha"].positions == ["nguyên đội trưởng"]  # its own stays
    same = "Khởi tố ba công chức hải quan là Dương Kiến Hương, Nguyễn Danh Chi, Nguyễn Bá Lộc."
    assert len(names(same)) == 3
    apart = "Đã cử 2 cán bộ xuống hiện trường. Ông Lương Công Nhớ và Qinghuang Dao cho biết."
    assert names(apart) == []  # the next sentence does not list them


def test_a_title_opening_a_sentence_goes_to_the_foreign_person_the_next_one_addresses():
    text = (
        "Bộ trưởng Ngoại giao Ba Lan cảnh báo rằng quan hệ với Nga ngày càng tồi tệ. "
        '"Đã có quá nhiều vụ việc", ông Adam Rotfeld phát biểu.'
    )
    assert by_name(text)["Adam Rotfeld"].positions == ["Bộ trưởng Ngoại giao Ba Lan"]
    later = "Bộ trưởng Ngoại giao Ba Lan cảnh báo Nga. Hôm qua trời mưa. Ông Adam Rotfeld nói."
    assert names(later) == []  # only the very next sentence


def test_a_headline_opening_with_a_title_gives_that_title_to_the_lead():
    found = extract_officials(
        "Tổng thống Hàn Quốc thay cố vấn an ninh",
        "Ông Roh Moo-hyun hôm nay đã công bố tên của các cố vấn an ninh.",
    )
    assert [o.name for o in found] == ["Roh Moo-hyun"]
    assert found[0].positions[0].startswith("Tổng thống Hàn Quốc")


def test_the_headline_title_reaches_the_first_person_past_a_dot_of_an_abbreviation():
    found = extract_officials(
        "Tổng thống Ba Lan bị nghi là dân nhập cư bất hợp pháp",
        "Đã xui khi máy bay phải dừng lại ở St. John's (Canada) vì tuyết dày, "
        "ông Aleksander Kwasniewski tiếp tục gặp đen.",
    )
    assert [(o.name, o.positions) for o in found] == [
        ("Aleksander Kwasniewski", ["Tổng thống Ba Lan"])
    ]
    not_subject = extract_officials(
        "Phe đối lập Thái Lan đòi thủ tướng từ nhiệm",
        "Dẫn đầu cuộc xuống đường ở St. Mary, ông Sondhi Limthongkul cảnh báo.",
    )
    assert not_subject == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("Bộ trưởng Bộ Tư pháp Uông Chu Lưu gặp bộ trưởng Canada.", "Uông Chu Lưu"),
        ("Bộ trưởng Quốc phòng Nhật bản Yoshinori Ono lên tiếng.", "Yoshinori Ono"),
        ("Giết hại trung sĩ cảnh sát hình sự Phan Lê Sơn.", "Phan Lê Sơn"),
        (
            "Hai ông Dương Văn Thêm và Nguyễn Văn Tung (đều là cán bộ địa chính xã).",
            "Dương Văn Thêm",
        ),
    ],
)
def test_rarer_surnames_a_lowercase_country_ranks_of_sergeants_and_a_shared_post(text, name):
    assert name in names(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Chủ tịch Ủy ban An toàn Quốc gia Tetsuo Kutsukake tuyên bố.", ["Tetsuo Kutsukake"]),
        ("Khi đó, Chủ tịch Uỷ ban châu Âu Jose Manuel Barroso tuyên bố.", ["Jose Manuel Barroso"]),
        (
            "Chủ tịch Hội đồng Hồi giáo tỉnh Pattani Waedueramae Maminchi nói.",
            ["Waedueramae Maminchi"],
        ),
        ("Phát ngôn viên cảnh sát quốc gia Pongsapat Pongcharoen nói.", ["Pongsapat Pongcharoen"]),
        ("Phó thị trưởng thành phố St Petersburg nói.", []),
        ("Chủ tịch huyện Ea Kar nói.", []),
        ("HLV trưởng đội tuyển Italy, ông Marcello Lippi, nói.", []),
        ("Bộ trưởng tình báo Iran Ali Yunesi tuyên bố.", ["Ali Yunesi"]),
        ("Phát ngôn viên sứ quán Mỹ Michael Boyle nói.", ["Michael Boyle"]),
        ("Bà Ko bắt taxi đến Đại sứ quán Mỹ tại Bern – Thụy Sĩ.", []),
        (
            "Giám đốc Tổ chức năng lượng nguyên tử quốc tế (IAEA) Mohamed ElBaradei kêu gọi.",
            ["Mohamed ElBaradei"],
        ),
    ],
)
def test_a_foreign_name_after_an_organisation_that_ends_in_a_place_word(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Ông Đoàn Văn Ky - phó chủ tịch UBND xã Nam Thái Sơn (Hòn Đất)- dẫn chứng.",
            ["Đoàn Văn Ky"],
        ),
        (
            "Ông gặp ông Trần Văn Dân, Phó trưởng cơ quan thi hành án, là người phụ trách.",
            ["Trần Văn Dân"],
        ),
        (
            "Nhóm cán bộ hải quan gồm: Trần Phi Long, Trần Vĩnh Phước, Huỳnh Đăng Lân đều thừa nhận.",
            ["Trần Phi Long", "Trần Vĩnh Phước", "Huỳnh Đăng Lân"],
        ),
        ("Nhóm cán bộ hải quan đến, Trần Phi Long và Trần Vĩnh Phước chạy.", []),
        ("Bộ trưởng Công lý Thổ Nhĩ Kỳ, Cemil Cicek, giải thích việc này.", ["Cemil Cicek"]),
        ("Bộ trưởng Công lý Thổ Nhĩ Kỳ, Cemil Cicek và Agca gặp nhau.", []),
    ],
)
def test_place_names_cut_lists_after_gom_and_a_foreign_name_between_commas(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Nữ phát ngôn viên của SBU Marina Ostapenko tiết lộ.", ["Marina Ostapenko"]),
        ("Bà Habiba Sarobi, từng là bộ trưởng Phụ nữ, nhận chức.", ["Habiba Sarobi"]),
        ("Kim Man-soo, một phát ngôn viên tổng thống nói ông có lỗi.", ["Kim Man-soo"]),
        ("Trao đổi với VnExpress, một quan chức của Bộ Thương mại cho biết.", []),
        ("Cho nguyên chủ tịch UBND huyện Phú Quốc Đỗ Tố bào chữa.", ["Đỗ Tố"]),
        ("Luật sư Nguyễn Trường Thành (Trưởng văn phòng luật sư Vạn Lý) bào chữa.", []),
        (
            "Người bị bắt là Muhsin Khadar al-Khafaji, chủ tịch đảng Bath tại vùng Qadisiyah.",
            ["Muhsin Khadar al-Khafaji"],
        ),
        ("Phát ngôn viên của Bộ Ngoại giao Nhật Akira Chiba cho biết.", ["Akira Chiba"]),
        ("Đi cùng là Giám đốc Ngân hàng Thế giới James Wolfensohn.", ["James Wolfensohn"]),
        ("Người đứng đầu chính quyền vùng Khabarovsk Viktor Ishayev nói.", ["Viktor Ishayev"]),
        ("Theo người đứng đầu nghiên cứu Andreas Bartels, não bộ thay đổi.", []),
        (
            (
                "Riêng 3 nhân viên hải quan được phân công kiểm hóa ngày 23/3 là Nguyễn Anh Hào, "
                "Phan Văn Hiên và Phạm Văn Điểm."
            ),
            ["Nguyễn Anh Hào", "Phan Văn Hiên", "Phạm Văn Điểm"],
        ),
        (
            (
                "Ông nói với người đồng nhiệm Malaysia Abdullah Badawi và Indonesia Susilo Bambang "
                "Yudhoyono rằng."
            ),
            ["Abdullah Badawi", "Susilo Bambang Yudhoyono"],
        ),
        ("Bị cáo Nguyễn Thị Ngọc Lan (văn thư huyện) nhận án.", ["Nguyễn Thị Ngọc Lan"]),
    ],
)
def test_an_office_abbreviation_a_former_post_an_indefinite_title_and_law_firms(text, expected):
    assert names(text) == expected


def test_the_headline_title_reaches_a_lead_that_names_a_foreign_person_by_one_word():
    found = extract_officials(
        "Thủ tướng Hàn Quốc từ chức",
        "Ông Lee đã bị các nhóm đối lập chỉ trích. Ông Lee Hae-chan đã đi chơi golf.",
    )
    assert [(o.name, o.positions) for o in found] == [("Lee Hae-chan", ["Thủ tướng Hàn Quốc"])]


def test_a_department_of_a_company_or_a_taxi_firm_is_no_public_body():
    text = (
        "Hãng đang đầu tư cho sản phẩm mới, Thomas Kurian, Phó Chủ tịch cao cấp phụ trách bộ "
        "phận Fusion Middleware của Oracle, phát biểu."
    )
    assert names(text) == []
    taxi = "Bắt Nguyễn Xuân Mười (nhân viên lái taxi Mai Linh ở thị xã Hà Tĩnh)."
    assert names(taxi) == []


def test_a_company_spokesperson_in_a_business_article_is_no_official():
    text = (
        "Hãng dự kiến ra mắt sản phẩm mới. Akira Muneto, người phát ngôn của Pioneer, cho biết "
        "các công ty sẽ tích hợp ổ đĩa. Ông Lê Văn Bình, người phát ngôn của Thủ tướng, nói."
    )
    assert names(text) == ["Lê Văn Bình"]


def test_a_name_right_after_a_title_then_a_comma_and_a_form_of_address_is_two_people():
    found = by_name("Trong cuộc điện đàm với Chủ tịch Arafat, ông Mussa tỏ ý tin tưởng.")
    assert list(found) == ["Arafat"]  # Arafat is no place, and Mussa does not share his title


def test_a_name_the_article_also_writes_after_a_place_word_is_the_place():
    text = "Ông Đỗ Tố bị bắt tại huyện Phú Quốc. Nguyên chủ tịch Phú Quốc có luật sư."
    assert names(text) == []
    assert names("Nguyên chủ tịch Phú Quốc có luật sư.") == ["Phú Quốc"]  # nothing says otherwise
    assert names("Trưởng thôn Khánh cho biết. Trưởng thôn Khánh nói.") == ["Khánh"]


def test_labelled_sets_precision_and_recall():
    """Both fixtures against the shared corpus: the tune split, and the report split that no
    rule was tuned on (its floor is a guard against regressions, not a target)."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED / 'corpus'}")
    from bench.officials import extract_all, load_all, load_articles, score_by_kind

    labelled = load_all()
    articles = load_articles({a.id for a in labelled})
    assert set(articles) == {a.id for a in labelled}
    table = score_by_kind(labelled, extract_all(articles))
    tune, report = table["tune", "all"], table["report", "all"]
    assert tune.precision >= 0.90, tune.false_positives
    assert tune.recall >= 0.90, tune.false_negatives
    assert report.precision >= REPORT_FLOOR and report.recall >= REPORT_FLOOR


REPORT_FLOOR = 0.82  # report P/R 0.934/0.843 on 161 articles (2nd session); the target is 0.90


def test_second_fixture_holds_labels_only_and_its_split_is_the_hash_rule():
    """No article text is committed, and the report split is the fixed hash rule: the 100
    smallest ``sha256("officials-report:" + id)`` of batch 1, a first hex digit below 8 in
    batch 2 and in batches 4 and 5; batch 3 was labelled later, for tuning only; batches 6 and
    7 were drawn only among ids whose first hex digit is 8 or more, so the report split stays fixed."""
    import hashlib
    import json

    from bench.officials import KINDS, LABELS_2

    records = [json.loads(line) for line in LABELS_2.read_text(encoding="utf-8").splitlines()]
    for record in records:
        assert set(record) == {"id", "source", "split", "batch", "officials"}
        for official in record["officials"]:
            assert set(official) == {"name", "kind", "position"}
            assert official["kind"] in KINDS

    def digest(doc_id: str) -> str:
        return hashlib.sha256(("officials-report:" + doc_id).encode()).hexdigest()

    first = sorted((r["id"] for r in records if r["batch"] == 1), key=digest)
    report = {r["id"] for r in records if r["split"] == "report"}
    assert report & set(first) == set(first[:100])
    second = {r["id"] for r in records if r["batch"] == 2}
    assert report & second == {i for i in second if digest(i)[0] in "01234567"}
    assert not report & {r["id"] for r in records if r["batch"] == 3}  # labelled to tune on
    fourth = {r["id"] for r in records if r["batch"] in (4, 5)}
    assert report & fourth == {i for i in fourth if digest(i)[0] in "01234567"}
    for batch in (6, 7):  # drawn among tune hashes only
        drawn = {r["id"] for r in records if r["batch"] == batch}
        assert drawn and not report & drawn
        assert all(digest(i)[0] not in "01234567" for i in drawn)
    assert len(records) == len({r["id"] for r in records}) == 620  # each article once
    assert len(report) >= 100 and len(records) >= 150


def test_bench_compare_prints_one_line_per_extractor_from_its_own_scores():
    from bench.officials import KINDS, SPLITS, Scores, format_compare

    def table(tp: int) -> dict:
        cells = {(s, k): Scores(tp=tp, fp=1, fn=1) for s in SPLITS for k in (*KINDS, "all")}
        cells["report", "foreign"] = Scores(tp=0, fp=0, fn=4)
        return cells

    lines = format_compare({"old": table(1), "today": table(3)}).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| old", "| today"]
    assert lines[2].split(" | ")[1:5] == ["0.500"] * 4
    assert lines[3].split(" | ")[1:5] == ["0.750"] * 4
    assert lines[3].split(" | ")[KINDS.index("foreign") + 5] == "0.000"


def test_police_before_a_vietnamese_name_is_his_title_but_the_force_before_anything_else():
    # tune: vntc/Test_Full-PL_VNE_T_-490
    found = extract_officials(None, "Thọ cầm đầu vụ giết hại cảnh sát Phan Lê Sơn rồi bỏ trốn.")
    assert [(o.name, o.positions) for o in found] == [("Phan Lê Sơn", ["cảnh sát"])]
    listed = (
        "Liên quan vụ án có hai cảnh sát điều tra của Công an Hải Phòng là Nguyễn Đình Phương "
        "và Dương Văn Ba."
    )
    assert names(listed) == ["Nguyễn Đình Phương", "Dương Văn Ba"]
    # the force, not a person's title: a foreign place, a body, a clause's subject
    assert names("Vụ nổ xảy ra tại Jolo, phía nam Philippine, cảnh sát cho biết.") == []
    assert names("Cảnh sát đã đến đường Warrent Street, cảnh sát Shepherd's Bush cho biết.") == []
    assert names("Phòng Cảnh sát Hình sự - Công an Hà Nội vừa bắt khẩn cấp Trần Viết Lực.") == []
    assert names('Người đàn ông hô lớn: "Tôi là cảnh sát hình sự", rồi bỏ đi.') == []
    assert names("Tại cửa hàng 40 Lê Văn Sỹ, cảnh sát đã tạm giữ gần 3 bao tải máy ảnh.") == []
    found = extract_officials(
        None, "Phó chỉ huy lực lượng cảnh sát tại London Andy Trotter cho hay như vậy."
    )
    assert [(o.name, o.positions) for o in found] == [
        ("Andy Trotter", ["Phó chỉ huy lực lượng cảnh sát tại London"])
    ]


def test_a_name_right_after_a_street_word_is_the_street():
    # unlabelled tune-hash article vntc/Train_Full-PL_-VNE_-1352 and the police rule's diff
    text = (
        "Kiểm tra 2 khách sạn trên đường Trần Duy Hưng, cảnh sát hình sự Hà Nội bắt quả tang "
        "4 cô gái. Tại một kho ở đường Huỳnh Tịnh Của, cán bộ chức năng thu 930 sản phẩm."
    )
    assert names(text) == []
    # "thành phố", "tổ dân phố" end a title: the name after them is a person
    assert names("Chủ tịch UBND thành phố Lê Thanh Hải đọc diễn văn.") == ["Lê Thanh Hải"]
    assert names("Tổ trưởng tổ dân phố Lê Văn Bình cho biết.") == ["Lê Văn Bình"]


def test_the_arab_league_is_a_public_body_but_a_sports_federation_is_not():
    # tune: vntc/Test_Full-TG_VNE_T_-1876
    text = "Chủ tịch Liên đoàn Ảrập Amr Mussa cũng kêu gọi người dân Palestine đoàn kết."
    assert names(text) == ["Amr Mussa"]
    assert names("Tổng thư ký Liên đoàn Ả Rập Amr Moussa nói.") == ["Amr Moussa"]
    assert names("Chủ tịch Liên đoàn Bóng đá Ả Rập Ahmed Ali nói.") == []


def test_a_three_word_name_after_ong_ba_whose_first_word_is_no_surname_of_ours_is_whole():
    # tune: vims/a64407600a8f ("Se Pyong" was taken for him); unlabelled tune-hash articles
    text = "Ông So Se Pyong, đặc phái viên của Triều Tiên tại Liên Hợp Quốc cho biết."
    assert names(text) == ["So Se Pyong"]
    text = "Ông Đầu Thanh Tùng, Phó chủ tịch UBND tỉnh Thanh Hóa vừa ký văn bản."
    assert names(text) == ["Đầu Thanh Tùng"]
    # "Bà Rịa" is a place, not a woman addressed
    assert names("Sáng nay, UBND tỉnh Bà Rịa Vũng Tàu tổ chức họp báo.") == []
    assert names("Phó chủ tịch UBND tỉnh Bà Rịa - Vũng Tàu đã tới dự.") == []


def test_van_or_thi_in_the_middle_makes_a_rare_first_word_a_surname():
    # unlabelled tune-hash article vntc/Test_Full-XH_VNE_T_-3376 ("Văn Chuân" was taken)
    text = "Ông Tạn Văn Chuân, Phó chủ tịch HĐND huyện Đồng Phú, thừa nhận việc này."
    assert names(text) == ["Tạn Văn Chuân"]
    # a company form before it: a company ("Công ty Tân Văn Phát" is no person)
    assert names("Giám đốc Công ty Tân Văn Phát cho biết.") == []
    assert names("Trao đổi với ông Tạn Văn Chuân về việc đền bù.") == []  # no title: none


def test_a_time_word_between_a_name_and_its_apposed_title_keeps_them_together():
    # tune: vntc/Test_Full-TG_VNE_T_-5210
    text = (
        "Trong cuốn băng quay cảnh chất vấn Saddam Hussein hôm qua, cựu tổng thống Iraq "
        "tuyên bố rằng ông không được tiếp xúc với luật sư."
    )
    assert names(text) == ["Saddam Hussein"]
    # one word before the time word is a newspaper or a place, not the person titled after it
    text = "Trao đổi với VnExpress sáng nay, Vụ phó Tài chính Kế toán cho biết giá điện sẽ tăng."
    assert names(text) == []


def test_a_two_word_name_after_a_title_ending_in_its_level_is_the_official():
    # tune: vntc/Train_Full-PL_-VNE_-1078, vntc/Test_Full-PL_TN_T_-3446 (read as a place before)
    text = (
        "Hai thanh niên bị công an xã Mỹ Xuân tạm giữ. Trưởng công an xã Nguyễn Được và Chủ "
        "tịch UBND xã Phạm Văn Quyền cho rằng họ bị ngã xe."
    )
    assert names(text) == ["Nguyễn Được", "Phạm Văn Quyền"]
    text = (
        "Vụ đất tại huyện đảo Phú Quốc: làm rõ quan hệ với nguyên Chủ tịch UBND huyện Đỗ Tố "
        "(đã bị bãi chức ngày 7/9)."
    )
    assert names(text) == ["Đỗ Tố"]
    # a place of that level, then a higher one: the place's name ("xã Thạch Xuân, huyện …")
    text = (
        "Công an bắt Đặng Đình Tứ (phó chủ tịch HĐND xã Thạch Xuân, huyện Thạch Hà). Xã Kỳ Phú "
        "cũng có sai phạm."
    )
    assert names(text) == ["Đặng Đình Tứ"]
    text = "Ông Lê Văn Ba, Chủ tịch UBND phường Nguyễn Du, quận Hai Bà Trưng, cho biết."
    assert names(text) == ["Lê Văn Ba"]
    # the article names no other place of that level: the words may be the place
    assert names("Chủ tịch UBND phường Nguyễn Du cho biết việc xây dựng đã bị dừng.") == []
    # the title is a named person's, in a parenthesis: the words after it are its place
    text = "Ông Hà Kế San (quyền chủ tịch huyện Lâm Thao) không đồng ý. Huyện Phù Ninh thì khác."
    assert names(text) == ["Hà Kế San"]
    # a rarer surname ("Quang Trung") is a place's name
    text = "Trưởng đồn công an phường Quang Trung cho biết. Phường Hoàng Văn Thụ cũng vậy."
    assert names(text) == []


def test_a_counted_group_of_a_bodys_members_gives_its_title_to_as_many_names():
    # tune: vntc/Test_Full-PL_VNE_T_-1059; unlabelled tune-hash vntc/Test_Full-PL_VNE_T_-1156
    text = (
        "Chiều ngày 9/2/2004, ba công an xã là Trần Văn Bảo, Trần Minh Tuấn, Trần Văn Út được "
        "Trưởng công an xã cử đi xác minh."
    )
    assert names(text) == ["Trần Văn Bảo", "Trần Minh Tuấn", "Trần Văn Út"]
    found = extract_officials(
        None, "Hai công an phường Ngô Mây là Võ Hồng Xuân và Mai Văn Minh đến giải quyết."
    )
    assert [(o.name, o.positions) for o in found] == [
        ("Võ Hồng Xuân", ["công an phường Ngô Mây"]),
        ("Mai Văn Minh", ["công an phường Ngô Mây"]),
    ]
    # the count differs from the names listed: no title for any of them
    text = "Hai công an xã là Trần Văn Bảo, Trần Minh Tuấn và Trần Văn Út được cử đi xác minh."
    assert names(text) == []
    # the body itself, not its members: no count
    assert names("Công an xã là Trần Văn Bảo đã tới hiện trường.") == []
    # a count of other people
    assert names("Ba người dân là Trần Văn Bảo, Trần Minh Tuấn, Trần Văn Út bị đánh.") == []


def test_a_public_body_whose_first_word_reads_like_a_given_name_is_no_person():
    # tune: vntc/Test_Full-PL_VNE_T_-1222 ("Vườn" was taken), vntc/Train_Full-XH_TT_-3608 ("Thảo")
    text = "Ngày 8/4, Giám đốc Vườn quốc gia Bù Gia Mập Nguyễn Đại Phú đã xin lỗi."
    assert names(text) == ["Nguyễn Đại Phú"]
    text = "Bà Nguyễn Thị Hiền Lương, giám đốc Thảo cầm viên, nói đã nhiều lần yêu cầu."
    assert names(text) == ["Nguyễn Thị Hiền Lương"]
    assert names("Giám đốc Thảo cầm viên cho biết sẽ mở cửa lại.") == []
    # the given name itself, after a local title, is still a person
    assert names("Ông Thảo, trưởng thôn, cho biết.") == ["Thảo"]


def test_a_title_then_la_and_a_form_of_address_goes_to_the_name():
    # tune: vntc/Test_Full-PL_VNE_T_-1969
    text = "Phó công an phường là anh Nguyễn Văn Điều cùng một dân phòng đi xuống hiện trường."
    assert names(text) == ["Nguyễn Văn Điều"]
    # "là anh" of kinship: no name follows
    assert names("Chủ tịch xã là anh trai của Nguyễn Văn Bình.") == []


def test_a_bodys_member_in_a_parenthesis_after_a_full_name_is_his_post():
    # tune: vntc/Train_Full-PL_NLD_-4720
    text = "Họ bị anh Trần Văn Cử (công an ấp) và đại úy Huỳnh Văn Mươi (công an huyện) nhắc nhở."
    found = extract_officials(None, text)
    assert [(o.name, o.positions) for o in found] == [
        ("Trần Văn Cử", ["công an ấp"]),
        ("Huỳnh Văn Mươi", ["đại úy", "công an huyện"]),
    ]
    # the body where someone lives or reported to: no parenthesis of his own
    assert names("Ông Trần Văn Cử đến công an xã trình báo (sáng 3/4).") == []
    assert names("Nguyễn Văn Tư (ấp 3, xã Long Hưng) bị công an xã bắt giữ.") == []


def test_a_junior_title_in_a_list_of_ranked_officials_needs_no_body_of_its_own():
    # tune: vntc/Train_Full-PL_TN_-3480
    text = (
        "Nhóm công tác gồm: đại úy Bùi Hoàng Minh (Đội phó Đội Cảnh sát điều tra), đại úy "
        "Nguyễn Văn Bốn, trung úy Đinh Văn Tư và lái xe Nguyễn Văn Hòa."
    )
    assert names(text) == ["Bùi Hoàng Minh", "Nguyễn Văn Bốn", "Đinh Văn Tư", "Nguyễn Văn Hòa"]
    # after a company's director the junior title stays a company's (unlabelled tune-hash
    # vntc/Test_Full-PL_VNE_T_-2836)
    text = "Giám đốc Nguyễn Minh Cước và kế toán trưởng Nguyễn Lập Phong lập báo cáo sai."
    assert "Nguyễn Lập Phong" not in names(text)
    assert names("Anh Nguyễn Văn Bốn và lái xe Nguyễn Văn Hòa đã bỏ đi.") == []


def test_a_three_word_name_right_after_a_level_then_a_higher_place_is_the_place():
    # tune: vntc/Test_Full-PL_VNE_T_-1989 (a commune named after a person)
    text = (
        "Các bị can đưa cho chủ tịch, phó chủ tịch xã Lương Thế Trân (cũ), huyện Cái Nước, "
        "tỉnh Cà Mau, ký."
    )
    assert names(text) == []
    # unlabelled tune-hash vntc/Test_Full-XH_VNE_T_-1932: a clause after the name, no place
    text = "Theo Phó chủ tịch UBND thành phố Đỗ Hoàng Ân, thành phố đã thống nhất tuyến xe điện."
    assert names(text) == ["Đỗ Hoàng Ân"]
