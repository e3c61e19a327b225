"""Latency and memory as the archive grows: ours beside tantivy, at 85k and 4× (341k).

    # both scales (builds what is missing under --workdir; the 341k build is long)
    .venv/bin/python -m bench.scale --workdir bench/out/scale
    # build only (long, under the heavy lock), then measure later over what was built
    .venv/bin/python -m bench.scale --workdir bench/out/scale --build-only
    # one scale over an index already built, with its build time if known
    .venv/bin/python -m bench.scale --scales 1 --index 1=/path/to/index85k

For each scale ``k`` (1: the 85k benchmark corpus; 4: the corpus four times, the copies'
ids suffixed ``~r1``…) this

* builds our index (``vnsearch index --rebuild``) unless one is given or already built,
  with the segmentation cache of ``--segcache`` copied in first (pyvi's output is keyed
  by text, so the suffixed copies reuse it), and times it; then derives the posting
  arrays of any segment that lacks them (``indexer.segments.arrays``) and times that;
* builds tantivy over the same articles (``bench.peers.TantivyPeer``: folded syllables,
  title boost 2, OR of the words, a category aggregation) and times it;
* in this process, query by query and alternating which engine goes first, runs the
  search-box queries of ``../shared/eval/search_box_queries.txt`` and the headline
  queries (``vims_dev_title_queries``) through ``Engine.search`` (facets on, every
  query once: the answer cache never hits) and through tantivy (top 10, count,
  categories);
* then starts gunicorn (2 workers, ``--preload``) as deployed (``deploy/gunicorn_conf.py``:
  its worker class, threads and keep-alive, as behind nginx, which keeps upstream
  connections open) and runs the same queries over HTTP on one kept-alive connection,
  again alternating with tantivy, and reads each worker's resident, shared and private
  memory (``/proc/<pid>/smaps_rollup``); ``--compare-sync`` adds the same pass on bare
  sync workers (a fresh connection per request: the harness of earlier readings).

Prints p50/p95/p99 in ms, our p95 over tantivy's, the growth of p95 from the first scale
to the others beside the growth of the corpus, index sizes and build times, and the
targets' verdicts. ``--check-rankings N`` also compares the top 10 of N eval queries
read from the mapped posting arrays with the top 10 decoded from Whoosh.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import requests

from bench.data import CORPUS_NAMES, corpus_path, has_shared, load_eval, search_box_queries
from bench.latency import WARMUP, Server, unique
from bench.metrics import format_table
from bench.peers import TantivyPeer
from deploy import gunicorn_conf as deployed

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "scale"
SHORT_P95_TARGET_MS = 50.0
PEER_FACTOR_TARGET = 3.0
# the HTTP pass runs gunicorn as deployed (``deploy/gunicorn_conf.py``: behind nginx,
# which keeps upstream connections alive); SYNC, bare sync workers (a fresh connection
# per request), only beside it with --compare-sync: (worker class, threads, keep-alive s)
SERVED = (deployed.worker_class, deployed.threads, deployed.keepalive)
SYNC = ("sync", 1, None)
COMPARED = ", for comparison"


# --------------------------------------------------------------------------- corpora
def corpus_files(scale: float, workdir: Path) -> list[Path]:
    """The shared corpus files (scale 1), ``scale`` copies of them with ids suffixed (2, 3,
    …), or every ``1/scale``-th article of each (a fraction: 0.25 keeps every fourth)."""
    if scale == 1:
        return [corpus_path(name) for name in CORPUS_NAMES]
    folder = workdir / f"corpus{scale:g}"
    folder.mkdir(parents=True, exist_ok=True)
    if scale < 1:
        return [_every_nth(name, round(1 / scale), folder) for name in CORPUS_NAMES]
    files = []
    for name in CORPUS_NAMES:
        for copy in range(int(scale)):
            target = folder / f"{name}-r{copy}.jsonl.gz"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                with (
                    gzip.open(corpus_path(name), "rt", encoding="utf-8") as src,
                    gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as out,
                ):
                    for line in src:
                        if line.strip():
                            out.write(json.dumps(_copy(json.loads(line), copy), ensure_ascii=False))
                            out.write("\n")
                tmp.rename(target)
            files.append(target)
    return files


def _every_nth(name: str, step: int, folder: Path) -> Path:
    target = folder / f"{name}-every{step}.jsonl.gz"
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        with (
            gzip.open(corpus_path(name), "rt", encoding="utf-8") as src,
            gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as out,
        ):
            for n, line in enumerate(line for line in src if line.strip()):
                if n % step == 0:
                    out.write(line if line.endswith("\n") else line + "\n")
        tmp.rename(target)
    return target


def _copy(record: dict, copy: int) -> dict:
    if copy:
        record["id"] = f"{record['id']}~r{copy}"
    return record


def articles(files: list[Path]) -> Iterator[dict]:
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as src:
            for line in src:
                if line.strip():
                    yield json.loads(line)


# --------------------------------------------------------------------------- builds
def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_ours(files: list[Path], index: Path, segcache: Path | None) -> dict:
    """Our index of ``files`` in ``index`` (built unless present); its build record."""
    record_path = index / "build-record.json"
    if (index / "current").exists():
        return json.loads(record_path.read_text()) if record_path.exists() else {}
    index.mkdir(parents=True, exist_ok=True)
    if segcache and segcache.exists() and not (index / "segcache.sqlite").exists():
        shutil.copy(segcache, index / "segcache.sqlite")
    cmd = [str(Path(sys.executable).with_name("vnsearch")), "index", "--rebuild", "--quiet"]
    cmd += ["--index", str(index), *map(str, files)]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    record = {"build_seconds": round(time.perf_counter() - start, 1), "command": " ".join(cmd)}
    record_path.write_text(json.dumps(record))
    return record


def derive_arrays(index: Path) -> tuple[float, int]:
    """(seconds, bytes) of the posting arrays derived for segments whose files are
    missing or stale (``indexer.segments.arrays``: another version, fewer lists)."""
    from indexer import segments, store
    from indexer.segments import arrays

    gen = store.current_generation(index)
    start = time.perf_counter()
    segments.ensure_index_arrays(gen)
    seconds = time.perf_counter() - start
    return seconds, sum(p.stat().st_size for p in gen.glob(f"*{arrays.SUFFIX}"))


def build_tantivy(files: list[Path], path: Path) -> TantivyPeer:
    peer = TantivyPeer(path)
    record_path = path.parent / f"{path.name}.build-record.json"
    if peer.exists() and record_path.exists():
        peer.build_seconds = json.loads(record_path.read_text())["build_seconds"]
    else:
        peer.build(articles(files))
        record_path.write_text(json.dumps({"build_seconds": round(peer.build_seconds, 1)}))
    peer.open()
    return peer


# --------------------------------------------------------------------------- measuring
def percentiles(times: list[float]) -> dict:
    ms = np.array(times) * 1000
    return {f"p{p}": round(float(np.percentile(ms, p)), 1) for p in (50, 95, 99)}


def alternate(queries: list[str], ours, peer) -> tuple[list[float], list[float]]:
    """Each query once through both, alternating which goes first; (ours, peer) seconds."""
    mine, theirs = [], []
    for n, q in enumerate(queries):
        for who in ((ours, mine), (peer, theirs)) if n % 2 == 0 else ((peer, theirs), (ours, mine)):
            start = time.perf_counter()
            who[0](q)
            who[1].append(time.perf_counter() - start)
    return mine, theirs


def workers_memory(server: Server) -> list[dict]:
    """Each gunicorn worker's memory (``pagecache.process_memory``), by pid."""
    from search.pagecache import process_memory

    try:
        children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    except OSError:
        return []
    out = []
    for pid in children.split():
        memory = process_memory(pid)
        if memory:
            out.append({"pid": int(pid), **memory})
    return out


