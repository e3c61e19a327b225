"""How Vietnamese text becomes terms: the one place that knows it.

Index and query analysis both go through the pipelines built here, so a query and a
document are always analysed alike:

* ``normalize_text``: Unicode NFC and one canonical tone-mark placement
  (``hoà`` → ``hòa``, ``thuỷ`` → ``thủy``); it keeps the length of the NFC text, so
  character offsets computed on the normalised text point into the original.
* ``fold_diacritics``: strips every diacritic and folds ``đ`` → ``d`` (also
  length-preserving).
* ``segment_words``: pyvi word segmentation (before lowercasing: pyvi is case
  sensitive), as character spans, memoised by content.

Three Whoosh pipelines are composed from a tokenizer and filters:
``exact_analyzer`` (syllables, lowercased), ``folded_analyzer`` (syllables without
diacritics) and ``word_analyzer`` (pyvi's multi-syllable words, ``thành_ủy``).
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
import re
import string
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import Filter, LowercaseFilter, Tokenizer
from whoosh.analysis.acore import Token

TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = set("aăâeêioôơuưy")
_MARKED_VOWELS = set("ăâêôơư")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Han ideographs and kana are one syllable each (a run of them is not one word: 大越國史
# holds 大越); every other syllable is a run of letters and digits.
HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
SYLLABLE_PATTERN = re.compile(rf"[^\W_{HAN}]+|[{HAN}]")


# --------------------------------------------------------------------------- tone marks
def _split_tone(syllable_nfd: str) -> tuple[str, str | None]:
    """Remove the tone mark from an NFD syllable; return (toneless NFC, mark)."""
    marks = [ch for ch in syllable_nfd if ch in TONE_MARKS]
    if len(marks) != 1:
        return unicodedata.normalize("NFC", syllable_nfd), None
    toneless = syllable_nfd.replace(marks[0], "")
    return unicodedata.normalize("NFC", toneless), marks[0]


def _tone_index(toneless: str) -> int | None:
    """Index of the letter that carries the tone in the canonical (classic) placement.

    The classic placement is the one most Vietnamese news text uses: ``hòa``, ``khỏe``,
    ``thủy`` (mark on the first vowel of a final ``oa``/``oe``/``uy``), ``hoàng``,
    ``thuyết`` (on the second when a consonant follows).
    """
    lower = toneless.lower()
    start = 0
    if lower.startswith("qu") or lower.startswith("gi") and len(lower) > 2 and lower[2] in _VOWELS:
        start = 2
    first = next((i for i in range(start, len(lower)) if lower[i] in _VOWELS), None)
    if first is None:
        if start == 2 and lower.startswith("gi"):
            return 1
        return None
    end = first
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    cluster = range(first, end)
    marked = [i for i in cluster if lower[i] in _MARKED_VOWELS]
    if marked:
        return marked[-1]
    if len(cluster) == 1:
        return first
    if end < len(lower):  # a final consonant follows: the last vowel of the cluster
        return end - 1
    if len(cluster) == 3:
        return first + 1
    return first


def _canonical_syllable(word: str) -> str:
    """Move the tone mark of one letter run to its canonical vowel (same length)."""
    nfd = unicodedata.normalize("NFD", word)
    if not any(ch in TONE_MARKS for ch in nfd):
        return word
    toneless, mark = _split_tone(nfd)
    if mark is None or len(toneless) != len(word):
        return word
    index = _tone_index(toneless)
    if index is None:
        return word
    placed = toneless[:index] + unicodedata.normalize("NFC", toneless[index] + mark)
    placed += toneless[index + 1 :]
    return placed if len(placed) == len(word) else word


# A tone mark can only be misplaced in a vowel cluster: a toned vowel next to another
# vowel (hòa/hoà, thủy/thuỷ, and typos such as baỏ for bảo). Other syllables are left
# alone without a look; each piece of text is placed once (``_PLACED``).
def _vowel_classes() -> tuple[str, str]:
    plain = "aăâeêioôơuưy"
    toned = "".join(unicodedata.normalize("NFC", v + mark) for v in plain for mark in TONE_MARKS)
    return plain + plain.upper(), toned + toned.upper()


_PLAIN_VOWELS, _TONED_VOWELS = _vowel_classes()
_AMBIGUOUS_PAIR = re.compile(
    f"[{_TONED_VOWELS}][{_PLAIN_VOWELS}]|[{_PLAIN_VOWELS}][{_TONED_VOWELS}]"
)


_LETTERS = re.compile(r"[^\W\d_]*")


def _is_letter(ch: str) -> bool:
    """``[^\\W\\d_]`` for one character, as Python's ``re`` defines it."""
    return ch.isalnum() and not ch.isdecimal()


