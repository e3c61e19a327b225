"""Dates typed by users: ``2020``, ``2020-06``, ``2020-06-09``, full ISO datetimes, ranges.

Dates are Vietnam time, as the index stores them; a datetime with another offset is
converted. A lower bound starts at the first minute of its period, an upper bound ends
at the last minute of its period (``to=2020-06`` includes 30 June).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime

from indexer.dates import VIETNAM_TZ

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")

# The dates the API takes, exactly (a real calendar day, years 1-9999): ``YYYY``,
# ``YYYY-MM``, ``YYYY-MM-DD`` (month and day may have one digit), or an RFC 3339 date-time
# whose seconds and offset may be left out. The same text is the OpenAPI pattern of every
# date parameter, so that the contract and the code accept the same strings.
_YEAR = r"(?:[1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9])"
_LEAP = r"(?:\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_M31, _M30 = r"(?:0?[13578]|1[02])", r"(?:0?[13-9]|1[0-2])"
_MONTH_DAY = (
    r"(?:(?:0?[1-9]|1[0-2])-(?:0?[1-9]|1\d|2[0-8])"
    rf"|{_M30}-(?:29|30)|{_M31}-31)"
)
_DAY = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP}-0?2-29)"
_TIME = r"[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"
_BLANK = " \t\n\r"  # a blank value is no bound
API_DATE_PATTERN = (
    rf"^(?:[ \t\n\r]*|{_YEAR}(?:-(?:0?[1-9]|1[0-2]))?|{_DAY}|{_DAY.replace('0?', '0')}{_TIME})$"
)
_API_DATE = re.compile(API_DATE_PATTERN)


def api_date(value: str, upper: bool = False) -> datetime | None:
    """A date parameter of the API: None when blank, else ``parse_bound``; ValueError when
    ``value`` does not match ``API_DATE_PATTERN``."""
    if not _API_DATE.fullmatch(value):
        parse_bound(value, upper=upper)  # its message says what is wrong (a month 13…)
        raise ValueError(f"use YYYY, YYYY-MM, YYYY-MM-DD or an RFC 3339 date-time, not {value!r}")
    return parse_bound(value, upper=upper) if value.strip(_BLANK) else None


def parse_bound(value: str, upper: bool = False) -> datetime:
    """A naive Vietnam-time datetime for one end of a range; ValueError when invalid."""
    value = value.strip()
    m = _PARTIAL.match(value)
    if m:
        year, month, day = int(m[1]), m[2], m[3]
        if not 1 <= year <= 9999:
            raise ValueError(f"impossible year in {value!r}")
        if month is None:
            return datetime(year, 12, 31, 23, 59) if upper else datetime(year, 1, 1)
        month = int(month)
        if not 1 <= month <= 12:
            raise ValueError(f"impossible month in {value!r}")
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return datetime(year, month, last, 23, 59) if upper else datetime(year, month, 1)
        parsed = datetime(year, month, int(day))  # raises on 2020-02-31
        return parsed.replace(hour=23, minute=59) if upper else parsed
    try:  # RFC 3339 allows a lower-case t and z, which fromisoformat does not read
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValueError(f"not a date (use YYYY-MM-DD): {value!r}") from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(VIETNAM_TZ).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in Vietnam time:
            # as a bound it means "from the beginning" (or "to the end"), so it is clamped
            parsed = datetime.min if parsed.year == 1 else datetime.max
    return parsed


class DateRangeError(ValueError):
    """A bad ``from``/``to`` pair; ``bound`` names the one at fault (``from`` or ``to``)."""

    def __init__(self, bound: str, message: str):
        super().__init__(message)
        self.bound = bound


def parse_date_range(date_from: object, date_to: object) -> tuple[datetime | None, datetime | None]:
    """The inclusive bounds of ``from`` and ``to`` as a request or the CLI gives them.

    Either may be None or empty (no bound); other values are text matching
    ``API_DATE_PATTERN``. Raises ``DateRangeError`` naming the bound when one is not such a
    date or ``from`` is after ``to``. The one reading of a date range for ``/search``,
    ``/export``, ``/related`` and the CLI.
    """
    bounds = []
    for name, raw, upper in (("from", date_from, False), ("to", date_to, True)):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # JSON has one kind of number
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = f"{raw:04d}"  # a year given as a JSON number
        if raw is not None and not isinstance(raw, str):
            raise DateRangeError(name, f"'{name}' must be a date (YYYY-MM-DD) or a year")
        try:
            bounds.append(api_date(raw or "", upper=upper))
        except ValueError as exc:
            raise DateRangeError(name, f"'{name}' is not a valid date: {exc}") from None
    start, end = bounds
    if start and end and start > end:
        raise DateRangeError("from", "'from' is after 'to'")
    return start, end


def parse_range(value: str) -> tuple[datetime | None, datetime | None]:
    """``2020``, ``2020-01..2020-06``, ``2020..``, ``..2019`` → (start, end)."""
    if ".." in value:
        low, high = value.split("..", 1)
        start = parse_bound(low) if low.strip() else None
        end = parse_bound(high, upper=True) if high.strip() else None
    else:
        start, end = parse_bound(value), parse_bound(value, upper=True)
    if start and end and start > end:
        raise ValueError(f"range ends before it starts: {value!r}")
    return start, end


def to_iso(value: datetime | None) -> str | None:
    """A stored (naive Vietnam time) datetime as RFC 3339 with seconds and +07:00
    (``2024-06-20T08:30:00+07:00``: OpenAPI's ``date-time``)."""
    if value is None:
        return None
    return value.replace(tzinfo=VIETNAM_TZ).isoformat(timespec="seconds")
