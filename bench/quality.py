"""Ranking quality per query set: this engine beside SQLite FTS5 and Whoosh's StandardAnalyzer.

    python -m bench.quality                          # full corpus (uses bench/out/index85k)
    python -m bench.quality --limit 3000             # judged articles + 3,000 others
    python -m bench.quality --sets vims_dev_title_queries --max-queries 200
    python -m bench.quality --splits tune --no-peers   # while tuning: never look at report

Every engine indexes the same corpus in the same run (peer indexes are cached in
``--peers-dir``); the ViQuAD sets use their own 515 passages. Each set is split in two
halves that never change (``bench.data.split_of``: ViMs by event, ViQuAD by passage):
weights are chosen on *tune* and the result is *report*. Prints, per set and engine,
nDCG@10 on report with tune beside it (and their gap), MRR@10 and Recall@10 on
report, ms per query, and the unaccented/accented ratios (report).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.data import (
    SPLITS,
    add_splits_arg,
    eval_subset,
    has_shared,
    iter_corpus,
    load_eval,
    load_viquad_passages,
    split_queries,
)
from bench.metrics import evaluate, format_table

OUT = Path(__file__).resolve().parent / "out"
CORPUS_SETS = [
    "vims_dev_title_queries",
    "vims_dev_summary_queries",
    "vims_dev_summary_queries_unaccented",
    "dantri_dev_slug_queries",
]
VIQUAD_SETS = ["viquad_dev_queries", "viquad_dev_queries_unaccented"]


class OurEngine:
    """This engine, ranking exactly as ``/search`` does."""

    name = "vnsearch"

    def __init__(self, root: Path):
        from search.engine import Engine

        self.engine = Engine(root)

    def search(self, query: str, k: int) -> list[str]:
        return self.engine.rank(query, k)


def build_ours(articles, root: Path) -> Path:
    """Index ``articles`` (dicts) with the project's writer into ``root``."""
    from indexer.writer import index_paths

    root.mkdir(parents=True, exist_ok=True)
    path = root.parent / f"{root.name}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for a in articles:
            out.write(json.dumps(a, ensure_ascii=False) + "\n")
    index_paths([path], root, rebuild=True, jobs=2)
    return root


def peers_for(articles_factory, directory: Path, key: str) -> list:
    """FTS5 and Whoosh-standard peers over the same articles (shared with bench.related)."""
    from bench.related import build_peers

    return build_peers(articles_factory, directory, key)


def run_set(engine, qrels: list[dict], k: int = 10) -> tuple[dict, float]:
    run = {}
    started = time.perf_counter()
    for q in qrels:
        extra = len(q.get("exclude") or [])
        run[q["qid"]] = engine.search(q["query"], k + extra)
    seconds = time.perf_counter() - started
    return run, seconds * 1000 / max(1, len(qrels))


def split_sets(
    name: str, splits: list[str], max_queries: int | None, subset: set[str] | None = None
) -> dict[str, list[dict]]:
    """The queries of each asked half of set ``name``: the first ``max_queries`` of each,
    those whose judged ids are all in ``subset`` (a sample corpus) when given."""
    queries = load_eval(name)
    if subset is not None:
        queries = [q for q in queries if set(q["relevant"]) <= subset]
    return {split: split_queries(queries, split)[:max_queries] for split in splits}


