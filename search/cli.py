"""``vnsearch search``: the search of ``/search`` from a terminal, reading the index directly.

    vnsearch search "đại hội" --from 2020 --category "Chính trị" --limit 5
    vnsearch search "giáo dục OR thể thao" --json      # the /search answer
    vnsearch search "quận" --csv > quan.csv            # every match, as /export?format=csv

``main`` is the ``vnsearch`` console script: the indexer's commands (``indexer.cli``)
plus ``search``, so that ``indexer/`` never imports ``search/``.
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
from settings import Settings, SettingsError

_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)
BOLD, RESET = "\x1b[1m", "\x1b[0m"


def add_search_command(subparsers, index_arg) -> argparse.ArgumentParser:
    """Add ``search`` to the ``vnsearch`` sub-commands; ``index_arg(parser)`` adds --index."""
    p = subparsers.add_parser("search", help="search the index from the terminal")
    p.add_argument("query", help='the query, in the /search language (e.g. "bão OR lũ")')
    index_arg(p)
    p.add_argument("--from", dest="date_from", metavar="DATE", help="YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--category", action="append", default=[], help="repeatable")
    p.add_argument("--official", action="append", default=[], help="repeatable")
    p.add_argument("--sort", choices=SORTS, default="relevance")
    p.add_argument("--limit", type=_positive, default=10, metavar="N", help="hits to show")
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
    """The ``SearchRequest`` of parsed arguments (ValueError on a bad date)."""
    date_from, date_to = parse_date_range(args.date_from, args.date_to)
    return SearchRequest(
        q=args.query,
        date_from=date_from,
        date_to=date_to,
        categories=tuple(c for c in args.category if c.strip()),
        officials=tuple(o for o in args.official if o.strip()),
        sort=args.sort,
        per_page=args.limit,
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
        settings = args.settings
        engine = Engine(
            args.index, warm_postings=settings.warm_postings, prefetch=settings.prefetch
        )
        if args.csv:
            _, chunks = export_stream(engine, request, "csv")
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


def build_parser() -> argparse.ArgumentParser:
    """``indexer.cli``'s parser with ``search`` added."""
    parser = indexer_cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    add_search_command(subparsers, indexer_cli._index_arg)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``vnsearch`` console script: index, delete, stats and search."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"vnsearch: {exc}", file=sys.stderr)
        return indexer_cli.EXIT_FAILED
    parser = build_parser()
    parser.set_defaults(settings=settings, default_index=settings.index)
    try:
        return indexer_cli.main(argv, parser=parser)
    except BrokenPipeError:  # `vnsearch search … | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
