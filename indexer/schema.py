"""The Whoosh schema: every field, its analyser, what is stored.

Title and body are each indexed three ways (see ``indexer.analysis``):
exact syllables (``title``, ``body``), accent-folded syllables (``*_fold``) and pyvi
words (``*_words``), so that ``search/`` can rank exact-diacritic and word matches above
folded ones. ``category`` and ``officials`` hold display values (``Nguyễn Lan Hương``); ``search/``
matches user input to them through their lexicons, with or without diacritics.
"""

from __future__ import annotations

from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from indexer.analysis import exact_analyzer, folded_analyzer, word_analyzer

TEXT_FIELDS = ("title", "title_fold", "title_words", "body", "body_fold", "body_words")
SCHEMA_VERSION = 1


def build_schema() -> Schema:
    """The index schema (a new instance each call: Whoosh schemas are mutable)."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=exact_analyzer(), stored=True, phrase=True),
        title_fold=TEXT(analyzer=folded_analyzer(), phrase=True),
        title_words=TEXT(analyzer=word_analyzer(), phrase=False),
        title_derived=BOOLEAN(stored=True),
        body=TEXT(analyzer=exact_analyzer(), stored=True, phrase=True),
        body_fold=TEXT(analyzer=folded_analyzer(), phrase=True),
        body_words=TEXT(analyzer=word_analyzer(), phrase=False),
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
