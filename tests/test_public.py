"""The public deployment (``deploy/serve.py``: nginx in front of gunicorn), started once for
this module on 127.0.0.1 over a copy of the demo index: slow clients, slow readers,
bursts, a killed worker, and the OpenAPI contract checked by schemathesis over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from deploy import gunicorn_conf
from deploy.serve import Limits, PublicServer, find_nginx, free_port

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
BURSTY, CALM = "127.0.0.2", "127.0.0.3"  # two clients of their own (loopback addresses)

pytestmark = pytest.mark.skipif(
    find_nginx() is None, reason="nginx is not installed (make test installs Debian's nginx)"
)


class Stack:
    """``python -m deploy.serve`` (the command behind ``make serve-public``) as a process."""

    def __init__(self, index: Path):
        self.port = free_port()
        env = dict(os.environ, VNSEARCH_WARM_POSTINGS="0", VNSEARCH_PREFETCH="0")
        cmd = [sys.executable, "-m", "deploy.serve", "--index", str(index), "--clean"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(WORKERS)]
        cmd += ["--exempt", "127.0.0.1"]  # the probes and schemathesis are not rate-limited
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if "serving" not in first:
            self.stop(grace=5)
            raise RuntimeError(f"deploy.serve did not start: {first}")
        self.base = f"http://127.0.0.1:{self.port}"
        self.run_dir = Path(first.rsplit("logs in ", 1)[1].strip())

    def children(self, pid: int | None = None) -> list[int]:
        pid = pid or self.proc.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def descendants(self) -> list[int]:
        """Every live process below the command (nginx and the pools run in sessions of their
        own, so a process group does not reach them)."""
        found, todo = [], self.children()
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += self.children(pid)
        return found

    def stop(self, grace: float = 40.0) -> None:
        """SIGTERM, the way an operator stops it; whatever is still up after ``grace``
        seconds (the command and everything it started) is killed, so a failed test never
        leaves nginx or gunicorn running."""
        if self.proc.poll() is not None:
            return
        parts = self.descendants()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in parts:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def pool_master(self, name: str) -> int:
        for pid in self.children():
            if f"vnsearch-{name}" in Path(f"/proc/{pid}/cmdline").read_text():
                return pid
        raise LookupError(name)

    def pool_address(self, name: str) -> str:
        args = Path(f"/proc/{self.pool_master(name)}/cmdline").read_text().split("\0")
        return args[args.index("--bind") + 1]

    def logs(self) -> str:
        logs = self.run_dir / "logs"
        return "\n".join(p.read_text(errors="replace") for p in logs.glob("gunicorn-*"))

    def nginx_errors(self) -> str:
        return (self.run_dir / "logs" / "error.log").read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, demo_index):
    index = tmp_path_factory.mktemp("public") / "index"
    shutil.copytree(demo_index, index, symlinks=True)
    server = Stack(index)
    try:
        requests.get(f"{server.base}/search", params={"q": "đại hội"}, timeout=30)
        yield server
        assert "Traceback" not in server.logs(), server.logs()[-3000:]
    finally:
        server.stop()


def _request_from(address: str, port: int, method: str, path: str, **kw):
    """One request over a connection from ``address`` (a client of its own to nginx)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(address, 0))
    try:
        conn.request(method, path, **kw)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- slow clients
class Dribbler(threading.Thread):
    """A connection that sends its request one byte every ``pause`` seconds."""

    def __init__(self, port: int, raw: bytes, pause: float = 2.0):
        super().__init__(daemon=True)
        self.port, self.raw, self.pause = port, raw, pause
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():  # reconnect when nginx gives up on it, as attackers do
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                    for byte in self.raw:
                        s.sendall(bytes([byte]))
                        if self.halt.wait(self.pause):
                            return
            except OSError:
                time.sleep(0.1)


