"""Indexing throughput beside bare pyvi segmentation, measured in the same run.

    python -m bench.index_bench                 # the 85k benchmark corpus
    python -m bench.index_bench --limit 5000    # a sample

Prints articles/s and characters/s of (1) bare ``ViTokenizer.tokenize`` over all cores
(on a sample of the same articles: its rate is per character), (2) a first
``vnsearch index`` run into an empty directory (no segmentation cache) and (3) a
``--rebuild`` of the same corpus (segmentation cache warm), with the ratios the targets
are stated in. The built index stays in ``--out`` for the other benchmarks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from bench.data import has_shared, iter_corpus, shared_dir
from bench.metrics import format_table

DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "index85k"


def _tokenize(text: str) -> int:
    from pyvi import ViTokenizer

    ViTokenizer.tokenize(text)
    return len(text)


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended
    (pool workers and builders are waited for, so each run's children are counted)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_pyvi(texts: list[str], jobs: int) -> tuple[float, int, float]:
    """Seconds, characters and CPU seconds for pyvi over ``texts`` on ``jobs`` processes."""
    from pyvi import ViTokenizer  # load the model before forking

    ViTokenizer.tokenize("khởi động")
    ctx = multiprocessing.get_context("fork")
    cpu = cpu_seconds()
    started = time.perf_counter()
    with ctx.Pool(jobs) as pool:
        chars = sum(pool.imap_unordered(_tokenize, texts, chunksize=8))
    return time.perf_counter() - started, chars, cpu_seconds() - cpu


def corpus_paths(limit: int | None, workdir: Path) -> list[Path]:
    """The corpus files, or a JSONL sample of ``limit`` articles from all three."""
    files = sorted((shared_dir() / "corpus").glob("*.jsonl.gz"))
    if not limit:
        return files
    sample = workdir / f"sample{limit}.jsonl.gz"
    if not sample.exists():
        per_source = {"vntc": int(limit * 0.9), "dantri": limit // 20, "vims": limit // 20}
        with gzip.open(sample, "wt", encoding="utf-8") as out:
            for name, count in per_source.items():
                for record in iter_corpus((name,), limit=count):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return [sample]


def sample_texts(paths: list[Path], size: int) -> list[str]:
    """Every k-th article's title + body, about ``size`` of them."""
    texts: list[str] = []
    total = 0
    for p in paths:
        with gzip.open(p, "rt", encoding="utf-8") as f:
            total += sum(1 for _ in f)
    step = max(1, total // max(1, size))
    i = 0
    for p in paths:
        with gzip.open(p, "rt", encoding="utf-8") as f:
            for line in f:
                if i % step == 0:
                    record = json.loads(line)
                    texts.append(((record.get("title") or "") + "\n" + record["body"]).strip())
                i += 1
    return texts


def run_index(paths: list[Path], out: Path, jobs: int, rebuild: bool):
    """The run's summary and the CPU seconds it took (this process and its builders)."""
    from indexer.writer import index_paths

    cpu = cpu_seconds()
    summary = index_paths(paths, out, rebuild=rebuild, jobs=jobs, progress=sys.stderr.isatty())
    return summary, cpu_seconds() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="index a sample of this many articles")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="index directory")
    parser.add_argument("--pyvi-sample", type=int, default=6000, help="articles for bare pyvi")
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args(argv)
    if not has_shared():
        print("../shared/corpus is not present: nothing to benchmark")
        return 0
    out = args.out if not args.limit else args.out.with_name(f"index{args.limit}")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = corpus_paths(args.limit, out.parent)

    texts = sample_texts(paths, args.pyvi_sample)
    pyvi_seconds, pyvi_chars, pyvi_cpu = bare_pyvi(texts, args.jobs)
    rows = [
        {
            "run": f"bare pyvi ({len(texts)} articles)",
            "articles/s": f"{len(texts) / pyvi_seconds:.0f}",
            "chars/s": f"{pyvi_chars / pyvi_seconds:,.0f}",
            "seconds": f"{pyvi_seconds:.1f}",
        }
    ]
    shutil.rmtree(out, ignore_errors=True)
    first, first_cpu = run_index(paths, out, args.jobs, rebuild=True)
    done = first.indexed + first.updated
    rows.append(
        {
            "run": f"vnsearch index, first run ({done} articles)",
            "articles/s": f"{done / first.seconds:.0f}",
            "chars/s": f"{first.characters / first.seconds:,.0f}",
            "seconds": f"{first.seconds:.1f}",
        }
    )
    rebuild = None
    if not args.skip_rebuild:
        rebuild, _ = run_index(paths, out, args.jobs, rebuild=True)
        rows.append(
            {
                "run": "vnsearch index --rebuild (cache warm)",
                "articles/s": f"{done / rebuild.seconds:.0f}",
                "chars/s": f"{rebuild.characters / rebuild.seconds:,.0f}",
                "seconds": f"{rebuild.seconds:.1f}",
            }
        )
    # bare pyvi again: on a shared machine the load can change during a long run, so the
    # ratio is taken against the mean of the runs before and after
    after_seconds, _, after_cpu = bare_pyvi(texts, args.jobs)
    rows.append(
        {
            "run": f"bare pyvi again, after ({len(texts)} articles)",
            "articles/s": f"{len(texts) / after_seconds:.0f}",
            "chars/s": f"{pyvi_chars / after_seconds:,.0f}",
            "seconds": f"{after_seconds:.1f}",
        }
    )
    print(f"jobs={args.jobs}, cores={os.cpu_count()}, corpus={[p.name for p in paths]}")
    print(format_table(rows))
    pyvi_rate = pyvi_chars / ((pyvi_seconds + after_seconds) / 2)
    print(
        f"index/pyvi throughput ratio (chars/s, pyvi's mean rate): "
        f"{first.characters / first.seconds / pyvi_rate:.2f} (target >= 0.6)"
    )
    # CPU time per character: what other sessions' load does not change (much); a
    # check on the wall-clock ratio when the peer's rate swings during the run
    pyvi_cpu_per_char = (pyvi_cpu + after_cpu) / (2 * pyvi_chars)
    print(
        f"index/pyvi CPU ratio (pyvi's CPU s per character / the first run's): "
        f"{pyvi_cpu_per_char / (first_cpu / first.characters):.2f} "
        f"(pyvi {pyvi_cpu_per_char * 1e6:.2f} µs/char, first run "
        f"{first_cpu / first.characters * 1e6:.2f} µs/char, {first_cpu:.0f} CPU s)"
    )
    if rebuild:
        print(
            f"rebuild speed-up over first run: {first.seconds / rebuild.seconds:.2f}x (target >= 3)"
        )
    print(f"skipped records: {first.skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
