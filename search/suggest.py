"""Autocomplete for the search box: titles, officials and frequent phrases of the archive.

Typed text matches the start of a suggestion syllable by syllable, with or without
diacritics (``thanh u`` → ``thành ủy …``): every typed syllable but the last must be a
whole syllable, the last one is a prefix. Titles and officials' names also match from
any of their syllables (``bong da`` → ``Giải bóng đá …``), after those that start with
what was typed. Suggestions come best first, each with its kind: ``phrase`` (the most
frequent pyvi words and 2–4-syllable n-grams of titles), ``official`` (the
``officials`` lexicon) and ``title`` (at most a few, each with its article's ``id``).

Typed with diacritics, the suggestions that match as typed (`as_typed`: rule 1 of
docs/query-syntax.md, the syllable still being typed keeping the marks typed so far)
come first, phrases, officials and titles alike; then those matching only without
diacritics (``bão`` lists the title about *bão số 3* before *báo cáo*).

The structure is built once per index snapshot (``Snapshot.suggester()``): entries are
kept in lists sorted by their accent-folded key, so a prefix is a ``bisect`` range, with
NumPy weight arrays to pick the heaviest of a range; a second ordering by the accented
key finds the entries spelled as typed, and a scan of a range's heaviest entries the
forms a prefix cannot (``đa`` → ``đại``).
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer import segments, store
from indexer.analysis import SYLLABLE_PATTERN, fold_diacritics, normalize_text
from search.spelling import lexicon_stats

DEFAULT_LIMIT = 8
MAX_LIMIT = 20
MAX_QUERY_CHARS = 200
TITLE_MAX = 3  # titles are long: a few of them at most
MAX_PHRASES = 60_000
MAX_NGRAM = 5
MAX_KEY_CHARS = 80  # title keys are truncated (a longer prefix is checked in full)
EXTENSION_SHARE = 0.8  # drop "bệnh viện bạch" when "bệnh viện bạch mai" is almost always it
OFFICIAL_WEIGHT = 2.0
WORD_WEIGHT = 1.2
SINGLE_WEIGHT = 0.5  # a lone word (``mỹ``) ranks below phrases of the same frequency
SINGLE_MIN_COUNT = 5  # …and must be this many times more frequent than a phrase
SINGLE_MIN_SHARE = 0.6  # …and stand alone in at least this share of its occurrences
CACHE_SIZE = 4096
SCAN_BUDGET = 2000  # heaviest folded matches checked for forms matching as typed
SCAN_FIRST = 64  # …the first few of them first
BODY_ONLY_WEIGHT = 0.01  # below any title phrase (title counts are at least 1)
BODY_MIN_DF = 5
TITLE_TRIM = " -–—•*>"
KINDS = ("phrase", "official", "title")
# how a suggestion matches what was typed with diacritics, best first: spelled as typed
# (its accented key starts so), as typed by rule 1 (`as_typed`), only without diacritics
TIERS = SPELLED, AS_TYPED, LOOSE = 0, 1, 2
PHRASE, OFFICIAL, TITLE = 0, 1, 2
# function words that do not start or end a phrase ("của các", "giá xăng tại")
EDGE_STOPWORDS = frozenset(
    [
        "của",
        "và",
        "các",
        "những",
        "có",
        "là",
        "được",
        "cho",
        "với",
        "trong",
        "đã",
        "sẽ",
        "đang",
        "để",
        "từ",
        "tại",
        "về",
        "theo",
        "khi",
        "này",
        "một",
        "thì",
        "mà",
        "như",
        "nhưng",
        "bị",
        "vì",
        "nên",
        "hay",
        "hoặc",
        "cũng",
        "rất",
        "lại",
        "ở",
        "đó",
        "nhiều",
        "ông",
        "bà",
        "anh",
        "chị",
        "vừa",
        "nay",
        "sáng",
        "chiều",
        "tối",
        "qua",
        "hôm",
        "tới",
        "phải",
        "gì",
        "nào",
        "ai",
        "sao",
        "thế",
        "bằng",
        "còn",
        "chỉ",
        "đều",
    ]
)
_BREAK = r"[,.;:!?()\[\]{}\"“”‘’'«»…|/\\–—]+|\s-\s"
_CLAUSE_END = ""  # findall gives "" for a clause break: the one token with id -1
_TOKENS = re.compile(rf"({SYLLABLE_PATTERN.pattern})|(?:{_BREAK})")


# --------------------------------------------------------------------------- keys
def typed_key(text: str) -> tuple[str, bool]:
    """(accented key, complete) of what was typed: lowercased syllables joined by spaces.

    ``complete`` is True when the text ends after a finished syllable (a space or
    punctuation follows it); then the key ends with a space.
    """
    norm = normalize_text(text).lower()
    sylls = SYLLABLE_PATTERN.findall(norm)
    if not sylls:
        return "", False
    complete = SYLLABLE_PATTERN.fullmatch(norm[-1]) is None
    return " ".join(sylls) + (" " if complete else ""), complete


def entry_key(text: str) -> str:
    """The accented key of a suggestion (lowercased syllables joined by spaces)."""
    return " ".join(SYLLABLE_PATTERN.findall(normalize_text(text).lower()))


_TONE_MARKS = {"\u0300": 1, "\u0301": 2, "\u0303": 3, "\u0309": 4, "\u0323": 5}


@lru_cache(maxsize=1 << 16)
def shape_and_tone(syllable: str) -> tuple[str, int]:
    """A lowercased NFC syllable as (its letters without the tone mark, the tone: 0 for
    none, 1–5 for huyền, sắc, ngã, hỏi, nặng); ``â ă ê ô ơ ư đ`` keep their marks:
    ``hoàng`` → (``hoang``, 1), ``nguyễn`` → (``nguyên``, 3)."""
    tone, letters = 0, []
    for ch in unicodedata.normalize("NFD", syllable):
        mark = _TONE_MARKS.get(ch)
        if mark:
            tone = mark
        else:
            letters.append(ch)
    return unicodedata.normalize("NFC", "".join(letters)), tone


def as_typed(typed: list[str], complete: bool, syllables: list[str], start: int = 0) -> bool:
    """Whether ``syllables[start:]`` begin with the ``typed`` syllables read by rule 1 of
    docs/query-syntax.md, given that they match without diacritics: a syllable typed
    with diacritics is that syllable, one typed without any is every form. The last
    one, still being typed (``complete`` False), keeps the marks typed so far: its
    letters with their marks start the syllable's, and a tone, once typed, is its tone
    wherever it sits (``đa`` → ``đại``, ``hòa`` → ``hoàng``, ``bã`` → ``bão``; not
    ``bão`` → ``báo``)."""
    if start + len(typed) > len(syllables):
        return False
    last = len(typed) - 1
    for i, syllable in enumerate(typed):
        if fold_diacritics(syllable) == syllable:
            continue
        candidate = syllables[start + i]
        if i < last or complete:
            if candidate != syllable:
                return False
            continue
        shape, tone = shape_and_tone(syllable)
        cand_shape, cand_tone = shape_and_tone(candidate)
        if not cand_shape.startswith(shape) or (tone and tone != cand_tone):
            return False
    return True


# --------------------------------------------------------------------------- ranges
@dataclass
class _Entries:
    """Entries sorted by folded key, with an ordering by accented key beside."""

    keys: list[str]  # accented keys, in folded-key order
    weights: np.ndarray  # float64, same order
    exact_order: np.ndarray  # int32 positions sorted by accented key

    @classmethod
    def build(cls, keys: list[str], weights: list[float]) -> tuple[_Entries, np.ndarray]:
        """Sort; returns the entries and the permutation applied (to align payloads)."""
        order = sorted(range(len(keys)), key=lambda i: (fold_diacritics(keys[i]), keys[i]))
        perm = np.asarray(order, dtype=np.int64)
        sorted_keys = [keys[i] for i in order]
        exact = sorted(range(len(sorted_keys)), key=sorted_keys.__getitem__)
        return (
            cls(
                sorted_keys,
                np.asarray(weights, dtype=np.float64)[perm] if keys else np.zeros(0),
                np.asarray(exact, dtype=np.int32),
            ),
            perm,
        )

    def folded_range(self, prefix: str) -> tuple[int, int]:
        lo = bisect_left(self.keys, prefix, key=fold_diacritics)
        hi = bisect_left(self.keys, prefix + "\uffff", lo, key=fold_diacritics)
        return lo, hi

    def exact_positions(self, prefix: str) -> np.ndarray:
        keys, order = self.keys, self.exact_order
        lo = bisect_left(order, prefix, key=lambda i: keys[i])
        hi = bisect_left(order, prefix + "\uffff", lo, key=lambda i: keys[i])
        return order[lo:hi]

    def heaviest_first(self, lo: int, hi: int, budget: int) -> list[int]:
        """Positions of ``[lo, hi)``, heaviest first, at most ``budget`` of them."""
        if hi <= lo:
            return []
        weights = self.weights[lo:hi]
        if weights.size > budget:
            picked = np.argpartition(-weights, budget - 1)[:budget]
        else:
            picked = np.arange(weights.size)
        picked = picked[np.lexsort((picked, -weights[picked]))]
        return (picked + lo).tolist()

    def top(self, positions: np.ndarray | tuple[int, int], k: int) -> list[int]:
        """The ``k`` heaviest positions (of an array, or of a (lo, hi) range), heaviest first."""
        if isinstance(positions, tuple):
            lo, hi = positions
            if hi <= lo:
                return []
            weights = self.weights[lo:hi]
            offset = lo
            index = None
        else:
            if positions.size == 0:
                return []
            weights = self.weights[positions]
            offset = 0
            index = positions
        if weights.size > k:
            picked = np.argpartition(-weights, k - 1)[:k]
        else:
            picked = np.arange(weights.size)
        picked = picked[np.lexsort((picked, -weights[picked]))]
        if index is not None:
            return [int(index[i]) for i in picked]
        return [int(i) + offset for i in picked]


class _Infix:
    """Entries found from any of their syllables: ``bong da`` in ``giải bóng đá …``.

    Entries are numbered heaviest first; each folded syllable keeps the ascending
    numbers of the entries holding it (one CSR array), so the first numbers of a list
    are its heaviest entries. Typed whole syllables intersect their lists; a final
    prefix takes the union over the syllables it starts. Candidates are checked in
    weight order for the typed syllables in a row, at a syllable boundary.
    """

    SCAN_BUDGET = 4000  # candidates checked at most (the heaviest ones)
    PREFIX_HEAD = 64  # entries taken from each syllable a lone prefix starts

    def __init__(self, keys: list[str], weights: list[float]):
        order = sorted(range(len(keys)), key=lambda i: -weights[i])
        self.perm = np.asarray(order, dtype=np.int64)  # entry number → original position
        self.keys = [" " + keys[i] + " " for i in order]  # accented, padded by spaces
        self.folded = [fold_diacritics(k) for k in self.keys]
        lists: dict[str, list[int]] = {}
        for n, fkey in enumerate(self.folded):
            for syllable in set(fkey.split()):
                lists.setdefault(syllable, []).append(n)
        self.vocab = sorted(lists)
        self.slot = {s: i for i, s in enumerate(self.vocab)}
        sizes = np.asarray([len(lists[s]) for s in self.vocab], dtype=np.int64)
        self.indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        flat = [n for s in self.vocab for n in lists[s]]
        self.entries = np.asarray(flat, dtype=np.int32)

    def _list(self, syllable: str) -> np.ndarray:
        i = self.slot.get(syllable)
        if i is None:
            return self.entries[:0]
        return self.entries[self.indptr[i] : self.indptr[i + 1]]

    def _prefix_union(self, prefix: str, head: int) -> np.ndarray:
        """The first ``head`` entries of every syllable starting with ``prefix``, merged."""
        lo = bisect_left(self.vocab, prefix)
        hi = bisect_left(self.vocab, prefix + "\uffff", lo)
        if hi <= lo:
            return self.entries[:0]
        parts = [
            self.entries[self.indptr[i] : min(self.indptr[i + 1], self.indptr[i] + head)]
            for i in range(lo, hi)
        ]
        return np.unique(np.concatenate(parts))

    def find(self, key: str, folded: str, accented: bool, k: int) -> list[int]:
        """Original positions of up to ``k`` entries holding the typed syllables in a row,
        tier by tier (`find_tiers`), each tier by weight."""
        return [p for tier in self.find_tiers(key, folded, accented, k) for p in tier][:k]

    def find_tiers(self, key: str, folded: str, accented: bool, k: int) -> list[list[int]]:
        """`find`'s entries in `TIERS`: spelled as typed, matching as typed (`as_typed`),
        matching only without diacritics (typed without any: all in the last)."""
        tiers: list[list[int]] = [[], [], []]
        words = folded.split()
        if not words:
            return tiers
        complete = folded.endswith(" ")
        whole = words if complete else words[:-1]
        cands = None
        for syllable in sorted(whole, key=lambda s: len(self._list(s))):
            found = self._list(syllable)
            cands = found if cands is None else np.intersect1d(cands, found, assume_unique=True)
            if cands.size == 0:
                return tiers
        if cands is None:  # one unfinished syllable: every entry of the union holds it
            cands = self._prefix_union(words[-1], self.PREFIX_HEAD)
        needle = " " + " ".join(words) + (" " if complete else "")
        spelled = " " + key.strip() + (" " if complete else "")
        typed = key.split()
        for n in cands[: self.SCAN_BUDGET].tolist():
            at = self.folded[n].find(needle)
            if at < 0:
                continue
            tier = LOOSE
            while accented and at >= 0 and tier != SPELLED:  # folding keeps offsets
                if self.keys[n].startswith(spelled, at):
                    tier = SPELLED
                elif tier == LOOSE:
                    start = self.keys[n].count(" ", 0, at)  # the syllable it starts at
                    tier = (
                        AS_TYPED
                        if as_typed(typed, complete, self.keys[n].split(), start)
                        else LOOSE
                    )
                at = self.folded[n].find(needle, at + 1)
            tiers[tier].append(n)
            if len(tiers[tier]) >= k or len(tiers[SPELLED]) + len(tiers[AS_TYPED]) >= k:
                break  # enough, heaviest first
        left = k
        for tier in tiers:
            del tier[max(left, 0) :]
            left -= len(tier)
        return [[int(self.perm[n]) for n in tier] for tier in tiers]


# --------------------------------------------------------------------------- suggester
class Suggester:
    """Prefix completion over one snapshot's phrases, officials and titles."""

    def __init__(
        self,
        terms: _Entries,
        term_texts: list[str],
        term_kinds: np.ndarray,
        titles: _Entries,
        title_docs: np.ndarray,
        stored_title,
        build_seconds: float = 0.0,
        title_infix: tuple[_Infix, np.ndarray] | None = None,
        official_infix: tuple[_Infix, list[str]] | None = None,
    ):
        """``stored_title(docnum)`` gives (title, id); an infix pair is the index and,
        by original position, the docnum of each title / the text of each official."""
        self.terms = terms
        self.term_texts = term_texts
        self.term_kinds = term_kinds
        self.titles = titles
        self.title_docs = title_docs
        self.title_infix = title_infix
        self.official_infix = official_infix
        self._stored_title = stored_title
        self.build_seconds = build_seconds
        self._cache: OrderedDict[tuple[str, int], list[dict]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.terms.keys) + len(self.titles.keys)

    def suggest(self, text: str, limit: int = DEFAULT_LIMIT) -> list[dict]:
        """Completions of ``text``, best first: ``[{"text", "kind"}]``."""
        key, _ = typed_key(text[:MAX_QUERY_CHARS])
        if not key:
            return []
        with self._lock:
            cached = self._cache.get((key, limit))
            if cached is not None:
                self._cache.move_to_end((key, limit))
                return [dict(s) for s in cached]
        found = self._suggest(key, limit)
        with self._lock:
            self._cache[(key, limit)] = found
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return [dict(s) for s in found]

    def _suggest(self, key: str, limit: int) -> list[dict]:
        """Suggestions for ``key`` (see `typed_key`). Typed with diacritics, they come tier
        by tier (`TIERS`: spelled as typed, matching as typed, the others), phrases,
        officials and titles alike; each tier is composed as `_compose` says."""
        folded = fold_diacritics(key)
        accented = folded != key
        typed = (key.split(), key.endswith(" "))
        seen: set[str] = set()
        terms: list[tuple[dict, int]] = []
        for pos, tier in self._candidates(self.terms, typed, key, folded, accented, limit):
            fkey = fold_diacritics(self.terms.keys[pos])
            if fkey not in seen:
                seen.add(fkey)
                kind = KINDS[int(self.term_kinds[pos])]
                terms.append(({"text": self.term_texts[pos], "kind": kind}, tier))
        if self.official_infix is not None and sum(t < LOOSE for _, t in terms) < limit:
            infix, names = self.official_infix
            for tier, found in enumerate(infix.find_tiers(key, folded, accented, limit)):
                for pos in found:
                    fkey = fold_diacritics(entry_key(names[pos]))
                    if fkey not in seen:
                        seen.add(fkey)
                        terms.append(({"text": names[pos], "kind": "official"}, tier))
        terms.sort(key=lambda t: t[1])  # stable: each tier keeps its order
        titles: list[tuple[dict, int]] = []
        long_key = len(key) > MAX_KEY_CHARS
        short = (key[:MAX_KEY_CHARS].split(), typed[1] and not long_key)
        docs = [
            (int(self.title_docs[pos]), tier)
            for pos, tier in self._candidates(
                self.titles,
                short,
                key[:MAX_KEY_CHARS],
                folded[:MAX_KEY_CHARS],
                accented,
                TITLE_MAX * (3 if long_key else 1),
            )
        ]
        if self.title_infix is not None:
            infix, infix_docs = self.title_infix
            for tier, found in enumerate(infix.find_tiers(key, folded, accented, TITLE_MAX)):
                docs += [(int(infix_docs[pos]), tier) for pos in found]
        docs.sort(key=lambda d: d[1])
        for docnum, tier in docs:
            title, article_id = self._stored_title(docnum)
            fkey = fold_diacritics(entry_key(title))
            if fkey in seen or (long_key and f" {folded.rstrip()}" not in f" {fkey}"):
                continue
            seen.add(fkey)
            titles.append(({"text": title, "kind": "title", "id": article_id}, tier))
            if len(titles) >= TITLE_MAX:
                break
        places = limit // 4  # for titles when there are enough phrases
        out: list[dict] = []
        for tier in TIERS:
            used = sum(1 for s in out if s["kind"] == "title")
            out += _compose(
                [t for t, k in terms if k == tier],
                [t for t, k in titles if k == tier],
                limit - len(out),
                TITLE_MAX - used,
                max(places - used, 0),
            )
        return out

    @staticmethod
    def _candidates(
        entries: _Entries,
        typed: tuple[list[str], bool],
        key: str,
        folded: str,
        accented: bool,
        k: int,
    ) -> list[tuple[int, int]]:
        """(position, tier) of the entries starting with ``key``, tier by tier (`TIERS`),
        the heaviest of each tier first; typed without diacritics, all are `LOOSE`."""
        lo, hi = entries.folded_range(folded)
        spelled: list[int] = []
        extra: list[int] = []
        if accented:
            spelled = entries.top(entries.exact_positions(key), k + 2)
            # the heaviest folded matches hold the forms a prefix of the accented key
            # cannot find: a tone not typed yet (đa → đại), a tone placed elsewhere
            # (hòa → hoàng), a syllable typed without diacritics (thi đ → thí điểm)
            checked = set(spelled)
            words, complete = typed
            for budget in (SCAN_FIRST, SCAN_BUDGET):  # most often the first few suffice
                for pos in entries.heaviest_first(lo, hi, budget):
                    if pos in checked:
                        continue
                    checked.add(pos)
                    if as_typed(words, complete, entries.keys[pos].split()):
                        extra.append(pos)
                        if len(extra) >= k + 2:
                            break
                if len(extra) >= k + 2 or hi - lo <= budget:
                    break
        taken = set(spelled) | set(extra)
        loose = [p for p in entries.top((lo, hi), k + 2 + len(taken)) if p not in taken]
        return (
            [(p, SPELLED) for p in spelled]
            + [(p, AS_TYPED) for p in extra]
            + [(p, LOOSE) for p in loose[: k + 2]]
        )


