"""The API served by real gunicorn (2 workers): answers over HTTP, and stays fresh and
error-free while the indexer commits and rebuilds under it."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from bench.latency import stop_process
from indexer.writer import index_paths

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
NEW_WORD = "khinh khí cầu"  # in no demo article
_PROBES = itertools.count()  # numbers requests, to find their worker in the access log
_PID = re.compile(r"^<(\d+)> \S+ \S*\bprobe=(\d+)")


class Server:
    """A gunicorn process serving ``api:get_app()`` over one index directory."""

    def __init__(self, index: Path, log_dir: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = log_dir / "access.log"
        self.error_log = log_dir / "error.log"
        env = dict(os.environ, VNSEARCH_INDEX=str(index))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "api:get_app()",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                "%(p)s %(U)s %(q)s %(s)s",
                "--error-logfile",
                str(self.error_log),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(f"{self.base}/health", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not come up:\n{self.errors()}")

    def errors(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""

    def answered(self, probes: set[int], seconds: float = 5.0) -> list[tuple[int, int]]:
        """(probe, worker pid) in the order the workers answered (from the access log)."""
        deadline = time.monotonic() + seconds
        while True:
            lines = self.access_log.read_text().splitlines()
            found = [(int(m[2]), int(m[1])) for m in map(_PID.match, lines) if m]
            if probes <= {p for p, _ in found} or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def stop(self) -> None:
        stop_process(self.proc, grace=10)


@pytest.fixture
def server(scratch_index, tmp_path):
    srv = Server(scratch_index, tmp_path)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


def write_article(directory: Path, article_id: str) -> Path:
    path = directory / f"{article_id}.jsonl"
    record = {
        "id": article_id,
        "title": f"Lễ hội {NEW_WORD} lần đầu tổ chức tại quận Hồng Phúc",
        "body": f"Sáng 5/10, hơn hai mươi chiếc {NEW_WORD} bay trên bầu trời quận Hồng Phúc.",
        "date": "2024-10-05",
        "category": "Văn hóa",
    }
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_search_over_http(server):
    health = requests.get(f"{server.base}/health", timeout=10).json()
    assert health["status"] == "ok" and health["documents"] > 30
    resp = requests.get(f"{server.base}/search", params={"q": "thanh uy ha noi"}, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    hits = resp.json()["hits"]
    assert hits and "Thành ủy Hà Nội" in hits[0]["title"] + hits[0]["snippet"]
    article = requests.get(f"{server.base}/articles/{hits[0]['id']}", timeout=10)
    assert article.status_code == 200 and article.json()["id"] == hits[0]["id"]
    bad = requests.get(f"{server.base}/search", params={"per_page": "101"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["parameter"] == "per_page"
    missing = requests.get(f"{server.base}/articles/no-such-article", timeout=10)
    assert missing.status_code == 404 and "error" in missing.json()
    spec = requests.get(f"{server.base}/openapi.json", timeout=10)
    assert spec.status_code == 200 and "/search" in spec.json()["paths"]


class Hammer(threading.Thread):
    """Queries /search without pause until halted (a safety bound: 3000 requests or 30 s)."""

    def __init__(self, base: str, limit: int = 3000, seconds: float = 30.0):
        super().__init__(daemon=True)
        self.base, self.limit, self.seconds = base, limit, seconds
        self.halt = threading.Event()
        self.statuses: list[int] = []
        self.failures: list[str] = []
        self.halted_by_us = False

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        queries = ["đường", "thanh uy ha noi", NEW_WORD, "đại hội", ""]
        while len(self.statuses) < self.limit and time.monotonic() < deadline:
            if self.halt.is_set():
                self.halted_by_us = True
                return
            q = queries[len(self.statuses) % len(queries)]
            try:
                resp = requests.get(f"{self.base}/search", params={"q": q}, timeout=10)
            except requests.RequestException as exc:
                self.failures.append(f"{q!r}: {exc}")
                continue
            self.statuses.append(resp.status_code)
            if resp.status_code != 200:
                self.failures.append(f"{q!r}: {resp.status_code} {resp.text[:200]}")

    def check(self) -> None:
        """Every answer was 200, and the queries ran across the whole indexing run."""
        assert self.halted_by_us, "the query thread stopped before the indexer finished"
        assert self.statuses and not self.failures, self.failures[:5]


def assert_every_worker_sees(server: Server, article_id: str, seconds: float = 10.0) -> None:
    """Ask /search in concurrent rounds until each worker has returned ``article_id``."""
    found: dict[int, bool] = {}  # probe → the answer held the article

    def ask(probe: int) -> None:
        params = {"q": NEW_WORD, "per_page": 100, "probe": probe}
        resp = requests.get(f"{server.base}/search", params=params, timeout=10)
        assert resp.status_code == 200, resp.text
        found[probe] = article_id in [h["id"] for h in resp.json()["hits"]]

    deadline = time.monotonic() + seconds
    while True:
        threads = [threading.Thread(target=ask, args=(next(_PROBES),)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = server.answered(set(found))
        fresh = {pid for probe, pid in log if found.get(probe)}
        if len(fresh) == WORKERS or time.monotonic() > deadline:
            break
    answered = {pid for _, pid in log}
    assert len(answered) == WORKERS, f"only workers {answered} answered"
    assert fresh == answered, f"workers {answered - fresh} never returned {article_id}"
    # once a worker has returned the new article, it never answers without it again
    for pid in fresh:
        answers = [found[probe] for probe, by in log if by == pid and probe in found]
        assert all(answers[answers.index(True) :]), f"worker {pid} went back to an old index"


def test_fresh_and_error_free_while_indexing(server, scratch_index, tmp_path):
    before = requests.get(f"{server.base}/health", timeout=10).json()["documents"]

    hammer = Hammer(server.base)
    hammer.start()
    try:
        summary = index_paths([write_article(tmp_path, "fresh-001")], scratch_index, jobs=1)
        assert summary.indexed == 1
        time.sleep(0.5)  # let the hammer run across the commit
    finally:
        hammer.halt.set()
        hammer.join()
    hammer.check()
    assert_every_worker_sees(server, "fresh-001")
    health = requests.get(f"{server.base}/health", timeout=10).json()
    assert health["documents"] == before + 1

    # a rebuild writes a new generation and switches to it under the running workers
    demo = ROOT / "demo"
    hammer = Hammer(server.base)
    hammer.start()
    try:
        paths = [demo / "articles.jsonl", demo / "portal", write_article(tmp_path, "fresh-002")]
        summary = index_paths(paths, scratch_index, rebuild=True, jobs=1)
        assert summary.skipped == 0
        time.sleep(0.5)
    finally:
        hammer.halt.set()
        hammer.join()
    hammer.check()
    assert_every_worker_sees(server, "fresh-002")
    gone = requests.get(f"{server.base}/articles/fresh-001", timeout=10)
    assert gone.status_code == 404  # the rebuild did not include it
    assert "Traceback" not in server.errors()
