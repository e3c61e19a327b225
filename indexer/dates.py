"""Reading the publish dates of Vietnamese articles, in every form archives write them.

``read_date`` answers ``(date, problem)``: an aware datetime, or None with the reason a
date that *was* given cannot be used (so the caller can report it with file and line).
Common forms are read by a fast path of regular expressions, about 10 µs each:

* ISO 8601 with or without time and offset: ``2025-09-21``, ``2025-9-21``,
  ``2025-09-21T08:30:00+07:00``, ``2025-09-21 08:30``, ``…Z``;
* numeric day-first forms: ``21/9/2025``, ``21-09-2025``, ``21.09.2025``, ``21/09/25``;
* words: ``21 tháng 9 năm 2025``, ``ngày 21 tháng 09, 2025``;
* with a weekday, a label and a clock time around them:
  ``Thứ Hai, 21/9/2025 - 08:30``, ``Ngày đăng 09/06/2020 | 17:47``, ``17h47``, ``5:30 PM``.

Anything else with a digit in it goes to dateparser (languages ``vi`` and ``en``, day
first, absolute dates only: "hôm qua" is relative to a crawl nobody remembers), which
costs 1–20 ms a value (``bench/date_bench.py`` measures both paths).
A date that names an impossible day (``31/02/2020``) is not guessed at: it is a problem.
Dates outside ``MIN_YEAR``–``MAX_YEAR`` are problems too (year 1 or 9999 with an offset
cannot even be converted to Vietnam time).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

# the one Vietnam time (UTC+07:00, no daylight saving): pages, naive dates, stored dates
VIETNAM_TZ = timezone(timedelta(hours=7))
MIN_YEAR, MAX_YEAR = 1800, 2200  # outside: a typo or a placeholder (0001, 9999), not a date
TWO_DIGIT_PIVOT = 69  # ``21/09/25`` is 2025, ``01/01/70`` is 1970 (POSIX strptime's pivot)

_DATE_NUMERIC = re.compile(
    r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?![\d/.-])"
)
_DATE_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:năm|,)\s*(\d{4})(?!\d)", re.IGNORECASE
)
_DATE_ISO = re.compile(r"(?<![\d/.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d/])")
_TIME = re.compile(
    r"(?<![\d:])([01]?\d|2[0-3])\s*(?::|h|giờ)\s*([0-5]\d)(?:\s*(?::|phút)\s*([0-5]\d))?"
    r"(?:\s*(AM|PM|SA|CH)\b)?(?![\d:])",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")

Found = tuple[tuple[int, int, int], tuple[int, int]]


def read_date(value: Any) -> tuple[datetime | None, str | None]:
    """``(aware datetime, None)``, ``(None, None)`` when no date is given, or
    ``(None, reason)`` when a given date is unreadable or impossible.

    A naive date or time is taken as Vietnam time (+07:00).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        return None, f"date {value!r} is a {type(value).__name__}, not text"
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None:
        found = find_date(text)
        if found is not None:
            parsed = _from_found(text, found)
            if parsed is None:
                return None, f"impossible date {text!r}"
        else:
            parsed = _dateparser(text)
    if parsed is None:
        return None, f"unreadable date {text!r}"
    return _checked(parsed, text)


def parse_date(value: Any) -> datetime | None:
    """The date of ``value`` as an aware datetime, or None (see `read_date`)."""
    return read_date(value)[0]


def parse_vietnamese_date(text: str) -> datetime | None:
    """Find the first date (and a time, if any) in ``text``; return it as Vietnam time.

    Understands ``09/06/2020``, ``9-6-2020``, ``09.06.2020``, ``09/06/20``, ``2020-06-09``
    and ``(ngày) 9 tháng 6 năm 2020``, with an optional ``17:47``, ``17h47`` or ``17 giờ 47``.
    """
    found = find_date(text)
    if found is None:
        return None
    parsed = _from_found(text, found)
    return None if parsed is None else _checked(parsed, text)[0]


def find_date(text: str) -> Found | None:
    """``((year, month, day), span)`` of the earliest date-shaped text, possible or not."""
    hits = []
    if m := _DATE_NUMERIC.search(text):
        hits.append(((_full_year(m[4]), int(m[3]), int(m[1])), m.span()))
    if m := _DATE_WORDS.search(text):
        hits.append(((int(m[3]), int(m[2]), int(m[1])), _with_ngay(text, m.span())))
    if m := _DATE_ISO.search(text):
        hits.append(((int(m[1]), int(m[2]), int(m[3])), m.span()))
    return min(hits, key=lambda hit: hit[1][0]) if hits else None


def find_time(text: str) -> tuple[int, int, int] | None:
    """``(hour, minute, second)`` of the first clock time in ``text``."""
    m = _TIME.search(text)
    if m is None:
        return None
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    suffix = (m[4] or "").upper()
    if suffix in ("PM", "CH") and hour < 12:
        hour += 12
    elif suffix in ("AM", "SA") and hour == 12:
        hour = 0
    return hour, minute, second


def time_pattern() -> re.Pattern:
    """The clock-time pattern (``17:47``, ``17h47``, ``5:30 PM``), for callers that strip it."""
    return _TIME


def _with_ngay(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """Extend a words-date span back over a ``ngày`` just before it."""
    start = span[0]
    head = text[:start].rstrip()
    if head.lower().endswith("ngày"):
        start = len(head) - 4
    return start, span[1]


def _full_year(digits: str) -> int:
    year = int(digits)
    if len(digits) == 2:
        year += 1900 if year >= TWO_DIGIT_PIVOT else 2000
    return year


def _from_found(text: str, found: Found) -> datetime | None:
    """The date found plus the first clock time outside it; None for an impossible day."""
    (year, month, day), (start, end) = found
    hour, minute, second = find_time(text[:start] + " " + text[end:]) or (0, 0, 0)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=VIETNAM_TZ)
    except ValueError:
        return None


def _checked(parsed: datetime, text: str) -> tuple[datetime | None, str | None]:
    """``parsed`` made aware and checked to lie in the years an archive can hold."""
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None, f"date {text!r} is outside the years {MIN_YEAR}–{MAX_YEAR}"
    return parsed, None


_PARSER = None


def _dateparser(text: str) -> datetime | None:
    """dateparser's reading of an absolute date in ``text`` (None when it finds none)."""
    global _PARSER
    if not _DIGIT.search(text) or len(text) > 200:
        return None
    try:
        if _PARSER is None:
            from dateparser.date import DateDataParser

            _PARSER = DateDataParser(
                languages=["vi", "en"],
                settings={
                    "DATE_ORDER": "DMY",
                    "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
                    "REQUIRE_PARTS": ["day", "month", "year"],
                    "RETURN_AS_TIMEZONE_AWARE": False,
                    "PREFER_DAY_OF_MONTH": "first",
                },
            )
        found = _PARSER.get_date_data(text).date_obj
    except (ValueError, OverflowError, TypeError, KeyError, IndexError):
        return None
    if found is None or isinstance(found, date) and not isinstance(found, datetime):
        return None
    return found
