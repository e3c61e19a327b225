"""Peer engines measured beside ours: SQLite FTS5 and Whoosh's StandardAnalyzer.

Each peer has ``build(articles)``, ``search(query, k) -> list[id]`` and
``related(article_id, k) -> list[id]``; none of them prints per query or raises on
odd user text. ``build_seconds`` holds the last build time. Articles may be dicts
(``id``/``title``/``body``) or objects with those attributes (``indexer.article.Article``).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from whoosh import index
from whoosh.analysis import StandardAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup

_WORD = re.compile(r"[^\W_]+")
RELATED_TERMS = 25


class Engine(Protocol):
    """What a benchmark needs from an engine (ours or a peer)."""

    def search(self, query: str, k: int) -> list[str]: ...

    def related(self, article_id: str, k: int) -> list[str]: ...


def article_fields(article: Any) -> tuple[str, str, str]:
    """Return ``(id, title, body)`` of a dict or an Article-like object, None as ''."""
    if isinstance(article, dict):
        get = article.get
    else:

        def get(name: str) -> Any:
            return getattr(article, name, None)

    return str(get("id")), get("title") or "", get("body") or ""


def words(text: str) -> list[str]:
    """Split text into lowercased words like FTS5's unicode61 (letters and digits)."""
    return _WORD.findall(unicodedata.normalize("NFC", text or "").lower())


