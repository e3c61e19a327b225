"""Load through the production stack: search-box clients beside an export and a draft looper.

    VNSEARCH_SHARED=/work/shared .venv/bin/python -m bench.load --index /work/bench85k/index85k

For each number of concurrent search-box clients (``--clients``, default 2, 8, 32, 64),
for ``--seconds`` each, every client sends the search-box queries of
``../shared/eval/search_box_queries.txt`` (``GET /search?q=…``, facets on) one after the
other over its own keep-alive connection from its own loopback address (127.0.1.N, so
nginx sees separate clients), while two heavy clients loop beside them: one full export
of the archive (``GET /export?format=jsonl``, read to the end) and one 90 KB draft
(``POST /related``). Three setups, measured in this run:

* **public**: ``deploy/serve.py`` (nginx in front of the two gunicorn pools), heavy
  clients running;
* **public, alone**: the same stack without the heavy clients (the peer for interference);
* **bare gunicorn**: ``gunicorn 'api:get_app()' --workers 2`` (sync workers, no nginx, as
  the README said before the public deployment), heavy clients running.

Prints, per setup and client count: search-box throughput (answers/s), p50/p95/p99 of the
answered queries in ms, errors (anything but 200 and 429, or no answer within 30 s) and
429s, and what the heavy clients got done; then the verdict against the targets:
search-box p95 under 100 ms at 8 clients with the heavy clients running, and 0 errors
other than 429 at 64 clients. nginx's per-address query rate is raised to
``--search-rate`` (default 1000/s) so that the numbers measure the service rather than the
limiter, whose 429s tests/test_public.py checks; every other limit is the production one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    p.add_argument("--index", type=Path, default=OUT / "index85k")
    p.add_argument("--clients", default="2,8,32,64", help="comma-separated client counts")
    p.add_argument("--seconds", type=float, default=15.0, help="per client count")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="search pool")
    p.add_argument("--search-rate", type=int, default=1000, help="nginx queries/s per address")
    p.add_argument("--setups", default="public,alone,bare", help="which setups to run")
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
            "exports": f"{heavy.get('export_ok', 0)} ok / {heavy.get('export_429', 0)} 429",
            "drafts": f"{heavy.get('draft_ok', 0)} ok / {heavy.get('draft_429', 0)} 429",
            "error statuses": json.dumps(self.errors),
        }


def search_client(port, source, queries, offset, tally: Tally, halt: threading.Event):
    conn = Connection(port, source)
    i = offset
    while not halt.is_set():
        q = queries[i % len(queries)]
        i += 1
        started = time.perf_counter()
        status, _ = conn.request("GET", "/search?" + urlencode({"q": q}, quote_via=quote))
        tally.add(status, (time.perf_counter() - started) * 1000)
    conn.close()


def export_looper(port: int, counts: dict, halt: threading.Event) -> None:
    conn = Connection(port, "127.0.2.1")
    while not halt.is_set():
        status, body = conn.request("GET", "/export?format=jsonl")
        key = {200: "export_ok", 429: "export_429"}.get(status, "export_error")
        counts[key] = counts.get(key, 0) + 1
        if status == 200:
            counts["export_rows"] = counts.get("export_rows", 0) + body.count(b"\n")
        if status != 200:
            halt.wait(1.0)
    conn.close()


def draft_looper(port: int, draft: bytes, counts: dict, halt: threading.Event) -> None:
    conn = Connection(port, "127.0.2.2")
    headers = {"Content-Type": "application/json"}
    while not halt.is_set():
        status, _ = conn.request("POST", "/related", body=draft, headers=headers)
        key = {200: "draft_ok", 429: "draft_429"}.get(status, "draft_error")
        counts[key] = counts.get(key, 0) + 1
        if status != 200:
            halt.wait(0.5)
    conn.close()


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
    tally, counts, halt = Tally(), {}, threading.Event()
    threads = [
        threading.Thread(
            target=search_client,
            args=(port, f"127.0.1.{n + 1}", queries, n * 37, tally, halt),
            daemon=True,
        )
        for n in range(clients)
    ]
    if heavy:
        threads.append(threading.Thread(target=export_looper, args=(port, counts, halt)))
        threads.append(threading.Thread(target=draft_looper, args=(port, draft, counts, halt)))
    for t in threads:
        t.start()
    time.sleep(seconds)
    halt.set()
    for t in threads:
        t.join(timeout=60)
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


def wait_warm(port: int, workers: int, seconds: float = 300.0) -> None:
    """Until the service answers and /health says warm on several answers in a row (the
    workers read their posting lists ahead when they open the index)."""
    conn = Connection(port, "127.0.0.1")
    deadline, warm_in_a_row = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and warm_in_a_row < 4 * workers:
        status, data = conn.request("GET", "/health")
        warm = status == 200 and json.loads(data).get("warm")
        warm_in_a_row = warm_in_a_row + 1 if warm else 0
        conn.close()  # a new connection: another worker may answer
        time.sleep(0.3)
    for q in ("khinh khí cầu", "khinh khi cau", "qqzxwv"):  # spelling, lengths, caches
        for _ in range(workers * 2):
            conn.request("GET", "/search?" + urlencode({"q": q}))
            conn.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    levels = [int(c) for c in args.clients.split(",")]
    queries = search_box_queries()[: args.max_queries]
    setups = args.setups.split(",")
    rows, log_dir = [], Path(tempfile.mkdtemp(prefix="vnsearch-load-"))
    print(f"{len(queries)} search-box queries; {args.seconds:.0f} s per level; logs {log_dir}")
    if "public" in setups or "alone" in setups:
        server = PublicServer(
            index=args.index,
            port=free_port(),
            host="127.0.0.1",
            workers=args.workers,
            limits=Limits(search_rate=args.search_rate, search_burst=args.search_rate),
            env={"VNSEARCH_ANALYTICS": "off"},  # the index stays read-only
            keep_run_dir=False,
        )
        server.start(timeout=300)
        try:
            wait_warm(server.port, args.workers + 1)
            draft = make_draft(server.port)
            print(f"draft: {len(draft) / 1024:.0f} KB")
            for setup, key, heavy in (
                ("public", "public", True),
                ("public, alone", "alone", False),
            ):
                if key not in setups:
                    continue
                for clients in levels:
                    tally, counts = run_level(
                        server.port, clients, args.seconds, queries, heavy, draft
                    )
                    rows.append(tally.row(setup, clients, args.seconds, counts))
                    print(format_table([rows[-1]]), flush=True)
        finally:
            server.stop()
    if "bare" in setups:
        bare = BareGunicorn(args.index, args.workers, log_dir / "bare.log")
        try:
            wait_warm(bare.port, args.workers)
            draft = make_draft(bare.port)
            for clients in levels:
                tally, counts = run_level(bare.port, clients, args.seconds, queries, True, draft)
                rows.append(tally.row("bare gunicorn", clients, args.seconds, counts))
                print(format_table([rows[-1]]), flush=True)
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
