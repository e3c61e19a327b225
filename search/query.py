"""A parsed query → one plan: what it matches (``search.matching``) and how it ranks.

``QueryBuilder.build`` turns the syntax tree into a ``QueryPlan``:

* ``match``: the boolean plan whose mask is the answer (total, facets, histogram,
  export). Syllables typed with diacritics match exactly, others in every accented form;
  phrases and codes are ``Sequence`` units; filters typed in the query are ``Filter``
  nodes, the same masks as the URL's filters; ``-`` is ``Not``.
* ``partial``: for a short query, the articles holding some but not all of its words
  (offered apart, never counted).
* ``bag`` and ``scored``: the NumPy BM25F terms that order the mask (``search.scoring``).
  Plain words rank on accent-folded syllables, the exact syllables when the user typed
  diacritics (or, for an unaccented query, the archive's likely accented form), and
  adjacent-syllable pairs (``*_pairs``), so words and phrases rank above scattered
  syllables; a pair counts for what it says beyond its syllables
  (``QueryBuilder.pair_weight``). Titles weigh more than bodies.

A short query (at most ``SHORT_QUERY_SYLLABLES`` distinct syllables) requires every
word. A long one (a pasted headline, a question) is a ranked OR of its most distinctive
syllables: an article must hold at least ``long_query_minimum`` of them; very common
syllables (``của``, ``và``) add cost, not ranking.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.analysis import (
    SYLLABLE_PATTERN,
    fold_diacritics,
    normalize_text,
)
from search import matching as m
from search.scoring import Bag, Clause, idf
from search.scoring import Term as ScoredTerm
from search.syntax import AllOf, AnyOf, FieldFilter, Not, Text, parse_query

# One weight per signal, each term scored over title and body together (a title
# occurrence weighs scoring.TITLE_WEIGHT).
BAG_WEIGHTS = {"fold": 1.0, "exact": 1.0, "pairs": 1.5}
PAIR_FLOOR = 0.3  # the least share of its weight a pair keeps (see pair_weight)
SHORT_QUERY_SYLLABLES = 6
LONG_QUERY_MIN_SHARE = 0.0  # share of a long query's kept syllables an article must hold
BOTH = ("title", "body")
FOLD = ("title_fold", "body_fold")
PAIRS = ("title_pairs", "body_pairs")
RESTORED_WEIGHT = 0.5
LONG_QUERY_MAX_TERMS = 40
COMMON_TERM_SHARE = 0.5
MIN_PRUNED_DOC_FREQ = 3000  # below this a posting list is cheap whatever its share
# A typed word with punctuation between its syllables is a code (COVID-19, 2,4%, Q.10,
# 100/2019/NĐ-CP): leading/trailing punctuation is dropped except a final %.
_EDGE_PUNCT = re.compile(r"^[\W_]+|[^\w%]+$|(?<=[^\W_])_+$")


@dataclass
class QueryPlan:
    """What ``Engine`` runs (see the module docstring)."""

    match: object | None = None  # a search.matching plan; None: no condition
    partial: object | None = None  # some of the words (short queries), never counted
    bag: Bag | None = None  # plain words, scored with NumPy (search.scoring)
    scored: list[ScoredTerm] = field(default_factory=list)  # phrases, fields, groups
    highlight: list = field(default_factory=list)  # matching units to mark in snippets
    text: str = ""
    accented: bool = False
    folded_reading: bool = False  # every syllable read without diacritics (rule 1)

    @property
    def has_text(self) -> bool:
        """Whether the query ranks (holds words); otherwise it only filters."""
        return self.bag is not None or bool(self.scored)

    @property
    def has_exact(self) -> bool:
        return m.has_exact(self.match)


DocFreq = Callable[[str, str], int]


def syllables(text: str) -> list[str]:
    """Lowercased syllables of user text, normalised like the index."""
    return [s.lower() for s in SYLLABLE_PATTERN.findall(normalize_text(text))]


def word_units(word: str) -> list[m.Unit]:
    """The units of one typed word: a syllable, or a code when punctuation joins its
    syllables (``COVID-19`` → covid ``-`` 19; ``2,4%`` → 2 ``,`` 4 then ``%``)."""
    norm = normalize_text(word).lower()
    core = _EDGE_PUNCT.sub("", norm)
    found = list(SYLLABLE_PATTERN.finditer(core))
    if len(found) < 2:
        return [m.Syllable(x.group()) for x in found]
    seps = [core[a.end() : b.start()] for a, b in itertools.pairwise(found)]
    suffix = core[found[-1].end() :]
    if any(not sep for sep in seps) or any(not re.fullmatch(r"[^\w\s]{1,2}", s) for s in seps):
        return [m.Syllable(x.group()) for x in found]  # Han runs, odd joins: plain syllables
    syls = tuple(m.Syllable(x.group()) for x in found)
    return [m.Sequence(syls, tuple(seps), "%" if suffix.strip() == "%" else "")]


def _unit_of(words: list[str], phrase: bool) -> m.Unit | None:
    syls = [m.Syllable(s) for s in syllables(" ".join(words))]
    if not syls:
        return None
    if not phrase and len(words) == 1:
        units = word_units(words[0])
        return units[0] if len(units) == 1 else m.Sequence(tuple(syls))
    return syls[0] if len(syls) == 1 else m.Sequence(tuple(syls))


def _flatten_groups(children: list) -> list:
    """Parenthesised groups spliced into their parent (pasted text uses them as punctuation)."""
    out = []
    for node in children:
        if isinstance(node, AllOf):
            out.extend(_flatten_groups(node.children))
        else:
            out.append(node)
    return out


def _and(children: list):
    children = [c for c in children if c is not None]
    if not children:
        return None
    return children[0] if len(children) == 1 else m.And(children)


class QueryBuilder:
    """Turns a syntax tree into a ``QueryPlan``, with the index's statistics at hand."""

    def __init__(
        self,
        doc_freq: DocFreq,
        doc_count: int,
        restore: Callable[[str], str | None] | None = None,
    ):
        self.doc_freq = doc_freq
        self.doc_count = max(1, doc_count)
        self.restore = restore  # the archive's accented form of an unaccented query

    def _restored_boosts(self, text: str, typed: list[str]) -> list[ScoredTerm]:
        """For a query typed without diacritics (``typed``: its folded syllables): its
        likely accented form, lightly weighted.

        The exact-syllable signal then works for ``thanh uy ha noi`` as it does for
        ``thành ủy hà nội``, without ever matching on the guess alone.
        """
        guess = self.restore(text) if self.restore else None
        if not guess:
            return []
        restored = syllables(guess)
        if [fold_diacritics(s) for s in restored] != typed:
            return []  # the guess also fixed a typo: not the same words
        return [
            ScoredTerm(BOTH, syl, BAG_WEIGHTS["exact"] * RESTORED_WEIGHT)
            for syl in dict.fromkeys(restored)
            if fold_diacritics(syl) != syl
        ]

    @staticmethod
    def _is_long(children: list) -> bool:
        """A pasted headline or a question: its quotes and brackets are punctuation.

        In a long query (more plain syllables than a search-box query has) quoted and
        parenthesised words rank like the rest (their adjacent pairs still count) but
        are not required.
        """
        plain = [
            w
            for node in children
            if isinstance(node, Text) and node.field is None
            for w in node.words
        ]
        return len(set(syllables(" ".join(plain)))) > SHORT_QUERY_SYLLABLES

    def build(self, text: str, folded_reading: bool = False) -> QueryPlan:
        """The plan of ``text``; ``folded_reading``: read every syllable without its
        diacritics (rule 1's answer when the exact reading matches nothing)."""
        if folded_reading:
            text = fold_diacritics(normalize_text(text))
        tree = parse_query(text)
        plan = QueryPlan(text=text, folded_reading=folded_reading)
        required: list = []
        excluded: list = []
        bag: list[str] = []
        children = _flatten_groups(tree.children)
        loose_phrases = self._is_long(children)
        if not loose_phrases:
            children = tree.children
        for node in children:
            plain = isinstance(node, Text) and node.field is None
            if plain and (not node.phrase or loose_phrases):
                bag.extend(node.words)
            elif isinstance(node, Not):
                expr = self._expr(node.child, plan, positive=False)
                if expr is not None:
                    excluded.append(m.Not(expr))
            else:
                expr = self._expr(node, plan, positive=True)
                if expr is not None:
                    required.append(expr)
        words = None
        if bag:
            words, any_word = self._bag(bag, plan)
            if words is not None and plan.bag.require_all and len(plan.bag.clauses) > 1:
                plan.partial = _and([any_word, *required, *excluded])
        plan.match = _and([words, *required, *excluded])
        plan.accented = m.has_exact(plan.match)
        return plan

    def _bag(self, words: list[str], plan: QueryPlan):
        """Plain words: their match (every one for a short query, at least
        ``long_query_minimum`` of the distinctive ones for a long one), the match of
        any one of them, and ``plan.bag`` for NumPy scoring."""
        text = " ".join(words)
        sequence = syllables(text)
        syls = list(dict.fromkeys(sequence))
        if not syls:
            return None, None
        short = len(syls) <= SHORT_QUERY_SYLLABLES
        kept = syls if short else self._distinctive(syls)
        accented = any(fold_diacritics(s) != s for s in syls)
        plan.bag = self._scored_bag(text, sequence, kept, short, accented)
        leaves = [m.Leaf(m.Syllable(s)) for s in kept]
        plan.highlight.extend(m.Syllable(s) for s in syls)
        if not short:
            return m.AtLeast(self.long_query_minimum(len(leaves)), leaves), None
        codes = [
            m.Leaf(unit)
            for word in words
            for unit in word_units(word)
            if isinstance(unit, m.Sequence)
        ]
        plan.highlight.extend(leaf.unit for leaf in codes)
        return _and(leaves + codes), (m.Or(leaves) if len(leaves) > 1 else None)

    @staticmethod
    def long_query_minimum(kept: int) -> int:
        """How many of a long query's ``kept`` distinctive syllables an article must hold:
        ``ceil(LONG_QUERY_MIN_SHARE × kept)``, at least one."""
        return max(1, math.ceil(LONG_QUERY_MIN_SHARE * kept))

    def _scored_bag(
        self, text: str, sequence: list[str], kept: list[str], short: bool, accented: bool
    ) -> Bag:
        """The plain words (``sequence``: the syllables of ``text``) as NumPy-scored
        clauses, with their ranking-only terms."""
        clauses = []
        for syl in kept:
            folded = fold_diacritics(syl)
            terms = [ScoredTerm(FOLD, folded, BAG_WEIGHTS["fold"])]
            if accented:
                terms.append(ScoredTerm(BOTH, syl, BAG_WEIGHTS["exact"]))
            clauses.append(Clause(terms))
        folded_seq = [fold_diacritics(s) for s in sequence]
        boosts = [] if accented else self._restored_boosts(text, folded_seq)
        pairs = sorted({(a, b) for a, b in itertools.pairwise(folded_seq) if a != b})
        boosts += [
            ScoredTerm(PAIRS, f"{a}_{b}", BAG_WEIGHTS["pairs"] * self.pair_weight(a, b))
            for a, b in pairs
        ]
        return Bag(clauses=clauses, boosts=boosts, require_all=short)

    def pair_weight(self, first: str, second: str) -> float:
        """The share of an adjacent pair's idf that its two syllables do not already say.

        ``kế hoạch`` is rare, but so is ``hoạch``, which hardly occurs without ``kế``:
        the pair adds little to its syllables and counting it fully ranked any
        article about some plan above the story the query named. ``Nga chỉ`` is rarer
        than either syllable: the pair is real proximity evidence. Weight:
        (idf(pair) - idf(rarer syllable)) / idf(pair), at least ``PAIR_FLOOR``
        (folded forms, body statistics; chosen on held-out queries: docs/benchmarks.md).
        """
        pair_idf = idf(self.doc_freq("body_pairs", f"{first}_{second}"), self.doc_count)
        rarer = max(idf(self.doc_freq("body_fold", s), self.doc_count) for s in (first, second))
        return max(PAIR_FLOOR, min(1.0, (pair_idf - rarer) / pair_idf))

    def _distinctive(self, syls: list[str]) -> list[str]:
        """The rarest syllables of a long query (common ones cost time, add little).

        A syllable typed with diacritics is judged by how rare it is *as typed*: ``dỗ``
        is rare though ``do`` (``do``, ``đó``, ``đỏ``, ``độ``…) is in most articles
        (its held-out measurement: docs/benchmarks.md).
        """
        scored = []
        for s in syls:
            folded = fold_diacritics(s)
            df = self.doc_freq("body_fold", folded)
            if df == 0 and self.doc_freq("title_fold", folded) == 0:
                continue
            if folded != s:
                df = self.doc_freq("body", s)
            scored.append((-df, s))
        scored.sort(reverse=True)  # rarest first
        limit = max(COMMON_TERM_SHARE * self.doc_count, MIN_PRUNED_DOC_FREQ)
        kept = [s for neg_df, s in scored if -neg_df <= limit][:LONG_QUERY_MAX_TERMS]
        return kept or [s for _, s in scored[:3]]

    def _expr(self, node, plan: QueryPlan, positive: bool):
        """A syntax node as a matching plan; positive words also rank and highlight."""
        if isinstance(node, Text):
            unit = _unit_of(node.words, node.phrase)
            if unit is None:
                return None
            fields = (node.field,) if node.field else BOTH
            if positive:
                plan.highlight.append(unit)
                plan.scored.extend(_unit_terms(unit, fields))
            return m.Leaf(unit, fields)
        if isinstance(node, FieldFilter):
            return m.Filter(node.field, node.value)
        if isinstance(node, Not):
            inner = self._expr(node.child, plan, positive=False)
            return m.Not(inner) if inner is not None else None
        if isinstance(node, AnyOf | AllOf):
            parts = [e for c in node.children if (e := self._expr(c, plan, positive))]
            if not parts:
                return None
            if len(parts) == 1:
                return parts[0]
            return m.Or(parts) if isinstance(node, AnyOf) else m.And(parts)
        return None


def _unit_terms(unit: m.Unit, fields: tuple[str, ...]) -> list[ScoredTerm]:
    """How a phrase, code or field-restricted word ranks: its folded syllables, the
    exact ones typed with diacritics, and its adjacent pairs (NumPy BM25F)."""
    syls = unit.syllables if isinstance(unit, m.Sequence) else (unit,)
    fold_fields = tuple(f"{f}_fold" for f in fields)
    terms = [ScoredTerm(fold_fields, s.folded, BAG_WEIGHTS["fold"]) for s in syls]
    terms += [ScoredTerm(fields, s.text, BAG_WEIGHTS["exact"]) for s in syls if s.exact]
    if isinstance(unit, m.Sequence):
        pair_fields = tuple(f"{f}_pairs" for f in fields)
        terms += [ScoredTerm(pair_fields, p, BAG_WEIGHTS["pairs"]) for p in unit.pairs()]
    return terms
