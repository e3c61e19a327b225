"""Per-reader arrays of what filters, facets and date sorting need, built once per commit.

Whoosh answers "which documents match" well but counting facets or sorting tens of
thousands of matches document by document in Python is slow. A ``DocTable`` holds, for
each document number, its date (day and minute), category and officials as NumPy arrays,
so a filter is a vectorised mask and a facet is a ``bincount``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import numpy as np

from indexer import segments
from indexer.analysis import match_key
from indexer.article import PATH_SEPARATOR
from search.dates import parse_range

MISSING_DATE = np.uint64(2**64 - 1)
MICROS_PER_DAY = 86_400_000_000
MICROS_PER_MINUTE = 60_000_000
NO_DATE = np.iinfo(np.int64).min


def day_number(value: date) -> int:
    """Days since 0001-01-01 (the unit of ``DocTable.days``)."""
    return value.toordinal() - 1


class DocTable:
    """Columns of the index as arrays indexed by document number."""

    def __init__(self, reader):
        n = reader.doc_count_all()
        self.size = n
        self.live = segments.live_documents(reader)
        self.minutes = self._minutes(reader, n)
        self.days = np.where(self.minutes == NO_DATE, NO_DATE, self.minutes // (24 * 60)).astype(
            np.int64
        )
        self.category_names, self.category = self._single_valued(reader, "category", n)
        self.official_names, self.official_docs, self.official_ids = self._multi_valued(
            reader, "officials"
        )
        self.source_names, self.source = self._single_valued(reader, "source", n)
        self.category_keys = _category_keys(self.category_names)
        self.official_keys = _keys_index(self.official_names)
        self.source_keys = _keys_index(self.source_names)
        # Facets count by the key their filters match on: one group per key, shown with
        # its most frequent spelling (``_groups``).
        self.category_group, self.category_shown = _groups(
            self.category_names, _live_counts(self.category, self.live, len(self.category_names))
        )
        # a group counts what its filter matches: its own codes and its sub-sections
        members = [
            (code, g)
            for g, name in enumerate(self.category_shown)
            for code in self.category_keys.get(match_key(name), [])
        ]
        self._category_member = np.array([c for c, _ in members], dtype=np.int64)
        self._category_member_group = np.array([g for _, g in members], dtype=np.int64)
        official_counts = np.bincount(
            self.official_ids[self.live[self.official_docs]], minlength=len(self.official_names)
        )
        self.official_group, self.official_shown = _groups(self.official_names, official_counts)
        # each (group, document) once: a document naming two spellings counts once
        pairs = np.unique(
            self.official_group[self.official_ids].astype(np.int64) * max(n, 1) + self.official_docs
        )
        self._official_pair_group = pairs // max(n, 1)
        self._official_pair_doc = pairs % max(n, 1)
        # the same pairs by document: document d's groups are
        # _official_doc_group[_official_doc_start[d] : _official_doc_start[d + 1]]
        by_doc = np.argsort(self._official_pair_doc, kind="stable")
        self._official_doc_group = self._official_pair_group[by_doc]
        self._official_doc_start = np.searchsorted(
            self._official_pair_doc[by_doc], np.arange(n + 1)
        )
        self.years = _years(self.days)
        dated = self.minutes[self.live & (self.minutes != NO_DATE)]
        self.first_minute = int(dated.min()) if dated.size else None
        self.last_minute = int(dated.max()) if dated.size else None

    # ----------------------------------------------------------------- building
    @staticmethod
    def _minutes(reader, n: int) -> np.ndarray:
        minutes = np.full(n, NO_DATE, dtype=np.int64)
        if "date" not in reader.schema:
            return minutes
        for leaf, offset in reader.leaf_readers():  # a segment may lack the column
            if not leaf.has_column("date"):
                continue
            count = leaf.doc_count_all()
            raw = np.fromiter(leaf.column_reader("date", translate=False), np.uint64, count)
            present = raw != MISSING_DATE
            values = (raw // np.uint64(MICROS_PER_MINUTE)).astype(np.int64)
            minutes[offset : offset + count] = np.where(present, values, NO_DATE)
        return minutes

    @staticmethod
    def _single_valued(reader, fieldname: str, n: int) -> tuple[list[str], np.ndarray]:
        codes = np.full(n, -1, dtype=np.int32)
        names: list[str] = []
        for code, term in enumerate(reader.lexicon(fieldname)):
            names.append(term.decode("utf-8"))
            ids = np.fromiter(reader.postings(fieldname, term).all_ids(), dtype=np.int64)
            codes[ids] = code
        return names, codes

    @staticmethod
    def _multi_valued(reader, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        names: list[str] = []
        docs: list[np.ndarray] = []
        ids: list[np.ndarray] = []
        for code, term in enumerate(reader.lexicon(fieldname)):
            names.append(term.decode("utf-8"))
            postings = np.fromiter(reader.postings(fieldname, term).all_ids(), dtype=np.int64)
            docs.append(postings)
            ids.append(np.full(postings.size, code, dtype=np.int32))
        if not docs:
            return names, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        return names, np.concatenate(docs), np.concatenate(ids)

    # ----------------------------------------------------------------- masks
    def mask_for_ids(self, docnums: Iterable[int]) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        arr = np.fromiter(docnums, dtype=np.int64)
        if arr.size:
            mask[arr] = True
        return mask & self.live

    def date_mask(self, start: datetime | None, end: datetime | None) -> np.ndarray:
        """Live documents dated within [start, end] (minutes, inclusive)."""
        mask = self.live & (self.minutes != NO_DATE)
        if start is not None:
            mask &= self.minutes >= _minute_number(start)
        if end is not None:
            mask &= self.minutes <= _minute_number(end)
        return mask

    def filter_mask(self, fieldname: str, value: str) -> np.ndarray:
        """Live documents whose ``fieldname`` (official, category, source, date) is
        ``value``: what ``official:`` … in the query and the URL's filters both use.
        An unreadable date matches nothing."""
        if fieldname == "official":
            return self.official_mask(value)
        if fieldname == "category":
            return self.category_mask([value])
        if fieldname == "source":
            return np.isin(self.source, self.source_keys.get(match_key(value), [])) & self.live
        if fieldname == "date":
            try:
                start, end = parse_range(value)
            except ValueError:
                return np.zeros(self.size, dtype=bool)
            return self.date_mask(start, end)
        raise ValueError(f"no filter on {fieldname!r}")

    def category_codes(self, value: str) -> list[int]:
        return self.category_keys.get(match_key(value), [])

    def official_codes(self, value: str) -> list[int]:
        return self.official_keys.get(match_key(value), [])

    def category_mask(self, values: list[str]) -> np.ndarray:
        codes = [c for v in values for c in self.category_codes(v)]
        return np.isin(self.category, codes) & self.live

    def official_mask(self, value: str) -> np.ndarray:
        codes = self.official_codes(value)
        mask = np.zeros(self.size, dtype=bool)
        if codes:
            mask[self.official_docs[np.isin(self.official_ids, codes)]] = True
        return mask & self.live

    # ----------------------------------------------------------------- facets
    # Each count takes the documents as a mask and, when the caller has them, as their
    # sorted numbers (``np.flatnonzero(mask)``): a few matches are then gathered by
    # number instead of passing over every document.
    def category_counts(
        self, mask: np.ndarray, limit: int, docs: np.ndarray | None = None
    ) -> list[dict]:
        """Categories of the documents in ``mask``, grouped as ``category:`` matches: a
        value's count is what filtering on it gives (its sub-sections included)."""
        codes = self.category[mask if docs is None else docs]
        per_code = np.bincount(codes[codes >= 0], minlength=len(self.category_names))
        counts = np.bincount(
            self._category_member_group,
            weights=per_code[self._category_member],
            minlength=len(self.category_shown),
        ).astype(np.int64)
        return _top(counts, self.category_shown, limit)

    def official_counts(
        self, mask: np.ndarray, limit: int, docs: np.ndarray | None = None
    ) -> list[dict]:
        """Officials of the documents in ``mask``, grouped as ``official:`` matches (a
        document naming two spellings of one official counts once)."""
        if not self.official_names:
            return []
        if docs is None or docs.size * 4 > self._official_pair_doc.size:
            groups = self._official_pair_group[mask[self._official_pair_doc]]
        else:  # each document's own pairs
            first = self._official_doc_start[docs]
            length = self._official_doc_start[docs + 1] - first
            held = length > 0
            first, length = first[held], length[held]
            ends = np.cumsum(length)
            at = np.arange(int(ends[-1]) if ends.size else 0)
            at += np.repeat(first - (ends - length), length)
            groups = self._official_doc_group[at]
        counts = np.bincount(groups, minlength=len(self.official_shown))
        return _top(counts, self.official_shown, limit)

    def year_counts(self, mask: np.ndarray, docs: np.ndarray | None = None) -> list[dict]:
        """(year, count) of the dated documents in ``mask``, oldest first (the
        ``period_counts`` by year, from a column of years)."""
        years = self.years[mask if docs is None else docs]
        years = years[years != NO_YEAR]
        if not years.size:
            return []
        first = int(years.min())
        counts = np.bincount(years - first)
        return [{"value": first + int(i), "count": int(c)} for i, c in enumerate(counts) if c]

    def period_counts(self, mask: np.ndarray, unit: str) -> list[tuple[str | int, int]]:
        """(period, count) of dated documents in ``mask``, oldest first."""
        days = self.days[mask]
        days = days[days != NO_DATE]
        if not days.size:
            return []
        base = np.datetime64("0001-01-01", "D")
        stamps = base + days.astype("timedelta64[D]")
        if unit == "year":
            periods = stamps.astype("datetime64[Y]")
        else:
            periods = stamps.astype("datetime64[M]")
        values, counts = np.unique(periods, return_counts=True)
        out = []
        for value, count in zip(values, counts):
            label = str(value)
            out.append((int(label) if unit == "year" else label, int(count)))
        return out

    # ----------------------------------------------------------------- ordering
    def by_date(self, docnums: np.ndarray, newest_first: bool) -> np.ndarray:
        """Documents ordered by date (undated last), ties by document number."""
        minutes = self.minutes[docnums]
        undated = minutes == NO_DATE
        key = np.where(undated, 0, -minutes if newest_first else minutes)
        return docnums[np.lexsort((docnums, key, undated))]


