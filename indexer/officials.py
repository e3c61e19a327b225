"""Find the officials an article names: people mentioned with a public position.

A mention counts when a full personal name sits next to a position title
(``Thủ tướng Phan Văn Khải``, ``Nguyễn Lan Hương - Ủy viên Ban Thường vụ Thành ủy``)
or right after a Party form of address or a rank (``đồng chí``, ``Đại tá``).
Later short mentions (``ông Khải``) only attach to a name already found.

Everything language-specific lives in ``indexer/data/*.txt`` (surnames, position
titles, abbreviations, honorifics, places, non-official contexts, clause breakers),
loaded once. The work is regex-driven: sentences without a position word or an
honorific are never looked at, and pyvi's word segmentation is consulted only to
decide where a name starts inside an ambiguous capitalised run
(``tỉnh Lâm Đồng Hà Văn B``: pyvi keeps ``Lâm_Đồng`` together).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from indexer.analysis import canonical_tones, match_key

__all__ = ["Official", "extract_officials", "is_foreign_name", "normalize_name_key"]

DATA_DIR = Path(__file__).with_name("data")
# Bump when what is extracted changes: the segmentation cache keys officials by it, so a
# rebuild extracts them again while still reusing pyvi's cached word spans.
EXTRACTOR_VERSION = "2"
MAX_NAME_SYLLABLES = 4
MAX_GAP_WORDS = 16
MAX_POSITION_WORDS = 12
CONTEXT_WINDOW_WORDS = 12
MAX_FOREIGN_GAP_LOWER = 3


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
    return not (inner and text[i + 1].isalnum())


@dataclass(frozen=True)
class Lexicon:
    """Every list from ``indexer/data``, compiled once."""

    trigger_re: re.Pattern[str]
    kinds: dict[str, str]
    surnames: frozenset[str]
    places: dict[str, tuple[tuple[str, ...], ...]]  # by first token, longest first
    place_word_re: re.Pattern[str]
    non_official_re: re.Pattern[str]
    non_official_except_re: re.Pattern[str] | None
    breaker_re: re.Pattern[str]
    courtesy_re: re.Pattern[str]
    degrees: frozenset[str]


def _by_first_token(phrases: list[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Phrases grouped by their first token, each group in the given order."""
    groups: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        groups.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(group) for first, group in groups.items()}


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
    modifiers = _alternation(_read_lines("modifiers.txt"))
    heads = _alternation(list(kinds))
    trigger_re = re.compile(
        rf"(?<!\w)(?:(?:{modifiers})\s+)*(?P<head>{heads})(?!\w)"
        rf"|(?<!\w)(?P<abbr>{_alternation(position_abbrevs)})(?!\w)",
        re.IGNORECASE,
    )
    for abbr in position_abbrevs:
        kinds[abbr.lower()] = "position"
    non_official = _read_lines("non_official_contexts.txt")
    keep = [p[1:] for p in non_official if p.startswith("!")]
    drop = [p for p in non_official if not p.startswith("!")]
    return Lexicon(
        trigger_re=trigger_re,
        kinds=kinds,
        surnames=frozenset(_read_lines("surnames.txt")),
        places=_by_first_token(
            sorted({tuple(p.split()) for p in _read_lines("places.txt")}, key=len, reverse=True)
        ),
        place_word_re=re.compile(
            rf"(?<!\w)(?:{_alternation(_read_lines('place_words.txt'))})\s*$", re.IGNORECASE
        ),
        non_official_re=re.compile(rf"(?<!\w)(?:{_alternation(drop)})(?!\w)", re.IGNORECASE),
        non_official_except_re=(
            re.compile(rf"(?<!\w)(?:{_alternation(keep)})(?!\w)", re.IGNORECASE) if keep else None
        ),
        breaker_re=re.compile(
            rf"(?<!\w)(?:{_alternation(_read_lines('position_breakers.txt'), ignorecase=False)})(?!\w)"
        ),
        courtesy_re=re.compile(
            rf"(?<!\w)(?:{_alternation(p for k, p in honorifics if k == 'courtesy')})\s*$",
            re.IGNORECASE,
        ),
        degrees=degrees,
    )


