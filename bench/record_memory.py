"""Peak memory of one indexing process for one huge record, beside an ordinary one.

    python -m bench.record_memory                    # 5.9 MB and 59 MB records
    python -m bench.record_memory --mb 5.9 --code /tmp/old-checkout   # another version

Writes a JSON Lines file holding one record of about N MB (the demo's Vietnamese
bodies repeated), runs ``vnsearch index`` on it with ``--jobs 1`` in a child process
(so reading, pyvi, officials and writing all happen in that one process: the worst case
of one worker) and prints the child's peak resident memory, next to the same run on a
record of a few kB. ``--cap-gb`` bounds the child's address space, so a version without
the size limit fails instead of filling the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_record(path: Path, size_mb: float) -> int:
    """One record of about ``size_mb`` MB of JSON; return its body's characters."""
    demo = [
        json.loads(x)
        for x in (ROOT / "demo" / "articles.jsonl").read_text("utf-8").split("\n")
        if x.strip()
    ]
    paragraphs = [r["body"] for r in demo]
    target = int(size_mb * 1e6)
    parts, size, i = [], 0, 0
    while size < target:
        text = paragraphs[i % len(paragraphs)]
        parts.append(text)
        size += len(text.encode("utf-8")) + 1
        i += 1
    body = "\n".join(parts)
    record = {"id": f"huge-{size_mb}", "title": "Một bản ghi rất lớn", "body": body}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(body)


def peak_of_child(args: list[str], code: Path, cap_gb: float) -> tuple[int, float, str]:
    """(exit code, seconds, last line of output) of one child; its peak RSS is read after."""
    cap = int(cap_gb * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "indexer.cli", *args],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        preexec_fn=limit,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return proc.returncode, time.perf_counter() - started, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[0.005, 5.9, 59])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--cap-gb", type=float, default=6.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.mb:
            path = Path(tmp) / f"record{size}.jsonl"
            chars = write_record(path, size)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            code, seconds, last = peak_of_child(
                ["index", str(path), "--index", f"{tmp}/idx{size}", "--jobs", "1", "--quiet"],
                args.code,
                args.cap_gb,
            )
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            shown = f"{peak / 1024:,.0f} MB" if peak > before else f"≤ {before / 1024:,.0f} MB"
            print(
                f"record {size:>6} MB ({chars:>11,} chars): peak RSS {shown:>10}, "
                f"exit {code}, {seconds:6.1f} s | {last[:110]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
