"""Search latency over HTTP: our gunicorn service beside SQLite FTS5, in the same run.

    # the 85k benchmark index (already built) and the FTS5 peer of bench/related.py
    .venv/bin/python -m bench.latency
    # development: a demo index and a FTS5 file built over the same articles
    .venv/bin/python -m bench.latency --index /tmp/latdemo --fts /tmp/latdemo-fts.sqlite

Two workloads: the short queries of ``../shared/eval/search_box_queries.txt`` and the
headlines of ``vims_dev_title_queries.jsonl`` (``--max-long``). For each, gunicorn is
started afresh (``--preload``, ``--workers``) on a free loopback port, every worker is
warmed up with a few queries outside the workloads (index open, field lengths, the
spelling structure), then ``--clients`` threads, each with its own ``requests.Session``,
send ``GET /search?q=…`` (facets on, the default):

* **ours cold**: each query once, for the first time (result and posting caches empty);
* **ours warm**: the same queries again (the result cache of the worker that answered
  the first time, or the posting cache of the other worker);
* **sqlite-fts5**: ``Fts5Peer.search(q, 10)`` in this process, one connection per
  thread, the same number of threads (top 10 ids only: no count, facets or snippets).

Prints p50/p95/p99 in ms, requests/s, the server's own ``took_ms`` p50 and our p50 over
FTS5's, then a verdict against the targets: short-query p95 under 50 ms, and long-query
p50 at or below FTS5's (both judged on the cold pass). ``--profile N`` then runs the N
slowest cold queries of each workload in-process under cProfile and prints where the
time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import requests

from bench.data import has_shared, iter_corpus, load_eval, search_box_queries
from bench.metrics import format_table
from bench.peers import Fts5Peer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
K = 10
SHORT_P95_TARGET_MS = 50.0
# warm-up queries: rare words, accented and not, plus one absent word (spelling)
WARMUP = ("khinh khí cầu", "khinh khi cau", "qqzxwv")
_ACCESS = re.compile(r"^<(\d+)> (\S+) (\S*)")

Ask = Callable[[str], "float | None"]  # one query → the server's took_ms (or None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=OUT / "index85k", help="our index directory")
    p.add_argument(
        "--fts",
        type=Path,
        default=OUT / "peers85k" / "fts.sqlite",
        help="the FTS5 peer database (built over the whole corpus if still absent)",
    )
    p.add_argument("--fts-wait", type=float, default=180.0, help="seconds to wait for --fts")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    p.add_argument("--clients", type=int, default=2, help="concurrent client threads")
    p.add_argument("--max-short", type=int, default=None, help="use the first N short queries")
    p.add_argument("--max-long", type=int, default=300, help="use the first N long queries")
    p.add_argument(
        "--pass-seconds",
        type=float,
        default=45.0,
        help="stop sending new queries in a pass after this long",
    )
    p.add_argument("--profile", type=int, default=0, help="profile the N slowest cold queries")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- queries
def unique(items: Sequence[str]) -> list[str]:
    """The items without repeats, in first-seen order."""
    return list(dict.fromkeys(items))


def workloads(max_short: int | None, max_long: int) -> dict[str, list[str]]:
    """The two query lists by name: short search-box queries and long headlines."""
    short = unique(search_box_queries())[:max_short]
    long = unique([q["query"] for q in load_eval("vims_dev_title_queries")])[:max_long]
    return {"short": short, "long": long}


# --------------------------------------------------------------------------- our server
class Server:
    """gunicorn serving ``api:get_app()`` over one index on a free loopback port."""

    def __init__(
        self,
        index: Path,
        workers: int,
        worker_class: str,
        log_dir: Path,
        threads: int = 1,
        keepalive: int | None = None,
    ):
        """``threads`` and ``keepalive`` (seconds): gunicorn's ``--threads`` and
        ``--keep-alive`` (its defaults when 1 and None)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.access_log = log_dir / f"access-{self.port}.log"
        self.error_log = log_dir / f"error-{self.port}.log"
        cmd = [sys.executable, "-m", "gunicorn", "api:get_app()", "--preload"]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
        cmd += ["--worker-class", worker_class, "--timeout", "120"]
        if threads > 1:
            cmd += ["--threads", str(threads)]
        if keepalive is not None:
            cmd += ["--keep-alive", str(keepalive)]
        cmd += ["--access-logfile", str(self.access_log)]
        cmd += ["--access-logformat", "%(p)s %(U)s %(q)s"]
        cmd += ["--error-logfile", str(self.error_log)]
        env = dict(os.environ, VNSEARCH_INDEX=str(index), VNSEARCH_WORKERS=str(workers))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, seconds: float = 180.0) -> float:
        """Wait for ``/health``; return the seconds since the start."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(f"{self.base}/health", timeout=seconds).status_code == 200:
                    return time.perf_counter() - self.started
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not come up:\n{self.errors()[-2000:]}")

    def warm_up(self, seconds: float = 180.0) -> float:
        """Wait until every worker says it is warm (``/stats``: its warming thread has
        read ahead and built the spelling), then send WARMUP until every worker has
        answered each query; return the seconds. (``/health`` does not say which worker
        answers: a worker still warming seldom wins the race to accept, so warm answers
        in a row could all come from the other one.)"""
        start = time.perf_counter()
        deadline = time.monotonic() + seconds
        warm: set[int] = set()
        while time.monotonic() < deadline and len(warm) < self.workers:
            worker = requests.get(f"{self.base}/stats", timeout=seconds).json()["worker"]
            if worker.get("warm", True):
                warm.add(worker["pid"])
            else:
                time.sleep(0.2)
        wanted = {urlencode({"q": q}) for q in WARMUP}
        while time.monotonic() < deadline:
            for q in WARMUP:  # a fresh connection each time: any worker may take it
                requests.get(f"{self.base}/search", params={"q": q}, timeout=seconds)
            served: dict[str, set[str]] = {}
            for line in self.access_log.read_text().splitlines():
                m = _ACCESS.match(line)
                if m and m[2] == "/search":
                    served.setdefault(m[1], set()).add(m[3])
            if len(served) >= self.workers and all(wanted <= s for s in served.values()):
                break
        return time.perf_counter() - start

    def errors(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""

    def stop(self) -> None:
        stop_process(self.proc, grace=20)


def stop_process(proc: subprocess.Popen, grace: float) -> None:
    """Ask ``proc`` to stop (SIGTERM), give it ``grace`` seconds, then kill it; it has
    exited when this returns."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class HttpClient:
    """One keep-alive session asking ``/search`` (facets on)."""

    def __init__(self, base: str):
        self.url = f"{base}/search"
        self.session = requests.Session()

    def __call__(self, q: str) -> float | None:
        resp = self.session.get(self.url, params={"q": q}, timeout=120)
        if resp.status_code != 200:
            raise RuntimeError(f"{resp.status_code}: {resp.text[:200]}")
        return resp.json().get("took_ms")

    def close(self) -> None:
        self.session.close()


