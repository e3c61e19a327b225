"""Load through the production stack: search-box clients beside an export and a draft looper.

    VNSEARCH_SHARED=/work/shared .venv/bin/python -m bench.load --index /work/bench85k/final

For each number of concurrent search-box clients (``--clients``, default 2, 8, 32, 64),
for ``--seconds`` each, every client sends the search-box queries of
``../shared/eval/search_box_queries.txt`` (``GET /search?q=…``, facets on) one after the
other, closed-loop, over its own keep-alive connection from its own loopback address
(127.0.1.N: nginx sees separate clients, as it would see separate visitors), while two
heavy clients loop beside them, each in a process of its own: one full export of the
archive (``GET /export?format=jsonl``, read to the end) and one 90 KB draft
(``POST /related``). Setups, all measured in this run:

* **public**: ``deploy/serve.py`` (nginx in front of the two gunicorn pools, as
  ``make serve-public`` runs it), heavy clients running;
* **public, alone**: the same stack at the same moment without the heavy clients (the
  peer for interference; each level runs alone, then with the heavy clients);
* **public, production limits**: the same stack with nginx's production per-address rate
  (20 queries/s, burst 40): a closed-loop client asks faster than that, so this shows
  the 429s a client gets and that they stay 429s, not errors;
* **bare gunicorn**: ``gunicorn 'api:get_app()' --workers 2`` (sync workers, no nginx, as
  the README said before the public deployment), heavy clients running.

The rate limit: a closed-loop client sends a query as soon as the last one is answered
(tens a second, far more than a person typing), so in **public** and **alone** nginx's
per-address query rate is raised to ``--search-rate`` (default 1000/s, burst as much)
for the benchmark only, through ``deploy.serve.Limits``; every other limit (exports
12/min, drafts 2/s, connections per address, the in-flight bound, the app's admission
slots) is the production one. The production defaults are untouched.

Before measuring it waits until every worker of every pool says (``/stats``, asked per
worker) that it has read its posting lists ahead, up to a bound, then runs an unrecorded
5 s level. Prints, per setup and client count: search-box throughput (answers/s),
p50/p95/p99 of the answered queries in ms, errors (anything but 200 and 429, or no
answer within 30 s), 429s, what the heavy clients got done, and the 1-minute load
average when the level ended; then the verdict against the targets: search-box p95
under 100 ms at 8 clients with the heavy clients running, and 0 errors other than 429
at 64 clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np

from bench.data import search_box_queries
from bench.metrics import format_table
from deploy.serve import Limits, PublicServer, free_port

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DRAFT_BYTES = 90 * 1024
P95_TARGET_MS = 100.0
REFUSED_PAUSE = 0.1  # s a search-box client waits after a 429


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    p.add_argument("--index", type=Path, default=OUT / "index85k")
    p.add_argument("--clients", default="2,8,32,64", help="comma-separated client counts")
    p.add_argument("--seconds", type=float, default=15.0, help="per client count")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="search pool")
    p.add_argument("--search-rate", type=int, default=1000, help="nginx queries/s per address")
    p.add_argument(
        "--setups",
        default="public,alone,limits,bare",
        help="public (heavy clients beside), alone (without them), limits (public with "
        "nginx's production per-address rate), bare (gunicorn sync workers, no nginx)",
    )
    p.add_argument("--limits-clients", default="8,64", help="client counts of 'limits'")
    p.add_argument("--max-queries", type=int, default=500)
    p.add_argument("--out", type=Path, default=OUT / "load.json")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- clients
class Connection:
    """A keep-alive HTTP connection from one loopback address; reconnects when closed."""

    def __init__(self, port: int, source: str):
        self.port, self.source = port, source
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        """(status, body bytes); status -1 when the request got no answer."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
                )
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:  # a fresh connection failed too
                    return -1, b""
        return -1, b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # ms of 200 answers
    ok: int = 0
    refused: int = 0  # 429
    errors: dict = field(default_factory=dict)  # status → count
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, ms: float) -> None:
        with self.lock:
            if status == 200:
                self.ok += 1
                self.latencies.append(ms)
            elif status == 429:
                self.refused += 1
            else:
                self.errors[status] = self.errors.get(status, 0) + 1

    def row(self, setup: str, clients: int, seconds: float, heavy: dict) -> dict:
        ms = np.asarray(self.latencies) if self.latencies else np.asarray([np.nan])
        return {
            "setup": setup,
            "clients": clients,
            "answers/s": round(self.ok / seconds, 1),
            "p50 ms": round(float(np.percentile(ms, 50)), 1),
            "p95 ms": round(float(np.percentile(ms, 95)), 1),
            "p99 ms": round(float(np.percentile(ms, 99)), 1),
            "errors": sum(self.errors.values()),
            "429s": self.refused,
            "exports": f"{heavy.get('export_ok', 0)} ok / {heavy.get('export_429', 0)} 429 / "
            f"{heavy.get('export_bytes', 0) / 1e6:.0f} MB",
            "drafts": f"{heavy.get('draft_ok', 0)} ok / {heavy.get('draft_429', 0)} 429",
            "error statuses": json.dumps(self.errors),
            "load 1m": round(os.getloadavg()[0], 1),
        }


