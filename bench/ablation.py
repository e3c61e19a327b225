"""What each ranking shortcut and weight is worth, on the *tune* halves only.

    python -m bench.ablation --index bench/out/index85k
    python -m bench.ablation --sets vims_dev_title_queries --variants base whoosh-like title=3

Our ranking differs from Whoosh's plain BM25F in a few deliberate ways: a long query
scores only its distinctive syllables (``COMMON_TERM_SHARE``, ``LONG_QUERY_MAX_TERMS``),
a short one ranks the articles holding every word first (``SHORT_QUERY_SYLLABLES``),
a syllable typed with diacritics also scores its accent-folded form, adjacent pairs
score, and a title occurrence counts ``TITLE_WEIGHT`` body occurrences. Each variant
switches some of these off or sets one weight (``name=value``), runs every query of
the *tune* half of each set in one process (the index opened once), and prints nDCG@10
per set beside ``base`` (the code as it is). It never reads the *report* half: that is
what keeps the report honest.

Variants: ``base``; ``no-pruning`` (every syllable of a long query scores);
``no-tiers`` (every query is ranked as a long one: no all-words-first tier);
``exact-only`` (no folded term for a syllable typed with diacritics, as Whoosh);
``no-pairs``; ``whoosh-like`` (all four); or ``fold=``, ``exact=``, ``pairs=``,
``floor=``, ``title=``, ``k1=``, ``b=``, ``share=``, ``max-terms=`` with a number;
join several with ``+``.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from bench.data import has_shared, load_eval
from bench.metrics import evaluate, format_table
from bench.quality import CORPUS_SETS

OUT = Path(__file__).resolve().parent / "out"
SETS = CORPUS_SETS  # the corpus-judged sets that bench.quality scores
VARIANTS = ["base", "no-pruning", "no-tiers", "exact-only", "no-pairs", "whoosh-like"]
NAMED = {
    "no-pruning": ["share=10", "max-terms=100000"],
    "no-tiers": ["short=0"],
    "exact-only": ["fold=0"],
    "no-pairs": ["pairs=0"],
    "whoosh-like": ["share=10", "max-terms=100000", "short=0", "fold=0", "pairs=0"],
}


def patches(variant: str) -> list[tuple[object, str, object]]:
    """(module, attribute, value) for each setting a variant changes."""
    from search import query, scoring

    weights = dict(query.BAG_WEIGHTS)
    out: list[tuple[object, str, object]] = []
    parts = [p for part in variant.split("+") for p in NAMED.get(part, [part])]
    for part in parts:
        if part == "base":
            continue
        key, _, raw = part.partition("=")
        if not raw:
            raise SystemExit(f"unknown variant {part!r} (see --help)")
        value = float(raw)
        if key in weights:
            weights[key] = value
        elif key == "short":
            out.append((query, "SHORT_QUERY_SYLLABLES", int(value)))
        elif key == "share":
            out.append((query, "COMMON_TERM_SHARE", value))
        elif key == "max-terms":
            out.append((query, "LONG_QUERY_MAX_TERMS", int(value)))
        elif key == "floor":
            out.append((query, "PAIR_FLOOR", value))
        elif key in ("title", "k1", "b"):
            name = {"title": "TITLE_WEIGHT", "k1": "K1", "b": "B"}[key]
            out.append((scoring, name, value))
        else:
            raise SystemExit(f"unknown setting {key!r} in {variant!r} (see --help)")
    return out + [(query, "BAG_WEIGHTS", weights)]


def main(argv: list[str] | None = None) -> int:
    """Run every variant over the tune halves and print nDCG@10 per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=OUT / "index85k")
    parser.add_argument("--sets", nargs="+", default=SETS)
    parser.add_argument("--variants", nargs="+", default=VARIANTS)
    parser.add_argument("--max-queries", type=int, help="the first N tune queries of each set")
    args = parser.parse_args(argv)
    if not has_shared():
        print("../shared is not present: nothing to evaluate")
        return 0
    from search.engine import Engine

    engine = Engine(args.index, warm_postings=0, prefetch=False)
    halves = {name: load_eval(name, "tune")[: args.max_queries] for name in args.sets}
    rows = []
    for variant in args.variants:
        row: dict = {"variant (tune)": variant}
        with ExitStack() as stack:
            for module, attribute, value in patches(variant):
                stack.enter_context(mock.patch.object(module, attribute, value))
            for name, qrels in halves.items():
                started = time.perf_counter()
                run = {
                    q["qid"]: engine.rank(q["query"], 10 + len(q.get("exclude") or ()))
                    for q in qrels
                }
                ms = (time.perf_counter() - started) * 1000 / max(1, len(qrels))
                row[name] = f"{evaluate(run, qrels)['nDCG@10']:.4f}"
                print(f"{variant} {name}: {row[name]} ({ms:.0f} ms/query)", file=sys.stderr)
        rows.append(row)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