def _place_tones(text: str) -> str:
    """``canonical_tones`` of one piece of text, by a plain scan: find the ambiguous
    pairs, widen each to its whole word (the letters around it) and place that word
    (a regex for "a word containing a pair" backtracks over every word)."""
    pieces = []
    done = 0
    for pair in _AMBIGUOUS_PAIR.finditer(text):
        if pair.start() < done:
            continue  # in the word just handled
        start = pair.start()
        while start > done and _is_letter(text[start - 1]):
            start -= 1
        end = _LETTERS.match(text, pair.end()).end()
        pieces.append(text[done:start])
        pieces.append(_canonical_syllable(text[start:end]))
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


_PLACED: dict[str, str] = {}  # space-separated piece → placed (``_place_tones``)
_PLACED_LIMIT = 200_000  # pieces kept; the memo is emptied when it holds more


def canonical_tones(text: str) -> str:
    """Put every tone mark of NFC ``text`` in the canonical place (length-preserving):
    every word (letter run, ``[^\\W\\d_]+``) holding an ambiguous pair is placed by
    ``_canonical_syllable``, the rest is kept. No word spans a space, so the text is
    placed a space-separated piece at a time, each distinct piece once (a text's pieces
    repeat, and their lookups run at C speed)."""
    if not _AMBIGUOUS_PAIR.search(text):
        return text
    pieces = text.split(" ")
    placed = list(map(_PLACED.get, pieces))
    if None in placed:
        if len(_PLACED) > _PLACED_LIMIT:
            _PLACED.clear()
        for i, done in enumerate(placed):
            if done is None:
                placed[i] = _PLACED[pieces[i]] = _place_tones(pieces[i])
    return " ".join(placed)


def _build_compat_table() -> dict[int, str]:
    """Characters that look like (or are a compatibility form of) another one, mapped
    where that cannot change the meaning: fullwidth ASCII, mathematical letters and
    digits, Latin ligatures, every kind of space, and the letters mistaken for đ/Đ
    (Ð U+00D0, ð, Ɖ, ɖ: legacy encodings and keyboards produce them)."""
    table: dict[int, str] = {0xD0: "Đ", 0xF0: "đ", 0x189: "Đ", 0x256: "đ"}
    ranges = [range(0xFF01, 0xFF5F), range(0xFB00, 0xFB07), range(0x1D400, 0x1D800)]
    for code in (c for r in ranges for c in r):
        compat = unicodedata.normalize("NFKC", chr(code))
        if compat != chr(code):
            table[code] = compat
    for code in (0xA0, 0x202F, 0x205F, 0x3000, *range(0x2000, 0x200B)):
        table[code] = " "
    return table


_COMPAT_TABLE = _build_compat_table()
_COMPAT_CHARS = re.compile(  # the keys of _COMPAT_TABLE, as ranges (a test checks it)
    "[\u00a0\u00d0\u00f0\u0189\u0256\u2000-\u200a\u202f\u205f\u3000\ufb00-\ufb06"
    "\uff01-\uff5e\U0001d400-\U0001d7ff]"
)


def compat_letters(text: str) -> str:
    """``text`` with every look-alike and compatibility character of ``_COMPAT_TABLE``
    replaced. Length-preserving except for ligatures (ﬁ → fi)."""
    return text.translate(_COMPAT_TABLE) if _COMPAT_CHARS.search(text) else text


