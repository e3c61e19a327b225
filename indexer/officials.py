"""Find the officials an article names: people mentioned with a public position.

A mention counts when a personal name sits next to a position title
(``Thủ tướng Phan Văn Khải``, ``Nguyễn Lan Hương - Ủy viên Ban Thường vụ Thành ủy``)
or right after a Party form of address or a rank (``đồng chí``, ``Đại tá``).

Positions are a grammar over data lists: ``[modifiers] (title | unit trưởng/phó |
trưởng/phó unit)``, so ``Cục phó``, ``Chi cục trưởng``, ``đội phó``, ``Phó công an xã`` and
``phó trưởng thôn`` need no entry of their own; junior titles (``nhân viên``) count only
beside a public body. A foreign name is the capitalised run right after a title (or before
it, with a comma); a run right after an organisation form (``Công ty``, ``ĐH``) or holding a
company or club word (``Samsung``, ``Chelsea``) is not a person, and whoever is written
with a business position is not an official. A given name alone (``ông Khánh, trưởng thôn``,
``Trưởng thôn Khánh``) goes to the one full name in the article it can stand for, or, if
there is none, is the official's name.

Everything language-specific lives in ``indexer/data/*.txt`` (surnames, titles, units,
modifiers, abbreviations, honorifics, places, organisation forms, non-official contexts,
clause breakers), loaded once. The work is regex-driven: sentences without a position word
or an honorific are never looked at, and pyvi's word segmentation is consulted only to
decide where a name starts inside an ambiguous capitalised run (``tỉnh Lâm Đồng Hà Văn B``:
pyvi keeps ``Lâm_Đồng`` together) and whether a capitalised word alone is a common word's
first syllable (``Bộ trưởng Tài chính``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from indexer.analysis import canonical_tones, match_key, pyvi_word_spans

__all__ = ["Official", "extract_officials", "is_foreign_name", "normalize_name_key"]

DATA_DIR = Path(__file__).with_name("data")
NUL = "\x00"  # matches no text: the pattern of an empty list
# Bump when what is extracted changes: the segmentation cache keys officials by it, so a
# rebuild extracts them again while still reusing pyvi's cached word spans.
EXTRACTOR_VERSION = "11"
MAX_NAME_SYLLABLES = 4
MAX_GAP_WORDS = 16
MAX_POSITION_WORDS = 12
CONTEXT_WINDOW_WORDS = 12
MAX_FOREIGN_GAP_LOWER = 5


@dataclass
class Official:
    """A person named with a public position, and the positions written next to the name."""

    name: str
    positions: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- keys
def normalize_name_key(name: str) -> str:
    """Lowercase, strip every diacritic (``đ`` → ``d``), collapse whitespace."""
    return match_key(name)


def _mention_key(name: str) -> str:
    """Identity of a name inside one article: tone placement and case do not matter."""
    return " ".join(canonical_tones(unicodedata.normalize("NFC", name)).lower().split())


# --------------------------------------------------------------------------- data files
def _read_lines(filename: str) -> list[str]:
    lines = []
    for raw in (DATA_DIR / filename).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(unicodedata.normalize("NFC", line))
    return lines


def _kinded(filename: str) -> list[tuple[str, str]]:
    return [tuple(line.split(None, 1)) for line in _read_lines(filename)]  # type: ignore[misc]


def _alternation(phrases: Iterable[str], ignorecase: bool = True) -> str:
    """A regex matching any of ``phrases`` (spaces match any whitespace), longest first.

    Written as a trie — one branch per shared prefix — which the regex engine walks far
    faster than a flat alternation of hundreds of phrases, with the same matches: at
    each step at most one branch can match and a longer phrase is tried before a
    shorter one. For a case-insensitive regex the phrases are lowercased first, so that
    case variants share a branch.
    """
    trie: dict = {}
    for phrase in phrases:
        text = canonical_tones(phrase.strip())
        node = trie
        for token in re.findall(r"\s+|.", text.lower() if ignorecase else text):
            node = node.setdefault(" " if token.isspace() else token, {})
        node[""] = {}
    return _trie_pattern(trie)


def _trie_pattern(node: dict) -> str:
    branches = [
        (r"\s+" if token == " " else re.escape(token)) + _trie_pattern(child)
        for token, child in sorted(node.items())
        if token
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


_U = "".join(
    ch
    for lo, hi in ((0x41, 0x5A), (0xC0, 0x24F), (0x1E00, 0x1EFF))
    for ch in map(chr, range(lo, hi + 1))
    if ch.isalpha() and ch.isupper()
)
_L = "".join(
    ch
    for lo, hi in ((0x61, 0x7A), (0xDF, 0x24F), (0x1E00, 0x1EFF))
    for ch in map(chr, range(lo, hi + 1))
    if ch.isalpha() and ch.islower()
)
_BODY = rf"[{_U}](?:[{_L}]+(?:[{_U}][{_L}]+)*(?:[-'’.][{_U}]?[{_L}]+(?:[{_U}][{_L}]+)*)*|[{_U}\d]*)"
_GLUED_INITIALS = rf"(?:[{_U}]\.){{1,3}}[{_U}][{_L}]+"  # "V.Putin", "G.W.Bush"
# "T.Ư" (Trung ương), "TP.HCM", "Q.10"; not "J.N." (initials: "J.N. Dixit")
_DOTTED_ABBREVIATION = rf"[{_U}]+(?:\.[{_U}\d]+)+(?!\.)"
_TOKEN = (
    rf"(?:(?:al|el|bin|ibn|abu|ben|ul)-)?"
    rf"(?:{_GLUED_INITIALS}|{_DOTTED_ABBREVIATION}|(?:[{_U}]\.){{1,3}}|{_BODY})"
)
_PARTICLE = r"(?:van|von|der|den|de|da|di|du|la|le|bin|ibn|al|el|dos|das|del)"
RUN_RE = re.compile(rf"(?<![\w.-]){_TOKEN}(?:[ \u00a0]+(?:{_PARTICLE}[ ]+)?{_TOKEN})*(?!\w)")
TOKEN_RE = re.compile(_TOKEN)
VN_SYLLABLE_RE = re.compile(rf"[{_U}][{_L}]*")
_VN_SPECIFIC = set("ăâđêôơưĂÂĐÊÔƠƯ")
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_ASCII_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?"
)
_STOP_PUNCT = set('.;:!?"“”()[]\n')


def _stops_at(text: str, i: int) -> bool:
    """Whether ``text[i]`` ends a clause: a dot inside ``T.Ư`` or ``TP.HCM`` does not."""
    ch = text[i]
    if ch not in _STOP_PUNCT:
        return False
    inner = ch == "." and 0 < i < len(text) - 1 and text[i - 1].isalnum()
    return not (inner and text[i + 1].isalnum()) or _GLUED_SENTENCE.match(text, i) is not None


# a sentence glued to the next with no space ("xã Tân Nghĩa- Hàm Tân.Đó là"), not "TP.HCM",
# "Tp.HCM" or "T.Ư": a word of three letters or more, lowercase after its first, then a capital
_GLUED_SENTENCE = re.compile(rf"\.(?<=\w[{_L}]{{2}}\.)(?=[{_U}])")


@dataclass(frozen=True)
class Lexicon:
    """Every list from ``indexer/data``, compiled once."""

    trigger_re: re.Pattern[str]
    trigger_start_re: re.Pattern[str] | None  # the first words of triggers, on lowercased text
    trigger_start_re_i: re.Pattern[str]  # the same, case-insensitive
    kinds: dict[str, str]
    surnames: frozenset[str]
    common_surnames: frozenset[str]  # the first 30 of surnames.txt, the commonest
    places: dict[str, tuple[tuple[str, ...], ...]]  # by first token, longest first
    place_word_re: re.Pattern[str]
    not_place_word_re: re.Pattern[str]
    hamlet_word_re: re.Pattern[str]
    non_official_re: re.Pattern[str]
    non_official_except_re: re.Pattern[str] | None
    breaker_re: re.Pattern[str]
    courtesy_re: re.Pattern[str]
    degrees: frozenset[str]
    org_form_re: re.Pattern[str]
    public_re: re.Pattern[str]
    org_starts: frozenset[str]
    org_phrase_re: re.Pattern[str]  # the entries of several words, at a run's start
    generic_titles: frozenset[str]
    foreign_orgs: frozenset[str]
    business_title_re: re.Pattern[str]
    business_context_re: re.Pattern[str]
    body_re: re.Pattern[str]
    counted_members_re: re.Pattern[str]
    member_body_re: re.Pattern[str]  # "công an ấp)": a body's member, in a name's parenthesis
    not_given: frozenset[str]


def _by_first_token(phrases: list[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Phrases grouped by their first token, each group in the given order."""
    groups: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        groups.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(group) for first, group in groups.items()}


def _first_word(phrase: str) -> str:
    """The lowercased first word of a phrase ("" when it starts with no letter or digit)."""
    found = re.match(r"\w+", canonical_tones(phrase.strip()).lower())
    return found.group(0) if found else ""