class FtsClient:
    """One SQLite connection answering ``Fts5Peer.search(q, 10)``."""

    def __init__(self, path: Path):
        self.peer = Fts5Peer(path)

    def __call__(self, q: str) -> float | None:
        self.peer.search(q, K)
        return None

    def close(self) -> None:
        self.peer.close()


# --------------------------------------------------------------------------- the FTS5 peer
def fts_ready(path: Path) -> bool:
    """True when ``path`` holds a committed, non-empty FTS5 peer table."""
    if not path.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM ids").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def ensure_fts(path: Path, wait: float) -> None:
    """Wait up to ``wait`` seconds for the peer database, else build it over the corpus."""
    deadline = time.monotonic() + wait
    while not fts_ready(path):
        if time.monotonic() > deadline:
            print(f"building the FTS5 peer at {path} (a few minutes)…", file=sys.stderr)
            path.parent.mkdir(parents=True, exist_ok=True)
            peer = Fts5Peer(path)
            peer.build(iter_corpus())
            peer.close()
            print(f"FTS5 built in {peer.build_seconds:.0f} s", file=sys.stderr)
            return
        print(f"waiting for {path}…", file=sys.stderr)
        time.sleep(10)


# --------------------------------------------------------------------------- measuring
@dataclass
class Pass:
    """The latencies of one pass over a query list."""

    label: str
    latencies: dict[int, float] = field(default_factory=dict)  # query index → seconds
    took_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: int = 0  # queries not sent: the time budget ran out

    def ms(self, pct: float) -> float:
        return float(np.percentile(list(self.latencies.values()), pct)) * 1000

    def row(self, workload: str, peer_p50: float | None) -> dict:
        """One table row (values formatted for reading)."""
        n = len(self.latencies)
        row = {"workload": workload, "engine": self.label, "queries": n}
        if n:
            row |= {k: f"{self.ms(p):.1f}" for k, p in (("p50", 50), ("p95", 95), ("p99", 99))}
            row["req/s"] = f"{n / self.seconds:.1f}"
        took = f"{np.percentile(self.took_ms, 50):.1f}" if self.took_ms else "-"
        row["took p50"] = took
        row["p50/fts5"] = f"{self.ms(50) / peer_p50:.2f}" if n and peer_p50 else "-"
        row["errors"] = len(self.errors)
        row["skipped"] = self.skipped
        return row


