"""Train the officials linker (``indexer/official_linker.py``) on the tune split only.

Reads the labelled fixtures (``bench.officials``), keeps the *tune* articles (the report
split is never loaded: rule 5), runs the rules on each and collects the person-shaped
candidates with their features (``official_linker.candidates``). A candidate is positive
when its name is one of the article's labelled officials.

The model's settings (regularisation ``C``, whether the names the rules took are
training rows too, the threshold) are chosen by 5-fold cross-validation over the tune
articles, repeated five times (folds by salted hashes of the id), counts pooled: for each
held-out fold, the rules' officials plus
the candidates they did not take that score at or above the threshold are compared with
the labels, pooled over the folds. The threshold kept is the one with the best pooled
recall whose pooled precision stays within ``--max-precision-loss`` of the rules' own;
then the model is fitted on the whole tune split and written with its CV numbers.

    python -m bench.train_official_linker [--out indexer/data/official_linker.json] [--check]

Deterministic: fixed folds, lbfgs (no random state involved), weights rounded to 6 places.
``--check`` writes nothing and exits 1 when the committed model differs from a fresh fit.
Needs scikit-learn (``pip install -e '.[train]'``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.data import shared_dir
from bench.officials import Scores, load_all, load_articles
from indexer import official_linker
from indexer.officials import extract_officials, normalize_name_key

FOLDS = 5
REPEATS = 5  # the 5-fold split drawn five times (other hash salts), counts pooled
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.96, 0.05))
DECIMALS = 6
MAX_PRECISION_LOSS = 0.01


@dataclass
class Row:
    """One tune article: its labels, the rules' names and the linker's candidates."""

    id: str
    folds: tuple[int, ...]  # the article's fold in each repeat
    gold: set[str]
    found: set[str]
    candidates: list[official_linker.Candidate]


def fold_of(doc_id: str, repeat: int = 0) -> int:
    """The CV fold of an article in one repeat, fixed by a hash of its id."""
    salt = f"officials-linker:{repeat}:" if repeat else "officials-linker:"
    return int(hashlib.sha256((salt + doc_id).encode()).hexdigest()[:8], 16) % FOLDS


def collect(corpus: Path | None = None) -> list[Row]:
    """The tune articles with the rules' output and the candidates (report never loaded)."""
    labelled = [a for a in load_all() if a.split == "tune"]
    texts = load_articles({a.id for a in labelled}, corpus)
    rows = []
    for article in labelled:
        if article.id not in texts:
            continue
        title, body = texts[article.id]
        seen: list[list[official_linker.Candidate]] = []

        def keep(ctx, seen=seen):
            seen.append(official_linker.candidates(ctx, taken_too=True))
            return []

        found = extract_officials(title, body, linker=keep)
        rows.append(
            Row(
                article.id,
                tuple(fold_of(article.id, r) for r in range(REPEATS)),
                {normalize_name_key(g.name) for g in article.officials},
                {normalize_name_key(o.name) for o in found},
                seen[0] if seen else [],
            )
        )
    return rows