def process_counters(pid: int) -> dict[str, float]:
    """A process's CPU seconds (user + system) and page faults (minor, major) so far,
    from ``/proc/<pid>/stat`` (Linux; zeros where unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return {"cpu s": 0.0, "minor faults": 0, "major faults": 0}
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "cpu s": (int(fields[11]) + int(fields[12])) / tick,
        "minor faults": int(fields[7]),
        "major faults": int(fields[9]),
    }


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def measure_scale(
    scale: int,
    index: Path,
    peer: TantivyPeer,
    works: dict,
    log_dir: Path,
    compare_sync: bool = False,
) -> dict:
    from search.engine import Engine, SearchRequest

    result: dict = {"scale": scale, "rows": [], "memory": [], "inside": []}
    engine = Engine(index, freeze_gc=True)  # as the served app runs it (api.get_app)
    engine.snapshot().ready.wait(900)  # posting lists, kept scores and spelling
    # then the warm-up queries, as a serving worker has answered some before it is
    # measured: sent before the warming thread ended, they left the first two measured
    # queries 4-6 ms slower (85k; cold CPU caches after the warming thread's passes)
    for q in WARMUP:
        engine.search(SearchRequest(q=q))

    def peer_ask(q: str) -> None:
        peer.search_with_facets(q)

    for name, queries in works.items():
        mine, theirs = alternate(queries, lambda q: engine.search(SearchRequest(q=q)), peer_ask)
        result["rows"].append(("in-process", name, percentiles(mine), percentiles(theirs)))
    result["in_process_worker"] = engine.worker_memory()
    engine.close()

    served_pass(result, index, works, peer_ask, log_dir, SERVED)
    if compare_sync:  # the harness before the fifth session: bare sync workers
        served_pass(result, index, works, peer_ask, log_dir, SYNC)
    return result


def served_pass(
    result: dict, index: Path, works: dict, peer_ask, log_dir: Path, how: tuple
) -> None:
    """Start gunicorn with 2 workers as ``how`` says ((worker class, threads, keep-alive
    seconds)), warm it, then run each query set over HTTP alternating with tantivy; adds
    its rows (and, for ``SERVED``, where the workers' time went and their memory)."""
    worker_class, threads, keepalive = how
    label = f"gunicorn 2 workers ({worker_class}" + (f" ×{threads})" if threads > 1 else ")")
    if how != SERVED:
        label += COMPARED
    server = Server(index, 2, worker_class, log_dir, threads, keepalive)
    try:
        server.wait_ready(900)
        server.warm_up(900)
        session = requests.Session()
        answers: list[bytes] = []  # read after each pass (took_ms: time inside the worker)

        def http(q: str) -> None:
            resp = session.get(f"{server.base}/search", params={"q": q}, timeout=120)
            resp.raise_for_status()
            answers.append(resp.content)

        pids = [m["pid"] for m in workers_memory(server)]
        for name, queries in works.items():
            answers.clear()
            before = {pid: process_counters(pid) for pid in pids}
            mine, theirs = alternate(queries, http, peer_ask)
            result["rows"].append((label, name, percentiles(mine), percentiles(theirs)))
            if how != SERVED:
                continue
            inside = [json.loads(a)["took_ms"] / 1000 for a in answers]
            result["inside"].append(
                {
                    "queries": name,
                    "in the worker p50/p95/p99 ms": "{p50} / {p95} / {p99}".format(
                        **percentiles(inside)
                    ),
                    "sum s": f"{sum(inside):.2f}",
                    **{
                        key: " + ".join(
                            f"{process_counters(pid)[key] - before[pid][key]:g}" for pid in pids
                        )
                        for key in ("cpu s", "minor faults", "major faults")
                    },
                }
            )
        if how == SERVED:
            result["memory"] = workers_memory(server)
            result["stats_worker"] = (
                session.get(f"{server.base}/stats", timeout=60).json().get("worker")
            )
    finally:
        server.stop()


def check_rankings(index: Path, count: int) -> tuple[int, int, int]:
    """(queries, of them with the same top 10 read from the mapped posting arrays as
    decoded from Whoosh's blocks, of them with the same top 10 pruned as scored
    exhaustively: ``search.topk``), over ``count`` headline and search-box queries."""
    from indexer.segments import arrays
    from search import topk
    from search.engine import Engine

    queries = unique([q["query"] for q in load_eval("vims_dev_title_queries")])[: count // 2]
    queries += unique(search_box_queries())[: count - len(queries)]
    engine = Engine(index, prefetch=False)
    mapped = [engine.rank(q, 10) for q in queries]
    real = topk.candidates
    topk.candidates = lambda *args, **kwargs: None
    try:
        exhaustive = [engine.rank(q, 10) for q in queries]
    finally:
        topk.candidates = real
    engine.close()
    arrays.ENABLED = False
    try:
        engine = Engine(index, prefetch=False, warm_postings=0)
        decoded = [engine.rank(q, 10) for q in queries]
        engine.close()
    finally:
        arrays.ENABLED = True
    return (
        len(queries),
        sum(a == b for a, b in zip(mapped, decoded, strict=True)),
        sum(a == b for a, b in zip(mapped, exhaustive, strict=True)),
    )


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=OUT, help="corpora and indexes built here")
    p.add_argument(
        "--scales",
        default="1,4",
        help="comma-separated sizes in copies of the corpus (0.25: every fourth article)",
    )
    p.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="SCALE=DIR",
        help="use this index of ours for a scale (not rebuilt)",
    )
    p.add_argument(
        "--segcache",
        type=Path,
        default=ROOT / "bench" / "out" / "index85k" / "segcache.sqlite",
        help="segmentation cache copied into each index built",
    )
    p.add_argument("--max-short", type=int, default=None, help="the first N search-box queries")
    p.add_argument("--max-long", type=int, default=200, help="the first N headline queries")
    p.add_argument("--check-rankings", type=int, default=0, metavar="N")
    p.add_argument(
        "--compare-sync",
        action="store_true",
        help="also run the HTTP pass on bare sync workers (the harness before the deployed "
        "settings), beside the deployed one",
    )
    p.add_argument(
        "--build-only",
        action="store_true",
        help="build (or reuse) the corpora and indexes and print their sizes and build times; "
        "measure nothing (a later run without it reuses what is built under --workdir)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not has_shared():
        print("bench.scale: ../shared is not present", file=sys.stderr)
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    given = dict(item.split("=", 1) for item in args.index)
    works = {
        "search-box": unique(search_box_queries())[: args.max_short],
        "headlines": unique([q["query"] for q in load_eval("vims_dev_title_queries")])[
            : args.max_long
        ],
    }
    results, builds = [], []
    for scale in (float(s) for s in args.scales.split(",")):
        files = corpus_files(scale, args.workdir)
        index = Path(given.get(f"{scale:g}") or args.workdir / f"index{scale:g}")
        record = build_ours(files, index, args.segcache)
        array_seconds, array_bytes = derive_arrays(index)
        peer = build_tantivy(files, args.workdir / f"tantivy{scale:g}")
        from indexer import store
        from search import keptscores

        gen = store.current_generation(index)
        builds.append(
            {
                "scale": f"{scale:g}×",
                "ours build s": record.get("build_seconds", "given"),
                "arrays derived s": f"{array_seconds:.1f}",
                "ours MB": mb(directory_size(gen)),
                "of it arrays MB": mb(array_bytes),
                # the commonest syllables' scores the workers share (written by the
                # first engine that warmed over this commit: ``search.keptscores``)
                "of it kept scores MB": mb(
                    sum(p.stat().st_size for p in gen.glob(f"{keptscores.PREFIX}*"))
                ),
                "tantivy build s": f"{peer.build_seconds:.1f}",
                "tantivy MB": mb(directory_size(peer.path)),
            }
        )
        print(format_table(builds[-1:]), flush=True)
        if args.build_only:
            continue
        results.append(measure_scale(scale, index, peer, works, args.workdir, args.compare_sync))
        print_result(results[-1])
        (args.workdir / "scale-results.json").write_text(
            json.dumps({"builds": builds, "results": results}, default=str, indent=1)
        )
        if args.check_rankings:
            same = check_rankings(index, args.check_rankings)
            print(f"top 10 mapped = top 10 decoded: {same[1]} of {same[0]} queries")
            print(f"top 10 pruned = top 10 exhaustive: {same[2]} of {same[0]} queries")
    print("\nbuilds")
    print(format_table(builds))
    print_growth(results)
    print_verdict(results)
    return 0


def print_result(result: dict) -> None:
    rows = []
    for how, name, mine, theirs in result["rows"]:
        rows.append(
            {
                "scale": f"{result['scale']:g}×",
                "how": how,
                "queries": name,
                "ours p50/p95/p99 ms": f"{mine['p50']} / {mine['p95']} / {mine['p99']}",
                "tantivy p50/p95/p99 ms": f"{theirs['p50']} / {theirs['p95']} / {theirs['p99']}",
                "p50 ×": f"{mine['p50'] / max(theirs['p50'], 1e-3):.1f}",
                "p95 ×": f"{mine['p95'] / max(theirs['p95'], 1e-3):.1f}",
            }
        )
    print(format_table(rows))
    if result.get("inside"):  # where a worker's time went (client and HTTP excluded)
        print(format_table(result["inside"]))
    memory = [
        {
            "worker pid": m["pid"],
            "resident MB": mb(m["resident"]),
            "shared MB": mb(m["shared"]),
            "private MB": mb(m["private"]),
            "proportional MB": mb(m["proportional"]),
        }
        for m in result["memory"]
    ]
    if memory:
        print(format_table(memory))
    parts = read_ahead_rows(result)
    if parts:
        print(format_table(parts))
    if result.get("stats_worker"):
        print("a worker's /stats:", json.dumps(result["stats_worker"]))
    sys.stdout.flush()


def read_ahead_rows(result: dict) -> list[dict]:
    """What one worker keeps ahead, part by part, beside its budget (``search.memory``):
    the in-process engine's and a gunicorn worker's (its ``/stats``)."""
    sources = {
        "in-process MB": (result.get("in_process_worker") or {}).get("read_ahead"),
        "gunicorn worker MB": (result.get("stats_worker") or {}).get("read_ahead"),
    }
    sources = {name: report for name, report in sources.items() if report}
    if not sources:
        return []
    names = list(dict.fromkeys(n for r in sources.values() for n in r["parts_bytes"]))
    rows = [
        {"read-ahead part": n, **{k: mb(r["parts_bytes"].get(n, 0)) for k, r in sources.items()}}
        for n in names
    ]
    rows.append(
        {"read-ahead part": "all parts", **{k: mb(r["used_bytes"]) for k, r in sources.items()}}
    )
    shared = list(dict.fromkeys(n for r in sources.values() for n in r.get("shared_bytes", {})))
    rows += [  # mapped from one file by every worker: counted once, out of the whole budget
        {
            "read-ahead part": f"{n} (once)",
            **{k: mb(r.get("shared_bytes", {}).get(n, 0)) for k, r in sources.items()},
        }
        for n in shared
    ]
    rows.append(
        {"read-ahead part": "budget", **{k: mb(r["budget_bytes"]) for k, r in sources.items()}}
    )
    return rows


def print_growth(results: list[dict]) -> None:
    """p95 growth from the first scale to the others, beside the corpus growth."""
    if len(results) < 2:
        return
    results = sorted(results, key=lambda r: r["scale"])  # growth from the smallest
    base = {(how, name): (mine, theirs) for how, name, mine, theirs in results[0]["rows"]}
    rows = []
    for result in results[1:]:
        growth = result["scale"] / results[0]["scale"]
        for how, name, mine, theirs in result["rows"]:
            first = base.get((how, name))
            if first is None:
                continue
            rows.append(
                {
                    "how": how,
                    "queries": name,
                    "corpus ×": f"{growth:g}",
                    "ours p95 ×": f"{mine['p95'] / first[0]['p95']:.1f}",
                    "tantivy p95 ×": f"{theirs['p95'] / first[1]['p95']:.1f}",
                    "ours p95 ms": mine["p95"],
                    f"< {SHORT_P95_TARGET_MS:g} ms": "yes"
                    if mine["p95"] < SHORT_P95_TARGET_MS
                    else "no",
                }
            )
    print("\ngrowth")
    print(format_table(rows))


def print_verdict(results: list[dict]) -> None:
    """The issue's targets, each MET or MISSED, from this run's numbers."""
    if not results:
        return
    results = sorted(results, key=lambda r: r["scale"])
    lines = []
    first = results[0]
    for how, name, mine, theirs in first["rows"]:
        if how != "in-process":
            continue
        for p in ("p50", "p95"):
            ratio = mine[p] / max(theirs[p], 1e-3)
            ok = "MET" if ratio <= PEER_FACTOR_TARGET else "MISSED"
            lines.append(
                f"{first['scale']:g}× {name} {p} {mine[p]} ms = {ratio:.1f}× tantivy's "
                f"{theirs[p]} (target ≤ {PEER_FACTOR_TARGET:g}×): {ok}"
            )
    base = {(how, name): mine for how, name, mine, _ in first["rows"]}
    for result in results[1:]:
        growth = result["scale"] / first["scale"]
        for how, name, mine, _ in result["rows"]:
            if how.endswith(COMPARED):
                continue
            if (how, name) in base:
                grew = mine["p95"] / base[(how, name)]["p95"]
                ok = "MET" if grew <= growth else "MISSED"
                lines.append(
                    f"{first['scale']:g}×→{result['scale']:g}× {how} {name} p95 grew "
                    f"×{grew:.1f} (target ≤ ×{growth:g}): {ok}"
                )
            if name == "search-box":
                ok = "MET" if mine["p95"] < SHORT_P95_TARGET_MS else "MISSED"
                lines.append(
                    f"{result['scale']:g}× {how} search-box p95 {mine['p95']} ms "
                    f"(target < {SHORT_P95_TARGET_MS:g} ms): {ok}"
                )
    print("\nverdict")
    for line in lines:
        print("  " + line)


if __name__ == "__main__":
    raise SystemExit(main())