NO_YEAR = np.iinfo(np.int32).min


def _years(days: np.ndarray) -> np.ndarray:
    """Each document's calendar year (``NO_YEAR`` undated), from its day number."""
    years = np.full(days.size, NO_YEAR, dtype=np.int32)
    dated = days != NO_DATE
    stamps = np.datetime64("0001-01-01", "D") + days[dated].astype("timedelta64[D]")
    years[dated] = stamps.astype("datetime64[Y]").astype(np.int64) + 1970
    return years


def _minute_number(value: datetime) -> int:
    return (value.toordinal() - 1) * 24 * 60 + value.hour * 60 + value.minute


def _keys_index(names: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for code, name in enumerate(names):
        index.setdefault(match_key(name), []).append(code)
    return index


def _live_counts(codes: np.ndarray, live: np.ndarray, n: int) -> np.ndarray:
    chosen = codes[live]
    return np.bincount(chosen[chosen >= 0], minlength=n)


def _groups(names: list[str], counts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(group of each code, shown name of each group): codes whose names share a
    ``match_key`` form one group, named by its spelling on the most live documents
    (ties: the first in lexicon order)."""
    group = np.zeros(len(names), dtype=np.int64)
    shown: list[str] = []
    best: list[int] = []
    index: dict[str, int] = {}
    for code, name in enumerate(names):
        key = match_key(name)
        g = index.get(key)
        if g is None:
            g = index[key] = len(shown)
            shown.append(name)
            best.append(int(counts[code]) if code < len(counts) else 0)
        elif code < len(counts) and counts[code] > best[g]:
            shown[g], best[g] = name, int(counts[code])
        group[code] = g
    return group, shown


def _category_keys(names: list[str]) -> dict[str, list[int]]:
    """Like ``_keys_index``, and each category path (``"Y tế > Phòng chống dịch"``, see
    ``indexer.article.PATH_SEPARATOR``) also under each of its ancestors' keys, so that
    ``category=Y tế`` matches its sub-sections."""
    index: dict[str, list[int]] = {}
    for code, name in enumerate(names):
        parts = name.split(PATH_SEPARATOR)
        for depth in range(1, len(parts) + 1):
            codes = index.setdefault(match_key(PATH_SEPARATOR.join(parts[:depth])), [])
            if code not in codes:
                codes.append(code)
    return index


def _top(counts: np.ndarray, names: list[str], limit: int) -> list[dict]:
    """The ``limit`` largest nonzero counts, largest first (ties: first code first)."""
    nonzero = np.flatnonzero(counts)
    values = counts[nonzero]
    if 0 < limit and 4 * limit < values.size:
        # only counts reaching the limit-th largest can be shown: that count from a
        # histogram of the counts (small integers; np.partition degrades to hundreds of
        # microseconds on thousands of equal ones)
        at_least = np.cumsum(np.bincount(values)[::-1])[::-1]  # [c]: how many are >= c
        kth = int(np.flatnonzero(at_least >= limit)[-1])
        keep = values >= kth
        nonzero, values = nonzero[keep], values[keep]
    # a stable sort by count keeps equal counts in code order
    order = nonzero[np.argsort(-values, kind="stable")][:limit]
    return [{"value": names[i], "count": int(counts[i])} for i in order]
