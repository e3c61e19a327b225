"""Benchmark officials extraction against the hand-labelled sets, tune and report apart.

Two fixtures, article ids and labels only (the text is read from ``../shared/corpus``
at run time, so no article text is committed):

* ``tests/fixtures/officials_labelled.jsonl``: 125 articles, names only; all *tune*.
* ``tests/fixtures/officials_labelled_2.jsonl``: 620 articles chosen for the kinds that
  were missed (deputy and compound titles, commune officials, officials named by a
  given name, foreign names, company and brand names), each official with its position
  and kind; ``split`` says *tune* or *report*, fixed by a hash of the id before any
  result was looked at: batch 1 (162 articles), the 100 ids with the smallest
  ``sha256("officials-report:" + id)``; batch 2 (16 articles for given names), a first
  hex digit below 8; batch 3 (64 articles, labelled later) is all *tune*; batches 4 and 5
  (84 and 50 articles, the second session), a first hex digit below 8; batch 6 (170 articles,
  the third session) and batch 7 (74 articles, the fourth) are all *tune*, drawn only among
  ids whose first hex digit is 8 or more.

Rules are tuned on *tune* only: ``--verbose`` lists the mistakes of the tune split and
never those of the report split. Precision and recall are micro-averaged over names
(compared by ``normalize_name_key``) per kind:

* ``vn``: a Vietnamese full name (``Nguyễn Văn Quyền``);
* ``short``: a Vietnamese official never named in full (``Vẻ``, ``Hoài Nhưỡng``);
* ``foreign``: a name in a foreign spelling (``Cho Young-kil``, ``Abdullah Ahmad Badawi``);
* ``local``: a Vietnamese full name with a local or junior position (commune, ward,
  village, district, a room or team of an office, ``công an viên``, ``cán bộ``).

A found name takes the labelled kind; a wrong one (false positive) takes the kind its
shape and positions suggest (``guess_kind``), and so do the names of the first
fixture, which has no kinds (there: never ``local``). Then the extraction throughput
beside bare pyvi ``ViTokenizer.tokenize`` over the same texts in the same run.

With ``--against REV`` the extractor of git revision ``REV`` (its ``indexer/officials.py``
and data files) is timed beside today's on the same articles in the same run, both given
the body's pyvi word spans as the indexing path gives them.

    python -m bench.officials [--verbose] [--repeat N] [--sample N] [--against 0208ced]
                              [--compare 0208ced 9d4d693]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
LABELS = FIXTURES / "officials_labelled.jsonl"
LABELS_2 = FIXTURES / "officials_labelled_2.jsonl"
KINDS = ("vn", "short", "foreign", "local")
SPLITS = ("tune", "report")
REPORT_SIZE = 100

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.data import shared_dir
from indexer.officials import (
    Official,
    extract_officials,
    is_foreign_name,
    lexicon,
    normalize_name_key,
)


@dataclass(frozen=True)
class Gold:
    """One labelled official of one article."""

    name: str
    kind: str
    position: str = ""


@dataclass
class Article:
    """One labelled article: where it is, which split it is in, who it names."""

    id: str
    split: str
    officials: list[Gold]


@dataclass
class Scores:
    """Micro-averaged name-level counts, with the mistakes (article id, name)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    false_negatives: list[tuple[str, str]] = field(default_factory=list)

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


_LOCAL = re.compile(
    r"(?i)(?<!\w)(?:xã|phường|thị trấn|thôn|ấp|bản|huyện|quận|thị xã|công an viên|cán bộ"
    r"|chuyên viên|kiểm lâm|trưởng phòng|phó phòng|đội trưởng|đội phó|tổ trưởng)(?!\w)"
)


def guess_kind(name: str, positions: Iterable[str] = ()) -> str:
    """The kind a name's shape and positions suggest (for names without a labelled kind)."""
    tokens = name.split()
    if is_foreign_name(tokens):
        return "foreign"
    if len(tokens) < 2 or tokens[0] not in lexicon().surnames:
        return "short"
    if any(_LOCAL.search(p) for p in positions):
        return "local"
    return "vn"


def load_labels(path: Path = LABELS) -> dict[str, list[str]]:
    """Article id → officials named in it, as labelled in the first fixture (names only)."""
    return {a.id: [g.name for g in a.officials] for a in load_fixture(path)}


def load_fixture(path: Path) -> list[Article]:
    """The labelled articles of one fixture file (names of the first one get guessed kinds)."""
    articles = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            officials = [
                Gold(o, guess_kind(o))
                if isinstance(o, str)
                else Gold(o["name"], o["kind"], o["position"])
                for o in record["officials"]
            ]
            articles.append(Article(record["id"], record.get("split", "tune"), officials))
    return articles


