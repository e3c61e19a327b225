"""What reading dates costs per article: the fast path beside dateparser, same values.

    python -m bench.date_bench

Takes the dated corpus's ``date`` values (dantri: ISO dates) and the Vietnamese forms
portals print (``Thứ Hai, 21/9/2025 - 08:30``, ``21 tháng 9 năm 2025``, ``21/09/25``…),
and times ``indexer.dates.read_date`` (regular expressions first, dateparser only for
what they do not read) against dateparser alone (``vi``, ``en``) on the same values.
Both must agree wherever both read a date; the table prints µs per article.
"""

from __future__ import annotations

import time

from bench.data import has_shared, iter_corpus
from bench.metrics import format_table

PORTAL_FORMS = [
    "Thứ Hai, 21/9/2025 - 08:30",
    "21 tháng 9 năm 2025",
    "ngày 21 tháng 09, 2025",
    "21/09/25",
    "2025-9-21",
    "Ngày đăng 09/06/2020 | 17:47 | Lượt xem: 2468",
    "Chủ nhật, 05/10/2025, 14:02 (GMT+7)",
    "2025-09-21T08:30:00+07:00",
    "21.09.2025 08h30",
    "September 21, 2025",
]


def dateparser_alone():
    from dateparser.date import DateDataParser

    parser = DateDataParser(
        languages=["vi", "en"],
        settings={"DATE_ORDER": "DMY", "PARSERS": ["timestamp", "custom-formats", "absolute-time"]},
    )
    return lambda text: parser.get_date_data(text).date_obj


def timed(fn, values: list[str]) -> tuple[float, list]:
    started = time.perf_counter()
    out = [fn(v) for v in values]
    return time.perf_counter() - started, out


def main() -> None:
    from indexer.dates import read_date

    corpus = [r["date"] for r in iter_corpus(("dantri",)) if r.get("date")] if has_shared() else []
    sets = {"corpus dates (dantri)": corpus, "portal forms ×300": PORTAL_FORMS * 300}
    alone = dateparser_alone()
    read_date("2020-01-01"), alone("2020-01-01")  # load both before timing
    rows = []
    for name, values in sets.items():
        if not values:
            continue
        fast, ours = timed(lambda v: read_date(v)[0], values)
        slow, theirs = timed(alone, values)
        agree = sum(
            1
            for a, b in zip(ours, theirs)
            if a and b and a.replace(tzinfo=None) == b.replace(tzinfo=None)
        )
        both = sum(1 for a, b in zip(ours, theirs) if a and b)
        rows.append(
            {
                "values": name,
                "n": len(values),
                "read_date µs/article": round(fast / len(values) * 1e6, 1),
                "dateparser µs/article": round(slow / len(values) * 1e6, 1),
                "ratio": round(slow / fast, 1),
                "read by ours": sum(1 for a in ours if a),
                "read by dateparser": sum(1 for b in theirs if b),
                "agree where both read": f"{agree}/{both}",
            }
        )
    print(format_table(rows))


if __name__ == "__main__":
    main()
