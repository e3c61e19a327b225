"""Snippets: a short excerpt of the original text with the matched words in ``<mark>``.

The stored text is the original (NFC); analysis is length-preserving, so syllable
offsets found on the normalised text point straight into it. Nothing from segmentation
(no ``_``) can reach the output, and everything outside the marks is HTML-escaped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left, bisect_right
from functools import lru_cache

import numpy as np

from indexer.analysis import SYLLABLE_PATTERN, compat_letters, fold_diacritics, normalize_text
from search.matching import (
    Sequence,
    Syllable,
    ascii_plan,
    joined_scan,
    pattern_for,
    scan_spans,
    scan_text,
    syllable_span_arrays,
)

WINDOW = 220


def _matches(
    text: str, folded_terms: set[str], exact_terms: set[str]
) -> list[tuple[int, int, int]]:
    """(start, end, weight) of each syllable of ``text`` that the query matched.

    One regular-expression pass over the folded, lowercased text (both transformations
    keep the length of NFC text), instead of folding every syllable in Python.
    """
    if not folded_terms:
        return []
    lower = normalize_text(text).lower()
    folded = fold_diacritics(lower)
    if len(folded) != len(text):  # exotic input: fall back to syllable by syllable
        return _matches_slow(text, folded_terms, exact_terms)
    pattern = _terms_pattern(frozenset(folded_terms))
    out = []
    for m in pattern.finditer(folded):
        start, end = m.span()
        weight = 2 if (not exact_terms or lower[start:end] in exact_terms) else 1
        out.append((start, end, weight))
    return out


@lru_cache(maxsize=256)
def _terms_pattern(terms: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def _matches_slow(
    text: str, folded_terms: set[str], exact_terms: set[str]
) -> list[tuple[int, int, int]]:
    out = []
    for m in SYLLABLE_PATTERN.finditer(normalize_text(text)):
        syl = m.group().lower()
        if fold_diacritics(syl) in folded_terms:
            weight = 2 if (not exact_terms or syl in exact_terms) else 1
            out.append((m.start(), m.end(), weight))
    return out


def _best_window(matches, length: int) -> tuple[int, int]:
    """The window of WINDOW characters holding the most (distinct, weighted) matches
    (``matches``: (start, end, weight) rows by start, a list or a (k, 3) array)."""
    if not len(matches):
        return 0, min(length, WINDOW)
    spans = np.asarray(matches, dtype=np.int64).reshape(-1, 3)
    # window i holds matches i..j-1: j is the first match ending past start_i + WINDOW
    # (the scan from the previous window's j passed only matches ending before it, so
    # the first by running maximum of the ends)
    ends = np.maximum.accumulate(spans[:, 1])
    i = np.arange(spans.shape[0])
    j = np.searchsorted(ends, spans[:, 0] + WINDOW, side="right")
    held = np.maximum(j - i, 0)
    weight = spans[:, 2]
    if weight.min() == weight.max() == 1:
        score = held  # the weights sum to ``held``: the score is 1.5 × held
    else:
        weights = np.concatenate([[0], np.cumsum(weight)])
        score = np.where(held > 0, weights[j] - weights[i], 0) + 0.5 * held
    first_best = int(np.argmax(score))  # the first of the best, as a scan keeps it
    first = int(spans[first_best, 0])
    last = int(spans[int(j[first_best]) - 1, 1])
    slack = max(0, WINDOW - (last - first))
    start = max(0, first - slack // 3)
    end = min(length, max(last, start + WINDOW))
    return start, end


def _syllables_window(starts: np.ndarray, ends: np.ndarray, length: int) -> tuple[int, int]:
    """``_best_window`` of disjoint spans by start, each of weight 1 (syllables): their
    ends ascend already, and the best window is the one holding the most."""
    if not starts.size:
        return 0, min(length, WINDOW)
    j = np.searchsorted(ends, starts + WINDOW, side="right")
    held = np.maximum(j - np.arange(starts.size), 0)
    first_best = int(np.argmax(held))  # the first of the best, as a scan keeps it
    first = int(starts[first_best])
    last = int(ends[int(j[first_best]) - 1])
    slack = max(0, WINDOW - (last - first))
    start = max(0, first - slack // 3)
    end = min(length, max(last, start + WINDOW))
    return start, end


def _snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Move window edges to word boundaries."""
    if start > 0:
        space = text.rfind(" ", max(0, start - 20), start)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.find(" ", end, end + 20)
        end = space if space >= 0 else end
    return start, end


def _unit_matches(text: str, units: list, syllables=None) -> np.ndarray:
    """(start, end, weight) rows, sorted and distinct, of every occurrence of the query's
    units (a phrase or code is one span, weight 2; a syllable weight 1, typed with
    diacritics only where it is spelled so). ``syllables``: the (starts, ends) of the
    syllable units in ``text`` when the caller has them."""
    units = list(dict.fromkeys(units))
    if syllables is None:
        syllables = syllable_span_arrays(text, [u for u in units if isinstance(u, Syllable)])
    starts, ends = syllables
    rows = np.stack([starts, ends, np.ones(starts.size, dtype=np.int64)], axis=1)
    sequences = [u for u in units if isinstance(u, Sequence)]
    if not sequences:
        return rows  # distinct spans by start: already sorted
    out = {(a, b, 1) for a, b in zip(starts.tolist(), ends.tolist())}
    for unit in sequences:
        out.update((a, b, 2) for a, b in pattern_for(unit).spans(text))
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 3)


def _joins(gap: str) -> bool:
    """Whether two matches with ``gap`` between them are marked as one."""
    return gap.strip(" ") == "" or gap == "-"