def find_triggers(text: str, lex: Lexicon) -> list[re.Match[str]]:
    """``list(lex.trigger_re.finditer(text))``, found faster: the grammar is tried only
    where one of the words a trigger can start with begins."""
    low = text.lower()
    if lex.trigger_start_re is None:
        return list(lex.trigger_re.finditer(text))
    if len(low) == len(text):
        starts = lex.trigger_start_re.finditer(low)
    else:  # a letter whose lowercase is longer: search the text itself
        starts = lex.trigger_start_re_i.finditer(text)
    found: list[re.Match[str]] = []
    end = 0
    match = lex.trigger_re.match
    for start in starts:
        at = start.start()
        if at < end:
            continue
        trigger = match(text, at)
        if trigger is not None:
            found.append(trigger)
            end = trigger.end()
    return found


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load and compile the data files (once per process)."""
    kinds: dict[str, str] = {}
    for head in _read_lines("positions.txt"):
        kinds[_mention_key(head)] = "position"
    honorifics = _kinded("honorifics.txt")
    for kind, phrase in honorifics:
        kinds[_mention_key(phrase)] = kind
    abbreviations = _kinded("abbreviations.txt")
    position_abbrevs = [a.split()[0] for kind, a in abbreviations if kind == "position"]
    degrees = frozenset(a.split()[0] for kind, a in abbreviations if kind == "degree")
    for head in _read_lines("junior_positions.txt"):
        kinds[_mention_key(head)] = "junior"
    modifiers = _alternation(_read_lines("modifiers.txt"))
    heads = _alternation(list(kinds))
    units = _alternation(_read_lines("units.txt"))
    # The position grammar: [modifiers] (title | unit trưởng/phó | trưởng/phó unit).
    trigger_re = re.compile(
        rf"(?<!\w)(?:(?:{modifiers})\s+)*"
        rf"(?:(?P<head>{heads})|(?P<unit>(?:{units})\s+(?-i:trưởng|phó)|(?:trưởng|phó)\s+(?:{units})))"
        rf"(?!\w)|(?<!\w)(?P<abbr>{_alternation(position_abbrevs)})(?!\w)",
        re.IGNORECASE,
    )
    # Every trigger starts with one of a few words: find those first, then try the
    # grammar only there (the same matches as trigger_re.finditer, several times faster)
    starters = [*_read_lines("modifiers.txt"), *kinds, *_read_lines("units.txt"), "trưởng", "phó"]
    firsts = {_first_word(p) for p in [*starters, *position_abbrevs]}
    for abbr in position_abbrevs:
        kinds[abbr.lower()] = "position"
    breaker_lines = _read_lines("position_breakers.txt")
    breakers = [b for b in breaker_lines if not b.startswith("!")]
    unbroken = [b[1:] for b in breaker_lines if b.startswith("!")] or ["\x00"]
    place_lines = _read_lines("place_words.txt")
    not_places = [p[1:] for p in place_lines if p.startswith("!")] or ["\x00"]
    hamlets = [p[1:] for p in place_lines if p.startswith("~")]
    non_official = _read_lines("non_official_contexts.txt")
    keep = [p[1:] for p in non_official if p.startswith("!")]
    drop = [p for p in non_official if not p.startswith("!")]
    start_words = _alternation(sorted(w for w in firsts if w))
    org_phrases = [o for o in _read_lines("organisations.txt") if " " in o]
    return Lexicon(
        trigger_re=trigger_re,
        trigger_start_re=(
            re.compile(rf"(?<!\w)(?:{start_words})(?!\w)") if "" not in firsts else None
        ),
        trigger_start_re_i=re.compile(rf"(?<!\w)(?:{start_words})(?!\w)", re.IGNORECASE),
        kinds=kinds,
        surnames=frozenset(_read_lines("surnames.txt")),
        common_surnames=frozenset(_read_lines("surnames.txt")[:30]),
        places=_by_first_token(
            sorted({tuple(p.split()) for p in _read_lines("places.txt")}, key=len, reverse=True)
        ),
        place_word_re=re.compile(
            rf"(?<!\w)(?:{_alternation(p.lstrip('~') for p in place_lines if p[0] != '!')})\s*$",
            re.IGNORECASE,
        ),
        hamlet_word_re=re.compile(rf"(?<!\w)(?:{_alternation(hamlets)})\s*$", re.IGNORECASE),
        not_place_word_re=re.compile(  # "liên bang" (federal) is no "bang" (state)
            rf"(?<!\w)(?:{_alternation(not_places)})\s*$",
            re.IGNORECASE,
        ),
        non_official_re=re.compile(rf"(?<!\w)(?:{_alternation(drop)})(?!\w)", re.IGNORECASE),
        non_official_except_re=(
            re.compile(rf"(?<!\w)(?:{_alternation(keep)})(?!\w)", re.IGNORECASE) if keep else None
        ),
        breaker_re=re.compile(
            rf"(?<!\w)(?!(?:{_alternation(unbroken, ignorecase=False)})(?!\w))"
            + "".join(  # a breaker inside a longer word ("không" of "hàng không")
                rf"(?!(?<={re.escape(u[: i + 1])}){re.escape(u[i + 1 :])}(?!\w))"
                for u in unbroken
                for i, ch in enumerate(u)
                if ch == " "
            )
            + rf"(?:{_alternation(breakers, ignorecase=False)})(?!\w)"
        ),
        courtesy_re=re.compile(
            rf"(?<!\w)(?:{_alternation(p for k, p in honorifics if k == 'courtesy')})\s*$",
            re.IGNORECASE,
        ),
        degrees=degrees,
        org_form_re=re.compile(
            # "báo" is a newspaper, not the end of "tình báo" (intelligence) or "thông báo"
            rf"(?<!\w)(?<!tình )(?<!thông )(?<!cảnh )(?<!dự )"
            rf"(?:{_alternation(_read_lines('org_forms.txt'))})\s*$",
            re.IGNORECASE,
        ),
        public_re=re.compile(
            # "bộ" is a ministry, "bộ phận" (a company's department) and "bộ môn" are not
            rf"(?<!\w)(?!bộ\s+(?:phận|môn)(?!\w))"
            rf"(?:{_alternation(_read_lines('public_words.txt'))})(?![^\W\d_])",
            re.IGNORECASE,
        ),
        org_starts=frozenset(o for o in _read_lines("organisations.txt") if " " not in o),
        org_phrase_re=re.compile(rf"(?:{_alternation(org_phrases or [NUL])})(?!\w)", re.IGNORECASE),
        generic_titles=frozenset(_mention_key(t) for t in _read_lines("generic_titles.txt")),
        foreign_orgs=frozenset(_read_lines("foreign_orgs.txt")),
        business_title_re=re.compile(
            rf"(?:(?:{modifiers})\s+)*(?:{_alternation(_read_lines('business_titles.txt'))})(?!\w)",
            re.IGNORECASE,
        ),
        business_context_re=re.compile(
            rf"(?<!\w)(?:{_alternation(_read_lines('business_context.txt'))})(?!\w)", re.IGNORECASE
        ),
        body_re=re.compile(
            rf"(?:{_alternation(_read_lines('public_bodies.txt'))})(?!\w)", re.IGNORECASE
        ),
        not_given=frozenset(_read_lines("not_given_names.txt")),
        counted_members_re=re.compile(
            rf"(?<!\w)(?P<n>[2-9]|hai|ba|bốn|năm|sáu|bảy|tám|chín)\s+"
            rf"(?P<title>(?:{_alternation(_read_lines('counted_bodies.txt'))})"
            rf"(?:\s+(?:xã|phường|thị\s+trấn|huyện|quận|tỉnh|viên))?"
            rf"(?-i:(?:\s+[{_U}][{_L}]*){{0,3}}))"
            rf"(?:\s+(?:đều|cùng|nguyên))?\s*(?:là|gồm(?:\s+có)?)\s*:?\s*",
            re.IGNORECASE,
        ),
        member_body_re=re.compile(
            rf"(?:{_alternation(_read_lines('counted_bodies.txt'))})"
            rf"\s+(?:xã|phường|thị\s+trấn|ấp|thôn|bản|huyện|quận|thị\s+xã)"
            rf"(?-i:(?:\s+[{_U}\d][{_L}\d]*){{0,3}})(?=\s*\))",
            re.IGNORECASE,
        ),
    )


# --------------------------------------------------------------------------- mentions
@dataclass
class _Mention:
    start: int
    end: int
    tokens: list[str]
    kind: str  # "vn" full name, "foreign", "named" (after a title, no known surname), "short"
    qualified: bool = False
    positions: list[str] = field(default_factory=list)
    p1: str | None = None
    place_led: bool = False  # right after "tỉnh", "huyện"...: maybe a place after all
    sentence: tuple[int, int] = (0, 0)
    standalone: bool | None = None  # a short mention that can name someone on its own
    business: bool = False  # written with a business position ("Phó giám đốc công ty")
    after: list[str] = field(default_factory=list)  # positions written after the name


@dataclass
class _Doc:
    original: str
    text: str  # tone-canonical, same length as original
    lex: Lexicon
    word_spans: list[tuple[int, int]]
    precomputed_from: int  # sentences from here on are covered by the caller's segmentation
    segmented: set[tuple[int, int]] = field(default_factory=set)
    _inner: set[int] | None = None
    given: Sequence[tuple[int, int]] = ()  # the caller's spans of the body, not yet shifted
    trigger_starts: frozenset[int] = (
        frozenset()
    )  # where a title, rank or address begins, less one space

    def ensure_segmented(self, sentence: tuple[int, int]) -> None:
        """Run pyvi on one sentence (once) unless the caller gave a segmentation."""
        if self.given:  # shifted past the title only when first needed (most texts never)
            shift = self.precomputed_from
            self.word_spans.extend((s + shift, e + shift) for s, e in self.given)
            self.given = ()
        if sentence[0] >= self.precomputed_from or sentence in self.segmented:
            return
        self.segmented.add(sentence)
        sub = self.text[sentence[0] : sentence[1]]
        self.word_spans.extend((s + sentence[0], e + sentence[0]) for s, e in pyvi_word_spans(sub))
        self._inner = None

    def runs_on(self, end: int, sentence: tuple[int, int]) -> bool:
        """Whether a pyvi multi-syllable word goes on past ``end`` (``Tài`` of ``Tài_chính``)."""
        self.ensure_segmented(sentence)
        return any(s < end < e for s, e in self.word_spans)

    def inside_word(self, offset: int, sentence: tuple[int, int]) -> bool:
        """Whether ``offset`` falls inside (not at the start of) a pyvi multi-syllable word."""
        self.ensure_segmented(sentence)
        if self._inner is None:
            self._inner = {
                s + m.start()
                for s, e in self.word_spans
                for m in re.finditer(r"\w+", self.text[s:e])
                if m.start() > 0
            }
        return offset in self._inner


def _is_foreign_token(token: str) -> bool:
    if any(ch in _VN_SPECIFIC for ch in token):
        return False
    return not any(ch in _TONE_MARKS for ch in unicodedata.normalize("NFD", token))


def _looks_vietnamese(token: str) -> bool:
    return not _is_foreign_token(token) or bool(_ASCII_SYLLABLE.fullmatch(token.lower()))


def is_foreign_name(tokens: Sequence[str]) -> bool:
    """Whether a name is written in a foreign spelling: a word that no Vietnamese
    syllable spells (``Cho Young-kil``, ``Badawi``); ``Hun Sen`` and ``Ôn Gia Bảo`` are not."""
    return any(not _looks_vietnamese(t) for t in tokens)


def _is_abbreviation(token: str) -> bool:
    """An organisation or place abbreviation: ``MTTQ``, ``UBND``, ``T.Ư``, ``TP.HCM``."""
    letters = token.replace(".", "")
    return letters.isupper() and len(letters) > 1 and not token.endswith(".")


_NOT_A_NAME = re.compile(rf"(?:[{_U}]\.?)+")  # capitals only: initials, "MTTQ", "XIII"


def _names_someone(tokens: Sequence[str]) -> bool:
    """Whether a foreign name has a word of its own, not only initials (``ông T.``,
    ``V-PACK``) or a Roman numeral (``khóa X``)."""
    return any(not _NOT_A_NAME.fullmatch(t) for t in tokens)


def _strip_places(tokens: list[str], lex: Lexicon) -> int:
    """How many leading tokens are places, countries or organisation abbreviations."""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if _is_abbreviation(tok):
            i += 1
            continue
        for place in lex.places.get(tok, ()):
            if tuple(tokens[i : i + len(place)]) == place:
                i += len(place)
                break
        else:
            return i
    return i


def _split_run(
    run: re.Match[str], doc: _Doc, sentence: tuple[int, int], covered: int = 0
) -> _Mention | None:
    """The personal name inside one capitalised run, if any (ignoring text up to ``covered``)."""
    lex = doc.lex
    toks = [(m.start() + run.start(), m.group(0)) for m in TOKEN_RE.finditer(run.group(0))]
    cut = (
        covered > run.start()
        and any(s < covered for s, _ in toks)
        and _PLACE_CUT.search(doc.text, max(0, covered - 30), covered) is not None
    )
    toks = [(s, t) for s, t in toks if t and s >= covered]
    if cut and len(toks) < 3 and all(VN_SYLLABLE_RE.fullmatch(t) for _, t in toks):
        return None  # the rest of a place the title began ("UBND xã Nam | Thái Sơn")
    while toks and (toks[-1][1] in lex.degrees or toks[-1][1] in lex.not_given):
        toks.pop()
    # Leading honorific or title written with a capital ("Ông Trần ...", "Đ/c ..."), or a
    # familiar form of address opening the sentence ("Anh Sơn (trưởng ấp 3) dẫn đoàn").
    familiar = False
    while toks and lex.kinds.get(_head_key(toks[0][1])) in {"courtesy", "comrade"}:
        toks.pop(0)
    if (
        len(toks) > 1
        and toks[0][1] in _FAMILIAR
        and not doc.text[sentence[0] : toks[0][0]].strip(' "“-–(')
    ):
        toks.pop(0)
        familiar = True
    if (
        len(toks) > 1
        and toks[0][1] not in lex.surnames
        and not doc.text[sentence[0] : toks[0][0]].strip(' "“-–(')
        and _written_lowercase(toks[0][1], doc)
    ):
        toks.pop(0)  # capitalised only as the sentence's first word ("Gặp Luân, phó công an xã")
    if not toks:
        return None
    # what comes right before the name: every phrase looked for there is far shorter than this
    before = doc.text[max(sentence[0], toks[0][0] - 80) : toks[0][0]]
    kind_before = _honorific_before(before, lex)
    addressed = familiar or kind_before in {"courtesy", "comrade", "rank"}
    if not addressed and lex.org_form_re.search(before):
        return None  # a company, school, brand or product ("Công ty Tuấn Ngân")
    if not addressed and kind_before is None and _STREET_BEFORE.search(before):
        return None  # "trên đường Trần Duy Hưng": a street named after someone
    words = [t for _, t in toks]
    skip = 0 if addressed else _strip_places(words, lex)
    rest = toks[skip:]
    if not rest:
        return None
    if skip and _is_abbreviation(words[skip - 1]) and len(rest) == 1:
        return None  # the tail of an organisation ("PV Gas")
    if (
        skip
        and len(rest) <= 2
        and not addressed
        and all(VN_SYLLABLE_RE.fullmatch(t) and _looks_vietnamese(t) for _, t in rest)
        and lex.place_word_re.search(before)
    ):
        return None  # a place whose name starts like a country's ("xã Mỹ Lâm")
    if (
        skip == 0
        and not addressed
        and lex.place_word_re.search(before)
        and not lex.not_place_word_re.search(before)
    ):
        # "tỉnh Phạm Văn Chi" is a name, "huyện Lý Nhân" and "huyện Ea Kar" are places;
        # after a title ending in a place word, one given name is the person ("Trưởng thôn Khánh").
        if len(rest) == 1 and kind_before in {"position", "junior"}:
            short = _foreign_or_short(rest, doc, sentence, titled=True)
            if short is not None:
                short.place_led = True  # or the place of a title read after an earlier name
            return short
        foreign = _foreign_after_place(rest, before, doc, sentence)
        if foreign is not None:
            return foreign
        if _titled_at_level(rest, before, doc):
            return _Mention(rest[0][0], rest[1][0] + len(rest[1][1]), [t for _, t in rest], "vn")
        if len(rest) < 3 or not all(VN_SYLLABLE_RE.fullmatch(t) for _, t in rest):
            return None
        vn = _vietnamese_name(rest, doc, sentence)
        place_words = next((i for i, (st, _) in enumerate(rest) if vn and st == vn.start), 0)
        if vn is not None and place_words == 1 and len(vn.tokens) < 3:
            return None  # "xã Nam Thái Sơn": the place's own name, not "Thái Sơn"
        if vn is not None and vn.start == rest[0][0] and _PLACE_ABOVE.match(doc.text, vn.end):
            return None  # "xã Lương Thế Trân (cũ), huyện Cái Nước": a place named after someone
        if vn is not None:
            # a place of its own before the name ("xã Thạnh Tân Huỳnh Đức Toàn"): a person
            vn.place_led = vn.start == rest[0][0] and not lex.hamlet_word_re.search(before)
        return vn
    vn = _vietnamese_name(rest, doc, sentence)
    if vn is not None:
        return vn
    titled = kind_before in {"position", "junior"} and not _generic_before(before, lex)
    return _foreign_or_short(rest, doc, sentence, titled)


def _foreign_after_place(
    rest: list[tuple[int, str]], before: str, doc: _Doc, sentence: tuple[int, int]
) -> _Mention | None:
    """Two or more words in a foreign spelling ending a run after a place word, with a title
    written before it in the clause, are a person (``Chủ tịch Ủy ban An toàn Quốc gia Tetsuo
    Kutsukake``, ``Chủ tịch Uỷ ban châu Âu Jose Manuel Barroso``); one such word is the place
    (``huyện Ea Kar``, ``thành phố Likasi``)."""
    k = len(rest)
    while k > 0 and not _looks_vietnamese(rest[k - 1][1]):
        k -= 1
    if len(rest) - k < 2:
        return None
    clause = re.split(r"[,;:()\n]", before)[-1]
    if not any(_kind(t, doc.lex) in {"position", "junior"} for t in find_triggers(clause, doc.lex)):
        return None
    if k == 0 and _NAMES_A_PLACE.search(before):
        k = 1  # "thành phố St Petersburg", "tỉnh Pattani Waedueramae Maminchi": the place first
        if len(rest) - k < 2:
            return None
    return _foreign_or_short(rest[k:], doc, sentence, titled=True)


# a title that ends with its level and no place's name: "nguyên Chủ tịch UBND huyện ",
# "Trưởng công an xã "
_LEVEL_AFTER_TITLE = re.compile(
    r"(?:\s+(?:UBND|HĐND|Ủy\s+ban\s+nhân\s+dân|Uỷ\s+ban\s+nhân\s+dân|[Cc]ông\s+an))?"
    r"\s+(?P<level>xã|phường|thị\s+trấn|huyện|quận|thị\s+xã|tỉnh)\s+"
)


_PLACE_ABOVE = re.compile(
    r"(?:\s*\([^()\n]{0,20}\))?\s*[,(–-]\s*"
    r"(?i:xã|phường|thị\s+trấn|huyện|quận|thị\s+xã|tỉnh|thành\s+phố|TP\.?)"
    rf"\s*[{_U}\d]"  # the higher place's name: not ", thành phố đã thống nhất"
)


def _titled_at_level(rest: list[tuple[int, str]], before: str, doc: _Doc) -> bool:
    """Whether two words after a title that ends with its level (``nguyên Chủ tịch UBND huyện
    Đỗ Tố``, ``Trưởng công an xã Nguyễn Được``) are the official's name rather than the
    place's: they start with a surname, the article writes them after no place word, and it
    names that level's place otherwise (``huyện Phú Quốc``)."""
    if len(rest) != 2 or rest[0][1] not in doc.lex.common_surnames:
        return False
    if before.rfind("(") > before.rfind(")"):
        return False  # "ông Hà Kế San (quyền chủ tịch huyện Lâm Thao)": his title, its place
    words = [t for _, t in rest]
    if not all(VN_SYLLABLE_RE.fullmatch(t) and _looks_vietnamese(t) for t in words):
        return False
    last = None
    for last in find_triggers(before, doc.lex):
        pass
    if last is None or _kind(last, doc.lex) not in {"position", "junior"}:
        return False
    level = _LEVEL_AFTER_TITLE.fullmatch(before, last.end())
    if level is None:
        return False
    name = " ".join(words)
    end = rest[1][0] + len(rest[1][1])
    if _written_as_place(name, doc) or _PLACE_ABOVE.match(doc.text, end):
        return False  # "HĐND xã Thạch Xuân, huyện Thạch Hà": a place within a place
    level_word = level.group("level")
    for hit in re.finditer(rf"(?<!\w){level_word}\s+(?:đảo\s+)?([{_U}][{_L}]*|\d)", doc.text):
        if hit.group(1) not in doc.lex.surnames:  # "xã Phạm Văn Quyền" may be a person too
            return True
    return False


