"""The Whoosh schema: every field, its analyser, what is stored.

Title and body are each indexed four ways (see ``indexer.analysis``):
exact syllables (``title``, ``body``), accent-folded syllables (``*_fold``), pyvi
words (``*_words``) and adjacent folded syllable pairs (``*_pairs``, proximity as terms:
phrases are chains of pairs, so no field stores positions, which made every posting list
3× slower to read), so that ``search/`` can rank exact-diacritic and word matches above
folded ones. ``category`` and ``officials`` hold display values (``Nguyễn Lan Hương``); ``search/``
matches user input to them through their lexicons, with or without diacritics.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Frequency
from whoosh.system import pack_uint

from indexer.analysis import (
    exact_analyzer,
    fast_terms,
    folded_analyzer,
    pair_analyzer,
    word_analyzer,
)


class FastFrequency(Frequency):
    """Whoosh's Frequency format, fed by ``fast_terms`` when the analyzer is ours."""

    def term_counts(self, value, analyzer) -> dict[str, int]:
        """Each term of ``value`` with its frequency, in first-occurrence order."""
        terms = fast_terms(analyzer, value)
        if terms is None:
            terms = [token.text for token in analyzer(value, mode="index")]
        return Counter(terms)

    def word_values(self, value, analyzer, **kwargs):
        if kwargs.get("mode") != "index":
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        for term, freq in self.term_counts(value, analyzer).items():
            yield term, freq, freq * fb, pack_uint(freq)


def length_bytes(perdoc, fieldname: str, count: int) -> np.ndarray:
    """Every document's length in ``fieldname`` as Whoosh stores it (one byte; 0 where
    absent), read from a segment's per-document reader in one pass."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN

    column = f"_{fieldname}_len"
    if not perdoc.has_column(column):
        return np.zeros(count, dtype=np.uint8)
    return np.fromiter(perdoc.column_reader(column, LENGTHS_COLUMN), np.uint8, count)


def _text(analyzer, stored: bool = False) -> TEXT:
    """A text field of term frequencies (no positions), indexed through ``fast_terms``."""
    field = TEXT(analyzer=analyzer, stored=stored, phrase=False)
    field.format = FastFrequency()
    return field


TEXT_FIELDS = (
    "title",
    "title_fold",
    "title_words",
    "title_pairs",
    "body",
    "body_fold",
    "body_words",
    "body_pairs",
)
SCHEMA_VERSION = 1


def build_schema() -> Schema:
    """The index schema (a new instance each call: Whoosh schemas are mutable)."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=_text(exact_analyzer(), stored=True),
        title_fold=_text(folded_analyzer()),
        title_words=_text(word_analyzer()),
        title_pairs=_text(pair_analyzer()),
        title_derived=BOOLEAN(stored=True),
        body=_text(exact_analyzer(), stored=True),
        body_fold=_text(folded_analyzer()),
        body_words=_text(word_analyzer()),
        body_pairs=_text(pair_analyzer()),
        date=DATETIME(stored=True, sortable=True),
        category=ID(stored=True),
        categories=STORED(),
        source=ID(stored=True),
        url=STORED(),
        views=NUMERIC(stored=True, bits=64),
        officials=KEYWORD(commas=True, scorable=True, lowercase=False),
        officials_json=STORED(),
        content_hash=ID(stored=True),
        indexed_at=STORED(),
    )
