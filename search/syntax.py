"""The query language: user text → a small syntax tree. Never raises on user input.

    thành ủy hà nội            words (all required for short queries)
    "đại hội đảng"             a phrase
    -covid  -"giá xăng"        exclusion
    bão OR lũ                  either
    (bão OR lũ) miền trung     grouping
    title:đại hội  title:"…"   restrict a word or phrase to the title (also body:)
    official:"nguyen lan huong"  category:"Thế giới"  source:vnexpress
    date:2020  date:2020-06  date:2020-01-01..2020-06-30  date:2020..  date:..2019

Bad syntax degrades to plain words: an unclosed quote or parenthesis is closed at the
end, a stray ``)`` or operator is ignored, and control characters are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

TEXT_FIELDS = {"title", "body"}
FILTER_FIELDS = {"official", "category", "date", "source"}
FIELD_ALIASES = {"tieude": "title", "tiêu_đề": "title", "noidung": "body", "quan_chuc": "official"}
MAX_DEPTH = 8


@dataclass
class Text:
    """Words the user typed; ``phrase`` when they were quoted."""

    words: list[str]
    phrase: bool = False
    field: str | None = None  # None (title and body), "title" or "body"


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

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_TOKEN = re.compile(
    r'\s+|(?P<lp>\()|(?P<rp>\))|(?P<field>[^\W\d][\w]*):(?=["\w(.])'
    r'|(?P<neg>-)(?=["(\w])|(?P<quote>"[^"]*"?)|(?P<word>[^\s()"]+)'
)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})


def clean_input(text: str) -> str:
    """NFC, typographic quotes to ``"``, control characters to spaces."""
    text = unicodedata.normalize("NFC", text or "").translate(_QUOTES)
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
            if tok == ("word", "OR") or tok == ("word", "|"):
                self.take()
                if items and (nxt := self.unary(depth)) is not None:
                    prev = items.pop()
                    children = prev.children if isinstance(prev, AnyOf) else [prev]
                    items.append(AnyOf(children + [nxt]))
                continue
            if tok in {("word", "AND"), ("word", "&&"), ("word", "+")}:
                self.take()
                continue
            node = self.unary(depth)
            if node is not None:
                items.append(node)
        return AllOf(items)

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
            name = FIELD_ALIASES.get(value.lower(), value.lower())
            target = self.atom(depth) if self.peek() is not None else None
            if name in TEXT_FIELDS and isinstance(target, Text):
                target.field = name
                return target
            if name in FILTER_FIELDS and isinstance(target, Text) and target.words:
                return FieldFilter(name, " ".join(target.words))
            # unknown field: keep the words, including the prefix itself
            words = [value] + (target.words if isinstance(target, Text) else [])
            return Text(words)
        if kind == "quote":
            words = value.split()
            return Text(words, phrase=len(words) > 1) if words else None
        if kind == "word":
            return Text([value])
        return None  # a stray ')' inside a group is handled by sequence


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