# --------------------------------------------------------------------------- pyvi
@lru_cache(maxsize=1)
def _pyvi_model():
    from pyvi import ViTokenizer  # loading the CRF takes a moment: only when needed

    return ViTokenizer.ViTokenizer


_PYVI_TOKEN = re.compile(r"\w+|[^\w\s]")


def pyvi_word_spans(text: str) -> list[tuple[int, int]]:
    """pyvi's multi-syllable words of ``text`` as character spans."""
    matches = list(_PYVI_TOKEN.finditer(text))
    if len(matches) < 2:
        return []
    model = _pyvi_model()
    labels = model.model.predict([model.sent2features([m.group(0) for m in matches], False)])[0]
    spans, start = [], 0
    for i in range(1, len(matches) + 1):
        if i == len(matches) or labels[i] != "I_W" or not matches[i].group(0)[0].isalnum():
            if i - 1 > start:
                spans.append((matches[start].start(), matches[i - 1].end()))
            start = i
    return spans


# --------------------------------------------------------------------------- mentions
@dataclass
class _Mention:
    start: int
    end: int
    tokens: list[str]
    kind: str  # "vn" full name, "foreign", "short"
    qualified: bool = False
    positions: list[str] = field(default_factory=list)
    p1: str | None = None
    place_led: bool = False  # right after "tỉnh", "huyện"...: maybe a place after all


@dataclass
class _Doc:
    original: str
    text: str  # tone-canonical, same length as original
    lex: Lexicon
    word_spans: list[tuple[int, int]]
    precomputed_from: int  # sentences from here on are covered by the caller's segmentation
    segmented: set[tuple[int, int]] = field(default_factory=set)
    _inner: set[int] | None = None

    def ensure_segmented(self, sentence: tuple[int, int]) -> None:
        """Run pyvi on one sentence (once) unless the caller gave a segmentation."""
        if sentence[0] >= self.precomputed_from or sentence in self.segmented:
            return
        self.segmented.add(sentence)
        sub = self.text[sentence[0] : sentence[1]]
        self.word_spans.extend((s + sentence[0], e + sentence[0]) for s, e in pyvi_word_spans(sub))
        self._inner = None

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
    toks = [(s, t) for s, t in toks if t and s >= covered]
    while toks and toks[-1][1] in lex.degrees:
        toks.pop()
    # Leading honorific or title written with a capital ("Ông Trần ...", "Đ/c ...").
    while toks and lex.kinds.get(_mention_key(toks[0][1])) in {"courtesy", "comrade"}:
        toks.pop(0)
    if not toks:
        return None
    before = doc.text[sentence[0] : toks[0][0]]
    addressed = _honorific_before(before, lex) in {"courtesy", "comrade", "rank"}
    words = [t for _, t in toks]
    skip = 0 if addressed else _strip_places(words, lex)
    rest = toks[skip:]
    if not rest:
        return None
    if skip and _is_abbreviation(words[skip - 1]) and len(rest) == 1:
        return None  # the tail of an organisation ("PV Gas")
    if skip == 0 and not addressed and lex.place_word_re.search(before):
        # "tỉnh Phạm Văn Chi" is a name, "huyện Lý Nhân" and "huyện Ea Kar" are places.
        if len(rest) < 3 or not all(VN_SYLLABLE_RE.fullmatch(t) for _, t in rest):
            return None
        vn = _vietnamese_name(rest, doc, sentence)
        if vn is not None:
            vn.place_led = True
        return vn
    vn = _vietnamese_name(rest, doc, sentence)
    if vn is not None:
        return vn
    return _foreign_or_short(rest, lex)


