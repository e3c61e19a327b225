"""``vnsearch``: the command line. One sub-command per handler; the handlers live in
their modules (``indexer.cli``, ``search.cli``) and this file only wires them.

    vnsearch index ARCHIVE… [--index DIR]      add or update articles
    vnsearch delete ID… [--index DIR]          remove articles
    vnsearch stats [--index DIR] [--json]      what the index holds
    vnsearch search QUERY [--limit N] [--json | --csv]
    vnsearch queries [--limit N] [--days D] [--json]   what visitors search for
    vnsearch serve [--bind HOST:PORT] [--workers N]    the API and the search page
    vnsearch --version

Settings come from the environment once, here (``settings.Settings.from_env``); a bad
value stops the command naming the variable. Exit status: 0 done, 1 done with something
skipped or nothing found, 2 failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from settings import Settings, SettingsError

EXIT_OK, EXIT_SKIPPED, EXIT_FAILED = 0, 1, 2
REQUEST_LINE_BYTES = 8190  # gunicorn's largest bounded request line (0 would be unbounded)


def version() -> str:
    """The installed package's version (``pyproject.toml``)."""
    from importlib import metadata  # only for --version: it costs a search 0.1 s to import

    try:
        return metadata.version("vnsearch")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """``--version``: prints the version, read only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"vnsearch {version()}")
        parser.exit()


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    """Every sub-command with its arguments, help and ``handler``."""
    from indexer import cli as indexer_cli
    from search import cli as search_cli

    parser = argparse.ArgumentParser(
        prog="vnsearch",
        description="Full-text search for Vietnamese article archives.",
        epilog="Run 'vnsearch COMMAND --help' for a command's options. Settings come from "
        "VNSEARCH_* variables (settings.py).",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    parser.set_defaults(default_index=settings.index)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    indexer_cli.add_commands(sub)
    search_cli.add_search_command(sub, indexer_cli.add_index_arg)
    search_cli.add_queries_command(sub, indexer_cli.add_index_arg)
    p = sub.add_parser(
        "serve",
        help="serve the API and the search page with gunicorn",
        description="Serve the index with gunicorn, as 'make serve' does.",
    )
    indexer_cli.add_index_arg(p)
    p.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT (default 127.0.0.1:8000)")
    p.add_argument(
        "--workers", type=_positive, default=os.cpu_count() or 2, help="worker processes"
    )
    p.set_defaults(handler=cmd_serve)
    return parser


def cmd_serve(args) -> int:
    """Run gunicorn over ``args.index`` (replaces this process)."""
    from indexer import store

    if store.current_generation(args.index) is None:
        print(
            f"vnsearch serve: no index in {args.index}; build one with: "
            f"vnsearch index ARCHIVE --index {args.index}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which(
        "gunicorn"
    )
    if gunicorn is None:
        print("vnsearch serve: gunicorn is not installed", file=sys.stderr)
        return EXIT_FAILED
    os.environ["VNSEARCH_INDEX"] = str(args.index)
    argv = [gunicorn, "api:get_app()", "--bind", args.bind, "--workers", str(args.workers)]
    # request lines up to 8 KB, as nginx takes them in the public deployment (gunicorn's
    # default, 4 KB, refuses a long pasted query with an HTML error before the app sees it)
    argv += ["--limit-request-line", str(REQUEST_LINE_BYTES)]
    os.execv(gunicorn, [*argv, "--preload"])
    return EXIT_FAILED  # not reached


def main(argv: list[str] | None = None) -> int:
    """The ``vnsearch`` console script."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"vnsearch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    args = build_parser(settings).parse_args(argv)
    args.settings = settings
    args.index = Path(args.index or args.default_index)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `vnsearch search … | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