# a lowercase place word that a place's own name follows (not "quốc gia", "nước", "châu")
_NAMES_A_PLACE = re.compile(
    r"(?<!\w)(?:tỉnh|thành phố|tp|bang|tiểu bang|huyện|quận|xã|thị xã|thị trấn|vùng|khu vực"
    r"|đảo|làng|thủ đô|thủ phủ|hạt)\s+$"
)


# a title that ends inside a place's name: "phó chủ tịch UBND xã Nam | Thái Sơn"
_PLACE_CUT = re.compile(
    rf"(?<!\w)(?:xã|phường|huyện|quận|tỉnh|thôn|ấp|thị trấn|thị xã|thành phố)\s+[{_U}][{_L}]*$"
)
_FAMILIAR = {"Anh", "Chị"}


def _written_lowercase(word: str, doc: _Doc) -> bool:
    """Whether the article also writes ``word`` in lowercase (a common word, not a name)."""
    lower = word.lower()
    return lower != word and re.search(rf"(?<!\w){re.escape(lower)}(?!\w)", doc.text) is not None


def _vietnamese_name(toks: list[tuple[int, str]], doc: _Doc, sentence: tuple[int, int]):
    for i, (start, tok) in enumerate(toks):
        n = len(toks) - i
        if n > MAX_NAME_SYLLABLES:
            continue
        tail = [t for _, t in toks[i:]]
        if not all(VN_SYLLABLE_RE.fullmatch(t) for t in tail):
            continue
        surname = tok in doc.lex.surnames or (n >= 3 and tail[1] in {"Thị", "Văn"} and i == 0)
        if n >= 2 and surname and all(_looks_vietnamese(t) for t in tail):
            if i > 0 and doc.inside_word(start, sentence):
                continue
            if i > 0 and doc.lex.place_word_re.search(toks[i - 1][1]):
                return None  # "Huyện Vũ Quang": a place named after its place word
            return _Mention(start, toks[-1][0] + len(toks[-1][1]), tail, "vn")
    return None


