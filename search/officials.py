"""The officials of the archive: who is named, how often, when, and in which positions.

An ``OfficialDirectory`` is built once per snapshot (``Snapshot.officials()``) from the
``DocTable``'s official postings. Spellings of one person that differ only in case,
accents or tone-mark placement (``Lương Thị Thuỷ`` / ``Lương Thị Thủy``) share a
``match_key`` and are one official, exactly as ``/search?official=`` matches them, so
an official's ``articles`` is the number of results of that filter.

Each official's live documents are kept newest first in one array, so counts, dates,
the latest articles and the yearly histogram are slices. Positions are read from the
stored ``officials_json`` of the most recent articles only, for the officials being
returned, and remembered for the snapshot.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from datetime import datetime

import numpy as np

from indexer.analysis import normalize_text
from search.dates import to_iso
from search.doctable import NO_DATE, DocTable, match_key
from search.hits import make_hit

MAX_QUERY_CHARS = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFAULT_LATEST = 10
MAX_LATEST = 50
POSITION_SAMPLE = 50  # most recent articles read to find an official's positions
MAX_POSITIONS = 5
_END = "\U0010ffff"


class OfficialDirectory:
    """Every official of one snapshot, grouped by ``match_key``, with their articles."""

    def __init__(self, snap):
        self.searcher = snap.searcher
        table: DocTable = snap.table
        self.table = table
        self.keys: list[str] = list(table.official_keys)
        self.group_of = {key: g for g, key in enumerate(self.keys)}
        n_groups = len(self.keys)
        code_group = np.zeros(len(table.official_names), dtype=np.int64)
        for g, key in enumerate(self.keys):
            code_group[table.official_keys[key]] = g

        docs = table.official_docs
        live = table.live[docs] if docs.size else np.zeros(0, dtype=bool)
        docs, codes = docs[live], table.official_ids[live]
        groups = code_group[codes]
        minutes = table.minutes[docs]
        undated = minutes == NO_DATE
        # per group as /search?sort=newest orders: dated newest first, undated last, then by
        # document number; equal (group, doc) pairs end adjacent
        order = np.lexsort((docs, np.where(undated, 0, -minutes), undated, groups))
        docs, groups, minutes, undated = docs[order], groups[order], minutes[order], undated[order]
        first = np.ones(docs.size, dtype=bool)
        first[1:] = (groups[1:] != groups[:-1]) | (docs[1:] != docs[:-1])
        self.docs = docs[first]
        groups, minutes, undated = groups[first], minutes[first], undated[first]
        self.starts = np.searchsorted(groups, np.arange(n_groups + 1))
        self.counts = np.diff(self.starts)
        self.last_minute = np.full(n_groups, NO_DATE, dtype=np.int64)
        self.first_minute = np.full(n_groups, NO_DATE, dtype=np.int64)
        dated_groups, dated_minutes = groups[~undated], minutes[~undated]
        if dated_groups.size:  # newest first: the first and last dated entry of each run
            head = np.ones(dated_groups.size, dtype=bool)
            head[1:] = dated_groups[1:] != dated_groups[:-1]
            tail = np.ones(dated_groups.size, dtype=bool)
            tail[:-1] = dated_groups[:-1] != dated_groups[1:]
            self.last_minute[dated_groups[head]] = dated_minutes[head]
            self.first_minute[dated_groups[tail]] = dated_minutes[tail]

        self.names = _display_names(table, self.keys, codes)
        present = np.flatnonzero(self.counts > 0)
        self.by_count = _ranked(present, self.counts, self.names)
        self.rank = np.zeros(n_groups, dtype=np.int64)
        self.rank[self.by_count] = np.arange(self.by_count.size)
        self._full = sorted((self.keys[g], g) for g in present)
        self._full_keys = [k for k, _ in self._full]
        parts = []
        for g in present:
            key = self.keys[g]
            parts += [(key[i + 1 :], g) for i, ch in enumerate(key) if ch == " "]
        parts.sort()
        self._parts = parts
        self._part_keys = [k for k, _ in parts]
        self._positions: dict[int, list[str]] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- lookup
    def find(self, q: str) -> np.ndarray:
        """Groups whose name starts with ``q`` (any accents or case), then those with a
        later name part starting with it; most articles first within each."""
        key = match_key(q)
        if not key:
            return self.by_count
        complete = q[-1:].isspace()  # "nguyen " asks for the whole syllable "nguyen"
        full = _prefixed(self._full, self._full_keys, key, complete)
        seen = set(full)
        part = [g for g in _prefixed(self._parts, self._part_keys, key, complete) if g not in seen]
        ranked = [self._by_rank(found) for found in (full, part)]
        return np.concatenate(ranked)

    def _by_rank(self, groups: list[int]) -> np.ndarray:
        """``groups`` (duplicates allowed) most articles first, as in ``by_count``."""
        found = np.unique(np.array(groups, dtype=np.int64))
        return found[np.argsort(self.rank[found], kind="stable")]

    def group(self, name: str) -> int | None:
        g = self.group_of.get(match_key(name))
        return g if g is not None and self.counts[g] > 0 else None

    def articles(self, g: int) -> np.ndarray:
        """Document numbers naming official ``g``, newest first (undated last)."""
        return self.docs[self.starts[g] : self.starts[g + 1]]

    def positions(self, g: int) -> list[str]:
        """The positions written next to the official most often in recent articles."""
        cached = self._positions.get(g)
        if cached is not None:
            return cached
        key = self.keys[g]
        counts: Counter[str] = Counter()
        spelling: dict[str, Counter[str]] = {}
        for doc in self.articles(g)[:POSITION_SAMPLE]:
            seen: set[str] = set()
            for official in self.searcher.stored_fields(int(doc)).get("officials_json") or []:
                if match_key(official.get("name") or "") != key:
                    continue
                for position in official.get("positions") or []:
                    text = " ".join(normalize_text(position).split())
                    folded = text.lower()
                    if not text or folded in seen:
                        continue
                    seen.add(folded)
                    counts[folded] += 1
                    spelling.setdefault(folded, Counter())[text] += 1
        found = [spelling[p].most_common(1)[0][0] for p, _ in counts.most_common(MAX_POSITIONS)]
        with self._lock:
            self._positions[g] = found
        return found

    def per_year(self, g: int) -> list[dict]:
        mask = np.zeros(self.table.size, dtype=bool)
        mask[self.articles(g)] = True
        return [{"year": y, "count": c} for y, c in self.table.period_counts(mask, "year")]

    # ----------------------------------------------------------------- answers
    def summary(self, g: int) -> dict:
        return {
            "name": self.names[g],
            "articles": int(self.counts[g]),
            "positions": self.positions(g),
            "first_date": _iso(self.first_minute[g]),
            "last_date": _iso(self.last_minute[g]),
        }

    def listing(self, q: str, limit: int) -> dict:
        """The answer of ``GET /officials``."""
        found = self.find(q)
        return {
            "officials": [self.summary(int(g)) for g in found[:limit]],
            "total": int(found.size),
        }

    def detail(self, name: str, limit: int) -> dict | None:
        """The answer of ``GET /officials/{name}``, or None for an unknown official."""
        g = self.group(name)
        if g is None:
            return None
        display = normalize_text(self.names[g]).lower()
        exact = set(display.split())
        folded = set(self.keys[g].split())
        latest = [
            make_hit(self.searcher.stored_fields(int(d)), None, folded, exact)
            for d in self.articles(g)[:limit]
        ]
        answer = self.summary(g)
        answer["per_year"] = self.per_year(g)
        answer["latest"] = latest
        return answer


def official_directory(engine) -> OfficialDirectory:
    """The directory of the engine's current snapshot (built once per commit)."""
    return engine.snapshot().officials()


