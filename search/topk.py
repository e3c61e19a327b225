"""The best k documents of a ranked OR query without scoring every document: MaxScore.

A long query (a pasted headline, a question) is a ranked OR of up to 40 syllables and
their pairs; its common syllables' posting lists hold most of the archive, and scoring
all of them costs most of the query. Every term's contribution to a score is at most its
upper bound (``PostingStore.upper_bound``). Terms are taken cheapest first (fewest
postings), each scored over its whole list and summed into partial scores; once the
bounds of the terms left add up to less than the k-th best partial score, no document
the terms so far have not reached can enter the top k (Turtle and Flood's MaxScore, term
at a time). The terms left are then only looked up for the documents that can still
reach the top k, and that set shrinks as their bound does.

The result is the set of documents that can be among the top k; ``Engine`` scores them
exactly (``PostingStore.score_docs``: the same values as scoring everything) and orders
them, so the page is the one exhaustive scoring gives (tests/test_topk.py checks it on
the eval sets). Counts never come from here: they count the query's mask.
"""

from __future__ import annotations

import numpy as np

from search.scoring import GATHER_SHARE, PostingStore, Term

# Partial sums are float32 and added in another order than the final scores: a bound
# is compared with this much slack, so that rounding never drops a document.
SLACK = 1e-4
# Pruning costs about 20 ms of bounds, lookups and per-document arrays on the 85k
# index; scoring every list costs about 50 ns a posting. Below this many postings in
# all (most headlines at 85k: 0.46M on average) scoring everything is as fast.
PRUNE_ABOVE = 1_000_000
SCORE_FOR_BOUND = 4096  # lists shorter than this are scored for their exact bound
POOL = 1 << 13  # documents at most among which the k-th best partial score is taken


def candidates(
    postings: PostingStore, terms: list[Term], allowed: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(sorted document numbers among ``allowed``, a mask, that can be among the ``k``
    best by the summed score of ``terms``; their scores), or None when pruning would
    not pay (every list had to be read whole: score every document instead).

    The scores are those that scoring every document gives, bit for bit: each term's
    values are the same float32 numbers (``term_scores``, ``term_scores_at``) and they
    are summed in the order of ``terms``.
    """
    if k <= 0 or len(terms) < 2 or any(t.weight <= 0 for t in terms):
        return None  # (a negative weight would make partial sums no floor)
    # every weight is positive, so is every value: a document was reached by the
    # terms so far exactly when its partial score is above 0
    costs = [postings.cost(t) for t in terms]
    if sum(costs) < PRUNE_ABOVE:
        return None
    order = sorted(range(len(terms)), key=costs.__getitem__)
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # term → (documents, values)
    bounds = np.zeros(len(order), dtype=np.float64)
    for step, i in enumerate(order):
        if costs[i] < SCORE_FOR_BOUND:  # short: scoring it costs less than its bound
            found[i] = postings.term_scores(terms[i])
            bounds[step] = float(found[i][1].max()) if found[i][1].size else 0.0
        else:
            bounds[step] = postings.score_bound(terms[i])
    left = np.concatenate([np.cumsum(bounds[::-1])[::-1][1:], [0.0]])  # bound of the rest
    reached = np.cumsum(bounds) * (1 + SLACK)  # no partial score exceeds this
    partial = np.zeros(postings.size, dtype=np.float32)
    pool = np.zeros(0, dtype=np.int64)  # documents the k-th best is looked for among
    pooled = ~allowed  # documents never to add to the pool
    floor = 0.0  # at most the k-th best final score
    for step, i in enumerate(order):
        if step + 1 == len(order):
            return None  # every list read whole: nothing was pruned
        if i not in found:
            found[i] = postings.term_scores(terms[i])
        ids, values = found[i]
        partial[ids] += values
        if pool.size < POOL:  # (a subset of the documents reached: still a floor)
            new = ids[~pooled[ids]]
            pooled[new] = True
            pool = np.concatenate([pool, new])
        rest = left[step]
        # the k-th best partial score of any documents is a floor under the k-th best
        # final score; the documents not reached yet can score at most ``rest``
        if rest < reached[step]:
            floor = max(floor, _kth(partial[pool], k))
            if rest < floor * (1 - SLACK):
                break
    docs = np.flatnonzero((partial > 0) & allowed)
    scores = partial[docs].astype(np.float64)
    for j in range(step + 1, len(order)):
        if docs.size > k:
            # the floor known so far first thins the documents, then their k-th best
            # partial score (a higher floor) thins them again
            for _ in range(2):
                keep = scores + rest * (1 + SLACK) >= floor * (1 - SLACK)
                docs, scores = docs[keep], scores[keep]
                floor = max(floor, _kth(scores, k))
        present, values = postings.term_scores_at(terms[order[j]], docs)
        found[order[j]] = (docs[present], values)
        scores[present] += values
        rest = left[j]
    return docs, _exact(postings.size, docs, [found[i] for i in range(len(terms))])


def _exact(size: int, docs: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]]):
    """The float32 sum, in the order of ``parts``, of each term's values for ``docs``
    (every part, sorted, holds at least the documents of ``docs`` that have the term):
    a long part is searched for the few documents, a short one is read whole."""
    where = None
    scores = np.zeros(docs.size, dtype=np.float32)
    for ids, values in parts:
        if not ids.size:
            continue
        if ids.size > docs.size * GATHER_SHARE:
            at = np.searchsorted(ids, docs)
            np.minimum(at, ids.size - 1, out=at)
            held = ids[at] == docs
            scores[held] += values[at[held]]
            continue
        if where is None:
            where = np.full(size, -1, dtype=np.int32)
            where[docs] = np.arange(docs.size)
        at = where[ids]
        held = at >= 0
        scores[at[held]] += values[held]
    return scores


def _kth(values: np.ndarray, k: int) -> float:
    """The k-th largest of ``values`` (0 with fewer than k)."""
    if values.size < k:
        return 0.0
    return float(np.partition(values, values.size - k)[values.size - k])