def _foreign_or_short(
    toks: list[tuple[int, str]], doc: _Doc, sentence: tuple[int, int], titled: bool
) -> _Mention | None:
    """A foreign name (the run's words in a foreign spelling), a name right after a title
    that does not start with a Vietnamese surname (``Thủ tướng Hun Sen``), or a given name."""
    lex = doc.lex
    k = len(toks)
    while k > 0 and _is_foreign_token(toks[k - 1][1]):
        k -= 1
    foreign = toks[k:]
    names = [t for _, t in foreign]
    skip = _strip_places(names, lex)
    foreign, names = foreign[skip:], names[skip:]
    brand = max((i + 1 for i, t in enumerate(names) if t in lex.foreign_orgs), default=0)
    foreign, names = foreign[brand:], names[brand:]
    if brand:  # "Ủy ban Olympic Philippines Jose ...": a country may follow the organisation
        skip = _strip_places(names, lex)
        foreign, names = foreign[skip:], names[skip:]
    end = toks[-1][0] + len(toks[-1][1])
    if (
        names
        and len(names) <= 5
        and any(not _looks_vietnamese(t) for t in names)
        and _names_someone(names)
    ):
        # after a company or club ("Samsung Electronics Lee Kun-hee"): a business position
        return _Mention(foreign[0][0], end, names, "foreign", business=brand > 0)
    if brand:
        return None
    words = [t for _, t in toks]
    if (
        titled
        and 2 <= len(toks) <= 3
        and all(VN_SYLLABLE_RE.fullmatch(t) for t in words)
        and _standalone(toks[0][0], end, words, doc, sentence)
    ):
        return _Mention(toks[0][0], end, words, "named")
    hon = _ADDRESSED_BEFORE.search(doc.text, max(0, toks[0][0] - 8), toks[0][0])
    if (
        hon is not None
        and len(toks) == 3
        and toks[0][1] not in lex.surnames
        and " " not in doc.text[toks[0][0] : end].replace(" ", "", 2)
        and not lex.place_word_re.search(doc.text, max(0, hon.start() - 20), hon.start())
    ):  # not "tỉnh Bà Rịa Vũng Tàu", "Bà Rịa - Vũng Tàu"  # "ông So Se Pyong", "ông Choe Ryong Hae": a foreign name spelt like ours, in full
        return _Mention(toks[0][0], end, words, "foreign")
    tail = toks[-2:] if len(toks) >= 2 else toks
    if all(VN_SYLLABLE_RE.fullmatch(t) for _, t in tail):
        return _Mention(tail[0][0], end, [t for _, t in tail], "short")
    return None


_ADDRESSED_BEFORE = re.compile(r"(?<!\w)(?:ông|bà|ngài|cô)\s+$", re.IGNORECASE)
_GIVEN_NAME = re.compile(rf"[{_U}][{_L}]+")
_NAME_PREFIX = {"A", "Y"}  # "A Brái", "Y Ngông": names of the Central Highlands peoples


def _standalone(
    start: int, end: int, words: Sequence[str], doc: _Doc, sentence: tuple[int, int]
) -> bool:
    """Whether capitalised words can be a person's name on their own: no organisation word
    first (``Sở``, ``Quốc``), no place, initial or brand, and no pyvi word going on past
    them (``Tài`` of ``Bộ trưởng Tài chính`` is part of ``Tài_chính``)."""
    lex = doc.lex
    if words[0] in lex.org_starts or _strip_places(list(words), lex):
        return False
    if lex.org_phrase_re.match(doc.text, start):  # "giám đốc Thảo cầm viên"
        return False
    if lex.body_re.match(doc.text, start):
        return False  # a public body ("bí thư Đoàn thanh niên xã")
    prefix = 1 if len(words) > 1 and words[0] in _NAME_PREFIX else 0
    if not all(_GIVEN_NAME.fullmatch(w) for w in words[prefix:]):
        return False  # an initial or a brand ("V" of "V-PACK")
    if doc.text[end : end + 1] in {"-", "."} or doc.text[max(0, start - 1) : start] in {"-", "."}:
        return False
    if _written_as_place(" ".join(words), doc):
        return False  # "nguyên chủ tịch Phú Quốc" where the article writes "huyện Phú Quốc"
    return not doc.runs_on(end, sentence)


def _written_as_place(words: str, doc: _Doc) -> bool:
    """Whether the article writes ``words`` right after a place word that is not the end of a
    title (``tại huyện Phú Quốc``; not ``Trưởng thôn Khánh``)."""
    if doc.text.count(words) < 2:
        return False  # only the mention itself, right after its title
    for hit in re.finditer(rf"(?<!\w){re.escape(words)}(?!\w)", doc.text):
        before = doc.text[max(0, hit.start() - 40) : hit.start()]
        if doc.lex.place_word_re.search(before) and _honorific_before(before, doc.lex) is None:
            return True
    return False


def _generic_before(before: str, lex: Lexicon) -> bool:
    """Whether the title right before a run speaks of officials in general (``nhà lãnh đạo``)."""
    tail = before.rstrip()[-30:].lower()
    return any(tail.endswith(g) for g in lex.generic_titles)


def _standalone_mention(m: _Mention, doc: _Doc) -> bool:
    """``_standalone`` for a mention, worked out once (it may run pyvi on the sentence)."""
    if m.standalone is None:
        m.standalone = _standalone(m.start, m.end, m.tokens, doc, m.sentence)
    return m.standalone


def _honorific_before(before: str, lex: Lexicon) -> str | None:
    """The kind of honorific or rank written right before a name, if any."""
    tail = before.rstrip()
    if len(tail) != len(before) or before == "":
        match = None
        for m in find_triggers(tail[-40:], lex):
            match = m
        if match is not None and match.end() == len(tail[-40:]):
            return _kind(match, lex)
    return None