def run_pass(
    label: str,
    queries: list[str],
    client: Callable[[], HttpClient | FtsClient],
    threads: int,
    budget: float,
) -> Pass:
    """Send every query once from ``threads`` concurrent clients; stop after ``budget`` s."""
    result = Pass(label)
    lock = threading.Lock()
    todo = iter(enumerate(queries))
    deadline = time.monotonic() + budget

    def work() -> None:
        ask = client()
        try:
            while True:
                with lock:
                    item = next(todo, None)
                if item is None or time.monotonic() > deadline:
                    return
                i, q = item
                t0 = time.perf_counter()
                try:
                    took = ask(q)
                except Exception as exc:  # noqa: BLE001 - a failed request is a result
                    result.errors.append(f"{q[:60]!r}: {exc}")
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    result.latencies[i] = elapsed
                    if took is not None:
                        result.took_ms.append(float(took))
        finally:
            ask.close()

    start = time.perf_counter()
    pool = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result.seconds = time.perf_counter() - start
    result.skipped = len(queries) - len(result.latencies) - len(result.errors)
    return result


@dataclass
class Workload:
    """The passes over one query list."""

    name: str
    queries: list[str]
    cold: Pass | None = None
    warm: Pass | None = None
    fts: Pass | None = None
    startup: str = ""

    def slowest(self, n: int) -> list[str]:
        """The ``n`` queries slowest on our cold pass, slowest first."""
        lat = self.cold.latencies if self.cold else {}
        return [self.queries[i] for i in sorted(lat, key=lat.get, reverse=True)[:n]]


def measure(args: argparse.Namespace, work: Workload, log_dir: Path) -> None:
    """Our cold and warm passes over a fresh gunicorn, then the FTS5 pass."""
    server = Server(args.index, args.workers, args.worker_class, log_dir)
    try:
        up = server.wait_ready()
        warm = server.warm_up()
        work.startup = f"gunicorn up in {up:.1f} s, workers warmed in {warm:.1f} s"

        def http() -> HttpClient:
            return HttpClient(server.base)

        work.cold = run_pass("ours cold", work.queries, http, args.clients, args.pass_seconds)
        work.warm = run_pass("ours warm", work.queries, http, args.clients, args.pass_seconds)
    finally:
        server.stop()
    tail = server.errors()
    if "Traceback" in tail:
        print(f"gunicorn errors:\n{tail[-2000:]}", file=sys.stderr)

    def fts() -> FtsClient:
        return FtsClient(args.fts)

    fts()(work.queries[0])  # opens the file once before timing
    work.fts = run_pass("sqlite-fts5", work.queries, fts, args.clients, args.pass_seconds)


def verdict(works: dict[str, Workload]) -> str:
    """One line against the targets, judged on the cold passes."""
    parts = []
    short, long = works.get("short"), works.get("long")
    if short and short.cold and short.cold.latencies:
        p95 = short.cold.ms(95)
        ok = "MET" if p95 < SHORT_P95_TARGET_MS else "MISSED"
        parts.append(f"short p95 {p95:.1f} ms (target < {SHORT_P95_TARGET_MS:.0f}): {ok}")
    if long and long.cold and long.fts and long.cold.latencies and long.fts.latencies:
        ours, peer = long.cold.ms(50), long.fts.ms(50)
        ok = "MET" if ours <= peer else "MISSED"
        parts.append(f"long p50 {ours:.1f} ms vs FTS5 {peer:.1f} ms (target <=): {ok}")
    return "verdict (cold passes): " + "; ".join(parts)


