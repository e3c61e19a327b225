"""The learned name-to-title linker: officials the rules of ``indexer.officials`` missed.

The rules link a name to a title written in one of the shapes they know. Fresh articles
keep bringing shapes they do not know (a name with no title beside it, a list after a
body used as a person noun, a title ending in a place word), so every person-shaped span
the rules did not take is scored here by a logistic model over cues from its context,
and kept when the score passes the threshold chosen by cross-validation on the tune split.

* **Candidates**: capitalised runs shaped like a Vietnamese full name (a known surname
  and one to three more syllables), like a foreign name (two to four words, one in a
  spelling no Vietnamese syllable has), or like a name after ``ông/bà/ngài``; leading
  honorifics, places, abbreviations and organisation words are cut off. One candidate per
  name and article; a name the rules took, or one of their names contains, is not one.
* **Features** (``FEATURES``): the nearest title or rank before and after each mention
  (words away, across a comma, junior), honorifics, a public body or a business word
  nearby, the name in a list with an official the rules found, in the headline, opening
  its sentence, its given name written after a title elsewhere, cue words of
  ``data/linker_cues.txt``, and the name's shape. Each feature is the largest over the
  name's mentions.
* **Model**: ``data/official_linker.json``, written by ``python -m
  bench.train_official_linker`` (scikit-learn, the ``train`` extra; see
  docs/benchmarks.md): feature means and scales, weights, bias and threshold. Scoring is
  a dot product here; without the file the linker adds nothing.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer import officials as rules

DATA_DIR = Path(__file__).with_name("data")
MODEL_PATH = DATA_DIR / "official_linker.json"
NEAR_CHARS = 80  # how far around a mention a public body or a business word counts
MAX_NAME_WORDS = 4

FEATURES = (
    "title_before",  # 1/(1 + words) to the nearest title or rank ending before, same sentence
    "title_before_adjacent",  # that title right before the name
    "title_before_comma",  # a comma between that title and the name
    "title_after",  # 1/(1 + words) to the nearest title starting after, same sentence
    "title_apposed_after",  # ", title" / "(title" / "- title" right after the name
    "junior_title",  # the nearest title is a junior one (cán bộ, nhân viên)
    "title_public",  # the nearest title's phrase names a public body (UBND, Bộ, công an)
    "title_business",  # the nearest title's phrase is a company's, club's, school's…
    "title_before_public",  # title_before × title_public
    "title_before_business",  # title_before × title_business
    "title_after_public",  # title_after × title_public
    "rank_before",  # a rank or "đồng chí" right before
    "courtesy_before",  # ông / bà / ngài right before
    "public_near",  # a public body word within NEAR_CHARS
    "business_near",  # a company, market, school… word within NEAR_CHARS
    "org_before",  # an organisation form right before (Công ty, báo)
    "place_before",  # a place word right before (tỉnh, huyện, đường)
    "place_before_two_words",  # that, and the name has two words ("thôn Đồng Đầm")
    "of_before",  # "của" right before
    "list_with_official",  # joined by a comma or "và" to a name the rules found
    "sentence_official",  # a name the rules found in the same sentence
    "in_headline",
    "opens_sentence",
    "given_titled",  # its given name written right after a title elsewhere
    "legal_sentence",
    "speech_after",
    "meet_sentence",
    "person_before",  # a plain person noun right before (anh, nạn nhân)
    "power_sentence",
    "mentions",  # log(1 + mentions of the full name)
    "article_officials",  # log(1 + names the rules found in the article)
    "article_titles",  # log(1 + titles in the article)
    "shape_vn",
    "shape_foreign",
    "shape_addressed",  # after ông/bà, no known surname ("ông Tep Ngôn")
    "words_3",
    "words_4",
    "hyphen",
)
_INDEX = {name: i for i, name in enumerate(FEATURES)}
_TITLE_KINDS = {"position", "junior", "rank"}
_SPEECH_AFTER_CHARS = 40


@dataclass
class Context:
    """What the rules worked out for one article (``indexer.officials``' private state)."""

    doc: rules._Doc
    triggers: list[re.Match[str]]
    bounds: list[int]  # sentence starts, then the text's length
    head_len: int  # the headline and its blank line, 0 without one
    found: list[rules.Official]


@dataclass
class Candidate:
    """One person-shaped name of an article, with its features (largest over mentions)."""

    name: str
    key: str
    shape: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    features: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    title: str = ""  # the title nearest to a mention, for the official's positions
    taken: bool = False  # the rules output this name (or one that contains it)


@dataclass(frozen=True)
class Model:
    """A logistic model: ``sigmoid(((x - mean) / scale) · weights + bias) >= threshold``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of being an official, one per row of ``x`` (n × len(FEATURES))."""
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> Model | None:
    """The committed model, or None when there is none (then nothing is linked).

    Raises ValueError when the file was written for other features than ``FEATURES``."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{path}: written for other features; retrain the linker")
    return Model(
        np.array(data["mean"], dtype=float),
        np.array(data["scale"], dtype=float),
        np.array(data["weights"], dtype=float),
        float(data["bias"]),
        float(data["threshold"]),
    )


def link(context: Context, model: Model | None = None) -> list[rules.Official]:
    """Officials among the candidates the rules did not take, best first."""
    model = model or load_model()
    if model is None:
        return []
    fresh = candidates(context)
    if not fresh:
        return []
    p = model.scores(np.stack([c.features for c in fresh]))
    kept = sorted((-p[i], c.spans[0][0], i) for i, c in enumerate(fresh) if p[i] >= model.threshold)
    out = []
    for _, _, i in kept:
        c = fresh[i]
        out.append(rules.Official(c.name, [c.title] if c.title else []))
    return out


# --------------------------------------------------------------------------- cues
@lru_cache(maxsize=1)
def _cues() -> dict[str, re.Pattern[str]]:
    by_kind: dict[str, list[str]] = {}
    for line in rules._read_lines("linker_cues.txt"):
        kind, phrase = line.split(None, 1)
        by_kind.setdefault(kind, []).append(phrase)
    cues = {
        kind: re.compile(rf"(?<!\w)(?:{rules._alternation(phrases)})(?!\w)", re.IGNORECASE)
        for kind, phrases in by_kind.items()
    }
    cues["person_before"] = re.compile(rf"(?:{cues['person'].pattern})\s*$", re.IGNORECASE)
    return cues


# --------------------------------------------------------------------------- candidates
# a capitalised word, a space, a capital: the only places a run of two words can start
_TWO_CAPITALS = re.compile(
    rf"(?<![\w.-])(?:(?:al|el|bin|ibn|abu|ben|ul)-)?[{rules._U}][^\s]*[ \u00a0]+"
    rf"(?:{rules._PARTICLE}[ ]+)?[{rules._U}]"
)
_OPENS = re.compile(r"(?:^|[.!?:\n])[\s\"“'(-]*$")
_POSSESSIVE = re.compile(r"['’]s$")
_LEADING_KINDS = {"courtesy", "comrade", "rank", "position", "junior"}
_ADDRESS = re.compile(r"(?<!\w)(?:ông|bà|ngài)\s+$", re.IGNORECASE)


def _opener(toks: list[tuple[int, str]], ctx: Context) -> bool:
    """Whether a run's first word opens its sentence and is a common word there (an opener
    of ``linker_cues.txt``, or written in lowercase elsewhere): ``Tại Hàn Quốc``."""
    return (
        len(toks) > 1
        and toks[0][1] not in ctx.doc.lex.surnames
        and _OPENS.search(ctx.doc.text, max(0, toks[0][0] - 4), toks[0][0]) is not None
        and (
            _cues()["opener"].fullmatch(toks[0][1]) is not None
            or rules._written_lowercase(toks[0][1], ctx.doc)
        )
    )


def _names_in_run(run: re.Match[str], ctx: Context) -> list[tuple[int, int, str]]:
    """(start, end, shape) of the person-shaped name inside one capitalised run, if any."""
    lex = ctx.doc.lex
    words = run.group(0)
    if " " not in words and "\xa0" not in words:
        return []  # one word: no candidate (most runs: a sentence's first word)
    toks = [(m.start() + run.start(), m.group(0)) for m in rules.TOKEN_RE.finditer(words)]
    while toks and lex.kinds.get(rules._head_key(toks[0][1])) in _LEADING_KINDS:
        toks.pop(0)
    if _opener(toks, ctx):
        toks.pop(0)  # capitalised only as a sentence's first word ("Theo Reuters")
    while toks and (toks[-1][1] in lex.degrees or toks[-1][1] in lex.not_given):
        toks.pop()
    if len(toks) < 2:
        return []
    words = [t for _, t in toks]
    skip = rules._strip_places(words, lex)
    while skip < len(words) and words[skip] in lex.org_starts:
        skip += 1
        skip += rules._strip_places(words[skip:], lex)
    brand = max((i + 1 for i, t in enumerate(words) if t in lex.foreign_orgs), default=0)
    if brand > skip:  # "Samsung Electronics Lee Kun-hee": the person after the company
        skip = brand + rules._strip_places(words[brand:], lex)
    toks = toks[skip:]
    if len(toks) < 2:
        return []
    words = [t for _, t in toks]
    end = toks[-1][0] + len(toks[-1][1])
    # a Vietnamese full name: a known surname, then one to three more syllables to the end
    for i, (start, tok) in enumerate(toks):
        n = len(toks) - i
        if n < 2:
            break
        if n > MAX_NAME_WORDS or tok not in lex.surnames:
            continue
        tail = words[i:]
        if all(rules.VN_SYLLABLE_RE.fullmatch(t) and rules._looks_vietnamese(t) for t in tail):
            return [(start, end, "vn")]
    # a foreign name: the run's last words, one at least in a foreign spelling
    k = len(toks)
    while k > 0 and not rules._is_abbreviation(toks[k - 1][1]):
        k -= 1
    tail = toks[k:]
    if len(tail) > MAX_NAME_WORDS:
        tail = tail[-MAX_NAME_WORDS:]
    names = [t for _, t in tail]
    if (
        len(names) >= 2
        and not any(_POSSESSIVE.search(t) for t in names)  # "Shepherd's Bush": a place
        and all(rules._is_foreign_token(t) for t in names)
        and any(not rules._looks_vietnamese(t) for t in names)
        and rules._names_someone(names)
    ):
        return [(tail[0][0], end, "foreign")]
    # after ông/bà/ngài: two or three syllables without a known surname ("ông Tep Ngôn")
    text = ctx.doc.text
    if (
        2 <= len(toks) <= 3
        and skip == 0
        and all(rules.VN_SYLLABLE_RE.fullmatch(t) for t in words)
        and _ADDRESS.search(text, max(0, toks[0][0] - 8), toks[0][0])
    ):
        return [(toks[0][0], end, "addressed")]
    return []


def _runs(text: str, sentences: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """The capitalised runs of two words or more inside ``sentences``."""
    for lo, hi in sentences:
        at = lo
        while True:
            two = _TWO_CAPITALS.search(text, at, hi)  # where such a run may start
            if two is None:
                break
            run = rules.RUN_RE.match(text, two.start(), hi)
            if run is None:
                at = two.end() - 1
                continue
            at = run.end()
            yield run


def candidates(ctx: Context, taken_too: bool = False) -> list[Candidate]:
    """The person-shaped names of the article the rules did not take (``taken_too``: all of
    them, as training reads them), with their features, in order of first mention."""
    doc = ctx.doc
    text = doc.text
    by_key: dict[str, Candidate] = {}
    keys: dict[str, str] = {}
    for run in _runs(text, rules._sentences(ctx.triggers, ctx.bounds)):
        for start, end, shape in _names_in_run(run, ctx):
            name = doc.original[start:end]
            key = keys.get(name)
            if key is None:
                key = keys[name] = rules.normalize_name_key(name)
            cand = by_key.get(key)
            if cand is None:
                cand = by_key[key] = Candidate(name, key, shape)
            cand.spans.append((start, end))
    if not by_key:
        return []
    found_keys = [rules.normalize_name_key(o.name) for o in ctx.found]
    for cand in by_key.values():
        cand.taken = any(
            rules._may_stand_for(cand.key, f) or rules._may_stand_for(f, cand.key)
            for f in found_keys
        )
    cands = [c for c in by_key.values() if taken_too or not c.taken]
    if cands:
        _features(cands, ctx)
    return cands


_COMRADE_BEFORE = re.compile(r"(?<!\w)(?:đồng chí|đ/c)\s+$", re.IGNORECASE)
_OF_BEFORE = re.compile(r"(?<!\w)của\s+$")
_APPOSED = re.compile(r"\s*(?:[,(:–—-]|\(.{0,30}?,)\s*(?:là\s+|nguyên\s+)?")
_LISTED = re.compile(r"\s*(?:,|và|,\s*và)\s*")


def _features(cands: list[Candidate], ctx: Context) -> None:
    """Fill each candidate's ``features`` (the largest value over its mentions) and ``title``."""
    doc, lex = ctx.doc, ctx.doc.lex
    text, bounds = doc.text, ctx.bounds
    titles = [t for t in ctx.triggers if rules._kind(t, lex) in _TITLE_KINDS]
    title_kind = [rules._kind(t, lex) for t in titles]
    title_starts = [t.start() for t in titles]
    title_ends = [t.end() for t in titles]
    cues = _cues()
    # where the rules' officials are written, and which given names follow a title
    official_spans = sorted(
        (m.start(), m.end())
        for n in {o.name for o in ctx.found}
        for m in re.finditer(re.escape(n), doc.original)
    )
    after_title = set()
    for t in titles:
        nxt = (
            rules.TOKEN_RE.match(text, t.end() + 1) if text[t.end() : t.end() + 1] == " " else None
        )
        if nxt is not None:
            after_title.add(nxt.group(0))
    n_found = math.log1p(len(ctx.found))
    n_titles = math.log1p(len(titles))
    by_sentence: dict[int, tuple[bool, bool, bool]] = {}
    I = _INDEX
    for cand in cands:
        f = [0.0] * len(FEATURES)
        f[I["mentions"]] = math.log1p(len(cand.spans))
        f[I["article_officials"]] = n_found
        f[I["article_titles"]] = n_titles
        f[I["shape_" + cand.shape]] = 1.0
        words = cand.name.split()
        f[I["words_3"]] = float(len(words) == 3)
        f[I["words_4"]] = float(len(words) >= 4)
        f[I["hyphen"]] = float("-" in cand.name)
        f[I["given_titled"]] = float(words[-1] in after_title)
        # the nearest title, and where the name it stands before starts (len(text): after it)
        best_gap: tuple[int, re.Match[str], int] | None = None
        for s, e in cand.spans:
            j = bisect.bisect_right(bounds, s) - 1
            ss, se = bounds[max(j, 0)], bounds[min(j + 1, len(bounds) - 1)]
            before = text[max(ss, s - NEAR_CHARS) : s]
            k = bisect.bisect_right(title_ends, s) - 1  # the last title ending before s
            if k >= 0 and title_starts[k] >= ss:
                n = len(text[title_ends[k] : s].split())
                f[I["title_before"]] = max(f[I["title_before"]], 1 / (1 + n))
                if n == 0:
                    f[I["title_before_adjacent"]] = 1.0
                    if title_kind[k] == "rank":
                        f[I["rank_before"]] = 1.0
                if "," in text[title_ends[k] : s]:
                    f[I["title_before_comma"]] = 1.0
                if title_kind[k] == "junior":
                    f[I["junior_title"]] = 1.0
                if best_gap is None or n < best_gap[0]:
                    best_gap = (n, titles[k], s)
            k = bisect.bisect_left(title_starts, e)  # the first title starting after e
            if k < len(titles) and title_starts[k] < se:
                gap = text[e : title_starts[k]]
                n = len(gap.split())
                f[I["title_after"]] = max(f[I["title_after"]], 1 / (1 + n))
                if _APPOSED.fullmatch(gap):
                    f[I["title_apposed_after"]] = 1.0
                if title_kind[k] == "junior":
                    f[I["junior_title"]] = 1.0
                if best_gap is None or n < best_gap[0]:
                    best_gap = (n, titles[k], len(text))
            if _COMRADE_BEFORE.search(before):
                f[I["rank_before"]] = 1.0
            if rules._ADDRESSED_BEFORE.search(before):
                f[I["courtesy_before"]] = 1.0
            lo, hi = max(ss, s - NEAR_CHARS), min(se, e + NEAR_CHARS)
            if lex.public_re.search(text, lo, hi):
                f[I["public_near"]] = 1.0
            if lex.non_official_re.search(text, lo, hi) or lex.business_context_re.search(
                text, lo, hi
            ):
                f[I["business_near"]] = 1.0
            if lex.org_form_re.search(before):
                f[I["org_before"]] = 1.0
            if lex.place_word_re.search(before) or rules._STREET_BEFORE.search(before):
                f[I["place_before"]] = 1.0
            if _OF_BEFORE.search(before):
                f[I["of_before"]] = 1.0
            if s < ctx.head_len:
                f[I["in_headline"]] = 1.0
            if not text[ss:s].strip(' "“-–('):
                f[I["opens_sentence"]] = 1.0
            o = bisect.bisect_left(official_spans, (ss, -1))
            while o < len(official_spans) and official_spans[o][0] < se:
                os_, oe = official_spans[o]
                o += 1
                if (os_, oe) == (s, e):
                    continue
                f[I["sentence_official"]] = 1.0
                if _LISTED.fullmatch(text, oe, s) if oe <= s else _LISTED.fullmatch(text, e, os_):
                    f[I["list_with_official"]] = 1.0
            cue = by_sentence.get(ss)
            if cue is None:
                cue = by_sentence[ss] = (
                    cues["legal"].search(text, ss, se) is not None,
                    cues["meet"].search(text, ss, se) is not None,
                    cues["power"].search(text, ss, se) is not None,
                )
            if cue[0]:
                f[I["legal_sentence"]] = 1.0
            if cue[1]:
                f[I["meet_sentence"]] = 1.0
            if cue[2]:
                f[I["power_sentence"]] = 1.0
            if cues["speech"].search(text, e, min(se, e + _SPEECH_AFTER_CHARS)):
                f[I["speech_after"]] = 1.0
            if cues["person_before"].search(before):
                f[I["person_before"]] = 1.0
        if f[I["place_before"]] and len(words) == 2:
            f[I["place_before_two_words"]] = 1.0
        if best_gap is not None:
            _, t, name_start = best_gap
            window = rules._window(doc, t.start(), len(text))
            shown = min(t.start() + len(window), name_start)  # a title before stops at the name
            cand.title = rules._clean_position(doc.original[t.start() : shown])
            if lex.public_re.search(window):
                f[I["title_public"]] = 1.0
            public = f[I["title_public"]]
            if rules._is_non_official(window, lex) or (
                not public and lex.business_title_re.match(window)
            ):  # a company's or club's; a bare "Chủ tịch" only without a public body
                f[I["title_business"]] = 1.0
        f[I["title_before_public"]] = f[I["title_before"]] * f[I["title_public"]]
        f[I["title_before_business"]] = f[I["title_before"]] * f[I["title_business"]]
        f[I["title_after_public"]] = f[I["title_after"]] * f[I["title_public"]]
        cand.features = np.array(f)