def top_words(text: str, n: int = RELATED_TERMS, min_len: int = 2) -> list[str]:
    """Return the ``n`` most frequent words of at least ``min_len`` characters."""
    counts = Counter(w for w in words(text) if len(w) >= min_len)
    return [w for w, _ in counts.most_common(n)]


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of up to ``size`` items."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Fts5Peer:
    """SQLite FTS5, ``unicode61 remove_diacritics 2``, OR of query words ranked by bm25."""

    name = "sqlite-fts5"

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self.build_seconds = 0.0
        self.conn = sqlite3.connect(self.path, check_same_thread=False)

    def build(self, articles: Iterable[Any]) -> None:
        """(Re)create the FTS table and a rowid map from the articles."""
        start = time.perf_counter()
        c = self.conn
        c.executescript(
            """
            DROP TABLE IF EXISTS t;
            DROP TABLE IF EXISTS ids;
            CREATE VIRTUAL TABLE t USING fts5(
                id UNINDEXED, title, body, tokenize = "unicode61 remove_diacritics 2");
            CREATE TABLE ids (id TEXT PRIMARY KEY, rid INTEGER NOT NULL);
            """
        )
        rows = (article_fields(a) for a in articles)
        for rid0, batch in enumerate(_batched(rows, 1000)):
            base = rid0 * 1000 + 1
            c.executemany(
                "INSERT INTO t(rowid, id, title, body) VALUES (?, ?, ?, ?)",
                [(base + i, *r) for i, r in enumerate(batch)],
            )
            c.executemany(
                "INSERT OR REPLACE INTO ids(id, rid) VALUES (?, ?)",
                [(r[0], base + i) for i, r in enumerate(batch)],
            )
        c.commit()
        self.build_seconds = time.perf_counter() - start

    def _match(self, terms: list[str], k: int, skip_rowid: int = -1) -> list[str]:
        """Run an OR query of quoted terms, best bm25 first."""
        terms = [t for t in terms if t]
        if not terms or k <= 0:
            return []
        expr = " OR ".join(f'"{t}"' for t in terms)
        sql = "SELECT id FROM t WHERE t MATCH ? AND rowid != ? ORDER BY bm25(t) LIMIT ?"
        try:
            return [r[0] for r in self.conn.execute(sql, (expr, skip_rowid, k))]
        except sqlite3.Error:
            return []

    def search(self, query: str, k: int = 10) -> list[str]:
        """Return up to ``k`` ids for the OR of the query's words."""
        return self._match(words(query), k)

    def related(self, article_id: str, k: int = 10) -> list[str]:
        """Return ``k`` ids matching the article's 25 most frequent words, not itself."""
        row = self.conn.execute("SELECT rid FROM ids WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return []
        doc = self.conn.execute("SELECT title, body FROM t WHERE rowid = ?", row).fetchone()
        return self._match(top_words(f"{doc[0]}\n{doc[1]}"), k, skip_rowid=row[0])

    def close(self) -> None:
        """Close the database."""
        self.conn.close()


class WhooshStdPeer:
    """Whoosh with ``StandardAnalyzer`` on title and body, BM25F, OR of query words."""

    name = "whoosh-standard"

    def __init__(self, path: str | Path, limitmb: int = 256, procs: int = 1):
        self.path = Path(path)
        self.limitmb = limitmb
        self.procs = procs
        self.build_seconds = 0.0
        self.ix: index.Index | None = None
        self._searcher = None
        if index.exists_in(self.path):
            self._open(index.open_dir(self.path))

    @staticmethod
    def schema() -> Schema:
        """Return the peer's schema; body keeps term vectors for ``more_like``."""
        return Schema(
            id=ID(stored=True, unique=True),
            title=TEXT(analyzer=StandardAnalyzer()),
            body=TEXT(analyzer=StandardAnalyzer(), vector=True),
        )

    def _open(self, ix: index.Index) -> None:
        """Keep the index and one open searcher for repeated queries."""
        self.close()
        self.ix = ix
        self._searcher = ix.searcher()
        self._parser = MultifieldParser(["title", "body"], ix.schema, group=OrGroup)

    def build(self, articles: Iterable[Any]) -> None:
        """Create a fresh index in ``path`` from the articles."""
        start = time.perf_counter()
        self.close()
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        ix = index.create_in(self.path, self.schema())
        kwargs: dict[str, Any] = {"limitmb": self.limitmb}
        if self.procs > 1:
            kwargs.update(procs=self.procs, multisegment=True)
        writer = ix.writer(**kwargs)
        for article in articles:
            aid, title, body = article_fields(article)
            writer.add_document(id=aid, title=title, body=body)
        writer.commit()
        self._open(ix)
        self.build_seconds = time.perf_counter() - start

    def search(self, query: str, k: int = 10) -> list[str]:
        """Return up to ``k`` ids for the OR of the query's words over title and body."""
        if self._searcher is None or k <= 0:
            return []
        text = " ".join(words(query))  # lowercase words: no operators, fields or quotes
        if not text:
            return []
        q = self._parser.parse(text)
        return [hit["id"] for hit in self._searcher.search(q, limit=k)]

    def related(self, article_id: str, k: int = 10) -> list[str]:
        """Return ``k`` ids from Whoosh's ``more_like`` on body (the article is masked)."""
        if self._searcher is None:
            return []
        docnum = self._searcher.document_number(id=article_id)
        if docnum is None:
            return []
        hits = self._searcher.more_like(docnum, "body", top=k)
        return [hit["id"] for hit in hits if hit["id"] != article_id][:k]

    def close(self) -> None:
        """Close the open searcher, if any."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


def run_search(engine: Engine, qrels: list[dict], k: int = 10) -> tuple[dict, float]:
    """Run every query of ``qrels``; return ``(run, seconds)``.

    Asks for ``k`` plus the number of excluded ids so dropping them still leaves ``k``.
    """
    run: dict[str, list[str]] = {}
    start = time.perf_counter()
    for q in qrels:
        run[q["qid"]] = engine.search(q["query"], k + len(q.get("exclude") or ()))
    return run, time.perf_counter() - start


def run_related(engine: Engine, qrels: list[dict], k: int = 10) -> tuple[dict, float]:
    """Ask ``related(article, k)`` for every query of a related set; return ``(run, seconds)``."""
    run: dict[str, list[str]] = {}
    start = time.perf_counter()
    for q in qrels:
        run[q["qid"]] = engine.related(q["article"], k)
    return run, time.perf_counter() - start


class TantivyPeer:
    """tantivy (``pip install tantivy``, the ``bench`` extra; never used by the product):
    title and body of folded syllables (no diacritics, ``đ`` → ``d``, tantivy's default
    tokenizer), a raw fast ``category`` field; a search is the OR of the query's words,
    the title boosted 2, top 10 with the exact count and a category aggregation."""

    def __init__(self, path: str | Path, heap_bytes: int = 512 << 20):
        import tantivy

        self.tantivy = tantivy
        self.path = Path(path)
        self.heap_bytes = heap_bytes
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", index_option="freq")
        builder.add_text_field("body", index_option="freq")
        builder.add_text_field("category", fast=True, tokenizer_name="raw")
        self.schema = builder.build()
        self.build_seconds = 0.0
        self.index = None

    def exists(self) -> bool:
        """Whether a built index is in ``path``."""
        return self.path.is_dir() and self.tantivy.Index.exists(str(self.path))

    def build(self, articles: Iterable[Any]) -> int:
        """Index ``articles`` anew; return how many (``build_seconds`` holds the time)."""
        start = time.perf_counter()
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        index = self.tantivy.Index(self.schema, path=str(self.path))
        writer = index.writer(self.heap_bytes)
        count = 0
        for article in articles:
            doc_id, title, body = article_fields(article)
            category = (article.get("category") if isinstance(article, dict) else None) or ""
            writer.add_document(
                self.tantivy.Document(
                    id=doc_id, title=fold(title), body=fold(body), category=category
                )
            )
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        self.build_seconds = time.perf_counter() - start
        return count

    def open(self) -> None:
        self.index = self.tantivy.Index.open(str(self.path))
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, text: str):
        """The OR of the folded words, title boosted 2."""
        tantivy = self.tantivy
        clauses = []
        for word in dict.fromkeys(words(fold(text))):
            clauses.append(
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.term_query(self.schema, "title", word), 2.0
                    ),
                )
            )
            clauses.append(
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "body", word))
            )
        return tantivy.Query.boolean_query(clauses) if clauses else tantivy.Query.empty_query()

    def search_with_facets(self, text: str, k: int = 10) -> tuple[list[str], int, dict]:
        """(top ids, total count, category counts) of a query."""
        query = self.query(text)
        found = self.searcher.search(query, k, count=True)
        ids = [self.searcher.doc(address)["id"][0] for _, address in found.hits]
        aggs = self.searcher.aggregate(
            query, {"cats": {"terms": {"field": "category", "size": 20}}}
        )
        return ids, found.count, aggs

    def search(self, query: str, k: int = 10) -> list[str]:
        return self.search_with_facets(query, k)[0]

    def related(self, article_id: str, k: int = 10) -> list[str]:
        raise NotImplementedError("the tantivy peer measures search only")


def fold(text: str) -> str:
    """Lowercase NFC without diacritics, ``đ`` as ``d`` (what the tantivy peer indexes;
    the same folding table as our accent-free fields)."""
    from indexer.analysis import fold_diacritics

    return fold_diacritics(unicodedata.normalize("NFC", text or "").lower())