def _vietnamese_name(toks: list[tuple[int, str]], doc: _Doc, sentence: tuple[int, int]):
    for i, (start, tok) in enumerate(toks):
        n = len(toks) - i
        if n > MAX_NAME_SYLLABLES:
            continue
        tail = [t for _, t in toks[i:]]
        if not all(VN_SYLLABLE_RE.fullmatch(t) for t in tail):
            continue
        if n >= 2 and tok in doc.lex.surnames and all(_looks_vietnamese(t) for t in tail):
            if i > 0 and doc.inside_word(start, sentence):
                continue
            return _Mention(start, toks[-1][0] + len(toks[-1][1]), tail, "vn")
    return None


def _foreign_or_short(toks: list[tuple[int, str]], lex: Lexicon) -> _Mention | None:
    k = len(toks)
    while k > 0 and _is_foreign_token(toks[k - 1][1]):
        k -= 1
    foreign = toks[k:]
    names = [t for _, t in foreign]
    skip = _strip_places(names, lex)
    foreign, names = foreign[skip:], names[skip:]
    end = toks[-1][0] + len(toks[-1][1])
    if (
        names
        and len(names) <= 5
        and any(not _looks_vietnamese(t) for t in names)
        and _names_someone(names)
    ):
        return _Mention(foreign[0][0], end, names, "foreign")
    tail = toks[-2:] if len(toks) >= 2 else toks
    if all(VN_SYLLABLE_RE.fullmatch(t) for _, t in tail):
        return _Mention(tail[0][0], end, [t for _, t in tail], "short")
    return None


def _honorific_before(before: str, lex: Lexicon) -> str | None:
    """The kind of honorific or rank written right before a name, if any."""
    tail = before.rstrip()
    if len(tail) != len(before) or before == "":
        match = None
        for m in lex.trigger_re.finditer(tail[-40:]):
            match = m
        if match is not None and match.end() == len(tail[-40:]):
            kind = lex.kinds.get(_mention_key(match.group("head") or match.group("abbr") or ""))
            return kind
    return None


