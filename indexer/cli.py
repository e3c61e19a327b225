"""``vnsearch index / delete / stats``: the indexer's command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from indexer import store
from indexer.article import BadRecord

EXIT_OK, EXIT_SKIPPED, EXIT_FAILED = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it (128 + SIGINT)
INTERRUPTED = "interrupted: nothing was committed; the previous index is still served"


def add_index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        metavar="DIR",
        help=f"index directory (default: $VNSEARCH_INDEX or {store.DEFAULT_DIR}/)",
    )


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="on failure, show the traceback (not one line)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The indexer's commands alone (``python -m indexer.cli``; ``vnsearch`` is cli.py)."""
    parser = argparse.ArgumentParser(prog="vnsearch", description=__doc__)
    parser.set_defaults(default_index=store.DEFAULT_DIR)  # the caller's settings replace it
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


def add_commands(sub) -> None:
    """Add ``index``, ``delete`` and ``stats`` (each with its ``handler``) to ``sub``, the
    object ``ArgumentParser.add_subparsers`` returned."""
    p = sub.add_parser(
        "index",
        help="add or update articles (JSON Lines, portal pages, folders)",
        description="Add or update articles. A bad record is reported with its file and "
        "line and skipped; the rest is indexed.",
    )
    p.add_argument(
        "paths", nargs="*", help="files or folders (default with --rebuild: last sources)"
    )
    add_index_arg(p)
    p.add_argument("--rebuild", action="store_true", help="build a new index and switch atomically")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="segmenting processes")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-record errors")
    p.add_argument("--wait", type=float, default=5.0, help="seconds to wait for another writer")
    add_debug_arg(p)
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser("delete", help="remove articles by id", description="Remove articles.")
    p.add_argument("ids", nargs="+", metavar="ID", help="article ids")
    add_index_arg(p)
    add_debug_arg(p)
    p.set_defaults(handler=cmd_delete)

    p = sub.add_parser(
        "stats",
        help="document count, fields, size, last update",
        description="What the index holds: documents, fields, size, last update, sources.",
    )
    add_index_arg(p)
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_stats)


def cmd_index(args) -> int:
    """Exit 0 when every record went in as it was; 1 when some were skipped, undated or
    changed (each listed on stderr with ``path:line``); 2 when the run failed and nothing
    was committed (one line saying why; the traceback only with ``--debug``)."""
    from indexer.writer import index_paths

    root = args.index
    paths = args.paths
    if not paths and args.rebuild:
        paths = store.read_meta(root).get("sources", [])
    if not paths:
        print("vnsearch index: give at least one file or folder", file=sys.stderr)
        return EXIT_FAILED

    def on_error(err: BadRecord) -> None:
        if not args.quiet:
            print(f"{err.kind} {err.origin}: {err.reason}", file=sys.stderr)

    progress = False if args.quiet else "bar" if sys.stderr.isatty() else "lines"
    try:
        summary = index_paths(
            paths,
            root,
            rebuild=args.rebuild,
            jobs=max(1, args.jobs),
            progress=progress,
            on_error=on_error,
            lock_wait=args.wait,
        )
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"vnsearch index: {INTERRUPTED}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        print(f"vnsearch index: {failure_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    rate = (summary.indexed + summary.updated) / summary.seconds if summary.seconds else 0.0
    print(f"{summary.line()} in {summary.seconds:.1f}s ({rate:.0f} articles/s)")
    return EXIT_OK if summary.clean else EXIT_SKIPPED


def failure_line(exc: BaseException) -> str:
    """Why a run failed, in one line, and that nothing was committed."""
    if store.is_disk_full(exc):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"disk full{where}: nothing was committed; the previous index is still served"
    from indexer.sources import UnusableInput  # not at import: `vnsearch search` starts lean

    if isinstance(exc, (store.IndexBusy, store.IndexMissing, store.NotEnoughSpace, UnusableInput)):
        return str(exc)
    text = str(exc).strip().splitlines()
    detail = text[-1] if text else type(exc).__name__
    if "No space left on device" in detail or "database or disk is full" in detail:
        return f"disk full: nothing was committed; the previous index is still served ({detail})"
    return (
        f"failed: {type(exc).__name__}: {detail}. Nothing was committed; "
        "run with --debug for the traceback"
    )


def not_utf8(values) -> str | None:
    """The first of ``values`` (command-line text) that held bytes UTF-8 cannot read,
    shown with those bytes escaped (``caf\\xe9``), else None. Python hands such bytes
    over as lone surrogates, which no index term or id can hold."""
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return shown
    return None


def cmd_delete(args) -> int:
    from indexer.writer import delete_ids

    root = args.index
    bad = not_utf8(args.ids)
    if bad is not None:
        print(
            f"vnsearch delete: id '{bad}' is not UTF-8 text; nothing was deleted", file=sys.stderr
        )
        return EXIT_FAILED
    try:
        found = delete_ids(args.ids, root)
    except KeyboardInterrupt:
        print(f"vnsearch delete: {INTERRUPTED}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        print(f"vnsearch delete: {failure_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    for doc_id in args.ids:
        print(("deleted " if doc_id in found else "not found ") + doc_id)
    return EXIT_OK if len(found) == len(args.ids) else EXIT_SKIPPED


def index_stats(root: Path) -> dict:
    """Document count, fields, size and last update of the index in ``root``."""
    ix = store.open_current(root)
    try:
        with ix.searcher() as searcher:
            count = searcher.doc_count()
        fields = sorted(ix.schema.names())
    finally:
        ix.close()
    facts = store.describe(root)
    return {
        "index": str(root),
        "generation": facts["generation"],
        "documents": count,
        "fields": fields,
        "size_bytes": facts["size_bytes"],
        "last_update": facts["last_update"],
        "sources": facts["sources"],
    }


def cmd_stats(args) -> int:
    root = args.index
    try:
        stats = index_stats(root)
    except store.IndexMissing as exc:
        print(f"vnsearch stats: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    else:
        for key, value in stats.items():
            if isinstance(value, list):
                value = ", ".join(value) if value else "-"
            print(f"{key:12} {value}")
    return EXIT_OK


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Parse ``argv`` and run the chosen command's ``handler``."""
    args = (parser or build_parser()).parse_args(argv)
    args.index = Path(args.index or args.default_index)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