def make_snippet(
    text: str,
    folded_terms: set[str],
    exact_terms: set[str] | None = None,
    units: list | None = None,
) -> str:
    """An HTML excerpt of ``text`` around the best cluster of matched syllables (of
    ``units`` when given: ``search.matching``)."""
    if not text:
        return ""
    scan = scan_text(text)
    normal = scan.normal if scan is not None else compat_letters(unicodedata.normalize("NFC", text))
    if len(normal) != len(text):
        text = normalize_text(text)  # offsets below are into the normalised text
    if units is not None and not any(isinstance(u, Sequence) for u in units):
        # syllables only: disjoint spans by start
        starts, ends = syllable_span_arrays(text, list(dict.fromkeys(units)))
        start, end = _snap(text, *_syllables_window(starts, ends, len(text)))
        lo = int(np.searchsorted(starts, start))
        hi = int(np.searchsorted(ends, end, side="right"))
        inside = [(a, b, 1) for a, b in zip(starts[lo:hi].tolist(), ends[lo:hi].tolist())]
    elif units is not None:
        start, end, inside = _window_of_units(text, _unit_matches(text, units))
    else:
        matches = _matches(text, folded_terms, exact_terms or set())
        start, end = _snap(text, *_best_window(matches, len(text)))
        inside = [m for m in matches if m[0] >= start and m[1] <= end]
    return _render(text, start, end, inside)


def _window_of_units(text: str, matches: np.ndarray) -> tuple[int, int, list]:
    """(start, end, the rows of ``matches`` inside) of the best window (``_best_window``)
    of ``matches`` (``_unit_matches``), its edges at word boundaries."""
    start, end = _snap(text, *_best_window(matches, len(text)))
    rows = matches[(matches[:, 0] >= start) & (matches[:, 1] <= end)]
    return start, end, list(zip(rows[:, 0].tolist(), rows[:, 1].tolist(), rows[:, 2].tolist()))


def _render(text: str, start: int, end: int, inside: list) -> str:
    """``text[start:end]`` as HTML, ``inside`` ((start, end, weight) by start) marked."""
    parts = ["…" if start > 0 else ""]
    pos = start
    k = 0
    while k < len(inside):
        s, e, _ = inside[k]
        # one mark over consecutive matches separated only by spaces or a hyphen inside
        # a word (COVID-19); a dash between spaces is punctuation: "[Hà] - [Ủy viên]"
        while k + 1 < len(inside) and _joins(text[e : inside[k + 1][0]]):
            k += 1
            e = max(e, inside[k][1])
        parts.append(html.escape(text[pos:s]))
        parts.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
        k += 1
    parts.append(html.escape(text[pos:end]))
    if end < len(text):
        parts.append("…")
    return "".join(parts).replace("\n", " ")


def make_snippets(texts: list[str], units: list) -> list[str]:
    """``make_snippet(text, set(), units=units)`` of each of ``texts``.

    Where the syllable units are found through the code-point tables
    (``search.matching.scan_spans``), they are found in all the texts at once, joined
    (``joined_scan``); without phrases or codes, each text's best window is then chosen
    among its own spans in the same array operations. Other texts and units take
    ``make_snippet``."""
    units = list(dict.fromkeys(units))
    sequences = any(isinstance(u, Sequence) for u in units)
    plan = ascii_plan([u for u in units if isinstance(u, Syllable)])
    if plan is None:
        return [make_snippet(text, set(), units=units) for text in texts]
    scan, bases, read = joined_scan(texts)
    starts, ends = scan_spans(scan, plan)
    # spans of text k: edges[k]:edges[k + 1] (line breaks hold none)
    edges = np.searchsorted(starts, bases)
    best = np.full(len(texts), -1, dtype=np.int64)
    j = starts
    if starts.size and not sequences:
        # the window from span i holds spans i..j-1 of its own text (``_syllables_window``)
        owner = np.searchsorted(bases, starts, side="right") - 1
        j = np.minimum(np.searchsorted(ends, starts + WINDOW, side="right"), edges[owner + 1])
        held = np.maximum(j - np.arange(starts.size), 0)
        firsts = edges[:-1][edges[:-1] < edges[1:]]
        most = np.maximum.reduceat(held, firsts)
        counts = np.diff(np.append(firsts, starts.size))
        at_most = np.flatnonzero(held == np.repeat(most, counts))
        texts_with, first_of = np.unique(owner[at_most], return_index=True)
        best[texts_with] = at_most[first_of]  # the first of the best, as a scan keeps it
    starts_l, ends_l, j_l = starts.tolist(), ends.tolist(), j.tolist()
    edges_l, bases_l, best_l = edges.tolist(), bases.tolist(), best.tolist()
    out = []
    for k, text in enumerate(texts):
        base, lo, hi = bases_l[k], edges_l[k], edges_l[k + 1]
        if not text:
            out.append("")
            continue
        if not read[k] or len(text) != bases_l[k + 1] - 1 - base:
            out.append(make_snippet(text, set(), units=units))
            continue
        if sequences:
            own = (starts[lo:hi] - base, ends[lo:hi] - base)
            start, end, inside = _window_of_units(text, _unit_matches(text, units, own))
            out.append(_render(text, start, end, inside))
            continue
        length = len(text)
        at = best_l[k]
        if at < 0:
            start, end = 0, min(length, WINDOW)
        else:
            first = starts_l[at] - base
            last = ends_l[j_l[at] - 1] - base
            slack = max(0, WINDOW - (last - first))
            start = max(0, first - slack // 3)
            end = min(length, max(last, start + WINDOW))
        start, end = _snap(text, start, end)
        first_in = bisect_left(starts_l, start + base, lo, hi)
        past = bisect_right(ends_l, end + base, lo, hi)
        inside = [(starts_l[i] - base, ends_l[i] - base, 1) for i in range(first_in, past)]
        out.append(_render(text, start, end, inside))
    return out
