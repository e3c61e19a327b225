"""Export throughput and memory: every article of an index to CSV, ours beside SQLite.

    python -m bench.export                          # bench/out/index85k
    python -m bench.export --index bench/out/index600 --fields body

Ours is ``search.export.export_stream`` (the code behind ``/export?format=csv``) over the
Whoosh index. The peer is Python's ``sqlite3`` + ``csv`` writing the same rows, in the
same order and format, from an SQLite table built first from the same stored fields (the
build is not timed). Each side runs in its own subprocess so that its peak resident
memory (``VmHWM``) is its own; the growth is the peak minus the resident size just
before the export started. Both write to a file in a temporary directory, and the two
files are compared byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INDEX = ROOT / "bench" / "out" / "index85k"
WRITE_BATCH = 256


def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_kb() -> int:
    """The current resident set size in KiB (Linux), 0 if unknown."""
    return _status_kb("VmRSS") or 0


def _peak_kb() -> int:
    """Peak resident size of this process in KiB.

    ``VmHWM`` rather than ``ru_maxrss``: the latter survives ``exec`` and would report the
    parent's size in a freshly started child.
    """
    hwm = _status_kb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --------------------------------------------------------------------------- the two sides
def run_ours(index: Path, out: Path, fields: list[str]) -> dict:
    from search.engine import Engine, SearchRequest
    from search.export import export_stream

    engine = Engine(index)
    engine.snapshot()  # open the index and build its DocTable before measuring
    before = _rss_kb()
    started = time.perf_counter()
    rows, chunks = export_stream(engine, SearchRequest(sort="oldest"), "csv", fields)
    with out.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rss_before_kb": before, "peak_kb": _peak_kb()}


def run_sqlite(db: Path, out: Path, fields: list[str]) -> dict:
    from search.export import BOM, columns

    cols = columns(fields)
    conn = sqlite3.connect(db)
    before = _rss_kb()
    started = time.perf_counter()
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(BOM)
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(cols)
        cursor = conn.execute(
            f"SELECT {', '.join(cols)} FROM articles ORDER BY undated, minute, docnum"
        )
        while batch := cursor.fetchmany(WRITE_BATCH):
            writer.writerows(["" if v is None else v for v in row] for row in batch)
            rows += len(batch)
    seconds = time.perf_counter() - started
    conn.close()
    return {"rows": rows, "seconds": seconds, "rss_before_kb": before, "peak_kb": _peak_kb()}


def build_sqlite(index: Path, db: Path, fields: list[str]) -> tuple[int, float]:
    """The peer's table, from the index's stored fields (rows already formatted as ours)."""
    from search.doctable import NO_DATE
    from search.engine import Engine
    from search.export import article_row, columns, csv_cells

    cols = columns(fields)
    started = time.perf_counter()
    engine = Engine(index)
    conn = sqlite3.connect(db)
    conn.execute(
        f"CREATE TABLE articles (docnum INTEGER PRIMARY KEY, undated INTEGER, minute INTEGER, "
        f"{', '.join(c + ' TEXT' for c in cols)})"
    )
    count = 0
    with engine.pinned() as snap:
        table, reader = snap.table, snap.searcher.reader()
        for docnum in reader.all_doc_ids():
            cells = csv_cells(article_row(reader.stored_fields(docnum), cols), cols)
            minute = int(table.minutes[docnum])
            undated = int(minute == NO_DATE)
            conn.execute(
                f"INSERT INTO articles VALUES (?, ?, ?, {', '.join('?' for _ in cols)})",
                [docnum, undated, 0 if undated else minute, *[c if c else None for c in cells]],
            )
            count += 1
    conn.execute("CREATE INDEX by_date ON articles (undated, minute, docnum)")
    conn.commit()
    conn.close()
    engine.close()
    return count, time.perf_counter() - started


# --------------------------------------------------------------------------- driver
def _child(side: str, source: Path, out: Path, fields: list[str]) -> dict:
    cmd = [sys.executable, "-m", "bench.export", "--child", side, "--source", str(source)]
    cmd += ["--out", str(out), "--fields", ",".join(fields)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _line(name: str, result: dict, size: int) -> str:
    rate = result["rows"] / result["seconds"] if result["seconds"] else float("inf")
    growth = (result["peak_kb"] - result["rss_before_kb"]) / 1024
    return (
        f"{name:<22} {result['rows']:>8} rows {result['seconds']:>8.2f} s {rate:>10.0f} rows/s"
        f"  peak RSS {result['peak_kb'] / 1024:>7.1f} MiB (+{growth:.1f} MiB during export)"
        f"  {size / 1e6:>8.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--fields", default="", help="extra columns: body,officials_positions")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (best is kept)")
    parser.add_argument("--child", choices=("ours", "sqlite"), help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    fields = [f for f in args.fields.split(",") if f]

    if args.child:
        run = run_ours if args.child == "ours" else run_sqlite
        print(json.dumps(run(args.source, args.out, fields)))
        return 0

    if not (args.index / "current").exists():
        print(f"no index at {args.index} (build one, or pass --index)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        tmpdir = Path(tmp)
        db = tmpdir / "articles.sqlite"
        count, build_s = build_sqlite(args.index, db, fields)
        print(f"index {args.index}: {count} articles; columns +{fields or 'none'}")
        print(f"peer table built from the stored fields in {build_s:.1f} s (not timed below)")
        best: dict[str, tuple[dict, Path]] = {}
        for _ in range(max(1, args.repeat)):
            for side, source in (("ours", args.index), ("sqlite", db)):
                out = tmpdir / f"{side}.csv"
                result = _child(side, source, out, fields)
                if side not in best or result["seconds"] < best[side][0]["seconds"]:
                    best[side] = (result, out)
        ours, ours_out = best["ours"]
        peer, peer_out = best["sqlite"]
        print(_line("ours (Whoosh, stream)", ours, ours_out.stat().st_size))
        print(_line("sqlite3 + csv", peer, peer_out.stat().st_size))
        ratio = (ours["rows"] / ours["seconds"]) / (peer["rows"] / peer["seconds"])
        print(f"throughput ratio ours/sqlite: {ratio:.2f}")
        same = _digest(ours_out) == _digest(peer_out)
        print(f"identical files: {'yes' if same else 'NO'}")
        if not same:
            with ours_out.open("rb") as a, peer_out.open("rb") as b:
                for n, (x, y) in enumerate(zip(a, b, strict=False)):
                    if x != y:
                        print(f"first difference at line {n + 1}", file=sys.stderr)
                        break
    return 0


if __name__ == "__main__":
    sys.exit(main())