# Invisible format characters that a CMS, a word processor or a paste leaves inside words:
# soft hyphen, zero-width space / non-joiner / joiner, bidi marks and embeddings, word
# joiner and invisible operators, byte-order mark (Unicode category Cf, minus the ones that
# shape scripts). They never separate Vietnamese syllables (a space does), so article text
# and queries both lose them before analysis: ``Thà\u200bnh`` is ``Thành``.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def drop_invisible(text: str) -> str:
    """``text`` without the invisible format characters of ``_INVISIBLE`` (shorter by
    their number; applied where text enters, before any offset is taken)."""
    return _INVISIBLE.sub("", text)


@lru_cache(maxsize=64)
def normalize_text(text: str) -> str:
    """NFC, look-alike letters and compatibility forms (``compat_letters``), and one
    canonical tone placement: what both index and queries see."""
    return canonical_tones(compat_letters(unicodedata.normalize("NFC", text)))


# A sentence ends at . ! ? … (closing quotes or brackets may follow) before a space or
# the end of the text, or at a line break; not after an abbreviation or an initial
# (``TP. Hồ Chí Minh``, ``Q. 10``, ``Nguyễn V. An``). Phrases never cross one.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n")
_WORD_BEFORE = re.compile(r"([^\W\d_]+)$")
ABBREVIATIONS = frozenset(
    {"tp", "tx", "q", "p", "h", "x", "tt", "ts", "ths", "pgs", "gs", "bs", "ks", "ls"}
    | {"th", "tr", "mr", "mrs", "ms", "dr", "st", "no", "co", "ltd"}
)


def sentence_breaks(text: str) -> list[int]:
    """Offsets in ``text`` where one sentence ends (see ``_SENTENCE_END``), ascending."""
    breaks = []
    for m in _SENTENCE_END.finditer(text):
        if text[m.start()] == ".":
            word = _WORD_BEFORE.search(text, max(0, m.start() - 6), m.start())
            if word and (
                word.group(1).lower() in ABBREVIATIONS
                or len(word.group(1)) == 1
                and word.group(1).isupper()
            ):
                continue
        breaks.append(m.start())
    return breaks


def sentences(text: str) -> list[str]:
    """``text`` cut at its sentence breaks (each piece keeps its characters)."""
    breaks = sentence_breaks(text)
    if not breaks:
        return [text]
    pieces, start = [], 0
    for b in breaks:
        pieces.append(text[start:b])
        start = b
    pieces.append(text[start:])
    return pieces


# --------------------------------------------------------------------------- folding
def _build_fold_table() -> dict[int, str | int | None]:
    table: dict[int, str | int | None] = {}
    for code in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if len(base) == 1 and base != ch:
            table[code] = base
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    for code, letter in ((0xD0, "D"), (0xF0, "d"), (0x189, "D"), (0x256, "d")):
        table[code] = letter  # look-alikes of Đ/đ (see ``_build_compat_table``)
    return _FoldTable(table)


class _FoldTable(dict):
    """The folding table of ``str.translate``: the letters above, and every combining
    mark (NFD input) dropped. Other characters are looked up once, the first time one
    is seen, and kept: deciding all 1.1 million code points up front cost seconds at
    the start of every process (the CLI's one query)."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_FOLD_TABLE = _build_fold_table()


def fold_diacritics(text: str) -> str:
    """Strip diacritics and fold ``đ`` → ``d``; NFC input keeps its length."""
    return text.translate(_FOLD_TABLE)


def match_key(text: str) -> str:
    """Case-, accent- and spacing-insensitive key: how names and categories are compared."""
    return " ".join(fold_diacritics(normalize_text(text)).lower().split())


def has_diacritics(text: str) -> bool:
    """True when ``text`` carries any Vietnamese diacritic (or ``đ``)."""
    return fold_diacritics(text) != text


# --------------------------------------------------------------------------- segmentation
# pyvi's own syllabelizer pattern (ViTokenizer.sylabelize), kept with match offsets.
_PYVI_PATTERN = re.compile(
    "("
    + r"""[A-ZĐ]+\.|Tp\.|Mr\.|Mrs\.|Ms\.|Dr\.|ThS\.|==>|->|\.\.\.|>>|