def evaluate_sets(
    engines: list,
    sets: list[str],
    max_queries: int | None,
    subset: set[str] | None = None,
    splits: tuple[str, ...] | list[str] = SPLITS,
) -> list[dict]:
    """One row per set and engine: report scores first, tune beside them."""
    rows = []
    for name in sets:
        halves = split_sets(name, splits, max_queries, subset)
        for engine in engines:
            row: dict = {"set": name, "engine": getattr(engine, "name", type(engine).__name__)}
            scores, ms = {}, {}
            for split, qrels in halves.items():
                run, ms[split] = run_set(engine, qrels)
                scores[split] = evaluate(run, qrels, k=10)
                got = scores[split]
                print(
                    f"{name} {row['engine']} {split}: nDCG@10 {got['nDCG@10']:.4f} "
                    f"MRR@10 {got['MRR@10']:.4f} ({got['queries']} queries, {ms[split]:.0f} ms)",
                    file=sys.stderr,
                    flush=True,
                )
            for split in halves:
                row[f"{split} n"] = scores[split]["queries"]
                row[f"{split} nDCG@10"] = f"{scores[split]['nDCG@10']:.4f}"
            if {"report", "tune"} <= set(halves):
                gap = scores["tune"]["nDCG@10"] - scores["report"]["nDCG@10"]
                row["tune−report"] = f"{gap:+.4f}"
            lead = splits[0]
            row[f"{lead} MRR@10"] = f"{scores[lead]['MRR@10']:.4f}"
            row[f"{lead} Recall@10"] = f"{scores[lead]['Recall@10']:.4f}"
            row["ms/query"] = f"{sum(ms.values()) / len(ms):.1f}"
            rows.append(row)
            print(format_table(rows[-1:]), flush=True)
    return rows


def unaccented_ratios(rows: list[dict]) -> list[str]:
    """Each engine's unaccented nDCG@10 as a share of its accented one (first split)."""
    out = []
    column = next((c for c in rows[0] if c.endswith("nDCG@10")), None) if rows else None
    by = {(r["set"], r["engine"]): float(r[column]) for r in rows if column in r}
    for (name, engine), score in by.items():
        if name.endswith("_unaccented"):
            base = by.get((name.removesuffix("_unaccented"), engine))
            if base:
                split = column.split()[0]
                out.append(f"{engine:16} {name} ({split}): {score / base:.3f} of the accented")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=OUT / "index85k", help="our full index")
    parser.add_argument("--peers-dir", type=Path, default=OUT / "peers85k")
    parser.add_argument("--limit", type=int, help="judged articles + this many others")
    parser.add_argument("--max-queries", type=int, help="the first N queries of each half")
    add_splits_arg(parser)
    parser.add_argument("--sets", nargs="*", default=CORPUS_SETS + VIQUAD_SETS)
    parser.add_argument(
        "--no-peers", action="store_true", help="our engine only (peers are deterministic)"
    )
    parser.add_argument(
        "--peers-only", action="store_true", help="the peers only (our index is not opened)"
    )
    args = parser.parse_args(argv)
    if not has_shared():
        print("../shared is not present: nothing to evaluate")
        return 0
    corpus_sets = [s for s in args.sets if s in CORPUS_SETS]
    viquad_sets = [s for s in args.sets if s in VIQUAD_SETS]
    rows: list[dict] = []
    if corpus_sets:
        if args.limit:
            qrels = [
                q
                for name in corpus_sets
                for half in split_sets(name, args.splits, args.max_queries).values()
                for q in half
            ]
            articles, _ = eval_subset(qrels, args.limit)
            tag = f"sample{args.limit}"
            ours = (
                None if args.peers_only else build_ours(articles, OUT / f"quality_{tag}" / "ours")
            )
            peers = peers_for(lambda: articles, OUT / f"quality_{tag}" / "peers", tag)
            subset = {a["id"] for a in articles}
        else:
            if not args.peers_only and not args.index.exists():
                print(f"{args.index} missing: run python -m bench.index_bench first")
                return 1
            ours, subset = args.index, None
            peers = peers_for(iter_corpus, args.peers_dir, "full-corpus")
        engines = ([] if args.peers_only else [OurEngine(ours)]) + ([] if args.no_peers else peers)
        rows += evaluate_sets(engines, corpus_sets, args.max_queries, subset, args.splits)
    if viquad_sets:
        passages = load_viquad_passages()
        root = OUT / "viquad"
        ours = root / "ours"
        engines = []
        if not args.peers_only:
            if not (root / "ours" / "current").exists():
                build_ours(passages, ours)
            engines.append(OurEngine(ours))
        if not args.no_peers:
            engines += peers_for(lambda: passages, root / "peers", "viquad")
        rows += evaluate_sets(engines, viquad_sets, args.max_queries, None, args.splits)
    print()
    print(format_table(rows))
    for line in unaccented_ratios(rows):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