def search_client(port, source, queries, offset, tally: Tally, halt: threading.Event):
    """One visitor's search box, closed-loop: the next query as soon as the last one is
    answered; after a 429 it waits ``REFUSED_PAUSE`` s (a box that retries at the next
    keystroke, not in a busy loop)."""
    conn = Connection(port, source)
    i = offset
    while not halt.is_set():
        q = queries[i % len(queries)]
        i += 1
        started = time.perf_counter()
        status, _ = conn.request("GET", "/search?" + urlencode({"q": q}, quote_via=quote))
        tally.add(status, (time.perf_counter() - started) * 1000)
        if status == 429:
            halt.wait(REFUSED_PAUSE)
    conn.close()


def export_looper(port: int, halt, out) -> None:
    """Loop whole exports (``GET /export?format=jsonl``, read to the end in 1 MB reads and
    thrown away) until ``halt``; put the counts on ``out``. Runs in a process of its own
    so that reading hundreds of MB does not take the measuring process's GIL."""
    counts: dict = {}
    while not halt.is_set():
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=300, source_address=("127.0.2.1", 0)
        )
        try:
            conn.request("GET", "/export?format=jsonl")
            resp = conn.getresponse()
            rows, status = 0, resp.status
            while chunk := resp.read(1 << 20):
                rows += chunk.count(b"\n")
                counts["export_bytes"] = counts.get("export_bytes", 0) + len(chunk)
                if halt.is_set():  # the level is over: drop this export, count nothing
                    status = None
                    break
        except (OSError, http.client.HTTPException):
            status, rows = -1, 0
        finally:
            conn.close()
        if status is None:
            break
        key = {200: "export_ok", 429: "export_429"}.get(status, "export_error")
        counts[key] = counts.get(key, 0) + 1
        if status == 200:
            counts["export_rows"] = counts.get("export_rows", 0) + rows
        else:
            halt.wait(1.0)
    out.put(counts)


def draft_looper(port: int, draft: bytes, halt, out) -> None:
    """Loop one draft (``POST /related``) until ``halt``; put the counts on ``out``
    (a process of its own, like the export looper)."""
    counts: dict = {}
    conn = Connection(port, "127.0.2.2")
    headers = {"Content-Type": "application/json"}
    while not halt.is_set():
        status, _ = conn.request("POST", "/related", body=draft, headers=headers)
        key = {200: "draft_ok", 429: "draft_429"}.get(status, "draft_error")
        counts[key] = counts.get(key, 0) + 1
        if status != 200:
            halt.wait(0.5)
    conn.close()
    out.put(counts)


def make_draft(port: int) -> bytes:
    """A draft of about 90 KB: bodies of the archive's newest articles, joined."""
    conn = Connection(port, "127.0.0.1")
    status, data = conn.request("GET", "/search?q=&per_page=100&facets=false")
    assert status == 200, data[:300]
    texts, size = [], 0
    for hit in json.loads(data)["hits"]:
        status, data = conn.request("GET", "/articles/" + quote(hit["id"], safe="/"))
        if status == 200:
            body = json.loads(data)["body"] or ""
            texts.append(body)
            size += len(body.encode("utf-8"))
        if size >= DRAFT_BYTES:
            break
    text = "\n\n".join(texts).encode("utf-8")[:DRAFT_BYTES].decode("utf-8", "ignore")
    return json.dumps({"text": text, "limit": 5}, ensure_ascii=False).encode("utf-8")


