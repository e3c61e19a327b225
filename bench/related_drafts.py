"""Related articles for a pasted draft (``POST /related``): our engine beside two peers.

    .venv/bin/python -m bench.related_drafts --index bench/out/index85k \\
        --peers-dir bench/out/peers85k
    .venv/bin/python -m bench.related_drafts --limit 3000   # a sample, built in bench/out

Drafts are the human-written ViMs summaries of ``../shared/eval``
(``vims_dev_summary_queries.jsonl``): every sentence of one event's summary, joined,
is one draft (``summary``), and its first sentence alone is a short draft
(``sentence``); relevant = the event's articles. For each kind it prints P@5, nDCG@10
and ms/draft for ``search.related`` (``RelatedFinder.for_text``, what ``POST /related``
runs), Whoosh's ``more_like`` with the draft as ``text`` over a StandardAnalyzer index,
and SQLite FTS5 queried with the draft's 25 most frequent words (the peers of
``bench.related``), on the *report* half with the *tune* half beside it
(``bench.data.split_of``: one event is on one side in every eval set).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.data import add_splits_arg, eval_subset, has_shared, load_eval, split_queries
from bench.metrics import evaluate, format_table
from bench.peers import Fts5Peer, WhooshStdPeer, top_words

OUT = Path(__file__).resolve().parent / "out"
K = 10
KINDS = ("summary", "sentence")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=OUT / "index85k", help="our index (85k corpus)")
    p.add_argument("--peers-dir", type=Path, default=OUT / "peers85k", help="bench.related's peers")
    p.add_argument("--drafts", type=int, help="only the first N drafts of each half")
    p.add_argument(
        "--limit",
        type=int,
        help="a sample instead of --index: the judged articles plus N others, our index "
        "and both peers built over it (kept under --work and reused)",
    )
    p.add_argument("--work", type=Path, default=OUT, help="where sample indexes are kept")
    p.add_argument("--no-peers", action="store_true", help="measure our engine only")
    p.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="draft kinds")
    add_splits_arg(p)
    return p.parse_args(argv)


def drafts(kind: str) -> list[dict]:
    """One draft per event: its summary's sentences joined, or the first one alone."""
    events: dict[str, dict] = {}
    for q in load_eval("vims_dev_summary_queries"):
        event = q["qid"].rsplit("/", 1)[0]
        draft = events.setdefault(event, {"qid": event, "sentences": [], "relevant": q["relevant"]})
        draft["sentences"].append(q["query"])
    out = []
    for d in events.values():
        text = " ".join(d["sentences"]) if kind == "summary" else d["sentences"][0]
        out.append({"qid": d["qid"], "text": text, "relevant": d["relevant"]})
    return out


class Ours:
    name = "vnsearch"

    def __init__(self, root: Path):
        from search.engine import Engine
        from search.related import RelatedFinder

        self.finder = RelatedFinder(Engine(root))

    def related_text(self, text: str, k: int) -> list[str]:
        from search.related import RelatedRequest

        return [h["id"] for h in self.finder.for_text(text, "", RelatedRequest(limit=k))["hits"]]


class WhooshMoreLike:
    """Whoosh's ``more_like`` on ``body`` with the draft as its text (no document masked)."""

    name = "whoosh more_like"

    def __init__(self, peer: WhooshStdPeer):
        self.peer = peer

    def related_text(self, text: str, k: int) -> list[str]:
        hits = self.peer._searcher.more_like(-1, "body", text=text, top=k)
        return [hit["id"] for hit in hits]


class Fts5TopWords:
    """FTS5: the OR of the draft's 25 most frequent words, by bm25."""

    name = "sqlite-fts5"

    def __init__(self, peer: Fts5Peer):
        self.peer = peer

    def related_text(self, text: str, k: int) -> list[str]:
        return self.peer._match(top_words(text), k)


def measure(engine, qrels: list[dict]) -> dict:
    engine.related_text(qrels[0]["text"], K)  # warm-up
    run = {}
    started = time.perf_counter()
    for q in qrels:
        run[q["qid"]] = engine.related_text(q["text"], K)
    seconds = time.perf_counter() - started
    scores = evaluate(run, qrels, k=K, p_k=5)
    scores["ms"] = 1000 * seconds / max(len(qrels), 1)
    return scores


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not has_shared():
        print("shared data folder missing; nothing to do", file=sys.stderr)
        return 0
    index, peers_dir = args.index, args.peers_dir
    if args.limit is not None:
        from bench.related import build_our_index, build_peers, fingerprint

        every = [q for kind in KINDS for q in drafts(kind)]
        articles, _ = eval_subset(every, args.limit, names=("vims", "dantri", "vntc"))
        key = fingerprint(a["id"] for a in articles)
        folder = args.work / f"drafts_sample_{key}"
        index = build_our_index(articles, folder, key, jobs=2)
        peers_dir = folder / "peers"
        if not args.no_peers:
            build_peers(lambda: iter(articles), peers_dir, key)
        print(f"sample: {len(articles)} articles", file=sys.stderr)
    engines = [Ours(index)]
    if not args.no_peers:
        engines.append(WhooshMoreLike(WhooshStdPeer(peers_dir / "whoosh")))
        engines.append(Fts5TopWords(Fts5Peer(peers_dir / "fts.sqlite")))
    for kind in args.kinds:
        everything = drafts(kind)
        halves = {s: split_queries(everything, s)[: args.drafts] for s in args.splits}
        rows = []
        for engine in engines:
            row: dict = {"engine": engine.name}
            ms = []
            for split, qrels in halves.items():
                got = measure(engine, qrels)
                row[f"{split} n"] = got["queries"]
                row[f"{split} P@5"] = got["P@5"]
                row[f"{split} nDCG@{K}"] = got[f"nDCG@{K}"]
                ms.append(got["ms"])
            row["ms/draft"] = sum(ms) / len(ms)
            rows.append(row)
        print(f"\n## drafts: {kind} ({'all sentences' if kind == 'summary' else 'first sentence'})")
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
