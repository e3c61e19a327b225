"""What a query matches: typed units, a boolean plan over them, and its document sets.

This is the one place that decides which articles a query holds (``docs/query-syntax.md``
states the rules). ``/search``'s total, facets and histogram, ``/export`` and the CLI all
count the mask that ``evaluate`` returns; ranking (``search.scoring``) only orders it.

* A ``Syllable`` typed with any diacritic matches only that syllable (NFC, one tone
  placement, case folded): its exact field (``title``/``body``). One typed without
  diacritics matches every accented form: the folded field (``*_fold``).
* A ``Sequence`` is a quoted phrase (adjacent syllables within one sentence) or a code
  typed as one word (``COVID-19``, ``2,4%``, ``100/2019/NĐ-CP``, ``Q.10``: those
  syllables joined by that punctuation). Its candidates come from the index (every
  adjacent pair within a sentence: more occurrences in ``*_pairs`` than in
  ``*_breaks``, the pairs across a break; and every accented syllable as typed); a
  candidate is kept when the stored text holds the sequence (``SequencePattern``),
  unless the pairs alone already say so (two syllables, no diacritics, no punctuation
  asked for).
* Filters (``official:``, ``category:``, ``source:``, ``date:``, and the same URL
  parameters) are masks from ``DocTable.filter_mask``.

Document sets are boolean NumPy arrays over document numbers, combined with ``&``/``|``.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from indexer import folding, segments
from indexer.analysis import (
    HAN,
    TONE_MARKS,
    canonical_tones,
    compat_letters,
    fold_diacritics,
    sentence_breaks,
)
from indexer.folding import prepared_text

BOTH = ("title", "body")
CONFIRMED_KEPT = 256  # confirmed sequence masks kept per snapshot (85 KB each at 85k docs)
KEPT_MASK_BYTES = 32 << 20  # term-union masks kept per snapshot, as bits (10.7 KB at 85k docs)
LONG_UNION = 8  # a union is kept when it marks more than one document in this many
COMMON_KEPT = 1_000  # syllables (each read folded and as typed) whose masks are made ahead
_HAN = re.compile(rf"[{HAN}]")
_HYPHENS = folding.HYPHENS  # (a code's separators: written by ``folding.join_terms``)
_BREAK_CHARS = re.compile(r"[.!?…\n]")


@dataclass(frozen=True)
class Syllable:
    """One typed syllable, lowercased and normalised like the index."""

    text: str

    @property
    def folded(self) -> str:
        return fold_diacritics(self.text)

    @property
    def exact(self) -> bool:
        """Typed with a diacritic (or ``đ``): it matches only itself."""
        return self.folded != self.text

    def as_folded(self) -> Syllable:
        return Syllable(self.folded)


@dataclass(frozen=True)
class Sequence:
    """Adjacent syllables: a phrase (``separators`` None: any gap within a sentence) or
    a code (``separators[i]`` joins syllable i and i + 1 exactly; ``suffix`` follows)."""

    syllables: tuple[Syllable, ...]
    separators: tuple[str, ...] | None = None
    suffix: str = ""

    @property
    def is_code(self) -> bool:
        return self.separators is not None

    def as_folded(self) -> Sequence:
        return Sequence(tuple(s.as_folded() for s in self.syllables), self.separators, self.suffix)

    def pairs(self) -> list[str]:
        """The folded adjacent pairs the index must hold (``*_pairs`` terms)."""
        folded = [s.folded for s in self.syllables]
        return list(dict.fromkeys(f"{a}_{b}" for a, b in itertools.pairwise(folded)))

    def needs_text(self, sentence_pairs: bool = True) -> bool:
        """Whether the stored text must confirm a candidate (the pairs do not say it all;
        ``sentence_pairs``: the index's pairs never cross a sentence break)."""
        return (
            not sentence_pairs
            or len(self.syllables) > 2
            or self.is_code
            or any(s.exact for s in self.syllables)
        )


Unit = Syllable | Sequence


# --------------------------------------------------------------------------- the plan
@dataclass
class Leaf:
    """A unit looked for in ``fields`` (``title``/``body``: either one holds it)."""

    unit: Unit
    fields: tuple[str, ...] = BOTH


@dataclass
class Filter:
    """``field`` (official, category, source, date) equal to ``value``, as a mask."""

    field: str
    value: str


@dataclass
class And:
    children: list = field(default_factory=list)


@dataclass
class Or:
    children: list = field(default_factory=list)


@dataclass
class Not:
    child: object


@dataclass
class AtLeast:
    """At least ``count`` of ``children`` (a long query's words)."""

    count: int
    children: list = field(default_factory=list)


Expr = Leaf | Filter | And | Or | Not | AtLeast


def units_of(expr) -> Iterator[Unit]:
    """The positive units of ``expr`` (what highlighting marks)."""
    if isinstance(expr, Leaf):
        yield expr.unit
    elif isinstance(expr, And | Or | AtLeast):
        for child in expr.children:
            yield from units_of(child)


def fold_expr(expr):
    """``expr`` with every syllable read without its diacritics (rule 1's fallback)."""
    if isinstance(expr, Leaf):
        return Leaf(expr.unit.as_folded(), expr.fields)
    if isinstance(expr, Not):
        return Not(fold_expr(expr.child))
    if isinstance(expr, AtLeast):
        return AtLeast(expr.count, [fold_expr(c) for c in expr.children])
    if isinstance(expr, And | Or):
        return type(expr)([fold_expr(c) for c in expr.children])
    return expr


def has_exact(expr) -> bool:
    """Whether any syllable of ``expr`` (positive or excluded) was typed with diacritics."""
    if isinstance(expr, Leaf):
        unit = expr.unit
        syls = unit.syllables if isinstance(unit, Sequence) else (unit,)
        return any(s.exact for s in syls)
    if isinstance(expr, Not):
        return has_exact(expr.child)
    if isinstance(expr, And | Or | AtLeast):
        return any(has_exact(c) for c in expr.children)
    return False


# --------------------------------------------------------------------------- evaluation
# (field, term) → (live document numbers ascending, term frequencies)
Postings = Callable[[str, str], tuple[np.ndarray, np.ndarray]]
Stored = Callable[[int], dict]  # document number → stored fields
FilterMask = Callable[[str, str], np.ndarray]


class DocSets:
    """Evaluates a plan to a boolean mask over document numbers (live documents only)."""

    def __init__(
        self,
        live: np.ndarray,
        postings: Postings,
        stored: Stored,
        filters: FilterMask,
        confirmed: OrderedDict | None = None,
        sentence_pairs: bool = True,
        term_masks: Callable[[str, str], np.ndarray] | None = None,
        code_joins: bool = False,
    ):
        """``confirmed``: sequences already checked against the stored text, kept by the
        caller for one index snapshot ((unit, field) → mask; at most ``CONFIRMED_KEPT``).
        ``sentence_pairs``: ``indexer.schema.sentence_aware_pairs`` of the index.
        ``term_masks``: (field, term) → the live documents holding it as a read-only
        mask (``TermMasks``); None: scattered from ``postings``. ``code_joins``:
        ``indexer.schema.code_joins`` of the index (its ``*_joins`` fields find codes)."""
        self.live = live
        self.size = live.size
        self._postings = postings
        self._term_masks = term_masks
        self._stored = stored
        self._filters = filters
        self._memo: dict = {}
        self._read: dict = {}  # document number → stored fields, for this query
        self._confirmed = OrderedDict() if confirmed is None else confirmed
        self._sentence_pairs = sentence_pairs
        self._code_joins = code_joins

    def mask(self, expr) -> np.ndarray:
        """Live documents matching ``expr``."""
        if isinstance(expr, Leaf):
            return self._leaf(expr)
        if isinstance(expr, Filter):
            return self._filters(expr.field, expr.value) & self.live
        if isinstance(expr, Not):
            return self.live & ~self.mask(expr.child)
        if isinstance(expr, And):
            if not expr.children:
                return self.live.copy()
            out = self.mask(expr.children[0])  # every mask returned is a new array
            for child in expr.children[1:]:
                out &= self.mask(child)
            return out
        if isinstance(expr, Or):
            out = np.zeros(self.size, dtype=bool)
            for child in expr.children:
                out |= self.mask(child)
            return out
        if isinstance(expr, AtLeast):
            counts = np.zeros(self.size, dtype=np.int16)
            for child in expr.children:
                counts += self.mask(child)
            return (counts >= max(1, expr.count)) & self.live
        raise TypeError(f"not a plan node: {expr!r}")

    def _term(self, fieldname: str, term: str) -> np.ndarray:
        key = (fieldname, term)
        if key not in self._memo:
            if self._term_masks is not None:
                out = self._term_masks(fieldname, term)
            else:
                out = np.zeros(self.size, dtype=bool)
                out[self._postings(fieldname, term)[0]] = True
            self._memo[key] = out
        return self._memo[key]

    def syllable_mask(self, syl: Syllable, fieldname: str) -> np.ndarray:
        """Documents holding ``syl`` (by rule 1) in ``fieldname`` (title or body)."""
        return self._term(*self._syllable_key(syl, fieldname))

    def _within_sentences(self, fieldname: str, pair: str) -> np.ndarray:
        """Documents holding the folded ``pair`` inside one sentence of ``fieldname``: more
        occurrences in ``*_pairs`` (all) than in ``*_breaks`` (across a break)."""
        if not self._sentence_pairs:
            return self._term(f"{fieldname}_pairs", pair)
        ids, tfs = self._postings(f"{fieldname}_pairs", pair)
        crossing = np.zeros(self.size, dtype=np.float32)
        cross_ids, cross_tfs = self._postings(f"{fieldname}_breaks", pair)
        crossing[cross_ids] = cross_tfs
        out = np.zeros(self.size, dtype=bool)
        out[ids[tfs > crossing[ids]]] = True
        return out

    def _syllable_key(self, syl: Syllable, fieldname: str) -> tuple[str, str]:
        """The (field, term) that holds ``syl`` by rule 1 in ``fieldname``."""
        return (fieldname, syl.text) if syl.exact else (f"{fieldname}_fold", syl.folded)

    def _leaf(self, leaf: Leaf) -> np.ndarray:
        unit = leaf.unit
        if isinstance(unit, Syllable) and self._term_masks is not None:
            return self._term_masks.any_of([self._syllable_key(unit, f) for f in leaf.fields])
        out = np.zeros(self.size, dtype=bool)
        for fieldname in leaf.fields:
            if isinstance(unit, Syllable):
                out |= self.syllable_mask(unit, fieldname)
            else:
                out |= self._sequence(unit, fieldname)
        return out & self.live

    def _sequence(self, seq: Sequence, fieldname: str) -> np.ndarray:
        cand = self.live.copy()
        for pair in seq.pairs():
            cand &= self._within_sentences(fieldname, pair)
        for syl in seq.syllables:
            cand &= self.syllable_mask(syl, fieldname)
        if not seq.needs_text(self._sentence_pairs) or not cand.any():
            return cand
        if self._code_joins and seq.is_code:
            terms, decided = code_join_terms(seq)
            for term in terms:  # each one the text must hold (``join_terms``)
                cand &= self._term(f"{fieldname}_joins", term)
            if decided or not cand.any():
                return cand
        key = (seq, fieldname)
        known = self._confirmed.get(key)
        if known is not None:
            self._confirmed.move_to_end(key)
            return known
        pattern = pattern_for(seq)
        for doc in np.flatnonzero(cand):
            stored = self._read.get(doc)
            if stored is None:  # read once for both fields
                stored = self._read[doc] = self._stored(int(doc))
            text = stored.get(fieldname) or ""
            if not pattern.found_in(text):
                cand[doc] = False
        self._confirmed[key] = cand
        while len(self._confirmed) > CONFIRMED_KEPT:
            self._confirmed.popitem(last=False)
        return cand


class TermMasks:
    """The live documents holding a term in a field, as a boolean mask over document
    numbers, for one snapshot: each segment's part scattered straight from its mapped
    posting arrays (``indexer.segments.mapped_postings``: nothing copied, nothing
    decoded); a term they do not hold (rare terms, segments without arrays) from
    ``postings``. Masks are read-only.

    The masks of long unions (a common syllable in the title or the body) are kept as
    bits, at most ``kept_bytes`` of them, the least recently used dropped first: the
    search box asks again for the same syllables on every keystroke, and unpacking
    ``N`` bits costs a tenth of scattering tens of thousands of postings."""

    def __init__(
        self, reader, live: np.ndarray, postings: Postings, kept_bytes: int = KEPT_MASK_BYTES
    ):
        self.live = live
        self.all_live = bool(live.all())
        self._postings = postings
        self._segments = [
            (leaf, offset, leaf.doc_count_all()) for leaf, offset in reader.leaf_readers()
        ]
        self.kept_bytes = kept_bytes
        self._kept: OrderedDict[tuple, np.ndarray] = OrderedDict()  # keys → packed bits
        self._kept_size = 0  # bytes of ``_kept``'s bits
        self._lock = threading.Lock()

    def __call__(self, fieldname: str, term: str) -> np.ndarray:
        out = self.any_of([(fieldname, term)])
        out.flags.writeable = False
        return out

    def any_of(self, keys: list[tuple[str, str]]) -> np.ndarray:
        """The live documents holding any of the (field, term) ``keys`` (a new mask)."""
        size = self.live.size
        key = tuple(keys)
        with self._lock:
            bits = self._kept.get(key)
            if bits is not None:
                self._kept.move_to_end(key)
        if bits is not None:
            return np.unpackbits(bits, count=size).view(bool)
        out = np.zeros(size, dtype=bool)
        deleted = False  # whether deleted documents may be marked
        scattered = 0
        for fieldname, term in keys:
            found, marked = self._scatter(out, fieldname, term)
            deleted |= found
            scattered += marked
        if deleted and not self.all_live:
            out &= self.live
        if scattered * LONG_UNION > size:  # worth keeping
            self._keep(key, np.packbits(out))
        return out

    def keep_common(self, count: int = COMMON_KEPT) -> int:
        """Compute ahead the masks of the ``count`` syllables most documents of the
        largest segment hold, read without diacritics and as typed (a syllable leaf's
        title-or-body union), within ``kept_bytes``; returns how many were kept. Reads
        only the mapped arrays (no Whoosh file: safe beside the request threads), for a
        background thread at snapshot open; a term some segment's arrays lack is left
        to the query."""
        size = self.live.size
        if not self._segments:
            return 0
        leaf, _, _ = max(self._segments, key=lambda part: part[2])
        mapped = segments.arrays_for(leaf)
        if mapped is None:
            return 0
        room = self.kept_bytes // (size // 8 + 1) // 2  # masks per kind, within the budget
        kept = 0
        for fields in (("title_fold", "body_fold"), ("title", "body")):
            rows = mapped.rows(fields[1])
            if not rows:
                continue
            counts = mapped.arrays["counts"][rows.start : rows.stop].astype(np.int64)
            for at in np.argsort(-counts, kind="stable")[: min(count, room)]:
                if int(counts[at]) * LONG_UNION <= leaf.doc_count_all():
                    break  # short lists scatter fast
                text = mapped.key(rows.start + int(at)).decode("utf-8")
                union = tuple((f, text) for f in fields)
                with self._lock:
                    if union in self._kept:
                        continue
                out = np.zeros(size, dtype=bool)
                for fieldname, term in union:
                    for part, offset, n in self._segments:
                        view = segments.mapped_postings(part, fieldname, term)
                        if view is None:
                            break
                        out[offset : offset + n][view[0]] = True
                    else:
                        continue
                    break
                else:
                    if not self.all_live:
                        out &= self.live
                    self._keep(union, np.packbits(out))
                    kept += 1
        return kept

    def kept_size(self) -> int:
        """Bytes of the masks kept (at most ``kept_bytes``)."""
        return self._kept_size

    def _keep(self, key: tuple, bits: np.ndarray) -> None:
        with self._lock:
            old = self._kept.pop(key, None)
            self._kept_size -= 0 if old is None else old.nbytes
            self._kept[key] = bits
            self._kept_size += bits.nbytes
            while self._kept and self._kept_size > self.kept_bytes:
                self._kept_size -= self._kept.popitem(last=False)[1].nbytes

    def _scatter(self, out: np.ndarray, fieldname: str, term: str) -> tuple[bool, int]:
        """Mark the term's documents in ``out``: (whether deleted ones may be among them,
        as read from the mapped arrays, which hold them; how many were marked)."""
        views = []
        for leaf, offset, count in self._segments:
            view = segments.mapped_postings(leaf, fieldname, term)
            if view is None:
                ids = self._postings(fieldname, term)[0]
                out[ids] = True
                return False, int(ids.size)
            views.append((offset, count, view[0]))
        marked = 0
        for offset, count, ids in views:
            if ids.size:
                out[offset : offset + count][ids] = True
                marked += int(ids.size)
        return True, marked


# --------------------------------------------------------------------------- text
_LETTER_FOLDS = folding.LETTER_FOLDS
_FOLD_CODES = folding.FOLD_CODES
_HAN_RANGES = folding.HAN_RANGES


def _as_typed(lower_span: str, syl: Syllable) -> bool:
    """Whether a syllable found folded is spelled as ``syl`` was typed (tones placed as
    the index places them: ``normalize_text``; ``syl.text`` is already so placed)."""
    return lower_span == syl.text or canonical_tones(lower_span) == syl.text


def _blocks(ch: str) -> bool:
    """A letter or digit other than Han (``[^\\W_]`` but not Han): what may not touch a
    syllable on either side (Han characters are syllables of their own)."""
    return ch.isalnum() and _HAN.match(ch) is None


def _whole(folded: str, start: int, end: int) -> bool:
    """Whether ``folded[start:end]`` is a whole syllable: nothing that ``_blocks``
    touches it. Checked after the search: a character class holding the Han ranges
    costs milliseconds to compile, and every query compiles its own patterns."""
    return not (start and _blocks(folded[start - 1])) and not (
        end < len(folded) and _blocks(folded[end])
    )


def _syllable_regex(syl: Syllable, index: int) -> str:
    """A syllable in folded text (``prepared_text``); one typed with diacritics is
    checked as typed afterwards, and one not Han that it is whole (``_whole``)."""
    return f"(?P<s{index}>{re.escape(syl.folded)})"


def _separator_regex(sep: str) -> str:
    """A typed ``/`` or dash matches either (``28/5`` = ``28-5``, ``NĐ-CP`` = ``NĐ–CP``);
    other punctuation matches itself."""
    if sep in _HYPHENS or sep == "/":
        return f"[{_HYPHENS}/]"  # the leading "-" is literal
    return re.escape(sep)


class SequencePattern:
    """Finds a unit in a text by the rules of the module docstring.

    Runs on the folded text (``prepared_text``), checks each syllable typed with
    diacritics on its span, then that no phrase gap crosses a sentence break.
    """

    def __init__(self, unit: Unit):
        seq = unit if isinstance(unit, Sequence) else Sequence((unit,))
        self.seq = seq
        parts = [_syllable_regex(seq.syllables[0], 0)]
        for i, syl in enumerate(seq.syllables[1:], 1):
            if seq.is_code:
                parts.append(f"(?P<g{i}>{_separator_regex(seq.separators[i - 1])})")
            else:
                parts.append(f"(?P<g{i}>[\\W_]*?)")
            parts.append(_syllable_regex(syl, i))
        if seq.suffix:
            parts.append(r"\s?" + re.escape(seq.suffix))
        self.regex = re.compile("".join(parts))
        self.exact = [(f"s{i}", syl) for i, syl in enumerate(seq.syllables) if syl.exact]
        self.whole = [f"s{i}" for i, s in enumerate(seq.syllables) if not _HAN.fullmatch(s.text)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each occurrence in ``text`` (offsets into ``normalize_text(text)``).

        Occurrences do not overlap, leftmost first (``re.finditer``'s order). At each
        start the pattern can match one way only (gaps and separators hold no letter or
        digit), so a span whose syllables are not whole or not spelled as typed is no
        occurrence and the search goes on from its next character, as one regex holding
        those conditions would.
        """
        lower, folded, _ = prepared_text(text)
        seq, out, breaks = self.seq, [], None
        pos = 0
        while (m := self.regex.search(folded, pos)) is not None:
            if not all(_whole(folded, m.start(g), m.end(g)) for g in self.whole) or not all(
                _as_typed(lower[m.start(g) : m.end(g)], syl) for g, syl in self.exact
            ):
                pos = m.start() + 1
                continue
            pos = m.end()
            if not seq.is_code and len(seq.syllables) > 1:
                gaps = [m.span(f"g{i}") for i in range(1, len(seq.syllables))]
                if any(_BREAK_CHARS.search(lower, a, b) for a, b in gaps):
                    if breaks is None:
                        breaks = sentence_breaks(compat_letters(unicodedata.normalize("NFC", text)))
                    if any(a <= b_ < b for a, b in gaps for b_ in breaks):
                        continue
            out.append(m.span())
        return out

    def found_in(self, text: str) -> bool:
        return bool(self.spans(text))


def code_join_terms(seq: Sequence) -> tuple[list[str], bool]:
    """The ``*_joins`` terms (``indexer.folding.join_terms``) that a text holding the
    code ``seq`` holds: one for each two neighbouring syllables whose folded forms are
    ASCII letters and digits and whose separator a term can write; and whether they
    decide it (two such syllables, neither typed with diacritics, no suffix), so that
    its documents are those holding the term, as ``SequencePattern`` would find them
    in the stored text: the same whole runs of the same folded reading, joined by a
    separator its regex takes."""
    terms = []
    syls = seq.syllables
    for (a, b), sep in zip(itertools.pairwise(syls), seq.separators, strict=True):
        joiner = folding.join_separator(sep)
        if joiner is not None and _ASCII_RUN.fullmatch(a.folded) and _ASCII_RUN.fullmatch(b.folded):
            terms.append(f"{a.folded}{joiner}{b.folded}")
    decided = len(syls) == 2 and len(terms) == 1 and not seq.suffix
    return terms, decided and not any(s.exact for s in syls)


_ASCII_RUN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1024)
def pattern_for(unit: Unit) -> SequencePattern:
    """The compiled ``SequencePattern`` of ``unit`` (units are immutable)."""
    return SequencePattern(unit)


@lru_cache(maxsize=256)
def _syllables_regex(folded: frozenset[str]) -> tuple[re.Pattern | None, re.Pattern | None]:
    """(whole non-Han syllables among ``folded``, to search the ``latin`` text; Han
    ones, to search the folded text), longest first."""
    han = sorted(f for f in folded if _HAN.fullmatch(f))
    other = sorted((f for f in folded if not _HAN.fullmatch(f)), key=lambda f: (-len(f), f))
    words = "|".join(re.escape(f) for f in other)
    return (
        re.compile(rf"(?<![^\W_])(?:{words})(?![^\W_])") if other else None,
        re.compile("|".join(re.escape(f) for f in han)) if han else None,
    )


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def _word_class(ch: str) -> int:
    r"""The byte that stands for ``ch`` (a character of a ``lower`` text) in a
    ``ScanText.words`` text: its folded letter (``_LETTER_FOLDS``) when that is an ASCII
    letter or digit; ``_`` (an ASCII word character that no syllable holds) for any other
    letter or digit (``[^\W_]``) but Han; a space for Han characters (syllables of their
    own, they join no neighbour), the underscore and everything else."""
    if _HAN.match(ch):
        return 32
    base = _LETTER_FOLDS.get(ord(ch), ch)
    if base.isascii() and base.isalnum():
        return ord(base)
    return 95 if base.isalnum() else 32


@lru_cache(maxsize=1)
def _bmp_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code point of the Basic Multilingual Plane, computed for all at once on first
    use: whether ``compat_letters`` changes it; its ``_word_class``; and the
    ``_word_class`` of its lowercase, or 0 where that is not one character of the plane
    or ``compat_letters`` changes it (such a text is read character by character)."""
    codes = np.arange(0x10000, dtype=np.uint32)
    chars = [chr(c) for c in range(0x10000)]
    compat = np.fromiter(map(str.__ne__, map(compat_letters, chars), chars), bool, codes.size)
    alnum = np.fromiter(map(str.isalnum, chars), bool, codes.size)
    base = codes.copy()
    base[: _FOLD_CODES.size] = _FOLD_CODES
    han = np.zeros(codes.size, dtype=bool)
    for first, last in _HAN_RANGES[_HAN_RANGES[:, 0] < codes.size]:
        han[first : last + 1] = True
    words = np.where(alnum[base], np.where(base < 128, base, 95), 32)
    words[han] = 32
    words = words.astype(np.uint8)
    lower = np.array([ord(low) if len(low) == 1 else -1 for low in map(str.lower, chars)])
    single = (lower >= 0) & (lower < codes.size)
    any_case = np.where(single & ~compat, words[np.where(single, lower, 0)], 0).astype(np.uint8)
    return compat, words, any_case


# ``\\w`` in a ``ScanText.words`` text: ASCII letters, digits and ``_``
_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[list(b"abcdefghijklmnopqrstuvwxyz0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZ")] = True


@lru_cache(maxsize=1)
def _lower_codes() -> np.ndarray:
    """Per code point of the Basic Multilingual Plane, that of its lowercase where that
    is one character (else 0): ``str.lower`` of a span of letters that fold to ASCII."""
    lowered = (chr(code).lower() for code in range(0x10000))
    return np.fromiter((ord(low) if len(low) == 1 else 0 for low in lowered), np.uint32, 0x10000)


@dataclass(frozen=True)
class ScanText:
    r"""A text prepared for ``syllable_span_arrays``. ``normal``: NFC with look-alikes
    replaced (``compat_letters``), as ``prepared_text`` reads it, and of the length of
    its lowercase (so offsets into either are offsets into both); ``words``: one byte per
    character of that lowercase (``_word_class``), where a syllable folded to
    ``[a-z0-9]+`` occurs at the offsets where it occurs in ``prepared_text``'s ``latin``
    text, and is whole there (no letter or digit but Han on either side:
    ``(?<![^\W_])…(?![^\W_])``) exactly where ``\b`` holds on both sides. A span's
    spelling is ``normal[a:b].lower()`` (lowercasing a span of letters that fold to
    ASCII needs no context)."""

    normal: str
    words: bytes


@lru_cache(maxsize=64)
def scan_text(text: str) -> ScanText | None:
    """``text`` as a ``ScanText``, through the code-point tables (``_bmp_tables``) when
    every character is in them; None when lowercasing changes its length (then only
    ``prepared_text``'s reading holds)."""
    nfc = unicodedata.normalize("NFC", text)
    try:
        codes = np.frombuffer(nfc.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:  # lone surrogates
        return None
    _, _, any_case = _bmp_tables()
    if codes.size and codes.max() < 0x10000:
        words = any_case[codes]
        if words.all():  # 0: a character the table does not hold
            return ScanText(nfc, words.tobytes())
    normal = compat_letters(nfc)
    if len(normal.lower()) != len(normal):
        return None
    return ScanText(normal, _word_bytes(prepared_text(text)[2]))


def _word_bytes(latin: str) -> bytes:
    """``ScanText.words`` from a ``latin`` text (``prepared_text``), character by character."""
    table: dict[str, int] = {}
    out = bytearray(len(latin))
    for i, ch in enumerate(latin):
        byte = table.get(ch)
        if byte is None:
            byte = table[ch] = 32 if ch == " " else _word_class(ch)
        out[i] = byte
    return bytes(out)


def _spellings(syl: Syllable) -> set[str] | None:
    """Every spelling that ``_as_typed`` accepts for ``syl`` among the strings that
    fold to ``syl.folded``; None when that set is not so enumerated (more than one
    tone mark).

    ``canonical_tones`` only moves a tone mark within a word that holds exactly one, so
    a span placed as ``syl.text`` holds that mark on the same toneless letters: the
    spellings are ``syl.text`` and its toneless letters with the mark on each other
    letter, kept when ``_as_typed`` accepts them (a test checks this against every
    spelling that folds to the syllable)."""
    text = syl.text
    nfd = unicodedata.normalize("NFD", text)
    marks = [ch for ch in nfd if ch in TONE_MARKS]
    if len(marks) > 1:
        return None
    found = {text}
    if marks:
        toneless = unicodedata.normalize("NFC", nfd.replace(marks[0], ""))
        for p in range(len(toneless)):
            placed = toneless[:p] + unicodedata.normalize("NFC", toneless[p] + marks[0])
            placed += toneless[p + 1 :]
            if _as_typed(placed, syl):
                found.add(placed)
    return found


@lru_cache(maxsize=256)
def _ascii_plan(syls: tuple[Syllable, ...]) -> tuple[tuple[bytes, ...], dict] | None:
    """For ``scan_spans``: the syllables' distinct folded forms (each ``[a-z0-9]+``) and,
    for each that only some spellings match, those spellings (``_spellings``) of its
    length as rows of code points (a ``(k, len)`` array); None when a folded form is not
    ``[a-z0-9]+`` (Han, other scripts) or its spellings are not enumerated."""
    by_fold: dict[str, set[str] | None] = {}  # None: any spelling will do
    for syl in syls:
        if not _ASCII_WORD.fullmatch(syl.folded):
            return None
        spelled = by_fold.setdefault(syl.folded, set())
        if spelled is None:
            continue
        if not syl.exact:
            by_fold[syl.folded] = None
            continue
        accepted = _spellings(syl)
        if accepted is None:
            return None
        spelled |= accepted
    exact = {}
    for fold, spelled in by_fold.items():
        if spelled is not None:  # a span of the fold's length can only equal these
            rows = sorted(w for w in spelled if len(w) == len(fold))
            codes = [[ord(ch) for ch in w] for w in rows]
            exact[fold.encode("ascii")] = np.array(codes, dtype=np.uint32).reshape(-1, len(fold))
    return tuple(f.encode("ascii") for f in sorted(by_fold)), exact


_NO_SPANS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def syllable_span_arrays(text: str, syls) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of every occurrence of any of ``syls`` in ``text``, by start:
    ``syllable_spans`` as arrays. Syllables whose folded forms are ASCII words are found
    by one ``split`` of the ``_word_bytes`` text (``scan_spans``); other cases take
    ``syllable_spans``."""
    syls = tuple(syls)
    if not syls:
        return _NO_SPANS
    plan = _ascii_plan(syls)
    if plan is None:
        return _as_arrays(syllable_spans(text, syls))
    scan = scan_text(text)
    if scan is None:
        return _as_arrays(syllable_spans(text, syls))
    return scan_spans(scan, plan)


def scan_spans(scan: ScanText, plan) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends), by start, of the syllables of ``plan`` (``_ascii_plan``) in
    ``scan``: where a folded form's bytes stand in ``scan.words`` as a whole word (no
    word byte, ``\\w``, on either side), those typed with diacritics kept where the
    span, lowercased, is one of the accepted spellings. Array operations over the
    words' first bytes, one folded form at a time."""
    folds, exact = plan
    words = np.frombuffer(scan.words, dtype=np.uint8)
    if not words.size:
        return _NO_SPANS
    inword = np.zeros(words.size + 1, dtype=bool)  # one past the end: no word byte
    inword[:-1] = _WORD_BYTE[words]
    heads = np.flatnonzero(inword[1:-1] > inword[:-2]) + 1  # a word byte after another
    if inword[0]:
        heads = np.concatenate(([0], heads))
    firsts = words[heads]
    found, lengths = [], []
    codes = None
    for fold in folds:
        width = len(fold)
        at = heads[firsts == fold[0]]
        at = at[at + width <= words.size]
        for i in range(1, width):
            at = at[words[at + i] == fold[i]]
        at = at[~inword[at + width]]
        spelled = exact.get(fold)
        if spelled is not None and at.size:
            if codes is None:
                normal = scan.normal.encode("utf-32-le", "surrogatepass")
                codes = np.minimum(np.frombuffer(normal, dtype=np.uint32), np.uint32(0xFFFF))
            lower = _lower_codes()[codes[at[:, None] + np.arange(width)]]
            at = at[(lower[:, None, :] == spelled[None, :, :]).all(axis=2).any(axis=1)]
        found.append(at)
        lengths.append(np.full(at.size, width, dtype=np.int64))
    starts = np.concatenate(found)
    if not starts.size:
        return _NO_SPANS
    order = np.argsort(starts, kind="stable")
    starts = starts[order].astype(np.int64)
    return starts, starts + np.concatenate(lengths)[order]


def ascii_plan(syls) -> tuple[re.Pattern, dict[bytes, set[str]]] | None:
    """``_ascii_plan`` of some syllables (None: ``scan_spans`` cannot find them)."""
    syls = tuple(syls)
    return _ascii_plan(syls) if syls else None


def joined_scan(texts: list[str]) -> tuple[ScanText, np.ndarray, np.ndarray]:
    """The texts' ``scan_text`` readings joined by line breaks: (scan, bases, read).
    Text k's offsets are ``bases[k]`` on in ``scan`` (its NFC text is
    ``scan.normal[bases[k] : bases[k + 1] - 1]``, then a line break); ``read[k]``:
    whether ``scan_text`` reads it through the code-point tables, as here (what is
    found in a text not so read means nothing).

    A line break is no letter or digit, so a syllable found whole in the joined words is
    found whole, at the same offset less the base, in its own text's ``scan_text``."""
    normals = [unicodedata.normalize("NFC", text) for text in texts]
    read = np.ones(len(texts), dtype=bool)
    encoded = []
    for k, nfc in enumerate(normals):
        try:
            encoded.append(nfc.encode("utf-32-le"))
        except UnicodeEncodeError:  # lone surrogates
            encoded.append(b" \0\0\0" * len(nfc))
            read[k] = False
    bases = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(nfc) + 1 for nfc in normals], out=bases[1:])
    codes = np.frombuffer("\n".encode("utf-32-le").join(encoded), dtype=np.uint32)
    _, _, any_case = _bmp_tables()
    words = any_case[np.minimum(codes, np.uint32(0xFFFF))]
    unread = (words == 0) | (codes > 0xFFFF)
    if unread.any():  # a character the tables do not hold
        read[np.unique(np.searchsorted(bases, np.flatnonzero(unread), side="right") - 1)] = False
    return ScanText("\n".join(normals), words.tobytes()), bases, read


def _as_arrays(spans) -> tuple[np.ndarray, np.ndarray]:
    ordered = sorted(spans)
    starts = np.array([a for a, _ in ordered], dtype=np.int64)
    ends = np.array([b for _, b in ordered], dtype=np.int64)
    return starts, ends


def syllable_spans(text: str, syls) -> set[tuple[int, int]]:
    """The spans of every occurrence of any of ``syls`` in ``text``: the union of their
    ``SequencePattern.spans``, in one pass over the text (whole syllables do not
    overlap, so each is found where it starts)."""
    by_fold: dict[str, list[Syllable] | None] = {}  # None: any spelling will do
    for syl in syls:
        spelled = by_fold.setdefault(syl.folded, [])
        if spelled is not None:
            by_fold[syl.folded] = spelled + [syl] if syl.exact else None
    if not by_fold:
        return set()
    lower, folded, latin = prepared_text(text)
    words, han = _syllables_regex(frozenset(by_fold))
    out = set()
    if words is not None:
        for m in words.finditer(latin):
            a, b = m.span()
            spelled = by_fold[m.group()]
            if spelled is None or any(_as_typed(lower[a:b], syl) for syl in spelled):
                out.add((a, b))
    if han is not None:
        out.update(m.span() for m in han.finditer(folded))
    return out
