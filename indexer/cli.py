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


def _index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        metavar="DIR",
        help=f"index directory (default: $VNSEARCH_INDEX or {store.DEFAULT_DIR}/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The indexer's commands; ``search.cli`` adds ``search`` to the same parser."""
    parser = argparse.ArgumentParser(prog="vnsearch", description=__doc__)
    parser.set_defaults(default_index=store.DEFAULT_DIR)  # the caller's settings replace it
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="add or update articles (JSONL, portal pages, folders)")
    p.add_argument(
        "paths", nargs="*", help="files or folders (default with --rebuild: last sources)"
    )
    _index_arg(p)
    p.add_argument("--rebuild", action="store_true", help="build a new index and switch atomically")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="segmenting processes")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-record errors")
    p.add_argument("--wait", type=float, default=5.0, help="seconds to wait for another writer")

    p = sub.add_parser("delete", help="remove articles by id")
    p.add_argument("ids", nargs="+")
    _index_arg(p)

    p = sub.add_parser("stats", help="document count, fields, size, last update")
    _index_arg(p)
    p.add_argument("--json", action="store_true")

    return parser


def cmd_index(args) -> int:
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
            print(f"skipped {err.origin}: {err.reason}", file=sys.stderr)

    try:
        summary = index_paths(
            paths,
            root,
            rebuild=args.rebuild,
            jobs=max(1, args.jobs),
            progress=not args.quiet and sys.stderr.isatty(),
            on_error=on_error,
            lock_wait=args.wait,
        )
    except store.IndexBusy as exc:
        print(f"vnsearch index: {exc}", file=sys.stderr)
        return EXIT_FAILED
    rate = (summary.indexed + summary.updated) / summary.seconds if summary.seconds else 0.0
    print(f"{summary.line()} in {summary.seconds:.1f}s ({rate:.0f} articles/s)")
    return EXIT_SKIPPED if summary.skipped else EXIT_OK


def cmd_delete(args) -> int:
    from indexer.writer import delete_ids

    root = args.index
    try:
        found = delete_ids(args.ids, root)
    except (store.IndexBusy, store.IndexMissing) as exc:
        print(f"vnsearch delete: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for doc_id in args.ids:
        print(("deleted " if doc_id in found else "not found ") + doc_id)
    return EXIT_OK if len(found) == len(args.ids) else EXIT_SKIPPED


def index_stats(root: Path) -> dict:
    """Document count, fields, size and last update of the index in ``root``."""
    ix = store.open_current(root)
    gen = store.current_generation(root)
    with ix.searcher() as searcher:
        count = searcher.doc_count()
    meta = store.read_meta(root)
    return {
        "index": str(root),
        "generation": gen.name if gen else None,
        "documents": count,
        "fields": sorted(ix.schema.names()),
        "size_bytes": store.directory_size(gen) if gen else 0,
        "last_update": meta.get("last_update"),
        "sources": meta.get("sources", []),
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


HANDLERS = {"index": cmd_index, "delete": cmd_delete, "stats": cmd_stats}


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    args = (parser or build_parser()).parse_args(argv)
    args.index = Path(args.index or args.default_index)
    handler = HANDLERS.get(args.command) or args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
