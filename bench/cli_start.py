"""One ``vnsearch search`` from the command line, beside the bare imports it cannot avoid.

    .venv/bin/python -m bench.cli_start --index index_demo
    .venv/bin/python -m bench.cli_start --index index_demo --query "thành ủy hà nội" --runs 9

Runs, alternately and ``--runs`` times each, a whole ``vnsearch search QUERY --index DIR
--limit 1`` process and a peer process that only does ``import numpy, whoosh.index,
whoosh.query`` (what any search over a Whoosh index loads), and prints the wall time of
each (minimum and median, seconds) and their ratio. The minimum is the least loaded
moment of the run; the target (issue 16) is a search under 1 s on the demo index.

Both run as an installed package does: the project's modules are compiled to bytecode
first and ``PYTHONDONTWRITEBYTECODE`` is cleared for the runs (with it set, and no
``__pycache__``, every run compiles the project's sources again: ~80 ms more).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER = "import numpy, whoosh.index, whoosh.query"


SOURCES = ("cli.py", "settings.py", "api.py", "indexer", "search")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(argv: list[str]) -> float:
    """Seconds for one process to run to its end (its output discarded)."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=ROOT / "index_demo", help="an index directory")
    p.add_argument("--query", default="quận", help="the query searched")
    p.add_argument("--runs", type=int, default=7, help="runs of each")
    args = p.parse_args(argv)
    if not (args.index / "current").exists():
        print(f"no index in {args.index} (make demo-index)", file=sys.stderr)
        return 2
    vnsearch = Path(sys.executable).with_name("vnsearch")
    search = [str(vnsearch), "search", args.query, "--index", str(args.index), "--limit", "1"]
    peer = [sys.executable, "-c", PEER]
    for name in SOURCES:
        path = ROOT / name
        compiled = compileall.compile_dir if path.is_dir() else compileall.compile_file
        compiled(str(path), quiet=1)
    times: dict[str, list[float]] = {"vnsearch search": [], f"python -c '{PEER}'": []}
    for _ in range(args.runs):
        for name, cmd in zip(times, (search, peer), strict=True):
            times[name].append(wall(cmd))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; {args.runs} runs each")
    print("process | min s | median s")
    print("--- | --- | ---")
    for name, values in times.items():
        print(f"{name} | {min(values):.2f} | {statistics.median(values):.2f}")
    ours, bare = (min(v) for v in times.values())
    print(f"search / bare imports (min): {ours / bare:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