def _compose(
    terms: list[dict], titles: list[dict], limit: int, title_max: int, places: int
) -> list[dict]:
    """At most ``limit`` suggestions: phrases and officials first, then titles, which get
    ``places`` when there are enough phrases, more when there are not, at most
    ``title_max``."""
    if limit <= 0:
        return []
    n_titles = min(len(titles), places)
    out = terms[: limit - n_titles]
    return out + titles[: max(min(title_max, limit - len(out)), 0)]


# --------------------------------------------------------------------------- building
def build_suggester(snapshot) -> Suggester:
    """Build the suggestion structure of a snapshot (phrases, officials, titles)."""
    started = time.perf_counter()
    searcher = snapshot.searcher
    reader = searcher.reader()
    min_count = 2 if reader.doc_count() < 20_000 else 3
    minutes = getattr(getattr(snapshot, "table", None), "minutes", None)

    rows = _titles(reader)  # (docnum, normalised lowercased title, derived)
    title_weights = [
        max(float(minutes[d]), 0.0) if minutes is not None else 0.0 for d, _, _ in rows
    ]

    edges, singles = _word_edges(reader, min_count)
    phrases = _phrase_counts([t for _, t, _ in rows], min_count, edges)
    for text, weight in singles.items():
        phrases.setdefault(text, weight)
    for term, _, df in lexicon_stats(reader, "title_words"):
        if df >= min_count:
            text = term.decode("utf-8").replace("_", " ")
            phrases[text] = max(phrases.get(text, 0.0), df * WORD_WEIGHT)
    _add_body_words(reader, phrases)
    by_fold: dict[str, tuple[float, str, int, str]] = {}
    for text, count in phrases.items():
        _keep_heaviest(by_fold, text, text, float(count), PHRASE)
    official_names: list[str] = []
    official_weights: list[float] = []
    for term, _, df in lexicon_stats(reader, "officials"):
        if df >= min_count - 1:
            name = term.decode("utf-8")
            _keep_heaviest(by_fold, entry_key(name), name, df * OFFICIAL_WEIGHT, OFFICIAL)
            official_names.append(name)
            official_weights.append(float(df))
    chosen = sorted(by_fold.values(), key=lambda e: -e[0])[:MAX_PHRASES]
    terms, perm = _Entries.build([e[3] for e in chosen], [e[0] for e in chosen])
    term_texts = [chosen[i][1] for i in perm]
    term_kinds = np.asarray([chosen[i][2] for i in perm], dtype=np.int8)

    # titles: the original ones (not derived from the body), one per folded text
    best_title: dict[str, tuple[int, str]] = {}
    for i, (_, title, was_derived) in enumerate(rows):
        if was_derived:
            continue
        key = " ".join(SYLLABLE_PATTERN.findall(title))[:MAX_KEY_CHARS]
        fkey = fold_diacritics(key)
        j = best_title.get(fkey)
        if j is None or title_weights[i] > title_weights[j[0]]:
            best_title[fkey] = (i, key)
    picked = list(best_title.values())
    titles, tperm = _Entries.build([k for _, k in picked], [title_weights[i] for i, _ in picked])
    docs = np.asarray([rows[picked[i][0]][0] for i in tperm], dtype=np.int64)
    title_infix = _Infix(
        [" ".join(SYLLABLE_PATTERN.findall(rows[i][1])) for i, _ in picked],
        [title_weights[i] for i, _ in picked],
    )
    infix_docs = np.asarray([rows[i][0] for i, _ in picked], dtype=np.int64)
    official_infix = _Infix([entry_key(n) for n in official_names], official_weights)

    def stored_title(docnum: int) -> tuple[str, str]:
        stored = searcher.stored_fields(docnum)
        return (stored.get("title") or "").strip(TITLE_TRIM), stored.get("id") or ""

    return Suggester(
        terms,
        term_texts,
        term_kinds,
        titles,
        docs,
        stored_title,
        time.perf_counter() - started,
        title_infix=(title_infix, infix_docs),
        official_infix=(official_infix, official_names),
    )


