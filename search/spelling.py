"""Did you mean: the archive's own spelling of a query typed without accents or with a typo.

Two corrections, both drawn from the index's vocabulary and never applied silently
(``/search`` still answers the typed query and only adds ``did_you_mean``):

* **accents**: ``thanh uy ha noi`` → ``thành ủy hà nội``. Each folded syllable has its
  accented forms with their frequencies (``title``/``body`` lexicons), and each folded
  pyvi word its accented words (``title_words``/``body_words``: ``thanh_uy`` →
  ``thành_ủy``). A small dynamic programme covers the query with as many known
  multi-syllable words as possible, so the neighbours pick the accents; lone syllables
  take their most frequent form. Syllables the user typed with accents that the archive
  knows are kept.
* **typos**: a syllable absent from (or very rare in) the archive is replaced by the
  nearest frequent one (edit distance 1–2 found through a symmetric-delete index),
  preferring one that forms a known word with its neighbours, then the most frequent.

``build_spelling(snapshot)`` builds the structure (once per snapshot: use
``snapshot.spelling()``); ``suggest_correction`` is a few
dictionary look-ups per syllable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from indexer import segments
from indexer.analysis import SYLLABLE_PATTERN, fold_diacritics, has_diacritics, normalize_text

FEW_RESULTS = 3  # /search offers a correction below this many results (or when unaccented)
MAX_WORD_SYLLABLES = 4
MIN_WORD_FREQ = 2  # a pyvi word must occur this often to steer accents…
WORD_FREQ_DOCS = 20_000  # …plus one per this many documents (at most 5)
MAX_WORD_FORMS = 3
TYPO_MIN_DF = 3  # a correction must be at least this frequent (documents)
TYPO_RARE_DF = 2  # a typed syllable this rare (documents) may be a typo…
TYPO_RARE_DOCS = 10_000  # …or one document in this many (archives repeat common typos)
TYPO_RATIO = 50  # …when the correction is this many times more frequent
UNKNOWN_ACCENT_RATIO = 500  # a form this much rarer than its folded twin is a slip
MIN_KEPT = 2  # forms and syllables seen less often are not kept…
KEEP_ALL_BELOW = 10_000  # …unless the archive is this small (documents)
RARE_FORM_FREQ = 2  # an accented form seen at most this often is treated as a mistake
MAX_QUERY_SYLLABLES = 32
OPERATORS = {"OR", "AND"}
# field:value filters inside the query are left as typed
_FILTER = re.compile(
    r"(?<![\w])(?:official|category|date|source|quan_chuc|title|body|tieude|noidung|tiêu_đề)"
    r':(?:"[^"]*"?|\S+)',
    re.IGNORECASE,
)
_FILTER_FIELDS = ("official:", "category:", "date:", "source:", "quan_chuc:")

FIXED, SOFT, FREE = 0, 1, 2  # how freely a typed syllable may be re-accented


@dataclass
class Spelling:
    """The vocabulary structures of one snapshot."""

    best_forms: dict[str, tuple[str, int]]  # folded syllable → its most frequent accented form
    form_freq: dict[str, int]  # accented syllable → occurrences
    folded_df: dict[str, int]  # folded syllable → documents (title + body)
    words: dict[str, tuple[tuple[str, int], ...]]  # folded pyvi word → accented words
    deletes: dict[str, list[str]] = field(default_factory=dict)  # typo index
    doc_count: int = 0

    @property
    def rare_df(self) -> int:
        """A syllable in at most this many documents may be a typo."""
        return max(TYPO_RARE_DF, self.doc_count // TYPO_RARE_DOCS)

    def candidates(self, folded: str) -> list[tuple[int, str]]:
        """Frequent folded syllables within edit distance 2 of ``folded`` (distance, word)."""
        probes = {folded, *_deletes1(folded)}
        found: set[str] = set()
        for p in probes:
            found.update(self.deletes.get(p, ()))
        found.discard(folded)
        out = []
        for word in found:
            d = _distance(folded, word)
            if d <= 2:
                out.append((d, word))
        return out


# --------------------------------------------------------------------------- building
def build_spelling(snapshot) -> Spelling:
    """Read the lexicons of a snapshot's reader into a ``Spelling``."""
    reader = snapshot.searcher.reader()
    form_freq: dict[str, int] = {}
    folded_df: dict[str, int] = {}
    for fieldname in ("title", "body"):
        for term, weight, df in lexicon_stats(reader, fieldname):
            form = term.decode("utf-8")
            form_freq[form] = form_freq.get(form, 0) + int(weight)
            folded = fold_diacritics(form)
            folded_df[folded] = folded_df.get(folded, 0) + df
    best_forms: dict[str, tuple[str, int]] = {}
    for form, freq in form_freq.items():
        folded = fold_diacritics(form)
        best = best_forms.get(folded)
        if best is None or (freq, best[0]) > (best[1], form):
            best_forms[folded] = (form, freq)
    # a form or syllable seen once reads as absent: it is a slip, and it costs memory
    kept = MIN_KEPT if reader.doc_count() >= KEEP_ALL_BELOW else 1
    form_freq = {f: n for f, n in form_freq.items() if n >= kept}
    folded_df = {f: n for f, n in folded_df.items() if n >= kept}
    best_forms = {f: b for f, b in best_forms.items() if b[1] >= kept}

    min_freq = min(5, MIN_WORD_FREQ + reader.doc_count() // WORD_FREQ_DOCS)
    word_freq: dict[str, dict[str, int]] = {}
    for fieldname in ("title_words", "body_words"):
        for term, weight, _ in lexicon_stats(reader, fieldname):
            freq = int(weight)
            if freq < min_freq and fieldname == "body_words":
                continue
            word = term.decode("utf-8")
            if word.count("_") >= MAX_WORD_SYLLABLES:
                continue
            variants = word_freq.setdefault(fold_diacritics(word), {})
            variants[word] = variants.get(word, 0) + freq
    words = {
        f: _ranked(d, MAX_WORD_FORMS) for f, d in word_freq.items() if sum(d.values()) >= min_freq
    }

    doc_count = reader.doc_count()
    least = max(TYPO_MIN_DF, 2 * max(TYPO_RARE_DF, doc_count // TYPO_RARE_DOCS))
    deletes: dict[str, list[str]] = {}
    for word, df in folded_df.items():
        if df >= least and word.isalpha() and len(word) >= 2:
            for probe in {word, *_deletes1(word)}:
                deletes.setdefault(probe, []).append(word)
    return Spelling(best_forms, form_freq, folded_df, words, deletes, doc_count)


def lexicon_stats(reader, fieldname: str) -> Iterator[tuple[bytes, float, int]]:
    """(term, total frequency, document frequency) of every term of a field, in term
    order, summed over segments (``indexer.segments.field_terms``)."""
    return segments.field_terms(reader, fieldname)


def _ranked(variants: dict[str, int], keep: int) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])


def _deletes1(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Levenshtein plus adjacent transpositions)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


# --------------------------------------------------------------------------- correcting
@dataclass
class _Syllable:
    start: int
    end: int
    typed: str  # as typed (normalised, original case)
    lower: str
    folded: str
    state: int


def suggest_correction(snapshot_or_structures, query_text: str) -> str | None:
    """The archive's spelling of ``query_text`` when it differs from what was typed.

    Accepts a ``Spelling`` or a snapshot (which builds its own once: ``Snapshot.spelling``).
    Returns None when the query looks right (or has nothing to correct).
    """
    spelling = _spelling_of(snapshot_or_structures)
    text = normalize_text(query_text or "")
    accented = has_diacritics(text)
    sylls = _syllables(text, spelling, accented)
    if not sylls:
        return None
    _fix_typos(sylls, spelling)
    _loosen_neighbours(sylls)
    chosen = _accents(sylls, spelling)
    out = []
    last = 0
    for s, form in zip(sylls, chosen, strict=True):
        out.append(text[last : s.start])
        out.append(_with_case(form, s.typed))
        last = s.end
    out.append(text[last:])
    result = "".join(out)
    return result if result != text else None


def _spelling_of(obj) -> Spelling:
    return obj if isinstance(obj, Spelling) else obj.spelling()


def _syllables(text: str, spelling: Spelling, accented: bool) -> list[_Syllable]:
    skipped = [
        m.span() for m in _FILTER.finditer(text) if m.group().lower().startswith(_FILTER_FIELDS)
    ]
    out: list[_Syllable] = []
    for m in SYLLABLE_PATTERN.finditer(text):
        if any(a <= m.start() < b for a, b in skipped) or m.group() in OPERATORS:
            continue
        if text[m.end() : m.end() + 1] == ":":
            continue  # a field name (title:, body:)
        typed = m.group()
        lower = typed.lower()
        folded = fold_diacritics(lower)
        if not accented:
            state = FREE
        elif lower == folded:
            state = SOFT
        elif _unknown_accent(lower, folded, spelling):
            state = FREE  # an accent the archive (almost) never uses: re-accent it
        else:
            state = FIXED
        out.append(_Syllable(m.start(), m.end(), typed, lower, folded, state))
        if len(out) >= MAX_QUERY_SYLLABLES:
            break
    return out


def _unknown_accent(lower: str, folded: str, spelling: Spelling) -> bool:
    best = spelling.best_forms.get(folded)
    if best is None:
        return False
    freq = spelling.form_freq.get(lower, 0)
    rare = max(RARE_FORM_FREQ, spelling.rare_df)
    if freq <= rare:
        return best[1] >= TYPO_RATIO * freq
    return best[1] >= UNKNOWN_ACCENT_RATIO * freq  # "quôc": 141 times, "quốc": 90,562


def _fix_typos(sylls: list[_Syllable], spelling: Spelling) -> None:
    """Replace rare or unknown syllables by their nearest frequent neighbour (in place)."""
    for i, s in enumerate(sylls):
        if not s.folded.isalpha() or len(s.folded) < 2:
            continue
        df = spelling.folded_df.get(s.folded, 0)
        if df > spelling.rare_df:
            continue
        prev = sylls[i - 1].folded if i > 0 else None
        nxt = sylls[i + 1].folded if i + 1 < len(sylls) else None
        best = None
        for dist, word in spelling.candidates(s.folded):
            cdf = spelling.folded_df.get(word, 0)
            if cdf < max(TYPO_MIN_DF, df * TYPO_RATIO):
                continue
            in_word = (prev is not None and f"{prev}_{word}" in spelling.words) or (
                nxt is not None and f"{word}_{nxt}" in spelling.words
            )
            if dist > _max_distance(s.folded) or (len(s.folded) <= 3 and not in_word):
                continue  # short syllables are corrected only where a known word says so
            key = (dist, not in_word, -cdf, word)
            if best is None or key < best:
                best = key
        if best is not None:
            word = best[3]
            s.folded = word
            s.lower = word
            s.state = FREE


def _loosen_neighbours(sylls: list[_Syllable]) -> None:
    """Beside a slip, the user's accents are suspect too: a word may re-accent them.

    ``quôc hôi``: ``quôc`` is a slip, and ``hôi`` (a word, but not here) may then
    become ``hội`` when that makes the known word ``quốc_hội``.
    """
    slips = [s.state == FREE for s in sylls]
    for i, s in enumerate(sylls):
        if s.state == FIXED and ((i > 0 and slips[i - 1]) or (i + 1 < len(sylls) and slips[i + 1])):
            s.state = SOFT


def _max_distance(folded: str) -> int:
    return 1 if len(folded) <= 4 else 2


def _accents(sylls: list[_Syllable], spelling: Spelling) -> list[str]:
    """The accented form of each syllable: most multi-syllable words, then frequency."""
    n = len(sylls)
    # best[i] = (joins, log-frequency, forms of sylls[:i])
    best: list[tuple[int, float, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0.0, [])
    for i in range(1, n + 1):
        options = []
        for length in range(1, min(MAX_WORD_SYLLABLES, i) + 1):
            before = best[i - length]
            if before is None:
                continue
            piece = sylls[i - length : i]
            if length == 1:
                form, freq = _single(piece[0], spelling)
                options.append((before[0], before[1] + math.log1p(freq), before[2] + [form]))
                continue
            key = "_".join(s.folded for s in piece)
            for word, freq in spelling.words.get(key, ()):
                parts = word.split("_")
                if all(_allowed(s, p) for s, p in zip(piece, parts, strict=True)):
                    score = before[1] + math.log1p(freq)
                    options.append((before[0] + length - 1, score, before[2] + parts))
                    break
        best[i] = max(options, key=lambda o: (o[0], o[1]))
    return best[n][2]


def _single(s: _Syllable, spelling: Spelling) -> tuple[str, int]:
    if s.state == FREE:
        return spelling.best_forms.get(s.folded, (s.lower, 0))
    return s.lower, spelling.form_freq.get(s.lower, 0)


def _allowed(s: _Syllable, form: str) -> bool:
    if s.state == FIXED:
        return form == s.lower
    return True


def _with_case(form: str, typed: str) -> str:
    if len(typed) > 1 and typed.isupper():
        return form.upper()
    if typed[:1].isupper():
        return form[:1].upper() + form[1:]
    return form
