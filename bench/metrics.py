"""Ranking metrics with binary relevance, and a plain-text table for benchmark output."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def mrr_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """Return 1/rank of the first relevant id within the top ``k``, else 0."""
    rel = set(relevant)
    for rank, doc in enumerate(ranking[:k], start=1):
        if doc in rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """Return binary nDCG@k: log2 discount, ideal DCG from the number of relevant ids."""
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranking[:k]) if doc in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
    return dcg / ideal


def recall_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """Return the share of relevant ids found in the top ``k``."""
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel.intersection(ranking[:k])) / len(rel)


def precision_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int = 5) -> float:
    """Return the share of the top ``k`` positions holding a relevant id (k in the denominator)."""
    rel = set(relevant)
    return sum(1 for doc in ranking[:k] if doc in rel) / k


def clean_ranking(ranking: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """Drop excluded ids and repeated ids from a ranking, keeping order."""
    seen = set(exclude)
    out = []
    for doc in ranking:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def evaluate(
    run: dict[str, list[str]], qrels: list[dict], k: int = 10, p_k: int = 5
) -> dict[str, float]:
    """Average MRR@k, nDCG@k, Recall@k and P@p_k over the queries of ``qrels``.

    A query missing from ``run`` counts as an empty ranking; queries with no relevant
    ids are skipped. ``exclude`` ids are dropped from the ranking before scoring.
    """
    sums = {f"MRR@{k}": 0.0, f"nDCG@{k}": 0.0, f"Recall@{k}": 0.0, f"P@{p_k}": 0.0}
    n = 0
    for q in qrels:
        relevant = q.get("relevant") or []
        if not relevant:
            continue
        ranking = clean_ranking(run.get(q["qid"], []), q.get("exclude") or ())
        sums[f"MRR@{k}"] += mrr_at_k(ranking, relevant, k)
        sums[f"nDCG@{k}"] += ndcg_at_k(ranking, relevant, k)
        sums[f"Recall@{k}"] += recall_at_k(ranking, relevant, k)
        sums[f"P@{p_k}"] += precision_at_k(ranking, relevant, p_k)
        n += 1
    result = {name: (total / n if n else 0.0) for name, total in sums.items()}
    result["queries"] = n
    return result


def _cell(value: object) -> str:
    """Format one table cell: floats with 4 decimals, everything else as str."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_table(rows: list[dict]) -> str:
    """Return rows of dicts as aligned text columns (keys of all rows, in first-seen order)."""
    if not rows:
        return ""
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    cells = [[_cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        first = r[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest]))
    return "\n".join(lines)
