"""Export every article a search matches, as CSV or JSON Lines, streamed.

There is no result cap and memory does not grow with the number of rows written: the
matches come from the engine's mask (``Engine.match``) as an array of document numbers,
and stored fields are read a chunk at a time while the bytes go out. The snapshot is
pinned (``Engine.pinned``) for the whole stream, so a commit in the middle of a long
download does not close the reader under it.

Order: ``sort=newest`` exports newest first; ``oldest`` and ``relevance`` (the default)
export oldest first. Relevance order is not exported: a ranking is only meaningful at the
top, and a chronological file is what a researcher sorts and diffs. Undated articles come
last; ties are broken by document number, so the order is stable for one index state.

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


def export_order(table, mask: np.ndarray, sort: str) -> np.ndarray:
    """Matching document numbers in export order (see the module docstring)."""
    return table.by_date(np.flatnonzero(mask), newest_first=sort == "newest")


def article_row(stored: dict, cols: list[str]) -> dict:
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


def export_stream(engine, request, fmt: str = "jsonl", extra=()) -> tuple[int, Iterator[bytes]]:
    """(number of rows, the bytes of the file in chunks) for a ``SearchRequest``.

    The search runs before this returns, so its errors surface before any byte is sent;
    the returned generator holds the snapshot pinned until it is exhausted or closed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    cols = columns(extra)
    chunks = _chunks(engine, request, fmt, cols)
    total = next(chunks)
    return total, chunks


def _chunks(engine, request, fmt: str, cols: list[str]):
    with engine.pinned() as snap:
        found = engine.match(snap, request)
        order = export_order(snap.table, found.mask, request.sort)
        del found
        yield int(order.size)
        if fmt == "csv":
            yield csv_header(cols)
        stored_fields = snap.searcher.stored_fields
        for start in range(0, order.size, CHUNK_ROWS):
            rows = [
                article_row(stored_fields(int(d)), cols) for d in order[start : start + CHUNK_ROWS]
            ]
            yield encode_rows(rows, cols, fmt)


def export_filename(fmt: str, stamp: str) -> str:
    """The download name, e.g. ``vnsearch-export-20240620.csv``."""
    return f"vnsearch-export-{stamp}.{fmt}"
