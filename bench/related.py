"""Related-article quality and speed: our engine beside two peers, in the same run.

    # the full benchmark corpus, our index already built (by the lead):
    .venv/bin/python -m bench.related --index bench/out/index85k --peers-dir bench/out/peers85k
    # a small sample for development: the judged articles plus N other articles
    # (taken from vims first, then dantri and vntc: see --corpora)
    .venv/bin/python -m bench.related --limit 3000

Over ``../shared/eval/vims_dev_related.jsonl`` (an article and the other articles on the
same event) prints P@5, nDCG@10 and ms/query for ``search.related`` (our index), for
Whoosh's ``more_like`` over a StandardAnalyzer index and for SQLite FTS5 queried with
the article's 25 most frequent words, on the *report* half of the set with the *tune*
half beside it (``bench.data.split_of``: the articles of one event are on one side;
choose weights on tune only). Sample indexes and peer indexes are kept under
``--work`` (or ``--peers-dir``) and reused when they hold the same articles; the first
full run builds the peers over the whole corpus (the Whoosh peer takes a while).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from bench.data import (
    add_splits_arg,
    eval_subset,
    has_shared,
    iter_corpus,
    load_eval,
    split_queries,
)
from bench.metrics import evaluate, format_table
from bench.peers import Fts5Peer, WhooshStdPeer, run_related

OUT = Path(__file__).resolve().parent / "out"
K = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, help="our index, already built over the same corpus")
    p.add_argument("--peers-dir", type=Path, help="where peer indexes are built and reused")
    p.add_argument("--limit", type=int, help="sample: judged articles plus N other articles")
    p.add_argument("--queries", type=int, help="use only the first N queries of each half")
    add_splits_arg(p)
    p.add_argument(
        "--corpora",
        default="vims,dantri,vntc",
        help="sample filler comes from these corpus files, in this order",
    )
    p.add_argument("--work", type=Path, default=OUT, help="where sample indexes are kept")
    p.add_argument("--jobs", type=int, default=2, help="segmenting processes for our index")
    p.add_argument("--no-peers", action="store_true", help="measure our engine only")
    return p.parse_args(argv)


class OurEngine:
    """``search.related`` over an index directory, as a benchmark engine."""

    name = "vnsearch"

    def __init__(self, root: Path):
        from search.engine import Engine
        from search.related import RelatedFinder

        self.engine = Engine(root)
        self.finder = RelatedFinder(self.engine)

    def related(self, article_id: str, k: int = K) -> list[str]:
        from search.related import RelatedRequest

        answer = self.finder.for_article(article_id, RelatedRequest(limit=k))
        return [h["id"] for h in answer["hits"]] if answer else []

    def search(self, query: str, k: int = K) -> list[str]:  # the Engine protocol
        return []

    def close(self) -> None:
        pass  # the engine's files close with the process


# --------------------------------------------------------------------------- corpora
def fingerprint(ids: Iterable[str]) -> str:
    """A short key of a set of article ids: an index built for them can be reused."""
    digest = hashlib.blake2b(digest_size=8)
    for aid in sorted(ids):
        digest.update(aid.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _manifest_matches(folder: Path, key: str) -> bool:
    path = folder / "manifest.json"
    return path.exists() and json.loads(path.read_text()).get("articles") == key


def _write_manifest(folder: Path, key: str) -> None:
    (folder / "manifest.json").write_text(json.dumps({"articles": key}))


def build_our_index(articles: list[dict], folder: Path, key: str, jobs: int) -> Path:
    """Index the sample with our writer (reused when already built for the same ids)."""
    from indexer.writer import index_paths

    root = folder / "index"
    if _manifest_matches(root, key):
        return root
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "articles.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as fh:
        for a in articles:
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")
    started = time.perf_counter()
    summary = index_paths([source], root, rebuild=True, jobs=jobs, progress=True)
    print(f"our index: {summary.line()} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    source.unlink()
    _write_manifest(root, key)
    return root


def build_peers(articles_fn, folder: Path, key: str) -> list:
    """FTS5 and Whoosh-standard peers in ``folder``, rebuilt unless they hold ``key``."""
    folder.mkdir(parents=True, exist_ok=True)
    fresh = not _manifest_matches(folder, key)
    if fresh:
        (folder / "manifest.json").unlink(missing_ok=True)
        (folder / "fts.sqlite").unlink(missing_ok=True)
    peers = [Fts5Peer(folder / "fts.sqlite"), WhooshStdPeer(folder / "whoosh")]
    if fresh:
        for peer in peers:
            print(f"building {peer.name}…", file=sys.stderr)
            peer.build(articles_fn())
            print(f"{peer.name}: built in {peer.build_seconds:.0f} s", file=sys.stderr)
        _write_manifest(folder, key)
    return peers


# --------------------------------------------------------------------------- measuring
def measure(engine, qrels: list[dict]) -> dict:
    """P@5, nDCG@10 and ms/query of ``engine.related`` over ``qrels``."""
    engine.related(qrels[0]["article"], K)  # warm-up (loads models, opens files)
    run, seconds = run_related(engine, qrels, K)
    scores = evaluate(run, qrels, k=K, p_k=5)
    return {
        "P@5": scores["P@5"],
        f"nDCG@{K}": scores[f"nDCG@{K}"],
        "ms/query": 1000 * seconds / max(len(qrels), 1),
        "queries": scores["queries"],
    }


def measure_halves(engine, halves: dict[str, list[dict]]) -> dict:
    """One table row: each half's scores, the first half leading, and the tune gap."""
    row: dict = {"engine": engine.name}
    scores = {split: measure(engine, qrels) for split, qrels in halves.items()}
    for split, got in scores.items():
        row[f"{split} n"] = got["queries"]
        row[f"{split} P@5"] = got["P@5"]
        row[f"{split} nDCG@{K}"] = got[f"nDCG@{K}"]
    if {"report", "tune"} <= set(scores):
        row["tune−report nDCG"] = (
            f"{scores['tune'][f'nDCG@{K}'] - scores['report'][f'nDCG@{K}']:+.4f}"
        )
    row["ms/query"] = sum(got["ms/query"] for got in scores.values()) / len(scores)
    return row


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the indexes and print the comparison table."""
    args = parse_args(argv)
    if not has_shared():
        print("shared data folder missing; nothing to do", file=sys.stderr)
        return 0
    everything = load_eval("vims_dev_related")
    qrels = [q for split in args.splits for q in split_queries(everything, split)[: args.queries]]
    if args.limit is not None:
        articles, qrels = eval_subset(qrels, args.limit, names=args.corpora.split(","))
        key = fingerprint(a["id"] for a in articles)
        folder = args.work / f"related_sample_{key}"
        index = args.index or build_our_index(articles, folder, key, args.jobs)
        peers_dir = args.peers_dir or folder / "peers"

        def corpus():
            return iter(articles)

        size = len(articles)
    else:
        if args.index is None:
            print("--index is required for a full run (or give --limit N)", file=sys.stderr)
            return 2
        key = "full-corpus"
        index = args.index
        peers_dir = args.peers_dir or OUT / "peers85k"

        def corpus():
            return iter_corpus()

        size = None
    halves = {split: split_queries(qrels, split) for split in args.splits}
    ours = OurEngine(index)
    size = size or ours.engine.doc_count()
    counts = ", ".join(f"{len(h)} {split}" for split, h in halves.items())
    print(f"{size} articles, related queries: {counts}", file=sys.stderr)
    rows = [measure_halves(ours, halves)]
    if not args.no_peers:
        for peer in build_peers(corpus, peers_dir, key):
            rows.append(measure_halves(peer, halves))
            peer.close()
    print(f"related articles: {size} articles indexed, queries {counts} (vims_dev_related)")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
