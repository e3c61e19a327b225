"""`make serve` builds the demo into its own index and never into an INDEX= you named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def planned(*args: str) -> str:
    """What ``make serve`` would run (``make -n``: nothing is run or built)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    proc = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "serve", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "\n".join(line for line in proc.stdout.splitlines() if "make serve:" not in line)


def test_serve_builds_and_serves_the_demo_in_its_own_directory():
    plan = planned()
    index_lines = [line for line in plan.splitlines() if "vnsearch index" in line]
    assert len(index_lines) == 1 and "--index index_demo" in index_lines[0]
    assert "VNSEARCH_INDEX=index_demo" in plan
    # the same server as `vnsearch serve` (its request-line limit: tests/test_bare_serve.py)
    assert "vnsearch serve --bind 127.0.0.1:" in plan


def test_serve_with_an_index_named_never_writes_the_demo_into_it():
    plan = planned("INDEX=my_index")
    assert "vnsearch index" not in plan
    assert "VNSEARCH_INDEX=my_index" in plan