def run_level(port, clients, seconds, queries, heavy: bool, draft: bytes) -> tuple[Tally, dict]:
    """``clients`` search-box threads in this process for ``seconds``; with ``heavy``, an
    export looper and a draft looper in processes of their own beside them."""
    tally, halt = Tally(), threading.Event()
    threads = [
        threading.Thread(
            target=search_client,
            args=(port, f"127.0.1.{n + 1}", queries, n * 37, tally, halt),
            daemon=True,
        )
        for n in range(clients)
    ]
    ctx = multiprocessing.get_context("spawn")
    heavy_halt, out = ctx.Event(), ctx.Queue()
    loopers = []
    if heavy:
        loopers = [
            ctx.Process(target=export_looper, args=(port, heavy_halt, out)),
            ctx.Process(target=draft_looper, args=(port, draft, heavy_halt, out)),
        ]
        for proc in loopers:
            proc.start()
        time.sleep(1.0)  # both heavy requests under way before the clients start
    for t in threads:
        t.start()
    time.sleep(seconds)
    halt.set()
    for t in threads:
        t.join(timeout=60)
    heavy_halt.set()
    counts: dict = {}
    for _ in loopers:
        for key, n in out.get(timeout=330).items():
            counts[key] = counts.get(key, 0) + n
    for proc in loopers:
        proc.join(timeout=30)
    return tally, counts


# --------------------------------------------------------------------------- servers
class BareGunicorn:
    """``gunicorn 'api:get_app()' --workers N`` alone (the deployment before nginx)."""

    def __init__(self, index: Path, workers: int, log: Path):
        self.port = free_port()
        env = dict(os.environ, VNSEARCH_INDEX=str(index), VNSEARCH_ANALYTICS="off")
        cmd = [sys.executable, "-m", "gunicorn", "api:get_app()", "--preload"]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
        cmd += ["--error-logfile", str(log)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def worker_pids(master: int) -> set[int]:
    """The pids of a gunicorn master's workers (its children), from /proc."""
    try:
        return {int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()}
    except OSError:
        return set()


def wait_warm(pools: dict[str, tuple[int, int]], front: int, seconds: float = 600.0) -> str:
    """Wait until every worker of every pool has read its posting lists ahead, then send a
    few real queries through ``front`` (the port clients use) to fill the caches a first
    query fills (spelling, field lengths). ``pools``: name → (its own port, its master's
    pid). Each worker is asked for itself: ``/stats`` names the pid that answered and
    whether it is warm, on new connections straight to the pool, several at once so that
    every worker gets some. Returns one line of what was seen; raises RuntimeError naming
    the workers still cold (or never reached) after ``seconds``."""
    started = time.monotonic()
    deadline = started + seconds
    seen: dict[str, dict[int, bool]] = {name: {} for name in pools}

    def cold() -> dict[str, set[int]]:
        missing = {}
        for name, (_, master) in pools.items():
            workers = worker_pids(master)
            left = {pid for pid in workers if not seen[name].get(pid)}
            if left or not workers:
                missing[name] = left
        return missing

    def ask(port: int, name: str) -> None:
        conn = Connection(port, "127.0.0.1")
        status, data = conn.request("GET", "/stats")
        conn.close()
        if status == 200:
            worker = json.loads(data)["worker"]
            seen[name][worker["pid"]] = bool(worker.get("warm"))

    while cold():
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"workers not warm after {seconds:.0f} s: still cold or never reached "
                f"{ {n: sorted(p) for n, p in cold().items()} }; answers seen (pid: warm) {seen}"
            )
        asking = [
            threading.Thread(target=ask, args=(port, name))
            for name, (port, _) in pools.items()
            for _ in range(4)
        ]
        for t in asking:
            t.start()
        for t in asking:
            t.join()
        time.sleep(0.5)
    conn = Connection(front, "127.0.0.1")
    for q in ("khinh khí cầu", "khinh khi cau", "qqzxwv"):  # spelling, lengths, caches
        for _ in range(8):
            conn.request("GET", "/search?" + urlencode({"q": q}))
            conn.close()  # a new connection: another worker may answer
    workers = sum(len(worker_pids(master)) for _, master in pools.values())
    return f"{workers} workers warm after {time.monotonic() - started:.0f} s"


