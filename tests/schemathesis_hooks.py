"""The API's rules between parameters, which OpenAPI cannot state (its descriptions do):
schemathesis generates only requests that keep them, so that a 400 for breaking one is not
counted as a valid request rejected. Loaded by tests/test_public.py's schemathesis run."""

from __future__ import annotations

import schemathesis

from search.dates import DateRangeError, parse_date_range


def _ordered(low, high) -> bool:
    """``from`` is not after ``to`` (either may be missing or not a date at all: then the
    schema, not this rule, decides)."""
    try:
        parse_date_range(low, high)
    except DateRangeError as exc:
        return "after" not in str(exc)
    return True


@schemathesis.hook
def filter_query(ctx, query) -> bool:
    if not query:
        return True
    if query.get("cursor"):  # only /search's own `next` tokens are cursors (test_cursor.py)
        return False
    return _ordered(query.get("from"), query.get("to"))


@schemathesis.hook
def filter_body(ctx, body) -> bool:
    return not isinstance(body, dict) or _ordered(body.get("from"), body.get("to"))