def _add_body_words(reader, phrases: dict[str, float]) -> None:
    """pyvi's compound words of bodies that no title phrase covers (``khai giảng``), in
    ``phrases`` below every title phrase (weights under BODY_ONLY_WEIGHT, by document
    frequency), so they complete only what titles cannot. On a large archive a word
    must be in BODY_MIN_DF documents."""
    min_df = 1 if reader.doc_count() < 1000 else BODY_MIN_DF
    words = [
        (term.decode("utf-8"), df)
        for term, _, df in lexicon_stats(reader, "body_words")
        if df >= min_df and b"_" in term
    ]
    top = max((df for _, df in words), default=1)
    for word, df in words:
        parts = word.split("_")
        if not all(p.isalpha() for p in parts) or parts[0] in EDGE_STOPWORDS:
            continue
        phrases.setdefault(" ".join(parts), BODY_ONLY_WEIGHT * df / top)


_SEGMENT_TITLES: dict[object, list[tuple[int, str, bool]]] = {}


def _titles(reader) -> list[tuple[int, str, bool]]:
    """(docnum, normalised lowercased title, derived) of every live document with a title.

    Reading stored fields is most of the build, so each segment's titles are kept per
    process by segment id: after a commit only the new segments are read.
    """
    leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
    fresh: dict[object, list[tuple[int, str, bool]]] = {}
    out: list[tuple[int, str, bool]] = []
    for leaf, offset in leaves:
        try:
            key = (leaf.segment().segment_id(), leaf.doc_count_all())
        except AttributeError:
            key = None
        rows = _SEGMENT_TITLES.get(key) if key is not None else None
        if rows is None:
            rows = []
            stored_fields = segments.stored_fields_reader(leaf)
            for docnum in range(leaf.doc_count_all()):
                stored = stored_fields(docnum) or {}
                title = (stored.get("title") or "").strip()
                if title:
                    norm = normalize_text(title).lower()
                    rows.append((docnum, norm, bool(stored.get("title_derived"))))
        if key is not None:
            fresh[key] = rows
        deleted = leaf.has_deletions()
        out.extend((offset + d, t, dv) for d, t, dv in rows if not (deleted and leaf.is_deleted(d)))
    _SEGMENT_TITLES.clear()
    _SEGMENT_TITLES.update(fresh)
    return out


