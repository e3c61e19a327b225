"""The query language: user text → a small syntax tree. Never raises on user input.

    thành ủy hà nội            words (all required for short queries)
    "đại hội đảng"             a phrase
    -covid  -"giá xăng"        exclusion
    bão OR lũ                  either
    giáo dục OR thể thao       OR binds whole pyvi words: (giáo dục) OR (thể thao)
    (bão OR lũ) miền trung     grouping
    title:đại hội  title:"…"   restrict a word, phrase or group to the title (also body:)
    official:"nguyen lan huong"  category:"Thế giới"  source:vnexpress
    date:2020  date:2020-06  date:2020-01-01..2020-06-30  date:2020..  date:..2019

Bad syntax degrades to plain words: an unclosed quote or parenthesis is closed at the
end, a stray ``)`` or operator is ignored, and control characters are dropped.

Vietnamese words are often two or three syllables (``giáo dục``), and users type them
unquoted. Around ``OR``, the run of bare words on each side is segmented with pyvi and
the operand is the pyvi word touching the ``OR`` (a phrase of its syllables), so
``giáo dục OR thể thao`` means ``"giáo dục" OR "thể thao"``, not
``giáo (dục OR thể) thao``. The other words of the runs stay plain required words.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field

from indexer.analysis import drop_invisible, normalize_text, segment_words
from search.dates import parse_range

TEXT_FIELDS = {"title", "body"}
FILTER_FIELDS = {"official", "category", "date", "source"}
FIELD_ALIASES = {"tieude": "title", "tiêu_đề": "title", "noidung": "body", "quan_chuc": "official"}
MAX_DEPTH = 8
DATE_SYNTAX = (
    "use date:YYYY, date:YYYY-MM, date:YYYY-MM-DD or a range such as date:2020-01..2020-06"
)


@dataclass
class Text:
    """Words the user typed; ``phrase`` when they were quoted."""

    words: list[str]
    phrase: bool = False
    field: str | None = None  # None (title and body), "title" or "body"
    # a word typed unquoted on its own: it may join its neighbours around an OR
    bare: bool = dataclasses.field(default=False, compare=False, repr=False)


@dataclass
class FieldFilter:
    """``official:``, ``category:``, ``date:`` or ``source:`` inside the query."""

    field: str
    value: str


@dataclass
class Not:
    child: object


@dataclass
class AnyOf:
    children: list = field(default_factory=list)


@dataclass
class AllOf:
    children: list = field(default_factory=list)


Node = Text | FieldFilter | Not | AnyOf | AllOf

# control characters, and lone surrogates (what a command line's undecodable bytes become)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")
_TOKEN = re.compile(
    r'\s+|(?P<lp>\()|(?P<rp>\))|(?P<field>[^\W\d][\w]*):(?=["\w(.])'
    r'|(?P<neg>-)(?=["(\w])|(?P<quote>"[^"]*"?)|(?P<word>[^\s()"]+)'
)
_OR = {("word", "OR"), ("word", "|")}
_AND = {("word", "AND"), ("word", "&&"), ("word", "+")}
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})


def clean_input(text: str) -> str:
    """Invisible characters dropped (as in articles), NFC, typographic quotes to ``"``,
    control characters and lone surrogates to spaces."""
    text = unicodedata.normalize("NFC", drop_invisible(text or "")).translate(_QUOTES)
    return _CONTROL.sub(" ", text)


def _lex(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue
        value = m.group(kind)
        if kind == "quote":
            closed = len(value) >= 2 and value.endswith('"')
            value = value[1:-1] if closed else value[1:]
        tokens.append((kind, value))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def sequence(self, depth: int) -> AllOf:
        """Items until a closing parenthesis (consumed by the caller) or the end."""
        items: list = []
        while (tok := self.peek()) is not None:
            if tok[0] == "rp":
                if depth > 0:
                    break
                self.take()  # a stray ')' at the top level is ignored
                continue
            if tok in _OR:
                self.take()
                if items and (right := self.or_operand(depth)) is not None:
                    left = _take_left_operand(items)
                    children = left.children if isinstance(left, AnyOf) else [left]
                    items.append(AnyOf(children + [right]))
                continue
            if tok in _AND:
                self.take()
                continue
            node = self.unary(depth)
            if node is not None:
                items.append(node)
        return AllOf(items)

    def or_operand(self, depth: int):
        """The operand right of an OR: the first pyvi word of the bare words that follow."""
        run = 0
        while self.i + run < len(self.tokens) and _is_bare_word(self.tokens[self.i + run]):
            run += 1
        if run > 1:
            words = [value for _, value in self.tokens[self.i : self.i + run]]
            length = _first_word_length(words)
            if length > 1:
                self.i += length
                return Text(words[:length], phrase=True)
        return self.unary(depth)

    def unary(self, depth: int):
        tok = self.peek()
        if tok is None:
            return None
        if tok[0] == "neg":
            self.take()
            child = self.atom(depth)
            return Not(child) if child is not None else None
        return self.atom(depth)

    def atom(self, depth: int):
        tok = self.peek()
        if tok is None:
            return None
        kind, value = self.take()
        if kind == "lp":
            if depth >= MAX_DEPTH:
                return None
            inner = self.sequence(depth + 1)
            if self.peek() is not None and self.peek()[0] == "rp":
                self.take()
            return inner if inner.children else None
        if kind == "field":
            nxt = self.peek()
            if nxt is None or nxt[0] == "field":  # ``a:b:c``: no nesting of prefixes
                return Text([value])
            name = FIELD_ALIASES.get(value.lower(), value.lower())
            target = self.atom(depth)
            if name in TEXT_FIELDS | FILTER_FIELDS:
                if target is None:  # ``title:""``, ``title:()``: nothing to scope
                    return None
                scoped = _with_field(target, name)
                if scoped is not None:
                    return scoped
            # unknown field: keep the words, including the prefix itself
            return Text([value] + free_words(target))
        if kind == "quote":
            words = value.split()
            return Text(words, phrase=len(words) > 1) if words else None
        if kind == "word":
            if value.endswith(":") and _field_name(value[:-1]) is not None:
                return None  # ``đại hội title:``: a prefix with nothing after it
            return Text([value], bare=True)
        return None  # a stray ')' inside a group is handled by sequence


def _field_name(prefix: str) -> str | None:
    """The field a typed prefix names (``title``, ``tieude`` → ``title``), else None."""
    name = FIELD_ALIASES.get(prefix.lower(), prefix.lower())
    return name if name in TEXT_FIELDS | FILTER_FIELDS else None


def _is_bare_word(tok: tuple[str, str]) -> bool:
    return tok[0] == "word" and tok not in _OR and tok not in _AND


def _is_bare_text(node) -> bool:
    return isinstance(node, Text) and node.bare and len(node.words) == 1


def _word_spans(words: list[str]) -> list[tuple[int, int]]:
    """pyvi words of ``words`` (typed separately) as (first, last) word indices.

    pyvi is case sensitive and knows proper nouns by their capitals, so the words are
    also segmented capitalised: ``châu âu OR châu phi`` then reads as
    ``Châu Âu OR Châu Phi``. Spans found as typed come first.
    """
    starts, ends, pos = {}, {}, 0
    for index, word in enumerate(words):
        starts[pos] = index
        ends[pos + len(word)] = index
        pos += len(word) + 1
    spans: list[tuple[int, int]] = []
    for text in (" ".join(words), " ".join(w[:1].upper() + w[1:] for w in words)):
        for a, b in segment_words(normalize_text(text)):
            span = (starts.get(a), ends.get(b))
            if None not in span and span[1] > span[0] and span not in spans:
                spans.append(span)
    return spans


def _first_word_length(words: list[str]) -> int:
    """How many of ``words`` make up the pyvi word that starts them (1 if none)."""
    for first, last in _word_spans(words):
        if first == 0:
            return last + 1
    return 1


def _take_left_operand(items: list):
    """Pop the operand left of an OR: the pyvi word that ends the trailing bare words."""
    run = 0
    while run < len(items) and _is_bare_text(items[-1 - run]):
        run += 1
    if run > 1:
        words = [node.words[0] for node in items[-run:]]
        for first, last in _word_spans(words):
            if last == run - 1:
                del items[len(items) - run + first :]
                return Text(words[first:], phrase=True)
    return items.pop()


def _with_field(node, name: str):
    """``name:`` applied to a parsed atom or group; None when it cannot apply."""
    if isinstance(node, FieldFilter):
        return node  # the inner prefix wins
    if isinstance(node, Text):
        if name in TEXT_FIELDS:
            node.field = node.field or name
            node.bare = False
            return node
        return FieldFilter(name, " ".join(node.words)) if node.words else None
    if isinstance(node, Not):
        child = _with_field(node.child, name)
        return Not(child) if child is not None else None
    if (
        isinstance(node, AllOf)
        and name in FILTER_FIELDS
        and node.children
        and all(isinstance(c, Text) for c in node.children)
    ):
        return FieldFilter(name, " ".join(w for c in node.children for w in c.words))
    if isinstance(node, AllOf | AnyOf):
        children = [c for c in (_with_field(c, name) for c in node.children) if c is not None]
        return type(node)(children) if children else None
    return None


def parse_query(text: str) -> AllOf:
    """Parse user text; anything unparseable becomes plain words."""
    return _Parser(_lex(clean_input(text))).sequence(0)


def free_words(node) -> list[str]:
    """All positive words of the tree (for snippets, did-you-mean and suggestions)."""
    if isinstance(node, Text):
        return list(node.words)
    if isinstance(node, AllOf | AnyOf):
        return [w for child in node.children for w in free_words(child)]
    return []


def unreadable_date(text: str) -> str | None:
    """The first ``date:`` value of the query ``text`` that is not a date or a range
    (``date:2020-13``, ``date:2021..2020``, ``date:abc``), else None. Such a filter would
    match nothing (negated, everything), so callers refuse the query instead."""
    if "date:" not in text.lower():
        return None
    stack: list = [parse_query(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldFilter) and node.field == "date":
            try:
                parse_range(node.value)
            except ValueError:
                return node.value
        elif isinstance(node, Not):
            stack.append(node.child)
        elif isinstance(node, AllOf | AnyOf):
            stack.extend(node.children)
    return None
