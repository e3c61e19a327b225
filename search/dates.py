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
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (use YYYY-MM-DD): {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(VIETNAM_TZ).replace(tzinfo=None)
    return parsed


class DateRangeError(ValueError):
    """A bad ``from``/``to`` pair; ``bound`` names the one at fault (``from`` or ``to``)."""

    def __init__(self, bound: str, message: str):
        super().__init__(message)
        self.bound = bound


def parse_date_range(date_from: object, date_to: object) -> tuple[datetime | None, datetime | None]:
    """The inclusive bounds of ``from`` and ``to`` as a request or the CLI gives them.

    Either may be None or blank (no bound); other values are read as text. Raises
    ``DateRangeError`` naming the bound when one is not a date or ``from`` is after ``to``.
    The one reading of a date range for ``/search``, ``/export``, ``/related`` and the CLI.
    """
    bounds = []
    for name, raw, upper in (("from", date_from, False), ("to", date_to, True)):
        if raw is None or not str(raw).strip():
            bounds.append(None)
            continue
        try:
            bounds.append(parse_bound(str(raw), upper=upper))
        except ValueError as exc:
            raise DateRangeError(
                name, f"'{name}' is not a valid date (YYYY-MM-DD): {exc}"
            ) from None
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
    """A stored (naive Vietnam time) datetime as ISO 8601 with +07:00."""
    if value is None:
        return None
    return value.replace(tzinfo=VIETNAM_TZ).isoformat(timespec="minutes")