def warm_titles(root) -> int:
    """Read the current index's titles into this process's per-segment cache.

    Called where the API is created, so that under ``gunicorn --preload`` the master
    reads them once and every forked worker builds its first ``Suggester`` without
    reading stored fields. Returns how many titles were read (0 without an index).
    """
    try:
        ix = store.open_current(Path(root))
    except store.IndexMissing:
        return 0
    try:
        with ix.reader() as reader:
            return len(_titles(reader))
    finally:
        ix.close()


def _keep_heaviest(by_fold: dict, key: str, text: str, weight: float, kind: int) -> None:
    fkey = fold_diacritics(key)
    if not fkey:
        return
    current = by_fold.get(fkey)
    if current is None or weight > current[0]:
        by_fold[fkey] = (weight, text, kind, key)


def _phrase_counts(
    titles: list[str], min_count: int, edges: dict[str, tuple[bool, bool]]
) -> dict[str, float]:
    """2–5-syllable n-grams seen at least ``min_count`` times in (normalised) title clauses.

    An n-gram is counted as (rank of its first n-1 syllables, last syllable), so any
    length packs into one int64. A phrase must start and end where pyvi words usually
    do (``edges``: syllable → (may start, may end)), must not start or end with a
    function word, and gives way to its one-syllable-longer continuation when that is
    (almost) always what follows.
    """
    vocab: dict[str, int] = {_CLAUSE_END: -1}
    flat: list[int] = []
    for title in titles:
        tokens = _TOKENS.findall(title)
        tokens.append(_CLAUSE_END)
        flat += [vocab.setdefault(t, len(vocab) - 1) for t in tokens]
    if not flat:
        return {}
    ids = np.asarray(flat, dtype=np.int64)
    del vocab[_CLAUSE_END]
    names = list(vocab)
    counts = np.bincount(ids[ids >= 0], minlength=len(names))
    ids = np.where(ids >= 0, np.where(counts[np.maximum(ids, 0)] >= min_count, ids, -1), -1)

    # level n: unique codes of the n-grams starting at each position (-1: none/rare)
    levels: list[tuple[np.ndarray, np.ndarray]] = []  # (unique codes, counts) per n
    prev_rank = ids.copy()  # rank of the 1-gram at each position = its syllable id
    for n in range(2, MAX_NGRAM + 1):
        size = ids.size - n + 1
        if size <= 0:
            break
        head = prev_rank[:size]
        last = ids[n - 1 : n - 1 + size]
        valid = (head >= 0) & (last >= 0)
        codes = np.where(valid, head * len(names) + last, -1)
        uniq, inverse, cnt = np.unique(codes, return_inverse=True, return_counts=True)
        rank = np.where(valid, inverse, -1)
        # n-grams seen fewer than min_count times cannot start a frequent longer one
        rank = np.where(valid & (cnt[inverse] >= min_count), rank, -1)
        levels.append((uniq, cnt))
        prev_rank = rank

    def decode(level: int, code: int) -> list[int]:
        head, last = divmod(code, len(names))
        if level == 0:
            return [head, last]
        return decode(level - 1, int(levels[level - 1][0][head])) + [last]

    found: list[dict[tuple[int, ...], int]] = []
    for level, (uniq, cnt) in enumerate(levels):
        keep = (uniq >= 0) & (cnt >= min_count)
        found.append(
            {
                tuple(decode(level, code)): c
                for code, c in zip(uniq[keep].tolist(), cnt[keep].tolist(), strict=True)
            }
        )

    def acceptable(words: list[str]) -> bool:
        first, last = words[0], words[-1]
        if first in EDGE_STOPWORDS or last in EDGE_STOPWORDS or not first.isalpha():
            return False
        if (len(first) == 1 and first.isascii()) or (len(last) == 1 and last.isascii()):
            return False  # "ủy ban t" (of "T.Ư"): a cut abbreviation
        return edges.get(first, (True, True))[0] and edges.get(last, (True, True))[1]

    phrases: dict[str, float] = {}
    longer: dict[tuple[int, ...], int] = {}  # acceptable (n+1)-grams of the level above
    for grams in reversed(found):
        extension: dict[tuple[int, ...], int] = {}
        for gram, c in longer.items():
            extension[gram[:-1]] = max(extension.get(gram[:-1], 0), c)
        longer = {}
        for gram, c in grams.items():
            words = [names[i] for i in gram]
            if not acceptable(words):
                continue
            longer[gram] = c
            if extension.get(gram, 0) >= EXTENSION_SHARE * c:
                continue  # almost always continued: the longer phrase stands for it
            phrases[" ".join(words)] = float(c)
    return phrases


