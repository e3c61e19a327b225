"""Where a query's units occur in a text (snippets, phrase confirmation): the folded-text
search of ``search.matching`` against the plain definition, a regex over the whole text
with its tones placed (``normalize_text``) holding each syllable as typed or, typed
without diacritics, every letter that folds to each of its letters."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
import unicodedata

import pytest

from bench.data import corpus_path, has_shared, shared_dir
from indexer.analysis import HAN, SYLLABLE_PATTERN, fold_diacritics, normalize_text, sentence_breaks
from search.matching import (
    Sequence,
    SequencePattern,
    Syllable,
    syllable_span_arrays,
    syllable_spans,
)
from search.snippets import make_snippet

NOT_HAN_LETTER = rf"[^\W_{HAN}]"
HYPHENS = "-‐‑‒–—"


def _classes() -> dict[str, str]:
    variants: dict[str, set[str]] = {}
    for code in list(range(0x61, 0x7B)) + list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(code)
        base = fold_diacritics(ch)
        if ch.lower() == ch and len(base) == 1 and base.isascii() and base.isalpha():
            variants.setdefault(base, set()).add(ch)
    return {b: "[" + "".join(sorted(c)) + "]" for b, c in variants.items()}


CLASSES = _classes()


def reference_spans(unit, text: str) -> list[tuple[int, int]]:
    """The definition: one regex per unit over normalize_text(text).lower()."""
    seq = unit if isinstance(unit, Sequence) else Sequence((unit,))

    def syl_regex(syl: Syllable, i: int) -> str:
        if syl.exact:
            body = re.escape(syl.text)
        else:
            body = "".join(CLASSES.get(ch, re.escape(ch)) for ch in syl.folded)
        body = f"(?P<s{i}>{body})"
        if re.fullmatch(f"[{HAN}]", syl.text):
            return body
        return f"(?<!{NOT_HAN_LETTER}){body}(?!{NOT_HAN_LETTER})"

    parts = [syl_regex(seq.syllables[0], 0)]
    for i, syl in enumerate(seq.syllables[1:], 1):
        if seq.is_code:
            sep = seq.separators[i - 1]
            sep_re = f"[{HYPHENS}/]" if sep in HYPHENS or sep == "/" else re.escape(sep)
            parts.append(f"(?P<g{i}>{sep_re})")
        else:
            parts.append(f"(?P<g{i}>[\\W_]*?)")
        parts.append(syl_regex(syl, i))
    if seq.suffix:
        parts.append(r"\s?" + re.escape(seq.suffix))
    regex = re.compile("".join(parts))
    norm = normalize_text(text)
    lower = norm.lower()
    out = []
    for m in regex.finditer(lower):
        if not seq.is_code and len(seq.syllables) > 1:
            gaps = [m.span(f"g{i}") for i in range(1, len(seq.syllables))]
            breaks = sentence_breaks(norm)
            if any(a <= b_ < b for a, b in gaps for b_ in breaks):
                continue
        out.append(m.span())
    return out


TRICKY = [
    "Hoà bình và hòa bình; HOÀ BÌNH. Thuỷ lợi, thủy lợi: baỏ vệ, bảo vệ",
    "Ông Nguyễn V. An nói. Hà Nội: hà nội, HÀ NỘI, Hà-Nội, hà_nội, hà nội2 2hà nội",
    "Nghị định 100/2019/NĐ-CP và 100-2019-nđ–cp; COVID-19, covid 19, 2,4% và 2,4 %",
    "Đảng bộ đang dang dở. Đà Nẵng, da nang, đà nẵng. TP. Hồ Chí Minh tp.hcm",
    "Thành ủy Hà Nội. Thành uỷ. thành ủy hà nội, thanh uy ha noi; 東京 東 京 Q.10 q. 10",
    "ﬁnance Ｈà Ｎội xe\u00a0máy bão báo bao BÃO",
    "Hà東Nội 東京hà an_an xanh an, an2 thanh-an; ab東cd 2019東京 hà\u0301 nội",
    "😀hà nội😀 Hà\U00020000Nội ǅà hàж жhà ħà hà²nội Σà ΣΑ ﬁ hà",  # astral, other scripts
    'Hà-Nội_hà—nội…HÀ NỘI. ha noi; hạ nổi; HẠ NỘI; Hà Nội\'s (hà nội) "hà nội" 1hà nội1',
]


def _units_from(text: str, rng: random.Random) -> list:
    syls = [s.lower() for s in SYLLABLE_PATTERN.findall(normalize_text(text))]
    if not syls:
        return []
    units = []
    for _ in range(12):
        i = rng.randrange(len(syls))
        run = syls[i : i + rng.choice([1, 1, 2, 3])]
        if rng.random() < 0.4:
            run = [fold_diacritics(s) for s in run]
        if rng.random() < 0.15:  # a tone moved: the canonical placement must still match
            run = [s.replace("òa", "oà").replace("ủy", "uỷ") for s in run]
            run = [normalize_text(s) for s in run]
        syl_units = tuple(Syllable(s) for s in run)
        units.append(syl_units[0] if len(syl_units) == 1 else Sequence(syl_units))
    units.append(
        Sequence(
            (Syllable("100"), Syllable("2019"), Syllable("nđ"), Syllable("cp")), ("/", "/", "-")
        )
    )
    units.append(Sequence((Syllable("2"), Syllable("4")), (",",), "%"))
    units.append(Sequence((Syllable("covid"), Syllable("19")), ("-",)))
    units.append(Sequence((Syllable("q"), Syllable("10")), (".",)))
    return units


def _texts() -> list[str]:
    texts = list(TRICKY)
    seed = shared_dir() / "seeds" / "000_cd04a5e49f741aed.txt"
    if seed.exists():
        texts.append(seed.read_text(encoding="utf-8"))
    if has_shared():
        with gzip.open(corpus_path("dantri"), "rt", encoding="utf-8") as src:
            for line in itertools.islice(src, 10):
                record = json.loads(line)
                texts.append(f"{record.get('title') or ''}\n{record['body']}")
    return texts


def test_folded_search_finds_what_the_plain_definition_finds():
    rng = random.Random(18)
    checked = 0
    for text in _texts():
        units = _units_from(text, rng) + _units_from(TRICKY[0] + " " + TRICKY[1], rng)
        for unit in units:
            assert SequencePattern(unit).spans(text) == reference_spans(unit, text), unit
            checked += 1
        syls = [u for u in units if isinstance(u, Syllable)]
        expected = {span for s in syls for span in reference_spans(s, text)}
        assert syllable_spans(text, syls) == expected
        starts, ends = syllable_span_arrays(text, syls)
        assert list(zip(starts.tolist(), ends.tolist())) == sorted(expected)
        for syl in syls:  # one syllable at a time too (other regexes, other fallbacks)
            starts, ends = syllable_span_arrays(text, [syl])
            assert list(zip(starts.tolist(), ends.tolist())) == reference_spans(syl, text)
    assert checked > 100


@pytest.mark.parametrize(
    ("typed", "text", "found"),
    [
        ("hòa", "Hoà bình", True),  # the tone placed as the index places it
        ("hòa", "hoa hồng", False),
        ("hoa", "Hoà bình, hoa", True),
        ("bão", "tờ báo", False),
        ("đà", "da nang", False),
    ],
)
def test_a_syllable_typed_with_diacritics_matches_only_so_spelled(typed, text, found):
    assert bool(syllable_spans(text, [Syllable(normalize_text(typed))])) == found
    assert SequencePattern(Syllable(normalize_text(typed))).found_in(text) == found


def test_snippet_marks_every_spelling_of_an_unaccented_word():
    html = make_snippet("Hoà bình và hòa bình ở HOÀ BÌNH", set(), units=[Syllable("hoa")])
    assert html.count("<mark>") == 3


@pytest.mark.parametrize("dash", [" - ", " – ", " — ", "- ", " -", " ‐ "])
def test_marks_do_not_join_across_a_dash_between_words(dash):
    """``thanh uy ha noi`` in "Phạm Thu Hà - Ủy viên" marks Hà and Ủy apart (it marked
    "Hà - Ủy" as one); a hyphen inside a word and plain spaces still join."""
    text = f"Bà Phạm Thu Hà{dash}Ủy viên Ban Thường vụ Thành ủy Hà Nội phát biểu."
    units = [Syllable(s) for s in ("thanh", "uy", "ha", "noi")]
    for html in (
        make_snippet(text, set(), units=units),  # syllables only
        make_snippet(text, set(), units=[*units, Sequence(tuple(units[:2]))]),  # with a phrase
        make_snippet(text, {"thanh", "uy", "ha", "noi"}),  # plain terms
    ):
        assert f"<mark>Hà</mark>{dash}<mark>Ủy</mark>" in html, html
        assert "<mark>Thành ủy Hà Nội</mark>" in html, html
    covid = make_snippet("Ca mắc COVID-19 mới", set(), units=[Syllable("covid"), Syllable("19")])
    assert "<mark>COVID-19</mark>" in covid


def test_letters_fold_through_numpy_as_through_the_table():
    from indexer.folding import LETTER_FOLDS as _LETTER_FOLDS
    from indexer.folding import fold_letters

    for text in [*_texts(), "", "abc", "đà nẵng 東京 \U0001f600 ǆ ﬁ ĳ"]:
        lower = text.lower()
        assert fold_letters(lower) == lower.translate(_LETTER_FOLDS)


def test_best_window_is_the_first_window_holding_the_most_matches():
    import numpy as np

    from search.snippets import WINDOW, _best_window, _syllables_window

    def reference(matches, length):  # the plain scan
        best, best_score, j = (0, 0), -1, 0
        for i, (start, _, _) in enumerate(matches):
            while j < len(matches) and matches[j][1] <= start + WINDOW:
                j += 1
            score = sum(w for _, _, w in matches[i:j]) + 0.5 * len(set(range(i, j)))
            if score > best_score:
                best, best_score = (i, j), score
        first, last = matches[best[0]][0], matches[best[1] - 1][1]
        start = max(0, first - max(0, WINDOW - (last - first)) // 3)
        return start, min(length, max(last, start + WINDOW))

    rng = random.Random(18)
    for _ in range(300):
        starts = sorted(rng.randrange(0, 3000) for _ in range(rng.randrange(1, 60)))
        matches = sorted(
            (s, s + rng.choice([2, 3, 5, 9, 40, 300]), rng.choice([1, 2])) for s in starts
        )
        assert _best_window(matches, 3400) == reference(matches, 3400)
        ones = [(a, b, 1) for a, b, _ in matches]  # syllables only: every weight 1
        assert _best_window(ones, 3400) == reference(ones, 3400)
        disjoint, last_end = [], -1  # syllables: spans that do not overlap
        for a, b, _ in ones:
            if a >= last_end:
                disjoint.append((a, b, 1))
                last_end = b
        starts = np.array([a for a, _, _ in disjoint], dtype=np.int64)
        ends = np.array([b for _, b, _ in disjoint], dtype=np.int64)
        assert _syllables_window(starts, ends, 3400) == reference(disjoint, 3400)


def test_the_accepted_spellings_are_every_spelling_the_check_accepts():
    """``_spellings`` (enumerated from the tone mark) against the plain check
    ``_as_typed`` over every spelling built from Vietnamese letters (and a few foreign
    ones) that folds to the syllable."""
    from search.matching import _as_typed, _spellings

    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    vowels = "aăâeêioôơuưy"
    letters = {v + t for v in vowels for t in tones} | set("bcdđghklmnpqrstvx") | set("ñǎāçé")
    letters = {unicodedata.normalize("NFC", ch) for ch in letters}
    by_base: dict[str, list[str]] = {}
    for ch in sorted(letters):
        if len(ch) == 1:
            by_base.setdefault(fold_diacritics(ch), []).append(ch)
    typed = "hòa hoà thủy thuỷ uỷ ủy quả quà giữ già gìn nguyễn khuỷu đường baỏ bảo hoặc "
    typed += "thuyền thuyết ưu ươu oai hoài xòe khỏe tuổi người của an đà"
    checked = 0
    for word in typed.split():
        syl = Syllable(normalize_text(word))
        accepted = _spellings(syl)
        assert accepted is not None
        for letters_of in itertools.product(*(by_base.get(ch, [ch]) for ch in syl.folded)):
            spelling = "".join(letters_of)
            assert (spelling in accepted) == _as_typed(spelling, syl), (word, spelling)
            checked += 1
    assert checked > 10_000


def test_the_code_point_tables_hold_the_per_character_definitions():
    from indexer.analysis import compat_letters
    from search.matching import _bmp_tables, _word_class

    compat, words, any_case = _bmp_tables()
    for code in range(0x10000):
        ch = chr(code)
        assert compat[code] == (compat_letters(ch) != ch), hex(code)
        assert words[code] == _word_class(ch), hex(code)
        low = ch.lower()
        if compat[code] or len(low) != 1 or ord(low) >= 0x10000:
            assert any_case[code] == 0, hex(code)
        else:
            assert any_case[code] == _word_class(low) != 0, hex(code)


def test_span_arrays_agree_where_lowercasing_changes_the_length():
    text = "İstanbul hà nội, HÀ NỘI; İ hà"  # "İ".lower() is two characters
    for typed in ("hà", "ha", "nội", "noi", "istanbul"):
        syls = [Syllable(typed)]
        starts, ends = syllable_span_arrays(text, syls)
        assert list(zip(starts.tolist(), ends.tolist())) == sorted(syllable_spans(text, syls))


def test_snippets_made_together_are_each_text_s_own():
    """``make_snippets`` finds the syllables of many texts in one joined pass: each
    snippet is the one its text gets alone, whatever its neighbours (texts that end or
    start with a match, texts the code-point tables do not read, empty texts)."""
    from search.snippets import make_snippets

    rng = random.Random(9)
    texts = _texts() + [
        "",
        "hà nội",
        "nội hà",
        "Hà東Nội 東 hà \U0001f600 nội",  # beyond the tables' plane: read apart
        "İstanbul hà nội",  # lowercasing changes the length: read apart
        "Ha\u0300 Nội hà nội",  # NFC changes the length: read apart
        "hà " * 200 + "nội",
    ]
    checked = 0
    for _ in range(40):
        source = rng.choice(texts)
        units = _units_from(source, rng)
        syls = [u for u in units if isinstance(u, Syllable)]
        for chosen in (syls, syls[:1], units):
            batch = rng.sample(texts, rng.randrange(1, 8)) + ["hà nội"]
            rng.shuffle(batch)
            expected = [make_snippet(t, set(), units=chosen) for t in batch]
            assert make_snippets(batch, chosen) == expected
            checked += sum("<mark>" in s for s in expected)
    assert checked > 100
