"""The one shape every endpoint returns for an article (a ``/search`` hit)."""

from __future__ import annotations

from search.dates import to_iso
from search.snippets import make_snippet, make_snippets


def official_names(stored: dict) -> list[str]:
    return [o["name"] for o in stored.get("officials_json") or []]


def make_hit(
    stored: dict,
    score: float | None,
    folded_terms: set[str] | frozenset[str] = frozenset(),
    exact_terms: set[str] | frozenset[str] = frozenset(),
    units: list | None = None,
) -> dict:
    """A hit dict from a document's stored fields; the snippet marks ``units`` (what the
    query matched: ``search.matching``) when given, else the syllables of
    ``folded_terms`` (those of ``exact_terms`` first)."""
    body = stored.get("body") or ""
    return _hit(stored, score, make_snippet(body, set(folded_terms), set(exact_terms), units))


def make_hits(stored: list[dict], scores: list[float | None], units: list) -> list[dict]:
    """``make_hit(s, score, units=units)`` of each document's stored fields ``s``, the
    snippets made together (``make_snippets``)."""
    snippets = make_snippets([s.get("body") or "" for s in stored], units)
    return [_hit(s, score, snippet) for s, score, snippet in zip(stored, scores, snippets)]


def _hit(stored: dict, score: float | None, snippet: str) -> dict:
    return {
        "id": stored["id"],
        "title": stored.get("title") or "",
        "title_derived": bool(stored.get("title_derived")),
        "date": to_iso(stored.get("date")),
        "category": stored.get("category"),
        "source": stored.get("source"),
        "url": stored.get("url"),
        "officials": official_names(stored),
        "snippet": snippet,
        "score": round(score, 4) if score is not None else None,
    }


def make_article(stored: dict) -> dict:
    """The whole article: original title and body and every stored attribute."""
    return {
        "id": stored["id"],
        "title": stored.get("title") or "",
        "title_derived": bool(stored.get("title_derived")),
        "body": stored.get("body") or "",
        "date": to_iso(stored.get("date")),
        "category": stored.get("category"),
        "categories": stored.get("categories") or [],
        "source": stored.get("source"),
        "url": stored.get("url"),
        "views": stored.get("views"),
        "officials": [
            {"name": o["name"], "positions": list(o.get("positions") or [])}
            for o in stored.get("officials_json") or []
        ],
    }