def measure(rows: list[dict], setup: str, port: int, clients: int, args, queries, heavy, draft):
    """One level: run it, keep its row, print it."""
    tally, counts = run_level(port, clients, args.seconds, queries, heavy, draft)
    rows.append(tally.row(setup, clients, args.seconds, counts))
    print(format_table([rows[-1]]), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    levels = [int(c) for c in args.clients.split(",")]
    queries = search_box_queries()[: args.max_queries]
    setups = args.setups.split(",")
    rows, log_dir = [], Path(tempfile.mkdtemp(prefix="vnsearch-load-"))
    print(f"{len(queries)} search-box queries; {args.seconds:.0f} s per level; logs {log_dir}")
    production = Limits()
    bench_limits = replace(production, search_rate=args.search_rate, search_burst=args.search_rate)
    if {"public", "alone", "limits"} & set(setups):
        print(
            f"nginx: each search-box client from its own address; queries per address "
            f"{bench_limits.search_rate}/s (production: {production.search_rate}/s, burst "
            f"{production.search_burst}), every other limit the production one"
        )
        server = PublicServer(
            index=args.index,
            port=free_port(),
            host="127.0.0.1",
            workers=args.workers,
            limits=bench_limits,
            env={"VNSEARCH_ANALYTICS": "off"},  # the index stays read-only
            keep_run_dir=False,
        )
        server.start(timeout=300)
        try:
            pools = {p.name: (p.port, p.proc.pid) for p in server.pools}
            print(wait_warm(pools, server.port), flush=True)
            draft = make_draft(server.port)
            print(f"draft: {len(draft) / 1024:.0f} KB")
            run_level(server.port, 8, min(args.seconds, 5.0), queries, True, draft)  # warm-up
            for clients in levels:  # each level alone, then beside the heavy clients
                if "alone" in setups:
                    measure(
                        rows, "public, alone", server.port, clients, args, queries, False, draft
                    )
                if "public" in setups:
                    measure(rows, "public", server.port, clients, args, queries, True, draft)
            if "limits" in setups:  # the production per-address rate: 429s, not errors
                server.reload(production)
                for clients in [int(c) for c in args.limits_clients.split(",")]:
                    measure(
                        rows,
                        "public, production limits",
                        server.port,
                        clients,
                        args,
                        queries,
                        True,
                        draft,
                    )
        finally:
            server.stop()
    if "bare" in setups:
        bare = BareGunicorn(args.index, args.workers, log_dir / "bare.log")
        try:
            print(wait_warm({"bare": (bare.port, bare.proc.pid)}, bare.port), flush=True)
            draft = make_draft(bare.port)
            for clients in levels:
                measure(rows, "bare gunicorn", bare.port, clients, args, queries, True, draft)
        finally:
            bare.stop()
    print()
    print(format_table(rows))
    verdict(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def verdict(rows: list[dict]) -> None:
    def find(setup: str, clients: int) -> dict | None:
        return next((r for r in rows if r["setup"] == setup and r["clients"] == clients), None)

    at8, at64 = find("public", 8), find("public", 64)
    if at8:
        ok = at8["p95 ms"] < P95_TARGET_MS
        peer = find("public, alone", 8)
        beside = f" (alone: {peer['p95 ms']} ms)" if peer else ""
        print(
            f"search-box p95 at 8 clients with heavy clients: {at8['p95 ms']} ms{beside}, "
            f"target < {P95_TARGET_MS:.0f}: {'met' if ok else 'NOT met'}"
        )
    if at64:
        print(
            f"errors other than 429 at 64 clients: {at64['errors']} (429s: {at64['429s']}), "
            f"target 0: {'met' if at64['errors'] == 0 else 'NOT met'}"
        )


if __name__ == "__main__":
    sys.exit(main())
