"""``vnsearch serve`` (what ``make serve`` runs): the real gunicorn without nginx in front
takes what the public deployment takes: long pasted queries and paths that are not
UTF-8 get the app's JSON answers, not gunicorn's HTML errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bench.latency import stop_process

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def served(demo_index, tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = dict(os.environ, VNSEARCH_ANALYTICS="off")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "cli.py", "serve", "--index", str(demo_index)]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"vnsearch serve did not come up:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(proc, grace=10)


def test_a_long_pasted_query_with_filters_is_answered(served):
    """1,000 characters of Vietnamese (the limit of q) and the filters the page keeps in
    the URL: over 5 KB once percent-encoded, more than gunicorn's default 4 KB line."""
    q = ("Thành ủy Hà Nội kiểm tra công tác chuẩn bị đại hội đảng bộ nhiệm kỳ " * 20)[:1000]
    params = {
        "q": q,
        "category": ["Chính trị", "Sự kiện Đại hội Đảng", "Xã hội", "Giáo dục", "Kinh tế"],
        "official": ["Nguyễn Văn An", "Hoàng Quốc Dũng", "Trần Thị Bình", "Đỗ Thanh Tùng"]
        + ["Lê Minh Cường", "Lương Thị Thủy", "Phạm Thu Hà", "Bùi Văn Khánh"] * 8,
    }
    resp = requests.get(f"{served}/search", params=params, timeout=30)
    assert 4096 < len(resp.request.path_url) < 8000
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["total"] > 0
    too_long = requests.get(f"{served}/search", params={**params, "q": q + "x"}, timeout=30)
    assert too_long.status_code == 400 and too_long.json()["parameter"] == "q"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/articles/demo%FF", "id"),
        ("/officials/Nguy%E1n", "name"),
        ("/search?q=%FF%FE", "q"),
        ("/suggest?q=b%E3o", "q"),
    ],
)
def test_bytes_that_are_not_utf8_are_a_400_naming_their_parameter(served, path, parameter):
    resp = requests.get(served + path, timeout=10)
    assert resp.status_code == 400, resp.text[:300]
    assert resp.json()["parameter"] == parameter