# --------------------------------------------------------------------------- positions
def _clean_position(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,-–—:")
    text = re.sub(r"\s+(?:là|vừa|mới)$", "", text)
    return text.strip(" ,-–—")


def _is_non_official(text: str, lex: Lexicon) -> bool:
    """Whether ``text`` speaks of a company, market, school… A word of the list written
    capitalised right after a place word names the place (``huyện Chợ Gạo``), not one."""
    for hit in lex.non_official_re.finditer(text):
        if text[hit.start()].isupper() and lex.place_word_re.search(text, 0, hit.start()):
            continue
        return not (lex.non_official_except_re and lex.non_official_except_re.search(text))
    return False


def _window(doc: _Doc, start: int, limit: int) -> str:
    """Up to a few words from ``start`` within the clause, for the non-official check."""
    end = start
    words = 0
    text = doc.text
    while end < limit and words < CONTEXT_WINDOW_WORDS:
        if _stops_at(text, end) or (text[end] == "," and end + 1 in doc.trigger_starts):
            break  # a clause's end, or the next title of a chain ("…UBND tỉnh, Phó Ban Tổ chức")
        ch = text[end]
        if ch.isspace() and end > start and not text[end - 1].isspace():
            words += 1
        end += 1
    segment = text[start:end]
    brk = doc.lex.breaker_re.search(segment)
    return segment[: brk.start()] if brk else segment


def _clause(doc: _Doc, start: int, limit: int) -> str:
    """The text from ``start`` to the next comma or clause end."""
    end = start
    while end < limit and doc.text[end] != "," and not _stops_at(doc.text, end):
        end += 1
    return doc.text[start:end]


def _only_places(gap: str, lex: Lexicon) -> bool:
    """Whether ``gap`` holds nothing but the title's place and a comma (``Thủ tướng Tây Ban
    Nha, Jose…``, ``Trưởng công an xã Vĩnh Tân, Trần Văn Chỉnh``)."""
    words = gap.replace(",", " ").split()
    if words and _strip_places(words, lex) == len(words):
        return True
    return (
        _TITLE_PLACE.fullmatch(gap) is not None
        and lex.place_word_re.search(gap[: gap.find(next(w for w in words if w[:1].isupper()))])
        is not None
    )


def _gap_ok(gap: str, lex: Lexicon, title: str = "") -> bool:
    """Whether ``gap`` (between ``title`` and a name) keeps them together: no clause end,
    no list, no verb or connective; a word that is one with the title's last words is no
    breaker ("bộ trưởng thông tin": the ministry, not "informs")."""
    gap = _AT_A_PLACE.sub(" ", gap)  # "Chỉ huy Palestine ở Nam Gaza": where, not a clause
    gap = _STEERING_BOARD.sub("Ban", gap)  # "Ban chỉ đạo" is a board, not "directs"
    if any(_stops_at(gap, i) for i in range(len(gap))) or len(gap.split()) > MAX_GAP_WORDS:
        return False
    if (gap.rstrip().endswith(",") and not _only_places(gap, lex)) or _LIST_TAIL.search(gap):
        return False  # "Title ..., X và Name": the name is one of a list, not the title's
    lead = " ".join(title.lower().split()[-2:]) + " " if title else ""
    return lex.breaker_re.search(lead + _lowercase_words(gap), len(lead)) is None


# "vụ" (affair) before a name, after a lowercase word or an abbreviation; not "Nội vụ", "Tài vụ"
_AFFAIR = re.compile(rf"(?:(?<![{_U}])\b[{_L}]+|\b[{_U}]{{2,}})\s+vụ\s*$")
_STEERING_BOARD = re.compile(r"[Bb]an\s+chỉ\s+đạo")
_AT_A_PLACE = re.compile(rf"(?<!\w)(?:ở|tại)\s+(?=[{_U}])")
_LIST_TAIL = re.compile(r"(?<!\w)và\s*$")


def _lowercase_words(text: str) -> str:
    """Only the words that start in lowercase (breakers never hide in names)."""
    return " ".join(w if w[:1].islower() else "|" for w in text.split())


_OF_AN_OFFICE = re.compile(rf"(?<!\w)của\s+[{_U}]{{2,}}\s*$")
_OF_A_BODY = re.compile(
    rf"(?<!\w)của\s+(?:Bộ|Văn phòng|Ủy ban|Uỷ ban|Quốc hội|Chính phủ|Nhà Trắng|Điện Kremlin)"
    rf"(?:\s+[{_U}][{_L}]*|\s+[{_L}]+)*\s*$"
)


def _foreign_gap_ok(gap: str) -> bool:
    """Between a title and a foreign name: a country or an office, not a clause. Lowercase
    words right after a capitalised one belong to a name (``Hội đồng An ninh Quốc gia``)."""
    words = gap.split()
    lower = [
        w for i, w in enumerate(words) if w[:1].islower() and not (i and words[i - 1][:1].isupper())
    ]
    owner = lower and lower[-1] == "của"
    if owner and (_OF_AN_OFFICE.search(gap) or _OF_A_BODY.search(gap)):
        owner = False  # "phát ngôn viên của SBU / của Bộ Ngoại giao Nhật Akira Chiba"
    return len(lower) <= MAX_FOREIGN_GAP_LOWER and not owner


_APPOSITION_TAIL = re.compile(
    r"(?:\s+(?:là|tên|tên\s+là|có\s+tên\s+là|là\s+(?:anh|chị|ông|bà)))?\s*$"
)  # "Phó công an phường là anh Nguyễn Văn Điều"
_WITH_TAIL = re.compile(r"\s+với\s*$")
# Verbs that take "<title> với <ông/bà> <Name>": the title is the named person's
_DISCIPLINE = re.compile(
    r"(?<!\w)(?:cách chức|cách hết các chức vụ|kỷ luật|khiển trách|cảnh cáo|miễn nhiệm|"
    r"bãi nhiệm|bổ nhiệm)(?!\w)",
    re.IGNORECASE,
)


def _p1_position(m: _Mention, triggers: list[re.Match[str]], prev_end: int, doc: _Doc):
    """The position written before the name (``Thủ tướng Chính phủ`` Phan Văn Khải)."""
    lex = doc.lex
    for trig in reversed(triggers):
        if trig.end() > m.start:
            continue
        if trig.start() < prev_end:
            return None
        kind = _kind(trig, lex)
        if kind is None:
            return None  # a candidate's title ("ứng viên Tổng thống")
        if kind == "courtesy":
            continue
        if len(m.tokens) > 1 and _closes_parenthesis(doc.text[trig.end() : m.start]):
            continue  # a title inside a parenthesis before the name ("(nước giữ chức chủ tịch EU)")
        gap = doc.text[trig.end() : m.start]
        abbreviated = _ORG_ABBREVIATION.search(gap) is not None  # "Tổ chức … quốc tế (IAEA)"
        if len(m.tokens) > 1:  # "Ngoại trưởng Ireland (nước giữ chức chủ tịch EU) Brian Cowan"
            gap = _PARENTHESIS.sub(lambda p: " " * len(p.group(0)), gap)
        if trig.group(0).lower().endswith("ban"):  # "Phó trưởng Ban chỉ đạo ...": a board
            gap = re.sub(r"^\s*chỉ\s+đạo", lambda p: " " * len(p.group(0)), gap)
        addressed = lex.courtesy_re.search(gap)
        if addressed:  # "trưởng cảnh sát khu vực Jolo, ông Ahiron Ajirin"
            gap = _APPOSITION_COMMA.sub("", gap[: addressed.start()])
            if _WITH_TAIL.search(gap) and _DISCIPLINE.search(doc.text, m.sentence[0], trig.start()):
                gap = _WITH_TAIL.sub("", gap)  # "cách chức chủ tịch UBND huyện với ông X"
        gap = _APPOSITION_TAIL.sub("", gap) + " "
        if m.kind == "foreign" and _set_off(doc, gap, m):
            gap = gap.rstrip()[:-1] + " "  # "Bộ trưởng Công lý Thổ Nhĩ Kỳ, Cemil Cicek, nói"
        if gap.strip() and not _gap_ok(gap, lex, trig.group(0)):
            return None
        if _AFFAIR.search(gap):
            return None  # "lãnh đạo Ủy ban TDTT vụ Letard": the Letard affair
        if m.kind == "foreign" and not abbreviated and not _foreign_gap_ok(gap):
            return None
        if (
            m.kind == "foreign"
            and _OF_AN_OFFICE.search(gap)
            and doc.text[m.sentence[0] : trig.start()].rstrip().endswith(",")
        ):  # "Eric Coull, Trưởng đại diện của WWF Greater Mekong": the title is Coull's
            return None
        if kind == "comrade":
            return "" if not gap.strip() else None
        if (
            m.kind == "short"
            and gap.strip()
            and not _NAMED_AS.fullmatch(doc.text, trig.end(), m.start)
            and not (addressed and len(m.tokens) >= 2)  # "Đại sứ Campuchia…, ông Long Kem"
        ):
            return None  # a given name alone takes only a title written right before it
        end = trig.end() + len(gap.rstrip())
        start = trig.start()
        for earlier in reversed(
            [t for t in triggers if prev_end <= t.start() and t.end() <= start]
        ):
            if (
                doc.text[earlier.end() : start].strip()
                or _kind(earlier, lex) not in _POSITION_KINDS
            ):
                break
            start = earlier.start()  # "Chỉ huy" + "cảnh sát khu vực": one title
        text = _clean_position(doc.original[start:end])
        if _public_enough(trig, text, lex) or _is_non_official(text, lex):
            return text  # a business position is returned to mark the name as in business
        return None
    return None


def _set_off(doc: _Doc, gap: str, m: _Mention) -> bool:
    """Whether a foreign name stands between two commas right after its title's phrase, which
    holds no other comma: ``Phát ngôn viên lực lượng liên quân ở Baghdad, Dan Senor, cho biết``."""
    body = gap.rstrip()
    return (
        body.endswith(",")
        and "," not in body[:-1]
        and doc.text.startswith(",", m.end)
        and len(m.tokens) >= 2
    )


# an office's name ends with its abbreviation: its lowercase words are no clause
_ORG_ABBREVIATION = re.compile(rf"\(\s*[{_U}]{{2,}}\s*\)\s*$")


def _closes_parenthesis(text: str) -> bool:
    """Whether ``text`` closes a parenthesis it did not open."""
    close = text.find(")")
    return close >= 0 and "(" not in text[:close]


_PARENTHESIS = re.compile(r"\([^()\n]{0,80}\)")
_APPOSITION_COMMA = re.compile(r",\s*$")


_POSITION_KINDS = {"position", "junior", "rank"}
_DANGLING_OF = re.compile(r"\s+(?:của|cho|tại)$")
# "… đã được thăng chức làm Phó ban", "bổ nhiệm ông X vào chức Tổng giám đốc": a post taken
_TAKES_POST = (
    r"(?:(?:đã|vừa|mới)\s+)?(?:được\s+)?"
    r"(?:(?:thăng\s+chức|bầu|cử|bổ\s+nhiệm)\s+làm|(?:giữ|vào|lên|tái\s+cử)\s+chức(?:\s+vụ)?)"
)
_P2_LEAD = re.compile(
    (
        r"(?:\s*\((?:SN|sinh|sinh năm)?\s*[\d\s/.-]*(?:tuổi)?\))?"  # "(SN 1960)", "(48 tuổi)"
        r"(?:\s*\([A-Z]{2,}\)(?=\s+(?:là|{_TAKES_POST})\s))?"  # "X (FUNCINPEC) tái cử chức …"
        r"(?:\s*,\s*\d+\s+tuổi)?"  # "Miguel Diaz-Canel, 60 tuổi, làm Bí thư Thứ nhất"
        r"(?:\s*,?\s*(?:SN|sinh|sinh năm)\s*\d{4}(?=\s*[,(–—-]))?"  # "Đoàn Anh Tuấn sinh 1973, kế toán"
        r"(?:\s+(?=là\s|{_TAKES_POST}))?"  # "Lê Đức Hà là xã đội trưởng": "là" alone leads too
        r"(?P<when>\s+(?:hôm|sáng|trưa|chiều|tối)\s+(?:qua|nay)(?=\s*,))?"  # "Saddam Hussein hôm qua, cựu"
        r"\s*(?:,\s*(?=\())?"  # "Trần Khắc Trung, (nguyên phó Phòng …"
        r"(?:,|-|–|—|(?<=\s)(?=là\s|{_TAKES_POST})"
        r"|\((?:\s*tức\s+[^,()]{1,30},|\s*\d+\s+tuổi\s*,|\s*[^\W\d]+(?:\s+[^\W\d]+)?\s*,"
        r"|\s*(?:SN|sinh|sinh\s+năm|năm\s+sinh)?\s*\d{4}\s*,)?"  # "(sinh 1971, cán bộ", "(1977, cán bộ"
        r"|:)"  # "(tức Lệ ...,", "(40 tuổi, cán bộ", "(chủ mưu, Phó phòng"
        r"\s*(?:(?P<post>{_TAKES_POST})\s*|(?:hiện\s+là|hiện|là|làm|(?:nguyên|đều|cùng|(?:đã\s+)?từng)\s+là)\s+)?"
        r"(?P<one>một\s+(?=[^\W\d]))?"  # "Kim Man-soo, một phát ngôn viên tổng thống"
        r"(?:(?:nguyên|cựu|đều\s+là|cùng\s+là)\s+(?:hai|ba|bốn|năm|các|những)\s+)?"
    ).replace("{_TAKES_POST}", _TAKES_POST + r"\s")
)


def _public_enough(trig: re.Match[str], text: str, lex: Lexicon) -> bool:
    """A junior title (``nhân viên``) counts only beside a public body (``Hải quan tỉnh``)."""
    return _kind(trig, lex) != "junior" or lex.public_re.search(text) is not None


_EMBASSY = re.compile(r"\s+quán(?!\w)")
_CANDIDATE = re.compile(r"ứng\s+(?:cử\s+)?viên\s", re.IGNORECASE)


def _kind(trigger: re.Match[str], lex: Lexicon) -> str | None:
    """What a trigger match is: position, junior (a position only beside a public body),
    rank, comrade or courtesy. A title built by the grammar (``Cục phó``) is a position."""
    if _CANDIDATE.match(trigger.group(0)):
        return None  # "ứng viên Tổng thống": a candidate holds no post
    if _EMBASSY.match(trigger.string, trigger.end()) and trigger.group(0)[-2:].lower() == "sứ":
        return None  # "Đại sứ quán": the embassy, not the ambassador
    if trigger.group("unit"):
        return "position"
    return lex.kinds.get(_head_key(trigger.group("head") or trigger.group("abbr") or ""))


@lru_cache(maxsize=8192)
def _head_key(head: str) -> str:
    """``_mention_key`` of a title as written (few distinct ones: cached)."""
    return _mention_key(head)


def _p2_positions(
    m: _Mention,
    trig_at: dict[int, re.Match[str]],
    next_name: int,
    next_takes_title: bool,
    doc: _Doc,
    sentence: tuple[int, int],
) -> tuple[list[str], int]:
    """Positions written after the name, and where they end (``Nguyễn Lan Hương - Ủy viên ..., Chủ tịch ...``)."""
    lead = _P2_LEAD.match(doc.text, m.end, sentence[1])
    if lead is not None and lead.group("post") and m.kind == "short":
        return [], -1  # "Được bầu làm Tổng Bí thư": a verb capitalised, not a given name
    if lead is not None and (lead.group("one") or lead.group("when")) and len(m.tokens) < 2:
        return [], -1  # "Trao đổi với VnExpress, một quan chức …": one word is no name
    if lead is None or lead.end() == m.end:
        # "Bà Thượng Thị Phượng chủ tịch UBND phường…": after a form of address, a title
        # may follow the name with no comma
        space = _SPACE.match(doc.text, m.end, sentence[1])
        after = trig_at.get(space.end()) if space else None
        if after is None or _kind(after, doc.lex) != "position":
            return [], -1
        if not _addressed(doc, m.start, list(trig_at.values())):
            return [], -1
        lead = space
    pos = lead.end()
    out: list[str] = []
    end = -1
    body = None
    if pos not in trig_at and doc.text[pos : pos + 1].isupper():  # a body's name is capitalised
        body = doc.lex.body_re.match(doc.text, pos)
    elif pos not in trig_at and doc.text[m.end : pos].rstrip().endswith("("):
        member = doc.lex.member_body_re.match(doc.text, pos)
        if member is not None and m.kind == "vn":  # "anh Trần Văn Cử (công an ấp)"
            return [_clean_position(doc.original[pos : member.end()])], member.end()
    if body is not None:  # "Mai Văn Bình (Chi cục Kiểm lâm Hải Phòng)"
        end, _ = _read_position(body, trig_at, next_name, doc, sentence)
        text = _clean_position(doc.original[pos:end])
        window = _window(doc, pos, sentence[1])
        if _is_non_official(window, doc.lex):
            m.business = True
        elif doc.lex.public_re.search(text):
            out.append(text)
        return out, end
    while pos in trig_at and _kind(trig_at[pos], doc.lex) in _POSITION_KINDS:
        trig = trig_at[pos]
        end, nxt = _read_position(trig, trig_at, next_name, doc, sentence)
        window = _window(doc, trig.start(), sentence[1])
        if end == next_name < sentence[1] and next_takes_title:
            # the last title belongs to the name that follows it; what comes before is this
            # one's ("Khalil al-Zebin, cố vấn của Chủ tịch Palestine Yasser Arafat")
            inner = [t for t in trig_at.values() if trig.end() < t.start() < end]
            if inner:
                cut = _clean_position(doc.original[trig.start() : min(t.start() for t in inner)])
                cut = _DANGLING_OF.sub("", cut)
                if cut and not _is_non_official(cut, doc.lex):
                    out.append(cut)
            break
        text = _clean_position(doc.original[trig.start() : end])
        if text and _is_non_official(window, doc.lex):
            m.business = True
        elif text and _public_enough(trig, _clause(doc, trig.start(), sentence[1]), doc.lex):
            out.append(text)  # a junior title's public body may follow a verb ("làm việc trong")
        if nxt is None:
            break
        pos = nxt
    return out, end


def _read_position(trig, trig_at, next_name, doc: _Doc, sentence) -> tuple[int, int | None]:
    """Where a position phrase ends, and where the next chained position starts (if any)."""
    text, lex = doc.text, doc.lex
    limit = min(sentence[1], next_name) if next_name > trig.end() else sentence[1]
    i, words = trig.end(), 0
    while i < limit:
        ch = text[i]
        if _stops_at(text, i):
            return i, None
        if ch in ",-–—" or (text.startswith(" và ", i - 1) and ch == "v"):
            lead = re.compile(r"[,\-–—]?\s*(?:và\s+)?").match(text, i)
            j = lead.end() if lead else i + 1
            if j in trig_at:
                return i, j
            if ch in ",":
                return i, None
            if ch == "v" and j < len(text) and text[j].islower():
                return i, None
        if ch.isspace() and i + 1 < limit and not text[i + 1].isspace():
            words += 1
            if words > MAX_POSITION_WORDS:
                return i, None
            brk = lex.breaker_re.match(text, i + 1)
            if brk and _STEERING_BOARD.match(text, max(0, i - 3)):
                brk = None  # "Ban chỉ đạo": a board
            if brk and text[i + 1].islower():
                return i, None
        i += 1
    return i, None


# --------------------------------------------------------------------------- sentences
_SENT_END = re.compile(rf"[.!?…]+[\"”']?\s+|\n+|{_GLUED_SENTENCE.pattern}")


def _sentences(triggers: list[re.Match[str]], bounds: list[int]) -> list[tuple[int, int]]:
    """Sentence spans that contain at least one trigger (``bounds``: ``_sentence_bounds``)."""
    text_end = bounds[-1]
    spans: list[tuple[int, int]] = []
    j = 0
    for trig in triggers:
        while j + 1 < len(bounds) and bounds[j + 1] <= trig.start():
            j += 1
        span = (bounds[j], bounds[j + 1] if j + 1 < len(bounds) else text_end)
        if not spans or spans[-1] != span:
            spans.append(span)
    return spans


def _sentence_bounds(text: str) -> list[int]:
    """Where each sentence starts, then ``len(text)``."""
    bounds = [0]
    for m in _SENT_END.finditer(text):
        dot = m.start()
        if (
            text[dot] == "."
            and dot >= 1
            and text[dot - 1].isupper()
            and (dot < 2 or not text[dot - 2].isalpha())
        ):
            continue  # an initial: "George W. Bush"
        bounds.append(m.end())
    bounds.append(len(text))
    return bounds


# --------------------------------------------------------------------------- extraction
def extract_officials(
    title: str | None,
    body: str,
    word_spans: Sequence[tuple[int, int]] | None = None,
    *,
    normalized: bool = False,
    linker: bool | Callable[[Any], list[Official]] = True,
) -> list[Official]:
    """Officials named in an article, in order of first mention.

    ``word_spans`` may carry pyvi's multi-syllable word spans of ``body`` (character
    offsets, as ``indexer.analysis.segment_words`` returns them) when the caller has
    already segmented it; otherwise pyvi runs on the few sentences that need it.
    ``normalized`` says that ``title`` and ``body`` are already
    ``indexer.analysis.normalize_text``'s output (NFC, canonical tone marks), as the
    indexing path has them: they are then used as they are, and names come out in
    that form. With ``linker`` (the default), the names the rules did not take are
    offered to the learned name-to-title linker (``indexer.official_linker.link``), whose
    officials follow the rules' ones; ``False`` gives the rules' alone, and a callable is
    called instead of ``link`` with the same ``official_linker.Context``.
    """
    lex = lexicon()
    if normalized:
        head = title.strip() if title else ""
        prefix = head + "\n\n" if head else ""
        original = text = prefix + (body or "")
    else:
        head = unicodedata.normalize("NFC", title).strip() if title else ""
        prefix = head + "\n\n" if head else ""
        original = prefix + unicodedata.normalize("NFC", body or "")
        text = canonical_tones(original)
    triggers = _without_police_bodies(find_triggers(text, lex), text)
    if not triggers and lex.counted_members_re.search(text) is None:
        return []
    covered = len(prefix) if word_spans is not None else len(text) + 1
    doc = _Doc(
        original,
        text,
        lex,
        [],
        covered,
        given=word_spans or (),
        trigger_starts=frozenset(t.start() - 1 for t in triggers),
    )
    mentions = []
    bounds = _sentence_bounds(text)
    sentences = _sentences(triggers, bounds)
    for sentence in sentences:
        mentions.extend(_sentence_mentions(doc, sentence, triggers))
    if head:
        _headline_title(doc, len(head), triggers, mentions)
    _across_sentences(doc, sentences, bounds, triggers, mentions)
    found = _merge(mentions, doc)
    if linker is False:
        return found
    from indexer import official_linker  # imports this module: loaded on first use

    context = official_linker.Context(doc, triggers, bounds, len(prefix), found)
    return found + (official_linker.link if linker is True else linker)(context)


def _headline_title(
    doc: _Doc, head_end: int, triggers: list[re.Match[str]], mentions: list[_Mention]
) -> None:
    """A headline's title written without a name goes to the foreign person the lead sentence
    addresses first (``Bộ trưởng Quốc phòng Hàn Quốc xin từ chức`` / ``Ông Yoon Kwang-ung
    hôm nay đệ đơn``), when that person has no position of their own in it."""
    if any(m.start < head_end for m in mentions):
        return
    titles = [t for t in triggers if t.end() <= head_end and _kind(t, doc.lex) == "position"]
    if len(titles) > 1 and titles[0].start() == 0:
        titles = titles[:1]  # the headline's subject: "Tổng thống Hàn Quốc thay cố vấn an ninh"
    if len(titles) != 1:
        return
    # the body's first names ("title\n\nbody"), the lead even if "St. John's" split it
    lead = sorted((m for m in mentions if head_end + 2 <= m.start < head_end + 400), key=_start)
    for m in lead:
        if m.sentence[0] != head_end + 2 and titles[0].start() != 0:
            return  # past the lead sentence only for a headline that opens with the title
        if (m.kind == "foreign" or _short_of_foreign(m, mentions)) and _addressed(
            doc, m.start, triggers
        ):
            if not m.positions and not m.business:
                ends = [t.start() for t in triggers if titles[0].end() <= t.start() < head_end]
                title = _window(doc, titles[0].start(), min([head_end, *ends]))
                m.positions = [
                    _clean_position(
                        doc.original[titles[0].start() : titles[0].start() + len(title)]
                    )
                ]
                m.qualified = True
            return
        if m.kind in _FULL_KINDS and m.qualified and m.sentence[0] != head_end + 2:
            return  # past the lead sentence, only before anyone written with a title


def _short_of_foreign(m: _Mention, mentions: list[_Mention]) -> bool:
    """Whether a short mention stands for a foreign full name of the article (``Ông Lee`` of
    ``Lee Hae-chan``)."""
    if m.kind != "short":
        return False
    key = _mention_key(" ".join(m.tokens))
    return any(
        n.kind == "foreign" and _may_stand_for(key, _mention_key(" ".join(n.tokens)))
        for n in mentions
    )


# "Cả ba là cán bộ địa chính…", "Cả hai đều là…", "Hai người này nguyên là…": one title for
# the names of the sentence before
_ALL_OF_THEM = re.compile(
    r"(?:Cả|Hai|Ba|Bốn|Năm)\s+(?:(?P<n>hai|ba|bốn|năm|2|3|4|5)\s+)?"
    r"(?:(?:người|ông|bà|bị\s+can|bị\s+cáo|đối\s+tượng)\s+)?(?:này\s+|trên\s+)?"
    r"(?:(?:đều|cùng|từng|nguyên|hiện|đang)\s+)*(?:là|làm)\s+"
)
_COUNT = {"hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}
_PLURAL_GROUP = re.compile(r"(?<!\w)(?:[Nn]hóm|[Cc]ác|[Nn]hững)\s+$")
_INCLUDES = re.compile(r"(?<!\w)gồm(?:\s+có)?\s*:?\s*$")
# "3 nhân viên hải quan được phân công kiểm hóa lô hàng ngày 23/3 là A, B và C"
_COUNTED_INTRO = re.compile(r"[^,.;:()\n]{0,60}?(?<!\w)là\s*")
_LIST_CUT = re.compile(r"\s+(?:gồm|là)(?!\w)|:")
_LIST_INTRO = re.compile(r"\s*(?:,\s*)?(?:là|gồm|gồm\s+có|:)\s*:?\s*")  # title, then its list
_LIST_LEAD = re.compile(r"(?:là|gồm|gồm\s+có|:)\s*$")  # "Đó là", "Họ gồm:", "tuyên án cho:"
_LIST_BREAK = re.compile(r"^(?:[^,;()]*[.!?]|[^,;()]{41,}$)")  # no list between two names
# "5 bị cáo nguyên là cán bộ Đội thuế … Họ gồm: A, B, C, D, E", "ba công chức hải quan là A, B, C":
# a counted group right before a title; the names that follow, as many, share it
_COUNTED_GROUP = re.compile(
    r"(?<!\w)(?:[Cc]ả\s+)?(?P<n>[2-9]|hai|ba|bốn|năm|sáu|bảy|tám|chín)\s+"
    r"(?:(?:bị\s+cáo|bị\s+can|người|ông|bà|đối\s+tượng)\s+)?(?:này\s+|trên\s+)?"
    r"(?:(?:đều|cùng|nguyên|từng|đang|hiện)\s+)*(?:là\s+)?$"
)
_STARTS_SENTENCE = re.compile(rf"(?:(?:Trong khi đó|Trước đó|Sau đó|Cùng ngày),\s*)?(?=[{_U}])")


def _across_sentences(
    doc: _Doc,
    sentences: list[tuple[int, int]],
    bounds: list[int],
    triggers: list[re.Match[str]],
    mentions: list[_Mention],
) -> None:
    """Titles written in one sentence for names of the next or the previous one:

    * ``Bắt giam A, B và tạm giữ C. Cả ba là cán bộ địa chính…``: the names of the sentence
      before, as many as the number says (two at least), all without a position, share it;
    * ``Bộ trưởng Ngoại giao Ba Lan cảnh báo… / "…", ông Adam Rotfeld phát biểu``: a sentence
      that opens with a title and names nobody gives it to the foreign person the next
      sentence addresses first, when that person has no position of their own.
    """
    by_sentence: dict[tuple[int, int], list[_Mention]] = {s: [] for s in sentences}
    for m in mentions:
        by_sentence.setdefault(m.sentence, []).append(m)

    def named_in(span: tuple[int, int]) -> list[_Mention]:
        named = by_sentence.get(span)
        if named is None:
            named = _sentence_mentions(doc, span, triggers)
            mentions.extend(named)
            by_sentence[span] = named
        return named

    for trig in triggers:
        if _kind(trig, doc.lex) not in _POSITION_KINDS:
            continue
        counted = _COUNTED_GROUP.search(doc.text, max(0, trig.start() - 50), trig.start())
        plural = (
            counted is None
            and _PLURAL_GROUP.search(doc.text, max(0, trig.start() - 12), trig.start()) is not None
        )
        if counted is None and not plural:
            continue
        sentence = next((s for s in sentences if s[0] <= trig.start() < s[1]), None)
        if sentence is None:
            continue
        window = _window(doc, trig.start(), sentence[1])
        title = _clean_position(doc.original[trig.start() : trig.start() + len(window)])
        title = _clean_position(_LIST_CUT.split(title, maxsplit=1)[0])  # "… vụ việc gồm"
        if not title or _is_non_official(window, doc.lex):
            continue
        if not _public_enough(trig, _clause(doc, trig.start(), sentence[1]), doc.lex):
            continue
        after = trig.start() + len(window)
        people = [m for m in named_in(sentence) if m.start >= after]
        if (
            people
            and not _LIST_INTRO.fullmatch(doc.text, after, people[0].start)
            and not (counted and _COUNTED_INTRO.fullmatch(doc.text, after, people[0].start))
        ):
            continue  # the names are not the list the title introduces
        if plural and not (people and _INCLUDES.search(doc.text, trig.end(), people[0].start)):
            continue  # "nhóm cán bộ hải quan gồm: A, B, C": no count, so only a "gồm" list
        if not people:  # "7 bị cáo nguyên là cán bộ hải quan. HĐXX tuyên cho: A 5 năm tù; B …"
            k = bounds.index(sentence[1]) if sentence[1] in bounds else len(bounds) - 1
            if k + 1 >= len(bounds):
                continue
            people = named_in((bounds[k], bounds[k + 1]))
            lead = doc.text[bounds[k] : people[0].start] if people else ""
            if len(lead) > 40 or not _LIST_LEAD.search(lead):
                continue
        people = [m for m in people if m.kind in {"vn", "foreign"} and not m.business]
        if any(_LIST_BREAK.search(doc.text, a.end, b.start) for a, b in pairwise(people)):
            continue
        n = counted.group("n").lower() if counted else ""
        if (plural and len(people) >= 2) or (
            counted and len(people) == (_COUNT[n] if n in _COUNT else int(n))
        ):
            for m in people:
                if not m.positions:
                    m.positions, m.qualified = [title], True

    _counted_members(doc, bounds, named_in)

    for idx, sentence in enumerate(sentences):
        if by_sentence.get(sentence):
            continue
        opening = _STARTS_SENTENCE.match(doc.text, sentence[0], sentence[1])
        first = next((t for t in triggers if sentence[0] <= t.start() < sentence[1]), None)
        if first is None or _kind(first, doc.lex) not in _POSITION_KINDS:
            continue
        title = _clean_position(
            doc.original[
                first.start() : first.start() + len(_window(doc, first.start(), sentence[1]))
            ]
        )
        if not title or _is_non_official(_window(doc, first.start(), sentence[1]), doc.lex):
            continue
        together = _ALL_OF_THEM.match(doc.text, sentence[0], sentence[1])
        if together is not None and together.end() == first.start():
            k = bounds.index(sentence[0]) if sentence[0] in bounds else 0
            if k == 0:
                continue
            named = named_in((bounds[k - 1], sentence[0]))
            people = [m for m in named if m.kind in {"vn", "foreign"} and not m.business]
            want = _COUNT.get((together.group("n") or "").lower()) or _COUNT.get(
                doc.text[sentence[0] : sentence[0] + 4].split()[0].lower()
            )
            enough = len(people) >= 2 and (want is None or want == len(people))
            if enough and all(not m.positions for m in people):
                for m in people:
                    m.positions, m.qualified = [title], True
            continue
        if opening is None or opening.end() != first.start() or idx + 1 >= len(sentences):
            continue
        nxt = sentences[idx + 1]
        if not by_sentence.get(nxt) or nxt[0] > sentence[1] + 2:
            continue
        lead = by_sentence[nxt][0]
        if (
            lead.kind == "foreign"
            and len(lead.tokens) >= 2
            and not lead.positions
            and not lead.business
            and _addressed(doc, lead.start, triggers)
        ):
            lead.positions, lead.qualified = [title], True


_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:và\s+)?|và\s+)")