def test_slow_headers_and_slow_bodies_do_not_hold_up_other_clients(stack):
    header = b"GET /search?q=dai+hoi HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    body = json.dumps({"text": "Đại hội Đảng bộ quận " * 20}).encode()
    post = (
        b"POST /related HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    slow = [Dribbler(stack.port, header) for _ in range(4)]
    slow += [Dribbler(stack.port, post + body) for _ in range(2)]
    slow += [Dribbler(stack.port, post[:-4] + b"\r\n") for _ in range(2)]  # headers, then body
    for d in slow:
        d.start()
    try:
        time.sleep(1.0)  # every slow connection is open and has sent something
        answered = []
        for q in ["thanh uy ha noi", "đại hội", "quận", "sốt xuất huyết", "Hồng Phúc"] * 2:
            resp = requests.get(f"{stack.base}/search", params={"q": q}, timeout=1.0)
            assert resp.status_code == 200, resp.text
            answered.append(q)
            time.sleep(0.3)
        assert len(answered) == 10
    finally:
        for d in slow:
            d.halt.set()
        for d in slow:
            d.join(timeout=5)


def test_a_slow_reader_of_an_export_gets_every_row(stack):
    """2 MB/s with a small receive buffer: nginx spools the export, the reader gets it all."""
    params = {"format": "jsonl", "fields": "body"}
    with requests.get(f"{stack.base}/export", params=params, stream=True, timeout=30) as resp:
        assert resp.status_code == 200
        total = int(resp.headers["x-total-count"])
        chunks, started = [], time.monotonic()
        for chunk in resp.iter_content(chunk_size=16 * 1024):
            chunks.append(chunk)
            due = started + sum(map(len, chunks)) / 2_000_000  # pace: 2 MB a second
            time.sleep(max(0.0, due - time.monotonic()))
    rows = [json.loads(line) for line in b"".join(chunks).decode("utf-8").splitlines()]
    assert len(rows) == total > 30
    assert len({r["id"] for r in rows}) == total and all(r["body"] for r in rows)


# --------------------------------------------------------------------------- limits
def test_a_burst_from_one_client_gets_429_while_another_client_is_answered(stack):
    statuses: list[tuple[int, dict, bytes]] = []
    calm: list[int] = []

    def burst() -> None:
        for _ in range(15):
            statuses.append(_request_from(BURSTY, stack.port, "GET", "/suggest?q=ha"))

    def steady() -> None:
        for _ in range(10):
            calm.append(_request_from(CALM, stack.port, "GET", "/search?q=quan")[0])
            time.sleep(0.1)

    threads = [threading.Thread(target=burst) for _ in range(6)] + [threading.Thread(target=steady)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [(h, b) for s, h, b in statuses if s == 429]
    assert refused, sorted({s for s, _, _ in statuses})
    assert {s for s, _, _ in statuses} <= {200, 429}
    headers, body = refused[0]
    assert int(headers["Retry-After"]) >= 1 and json.loads(body)["error"]
    assert headers["Content-Type"].startswith("application/json")
    assert calm == [200] * 10


def test_nginx_answers_its_own_errors_as_json(stack):
    long_line = requests.get(f"{stack.base}/search", params={"q": "a" * 9000}, timeout=10)
    assert long_line.status_code == 414 and long_line.json()["error"]
    too_large = requests.post(
        f"{stack.base}/related",
        data=b'{"text": "' + b"a" * 200_000 + b'"}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert too_large.status_code == 413 and too_large.json()["error"]
    status, headers, _ = _request_from("127.0.0.1", stack.port, "GET", "/health")
    assert status == 200 and headers["Server"] == "nginx"  # no version


def test_a_url_with_bytes_not_percent_encoded_gets_a_json_400(stack):
    """curl "…/search?q=bão" sends the UTF-8 bytes raw: gunicorn refused the request
    line with its HTML page; nginx answers JSON saying how to send them."""
    for target in ["/search?q=b\u00e3o".encode(), "/articles/tin-b\u00e3o".encode(), b"/s?q=\xff"]:
        with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as s:
            s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), answer[:300]
        assert b"application/json" in head.lower()
        assert "%-escapes" in json.loads(body)["error"]
    encoded = requests.get(f"{stack.base}/search", params={"q": "bão"}, timeout=10)
    assert encoded.status_code == 200 and encoded.json()["total"] > 0


def test_a_chunked_draft_is_read_through_nginx_and_by_gunicorn_itself(stack):
    draft = {"text": "Sở Y tế tỉnh An Hòa cảnh báo số ca sốt xuất huyết tiếp tục tăng."}

    def chunks():
        raw = json.dumps(draft).encode()
        yield raw[:10]
        yield raw[10:]

    headers = {"Content-Type": "application/json"}
    for base in (stack.base, f"http://{stack.pool_address('heavy')}"):
        resp = requests.post(f"{base}/related", data=chunks(), headers=headers, timeout=10)
        assert resp.request.headers.get("Transfer-Encoding") == "chunked"
        assert resp.status_code == 200 and resp.json()["hits"][0]["id"] == "demo-021"


def test_static_files_come_from_nginx_with_the_pages_headers(stack):
    resp = requests.get(f"{stack.base}/static/app.js", timeout=10)
    assert resp.status_code == 200 and "javascript" in resp.headers["content-type"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors" in resp.headers["content-security-policy"]
    assert requests.get(f"{stack.base}/static/openapi.json", timeout=10).status_code == 404
    gz = requests.get(f"{stack.base}/search", params={"q": "quận"}, timeout=10)
    assert gz.headers.get("content-encoding") == "gzip"  # requests asks for gzip


def test_nginx_runs_unprivileged_from_its_run_directory(stack):
    pid = int((stack.run_dir / "nginx.pid").read_text())
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[2])
    assert uid != 0
    assert (stack.run_dir / "logs" / "access.log").stat().st_size > 0


# --------------------------------------------------------------------------- a killed worker
def test_a_killed_worker_loses_at_most_the_request_in_flight(stack):
    master = stack.pool_master("search")
    before = stack.children(master)
    assert len(before) == WORKERS
    results: list[int | str] = []
    halt = threading.Event()

    def query() -> None:
        while not halt.is_set():
            try:
                resp = requests.get(f"{stack.base}/search", params={"q": "đại hội"}, timeout=10)
                results.append(resp.status_code)
            except requests.RequestException as exc:
                results.append(type(exc).__name__)  # an answer cut short

    threads = [threading.Thread(target=query) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    os.kill(before[0], signal.SIGKILL)
    time.sleep(1.5)
    halt.set()
    for t in threads:
        t.join()
    # A GET whose worker died before answering is tried again on a worker that lives: no
    # 503 and no other status. Lost are only answers the killed worker had begun to send
    # (their header already passed on to the client): at most one per thread it runs.
    lost = [s for s in results if s != 200]
    assert all(isinstance(s, str) for s in lost), (lost, stack.nginx_errors())
    assert len(lost) <= gunicorn_conf.threads, (lost, stack.nginx_errors())
    assert len(results) > 20
    deadline = time.monotonic() + 30
    while len(stack.children(master)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    after = stack.children(master)
    assert len(after) == WORKERS and before[0] not in after
    assert requests.get(f"{stack.base}/search", params={"q": "quận"}, timeout=10).ok


def test_a_pool_that_is_down_answers_json_503_with_retry_after(demo_index, tmp_path):
    """Every proxied location, its retry on a new connection included, ends in the API's
    JSON 503 with Retry-After when no worker of its pool is left, never nginx's HTML."""
    index = tmp_path / "index"
    shutil.copytree(demo_index, index, symlinks=True)
    server = PublicServer(
        index=index,
        port=free_port(),
        workers=1,
        env={"VNSEARCH_WARM_POSTINGS": "0", "VNSEARCH_PREFETCH": "0"},
        limits=Limits(exempt=("127.0.0.1",)),
        keep_run_dir=False,
    )
    server.start()
    try:
        assert requests.get(f"{server.base}/search", params={"q": "quận"}, timeout=10).ok
        for pool in server.pools:
            workers = pool.worker_pids()
            for pid in [pool.proc.pid, *workers]:
                os.kill(pid, signal.SIGKILL)
            pool.proc.wait()
        for method, path, kw in [
            ("GET", "/search", {"params": {"q": "quận"}}),
            ("GET", "/related", {"params": {"id": "x"}}),
            ("GET", "/export", {}),
            ("POST", "/related", {"json": {"text": "Đại hội"}}),
            ("POST", "/queries/click", {"json": {"q": "quận", "id": "x"}}),
        ]:
            resp = requests.request(method, server.base + path, timeout=10, **kw)
            assert resp.status_code == 503, (method, path, resp.text)
            assert resp.headers["Content-Type"].startswith("application/json"), resp.text
            assert resp.headers["Retry-After"] == "5" and "error" in resp.json()
    finally:
        server.stop()


# --------------------------------------------------------------------------- the contract
SCHEMATHESIS_CONFIG = """
hooks = "schemathesis_hooks"

[generation]
max-examples = 5
deterministic = true

# nginx's 413 and 414 (JSON, documented) are rejections too
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422",
                     "428", "429"]
"""


def test_the_served_api_keeps_its_openapi_contract(stack, tmp_path):
    """schemathesis (its own command, every phase and check, a bounded number of examples
    per operation) against the /openapi.json that nginx + gunicorn serve: 0 failures."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG, encoding="utf-8")
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    cmd += [f"{stack.base}/openapi.json", "--checks", "all", "--workers", "1", "--no-color"]
    # one worker: CPython 3.11.7's ast.parse is not safe in threads (schemathesis parses
    # lambdas while generating); the hooks module is in tests/
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]))
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    total = re.search(r"Selected: \d+/(\d+)", done.stdout)
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert total and tested and tested[1] == total[1], report  # every operation
    assert "Coverage" in done.stdout and "Stateful" in done.stdout, report


# --------------------------------------------------------------------------- stop (last)
def test_sigterm_stops_nginx_and_gunicorn_and_cleans_up(stack):
    nginx = int((stack.run_dir / "nginx.pid").read_text())
    parts = stack.children() + [c for p in stack.children() for c in stack.children(p)]
    assert nginx in parts and len(parts) >= 3 + WORKERS  # nginx, 2 masters, their workers
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(timeout=40) == 0
    assert "stopped" in stack.proc.stdout.read()
    for pid in parts:
        assert not Path(f"/proc/{pid}").exists(), f"{pid} outlived the command"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.base}/health", timeout=2)
    assert not stack.run_dir.exists()


def test_a_stack_that_ignores_sigterm_is_stopped_with_everything_it_started(demo_index, tmp_path):
    """The fixtures' teardown: a command that cannot act on SIGTERM (stopped here) is killed
    together with its nginx and gunicorn pools, which run in sessions of their own; killing
    the command alone left them serving after a failed run."""
    index = tmp_path / "index"
    shutil.copytree(demo_index, index, symlinks=True)
    server = Stack(index)
    parts = server.descendants()
    assert len(parts) >= 3 + WORKERS  # nginx, 2 pool masters, their workers
    os.kill(server.proc.pid, signal.SIGSTOP)
    server.stop(grace=1)
    time.sleep(0.5)
    alive = [p for p in parts if Path(f"/proc/{p}").exists() and "Z" not in _state(p)]
    assert not alive, f"{alive} outlived the stop"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