def matrix(rows: list[Row], with_taken: bool) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the candidates of ``rows`` (the rules' names too if asked)."""
    xs, ys = [], []
    for row in rows:
        for c in row.candidates:
            if with_taken or not c.taken:
                xs.append(c.features)
                ys.append(c.key in row.gold)
    return np.array(xs, dtype=float).reshape(-1, len(official_linker.FEATURES)), np.array(ys)


def fit(x: np.ndarray, y: np.ndarray, c: float) -> official_linker.Model:
    """A standardised L2 logistic regression (scikit-learn's lbfgs), as a linker model."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit((x - mean) / scale, y)
    return official_linker.Model(
        np.round(mean, DECIMALS),
        np.round(scale, DECIMALS),
        np.round(lr.coef_[0], DECIMALS),
        round(float(lr.intercept_[0]), DECIMALS),
        0.5,
    )


@dataclass
class Counts(Scores):
    """Name-level counts (precision and recall as ``bench.officials`` defines them), with the
    names the linker added on top of the rules."""

    added: int = 0


def evaluate(rows: list[Row], scores: dict[str, np.ndarray], threshold: float | None) -> Counts:
    """Rules plus the untaken candidates scoring >= ``threshold`` (None: rules alone)."""
    out = Counts()
    for row in rows:
        pred = set(row.found)
        if threshold is not None:
            fresh = [c for c in row.candidates if not c.taken]
            for c, p in zip(fresh, scores.get(row.id, ()), strict=True):
                if p >= threshold and c.key not in pred:
                    pred.add(c.key)
                    out.added += 1
        out.tp += len(pred & row.gold)
        out.fp += len(pred - row.gold)
        out.fn += len(row.gold - pred)
    return out


def cross_validate(
    rows: list[Row], c: float, with_taken: bool, repeat: int = 0
) -> dict[str, np.ndarray]:
    """Held-out scores of each article's untaken candidates, model fitted on the other folds."""
    scores: dict[str, np.ndarray] = {}
    for k in range(FOLDS):
        train = [r for r in rows if r.folds[repeat] != k]
        model = fit(*matrix(train, with_taken), c)
        for row in rows:
            if row.folds[repeat] != k:
                continue
            fresh = [cand.features for cand in row.candidates if not cand.taken]
            scores[row.id] = model.scores(np.array(fresh)) if fresh else np.zeros(0)
    return scores


def choose(rows: list[Row], max_loss: float, log=print) -> tuple[float, bool, float, dict]:
    """(C, with_taken, threshold, CV numbers) with the best pooled held-out recall whose
    precision stays within ``max_loss`` of the rules' (ties: higher precision, then the
    smaller C, then the higher threshold)."""
    base = evaluate(rows, {}, None)
    log(f"rules alone on tune: P {base.precision:.3f} R {base.recall:.3f} ({base.tp} found)")
    best = None
    for with_taken in (False, True):
        for c in C_GRID:
            runs = [cross_validate(rows, c, with_taken, r) for r in range(REPEATS)]
            for t in THRESHOLDS:
                got = Counts()
                for scores in runs:  # pooled over the repeats
                    one = evaluate(rows, scores, t)
                    got.tp, got.fp, got.fn = got.tp + one.tp, got.fp + one.fp, got.fn + one.fn
                    got.added += one.added
                ok = got.precision >= base.precision - max_loss
                log(
                    f"  C {c:<5} taken rows {with_taken!s:5} threshold {t:.2f}: "
                    f"P {got.precision:.3f} R {got.recall:.3f} (+{got.added}, tp {got.tp})"
                    + ("" if ok else "  [precision]")
                )
                key = (ok, got.recall, got.precision, -c, t)
                if best is None or key > best[0]:
                    best = (key, c, with_taken, t, got)
    _, c, with_taken, t, got = best
    cv = {
        "folds": FOLDS,
        "repeats": REPEATS,
        "rules_precision": round(base.precision, 4),
        "rules_recall": round(base.recall, 4),
        "precision": round(got.precision, 4),
        "recall": round(got.recall, 4),
        "added_per_repeat": round(got.added / REPEATS, 1),
        "right_per_repeat": round((got.tp / REPEATS) - base.tp, 1),
    }
    return c, with_taken, t, cv


def train(rows: list[Row], max_loss: float, log=print) -> dict:
    """The model file's content: chosen by CV on ``rows``, then fitted on all of them."""
    c, with_taken, threshold, cv = choose(rows, max_loss, log)
    x, y = matrix(rows, with_taken)
    model = fit(x, y, c)
    return {
        "features": list(official_linker.FEATURES),
        "mean": model.mean.tolist(),
        "scale": model.scale.tolist(),
        "weights": model.weights.tolist(),
        "bias": model.bias,
        "threshold": float(threshold),
        "C": c,
        "trained_on_taken_names": with_taken,
        "tune_articles": len(rows),
        "training_rows": len(y),
        "training_positives": int(y.sum()),
        "cv": cv,
    }


def render(content: dict) -> str:
    """The model file's text."""
    return json.dumps(content, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=official_linker.MODEL_PATH)
    parser.add_argument(
        "--max-precision-loss",
        type=float,
        default=MAX_PRECISION_LOSS,
        help="how far below the rules' CV precision the chosen threshold may go",
    )
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not (shared_dir() / "corpus").is_dir():
        print(f"skipped: shared corpus not found at {shared_dir() / 'corpus'}")
        return 0
    rows = collect()
    log = (lambda *a: None) if args.quiet else print
    content = train(rows, args.max_precision_loss, log)
    text = render(content)
    cv = content["cv"]
    print(
        f"tune {content['tune_articles']} articles, {content['training_rows']} rows "
        f"({content['training_positives']} officials); C {content['C']}, threshold "
        f"{content['threshold']}; CV rules P {cv['rules_precision']} R {cv['rules_recall']}"
        f" -> with linker P {cv['precision']} R {cv['recall']} (+{cv['added_per_repeat']} names,"
        f" {cv['right_per_repeat']} right)"
    )
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print("committed model matches" if same else f"{args.out} differs from a fresh fit")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