def _counted_members(doc: _Doc, bounds: list[int], named_in) -> None:
    """``ba công an xã là A, B, C``: a counted group of a body's members (the body's name used
    for them, ``counted_bodies.txt``) followed by exactly that many names joined by commas or
    ``và``; each name without a position takes the group's words as its title."""
    for group in doc.lex.counted_members_re.finditer(doc.text):
        k = bisect_right(bounds, group.start()) - 1
        if k + 1 >= len(bounds):
            continue
        people = [m for m in named_in((bounds[k], bounds[k + 1])) if m.start >= group.end()]
        n = group.group("n").lower()
        want = _COUNT[n] if n in _COUNT else int(n)
        if len(people) < want or people[0].start != group.end():
            continue
        listed = people[:want]
        if any(m.kind not in {"vn", "foreign"} or m.business for m in listed):
            continue
        if not all(_LIST_JOIN.fullmatch(doc.text, a.end, b.start) for a, b in pairwise(listed)):
            continue
        if len(people) > want and _LIST_JOIN.fullmatch(
            doc.text, listed[-1].end, people[want].start
        ):
            continue  # more names in the list than the count
        title = _clean_position(doc.original[group.start("title") : group.end("title")])
        for m in listed:
            if not m.positions:
                m.positions, m.qualified = [title], True