# --------------------------------------------------------------------------- positions
def _clean_position(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,-–—:")
    text = re.sub(r"\s+(?:là|vừa|mới)$", "", text)
    return text.strip(" ,-–—")


def _is_non_official(text: str, lex: Lexicon) -> bool:
    hit = lex.non_official_re.search(text)
    if hit is None:
        return False
    return not (lex.non_official_except_re and lex.non_official_except_re.search(text))


def _window(doc: _Doc, start: int, limit: int) -> str:
    """Up to a few words from ``start`` within the clause, for the non-official check."""
    end = start
    words = 0
    text = doc.text
    while end < limit and words < CONTEXT_WINDOW_WORDS:
        if _stops_at(text, end):
            break
        ch = text[end]
        if ch.isspace() and end > start and not text[end - 1].isspace():
            words += 1
        end += 1
    segment = text[start:end]
    brk = doc.lex.breaker_re.search(segment)
    return segment[: brk.start()] if brk else segment


def _gap_ok(gap: str, lex: Lexicon) -> bool:
    if any(_stops_at(gap, i) for i in range(len(gap))) or len(gap.split()) > MAX_GAP_WORDS:
        return False
    if gap.rstrip().endswith(","):
        return False
    return lex.breaker_re.search(_lowercase_words(gap)) is None


def _lowercase_words(text: str) -> str:
    """Only the words that start in lowercase (breakers never hide in names)."""
    return " ".join(w if w[:1].islower() else "|" for w in text.split())


def _foreign_gap_ok(gap: str) -> bool:
    """Between a title and a foreign name: a country or an office, not a clause."""
    lower = [w for w in gap.split() if w[:1].islower()]
    return len(lower) <= MAX_FOREIGN_GAP_LOWER and not (lower and lower[-1] == "của")


_APPOSITION_TAIL = re.compile(r"(?:\s+là)?\s*$")


def _p1_position(m: _Mention, triggers: list[re.Match[str]], prev_end: int, doc: _Doc):
    """The position written before the name (``Thủ tướng Chính phủ`` Phan Văn Khải)."""
    lex = doc.lex
    for trig in reversed(triggers):
        if trig.end() > m.start:
            continue
        if trig.start() < prev_end:
            return None
        kind = lex.kinds.get(_mention_key(trig.group("head") or trig.group("abbr") or ""))
        if kind == "courtesy":
            continue
        gap = doc.text[trig.end() : m.start]
        gap = lex.courtesy_re.sub("", gap)
        gap = _APPOSITION_TAIL.sub("", gap) + " "
        if gap.strip() and not _gap_ok(gap, lex):
            return None
        if m.kind == "foreign" and not _foreign_gap_ok(gap):
            return None
        if kind in {"comrade"}:
            return "" if not gap.strip() else None
        end = trig.end() + len(gap.rstrip())
        return _clean_position(doc.original[trig.start() : end])
    return None


_P2_LEAD = re.compile(r"\s*(?:,|-|–|—|\(|:)\s*(?:(?:hiện\s+là|hiện|là|nguyên\s+là)\s+)?")


def _kind(trigger: re.Match[str], lex: Lexicon) -> str | None:
    """What a trigger match is: position, rank, comrade or courtesy."""
    return lex.kinds.get(_mention_key(trigger.group("head") or trigger.group("abbr") or ""))


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
    if lead is None or lead.end() == m.end:
        return [], -1
    pos = lead.end()
    out: list[str] = []
    end = -1
    while pos in trig_at and _kind(trig_at[pos], doc.lex) in {"position", "rank"}:
        trig = trig_at[pos]
        end, nxt = _read_position(trig, trig_at, next_name, doc, sentence)
        window = _window(doc, trig.start(), sentence[1])
        if end == next_name < sentence[1] and next_takes_title:
            break  # the title belongs to the name that follows it
        text = _clean_position(doc.original[trig.start() : end])
        if text and not _is_non_official(window, doc.lex):
            out.append(text)
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
            if brk and text[i + 1].islower():
                return i, None
        i += 1
    return i, None


# --------------------------------------------------------------------------- sentences
_SENT_END = re.compile(r"[.!?…]+[\"”']?\s+|\n+")


def _sentences(text: str, triggers: list[re.Match[str]]) -> list[tuple[int, int]]:
    """Sentence spans that contain at least one trigger."""
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
    spans: list[tuple[int, int]] = []
    j = 0
    for trig in triggers:
        while j + 1 < len(bounds) and bounds[j + 1] <= trig.start():
            j += 1
        span = (bounds[j], bounds[j + 1] if j + 1 < len(bounds) else len(text))
        if not spans or spans[-1] != span:
            spans.append(span)
    return spans


# --------------------------------------------------------------------------- extraction
def extract_officials(
    title: str | None,
    body: str,
    word_spans: Sequence[tuple[int, int]] | None = None,
) -> list[Official]:
    """Officials named in an article, in order of first mention.

    ``word_spans`` may carry pyvi's multi-syllable word spans of ``body`` (character
    offsets, as ``indexer.analysis.segment_words`` returns them) when the caller has
    already segmented it; otherwise pyvi runs on the few sentences that need it.
    """
    lex = lexicon()
    head = unicodedata.normalize("NFC", title).strip() if title else ""
    prefix = head + "\n\n" if head else ""
    original = prefix + unicodedata.normalize("NFC", body or "")
    text = canonical_tones(original)
    triggers = list(lex.trigger_re.finditer(text))
    if not triggers:
        return []
    spans = [(s + len(prefix), e + len(prefix)) for s, e in word_spans or ()]
    covered = len(prefix) if word_spans is not None else len(text) + 1
    doc = _Doc(original, text, lex, spans, covered)
    mentions = []
    for sentence in _sentences(text, triggers):
        mentions.extend(_sentence_mentions(doc, sentence, triggers))
    return _merge(mentions, doc)


def _sentence_mentions(doc: _Doc, sentence: tuple[int, int], all_triggers) -> list[_Mention]:
    triggers = [t for t in all_triggers if sentence[0] <= t.start() < sentence[1]]
    trig_at = {t.start(): t for t in triggers}
    found: list[_Mention] = []
    for run in RUN_RE.finditer(doc.text, sentence[0], sentence[1]):
        covered = max((t.end() for t in triggers if t.start() <= run.start() < t.end()), default=0)
        m = _split_run(run, doc, sentence, covered)
        if m is not None and (m.kind != "short" or _addressed(doc, m.start, triggers)):
            found.append(m)
    prev_end = sentence[0]
    for idx, m in enumerate(found):
        p1 = _p1_position(m, triggers, prev_end, doc)
        if p1 is None and idx > 0 and found[idx - 1].p1:
            between = doc.lex.courtesy_re.sub("", doc.text[found[idx - 1].end : m.start])
            if re.fullmatch(r"\s*(?:và|,)\s*", between):
                p1 = found[idx - 1].p1  # "hai phó chủ tịch Quốc hội X và Y"
        m.p1 = None if p1 and _is_non_official(p1, doc.lex) else p1
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
        kind_before = _honorific_before(doc.text[sentence[0] : m.start], doc.lex)
        p2, consumed_until = _p2_positions(m, trig_at, next_name, taken, doc, sentence)
        m.positions = ([m.p1] if m.p1 else []) + p2
        m.qualified = bool(m.positions) or m.p1 == "" or kind_before in {"comrade", "rank"}
        if kind_before == "rank":
            rank = _rank_text(doc, sentence, m.start)
            if rank:
                m.positions.insert(0, rank)
    return found


def _addressed(doc: _Doc, start: int, triggers: list[re.Match[str]]) -> bool:
    """Whether a form of address or a rank is written right before ``start``."""
    for t in triggers:
        if t.end() <= start and not doc.text[t.end() : start].strip():
            kind = doc.lex.kinds.get(_mention_key(t.group("head") or t.group("abbr") or ""))
            if kind in {"courtesy", "comrade", "rank"}:
                return True
    return False


def _rank_text(doc: _Doc, sentence: tuple[int, int], start: int) -> str | None:
    before = doc.text[max(sentence[0], start - 40) : start]
    last = None
    for last in doc.lex.trigger_re.finditer(before):
        pass
    if last is None or before[last.end() :].strip():
        return None
    offset = start - len(before)
    return _clean_position(doc.original[offset + last.start() : offset + last.end()])


def _merge(mentions: list[_Mention], doc: _Doc) -> list[Official]:
    """Group mentions into officials; short mentions only attach to known names."""
    officials: dict[str, Official] = {}
    full_forms: dict[str, str] = {}
    for m in mentions:
        if m.kind in {"vn", "foreign"}:
            name = doc.original[m.start : m.end]
            full_forms.setdefault(_mention_key(name), name)
    for m in mentions:
        if not m.qualified or m.kind == "short":
            continue
        name = doc.original[m.start : m.end]
        key = _mention_key(name)
        if m.kind == "foreign" and len(m.tokens) == 1:
            longer = [f for k, f in full_forms.items() if k.endswith(" " + key)]
            if longer:
                name = max(longer, key=len)
                key = _mention_key(name)
        official = officials.setdefault(key, Official(name))
        _add_positions(official, m.positions)
    for m in mentions:
        if m.kind == "short" or (m.kind != "place" and not m.qualified):
            key = _mention_key(" ".join(m.tokens))
            match = [o for k, o in officials.items() if k == key or k.endswith(" " + key)]
            if len(match) == 1:
                _add_positions(match[0], m.positions)
    return list(officials.values())


def _add_positions(official: Official, positions: Iterable[str]) -> None:
    seen = {_mention_key(p) for p in official.positions}
    for pos in positions:
        if pos and _mention_key(pos) not in seen:
            official.positions.append(pos)
            seen.add(_mention_key(pos))
