"""What visitors search for, kept without knowing who they are: the owner's search log.

``QueryLog`` counts, per day and per normalised query text, how many searches were made,
how many found nothing and how many led to a click on a result. Nothing else is kept:
no IP address, no user agent, no cookie, no time finer than the day, no order of
searches; a query's text is the only thing a visitor gives. ``vnsearch queries`` prints
the most frequent queries, those with no result and those with no click.

The log is one SQLite file (WAL, so every gunicorn worker can add to it; each write is
one ``INSERT … ON CONFLICT`` of a few bytes). A failure to write never fails a search.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import unicodedata
from datetime import date, timedelta
from pathlib import Path

MAX_QUERY_CHARS = 200
BUSY_TIMEOUT_SECONDS = 0.2  # a search never waits longer than this for the log
log = logging.getLogger("vnsearch.analytics")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    searches INTEGER NOT NULL DEFAULT 0,
    zero INTEGER NOT NULL DEFAULT 0,
    clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, query)
) WITHOUT ROWID
"""


def normalise(text: str) -> str:
    """The logged form of a query: NFC, lowercased, spaces collapsed, at most 200 chars."""
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(text.lower().split())[:MAX_QUERY_CHARS]


class QueryLog:
    """Counts of searches, empty results and clicks per (day, query) in ``path``."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._local.conn = conn
        return conn

    def _add(self, query: str, searches: int, zero: int, clicks: int, day: date | None) -> None:
        q = normalise(query)
        if not q:
            return
        try:
            self._conn().execute(
                "INSERT INTO queries (day, query, searches, zero, clicks) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (day, query) DO UPDATE SET searches = searches + excluded.searches,"
                " zero = zero + excluded.zero, clicks = clicks + excluded.clicks",
                ((day or date.today()).isoformat(), q, searches, zero, clicks),
            )
        except sqlite3.Error as exc:  # a busy or unwritable log loses one count, not a search
            log.warning("query log %s: %s", self.path, exc)

    def record_search(self, query: str, total: int, day: date | None = None) -> None:
        """One search for ``query`` that found ``total`` articles."""
        self._add(query, 1, 1 if total == 0 else 0, 0, day)

    def record_click(self, query: str, day: date | None = None) -> None:
        """A visitor opened a result of ``query``."""
        self._add(query, 0, 0, 1, day)

    def report(self, limit: int = 20, days: int | None = None) -> dict:
        """``{"top", "zero", "no_click"}``: lists of ``{query, searches, zero, clicks}``,
        most searched first, over the last ``days`` days (all when None)."""
        if not self.path.exists():
            return {"top": [], "zero": [], "no_click": [], "days": days}
        today = date.today()
        # more days than the calendar holds before today: every day (no OverflowError)
        whole = not days or days - 1 >= (today - date.min).days
        since = "" if whole else (today - timedelta(days=days - 1)).isoformat()
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT query, SUM(searches), SUM(zero), SUM(clicks) FROM queries"
                " WHERE day >= ? GROUP BY query ORDER BY SUM(searches) DESC, query",
                (since,),
            ).fetchall()
        finally:
            conn.close()
        entries = [{"query": q, "searches": s, "zero": z, "clicks": c} for q, s, z, c in rows]
        searched = [e for e in entries if e["searches"]]
        return {
            "top": searched[:limit],
            "zero": [e for e in searched if e["zero"] == e["searches"]][:limit],
            "no_click": [e for e in searched if e["clicks"] == 0 and e["zero"] < e["searches"]][
                :limit
            ],
            "days": days,
        }


def format_report(report: dict) -> str:
    """The report as three plain-text tables."""
    lines = []
    titles = {
        "top": "Most frequent queries",
        "zero": "Queries with no results",
        "no_click": "Queries with results but no click",
    }
    for key, title in titles.items():
        lines.append(f"{title}:")
        rows = report[key]
        if not rows:
            lines.append("  (none)")
        for e in rows:
            lines.append(
                f"  {e['searches']:>7}  {e['query']}"
                f"   (no results {e['zero']}, clicks {e['clicks']})"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