# --------------------------------------------------------------------------- profiling
PHASES = {  # function name → what it is, for the breakdown of a profile
    "match": "matching + BM25 (Engine.match)",
    "_page": "ranking the page (+ proximity)",
    "stored_fields": "stored-field loading",
    "make_snippet": "snippets",
    "category_counts": "facet: category",
    "official_counts": "facet: official",
    "year_counts": "facet: year",
    "suggest_correction": "did_you_mean",
    "build": "query parsing (QueryBuilder.build)",
}


def profile(index: Path, works: dict[str, Workload], n: int) -> None:
    """Run the ``n`` slowest cold queries of each workload in-process under cProfile."""
    from search.engine import Engine, SearchRequest

    for work in works.values():
        engine = Engine(index)
        for q in WARMUP:
            engine.search(SearchRequest(q=q))
        prof = cProfile.Profile()
        print(f"\nprofile: the {n} slowest cold {work.name} queries, one fresh engine")
        for q in work.slowest(n):
            t0 = time.perf_counter()
            prof.enable()
            engine.search(SearchRequest(q=q))
            prof.disable()
            print(f"  {1000 * (time.perf_counter() - t0):8.1f} ms  {q[:90]}")
        stats = pstats.Stats(prof)
        total = sum(v[3] for k, v in stats.stats.items() if k[2] == "search" and "engine" in k[0])
        phases: dict[str, tuple[float, str]] = {}  # phase → (seconds, where): outermost
        for (filename, _, func), (_, _, _, cum, _) in stats.stats.items():
            if func in PHASES and cum > phases.get(PHASES[func], (-1.0, ""))[0]:
                phases[PHASES[func]] = (cum, f"{Path(filename).name}:{func}")
        rows = [
            {"phase": phase, "where": where, "ms": f"{1000 * cum:.1f}"}
            for phase, (cum, where) in sorted(phases.items(), key=lambda kv: -kv[1][0])
        ]
        print(f"  Engine.search total {1000 * total:.1f} ms")
        print(format_table(rows))
        stats.sort_stats("cumulative").print_stats(18)
        engine.close()


# --------------------------------------------------------------------------- main
def measure_all(args: argparse.Namespace) -> dict[str, Workload]:
    """Both workloads measured (ours over HTTP, then FTS5), by name."""
    works = {
        name: Workload(name, queries)
        for name, queries in workloads(args.max_short, args.max_long).items()
        if queries
    }
    with tempfile.TemporaryDirectory(prefix="vnsearch-latency-") as tmp:
        for work in works.values():
            measure(args, work, Path(tmp))
    return works


def table_rows(works: dict[str, Workload]) -> list[dict]:
    """The result table: ours cold, ours warm and FTS5 for each workload."""
    rows = []
    for work in works.values():
        peer = work.fts.ms(50) if work.fts and work.fts.latencies else None
        label = f"{work.name} ({len(work.queries)})"
        rows += [p.row(label, peer) for p in (work.cold, work.warm) if p]
        rows += [work.fts.row(label, None)] if work.fts else []
    return rows


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    """Measure both workloads and print the table and the verdict."""
    args = parse_args(argv)
    if not has_shared():
        print("shared data folder missing; nothing to do", file=sys.stderr)
        return 0
    ensure_fts(args.fts, args.fts_wait)
    load_before = os.getloadavg()
    works = measure_all(args)
    print(
        f"index {args.index} · gunicorn --workers {args.workers} --worker-class "
        f"{args.worker_class} --preload · {args.clients} client threads · "
        f"os.cpu_count() {os.cpu_count()}"
    )
    print(f"load average (1/5/15 min) before {_load(load_before)}, after {_load(os.getloadavg())}")
    for work in works.values():
        print(f"{work.name}: {work.startup}")
    print("latency in ms per request (client side); took p50 = the server's own took_ms")
    print(format_table(table_rows(works)))
    for work in works.values():
        for p in (work.cold, work.warm, work.fts):
            for err in (p.errors if p else [])[:3]:
                print(f"error ({work.name}, {p.label}): {err}", file=sys.stderr)
    print(verdict(works))
    if args.profile:
        profile(args.index, works, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
