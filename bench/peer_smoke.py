"""Quick self-check of the benchmark plumbing on a small sample.

    .venv/bin/python -m bench.peer_smoke --limit 1700 --queries 300

Builds both peers on the judged articles of the first ``--queries`` vims title queries
plus ``--limit`` other articles, then prints MRR/nDCG/Recall for the title queries,
P@5 for the related set, build times and mean query latency.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.data import eval_subset, has_shared, load_eval, search_box_queries
from bench.metrics import evaluate, format_table
from bench.peers import Fts5Peer, WhooshStdPeer, run_related, run_search


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=1700, help="other (unjudged) articles")
    p.add_argument("--queries", type=int, default=300, help="vims title queries to use")
    p.add_argument("--k", type=int, default=10)
    return p.parse_args(argv)


def related_qrels(articles: list[dict], title_ids: set[str]) -> list[dict]:
    """Return the vims related queries whose article and relevant ids are all indexed."""
    present = {a["id"] for a in articles}
    return [
        q
        for q in load_eval("vims_dev_related")
        if q["article"] in title_ids and {q["article"], *q["relevant"]} <= present
    ]


def measure(name: str, engine, titles: list[dict], related: list[dict], k: int) -> dict:
    """Return one table row of quality and timing figures for an engine."""
    run, t_search = run_search(engine, titles, k)
    rel_run, t_rel = run_related(engine, related, k)
    box = search_box_queries()
    _, t_box = run_search(engine, [{"qid": q, "query": q} for q in box], k)
    row: dict = {"engine": name, "build_s": engine.build_seconds}
    row.update(evaluate(run, titles, k))
    row.pop("P@5")
    row["related_P@5"] = evaluate(rel_run, related, k)["P@5"]
    row["title_ms/q"] = 1000 * t_search / max(len(titles), 1)
    row["related_ms/q"] = 1000 * t_rel / max(len(related), 1)
    row["box_ms/q"] = 1000 * t_box / len(box)
    return row


def main(argv: list[str] | None = None) -> int:
    """Build both peers on a sample and print their figures."""
    args = parse_args(argv)
    if not has_shared():
        print("shared data folder missing; nothing to do", file=sys.stderr)
        return 0
    titles_all = load_eval("vims_dev_title_queries")
    articles, titles = eval_subset(titles_all, args.limit, max_queries=args.queries)
    related = related_qrels(articles, {q["exclude"][0] for q in titles if q.get("exclude")})
    print(f"{len(articles)} articles, {len(titles)} title queries, {len(related)} related")
    rows = []
    with tempfile.TemporaryDirectory(prefix="peer_smoke_") as tmp:
        fts = Fts5Peer(Path(tmp) / "fts.sqlite")
        fts.build(articles)
        rows.append(measure(fts.name, fts, titles, related, args.k))
        fts.close()
        wh = WhooshStdPeer(Path(tmp) / "whoosh")
        wh.build(articles)
        rows.append(measure(wh.name, wh, titles, related, args.k))
        wh.close()
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
