"""Snippets: a short excerpt of the original text with the matched words in ``<mark>``.

The stored text is the original (NFC); analysis is length-preserving, so syllable
offsets found on the normalised text point straight into it. Nothing from segmentation
(no ``_``) can reach the output, and everything outside the marks is HTML-escaped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import numpy as np

from indexer.analysis import SYLLABLE_PATTERN, compat_letters, fold_diacritics, normalize_text
from search.matching import (
    Sequence,
    Syllable,
    pattern_for,
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


def _unit_matches(text: str, units: list) -> np.ndarray:
    """(start, end, weight) rows, sorted and distinct, of every occurrence of the query's
    units (a phrase or code is one span, weight 2; a syllable weight 1, typed with
    diacritics only where it is spelled so)."""
    units = list(dict.fromkeys(units))
    starts, ends = syllable_span_arrays(text, [u for u in units if isinstance(u, Syllable)])
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
        matches = _unit_matches(text, units)
        start, end = _snap(text, *_best_window(matches, len(text)))
        rows = matches[(matches[:, 0] >= start) & (matches[:, 1] <= end)]
        inside = list(zip(rows[:, 0].tolist(), rows[:, 1].tolist(), rows[:, 2].tolist()))
    else:
        matches = _matches(text, folded_terms, exact_terms or set())
        start, end = _snap(text, *_best_window(matches, len(text)))
        inside = [m for m in matches if m[0] >= start and m[1] <= end]
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