|\w+://[^\s]+|([a-zA-Z0-9_.+-]+@([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)|\d+([\.,_]\d+)+|[^\w\s]|\w+"""
    + ")",
    re.UNICODE,
)
_PUNCT = set(string.punctuation)
Span = tuple[int, int]


class _PickledState:
    """Stands in for sklearn-crfsuite's classes while pyvi's model is unpickled: keeps
    their state (the CRF's settings, and the model file's bytes) without importing
    scikit-learn, which costs seconds at start for nothing a tagger needs."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "sklearn_crfsuite":
            return _PickledState
        return super().find_class(module, name)


class _Tagger:
    """What pyvi's model offers that segmentation uses: ``predict`` of sequences."""

    def __init__(self, tagger):
        self.tagger = tagger

    def predict(self, sequences: list[list[dict] | list[list[str]]]) -> list[list[str]]:
        return [self.tagger.tag(features) for features in sequences]  # as CRF.predict


@dataclass(frozen=True)
class _PyviModel:
    bi_grams: frozenset[str]
    tri_grams: frozenset[str]
    model: _Tagger


@lru_cache(maxsize=1)
def _pyvi_model() -> _PyviModel:
    """pyvi's CRF and n-gram lists, as ``pyvi.ViTokenizer.ViTokenizer`` loads them
    (models/words.txt, models/pyvi3.pkl) but through python-crfsuite directly: the
    pickled sklearn-crfsuite ``CRF`` holds the crfsuite model file's bytes, which the
    tagger reads into memory when it opens (the temporary file is deleted at once).
    tests/test_analysis.py checks the result against ``ViTokenizer.tokenize``."""
    import pycrfsuite
    import pyvi

    models = Path(pyvi.__file__).resolve().parent / "models"
    bi_grams, tri_grams = set(), set()
    for token in (models / "words.txt").read_text(encoding="utf-8").split("\n"):
        size = len(token.split(" "))
        if size == 2:
            bi_grams.add(token)
        elif size == 3:
            tri_grams.add(token)
    with open(models / "pyvi3.pkl", "rb") as f:
        crf = _ModelUnpickler(f).load()
    data = crf.modelfile.__dict__["__FILE_RESOURCE_DATA__"]
    tagger = pycrfsuite.Tagger()
    with tempfile.NamedTemporaryFile(prefix="model", suffix=".crfsuite") as tmp:
        tmp.write(data)
        tmp.flush()
        tagger.open(tmp.name)
    return _PyviModel(frozenset(bi_grams), frozenset(tri_grams), _Tagger(tagger))


def load_segmenter() -> None:
    """Load pyvi's model now (≈0.5 s) rather than on the first query."""
    _pyvi_model()


def pyvi_features(tokens: list[str]) -> list[dict]:
    """Exactly ``ViTokenizer.sent2features(tokens, False)``, computed about 3× faster.

    pyvi recomputes ``lower()``/``istitle()`` and the n-gram lookups of every token up to
    five times; here each is computed once per token and the dicts are built directly.
    """
    model = _pyvi_model()
    bi_grams, tri_grams = model.bi_grams, model.tri_grams
    n = len(tokens)
    lower = [t.lower() for t in tokens]
    title = [t.istitle() for t in tokens]
    upper = [t.isupper() for t in tokens]
    bi = [f"{lower[i]} {lower[i + 1]}" in bi_grams for i in range(n - 1)]
    tri = [f"{lower[i]} {lower[i + 1]} {lower[i + 2]}" in tri_grams for i in range(n - 2)]
    features = []
    for i, token in enumerate(tokens):
        f = {
            "bias": 1.0,
            "word.lower()": lower[i],
            "word.isupper()": upper[i],
            "word.istitle()": title[i],
            "word.isdigit()": token.isdigit(),
        }
        if i > 0:
            f["-1:word.lower()"] = lower[i - 1]
            f["-1:word.istitle()"] = title[i - 1]
            f["-1:word.isupper()"] = upper[i - 1]
            f["-1:word.bi_gram()"] = bi[i - 1]
            if i > 1:
                f["-2:word.tri_gram()"] = tri[i - 2]
        if i < n - 1:
            f["+1:word.lower()"] = lower[i + 1]
            f["+1:word.istitle()"] = title[i + 1]
            f["+1:word.isupper()"] = upper[i + 1]
            f["+1:word.bi_gram()"] = bi[i]
            if i < n - 2:
                f["+2:word.tri_gram()"] = tri[i]
        features.append(f)
    return features


