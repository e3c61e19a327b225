"""A parsed query → a Whoosh query, analysed exactly as the index was.

Matching runs on accent-folded syllables (``title_fold``/``body_fold``), so
``thanh uy ha noi`` finds ``Thành ủy Hà Nội``. Ranking adds, on top of BM25F:

* exact-diacritic syllables (``title``/``body``) when the user typed diacritics, and
  for short queries the documents holding every marked syllable as typed form a first
  tier (``QueryPlan.tiers``), so ``đường`` ranks above ``dương`` however the
  scores fall;
* adjacent-syllable pairs (``*_pairs``), so words and phrases rank above scattered
  syllables. A two-syllable pyvi word is such a pair and a longer one a chain of them,
  so pyvi's words are not scored again (measured: scoring them too cost nDCG
  everywhere); a pair counts for what it says beyond its syllables
  (``QueryBuilder.pair_weight``);
* title fields weigh more than body fields.

Short queries require every word (``And``) and relax to ``Or`` when that finds nothing;
long queries (natural-language questions, headlines) are an ``Or`` of their most
distinctive syllables: very common syllables (``của``, ``và``) add cost, not ranking.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq

from indexer.analysis import (
    SYLLABLE_PATTERN,
    fold_diacritics,
    has_diacritics,
    normalize_text,
)
from search.scoring import Bag, Clause, idf
from search.scoring import Term as ScoredTerm
from search.syntax import AllOf, AnyOf, FieldFilter, Not, Text, parse_query

# Plain words (the NumPy BM25F of search.scoring): one weight per signal, each term
# scored over title and body together (a title occurrence weighs scoring.TITLE_WEIGHT).
BAG_WEIGHTS = {"fold": 1.0, "exact": 1.0, "pairs": 1.5}
PAIR_FLOOR = 0.3  # the least share of its weight a pair keeps (see pair_weight)
WEIGHTS = {  # Whoosh queries (phrases, fields), tuned on 150 queries of each eval set
    "title_fold": 0.3,
    "body_fold": 1.0,
    "title": 0.3,
    "body": 1.0,
    "title_near": 0.5,
    "body_near": 2.0,
}
SHORT_QUERY_SYLLABLES = 6
BOTH = ("title", "body")
FOLD = ("title_fold", "body_fold")
PAIRS = ("title_pairs", "body_pairs")
RESTORED_WEIGHT = 0.5
LONG_QUERY_MAX_TERMS = 40
COMMON_TERM_SHARE = 0.5
MIN_PRUNED_DOC_FREQ = 3000  # below this a posting list is cheap whatever its share


@dataclass
class QueryPlan:
    """What ``Engine`` runs: the strict query, its relaxed form, and what to highlight."""

    query: wq.Query | None
    relaxed: wq.Query | None = None
    highlight: set[str] = field(default_factory=set)  # folded syllables
    exact: set[str] = field(default_factory=set)  # exact syllables (accented queries)
    bag: Bag | None = None  # plain words, scored with NumPy (search.scoring)
    rest: wq.Query | None = None  # everything but the plain words (phrases, exclusions…)
    filters: list[wq.Query] = field(default_factory=list)
    text: str = ""
    accented: bool = False

    @property
    def has_text(self) -> bool:
        return self.query is not None


Resolver = Callable[[str, str], wq.Query | None]
DocFreq = Callable[[str, str], int]


def syllables(text: str) -> list[str]:
    """Lowercased syllables of user text, normalised like the index."""
    return [s.lower() for s in SYLLABLE_PATTERN.findall(normalize_text(text))]


def _syllable_clause(syl: str, accented: bool, fields: tuple[str, ...]) -> wq.Query:
    folded = fold_diacritics(syl)
    parts = [wq.Term(f"{f}_fold", folded, boost=WEIGHTS[f"{f}_fold"]) for f in fields]
    if accented:
        parts += [wq.Term(f, syl, boost=WEIGHTS[f]) for f in fields]
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _phrase_clause(syls: list[str], accented: bool, fields: tuple[str, ...]) -> wq.Query:
    """Quoted words: every adjacent pair present (``*_pairs``), in the title or the body.

    The index keeps no positions (reading them cost 3× the time of every posting list);
    a phrase is its chain of adjacent syllable pairs, which for two or three syllables is
    the phrase itself and beyond that almost always is.
    """
    folded = [fold_diacritics(s) for s in syls]
    pairs = list(dict.fromkeys(f"{a}_{b}" for a, b in itertools.pairwise(folded)))
    per_field = []
    for f in fields:
        terms = [wq.Term(f"{f}_pairs", p, boost=WEIGHTS[f"{f}_near"]) for p in pairs]
        per_field.append(terms[0] if len(terms) == 1 else wq.And(terms))
    match = per_field[0] if len(per_field) == 1 else wq.Or(per_field)
    scored = [wq.Term(f"{f}_fold", s, boost=WEIGHTS[f"{f}_fold"]) for s in folded for f in fields]
    if accented:
        scored += [wq.Term(f, s, boost=WEIGHTS[f]) for s in syls for f in fields]
    return wq.AndMaybe(match, wq.Or(scored))


def _flatten_groups(children: list) -> list:
    """Parenthesised groups spliced into their parent (pasted text uses them as punctuation)."""
    out = []
    for node in children:
        if isinstance(node, AllOf):
            out.extend(_flatten_groups(node.children))
        else:
            out.append(node)
    return out


class QueryBuilder:
    """Turns a syntax tree into Whoosh queries, with the index's statistics at hand."""

    def __init__(
        self,
        doc_freq: DocFreq,
        doc_count: int,
        resolve: Resolver,
        restore: Callable[[str], str | None] | None = None,
    ):
        self.doc_freq = doc_freq
        self.doc_count = max(1, doc_count)
        self.resolve = resolve
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

    def build(self, text: str) -> QueryPlan:
        tree = parse_query(text)
        plan = QueryPlan(query=None, text=text, accented=has_diacritics(text))
        positives: list[wq.Query] = []
        negatives: list[wq.Query] = []
        bag: list[Text] = []
        children = _flatten_groups(tree.children)
        loose_phrases = self._is_long(children)
        if not loose_phrases:
            children = tree.children
        for node in children:
            plain = isinstance(node, Text) and node.field is None
            if plain and (not node.phrase or loose_phrases):
                bag.append(node)
            elif isinstance(node, Not):
                q = self._node(node.child, plan, highlight=False)
                if q is not None:
                    negatives.append(q)
            elif isinstance(node, FieldFilter):
                q = self._filter(node)
                if q is not None:
                    plan.filters.append(q)
            else:
                q = self._node(node, plan)
                if q is not None:
                    positives.append(q)
        strict = relaxed = None
        if bag:
            strict, relaxed = self._bag(" ".join(w for t in bag for w in t.words), plan)
        plan.query = self._combine(strict, positives, negatives)
        if plan.bag is not None:
            plan.rest = self._combine(None, positives, negatives)
        if relaxed is not None:
            plan.relaxed = self._combine(relaxed, positives, negatives)
        return plan

    # ----------------------------------------------------------------- pieces
    @staticmethod
    def _combine(bag, positives, negatives):
        required = ([bag] if bag is not None else []) + positives
        if not required and not negatives:
            return None
        query = required[0] if len(required) == 1 else wq.And(required) if required else wq.Every()
        if negatives:
            query = wq.AndNot(query, negatives[0] if len(negatives) == 1 else wq.Or(negatives))
        return query

    def _bag(self, text: str, plan: QueryPlan) -> tuple[wq.Query | None, wq.Query | None]:
        """Plain words: ``plan.bag`` for NumPy scoring, and the same match as Whoosh queries.

        Returns (strict, relaxed): every syllable for a short query (any of them when
        relaxed), any of its distinctive syllables for a long one.
        """
        sequence = syllables(text)
        syls = list(dict.fromkeys(sequence))
        if not syls:
            return None, None
        plan.highlight.update(fold_diacritics(s) for s in syls)
        if plan.accented:
            plan.exact.update(syls)
        short = len(syls) <= SHORT_QUERY_SYLLABLES
        kept = syls if short else self._distinctive(syls)
        plan.bag = self._scored_bag(text, sequence, kept, short, plan.accented)
        clauses = [_syllable_clause(s, plan.accented, BOTH) for s in kept]
        if len(clauses) == 1:
            return clauses[0], None
        if short:
            return wq.And(clauses), wq.Or(clauses)
        return wq.Or(clauses), None

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
        marked = [s for s in kept if fold_diacritics(s) != s] if accented else []
        return Bag(
            clauses=clauses,
            boosts=boosts,
            as_typed=[[ScoredTerm(BOTH, s, 1.0)] for s in marked],
            require_all=short,
        )

    def pair_weight(self, first: str, second: str) -> float:
        """The share of an adjacent pair's idf that its two syllables do not already say.

        ``kế hoạch`` is rare, but so is ``hoạch``, which hardly occurs without ``kế``:
        the pair adds little to its syllables and counting it fully ranked any
        article about some plan above the story the query named. ``Nga chỉ`` is rarer
        than either syllable: the pair is real proximity evidence. Weight:
        (idf(pair) - idf(rarer syllable)) / idf(pair), at least ``PAIR_FLOOR``
        (folded forms, body statistics). Measured on held-out queries: vims headlines
        0.873 → 0.882 (150–300) and 0.898 → 0.911 (300–953), every set up.
        """
        pair_idf = idf(self.doc_freq("body_pairs", f"{first}_{second}"), self.doc_count)
        rarer = max(idf(self.doc_freq("body_fold", s), self.doc_count) for s in (first, second))
        return max(PAIR_FLOOR, min(1.0, (pair_idf - rarer) / pair_idf))

    def _distinctive(self, syls: list[str]) -> list[str]:
        """The rarest syllables of a long query (common ones cost time, add little).

        A syllable typed with diacritics is judged by how rare it is *as typed*: ``dỗ``
        is rare though ``do`` (``do``, ``đó``, ``đỏ``, ``độ``…) is in most articles.
        Measured on held-out vims headlines 150–300: 0.882 → 0.894.
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

    def _node(self, node, plan: QueryPlan, highlight: bool = True) -> wq.Query | None:
        if isinstance(node, Text):
            syls = syllables(" ".join(node.words))
            if not syls:
                return None
            fields = (node.field,) if node.field else ("title", "body")
            if highlight:
                plan.highlight.update(fold_diacritics(s) for s in syls)
                if plan.accented:
                    plan.exact.update(syls)
            if len(syls) == 1:
                return _syllable_clause(syls[0], plan.accented, fields)
            return _phrase_clause(syls, plan.accented, fields)
        if isinstance(node, FieldFilter):
            return self._filter(node)
        if isinstance(node, Not):
            inner = self._node(node.child, plan, highlight=False)
            return wq.AndNot(wq.Every(), inner) if inner is not None else None
        if isinstance(node, AnyOf | AllOf):
            parts = [q for child in node.children if (q := self._node(child, plan, highlight))]
            if not parts:
                return None
            if len(parts) == 1:
                return parts[0]
            return wq.Or(parts) if isinstance(node, AnyOf) else wq.And(parts)
        return None

    def _filter(self, node: FieldFilter) -> wq.Query | None:
        return self.resolve(node.field, node.value)