def _start(m: _Mention) -> int:
    return m.start


def _sentence_mentions(doc: _Doc, sentence: tuple[int, int], all_triggers) -> list[_Mention]:
    triggers = [t for t in all_triggers if sentence[0] <= t.start() < sentence[1]]
    trig_at = {t.start(): t for t in triggers}
    found: list[_Mention] = []
    for run in RUN_RE.finditer(doc.text, sentence[0], sentence[1]):
        covered = max((t.end() for t in triggers if t.start() <= run.start() < t.end()), default=0)
        m = _split_run(run, doc, sentence, covered)
        if m is None:
            continue
        m.sentence = sentence
        if m.kind == "short" and not _addressed(doc, m.start, triggers):
            near_title = (
                _titled(doc, m, triggers)
                or _followed_by_title(doc, m, trig_at, sentence)
                or (  # "tên là Vẻ và Quýnh": one more of the names the title took
                    bool(found)
                    and found[-1].kind == "short"
                    and _AND_ONLY.fullmatch(doc.text, found[-1].end, m.start) is not None
                )
            )
            if not (near_title and _standalone_mention(m, doc)):
                continue
        found.append(m)
    for m, n in pairwise(found):
        if _APPOSITION_TO_NAME.fullmatch(doc.text, m.end, n.start) and not _right_after_title(
            doc, m, triggers
        ):
            m.kind = "place"  # "trưởng cảnh sát khu vực Jolo, ông Ahiron Ajirin": Jolo is not him
    found = [m for m in found if m.kind != "place"]
    prev_end = sentence[0]
    for idx, m in enumerate(found):
        p1 = _p1_position(m, triggers, prev_end, doc)
        if p1 is None and idx > 0 and found[idx - 1].p1:
            raw = doc.text[found[idx - 1].end : m.start]
            between = doc.lex.courtesy_re.sub("", raw)
            words = between.split()
            if (
                len(words) > 1
                and words[0] == "và"
                and _strip_places(words[1:], doc.lex) == len(words) - 1
            ):
                between = " và "  # "người đồng nhiệm Malaysia A và Indonesia B"
            apposed = "," in raw and between != raw  # "Chủ tịch Arafat, ông Mussa": another
            if re.fullmatch(r"\s*(?:và|,)\s*", between) and not apposed:
                p1 = found[idx - 1].p1  # "hai phó chủ tịch Quốc hội X và Y"
        if p1 and idx > 0 and m.kind == "foreign" and len(m.tokens) == 1:
            prev = found[idx - 1]
            between = doc.text[prev.end : m.start]
            if (
                prev.kind in {"vn", "foreign"}
                and len(prev.tokens) >= 2
                and between.lstrip().startswith(",")
                and between.lstrip(" ,").rstrip().startswith(p1[:12])
            ):  # "Muhsin Khadar al-Khafaji, chủ tịch đảng Bath tại…": Bath is no person
                m.kind, m.p1 = "place", None
                prev_end = m.end
                continue
        if p1 and m.kind != "vn" and _POLICE_ONLY.match(p1):
            p1 = None  # "cảnh sát Shepherd's Bush", "cảnh sát Italia": a force, not a person
        business = bool(p1) and _is_non_official(p1, doc.lex)
        m.business = m.business or business
        m.p1 = None if business else p1
        prev_end = m.end
    consumed_until = -1
    for idx, m in enumerate(found):
        if m.start < consumed_until:  # a place inside the previous name's position
            m.kind, m.p1 = "place", None
            continue
        later = [n for n in found[idx + 1 :] if not n.place_led]
        nxt = later[0] if later else None
        next_name = nxt.start if nxt else sentence[1]
        taken = nxt is not None and nxt.p1 is not None
        if taken and nxt.kind in {"named", "short"} and _IS_LEAD.match(doc.text, m.end):
            taken = False  # "Lê Đức Hà là xã đội trưởng Hương Minh": the title is his, then a place
            nxt.kind, nxt.p1 = "place", None
        kind_before = _honorific_before(doc.text[sentence[0] : m.start], doc.lex)
        p2, consumed_until = _p2_positions(m, trig_at, next_name, taken, doc, sentence)
        m.after = p2
        m.positions = ([m.p1] if m.p1 else []) + p2
        m.positions = [  # "cảnh sát" is a person's title only before a Vietnamese name
            p
            for p in m.positions
            if not _POLICE_ONLY.match(p) or (m.kind == "vn" and (p == m.p1 or p.split()[2:]))
        ]
        m.qualified = bool(m.positions) or m.p1 == "" or kind_before in {"comrade", "rank"}
        if kind_before == "rank":
            rank = _rank_text(doc, sentence, m.start)
            if rank:
                m.positions.insert(0, rank)
    _junior_in_a_list(found, triggers, doc)
    _share_positions_after(found, doc)
    return found


_LIST_ITEM_GAP = re.compile(r"\s*(?:,\s*(?:và\s+)?|và\s+)")


