"""Vietnamese analysis: normalisation, folding, segmentation and the Whoosh pipelines."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.analysis import (
    _PYVI_PATTERN,
    TONE_MARKS,
    analyze,
    break_pair_analyzer,
    canonical_tones,
    exact_analyzer,
    fast_terms,
    fold_diacritics,
    folded_analyzer,
    normalize_text,
    pair_analyzer,
    pyvi_features,
    pyvi_word_spans,
    segmented,
    word_analyzer,
)

VIETNAMESE = (
    "aăâeêioôơuưyđAĂÂEÊIOÔƠUƯYĐàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)
vietnamese_text = st.text(
    alphabet=VIETNAMESE + "bcdghklmnpqrstvxBCDGHKLMNPQRSTVX ,.-/\n0123", max_size=80
)


def test_nfd_and_nfc_analyse_alike():
    text = "Thành ủy Hà Nội kiểm tra Đại hội"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    for analyzer in (exact_analyzer(), folded_analyzer(), word_analyzer()):
        assert analyze(analyzer, nfd) == analyze(analyzer, text)


def test_tone_placement_is_canonical():
    pairs = [("hoà", "hòa"), ("thuỷ", "thủy"), ("Uỷ", "Ủy"), ("khoẻ", "khỏe"), ("Thuý", "Thúy")]
    for new_style, classic in pairs:
        assert normalize_text(new_style) == normalize_text(classic) == classic
        assert analyze(exact_analyzer(), f"hòa bình {new_style}") == analyze(
            exact_analyzer(), f"hòa bình {classic}"
        )


def test_tone_placement_leaves_other_syllables_alone():
    for word in ["hoàng", "thuyết", "quý", "quỳ", "người", "khuỷu", "xoáy", "giữa", "thuở"]:
        assert normalize_text(word) == word


_TONED = "".join(unicodedata.normalize("NFC", v + m) for v in "aăâeêioôơuưy" for m in TONE_MARKS)
_PLAIN = "aăâeêioôơuưy"
# a word holding a toned vowel next to another vowel (where a mark can be misplaced)
_WORD_WITH_AMBIGUOUS_PAIR = re.compile(
    rf"(?i)[^\W\d_]*(?:[{_TONED}][{_PLAIN}]|[{_PLAIN}][{_TONED}])[^\W\d_]*"
)


@given(st.text(alphabet="hoàuỷyaáòOÒAqQ_2²Ⅷ \n.-" + VIETNAMESE[:40], max_size=40))
def test_canonical_tones_rewrites_exactly_the_words_with_an_ambiguous_pair(text):
    """The scan-and-widen implementation against its one-regex definition."""
    reference = _WORD_WITH_AMBIGUOUS_PAIR.sub(lambda m: canonical_tones(m.group()), text)
    assert canonical_tones(text) == reference


def test_normalisation_keeps_offsets():
    text = unicodedata.normalize("NFC", "Uỷ ban hoà giải thuỷ lợi")
    assert len(normalize_text(text)) == len(text)


@given(vietnamese_text)
@settings(max_examples=200, deadline=None)
def test_normalisation_is_idempotent_and_length_preserving(text):
    nfc = unicodedata.normalize("NFC", text)
    once = normalize_text(text)
    assert len(once) == len(nfc)
    assert normalize_text(once) == once


def test_folding_strips_diacritics_and_d():
    assert fold_diacritics("Đường đến Đà Nẵng") == "Duong den Da Nang"
    assert analyze(folded_analyzer(), "Thành Ủy HÀ NỘI đường") == [
        "thanh",
        "uy",
        "ha",
        "noi",
        "duong",
    ]


def test_exact_field_keeps_diacritics_lowercased():
    assert analyze(exact_analyzer(), "Đường DƯƠNG") == ["đường", "dương"]


def test_pairs_are_adjacent_folded_syllables():
    assert analyze(pair_analyzer(), "Thành ủy Hà Nội") == ["thanh_uy", "uy_ha", "ha_noi"]


def test_segmentation_happens_before_lowercasing():
    # pyvi is case sensitive: the capitalised proper noun is one word only in its original case.
    text = "Chủ tịch Nguyễn Lan Hương phát biểu"
    words = analyze(word_analyzer(), text)
    assert "nguyễn_lan_hương" in words
    assert "chủ_tịch" in words
    assert all(w == w.lower() for w in words)


def test_word_spans_point_into_the_original_text():
    text = "Thành ủy Hà Nội kiểm tra công tác tổ chức Đại hội Đảng"
    spans = pyvi_word_spans(normalize_text(text))
    assert spans
    for start, end in spans:
        assert " " in text[start:end] and "_" not in text[start:end]
    assert "_" in segmented(text) and "_" not in text


def test_faster_features_equal_pyvi_features():
    from pyvi import ViTokenizer

    sentence = "Chiều ngày 09/6/2020, đồng chí Nguyễn Lan Hương - Ủy viên Ban Thường vụ"
    tokens = [m.group() for m in _PYVI_PATTERN.finditer(sentence)]
    assert pyvi_features(tokens) == ViTokenizer.ViTokenizer.sent2features(tokens, False)


def _crfsuite_attributes(features: dict) -> list[str]:
    """What python-crfsuite makes of a feature dict, without its weight-0 attributes
    (``{"k": "v"}`` → ``"k:v"``, ``{"k": True}`` or ``1.0`` → ``"k"``, False → nothing)."""
    out = []
    for key, value in features.items():
        if isinstance(value, str):
            out.append(f"{key}:{value}")
        elif value:
            assert value == 1.0
            out.append(key)
    return out


_TAGGER_TEXTS = [
    "Chiều ngày 09/6/2020, đồng chí Nguyễn Lan Hương - Ủy viên Ban Thường vụ",
    "UBND TP. HỒ CHÍ MINH họp báo về 2.500 tỷ đồng; Mr. Smith (WHO) nói: ...",
    "a",
    "Hà Nội",
    "thành phố hà nội và Thành Phố Hà Nội, THÀNH PHỐ HÀ NỘI",
]


def test_tagger_attributes_are_the_features_without_weight_zero(demo_documents):
    """``pyvi_attributes`` is ``pyvi_features`` as python-crfsuite reads it, in the same
    order, and pyvi's CRF labels every token of the demo archive the same from both."""
    from indexer.analysis import _pyvi_model, pyvi_attributes

    tagger = _pyvi_model().model.tagger
    texts = _TAGGER_TEXTS + [normalize_text(d["body"]) for d in demo_documents]
    labelled = 0
    for text in texts:
        tokens = [m.group() for m in _PYVI_PATTERN.finditer(text)]
        features = pyvi_features(tokens)
        attributes = pyvi_attributes(tokens)
        assert [list(a) for a in attributes] == [_crfsuite_attributes(f) for f in features]
        if tokens:
            assert tagger.tag(attributes) == tagger.tag(features)
            labelled += len(tokens)
    assert labelled > 5_000


