"""The one record shape that crosses from reading archives to writing the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

# Vietnam time (UTC+07:00 all year, no daylight saving): portal pages' dates, dates given
# without an offset, and the dates the index stores (naive, in this zone)
VIETNAM = timezone(timedelta(hours=7))


@dataclass
class Article:
    """One article as read from an archive, before analysis.

    ``title`` is None when the source has none; the writer then derives a display
    title from the body's first sentence and sets ``title_derived``.
    ``date`` is timezone-aware when known (portal pages are Vietnam time, +07:00).
    ``origin`` is ``"path:line"`` of where the record was read, for error reports.
    """

    id: str
    body: str
    title: str | None = None
    date: datetime | None = None
    category: str | None = None
    categories: list[str] = field(default_factory=list)
    source: str | None = None
    url: str | None = None
    views: int | None = None
    origin: str | None = None


class BadRecord(Exception):
    """A record that cannot be read; carries where it was found."""

    def __init__(self, origin: str, reason: str):
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason
