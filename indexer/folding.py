"""Text folded for matching: lowercase letters to their ASCII base, length kept.

``prepared_text`` is how the matcher (``search.matching``) reads a stored text, and
``join_terms`` (``indexer.analysis``) writes, at index time, what a code typed in a
query must find there; both read the text through the same functions, so a code's
term is in a document's joins exactly when the matcher would find the code in its text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

from indexer.analysis import HAN, compat_letters, fold_diacritics


def _letter_folds() -> dict[int, str]:
    """Each lowercase letter that folds to one other ASCII letter → that letter
    (``à`` → ``a``, ``đ`` → ``d``): a length-preserving translation table."""
    table: dict[int, str] = {}
    for code in list(range(0x61, 0x7B)) + list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(code)
        if ch.lower() != ch:
            continue
        base = fold_diacritics(ch)
        if len(base) == 1 and base.isascii() and base.isalpha() and base != ch:
            table[code] = base
    return table


LETTER_FOLDS = _letter_folds()
# the same table as an array over code points (those past its end map to themselves):
# folding an article through NumPy costs tens of microseconds, ``str.translate`` with a
# dict hundreds
FOLD_CODES = np.arange(max(LETTER_FOLDS) + 1, dtype=np.uint32)
for _code, _base in LETTER_FOLDS.items():
    FOLD_CODES[_code] = ord(_base)


HAN_RANGES = np.array([(ord(a), ord(b)) for a, b in re.findall(r"(.)-(.)", HAN)], dtype=np.uint32)


def fold_letters(lower: str) -> str:
    """``lower.translate(LETTER_FOLDS)`` (same length)."""
    return folds(lower)[0]


def folds(lower: str) -> tuple[str, str]:
    """(``fold_letters(lower)``, that with every Han character a space): the second is
    where a whole non-Han syllable is ``(?<![^\\W_])…(?![^\\W_])`` (a Han neighbour
    does not join it), with classes that cost nothing to compile."""
    if lower.isascii():
        return lower, lower
    codes = np.frombuffer(lower.encode("utf-32-le"), dtype=np.uint32)
    inside = codes < FOLD_CODES.size
    folded = np.where(inside, FOLD_CODES[np.where(inside, codes, 0)], codes).astype("<u4")
    text = folded.tobytes().decode("utf-32-le")
    if codes.max() < HAN_RANGES[0][0]:
        return text, text
    han = np.zeros(codes.size, dtype=bool)
    for first, last in HAN_RANGES:
        han |= (codes >= first) & (codes <= last)
    if not han.any():
        return text, text
    return text, np.where(han, np.uint32(32), folded).astype("<u4").tobytes().decode("utf-32-le")


@lru_cache(maxsize=64)
def prepared_text(text: str) -> tuple[str, str, str]:
    """(lower, folded, latin) of ``text``: NFC with look-alikes replaced
    (``normalize_text`` without moving tone marks, so of its length), lowercased; that
    with every letter folded to its ASCII base (``LETTER_FOLDS``, same length); and
    that with its Han characters as spaces (``folds``).

    Matching runs on the folded text, where tone placement cannot matter; only a
    syllable typed with diacritics is then checked as typed (``_as_typed``), on its own
    span. Placing tones in a whole article costs a millisecond of Python; a span, nothing.
    """
    lower = compat_letters(unicodedata.normalize("NFC", text)).lower()
    return (lower, *folds(lower))


# --------------------------------------------------------------------------- code joins
HYPHENS = "-‐‑‒–—"
_RUN = re.compile(r"[^\W_]+")  # a letter or digit run of a ``latin`` text (Han are spaces)
_JOIN = re.compile(r"[^\w\s]{1,2}")  # what may join two syllables into a code
JOINER = "-"  # a dash or slash between two runs, as a joins term writes it


def join_separator(sep: str) -> str | None:
    """How a joins term writes a code's separator ``sep`` (1-2 characters, neither
    word nor space): a lone dash or slash as ``JOINER`` (the matcher takes either for
    either: ``28/5`` = ``28-5``), any other as itself; None for two dashes that the
    matcher reads as one (a pair of ``HYPHENS`` standing in it, such as ``‐‑``)."""
    if len(sep) == 1 and (sep in HYPHENS or sep == "/"):
        return JOINER
    if sep in HYPHENS or sep == "/":  # a two-character run of HYPHENS: one character
        return None
    return sep


def join_terms(text: str) -> list[str]:
    """The codes of ``text`` as terms: every two neighbouring letter-or-digit runs of its
    ``latin`` reading (``prepared_text``: NFC, look-alikes replaced, lowercased, letters
    folded, Han as spaces) that one or two characters neither word nor space join,
    written ``run + join_separator(gap) + run`` (``COVID-19`` → ``covid-19``,
    ``2,4`` → ``2,4``, ``TP.HCM`` → ``tp.hcm``).

    A code typed in a query (two syllables, no diacritics, no suffix) is found in a
    text exactly when its term is among these: the matcher (``SequencePattern``)
    searches the same ``latin`` reading for those runs, whole, joined by that
    separator (``search.matching``; a test checks the two agree)."""
    latin = prepared_text(text)[2]
    out = []
    runs = _RUN.finditer(latin)
    last = next(runs, None)
    for run in runs:
        gap = latin[last.end() : run.start()]
        if 0 < len(gap) <= 2 and _JOIN.fullmatch(gap):
            sep = join_separator(gap)
            if sep is not None:
                out.append(f"{last.group()}{sep}{run.group()}")
        last = run
    return out