class _TokenAttributes(dict):
    """token → its attributes of one kind (``kind`` "" for its own, "-1:" or "+1:" for
    its neighbours'), memoised: a text's tokens repeat, and then cost a C-speed lookup."""

    limit = 200_000

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def __missing__(self, token: str) -> tuple[str, ...]:
        if len(self) >= self.limit:
            self.clear()
        k = self.kind
        found = [f"{k}word.lower():{token.lower()}"]
        if k:  # a neighbour: istitle before isupper, no isdigit (``sent2features``)
            found += [f"{k}word.istitle()"] * token.istitle()
            found += [f"{k}word.isupper()"] * token.isupper()
        else:
            found = ["bias", *found]
            found += ["word.isupper()"] * token.isupper()
            found += ["word.istitle()"] * token.istitle()
            found += ["word.isdigit()"] * token.isdigit()
        attributes = self[token] = tuple(found)
        return attributes


_OWN, _BEFORE, _AFTER = _TokenAttributes(""), _TokenAttributes("-1:"), _TokenAttributes("+1:")
_NONE: tuple[str, ...] = ()
_BI_BEFORE, _TRI_BEFORE = ("-1:word.bi_gram()",), ("-2:word.tri_gram()",)
_BI_AFTER, _TRI_AFTER = ("+1:word.bi_gram()",), ("+2:word.tri_gram()",)


def pyvi_attributes(tokens: list[str]) -> list[tuple[str, ...]]:
    """``pyvi_features(tokens)`` as the CRF tagger reads them: python-crfsuite turns a
    feature ``{"k": "v"}`` into the attribute ``"k:v"``, ``{"k": True}`` or ``1.0`` into
    ``"k"`` (weight 1) and ``{"k": False}`` into ``"k"`` with weight 0, which adds
    nothing to any score. So the same attributes in the same order without the weight-0
    ones give the tagger exactly the same sums, with half the attributes to convert and
    look up (tests/test_analysis.py checks the labels against ``pyvi_features``')."""
    model = _pyvi_model()
    bi_grams, tri_grams = model.bi_grams, model.tri_grams
    lower = [t.lower() for t in tokens]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(lower)]
    bi = [p in bi_grams for p in pairs]
    tri = [f"{p} {c}" in tri_grams for p, c in zip(pairs, lower[2:])]
    none = _NONE
    own = map(_OWN.__getitem__, tokens)
    before = [none, *map(_BEFORE.__getitem__, tokens[:-1])]
    bi_before = [none, *[_BI_BEFORE if b else none for b in bi]]
    tri_before = [none, none, *[_TRI_BEFORE if t else none for t in tri]]
    after = [*map(_AFTER.__getitem__, tokens[1:]), none]
    bi_after = [*[_BI_AFTER if b else none for b in bi], none]
    tri_after = [*[_TRI_AFTER if t else none for t in tri], none, none]
    return [
        a + b + c + d + e + f + g
        for a, b, c, d, e, f, g in zip(
            own, before, bi_before, tri_before, after, bi_after, tri_after
        )
    ]