# --------------------------------------------------------------------------- helpers
def _display_names(table: DocTable, keys: list[str], live_codes: np.ndarray) -> list[str]:
    """Per group, the spelling used by the most articles (then: with diacritics)."""
    per_code = np.bincount(live_codes, minlength=len(table.official_names))
    names = []
    for key in keys:
        codes = table.official_keys[key]
        best = min(
            codes,
            key=lambda c: (
                -int(per_code[c]),
                table.official_names[c].isascii(),
                table.official_names[c].islower(),
                table.official_names[c],
            ),
        )
        names.append(table.official_names[best])
    return names


def _ranked(groups: np.ndarray, counts: np.ndarray, names: list[str]) -> np.ndarray:
    """``groups`` by article count (most first), then name."""
    if not groups.size:
        return groups.astype(np.int64)
    by_name = sorted(range(groups.size), key=lambda i: names[groups[i]])
    alpha = np.empty(groups.size, dtype=np.int64)
    alpha[by_name] = np.arange(groups.size)
    return groups[np.lexsort((alpha, -counts[groups]))].astype(np.int64)


def _prefixed(entries: list[tuple[str, int]], keys: list[str], key: str, complete: bool) -> list:
    """Groups of the sorted ``entries`` whose key starts with ``key``."""
    lo = bisect_left(keys, key)
    hi = bisect_left(keys, key + _END, lo)
    if not complete:
        return [g for _, g in entries[lo:hi]]
    size = len(key)
    return [g for k, g in entries[lo:hi] if len(k) == size or k[size] == " "]


def _iso(minute) -> str | None:
    if minute == NO_DATE:
        return None
    days, rest = divmod(int(minute), 24 * 60)
    return to_iso(datetime.fromordinal(days + 1).replace(hour=rest // 60, minute=rest % 60))
