"""Cursor tokens: deep, stable paging of ``/search`` past the bound of ``page``.

A token is URL-safe base64 of a fixed 26-byte record::

    version (1) | fingerprint (8) | mode (1) | key (int64) | docnum (int64)

* ``fingerprint`` hashes what decides the result list (the query, the filters and the
  sort) so a token reused with other parameters is refused, not silently misapplied.
  ``page``, ``per_page``, ``facets`` and ``histogram`` are not part of it: a walk may
  change its page size.
* Date sorts resume by *key set*: ``key`` is the minute of the last hit (or
  ``NO_DATE``) and ``docnum`` breaks ties, in the order of ``DocTable.by_date``
  (date, undated last, then document number). The next page starts right after that
  position, so hits are neither repeated nor skipped even when articles are added or
  deleted between pages (ties within one minute may shift after a merge renumbers
  documents).
* Relevance resumes by offset: ``key`` is the number of hits already returned. Whoosh
  breaks score ties by document number, so the walk is exact within one commit; after
  a commit the ranking itself may change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from dataclasses import dataclass

import numpy as np

from search.doctable import NO_DATE

VERSION = 1
# the orders a search may take (``SearchRequest.sort``); a token records the index
SORTS = ("relevance", "newest", "oldest")
_RECORD = struct.Struct(">B8sBqq")


class CursorError(ValueError):
    """A cursor token that is malformed or made for other parameters."""


@dataclass(frozen=True)
class Position:
    """Where the previous page ended."""

    mode: str  # one of SORTS: the sort the token was made for
    key: int  # relevance: hits already returned; dates: minute of the last hit
    docnum: int  # the last hit's document number (tie-break)


def fingerprint(request) -> bytes:
    """8 bytes identifying the result list of a ``SearchRequest`` (not its page)."""
    parts = [
        request.q,
        request.date_from.isoformat() if request.date_from else None,
        request.date_to.isoformat() if request.date_to else None,
        sorted(request.categories),
        sorted(request.officials),
        request.sort,
    ]
    raw = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.blake2b(raw, digest_size=8).digest()


def encode(request, position: Position) -> str:
    """The token for ``position`` in the results of ``request``."""
    record = _RECORD.pack(
        VERSION,
        fingerprint(request),
        SORTS.index(position.mode),
        position.key,
        position.docnum,
    )
    return base64.urlsafe_b64encode(record).rstrip(b"=").decode("ascii")


def decode(token: str, request) -> Position:
    """The position a token points at; CursorError when malformed or foreign."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise CursorError("the cursor is not a token returned by /search")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, fp, mode, key, docnum = _RECORD.unpack(raw)
    except (binascii.Error, ValueError, struct.error):
        raise CursorError("the cursor is not a token returned by /search") from None
    if version != VERSION or mode >= len(SORTS) or docnum < 0:
        raise CursorError("the cursor is not a token returned by /search")
    if fp != fingerprint(request):
        raise CursorError(
            "the cursor was made for another query, filters or sort; "
            "repeat the parameters of the request that returned it"
        )
    if SORTS[mode] == "relevance" and key < 0:
        raise CursorError("the cursor is not a token returned by /search")
    return Position(SORTS[mode], key, docnum)


def date_resume_index(
    ordered: np.ndarray, minutes: np.ndarray, newest_first: bool, position: Position
) -> int:
    """Index in ``ordered`` (sorted as ``DocTable.by_date``) of the first hit after ``position``.

    ``minutes`` is ``DocTable.minutes`` (indexed by document number).
    """
    if not ordered.size:
        return 0
    mins = minutes[ordered]
    undated = mins == NO_DATE
    keys = np.where(undated, 0, -mins if newest_first else mins)
    last_undated = position.key == NO_DATE
    last_key = 0 if last_undated else (-position.key if newest_first else position.key)
    before = (undated < last_undated) | (
        (undated == last_undated)
        & ((keys < last_key) | ((keys == last_key) & (ordered <= position.docnum)))
    )
    return int(before.sum())