def test_our_segmentation_joins_what_pyvi_joins():
    from pyvi import ViTokenizer

    text = "Đoàn công tác của Thành ủy Hà Nội làm việc với quận Long Biên về công tác chuẩn bị."
    ours = segmented(text).replace(" ", "")
    theirs = "".join(ViTokenizer.tokenize(text).split())
    strip = str.maketrans("", "", ".,")
    assert ours.translate(strip) == theirs.translate(strip)


@given(vietnamese_text)
@settings(max_examples=150, deadline=None)
def test_fast_index_path_equals_the_pipeline(text):
    analyzers = (exact_analyzer(), folded_analyzer(), word_analyzer(), pair_analyzer())
    for analyzer in (*analyzers, break_pair_analyzer()):
        assert fast_terms(analyzer, text) == analyze(analyzer, text)


def test_loading_pyvi_leaves_no_model_file_behind(tmp_path):
    """sklearn-crfsuite writes pyvi's model to a temporary file that nothing deleted."""
    import os
    import subprocess
    import sys

    code = "from indexer.analysis import pyvi_word_spans; print(pyvi_word_spans('Hà Nội'))"
    env = dict(os.environ, TMPDIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[(0, 6)]"
    assert list(tmp_path.iterdir()) == []


def test_segmenting_does_not_import_scikit_learn():
    """pyvi's model is opened through python-crfsuite: a one-query process (the CLI)
    does not pay for scikit-learn's import."""
    import subprocess
    import sys

    code = (
        "import sys; from indexer.analysis import pyvi_word_spans;"
        "assert pyvi_word_spans('Thành ủy Hà Nội kiểm tra'); assert 'sklearn' not in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr


def test_lazy_folding_table_folds_every_code_point_as_deciding_them_all():
    """Combining marks are decided on first sight: the result for each of the 1.1 million
    code points is what the eager table (every ``unicodedata.combining`` mark dropped)
    gave."""
    import unicodedata

    from indexer import analysis

    letters = dict(analysis._build_fold_table())
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    expected = "".join(
        letters[ord(ch)] if ord(ch) in letters else ("" if unicodedata.combining(ch) else ch)
        for ch in text
    )
    assert analysis.fold_diacritics(text) == expected