def _word_edges(reader, min_count: int) -> tuple[dict[str, tuple[bool, bool]], dict[str, float]]:
    """Where syllables sit in pyvi's words of titles: phrase edges, and standalone words.

    Returns (syllable → (may start a phrase, may end one), standalone syllable → count).
    A syllable that mostly sits inside or at the start of a word (``tổng`` of
    ``tổng_thống``) does not end a phrase; one mostly inside or at the end of a word
    (``tra`` of ``kiểm_tra``) does not start one. A frequent syllable that mostly
    stands alone (``mỹ``, ``internet``) is a suggestion by itself.
    """
    occurrences = {t.decode("utf-8"): w for t, w, _ in lexicon_stats(reader, "title")}
    place: dict[str, list[float]] = {}  # syllable → [start, middle, end] counts
    for term, weight, _ in lexicon_stats(reader, "title_words"):
        parts = term.decode("utf-8").split("_")
        for i, part in enumerate(parts):
            slot = 0 if i == 0 else 2 if i == len(parts) - 1 else 1
            place.setdefault(part, [0.0, 0.0, 0.0])[slot] += weight
    edges = {}
    singles = {}
    for syllable, count in occurrences.items():
        start, middle, end = place.get(syllable, (0.0, 0.0, 0.0))
        alone = max(count - start - middle - end, 0.0)
        edges[syllable] = (start + alone >= middle + end, end + alone >= start + middle)
        if (
            alone >= SINGLE_MIN_SHARE * count
            and count >= SINGLE_MIN_COUNT * min_count
            and syllable.isalpha()
            and len(syllable) >= 2
            and syllable not in EDGE_STOPWORDS
        ):
            singles[syllable] = alone * SINGLE_WEIGHT
    return edges, singles
