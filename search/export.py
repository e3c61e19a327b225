"""Export every article a search matches, as CSV or JSON Lines, streamed.

There is no result cap and memory does not grow with the number of rows written: the
matches come from the engine's mask (``Engine.match``) as an array of document numbers,
and stored fields are read a chunk at a time while the bytes go out. The snapshot is
pinned (``Engine.pinned``) for the whole stream, so a commit in the middle of a long
download does not close the reader under it.

Order follows the search: a query with words and no ``sort`` (``relevance``) exports in
relevance order, as ``/search`` pages it, with a ``score`` column; ``sort=newest`` and
``sort=oldest`` are chronological (undated articles last), as is a search with filters
only (oldest first). Ties are broken by document number, so the order is stable for one
index state.

CSV is UTF-8 with a byte-order mark (so spreadsheet programs read Vietnamese correctly),
RFC 4180 quoting with ``\\r\\n`` line ends, a header row, and list values (officials)
joined with ``"; "``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import numpy as np

from search.dates import to_iso
from search.hits import official_names

FORMATS = ("jsonl", "csv")
BASE_FIELDS = ("id", "title", "date", "category", "source", "url", "officials")
EXTRA_FIELDS = ("body", "officials_positions")
CHUNK_ROWS = 256
BOM = "\ufeff"
LIST_SEPARATOR = "; "
POSITION_SEPARATOR = " / "
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def columns(extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The exported columns: the base ones, then the requested extras in a fixed order."""
    unknown = [f for f in extra if f not in EXTRA_FIELDS]
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; choose from {', '.join(EXTRA_FIELDS)}")
    return list(BASE_FIELDS) + [f for f in EXTRA_FIELDS if f in extra]


def export_order(table, found, sort: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(matching document numbers in export order, their scores or None) for an
    ``Engine.match`` result (see the module docstring)."""
    docs = np.flatnonzero(found.mask)
    if sort == "relevance" and found.ranked:
        scores = found.scores[docs]
        order = np.lexsort((docs, -scores))
        return docs[order], scores[order]
    return table.by_date(docs, newest_first=sort == "newest"), None


def article_row(stored: dict, cols: list[str], score: float | None = None) -> dict:
    """One exported article as a dict of ``cols`` (lists stay lists)."""
    row = {
        "id": stored["id"],
        "title": stored.get("title") or "",
        "date": to_iso(stored.get("date")),
        "category": stored.get("category"),
        "source": stored.get("source"),
        "url": stored.get("url"),
        "officials": official_names(stored),
    }
    if "score" in cols:
        row["score"] = None if score is None else round(float(score), 4)
    if "body" in cols:
        row["body"] = stored.get("body") or ""
    if "officials_positions" in cols:
        row["officials_positions"] = [
            {"name": o["name"], "positions": list(o.get("positions") or [])}
            for o in stored.get("officials_json") or []
        ]
    return row


def csv_cells(row: dict, cols: list[str]) -> list[str]:
    """A row as CSV cells: None → empty, lists joined with ``"; "``."""
    cells = []
    for col in cols:
        value = row.get(col)
        if col == "officials":
            value = LIST_SEPARATOR.join(value or [])
        elif col == "officials_positions":
            value = LIST_SEPARATOR.join(
                o["name"]
                + (": " + POSITION_SEPARATOR.join(o["positions"]) if o["positions"] else "")
                for o in value or []
            )
        cells.append("" if value is None else str(value))
    return cells


def encode_rows(rows: list[dict], cols: list[str], fmt: str) -> bytes:
    """Rows as the bytes of ``fmt`` (no header)."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(csv_cells(r, cols) for r in rows)
    return buf.getvalue().encode("utf-8")


def csv_header(cols: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cols)
    return (BOM + buf.getvalue()).encode("utf-8")


def export_stream(
    engine, request, fmt: str = "jsonl", extra=(), limit: int | None = None
) -> tuple[int, Iterator[bytes]]:
    """(number of rows, the bytes of the file in chunks) for a ``SearchRequest``; only
    the first ``limit`` rows when given.

    The search runs before this returns, so its errors surface before any byte is sent;
    the returned generator holds the snapshot pinned until it is exhausted or closed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    cols = columns(extra)
    chunks = _chunks(engine, request, fmt, cols, limit)
    total = next(chunks)
    return total, chunks


def _chunks(engine, request, fmt: str, cols: list[str], limit: int | None = None):
    with engine.pinned() as snap:
        found = engine.match(snap, request)
        order, scores = export_order(snap.table, found, request.sort)
        del found
        if limit is not None:
            order = order[:limit]
        if scores is not None:
            cols = cols[: len(BASE_FIELDS)] + ["score"] + cols[len(BASE_FIELDS) :]
        yield int(order.size)
        if fmt == "csv":
            yield csv_header(cols)
        stored_fields = snap.searcher.stored_fields
        for start in range(0, order.size, CHUNK_ROWS):
            rows = [
                article_row(
                    stored_fields(int(d)), cols, None if scores is None else scores[start + i]
                )
                for i, d in enumerate(order[start : start + CHUNK_ROWS])
            ]
            yield encode_rows(rows, cols, fmt)


def export_filename(fmt: str, stamp: str) -> str:
    """The download name, e.g. ``vnsearch-export-20240620.csv``."""
    return f"vnsearch-export-{stamp}.{fmt}"
