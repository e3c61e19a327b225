"""The one record shape that crosses from reading archives to writing the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SKIPPED = "skipped"  # the record is not in the index
UNDATED = "undated"  # indexed, but the date it gave could not be read
NOTED = "noted"  # indexed, changed on the way in (truncated, repaired, replaced by a later copy)
PATH_SEPARATOR = " > "  # between the levels of a category path: "Y tế > Phòng chống dịch"


@dataclass
class Article:
    """One article as read from an archive, before analysis.

    ``title`` is None when the source has none; the writer then derives a display
    title from the body's first sentence and sets ``title_derived``.
    ``date`` is timezone-aware when known (portal pages are Vietnam time, +07:00);
    ``undated`` says why a date that the source gave could not be used.
    ``category`` is a path from the top section down, ``"Y tế > Phòng chống dịch"``.
    ``origin`` is ``"path:line"`` of where the record was read, for error reports;
    ``notes`` are the changes made to the record on the way in, for the same reports.
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
    undated: str | None = None
    notes: list[str] = field(default_factory=list)


class BadRecord(Exception):
    """A record that cannot be read (``kind`` SKIPPED), or one indexed with a problem
    (UNDATED, NOTED); carries where it was found."""

    def __init__(self, origin: str, reason: str, kind: str = SKIPPED):
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason
        self.kind = kind
