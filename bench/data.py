"""Benchmark data: the shared corpus, eval sets and corpus subsets for limited runs.

The shared folder is ``../shared`` beside the project (override with ``VNSEARCH_SHARED``).
It is absent on users' machines, so callers should check :func:`has_shared` and skip.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

CORPUS_NAMES: tuple[str, ...] = ("vntc", "dantri", "vims")
SPLITS: tuple[str, ...] = ("report", "tune")
SPLIT_SALT = b"vnsearch-eval-split-1"  # changing it reshuffles every split: never do


def add_splits_arg(parser) -> None:
    """``--splits``: the eval halves a benchmark scores, the first one printed first."""
    parser.add_argument(
        "--splits",
        nargs="+",
        choices=SPLITS,
        default=list(SPLITS),
        help="halves to score, the first one leading (default: report, tune)",
    )


def shared_dir() -> Path:
    """Return the shared data folder (``$VNSEARCH_SHARED`` or ``../shared``)."""
    env = os.environ.get("VNSEARCH_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared"


def has_shared() -> bool:
    """Return True when the shared corpus folder is present."""
    return (shared_dir() / "corpus").is_dir()


def _iter_jsonl(path: Path) -> Iterator[dict]:
    """Yield one dict per non-blank line of a (possibly gzipped) JSON Lines file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def corpus_path(name: str) -> Path:
    """Return the path of one corpus file, e.g. ``corpus_path("vims")``."""
    return shared_dir() / "corpus" / f"{name}.jsonl.gz"


def iter_corpus(names: Iterable[str] = CORPUS_NAMES, limit: int | None = None) -> Iterator[dict]:
    """Stream article dicts (``id``, ``title``, ``body``, ...) from the named corpus files.

    ``limit`` caps the total number of articles yielded across all files.
    """
    count = 0
    for name in names:
        for article in _iter_jsonl(corpus_path(name)):
            if limit is not None and count >= limit:
                return
            count += 1
            yield article


def _eval_path(name: str) -> Path:
    """Resolve an eval set name with or without the ``.jsonl`` suffix."""
    base = shared_dir() / "eval"
    return base / (name if name.endswith((".jsonl", ".gz")) else f"{name}.jsonl")


def load_eval(name: str, split: str | None = None) -> list[dict]:
    """Load an eval set such as ``"vims_dev_title_queries"`` as a list of dicts.

    ``split``: ``"tune"`` or ``"report"`` keeps that half (see :func:`split_of`),
    in file order; None keeps every query.
    """
    queries = list(_iter_jsonl(_eval_path(name)))
    return queries if split is None else split_queries(queries, split)


# --------------------------------------------------------------------------- splits
def hash_split(key: str) -> str:
    """``"tune"`` or ``"report"``, by a fixed hash of ``key`` (BLAKE2b, salted, parity).

    The same key falls on the same side in every run, process and Python version (no
    ``hash()``, whose strings are randomised per process). About half of many keys
    fall on each side.
    """
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, key=SPLIT_SALT).digest()
    return SPLITS[digest[-1] & 1]


def split_key(query: dict) -> str:
    """The unit a query is split with: the first (smallest) id among those it judges.

    Every query of a ViMs set judges its whole event (``relevant`` plus the
    ``exclude``d article the headline came from, or the ``article`` of a related
    query), so the queries of one event share a key across the title, summary,
    related and unaccented sets: an event is never tuned on in one set and reported
    in another. A ViQuAD question judges its passage, so the questions about one
    passage (and their unaccented twins) stay together; a dantri slug judges its
    one article. Raises ``ValueError`` for a query that judges nothing.
    """
    ids = judged_ids([query])
    if not ids:
        raise ValueError(f"query {query.get('qid')!r} judges no article: it cannot be split")
    return min(ids)


def split_of(query: dict) -> str:
    """``"tune"`` or ``"report"``: the half of its eval set ``query`` belongs to.

    Weights, thresholds and rules are chosen on *tune*; benchmarks report *report*.
    """
    return hash_split(split_key(query))


def split_queries(queries: Iterable[dict], split: str) -> list[dict]:
    """The queries of one half (``"tune"`` or ``"report"``), in their order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    return [q for q in queries if split_of(q) == split]


def load_viquad_passages() -> list[dict]:
    """Load the 515 UIT-ViQuAD dev passages (the corpus for the viquad query sets)."""
    return list(_iter_jsonl(shared_dir() / "eval" / "viquad_dev_passages.jsonl.gz"))


def search_box_queries() -> list[str]:
    """Return the unjudged search-box queries (the latency workload)."""
    path = shared_dir() / "eval" / "search_box_queries.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def judged_ids(qrels: Iterable[dict]) -> set[str]:
    """Return every article id a query set mentions: relevant, excluded and query articles."""
    ids: set[str] = set()
    for q in qrels:
        ids.update(q.get("relevant", ()))
        ids.update(q.get("exclude", ()))
        if q.get("article"):
            ids.add(q["article"])
    return ids


def _prefix(article_id: str) -> str:
    """Return the corpus prefix of an id (``"vims/abc"`` -> ``"vims"``)."""
    return article_id.split("/", 1)[0]


def eval_subset(
    qrels: list[dict],
    limit: int | None,
    names: Iterable[str] = CORPUS_NAMES,
    max_queries: int | None = None,
) -> tuple[list[dict], list[dict]]:
    """Pick a corpus subset that keeps a limited run meaningful.

    Takes the first ``max_queries`` queries (all when None), then returns
    ``(articles, qrels)``: every article those queries judge plus the first ``limit``
    other articles (the whole corpus when ``limit`` is None), and the queries whose
    judged ids were all found. Files holding no judged id stop being read once the
    ``limit`` others are collected.
    """
    chosen = qrels[:max_queries] if max_queries is not None else list(qrels)
    wanted = judged_ids(chosen)
    missing = set(wanted)
    missing_prefixes = Counter(_prefix(i) for i in missing)
    articles: list[dict] = []
    others = 0
    for name in names:
        for article in _iter_jsonl(corpus_path(name)):
            aid = article["id"]
            if aid in missing:
                articles.append(article)
                missing.discard(aid)
                missing_prefixes[_prefix(aid)] -= 1
            elif aid in wanted:
                continue  # duplicate id
            elif limit is None or others < limit:
                articles.append(article)
                others += 1
            elif missing_prefixes[_prefix(aid)] <= 0:
                break
    kept = [q for q in chosen if not (judged_ids([q]) & missing)]
    return articles, kept