def load_all() -> list[Article]:
    """Both fixtures, the first one (all tune) first."""
    return load_fixture(LABELS) + load_fixture(LABELS_2)


def load_articles(ids: set[str], corpus: Path | None = None) -> dict[str, tuple[str | None, str]]:
    """(title, body) of the wanted ids, read from the gzip JSONL corpus files."""
    corpus = corpus or shared_dir() / "corpus"
    found: dict[str, tuple[str | None, str]] = {}
    for prefix in sorted({i.split("/", 1)[0] for i in ids}):
        wanted = {i for i in ids if i.startswith(prefix + "/")}
        with gzip.open(corpus / f"{prefix}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                head = line[: line.find('",') + 1]  # '{"id": "…"' comes first
                if not any(f'"{i}"' in head for i in wanted):
                    continue
                record = json.loads(line)
                if record["id"] in wanted:
                    found[record["id"]] = (record.get("title"), record.get("body") or "")
    return found


def score(labels: dict[str, list[str]], predicted: dict[str, list[str]]) -> Scores:
    """Compare predicted names with labelled names per article, by folded key."""
    scores = Scores()
    for doc_id, gold_names in labels.items():
        gold = {normalize_name_key(n): n for n in gold_names}
        pred = {normalize_name_key(n): n for n in predicted.get(doc_id, [])}
        scores.tp += len(gold.keys() & pred.keys())
        scores.false_positives += [(doc_id, pred[k]) for k in pred.keys() - gold.keys()]
        scores.false_negatives += [(doc_id, gold[k]) for k in gold.keys() - pred.keys()]
    scores.fp, scores.fn = len(scores.false_positives), len(scores.false_negatives)
    scores.false_positives.sort()
    scores.false_negatives.sort()
    return scores


def score_by_kind(
    articles: list[Article], predicted: dict[str, list[Official]]
) -> dict[tuple[str, str], Scores]:
    """Scores per (split, kind) and per (split, "all")."""
    table = {(s, k): Scores() for s in SPLITS for k in (*KINDS, "all")}
    for article in articles:
        gold = {normalize_name_key(g.name): g for g in article.officials}
        pred = {normalize_name_key(o.name): o for o in predicted.get(article.id, [])}
        for key, g in gold.items():
            for cell in (table[article.split, g.kind], table[article.split, "all"]):
                if key in pred:
                    cell.tp += 1
                else:
                    cell.fn += 1
                    cell.false_negatives.append((article.id, g.name))
        for key, o in pred.items():
            if key not in gold:
                kind = guess_kind(o.name, o.positions)
                for cell in (table[article.split, kind], table[article.split, "all"]):
                    cell.fp += 1
                    cell.false_positives.append((article.id, o.name))
    return table


def run_extraction(articles: dict[str, tuple[str | None, str]]) -> dict[str, list[str]]:
    """Names extracted per article id."""
    return {i: [o.name for o in offs] for i, offs in extract_all(articles).items()}


def extract_all(articles: dict[str, tuple[str | None, str]]) -> dict[str, list[Official]]:
    """Officials extracted per article id."""
    return {i: extract_officials(t, b) for i, (t, b) in articles.items()}


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


def extractor_at(rev: str):
    """``extract_officials`` as git revision ``rev`` wrote it (its module and data files,
    copied under ``bench/out``), for timing beside today's in the same process."""
    folder = ROOT / "bench" / "out" / f"officials_{rev}"
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "indexer/data/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for path in listing:
        (data / Path(path).name).write_text(show(path), encoding="utf-8")
    (folder / "officials.py").write_text(show("indexer/officials.py"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"officials_{rev}", folder / "officials.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.extract_officials


def index_path_times(
    articles: dict[str, tuple[str | None, str]], extractors: dict, repeat: int
) -> dict[str, float]:
    """Best seconds per pass of each extractor over ``articles``, each called as
    ``indexer.prepare`` calls it: ``fn(title, body, title_n, body_n, spans)`` with the
    raw and the normalised texts and the body's pyvi word spans (normalised and segmented
    once, outside the timing). The extractors take turns within each pass, so that load
    on the machine hits all alike."""
    from indexer.analysis import normalize_text
    from indexer.prepare import segment

    inputs = []
    for title, body in articles.values():
        body_n = normalize_text(body)
        title_n = normalize_text(title.strip()) if title and title.strip() else None
        inputs.append((title, body, title_n, body_n, segment(body_n)))
    best = dict.fromkeys(extractors, float("inf"))
    for fn in extractors.values():
        fn(
            "Thủ tướng",
            "Thủ tướng Phan Văn Khải nói.",
            "Thủ tướng",
            "Thủ tướng Phan Văn Khải nói.",
            [],
        )
    for _ in range(repeat):
        for name, fn in extractors.items():
            start = time.perf_counter()
            for item in inputs:
                fn(*item)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def first_articles(n: int, name: str = "vntc") -> dict[str, tuple[str | None, str]]:
    """The first ``n`` articles of one corpus file."""
    out: dict[str, tuple[str | None, str]] = {}
    with gzip.open(shared_dir() / "corpus" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            out[record["id"]] = (record.get("title"), record.get("body") or "")
            if len(out) >= n:
                break
    return out


def format_kinds(table: dict[tuple[str, str], Scores]) -> str:
    """Precision and recall per kind, tune and report side by side."""
    head = "| kind | tune P | tune R | tune names | report P | report R | report names |"
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind in (*KINDS, "all"):
        cells = []
        for split in SPLITS:
            s = table[split, kind]
            cells += [f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.tp + s.fn}"]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_compare(rows: dict[str, dict[tuple[str, str], Scores]]) -> str:
    """One line per extractor: tune and report precision and recall, report recall per kind."""
    head = "| extractor | tune P | tune R | report P | report R | " + " | ".join(
        f"report {k} R" for k in KINDS
    )
    lines = [head + " |", "| --- " * (5 + len(KINDS)) + "|"]
    for name, table in rows.items():
        tune, report = table["tune", "all"], table["report", "all"]
        cells = [tune.precision, tune.recall, report.precision, report.recall]
        cells += [table["report", k].recall for k in KINDS]
        lines.append(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list the tune split's mistakes")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes (best is kept)")
    parser.add_argument(
        "--sample", type=int, default=0, help="time on the first N vntc articles instead"
    )
    parser.add_argument(
        "--against", metavar="REV", help="time the extractor of git revision REV beside today's"
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        nargs="+",
        default=[],
        help="also score the extractors of these git revisions on the same fixtures, same run",
    )
    args = parser.parse_args(argv)
    if not (shared_dir() / "corpus").is_dir():
        print(f"skipped: shared corpus not found at {shared_dir() / 'corpus'}")
        return 0
    labelled = load_all()
    articles = load_articles({a.id for a in labelled})
    missing = {a.id for a in labelled} - set(articles)
    if missing:
        print(f"warning: {len(missing)} labelled ids not in the corpus: {sorted(missing)[:5]}")
    labelled = [a for a in labelled if a.id in articles]
    counts = {s: sum(a.split == s for a in labelled) for s in SPLITS}
    print(f"articles: tune {counts['tune']}, report {counts['report']}")
    table = score_by_kind(labelled, extract_all(articles))
    print(format_kinds(table))
    if args.compare:
        rows = {}
        for rev in args.compare:
            old = extractor_at(rev)
            rows[rev] = score_by_kind(labelled, {i: old(t, b) for i, (t, b) in articles.items()})
        rows["today"] = table
        print(format_compare(rows))
    if args.verbose:
        tune = table["tune", "all"]
        for doc_id, name in tune.false_positives:
            print(f"  FP {doc_id}: {name}")
        for doc_id, name in tune.false_negatives:
            print(f"  FN {doc_id}: {name}")
    timed = first_articles(args.sample) if args.sample else articles
    t = throughput(timed, args.repeat)
    ext_rate, pyvi_rate = t["chars"] / t["extract_s"], t["chars"] / t["pyvi_s"]
    print(f"timing over {t['articles']} articles, {t['chars']} characters")
    print(
        f"extract_officials  {t['articles'] / t['extract_s']:8.0f} articles/s"
        f"  {ext_rate:10.0f} chars/s"
    )
    print(
        f"pyvi tokenize      {t['articles'] / t['pyvi_s']:8.0f} articles/s"
        f"  {pyvi_rate:10.0f} chars/s"
    )
    print(f"extraction time / pyvi time: {t['extract_s'] / t['pyvi_s']:.2f}")
    if args.against:
        old = extractor_at(args.against)
        times = index_path_times(
            timed,
            {  # as indexer.prepare calls each: today with the normalised texts, REV with raw
                "today": lambda t, b, tn, bn, sp: extract_officials(tn, bn, sp, normalized=True),
                args.against: lambda t, b, tn, bn, sp: old(t, b, sp),
            },
            args.repeat,
        )
        print(f"index path (pyvi spans given), {len(timed)} articles, same run:")
        for name, seconds in times.items():
            print(f"  {name:10} {len(timed) / seconds:8.0f} articles/s  {seconds:7.2f} s")
        print(f"today / {args.against} time: {times['today'] / times[args.against]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