def _junior_in_a_list(found: list[_Mention], triggers: list[re.Match[str]], doc: _Doc) -> None:
    """A junior title in a list of officials (``đại úy A, trung úy B và lái xe C``) needs no
    public body of its own: the list's earlier names, with a rank or a public post, give it."""
    for prev, m in pairwise(found):
        if m.positions or m.kind != "vn" or not prev.qualified or prev.business:
            continue
        ranked = _honorific_before(doc.text[prev.sentence[0] : prev.start], doc.lex) == "rank"
        if not ranked and not any(doc.lex.public_re.search(p) for p in prev.positions):
            continue
        trig = next((t for t in triggers if t.end() <= m.start and t.start() >= prev.end), None)
        if (
            trig is None
            or _kind(trig, doc.lex) != "junior"
            or doc.text[trig.end() : m.start].strip()
        ):
            continue
        if not _LIST_ITEM_GAP.fullmatch(_PARENTHESIS.sub("", doc.text[prev.end : trig.start()])):
            continue
        m.positions, m.qualified = [_clean_position(doc.original[trig.start() : trig.end()])], True


# "Phòng Cảnh sát Hình sự", "lực lượng cảnh sát tại London": the force inside a body or a title
_POLICE_BODY_BEFORE = re.compile(
    r"(?:lực\s+lượng|phòng|cục|đội|trung\s+đoàn|tiểu\s+đoàn|trường|viện|bộ|sở|học\s+viện)\s*$",
    re.IGNORECASE,
)
_POLICE_HEAD = re.compile(r"cảnh\s+sát$", re.IGNORECASE)


def _without_police_bodies(triggers: list[re.Match[str]], text: str) -> list[re.Match[str]]:
    """Drop a bare ``cảnh sát`` trigger written as (part of) a body, not as a person's title:
    right after a unit word or an earlier title of the same phrase, or capitalised mid-sentence."""
    kept: list[re.Match[str]] = []
    for trig in triggers:
        head = trig.group("head") or ""
        if _POLICE_HEAD.fullmatch(head):
            before = text[max(0, trig.start() - 30) : trig.start()]
            prev_end = kept[-1].end() if kept else -100
            joined = trig.start() - prev_end < 30 and not re.search(
                r"[,.;:()]", text[prev_end : trig.start()]
            )
            capital = trig.group(0)[0].isupper() and before.rstrip()[-1:] not in {
                "",
                ".",
                "\n",
                "(",
                ":",
                '"',
            }
            if _POLICE_BODY_BEFORE.search(before) or joined or capital:
                continue
        kept.append(trig)
    return kept


_IS_LEAD = re.compile(r"\s+là\s+")
_STREET_BEFORE = re.compile(r"(?<!\w)(?:đường|(?<!thành )(?<!dân )phố|ngõ|hẻm)\s+$")
# "cảnh sát Phan Lê Sơn" names a policeman; before any other name "cảnh sát" is the force
_POLICE_ONLY = re.compile(r"cảnh\s+sát(?!\s+\S*\s*trưởng)", re.IGNORECASE)
# a place word or two, then a capitalised name and a comma: "xã Vĩnh Tân, "
_TITLE_PLACE = re.compile(rf"\s*(?:[{_L}]+\s+){{1,2}}(?:[{_U}][{_L}]*\s*){{1,3}},\s*")
_SPACE = re.compile(r"[ \t]+")
_AND_ONLY = re.compile(r"\s+và\s+")
_APPOSITION_TO_NAME = re.compile(r"\s*,\s*(?:ông|bà|ngài)\s+", re.IGNORECASE)


def _share_positions_after(found: list[_Mention], doc: _Doc) -> None:
    """Names joined by ``và`` or a comma share the positions written after the last one
    (``A và B - nguyên hai cán bộ địa chính xã``)."""
    for idx in range(len(found) - 2, -1, -1):
        m, n = found[idx], found[idx + 1]
        if m.positions or not n.after or m.kind in {"place", "short"} or m.place_led:
            continue
        if re.fullmatch(r"\s*(?:và|,)\s*", doc.text[m.end : n.start]):
            m.after = list(n.after)
            m.positions = list(n.after)
            m.qualified = True


# "hai cán bộ VKS tên là Vẻ": a title, maybe its body's abbreviation, then the name
_NAMED_AS = re.compile(rf"\s*(?:[{_U}]{{2,}}\s+(?=(?:có\s+)?tên))?(?:(?:có\s+)?tên(?:\s+là)?\s+)?")


def _titled(doc: _Doc, m: _Mention, triggers: list[re.Match[str]]) -> bool:
    """Whether a title is written right before a mention (``Trưởng thôn Khánh``)."""
    for t in triggers:
        if t.end() <= m.start and _NAMED_AS.fullmatch(doc.text, t.end(), m.start):
            head = _head_key(t.group("head") or "")
            return _kind(t, doc.lex) in _POSITION_KINDS and head not in doc.lex.generic_titles
    return False


def _followed_by_title(
    doc: _Doc, m: _Mention, trig_at: dict[int, re.Match[str]], sentence: tuple[int, int]
) -> bool:
    """Whether a title follows a mention after a comma, dash or parenthesis (``Hoài Nhưỡng -
    bí thư chi đoàn xã``)."""
    lead = _P2_LEAD.match(doc.text, m.end, sentence[1])
    if lead is None or lead.end() == m.end or lead.end() not in trig_at or lead.group("post"):
        return False
    return _kind(trig_at[lead.end()], doc.lex) in _POSITION_KINDS


def _right_after_title(doc: _Doc, m: _Mention, triggers: list[re.Match[str]]) -> bool:
    """Whether a position title ends right before a mention (``Chủ tịch Arafat, ông Mussa``:
    Arafat is the chairman, not a place like ``khu vực Jolo``)."""
    return any(
        t.end() <= m.start
        and not doc.text[t.end() : m.start].strip()
        and _kind(t, doc.lex) == "position"
        and not doc.lex.place_word_re.search(t.group(0))  # "cảnh sát khu vực Basilan"
        for t in triggers
    )


def _addressed(doc: _Doc, start: int, triggers: list[re.Match[str]]) -> bool:
    """Whether a form of address or a rank is written right before ``start``."""
    for t in triggers:
        if (
            t.end() <= start
            and not doc.text[t.end() : start].strip()
            and _kind(t, doc.lex) in {"courtesy", "comrade", "rank"}
        ):
            return True
    return False


def _rank_text(doc: _Doc, sentence: tuple[int, int], start: int) -> str | None:
    before = doc.text[max(sentence[0], start - 40) : start]
    last = None
    for last in find_triggers(before, doc.lex):
        pass
    if last is None or before[last.end() :].strip():
        return None
    offset = start - len(before)
    return _clean_position(doc.original[offset + last.start() : offset + last.end()])


def _merge(mentions: list[_Mention], doc: _Doc) -> list[Official]:
    """Group mentions into officials.

    A full name with a position is an official. A short mention (``ông Khải``, ``Bộ trưởng
    Cho``) adds its positions to the one official or full name it can stand for; written
    with a title and naming nobody else in the article (``ông Khánh, trưởng thôn``), it is
    an official by that short name.
    """
    officials: dict[str, Official] = {}
    full_forms: dict[str, str] = {}
    for m in mentions:
        if m.kind in _FULL_KINDS:
            name = doc.original[m.start : m.end]
            full_forms.setdefault(_mention_key(name), name)
    for m in mentions:
        if not m.qualified or m.kind not in _FULL_KINDS:
            continue
        name = doc.original[m.start : m.end]
        key = _mention_key(name)
        if m.kind == "foreign" and len(m.tokens) == 1:
            longer = [f for k, f in full_forms.items() if k != key and _may_stand_for(key, k)]
            if len(longer) > 1:  # "Tổng thống Biden" beside Joe Biden and Jill Biden
                longer = [f for f in longer if _mention_key(f) in officials]
            if len(longer) > 1:
                continue
            if longer:
                name = longer[0]
                key = _mention_key(name)
        official = officials.setdefault(key, Official(name))
        _add_positions(official, m.positions)
    for m in mentions:
        if m.kind == "place" or (m.kind != "short" and m.qualified):
            continue
        key = _mention_key(" ".join(m.tokens))
        match = [o for k, o in officials.items() if _may_stand_for(key, k)]
        if len(match) == 1:
            _add_positions(match[0], m.positions)
            continue
        if match or m.kind != "short" or not m.positions:
            continue
        forms = [f for k, f in full_forms.items() if _may_stand_for(key, k)]
        if not forms:
            forms = _full_names_ending(m.tokens, doc)
        if len(forms) == 1:
            official = officials.setdefault(_mention_key(forms[0]), Official(forms[0]))
        elif not forms and _standalone_mention(m, doc):
            official = officials.setdefault(key, Official(doc.original[m.start : m.end]))
        else:
            continue
        _add_positions(official, m.positions)
    in_business = {_mention_key(doc.original[m.start : m.end]) for m in mentions if m.business}
    lex = doc.lex
    business_article = None  # worked out only when a bare business title asks
    kept = []
    for k, o in officials.items():
        if any(lex.public_re.search(p) for p in o.positions):
            kept.append(o)
        elif any(_may_stand_for(b, k) for b in in_business):
            continue  # written elsewhere with a company's position
        elif all(lex.business_title_re.match(p) for p in o.positions):
            if business_article is None:
                found = {_head_key(h) for h in lex.business_context_re.findall(doc.text)}
                business_article = len(found) >= 2
            if not business_article:
                kept.append(o)  # else "Chủ tịch Florentino Perez" in an article about a club
        else:
            kept.append(o)
    return kept


_FULL_KINDS = {"vn", "foreign", "named"}


def _full_names_ending(tokens: Sequence[str], doc: _Doc) -> list[str]:
    """The distinct Vietnamese full names anywhere in the article that end with ``tokens``
    (the full name of ``kiểm lâm viên Long`` may sit in a sentence without a title)."""
    found: dict[str, str] = {}
    n = len(tokens)
    for run in RUN_RE.finditer(doc.text):
        words = run.group(0).split()
        for i in range(len(words) - n):
            tail = words[i : i + n + 3]
            for j in range(n + 1, len(tail) + 1):
                name = tail[:j]
                if (
                    name[-n:] == list(tokens)
                    and name[0] in doc.lex.surnames
                    and _mention_key(name[0]) not in doc.lex.kinds  # "Ông" is a courtesy too
                    and all(VN_SYLLABLE_RE.fullmatch(w) for w in name)
                ):
                    found.setdefault(_mention_key(" ".join(name)), " ".join(name))
    return [f for k, f in found.items() if not any(o.endswith(" " + k) for o in found)]


def _may_stand_for(short: str, full: str) -> bool:
    """Whether a short mention's key can refer to a full name's key (the given name or the
    last words, or the family name first: ``Cho`` for ``Cho Young-kil``)."""
    return full == short or full.endswith(" " + short) or full.startswith(short + " ")


def _add_positions(official: Official, positions: Iterable[str]) -> None:
    seen = {_mention_key(p) for p in official.positions}
    for pos in positions:
        if pos and _mention_key(pos) not in seen:
            official.positions.append(pos)
            seen.add(_mention_key(pos))
