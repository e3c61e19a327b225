"""Did you mean: the archive's own spelling of a query typed without accents or with a typo.

A noisy channel over the archive's syllables, decoded in context (Viterbi):

* **candidates** for each typed syllable: the accented forms of its folded form that the
  archive uses (``hoc`` → ``học``, ``hóc``…), the frequent syllables within one edit of it
  (insert, delete, substitute, transpose; two for long syllables: ``gioii`` → ``giỏi``,
  ``vàg`` → ``vàng``) with their forms, and a Telex reading (``vangf`` → ``vàng``);
* **channel cost** (``channel_cost``): a letter typed without its diacritic costs nothing,
  a diacritic changed costs ``ACCENT_COST``, each edit ``EDIT_COST`` (a doubled letter
  dropped costs less), a Telex reading ``TELEX_COST``; a typo of a syllable that is itself
  a frequent one costs ``REAL_WORD_COST`` more;
* **language model** (``PairModel``): adjacent accented syllable pairs counted over a
  sample of the archive's titles and bodies (at most ``SAMPLE_SYLLABLES``, built once
  per snapshot), smoothed towards each syllable's frequency in the whole archive
  (Dirichlet, ``SMOOTHING``), plus ``WORD_BONUS`` where two neighbours form one of
  pyvi's words of the archive (``thành_ủy``).

The best reading is offered when it differs from what was typed and beats it by
``MARGIN`` (natural log); a reading that edits letters must also beat the best
accents-only reading by ``EDIT_MARGIN``, so a query that reads well as typed is left
alone. ``/search`` still answers the typed query and only adds ``did_you_mean``.
The constants were tuned on the *tune* half of ``bench/data/didyoumean.jsonl``
(``python -m bench.didyoumean``).

``build_spelling(snapshot)`` builds the structures (once per snapshot: use
``snapshot.spelling()``); ``suggest_correction`` decodes one query in about a millisecond.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from indexer import segments
from indexer.analysis import SYLLABLE_PATTERN, fold_diacritics, normalize_text

MAX_WORD_SYLLABLES = 4
MIN_WORD_FREQ = 2  # a pyvi word must occur this often to count…
WORD_FREQ_DOCS = 20_000  # …plus one per this many documents (at most 5)
MAX_WORD_FORMS = 3
MAX_FORMS = 6  # accented forms kept per folded syllable
MAX_EDIT_TARGETS = 10  # frequent syllables kept per typed syllable, within its edits
MAX_EDIT_FORMS = 4  # accented forms kept per edit target
TYPO_MIN_DF = 3  # an edit target must be in at least this many documents…
TYPO_TARGET_DOCS = 5_000  # …or one in this many
MIN_KEPT = 2  # forms and syllables seen less often are not kept…
KEEP_ALL_BELOW = 10_000  # …unless the archive is this small (documents)
SAMPLE_SYLLABLES = 2_500_000  # the pair model reads at most this many syllables
MAX_QUERY_SYLLABLES = 32
CACHE_SIZE = 4096  # answers kept per snapshot (the search box asks on every keystroke)
READ_AHEAD = 2_000  # syllables whose readings a large archive's spelling computes ahead

# the noisy channel and the decision (natural log; tuned on the tune half)
ACCENT_COST = 4.0  # a typed diacritic replaced by another
EDIT_COST = 3.0  # one letter inserted, deleted, substituted or two transposed
DOUBLE_COST = 2.5  # a doubled letter dropped (``daa`` → ``da``)
TELEX_COST = 1.0  # a Telex reading (``vangf`` → ``vàng``)
FAR_COST = 2.0  # added to an extra or replaced letter that is no neighbouring key
REAL_WORD_COST = 3.0  # added to an edit of a syllable the archive uses often
TYPED_FORM_COST = 3.0  # added to any change of a form typed with diacritics that is common
SMOOTHING = 50.0  # Dirichlet prior of the pair model, in pair counts
UNSEEN_PER_MILLION = 15.0  # occurrences per million credited to a syllable the archive
# lacks (names, codes): 50 in the 3.4M syllables of the tuning sample
WORD_BONUS = 3.0  # two neighbours forming one of the archive's pyvi words
MARGIN = 1.0  # the reading offered must beat the typed one by this much…
EDIT_MARGIN = 1.0  # …and one that edits letters the best accents-only one by this much

OPERATORS = {"OR", "AND"}
# field:value filters inside the query are left as typed
_FILTER = re.compile(
    r"(?<![\w])(?:official|category|date|source|quan_chuc|title|body|tieude|noidung|tiêu_đề)"
    r':(?:"[^"]*"?|\S+)',
    re.IGNORECASE,
)
_FILTER_FIELDS = ("official:", "category:", "date:", "source:", "quan_chuc:")
# the pair model's tokens: syllables, and punctuation that ends a run of them
_TOKEN = re.compile(rf"{SYLLABLE_PATTERN.pattern}|[.,;:!?…()\[\]\"“”'‘’\n/|–—-]")
_BREAKS = ".,;:!?…()[]\"“”'‘’\n/|–—-"


@dataclass
class PairModel:
    """Adjacent accented syllable pairs counted over a sample of the archive.

    ``ids``: lowercase accented syllable → id (0 is the break between runs);
    ``keys``: sorted ``left * vocabulary + right`` of every pair seen, ``counts`` its count;
    ``left``: per id, the pairs it starts. Counts are looked up in a hash table of the
    same keys (``PairTable``).
    """

    ids: dict[str, int]
    keys: np.ndarray  # int64 (int32 when every key fits), sorted
    counts: np.ndarray  # int32
    left: np.ndarray  # int64, per id
    size: int  # one more than the largest id
    table: PairTable = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.table = PairTable(self.keys, self.counts)

    def id_of(self, form: str) -> int:
        return self.ids.get(form, -1)

    def pair_counts(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Counts of every (left[i], right[j]) pair, as a len(left) × len(right) array
        (ids of -1, unseen syllables, count 0)."""
        out = np.zeros((len(left), len(right)), dtype=np.float64)
        if not len(self.keys):
            return out
        seen = (left[:, None] > 0) & (right[None, :] > 0)
        wanted = (left[:, None] * self.size + right[None, :])[seen]
        out[seen] = self.table.counts_of(wanted)
        return out

    def left_counts(self, left: np.ndarray) -> np.ndarray:
        # (np.maximum, not clip: clip's checks cost more than the lookup on a few ids)
        return np.where(left > 0, self.left[np.maximum(left, 0)], 0).astype(np.float64)