def pyvi_word_spans(text: str) -> list[Span]:
    """pyvi's multi-syllable words in ``text`` as (start, end) character spans.

    Same CRF, features and joining rule as ``ViTokenizer.tokenize``, but keeping
    offsets so that nothing has to be re-aligned (and no ``_`` is ever shown). The one
    pyvi segmenter: word fields, queries, related articles and the officials' finder.
    """
    matches = list(_PYVI_PATTERN.finditer(text))
    if len(matches) < 2:
        return []
    tokens = [m.group(0) for m in matches]
    model = _pyvi_model()
    labels = model.model.predict([pyvi_attributes(tokens)])[0]
    spans: list[Span] = []
    start = 0
    for i in range(1, len(tokens)):
        cur, prev = tokens[i], tokens[i - 1]
        joined = (
            labels[i] == "I_W"
            and cur not in _PUNCT
            and prev not in _PUNCT
            and not cur[0].isdigit()
            and not prev[0].isdigit()
            and not (cur[0].istitle() and not prev[0].istitle())
        )
        if not joined:
            if i - 1 > start:
                spans.append((matches[start].start(), matches[i - 1].end()))
            start = i
    if len(tokens) - 1 > start:
        spans.append((matches[start].start(), matches[-1].end()))
    return spans


def content_key(text: str) -> str:
    """A short stable key for a text: what the segmentation cache is keyed by."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class SegmentationCache:
    """This process's memo of pyvi spans by content (the last ``capacity`` texts).

    ``segment_words`` fills it (query analysis, related articles of a draft), and
    ``search.related`` preloads an indexed article's spans from the on-disk cache
    (``indexer.segcache``). The writer does not use it: it hands Whoosh ``SegmentedText``.
    """

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self._items: OrderedDict[str, list[Span]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> list[Span] | None:
        with self._lock:
            spans = self._items.get(key)
            if spans is not None:
                self._items.move_to_end(key)
            return spans

    def put(self, key: str, spans: list[Span]) -> None:
        with self._lock:
            self._items[key] = spans
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


SEGMENTS = SegmentationCache()


class SegmentedText(str):
    """A text that carries its pyvi word spans (computed on ``normalize_text(text)``).

    The writer hands these to Whoosh so that analysis in any process, including
    the builders and writer, finds the segmentation without running pyvi again.
    """

    spans: list[Span]

    def __new__(cls, text: str, spans: list[Span]):
        obj = super().__new__(cls, text)
        obj.spans = spans
        return obj

    def __reduce__(self):
        return (SegmentedText, (str(self), self.spans))


def segment_words(text: str) -> list[Span]:
    """pyvi multi-syllable word spans of normalised ``text``, memoised by content."""
    known = getattr(text, "spans", None)
    if known is not None:
        return known
    key = content_key(text)
    spans = SEGMENTS.get(key)
    if spans is None:
        spans = pyvi_word_spans(text)
        SEGMENTS.put(key, spans)
    return spans


def segmented(text: str) -> str:
    """``text`` with pyvi's words joined by ``_`` (for inspection and tests only)."""
    out = list(text)
    for start, end in segment_words(normalize_text(text)):
        for i in range(start, end):
            if out[i] == " ":
                out[i] = "_"
    return "".join(out)


# --------------------------------------------------------------------------- Whoosh pipeline
class _VietTokenizerBase(Tokenizer):
    """Normalises the text, then yields the (start, end, term) pieces of ``pieces``."""

    keeps_whole_text = False  # with tokenize=False, yield the whole text as one token

    def pieces(self, value: str, text: str) -> Iterator[tuple[int, int, str]]:
        raise NotImplementedError

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        text = normalize_text(value)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize and self.keeps_whole_text:
            t.original = t.text = text
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(text)
            yield t
            return
        for pos, (start, end, term) in enumerate(self.pieces(value, text), start_pos):
            t.text = term
            t.boost = 1.0
            if keeporiginal:
                t.original = text[start:end]
            t.stopped = False
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self).__name__)


class SyllableTokenizer(_VietTokenizerBase):
    """Normalises text (NFC, canonical tones) and yields its syllables (letter/digit runs)."""

    keeps_whole_text = True

    def pieces(self, value: str, text: str) -> Iterator[tuple[int, int, str]]:
        for match in SYLLABLE_PATTERN.finditer(text):
            yield match.start(), match.end(), match.group()


class WordTokenizer(_VietTokenizerBase):
    """Normalises text and yields pyvi's multi-syllable words, syllables joined by ``_``."""

    def pieces(self, value: str, text: str) -> Iterator[tuple[int, int, str]]:
        for start, end in segment_words(value if hasattr(value, "spans") else text):
            yield start, end, "_".join(SYLLABLE_PATTERN.findall(text[start:end]))


