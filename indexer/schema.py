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

from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from indexer.analysis import (
    break_pair_analyzer,
    exact_analyzer,
    folded_analyzer,
    join_analyzer,
    pair_analyzer,
    word_analyzer,
)

# older indexes pickled FastFrequency under this module: it must stay importable here
from indexer.segments.formats import FastFrequency


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
    "title_breaks",
    "body_breaks",
    "title_joins",
    "body_joins",
)
SCHEMA_VERSION = 1


def sentence_aware_pairs(schema: Schema) -> bool:
    """Whether the index tells pairs within a sentence apart (``*_breaks``: indexes
    built before it have only ``*_pairs``)."""
    return "body_breaks" in schema and "title_breaks" in schema


def code_joins(schema: Schema) -> bool:
    """Whether the index writes each text's codes as terms (``*_joins``: a code typed in
    a query is then found without reading stored text; indexes built before it lack
    them and read the text)."""
    return "body_joins" in schema and "title_joins" in schema


def build_schema() -> Schema:
    """The index schema (a new instance each call: Whoosh schemas are mutable)."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=_text(exact_analyzer(), stored=True),
        title_fold=_text(folded_analyzer()),
        title_words=_text(word_analyzer()),
        title_pairs=_text(pair_analyzer()),
        title_breaks=_text(break_pair_analyzer()),
        title_joins=_text(join_analyzer()),
        title_derived=BOOLEAN(stored=True),
        body=_text(exact_analyzer(), stored=True),
        body_fold=_text(folded_analyzer()),
        body_words=_text(word_analyzer()),
        body_pairs=_text(pair_analyzer()),
        body_breaks=_text(break_pair_analyzer()),
        body_joins=_text(join_analyzer()),
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
