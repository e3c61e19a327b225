"""Autocomplete speed and usefulness: ``/suggest`` under gunicorn beside SQLite FTS5 prefix queries.

    .venv/bin/python -m bench.suggest --index bench/out/index85k
    .venv/bin/python -m bench.suggest --index /tmp/demo_index     # development

For every prefix of every query of ``../shared/eval/search_box_queries.txt`` (as a user
types it, one character at a time) it requests ``/suggest`` from real gunicorn (2
workers on 127.0.0.1) with 2 concurrent clients and prints p50/p95/p99 latency and
requests/s, and the share of queries whose whole text (compared accent-insensitively)
is among the suggestions before half of it has been typed. Beside it, measured in the
same run over the same prefixes: SQLite FTS5 (``unicode61 remove_diacritics 2``) over
the index's titles, queried with ``"word" "word" "last"*`` (2 threads, in-process), and
our ``Suggester`` in-process (no HTTP), plus the time and memory to build the
per-snapshot structures (``suggest`` and ``spelling``).
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

from bench.data import has_shared, search_box_queries
from indexer.analysis import SYLLABLE_PATTERN, fold_diacritics, normalize_text

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INDEX = ROOT / "bench" / "out" / "index85k"
TARGET_P95_MS = 20.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="an index dir for Engine")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    p.add_argument("--limit", type=int, default=8, help="suggestions per request")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- workload
def prefixes(query: str) -> list[str]:
    """What the search box holds after each keystroke."""
    return [query[:i] for i in range(1, len(query) + 1)]


def match_text(text: str) -> str:
    """Accent-insensitive comparison key: folded, lowercased syllables."""
    return " ".join(SYLLABLE_PATTERN.findall(fold_diacritics(normalize_text(text).lower())))


def found_early(query: str, answers: dict[str, list[str]]) -> bool:
    """True when ``query`` is suggested for some prefix of at most half its length."""
    want = match_text(query)
    return any(
        want in {match_text(t) for t in answers.get(prefix, [])}
        for prefix in prefixes(query)[: len(query) // 2]
    )


def percentiles(latencies_ms: list[float]) -> tuple[float, float, float]:
    arr = np.asarray(latencies_ms)
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def run_concurrently(
    work: list[str], clients: int, answer: Callable[[int], Callable[[str], list[str]]]
) -> tuple[dict[str, list[str]], list[float], float]:
    """Answer every item from ``clients`` threads; (answers, latencies ms, wall seconds).

    ``answer(i)`` gives client ``i``'s function (its own connection or session).
    """

    def client(i: int) -> tuple[dict[str, list[str]], list[float]]:
        ask = answer(i)
        mine: dict[str, list[str]] = {}
        latencies: list[float] = []
        for text in work[i::clients]:
            t0 = time.perf_counter()
            mine[text] = ask(text)
            latencies.append((time.perf_counter() - t0) * 1000)
        return mine, latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [f.result() for f in [pool.submit(client, i) for i in range(clients)]]
    wall = time.perf_counter() - started
    answers = {k: v for mine, _ in results for k, v in mine.items()}
    return answers, [ms for _, lat in results for ms in lat], wall


# --------------------------------------------------------------------------- ours over HTTP
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(index: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, VNSEARCH_INDEX=str(index.resolve()))
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "api:get_app()",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--preload",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer /health within 60 s")


def http_client(base: str, limit: int) -> Callable[[int], Callable[[str], list[str]]]:
    def make(_: int) -> Callable[[str], list[str]]:
        session = requests.Session()

        def ask(text: str) -> list[str]:
            resp = session.get(f"{base}/suggest", params={"q": text, "limit": limit}, timeout=30)
            resp.raise_for_status()
            return [s["text"] for s in resp.json()["suggestions"]]

        return ask

    return make


def warm_up(base: str, workers: int) -> float:
    """Make every worker build its structures; returns the slowest first answer (s)."""
    slowest = 0.0
    # concurrent rounds spread over the workers; a worker answers its first slowly
    for _ in range(3):
        _, lat, _ = run_concurrently(["thành"] * workers * 2, workers * 2, http_client(base, 8))
        slowest = max(slowest, max(lat) / 1000)
        for word in ("tiem chung", "gia vang"):
            requests.get(f"{base}/search", params={"q": word}, timeout=60)
    return slowest


# --------------------------------------------------------------------------- peer: FTS5
def fts5_titles(titles: list[str]) -> Path:
    path = Path(f"/tmp/bench_suggest_fts5_{os.getpid()}.sqlite")
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, tokenize='unicode61 remove_diacritics 2')"
    )
    con.executemany("INSERT INTO t(title) VALUES (?)", ((t,) for t in titles))
    con.commit()
    con.close()
    return path


def fts5_query(text: str) -> str | None:
    words = SYLLABLE_PATTERN.findall(normalize_text(text).lower())
    if not words:
        return None
    complete = SYLLABLE_PATTERN.fullmatch(text[-1]) is None
    quoted = [f'"{w}"' for w in words]
    if not complete:
        quoted[-1] += "*"
    return " ".join(quoted)


def fts5_client(path: Path, limit: int) -> Callable[[int], Callable[[str], list[str]]]:
    def make(_: int) -> Callable[[str], list[str]]:
        con = sqlite3.connect(path, check_same_thread=False)

        def ask(text: str) -> list[str]:
            query = fts5_query(text)
            if query is None:
                return []
            rows = con.execute(
                "SELECT title FROM t WHERE t MATCH ? ORDER BY rank LIMIT ?", (query, limit)
            )
            return [r[0] for r in rows]

        return ask

    return make


# --------------------------------------------------------------------------- report
def report(name: str, queries: list[str], answers, latencies, wall) -> None:
    p50, p95, p99 = percentiles(latencies)
    early = sum(found_early(q, answers) for q in queries)
    print(
        f"{name:<34} {p50:7.2f} {p95:7.2f} {p99:7.2f} {len(latencies) / wall:9.0f} "
        f"{early:4d}/{len(queries)} ({100 * early / len(queries):.0f}%)"
    )


def build_costs(index: Path) -> tuple[list[str], object]:
    """Time and size the per-snapshot structures; returns the titles and a Suggester."""
    from search.engine import Engine
    from search.spelling import build_spelling
    from search.suggest import build_suggester

    engine = Engine(index)
    snap = engine.snapshot()
    for name, factory in (("suggest", build_suggester), ("spelling", build_spelling)):
        t0 = time.perf_counter()
        built = factory(snap)
        seconds = time.perf_counter() - t0
        tracemalloc.start()
        again = factory(snap)
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del again
        print(f"build {name:<9} {seconds:6.2f} s   structure ≈ {size / 2**20:6.1f} MiB")
        if name == "suggest":
            suggester = built
    reader = snap.searcher.reader()
    titles = [(reader.stored_fields(d).get("title") or "").strip() for d in reader.all_doc_ids()]
    print(f"documents {snap.searcher.doc_count()}, entries {len(suggester)}")
    return [t for t in titles if t], suggester


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not has_shared():
        print("skipped: ../shared (search_box_queries.txt) is not present")
        return 0
    if not (args.index / "current").exists() and not (args.index / "meta.json").exists():
        print(f"skipped: no index at {args.index} (build one, or pass --index DIR)")
        return 0
    queries = search_box_queries()
    work = [p for q in queries for p in prefixes(q)]
    print(f"{len(queries)} queries, {len(work)} prefixes, limit {args.limit}, index {args.index}")

    titles, suggester = build_costs(args.index)
    fts_path = fts5_titles(titles)

    print()
    print(f"{'engine':<34} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>9} found early")
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(args.index, port, args.workers)
    try:
        first = warm_up(base, args.workers)
        answers, lat, wall = run_concurrently(work, args.clients, http_client(base, args.limit))
        report(f"ours /suggest (gunicorn {args.workers}w, HTTP)", queries, answers, lat, wall)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    def ours(_: int):
        return lambda text: [s["text"] for s in suggester.suggest(text, args.limit)]

    report("ours Suggester (in-process)", queries, *run_concurrently(work, args.clients, ours))
    fts = run_concurrently(work, args.clients, fts5_client(fts_path, args.limit))
    report("sqlite-fts5 titles (in-process)", queries, *fts)
    fts_path.unlink(missing_ok=True)
    print()
    print(f"slowest first answer of a fresh worker (builds its structures): {first:.2f} s")
    print(f"target: p95 under {TARGET_P95_MS:.0f} ms over HTTP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