class BreakPairTokenizer(_VietTokenizerBase):
    """The adjacent syllables that a sentence break separates, joined by ``_``
    (``tăng giá. Vàng miếng`` → ``giá_Vàng``): with ``pair_analyzer``'s counts they tell
    how many of a document's pairs lie within one sentence (``sentence_breaks``)."""

    def pieces(self, value: str, text: str) -> Iterator[tuple[int, int, str]]:
        previous = None
        for piece_start, piece in _sentence_pieces(text):
            first = SYLLABLE_PATTERN.search(piece)
            if first is not None and previous is not None and piece_start > 0:
                yield (
                    previous.start(),
                    piece_start + first.end(),
                    (f"{previous.group()}_{first.group()}"),
                )
            last = None
            for last in SYLLABLE_PATTERN.finditer(piece):
                pass
            if last is not None:
                previous = _Shifted(last, piece_start)


class JoinTokenizer(_VietTokenizerBase):
    """The codes of a text (``COVID-19``, ``2,4``, ``TP.HCM``) as terms
    (``indexer.folding.join_terms``), read from the text as given: the matcher then
    finds a code typed in a query without reading the stored text."""

    def pieces(self, value: str, text: str) -> Iterator[tuple[int, int, str]]:
        from indexer.folding import join_terms  # (it imports this module)

        for term in join_terms(str(value)):
            yield (0, 0, term)


class _Shifted:
    """A match moved by ``offset`` characters (start/end/group only)."""

    def __init__(self, match: re.Match, offset: int):
        self._match, self._offset = match, offset

    def start(self) -> int:
        return self._match.start() + self._offset

    def group(self) -> str:
        return self._match.group()


