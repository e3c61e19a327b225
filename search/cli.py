"""``vnsearch search``: the search of ``/search`` from a terminal, reading the index directly.

    vnsearch search "đại hội" --from 2020 --category "Chính trị" --limit 5
    vnsearch search "giáo dục OR thể thao" --json      # the /search answer
    vnsearch search "quận" --csv > quan.csv            # every match, as /export?format=csv
    vnsearch queries --days 30                         # the owner's query log

The handlers of ``search`` and ``queries``; ``cli.py`` (the ``vnsearch`` console script)
wires them beside the indexer's commands (``indexer.cli``), so that ``indexer/`` never
imports ``search/``.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys

from indexer import cli as indexer_cli
from indexer import store
from search.dates import parse_date_range
from search.engine import SORTS, Engine, SearchRequest
from search.export import export_stream
from search.syntax import DATE_SYNTAX, unreadable_date

DEFAULT_LIMIT = 10
_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)
BOLD, RESET = "\x1b[1m", "\x1b[0m"


def add_search_command(subparsers, index_arg) -> argparse.ArgumentParser:
    """Add ``search`` to the ``vnsearch`` sub-commands; ``index_arg(parser)`` adds --index."""
    p = subparsers.add_parser(
        "search",
        help="search the index from the terminal",
        description="Search as GET /search does (the query language: docs/query-syntax.md).",
    )
    p.add_argument("query", help='the query, in the /search language (e.g. "bão OR lũ")')
    index_arg(p)
    p.add_argument("--from", dest="date_from", metavar="DATE", help="YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--category", action="append", default=[], help="repeatable: any of them")
    p.add_argument("--official", action="append", default=[], help="repeatable: any of them")
    p.add_argument("--sort", choices=SORTS, default="relevance", help="default: relevance")
    p.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help=f"hits to print, in every format (default {DEFAULT_LIMIT}; --csv: every match)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the /search answer as JSON")
    out.add_argument("--csv", action="store_true", help="every match as CSV (like /export)")
    p.set_defaults(handler=cmd_search)
    return p


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def search_request(args) -> SearchRequest:
    """The ``SearchRequest`` of parsed arguments (ValueError on a bad date, in the options
    or in the query's ``date:``)."""
    texts = (("query", [args.query]), ("--category", args.category), ("--official", args.official))
    for name, values in texts:
        bad = indexer_cli.not_utf8(values)
        if bad is not None:
            raise ValueError(f"the {name} '{bad}' is not UTF-8 text")
    date_from, date_to = parse_date_range(args.date_from, args.date_to)
    bad_date = unreadable_date(args.query)
    if bad_date is not None:
        raise ValueError(
            f"the query filters on date:{bad_date}, which is not a date: {DATE_SYNTAX}"
        )
    return SearchRequest(
        q=args.query,
        date_from=date_from,
        date_to=date_to,
        categories=tuple(c for c in args.category if c.strip()),
        officials=tuple(o for o in args.official if o.strip()),
        sort=args.sort,
        per_page=args.limit or DEFAULT_LIMIT,
        facets=bool(args.json),
    )


def render_snippet(snippet: str, tty: bool) -> str:
    """A /search snippet for a terminal: marks in bold (tty) or ``[…]``, entities decoded."""
    if tty:
        marked = _MARK.sub(lambda m: BOLD + m.group(1) + RESET, snippet)
    else:
        marked = _MARK.sub(lambda m: "[" + m.group(1) + "]", snippet)
    return html.unescape(marked)


def format_hits(answer: dict, tty: bool) -> str:
    """Numbered hits with title, date, category and snippet, then a count line; partial
    matches (some of the words) follow under their own heading, outside the count."""
    lines = []
    if answer.get("showing_results_for"):
        lines.append(f"Showing results for: {answer['showing_results_for']}")
        lines.append("(nothing holds the words as typed with their diacritics)")
        lines.append("")
    _hit_lines(lines, answer["hits"], tty)
    lines.append(f"{len(answer['hits'])} of {answer['total']} matches")
    partial = answer.get("partial")
    if partial and partial["hits"]:
        lines.append("")
        lines.append(f"Partial matches (some of the words, not counted): {partial['total']}")
        lines.append("")
        _hit_lines(lines, partial["hits"], tty)
    return "\n".join(lines).rstrip("\n")


def _hit_lines(lines: list[str], hits: list[dict], tty: bool) -> None:
    for n, hit in enumerate(hits, 1):
        title = hit["title"] or "(no title)"
        meta = " · ".join(x for x in ((hit["date"] or "")[:10], hit["category"] or "") if x)
        lines.append(f"{n}. {BOLD + title + RESET if tty else title}")
        if meta:
            lines.append(f"   {meta}")
        if hit["snippet"]:
            lines.append(f"   {render_snippet(hit['snippet'], tty)}")
        lines.append(f"   id: {hit['id']}")
        lines.append("")


def cmd_search(args, stdout=None) -> int:
    out = stdout or sys.stdout
    try:
        request = search_request(args)
    except ValueError as exc:
        print(f"vnsearch search: {exc}", file=sys.stderr)
        return indexer_cli.EXIT_FAILED
    try:
        # one query: no posting lists read ahead, no index files pulled into the page cache
        engine = Engine(args.index, warm_postings=0, prefetch=False, preload_segmenter=False)
        if args.csv:
            _, chunks = export_stream(engine, request, "csv", limit=args.limit)
            binary = getattr(out, "buffer", None)
            for chunk in chunks:
                if binary is not None:
                    binary.write(chunk)
                else:
                    out.write(chunk.decode("utf-8"))
            out.flush()
            return indexer_cli.EXIT_OK
        answer = engine.search(request)
    except store.IndexMissing as exc:
        print(f"vnsearch search: {exc}", file=sys.stderr)
        return indexer_cli.EXIT_FAILED
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=1), file=out)
    else:
        print(format_hits(answer, tty=out.isatty()), file=out)
    return indexer_cli.EXIT_OK if answer["total"] else indexer_cli.EXIT_SKIPPED


def add_queries_command(subparsers, index_arg) -> argparse.ArgumentParser:
    """Add ``queries`` (the owner's query log, ``search.analytics``)."""
    p = subparsers.add_parser(
        "queries",
        help="what visitors search for: top, no-result and no-click queries",
        description="The owner's query log: query text and counts per day, no IP or visitor.",
    )
    index_arg(p)
    p.add_argument("--limit", type=_positive, default=20, metavar="N", help="rows per list")
    p.add_argument("--days", type=_positive, metavar="D", help="only the last D days")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_queries)
    return p


def cmd_queries(args, stdout=None) -> int:
    from search.analytics import QueryLog, format_report

    out = stdout or sys.stdout
    path = args.settings.analytics_path(args.index)
    if path is None:
        print("vnsearch queries: the query log is off (VNSEARCH_ANALYTICS=off)", file=sys.stderr)
        return indexer_cli.EXIT_FAILED
    report = QueryLog(path).report(limit=args.limit, days=args.days)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1), file=out)
    else:
        out.write(format_report(report))
    return indexer_cli.EXIT_OK if report["top"] else indexer_cli.EXIT_SKIPPED