# two odd multipliers for Fibonacci hashing (Knuth, TAOCP 6.4): the golden ratio's and
# the square root of two's fractions of 2**64
_MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0x6A09E667F3BCC909))
_MAX_KICKS = 500


class PairTable:
    """Distinct non-negative keys and their counts in a cuckoo hash table (Pagh and
    Rodler, 2001): each key sits in one of its two slots, so many keys are looked up at
    once with two gathers, where a binary search over the sorted keys misses the cache
    at every level (a decoding step asks for about 2,000 pairs). Under half of the
    slots are used; a key's slots are the top bits of its products with
    ``_MULTIPLIERS`` (mod 2**64). A slot holds ``key << 32 | count`` (int64; -1: empty)
    when keys are int32, else keys and counts are two arrays (four gathers)."""

    EMPTY = -1

    def __init__(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self.bits = max(4, (2 * len(keys)).bit_length())  # 2**bits > 2 * len(keys)
        while not self._place(keys, counts):
            self.bits += 1  # a cycle of kicks (rare under half full): more room

    def _slots(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wide = keys.astype(np.uint64)
        shift = np.uint64(64 - self.bits)
        return tuple((wide * m >> shift).astype(np.intp) for m in _MULTIPLIERS)

    def _place(self, keys: np.ndarray, counts: np.ndarray) -> bool:
        """Fill the table (the standard insertion: a key takes a free slot of its two,
        else evicts the one in its first and that one moves to its other slot, and so
        on); False when some insertion kicks ``_MAX_KICKS`` times. A key whose first slot
        no other key has as its first takes it at once (about three in four)."""
        first, second = self._slots(keys)
        slots, shared = np.unique(first, return_counts=True)
        alone = shared[np.searchsorted(slots, first)] == 1
        held = np.full(1 << self.bits, -1, dtype=np.intp)  # slot → index into keys
        held[first[alone]] = np.flatnonzero(alone)
        held, first, second = held.tolist(), first.tolist(), second.tolist()
        for i in np.flatnonzero(~alone).tolist():
            at = first[i]
            if held[at] >= 0 and held[second[i]] < 0:
                at = second[i]
            for _ in range(_MAX_KICKS):
                i, held[at] = held[at], i
                if i < 0:
                    break
                at = second[i] if first[i] == at else first[i]
            else:
                return False
        where = np.array(held, dtype=np.intp)
        used = where >= 0
        self.keys = np.full(where.size, self.EMPTY, dtype=keys.dtype)
        self.keys[used] = keys[where[used]]
        self.counts = np.zeros(where.size, dtype=np.int32)
        self.counts[used] = counts[where[used]]
        self.packed = None
        if keys.dtype == np.int32:  # counts are int32 too, and never negative
            self.packed = self.keys.astype(np.int64) << 32 | self.counts.astype(np.uint32)
            self.keys = self.counts = None
        return True

    def counts_of(self, wanted: np.ndarray) -> np.ndarray:
        """The count of each of ``wanted`` (non-negative keys; 0 for a key not held)."""
        first, second = self._slots(wanted)
        if self.packed is not None:
            out = np.zeros(wanted.size, dtype=np.int64)
            for at in (first, second):
                held = self.packed[at]
                np.copyto(out, held & 0xFFFFFFFF, where=(held >> 32) == wanted)
            return out
        out = np.where(self.keys[first] == wanted, self.counts[first], 0)
        return np.where(self.keys[second] == wanted, self.counts[second], out)


def empty_pairs() -> PairModel:
    """A pair model that has seen nothing (every pair falls back to frequencies)."""
    return PairModel({"": 0}, np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(1), 1)


@dataclass
class Spelling:
    """The vocabulary structures of one snapshot."""

    forms: dict[
        str, tuple[tuple[str, int], ...]
    ]  # folded syllable → accented forms, commonest first
    form_freq: dict[str, int]  # accented syllable → occurrences
    folded_df: dict[str, int]  # folded syllable → documents (title + body)
    words: dict[str, tuple[tuple[str, int], ...]]  # folded pyvi word → accented words
    deletes: dict[str, list[str]] = field(default_factory=dict)  # edit-target index
    doc_count: int = 0
    pairs: PairModel = field(default_factory=empty_pairs)
    total: int = 0  # occurrences of every form
    cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    readings: dict = field(default_factory=dict, repr=False)  # typed syllable → candidates

    def __post_init__(self) -> None:
        if not self.total:
            self.total = max(1, sum(self.form_freq.values()))

    @property
    def common_df(self) -> int:
        """An edit target is in at least this many documents."""
        return max(TYPO_MIN_DF, self.doc_count // TYPO_TARGET_DOCS)

    def edit_targets(self, folded: str) -> list[str]:
        """Frequent folded syllables within one edit of ``folded`` (two for long ones),
        most frequent first."""
        probes = {folded, *_deletes1(folded)}
        if len(folded) >= 5:
            probes.update(d2 for d1 in _deletes1(folded) for d2 in _deletes1(d1))
        found: set[str] = set()
        for p in probes:
            found.update(self.deletes.get(p, ()))
        found.discard(folded)
        near = [w for w in found if len(folded) >= 5 or _within_one(folded, w)]
        near.sort(key=lambda w: (-self.folded_df.get(w, 0), w))
        return near[:MAX_EDIT_TARGETS]

    def unigram(self, form: str) -> float:
        """P(form) over the archive; a form never seen, ``UNSEEN_PER_MILLION``."""
        return self.form_freq.get(form, 0) / self.total or UNSEEN_PER_MILLION / 1e6


# --------------------------------------------------------------------------- building
def build_spelling(snapshot, reader=None) -> Spelling:
    """Read the lexicons and a sample of the stored text of a snapshot into a ``Spelling``
    (through ``reader`` when given: the warming thread's own files)."""
    reader = reader or snapshot.searcher.reader()
    doc_count = reader.doc_count()
    form_freq: dict[str, int] = {}
    folded_df: dict[str, int] = {}
    for fieldname in ("title", "body"):
        for term, weight, df in lexicon_stats(reader, fieldname):
            form = term.decode("utf-8")
            form_freq[form] = form_freq.get(form, 0) + int(weight)
            folded = fold_diacritics(form)
            folded_df[folded] = folded_df.get(folded, 0) + df
    # a form or syllable seen once reads as absent: it is a slip, and it costs memory
    kept = MIN_KEPT if doc_count >= KEEP_ALL_BELOW else 1
    total = sum(form_freq.values())
    form_freq = {f: n for f, n in form_freq.items() if n >= kept}
    folded_df = {f: n for f, n in folded_df.items() if n >= kept}
    grouped: dict[str, dict[str, int]] = {}
    for form, freq in form_freq.items():
        grouped.setdefault(fold_diacritics(form), {})[form] = freq
    forms = {f: _ranked(d, MAX_FORMS) for f, d in grouped.items()}

    min_freq = min(5, MIN_WORD_FREQ + doc_count // WORD_FREQ_DOCS)
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

    spelling = Spelling(forms, form_freq, folded_df, words, {}, doc_count, total=max(1, total))
    least = spelling.common_df
    deletes: dict[str, list[str]] = {}
    for word, df in folded_df.items():
        if df >= least and word.isalpha() and len(word) >= 2:
            for probe in {word, *_deletes1(word)}:
                deletes.setdefault(probe, []).append(word)
    spelling.deletes = deletes
    spelling.pairs = build_pairs(reader)
    if doc_count >= KEEP_ALL_BELOW:  # a small archive's queries are cheap without it
        read_ahead(spelling)
    return spelling


def read_ahead(spelling: Spelling, count: int = READ_AHEAD) -> None:
    """Compute the readings (``_readings``: candidates and channel costs, with and
    without edits) of the ``count`` syllables most documents hold, as typed without
    diacritics (what the search box mostly sends), so that a query made of them pays
    only the decoding. The same readings a query would compute (kept per snapshot)."""
    common = sorted(spelling.folded_df.items(), key=lambda kv: (-kv[1], kv[0]))[:count]
    for folded, _ in common:
        typed = _Syllable(0, len(folded), folded, folded, folded, _fixed(folded))
        for edits in (True, False):
            _readings(typed, spelling, edits)


def build_pairs(reader, budget: int = SAMPLE_SYLLABLES) -> PairModel:
    """Count adjacent syllable pairs over stored titles and bodies, documents taken in a
    fixed shuffled order until ``budget`` syllables have been read (runs of syllables
    end at punctuation; pairs never cross it)."""
    ids = _Ids({ch: 0 for ch in _BREAKS})
    seq: list[int] = []
    live = segments.live_documents(reader)
    leaves = list(reader.leaf_readers())
    offsets = np.array([off for _, off in leaves], dtype=np.int64)
    getters = [segments.stored_fields_reader(leaf) for leaf, _ in leaves]
    order = np.random.default_rng(16).permutation(len(live))
    for docnum in order:
        if len(seq) >= budget:
            break
        if not live[docnum]:
            continue
        k = int(np.searchsorted(offsets, docnum, side="right")) - 1
        stored = getters[k](int(docnum - offsets[k]))
        for key in ("title", "body"):
            text = stored.get(key)
            if text:
                text = unicodedata.normalize("NFC", text).lower()
                seq.extend(map(ids.__getitem__, _TOKEN.findall(text)))
                seq.append(0)
    if len(seq) < 2:
        return empty_pairs()
    arr = np.asarray(seq, dtype=np.int64)
    left, right = arr[:-1], arr[1:]
    inside = (left > 0) & (right > 0)
    size = ids.size
    keys, counts = np.unique(left[inside] * size + right[inside], return_counts=True)
    if size * size <= np.iinfo(np.int32).max:  # half the bytes to search (85k: 1.6 MB)
        keys = keys.astype(np.int32)
    per_left = np.bincount(left[inside], minlength=size)
    vocabulary = ids.canonical
    return PairModel(vocabulary, keys, counts.astype(np.int32), per_left, size)


class _Ids(dict):
    """Token as found → the id of its canonical spelling (``normalize_text``: ``hoà`` and
    ``hòa`` are one id), numbering new ones as they come; breaks are id 0."""

    def __init__(self, breaks: dict[str, int]) -> None:
        super().__init__(breaks)
        self.canonical: dict[str, int] = {"": 0}

    @property
    def size(self) -> int:
        return len(self.canonical)

    def __missing__(self, token: str) -> int:
        form = normalize_text(token)
        value = self[token] = self.canonical.setdefault(form, len(self.canonical))
        return value


def lexicon_stats(reader, fieldname: str) -> Iterator[tuple[bytes, float, int]]:
    """(term, total frequency, document frequency) of every term of a field, in term
    order, summed over segments (``indexer.segments.field_terms``)."""
    return segments.field_terms(reader, fieldname)


def _ranked(variants: dict[str, int], keep: int) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])


def _deletes1(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_one(a: str, b: str) -> bool:
    """Whether one insertion, deletion, substitution or adjacent transposition turns
    ``a`` into ``b`` (or they are equal)."""
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    i = 0
    while i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1 :] == b[i:]
    return a[i + 1 :] == b[i + 1 :] or (
        a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1]
    )


# --------------------------------------------------------------------------- the channel
@lru_cache(maxsize=65536)
def channel_cost(typed: str, form: str) -> float:
    """What it costs to type ``form`` as ``typed`` (both lowercase, NFC).

    A letter typed without its diacritics is free (``hoc`` for ``học``); a diacritic
    replaced costs ``ACCENT_COST``; any other letter inserted, deleted, substituted or
    two transposed costs ``EDIT_COST``, a doubled letter dropped ``DOUBLE_COST``; a
    letter typed in excess or in place of another costs ``FAR_COST`` more unless its key
    neighbours the one beside it or the one meant (QWERTY).
    """
    if typed == form:
        return 0.0
    return _channel_distance(typed, form)


def _substitution(typed: str, meant: str) -> float:
    if typed == meant:
        return 0.0
    folded = fold_diacritics(meant)
    plain = fold_diacritics(typed)
    if plain == folded:
        return 0.0 if typed == folded else ACCENT_COST
    return EDIT_COST if folded in _NEAR_KEYS.get(plain, "") else EDIT_COST + FAR_COST


def _extra(a: str, i: int) -> float:
    """The cost of dropping ``a[i]``, typed in excess."""
    ch = fold_diacritics(a[i])
    if i > 0 and a[i - 1] == a[i]:
        return DOUBLE_COST
    near = _NEAR_KEYS.get(ch, "")
    beside = fold_diacritics(a[i - 1 : i] + a[i + 1 : i + 2])
    return EDIT_COST if any(c in near for c in beside) else EDIT_COST + FAR_COST


_NEAR_KEYS = {
    row[i]: row[max(0, i - 1) : i] + row[i + 1 : i + 2] + other
    for row, others in (
        ("qwertyuiop", "asdfghjkl"),
        ("asdfghjkl", "qwertyuiop"),
        ("zxcvbnm", "asdfghjkl"),
    )
    for i, other in enumerate(others[j : j + 2] for j in range(len(row)))
}


def _weighted_distance(a: str, b: str, sub) -> float:
    """Optimal-string-alignment distance from typed ``a`` to meant ``b``, with
    substitution costs ``sub(typed, meant)``, ``EDIT_COST`` per other edit and
    ``_extra`` to drop a letter of ``a``."""
    edit = EDIT_COST
    prev2: list[float] = []
    prev = [j * edit for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        drop = _extra(a, i - 1)
        cur = [prev[0] + drop] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + drop, cur[j - 1] + edit, prev[j - 1] + sub(a[i - 1], b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + edit)
        prev2, prev = prev, cur
    return prev[len(b)]


_SUBSTITUTIONS: dict[str, dict[str, float]] = {}  # typed → meant → ``_substitution``


@lru_cache(maxsize=8192)
def _drops(a: str) -> tuple[float, ...]:
    """``_extra(a, i)`` for every letter of ``a``."""
    return tuple(_extra(a, i) for i in range(len(a)))


def _channel_distance(a: str, b: str) -> float:
    """``_weighted_distance(a, b, _substitution)``, value for value (the same sums, the
    same minima), with the substitution costs memoised per pair of letters and each cell
    updated without a call (a test checks it against the plain one)."""
    edit = EDIT_COST
    n = len(b)
    prev2: list[float] = []
    prev = [j * edit for j in range(n + 1)]
    before = ""
    for i, (x, drop) in enumerate(zip(a, _drops(a), strict=True)):
        costs = _SUBSTITUTIONS.get(x)
        if costs is None:
            costs = _SUBSTITUTIONS[x] = {}
        row = [costs[y] if y in costs else costs.setdefault(y, _substitution(x, y)) for y in b]
        left = prev[0] + drop
        cur = [left]
        for j in range(1, n + 1):
            best = prev[j] + drop
            other = left + edit
            if other < best:  # noqa: PLR1730 (a call to min per cell costs more)
                best = other
            other = prev[j - 1] + row[j - 1]
            if other < best:  # noqa: PLR1730
                best = other
            if i and j > 1 and x == b[j - 2] and before == b[j - 1]:
                other = prev2[j - 2] + edit
                if other < best:  # noqa: PLR1730
                    best = other
            cur.append(best)
            left = best
        prev2, prev = prev, cur
        before = x
    return prev[n]


_TELEX_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_TELEX_MARKS = (("dd", "đ"), ("aa", "â"), ("ee", "ê"), ("oo", "ô"), ("aw", "ă"))
_TELEX_HORNS = (("uow", "ươ"), ("uwow", "ươ"), ("ow", "ơ"), ("uw", "ư"))
_VOWEL = re.compile(r"[aăâeêioôơuưy]")


@lru_cache(maxsize=8192)
def telex(typed: str) -> str | None:
    """The syllable a Telex typist meant by ``typed`` (``vangf`` → ``vàng``,
    ``dduowngf`` → ``đường``), or None when ``typed`` uses no Telex key."""
    if not typed.isascii() or not typed.isalpha() or len(typed) < 2:
        return None
    text, tone = typed, ""
    if text[-1] in _TELEX_TONES and _VOWEL.search(text[:-1]):
        text, tone = text[:-1], _TELEX_TONES[text[-1]]
    for keys, letter in _TELEX_MARKS + _TELEX_HORNS:
        text = text.replace(keys, letter)
    if text.endswith("w") and len(text) > 1:  # the horn typed after the consonants
        head = text[:-1]
        for plain, horned in (("uo", "ươ"), ("u", "ư"), ("o", "ơ"), ("a", "ă")):
            at = head.rfind(plain)
            if at >= 0:
                text = head[:at] + horned + head[at + len(plain) :]
                break
    if "w" in text:
        text = text.replace("w", "ư")
    if tone:
        vowel = _VOWEL.search(text)
        if vowel is None:
            return None
        at = vowel.end()
        text = normalize_text(unicodedata.normalize("NFD", text[:at]) + tone + text[at:])
    text = unicodedata.normalize("NFC", text)
    return text if text != typed else None


# --------------------------------------------------------------------------- correcting
@dataclass
class _Syllable:
    start: int
    end: int
    typed: str  # as typed (normalised, original case)
    lower: str
    folded: str
    fixed: bool  # digits and codes: kept as typed


@dataclass
class _Candidate:
    form: str
    cost: float  # channel cost
    edited: bool  # letters changed, not only diacritics
    folded: str = ""
    unigram: float = 0.0  # P(form) over the archive
    pid: int = -1  # the pair model's id of the form


def suggest_correction(snapshot_or_structures, query_text: str) -> str | None:
    """The archive's spelling of ``query_text`` when it differs from what was typed.

    Accepts a ``Spelling`` or a snapshot (which builds its own once: ``Snapshot.spelling``).
    Returns None when the query reads well as typed (or has nothing to correct).
    """
    return _answer(_spelling_of(snapshot_or_structures), query_text, True)


def restore_accents(snapshot_or_structures, query_text: str) -> str | None:
    """The archive's accents on ``query_text``, letters unchanged (None when the query
    reads well as typed): ``suggest_correction`` without its edits, a few times cheaper,
    for the query builder's boosts of a query typed without accents."""
    return _answer(_spelling_of(snapshot_or_structures), query_text, False)


def _answer(spelling: Spelling, query_text: str, edits: bool) -> str | None:
    text = normalize_text(query_text or "")
    key = (text, edits)
    cached = spelling.cache.get(key, False)
    if cached is not False:
        spelling.cache.move_to_end(key)
        return cached
    if edits:
        answer = _correct(spelling, text, True)
    else:
        # the query builder asks for the accents of an unaccented query, and /search then
        # offers its correction: both are decoded at once, sharing the transitions
        correction, answer = _correct_both(spelling, text)
        spelling.cache.setdefault((text, True), correction)
    spelling.cache[key] = answer
    while len(spelling.cache) > CACHE_SIZE:
        spelling.cache.popitem(last=False)
    return answer


def _spelling_of(obj) -> Spelling:
    return obj if isinstance(obj, Spelling) else obj.spelling()


def _correct(spelling: Spelling, text: str, edits: bool) -> str | None:
    sylls = _syllables(text)
    if not sylls:
        return None
    options = [_readings(s, spelling, edits) for s in sylls]
    typed = [s.lower for s in sylls]
    typed_score = _path_score(spelling, typed, [0.0] * len(typed))
    steps = [_transitions(spelling, a, b) for a, b in itertools.pairwise(options)]
    best, best_score = _viterbi(spelling, options, steps)
    chosen = best
    if any(c.edited for c in _picked(options, best)):
        accents_only, plain_score = _viterbi(spelling, *_unedited(spelling, options, steps))
        if best_score - plain_score < EDIT_MARGIN:
            chosen, best_score = accents_only, plain_score
    return _spelled(text, sylls, chosen, best_score - typed_score)


def _unedited(
    spelling: Spelling, options: list[list[_Candidate]], steps: list[np.ndarray]
) -> tuple[list, list]:
    """The readings without edits among ``options``, and their transitions taken from
    ``steps`` (each entry depends only on its own pair: the same values); their
    ``_Columns`` are the rows of the whole lists' columns."""
    kept = [[k for k, c in enumerate(opts) if not c.edited] for opts in options]
    plain = []
    for opts, ks in zip(options, kept, strict=True):
        whole = _columns(spelling, opts)
        sub = _Readings(opts[k] for k in ks)
        sub.columns = whole.rows(ks)
        plain.append(sub)
    plain_steps = [
        step[np.ix_(a, b)] for step, (a, b) in zip(steps, itertools.pairwise(kept), strict=True)
    ]
    return plain, plain_steps


def _correct_both(spelling: Spelling, text: str) -> tuple[str | None, str | None]:
    """(``_correct`` with edits, ``_correct`` without) of ``text``, decoded together:
    the readings without edits are those of the readings with them that have none
    (checked: the same forms and costs in the same order), so their transitions are
    taken from the others'; when they are not, they are decoded on their own."""
    sylls = _syllables(text)
    if not sylls:
        return None, None
    options = [_readings(s, spelling, True) for s in sylls]
    typed = [s.lower for s in sylls]
    typed_score = _path_score(spelling, typed, [0.0] * len(typed))
    steps = [_transitions(spelling, a, b) for a, b in itertools.pairwise(options)]
    unedited, unedited_steps = _unedited(spelling, options, steps)
    plain = [_readings(s, spelling, False) for s in sylls]
    if [[(c.form, c.cost) for c in opts] for opts in plain] == [
        [(c.form, c.cost) for c in opts] for opts in unedited
    ]:
        accents, accents_score = _viterbi(spelling, unedited, unedited_steps)
    else:
        accents, accents_score = _viterbi(spelling, plain)
    best, best_score = _viterbi(spelling, options, steps)
    chosen = best
    if any(c.edited for c in _picked(options, best)):
        accents_only, plain_score = _viterbi(spelling, unedited, unedited_steps)
        if best_score - plain_score < EDIT_MARGIN:
            chosen, best_score = accents_only, plain_score
    return (
        _spelled(text, sylls, chosen, best_score - typed_score),
        _spelled(text, sylls, accents, accents_score - typed_score),
    )


def _spelled(text: str, sylls: list[_Syllable], chosen: list[str], gain: float) -> str | None:
    """``text`` with each syllable read as ``chosen`` (its case kept), or None when
    that is what was typed or scores less than ``MARGIN`` above it (``gain``)."""
    if chosen == [s.lower for s in sylls] or gain < MARGIN:
        return None
    out = []
    last = 0
    for s, form in zip(sylls, chosen, strict=True):
        out.append(text[last : s.start])
        out.append(_with_case(form, s.typed))
        last = s.end
    out.append(text[last:])
    result = "".join(out)
    return result if result != text else None


def _picked(options: list[list[_Candidate]], forms: list[str]) -> list[_Candidate]:
    return [next(c for c in opts if c.form == f) for opts, f in zip(options, forms, strict=True)]


def _syllables(text: str) -> list[_Syllable]:
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
        out.append(_Syllable(m.start(), m.end(), typed, lower, folded, _fixed(folded)))
        if len(out) >= MAX_QUERY_SYLLABLES:
            break
    return out


def _fixed(folded: str) -> bool:
    """Whether a syllable is read only as typed (digits, letters of other scripts)."""
    return not folded.isalpha() or not folded.isascii()


def _readings(s: _Syllable, spelling: Spelling, edits: bool) -> list[_Candidate]:
    """``_candidates`` of a syllable, kept per snapshot (bounded)."""
    key = (s.lower, s.fixed, edits)
    found = spelling.readings.get(key)
    if found is None:
        if len(spelling.readings) >= 8 * CACHE_SIZE:
            spelling.readings.clear()
        found = spelling.readings[key] = _Readings(_candidates(s, spelling, edits))
        for c in found:
            c.folded = fold_diacritics(c.form)
            c.unigram = spelling.unigram(c.form)
            c.pid = spelling.pairs.id_of(c.form)
    return found


def _candidates(s: _Syllable, spelling: Spelling, edits: bool) -> list[_Candidate]:
    """The readings of one typed syllable with their channel costs (the typed one first)."""
    found: dict[str, _Candidate] = {s.lower: _Candidate(s.lower, 0.0, False)}
    if s.fixed:
        return list(found.values())
    for form, _ in spelling.forms.get(s.folded, ()):
        if form not in found:
            found[form] = _Candidate(form, channel_cost(s.lower, form), False)
    if s.lower != s.folded and spelling.form_freq.get(s.lower, 0) >= spelling.common_df:
        for c in found.values():  # the typed form is a common one: a valid reading
            if c.form != s.lower:
                c.cost += TYPED_FORM_COST
    if edits and len(s.folded) >= 2:
        extra = REAL_WORD_COST if spelling.folded_df.get(s.folded, 0) >= spelling.common_df else 0
        if s.lower != s.folded and spelling.form_freq.get(s.lower, 0) >= spelling.common_df:
            extra += TYPED_FORM_COST
        for target in spelling.edit_targets(s.folded):
            for form, _ in spelling.forms.get(target, ())[:MAX_EDIT_FORMS]:
                if form not in found:
                    found[form] = _Candidate(form, channel_cost(s.lower, form) + extra, True)
        meant = telex(s.lower)
        if meant and meant in spelling.form_freq:
            found[meant] = _Candidate(meant, TELEX_COST, True)
    return list(found.values())


class _Columns:
    """A list of readings as the decoder reads them: forms, channel costs, unigrams and
    pair-model ids as arrays, their folded forms (each once), and, made when first
    asked for, the pairs each form starts (``given``) and each form's place (``at``)."""

    __slots__ = ("_at", "cost", "folds", "forms", "given", "pids", "unigram")

    def __init__(self, options: list[_Candidate], pairs: PairModel) -> None:
        self.forms = [c.form for c in options]
        self.cost = np.array([c.cost for c in options])
        self.unigram = np.array([c.unigram for c in options])
        self.pids = np.array([c.pid for c in options], dtype=np.int64)
        self.given = pairs.left_counts(self.pids)
        self.folds = tuple(dict.fromkeys(c.folded for c in options))
        self._at: dict[str, int] | None = None

    def rows(self, rows: list[int]) -> _Columns:
        """The columns of the readings at ``rows`` (in that order)."""
        out = _Columns.__new__(_Columns)
        out.forms = [self.forms[k] for k in rows]
        out.cost, out.unigram = self.cost[rows], self.unigram[rows]
        out.pids, out.given = self.pids[rows], self.given[rows]
        out.folds = tuple(dict.fromkeys(fold_diacritics(f) for f in out.forms))
        out._at = None
        return out

    @property
    def at(self) -> dict[str, int]:
        if self._at is None:  # a reading's forms are distinct
            self._at = {form: k for k, form in enumerate(self.forms)}
        return self._at


class _Readings(list):
    """The readings of one typed syllable (``_Candidate``s, kept per snapshot by
    ``_readings``) with their ``_Columns``, made once: neither changes once made."""

    columns: _Columns | None = None


def _columns(spelling: Spelling, options: list[_Candidate]) -> _Columns:
    """``_Columns`` of ``options`` (kept with a ``_Readings``)."""
    if isinstance(options, _Readings):
        if options.columns is None:
            options.columns = _Columns(options, spelling.pairs)
        return options.columns
    return _Columns(options, spelling.pairs)


def _viterbi(
    spelling: Spelling, options: list[list[_Candidate]], steps: list[np.ndarray] | None = None
) -> tuple[list[str], float]:
    """The best reading (one form per syllable) and its score (log probability minus
    channel costs). ``steps``: the ``_transitions`` between neighbours, when known."""
    columns = [_columns(spelling, opts) for opts in options]
    score = np.log(columns[0].unigram) - columns[0].cost
    back: list[np.ndarray] = []
    for i in range(1, len(options)):
        moves = (
            _transitions(spelling, options[i - 1], options[i]) if steps is None else steps[i - 1]
        )
        step = score[:, None] + moves
        came = step.argmax(axis=0)
        back.append(came)
        score = step[came, np.arange(len(columns[i].forms))] - columns[i].cost
    at = int(score.argmax())
    best = float(score[at])
    path = [at]
    for came in reversed(back):
        at = int(came[at])
        path.append(at)
    path.reverse()
    return [columns[i].forms[k] for i, k in enumerate(path)], best


def _transitions(spelling, left: list[_Candidate], right: list[_Candidate]) -> np.ndarray:
    """log P(right | left) for every pair, plus ``WORD_BONUS`` where they form a word."""
    pairs = spelling.pairs
    lcols, rcols = _columns(spelling, left), _columns(spelling, right)
    counts = pairs.pair_counts(lcols.pids, rcols.pids)
    out = np.log((counts + SMOOTHING * rcols.unigram[None, :]) / (lcols.given[:, None] + SMOOTHING))
    words = spelling.words
    for fa in lcols.folds:  # each pair of folded forms looked up once
        for fb in rcols.folds:
            known = words.get(f"{fa}_{fb}")
            if known:  # the pairs of forms spelling one of its words, each once
                left_at, right_at = lcols.at, rcols.at
                for word in {w for w, _ in known}:
                    form_a, _, form_b = word.partition("_")
                    a, b = left_at.get(form_a), right_at.get(form_b)
                    if a is not None and b is not None:
                        out[a, b] += WORD_BONUS
    return out


def _path_score(spelling: Spelling, forms: list[str], costs: list[float]) -> float:
    """The score ``_viterbi`` gives one reading: the same operations on the same values,
    its transitions computed together (``_transitions`` of one form each)."""
    pairs = spelling.pairs
    unigram = np.array([spelling.unigram(f) for f in forms])
    pids = np.array([pairs.id_of(f) for f in forms], dtype=np.int64)
    left, right = pids[:-1], pids[1:]
    counts = np.zeros(left.size)
    seen = (left > 0) & (right > 0)
    if len(pairs.keys):
        counts[seen] = pairs.table.counts_of(left[seen] * pairs.size + right[seen])
    given = pairs.left_counts(left)
    moves = np.log((counts + SMOOTHING * unigram[1:]) / (given + SMOOTHING))
    for i, (a, b) in enumerate(itertools.pairwise(forms)):
        known = spelling.words.get(f"{fold_diacritics(a)}_{fold_diacritics(b)}")
        if known and f"{a}_{b}" in {w for w, _ in known}:
            moves[i] += WORD_BONUS
    score = np.log(unigram[:1]) - np.array(costs[:1])
    for move, cost in zip(moves, costs[1:], strict=True):
        score = score + move - cost
    return float(score[0])


def _with_case(form: str, typed: str) -> str:
    if len(typed) > 1 and typed.isupper():
        return form.upper()
    if typed[:1].isupper():
        return form[:1].upper() + form[1:]
    return form