def _sentence_pieces(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each sentence of ``text`` (``sentences``)."""
    out, offset = [], 0
    for piece in sentences(text):
        out.append((offset, piece))
        offset += len(piece)
    return out


class PairFilter(Filter):
    """Joins each token with the next, across sentences (``ha``, ``noi`` → ``ha_noi``).

    Every pair, sentence breaks included (the ranking signal); ``BreakPairTokenizer``
    holds the ones that cross a break.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        previous = None
        for t in tokens:
            current = t.text
            if previous is not None:
                t.text = f"{previous}_{current}"
                yield t
            previous = current


class FoldFilter(Filter):
    """Strips diacritics from each token and folds ``đ`` → ``d``."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold_diacritics(t.text)
            yield t


def exact_analyzer():
    """Syllables with their diacritics, lowercased: the exact-match signal."""
    return SyllableTokenizer() | LowercaseFilter()


def folded_analyzer():
    """Syllables without diacritics: the accent-insensitive matching backbone."""
    return SyllableTokenizer() | LowercaseFilter() | FoldFilter()


def pair_analyzer():
    """Adjacent accent-folded syllable pairs: proximity (phrase-likeness) as plain terms."""
    return SyllableTokenizer() | LowercaseFilter() | FoldFilter() | PairFilter()


def break_pair_analyzer():
    """The accent-folded pairs that cross a sentence break (subtracted from
    ``pair_analyzer``'s to find phrases within one sentence)."""
    return BreakPairTokenizer() | LowercaseFilter() | FoldFilter()


def join_analyzer():
    """The codes of a text, folded (``JoinTokenizer``; its terms are lowercase already)."""
    return JoinTokenizer() | LowercaseFilter()


def word_analyzer():
    """pyvi's multi-syllable words, lowercased after segmentation: the word signal."""
    return WordTokenizer() | LowercaseFilter()


def fast_terms(analyzer, text: str) -> list[str] | None:
    """The terms of one of our three pipelines without Token objects (index hot path).

    Returns exactly what iterating ``analyzer(text)`` yields (a property test checks
    it), or None for any other analyzer.
    """
    items = getattr(analyzer, "items", None)
    if not items:
        return None
    kinds = tuple(type(item) for item in items)
    if kinds == (SyllableTokenizer, LowercaseFilter):
        return _syllables(text)[0]
    if kinds == (SyllableTokenizer, LowercaseFilter, FoldFilter):
        return _syllables(text)[1]
    if kinds == (BreakPairTokenizer, LowercaseFilter, FoldFilter):
        return _break_pairs(text)
    if kinds == (SyllableTokenizer, LowercaseFilter, FoldFilter, PairFilter):
        return list(map("_".join, itertools.pairwise(_syllables(text)[1])))
    if kinds == (JoinTokenizer, LowercaseFilter):
        from indexer.folding import join_terms  # (it imports this module)

        return join_terms(str(text))
    if kinds == (WordTokenizer, LowercaseFilter):
        norm = normalize_text(str(text))  # a plain str: SegmentedText misses the lru_cache
        spans = segment_words(text if hasattr(text, "spans") else norm)
        return list(map(_WORD_TERM.__getitem__, [norm[a:b] for a, b in spans]))
    return None


def _word_term(word: str) -> str:
    """``thành ủy`` → ``thành_ủy``: a pyvi word's term."""
    return "_".join(SYLLABLE_PATTERN.findall(word)).lower()


class _Memo(dict):
    """``fn`` memoised per syllable (C-speed lookups through ``map``), bounded."""

    def __init__(self, fn, limit: int = 400_000) -> None:
        super().__init__()
        self.fn, self.limit = fn, limit

    def __missing__(self, key: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        value = self[key] = self.fn(key)
        return value


_LOWER = _Memo(str.lower)
_FOLD = _Memo(fold_diacritics)
_WORD_TERM = _Memo(_word_term)
_LAST_SYLLABLES: tuple[str | None, tuple[list[str], list[str]]] = (None, ([], []))


def _syllables(text: str) -> tuple[list[str], list[str]]:
    """Lowercased and folded syllables of ``text``; the last text's are kept, since a
    document's exact, folded and pair fields are analysed one after another."""
    global _LAST_SYLLABLES
    last = _LAST_SYLLABLES
    if last[0] is text:
        return last[1]
    lowered = list(map(_LOWER.__getitem__, SYLLABLE_PATTERN.findall(normalize_text(text))))
    folded = list(map(_FOLD.__getitem__, lowered))
    _LAST_SYLLABLES = (text, (lowered, folded))
    return lowered, folded


def _break_pairs(text: str) -> list[str]:
    """Folded pairs across each sentence break (as ``break_pair_analyzer``): the last
    syllable of each sentence with the first of the next one that has a syllable."""
    norm = normalize_text(str(text))
    if not _SENTENCE_END.search(norm):
        return []
    out: list[str] = []
    previous = None
    bounds = [0, *sentence_breaks(norm), len(norm)]
    for start, end in itertools.pairwise(bounds):
        first = SYLLABLE_PATTERN.search(norm, start, end)
        if first is None:
            continue
        if previous is not None:
            out.append(f"{_FOLD[_LOWER[previous]]}_{_FOLD[_LOWER[first.group()]]}")
        previous = _last_syllable(norm, first.start(), end)
    return out


def _last_syllable(text: str, start: int, end: int) -> str:
    """The last ``SYLLABLE_PATTERN`` match in ``text[start:end]`` (which holds one that
    starts at ``start``), found by searching a growing window before ``end``."""
    width = 24  # a few syllables
    while True:
        window = max(start, end - width)
        last = None
        for last in SYLLABLE_PATTERN.finditer(text, window, end):
            pass
        # a match starting at the window's edge may have begun before it: widen
        if last is not None and (last.start() > window or window == start):
            return last.group()
        width *= 4


def folded_syllables(text: str) -> list[str]:
    """The accent-folded, lowercased syllables of ``text`` (as ``*_fold`` indexes them;
    the list is shared with the analysers: read it, do not change it)."""
    return _syllables(text)[1]


def analyze(analyzer, text: str) -> list[str]:
    """The terms an analyzer produces for ``text`` (queries and tests)."""
    return [t.text for t in analyzer(text)]
