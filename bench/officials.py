"""Benchmark officials extraction against the hand-labelled set.

Reads ``tests/fixtures/officials_labelled.jsonl`` (article ids and the officials a
reader found in them), loads those articles from ``../shared/corpus``, runs
``extract_officials`` and prints precision, recall and F1 of person names (compared
by ``normalize_name_key``), then the extraction throughput beside bare pyvi
``ViTokenizer.tokenize`` over the same texts in the same run.

    python -m bench.officials [--verbose] [--repeat N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "fixtures" / "officials_labelled.jsonl"
CORPUS = ROOT.parent / "shared" / "corpus"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from indexer.officials import extract_officials, normalize_name_key


@dataclass
class Scores:
    """Micro-averaged name-level scores, with the mistakes per article."""

    tp: int
    fp: int
    fn: int
    false_positives: list[tuple[str, str]]
    false_negatives: list[tuple[str, str]]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_labels(path: Path = LABELS) -> dict[str, list[str]]:
    """Article id → officials named in it, as labelled."""
    labels: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                labels[record["id"]] = record["officials"]
    return labels


def load_articles(ids: set[str], corpus: Path = CORPUS) -> dict[str, tuple[str | None, str]]:
    """(title, body) of the wanted ids, read from the gzip JSONL corpus files."""
    found: dict[str, tuple[str | None, str]] = {}
    prefixes = {i.split("/", 1)[0] for i in ids}
    for prefix in sorted(prefixes):
        path = corpus / f"{prefix}.jsonl.gz"
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not any(f'"{i}"' in line for i in ids if i.startswith(prefix)):
                    continue
                record = json.loads(line)
                if record["id"] in ids:
                    found[record["id"]] = (record.get("title"), record.get("body") or "")
    return found


def score(labels: dict[str, list[str]], predicted: dict[str, list[str]]) -> Scores:
    """Compare predicted names with labelled names per article, by folded key."""
    tp = fp = fn = 0
    fps: list[tuple[str, str]] = []
    fns: list[tuple[str, str]] = []
    for doc_id, gold_names in labels.items():
        gold = {normalize_name_key(n): n for n in gold_names}
        pred = {normalize_name_key(n): n for n in predicted.get(doc_id, [])}
        tp += len(gold.keys() & pred.keys())
        fps += [(doc_id, pred[k]) for k in pred.keys() - gold.keys()]
        fns += [(doc_id, gold[k]) for k in gold.keys() - pred.keys()]
    fp, fn = len(fps), len(fns)
    return Scores(tp, fp, fn, sorted(fps), sorted(fns))


def run_extraction(articles: dict[str, tuple[str | None, str]]) -> dict[str, list[str]]:
    """Names extracted per article id."""
    return {i: [o.name for o in extract_officials(t, b)] for i, (t, b) in articles.items()}


def throughput(articles: dict[str, tuple[str | None, str]], repeat: int) -> dict[str, float]:
    """Seconds per pass for extraction and for bare pyvi segmentation of the same texts."""
    from pyvi import ViTokenizer

    texts = [((t + "\n\n") if t else "") + b for t, b in articles.values()]
    ViTokenizer.tokenize("khởi động")  # load the model outside the timing
    run_extraction(articles)  # load the lists outside the timing
    best_ext = best_pyvi = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run_extraction(articles)
        best_ext = min(best_ext, time.perf_counter() - start)
        start = time.perf_counter()
        for text in texts:
            ViTokenizer.tokenize(text)
        best_pyvi = min(best_pyvi, time.perf_counter() - start)
    return {
        "articles": len(texts),
        "chars": sum(map(len, texts)),
        "extract_s": best_ext,
        "pyvi_s": best_pyvi,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list false positives/negatives")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes (best is kept)")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: shared corpus not found at {CORPUS}")
        return 0
    labels = load_labels()
    articles = load_articles(set(labels))
    missing = set(labels) - set(articles)
    if missing:
        print(f"warning: {len(missing)} labelled ids not in the corpus: {sorted(missing)[:5]}")
    labels = {i: names for i, names in labels.items() if i in articles}
    scores = score(labels, run_extraction(articles))
    print(f"articles {len(labels)}  labelled names {scores.tp + scores.fn}")
    print(
        f"precision {scores.precision:.3f}  recall {scores.recall:.3f}  F1 {scores.f1:.3f}"
        f"  (tp {scores.tp}, fp {scores.fp}, fn {scores.fn})"
    )
    if args.verbose:
        for doc_id, name in scores.false_positives:
            print(f"  FP {doc_id}: {name}")
        for doc_id, name in scores.false_negatives:
            print(f"  FN {doc_id}: {name}")
    t = throughput(articles, args.repeat)
    ext_rate, pyvi_rate = t["chars"] / t["extract_s"], t["chars"] / t["pyvi_s"]
    print(
        f"extract_officials  {t['articles'] / t['extract_s']:8.0f} articles/s"
        f"  {ext_rate:10.0f} chars/s"
    )
    print(
        f"pyvi tokenize      {t['articles'] / t['pyvi_s']:8.0f} articles/s"
        f"  {pyvi_rate:10.0f} chars/s"
    )
    print(f"extraction time / pyvi time: {t['extract_s'] / t['pyvi_s']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
