"""Did you mean: how often the suggestion is exactly what the visitor meant, beside peers.

    .venv/bin/python -m bench.didyoumean --index /work/bench85k/final
    .venv/bin/python -m bench.didyoumean --index index_demo --known-only
    .venv/bin/python -m bench.didyoumean --regenerate    # rewrite the query set

The query set (``bench/data/didyoumean.jsonl``) holds what visitors of a Vietnamese news
archive type, each with the query they meant: the intended queries are written by hand
(``didyoumean_intended.txt``: topics, places, officials' titles) and each is mistyped in
fixed ways, seeded by the query so the set never changes unless regenerated:

* ``accents``: typed without diacritics (``hoc sinh gioi``);
* ``typo``: without diacritics and one slip in a syllable of three letters or more: a
  letter dropped, doubled, inserted or replaced by a neighbouring key, or two swapped
  (``bong daa``);
* ``typo_accented``: the same slip with the diacritics typed (``giá vàg``);
* ``telex``: typed in Telex without the input method (``gias vangf``), every fourth query;
* ``correct``: the intended query itself; a suggestion for it is a false correction.

Plus the examples of issue 16, written by hand (``hand``). Each query goes to *tune* or
*report* by a fixed hash of its intended query (``bench.data.hash_split``); the
constants of ``search/spelling.py`` were tuned on tune only. Printed per half: the share
of mistyped queries whose suggestion is exactly the intended query (compared in lower
case), per kind, and the share of correct queries left alone, for our corrector, for the
previous one (``search/spelling.py`` at ``PREVIOUS``, read from git) and for ours without
the pair statistics (unigrams and pyvi words only). ``--known-only`` keeps the queries
whose intended syllables all occur in the index (a small demo index lacks most).

With ``../shared`` present it also prints how well each corrector puts the accents back
on the eval sets' unaccented queries (``RESTORE_SETS``: long questions and summary
sentences, what ``search.query`` boosts for a query typed without accents): the share of
syllables, and of whole queries, equal to the accented original, per half.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.data import has_shared, hash_split, load_eval, split_of
from indexer.analysis import SYLLABLE_PATTERN, fold_diacritics, normalize_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
QUERIES = DATA / "didyoumean.jsonl"
INTENDED = DATA / "didyoumean_intended.txt"
PREVIOUS = "ba022d0"  # main before the noisy-channel corrector
KINDS = ("accents", "typo", "typo_accented", "telex", "hand")
ACCENTS_ONLY = "vnsearch, accents only (search's boosts)"  # restoration table only
RESTORE_SETS = ("vims_dev_summary_queries", "viquad_dev_queries")
HAND = [  # issue 16's examples
    ("hoc sinh gioii", "học sinh giỏi"),
    ("bong daa", "bóng đá"),
    ("giá vàg", "giá vàng"),
]
NEIGHBOURS = {
    row[i]: row[max(0, i - 1) : i] + row[i + 1 : i + 2]
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i in range(len(row))
}
TELEX_LETTERS = {"đ": "dd", "â": "aa", "ê": "ee", "ô": "oo", "ă": "aw", "ơ": "ow", "ư": "uw"}
TELEX_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}


# --------------------------------------------------------------------------- the set
def slip(syllable: str, rng: random.Random) -> str:
    """One typing slip in ``syllable`` (dropped, doubled, inserted, replaced, swapped)."""
    for _ in range(20):
        i = rng.randrange(len(syllable))
        ch = syllable[i]
        kind = rng.choice(("drop", "double", "insert", "replace", "swap"))
        near = NEIGHBOURS.get(fold_diacritics(ch), "")
        if kind == "drop":
            out = syllable[:i] + syllable[i + 1 :]
        elif kind == "double":
            out = syllable[: i + 1] + ch + syllable[i + 1 :]
        elif kind == "insert" and near:
            out = syllable[: i + 1] + rng.choice(near) + syllable[i + 1 :]
        elif kind == "replace" and near:
            out = syllable[:i] + rng.choice(near) + syllable[i + 1 :]
        elif kind == "swap" and i + 1 < len(syllable) and syllable[i + 1] != ch:
            out = syllable[:i] + syllable[i + 1] + ch + syllable[i + 2 :]
        else:
            continue
        if out and out != syllable:
            return out
    return syllable[:-1]


def with_slip(text: str, rng: random.Random) -> str | None:
    """``text`` with one slip in one syllable of three letters or more (None if none)."""
    spans = [m.span() for m in SYLLABLE_PATTERN.finditer(text) if m.end() - m.start() >= 3]
    if not spans:
        return None
    a, b = rng.choice(spans)
    return text[:a] + slip(text[a:b], rng) + text[b:]


def to_telex(text: str) -> str:
    """``giá vàng`` → ``gias vangf``: what Telex keys give without the input method."""

    def syllable(word: str) -> str:
        tone = ""
        out = []
        for ch in unicodedata.normalize("NFD", word):
            if ch in TELEX_TONES:
                tone = TELEX_TONES[ch]
            elif unicodedata.combining(ch):
                base = unicodedata.normalize("NFC", out.pop() + ch)
                out.append(base)
            else:
                out.append(ch)
        spelled = "".join(
            TELEX_LETTERS.get(c, c) for c in unicodedata.normalize("NFC", "".join(out))
        )
        return spelled + tone

    return SYLLABLE_PATTERN.sub(lambda m: syllable(m.group()), text)


def generate(intended: list[str]) -> list[dict]:
    """The mistyped variants of each intended query (fixed: seeded by the query)."""
    rows = [{"query": q, "intended": i, "kind": "hand"} for q, i in HAND]
    for n, meant in enumerate(intended):
        rng = random.Random(f"didyoumean/{meant}")
        folded = fold_diacritics(meant)
        variants = [("accents", folded), ("correct", meant)]
        typo = with_slip(folded, rng)
        if typo:
            variants.append(("typo", typo))
        typo = with_slip(meant, rng)
        if typo and typo != meant:
            variants.append(("typo_accented", typo))
        if n % 4 == 0 and to_telex(meant) != meant:
            variants.append(("telex", to_telex(meant)))
        seen = set()
        for kind, query in variants:
            if query in seen or (kind != "correct" and query == meant):
                continue
            seen.add(query)
            rows.append({"query": query, "intended": meant, "kind": kind})
    return rows


def read_intended() -> list[str]:
    lines = INTENDED.read_text(encoding="utf-8").splitlines()
    return [normalize_text(x.strip()) for x in lines if x.strip() and not x.startswith("#")]


def load_queries() -> list[dict]:
    with QUERIES.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        r["split"] = hash_split(r["intended"])
    return rows


# --------------------------------------------------------------------------- correctors
def previous_corrector(snapshot) -> Callable[[str], str | None] | None:
    """``suggest_correction`` of ``search/spelling.py`` at ``PREVIOUS`` (None without git)."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{PREVIOUS}:search/spelling.py"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="previous_spelling_"))
    path = folder / "previous_spelling.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("previous_spelling", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    shutil.rmtree(folder, ignore_errors=True)
    spelling = module.build_spelling(snapshot)
    return lambda q: module.suggest_correction(spelling, q)


def correctors(snapshot) -> dict[str, tuple[Callable[[str], str | None], float]]:
    """name → (corrector, seconds to build it)."""
    from search.spelling import build_spelling, empty_pairs, restore_accents, suggest_correction

    out = {}
    start = time.perf_counter()
    ours = build_spelling(snapshot)
    out["vnsearch"] = (lambda q: suggest_correction(ours, q), time.perf_counter() - start)
    start = time.perf_counter()
    previous = previous_corrector(snapshot)
    if previous is not None:
        out[f"previous ({PREVIOUS})"] = (previous, time.perf_counter() - start)
    unigram = replace(ours, pairs=empty_pairs(), cache=OrderedDict(), readings={})
    out["vnsearch, no pairs"] = (lambda q: suggest_correction(unigram, q), 0.0)
    out[ACCENTS_ONLY] = (lambda q: restore_accents(ours, q), 0.0)
    return out


def known(intended: str, form_freq: dict[str, int]) -> bool:
    return all(s.lower() in form_freq for s in SYLLABLE_PATTERN.findall(intended))


# --------------------------------------------------------------------------- scoring
def score(rows: list[dict], correct: Callable[[str], str | None]) -> dict:
    """Per split and kind: [right, asked]; ``correct`` kind: [left alone, asked]."""
    table: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        answer = correct(r["query"])
        cell = table.setdefault((r["split"], r["kind"]), [0, 0])
        cell[1] += 1
        if r["kind"] == "correct":
            cell[0] += answer is None or answer.lower() == r["query"].lower()
        else:
            got = (answer or r["query"]).lower()
            cell[0] += normalize_text(got) == r["intended"].lower()
        r.setdefault("answers", {})[id(correct)] = answer
    return table


def share(table: dict, split: str, kinds: tuple[str, ...]) -> str:
    right = sum(table.get((split, k), [0, 0])[0] for k in kinds)
    asked = sum(table.get((split, k), [0, 0])[1] for k in kinds)
    return f"{right / asked:.3f} ({right}/{asked})" if asked else "-"


def restoration(correct: Callable[[str], str | None], name: str) -> dict[str, list[int]]:
    """Per half: [syllables right, syllables, queries right, queries] when ``correct``
    restores the unaccented twins of eval set ``name``."""
    accented = {q["qid"]: q["query"] for q in load_eval(name)}
    out = {split: [0, 0, 0, 0] for split in ("tune", "report")}
    for q in load_eval(f"{name}_unaccented"):
        meant = accented.get(q["qid"].removesuffix(":noaccent"))
        if meant is None:
            continue
        got = SYLLABLE_PATTERN.findall(normalize_text(correct(q["query"]) or q["query"]).lower())
        want = SYLLABLE_PATTERN.findall(normalize_text(meant).lower())
        cell = out[split_of(q)]
        right = sum(a == b for a, b in zip(got, want, strict=False)) if len(got) == len(want) else 0
        cell[0] += right
        cell[1] += len(want)
        cell[2] += right == len(want)
        cell[3] += 1
    return out


def print_restoration(built: dict) -> None:
    print()
    print("accents restored on unaccented eval queries: syllables right | queries all right")
    print("corrector | set | report syllables | report queries | tune syllables | tune queries")
    print("--- | --- | --- | --- | --- | ---")
    for name, (correct, _) in built.items():
        for eval_set in RESTORE_SETS:
            cells = restoration(correct, eval_set)
            shown = []
            for split in ("report", "tune"):
                a, b, c, d = cells[split]
                shown += [f"{a / max(1, b):.3f} ({b})", f"{c / max(1, d):.3f} ({d})"]
            print(" | ".join([name, eval_set, *shown]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, help="an index directory")
    p.add_argument("--known-only", action="store_true", help="intended syllables all indexed")
    p.add_argument("--regenerate", action="store_true", help="rewrite bench/data/didyoumean.jsonl")
    p.add_argument(
        "--no-restoration", action="store_true", help="skip the unaccented eval sets' table"
    )
    p.add_argument("--show", type=int, default=0, help="print N misses of ours (tune half)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.regenerate:
        rows = generate(read_intended())
        with QUERIES.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} queries to {QUERIES}")
        return 0
    if args.index is None:
        print("--index is required (or --regenerate)", file=sys.stderr)
        return 2
    from search.engine import Engine

    engine = Engine(args.index, warm_postings=0)
    snapshot = engine.snapshot()
    rows = load_queries()
    built = correctors(snapshot)
    if args.known_only:
        forms = snapshot.spelling().form_freq
        rows = [r for r in rows if known(r["intended"], forms)]
    mistyped = tuple(k for k in KINDS)
    print(f"index {args.index}: {snapshot.searcher.doc_count()} documents; {len(rows)} queries")
    for split in ("tune", "report"):
        n = sum(r["split"] == split for r in rows)
        print(
            f"  {split}: {n} ({sum(r['split'] == split and r['kind'] == 'correct' for r in rows)} correct)"
        )
    print()
    header = ["corrector", "split", "exact (mistyped)", *KINDS, "left alone (correct)", "ms/q"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for name, (correct, build_s) in built.items():
        if name == ACCENTS_ONLY:
            continue
        start = time.perf_counter()
        table = score(rows, correct)
        ms = 1000 * (time.perf_counter() - start) / max(1, len(rows))
        for split in ("report", "tune"):
            cells = [share(table, split, mistyped)]
            cells += [share(table, split, (k,)) for k in KINDS]
            cells.append(share(table, split, ("correct",)))
            print(" | ".join([name, split, *cells, f"{ms:.2f}"]))
        print(f"  ({name}: built in {build_s:.2f} s)", file=sys.stderr)
        if args.show and name == "vnsearch":
            misses = [
                r
                for r in rows
                if r["split"] == "tune"
                and (r["answers"][id(correct)] or r["query"]).lower() != r["intended"].lower()
            ]
            for r in misses[: args.show]:
                print(
                    f"    {r['kind']}: {r['query']!r} → {r['answers'][id(correct)]!r} "
                    f"(meant {r['intended']!r})",
                    file=sys.stderr,
                )
    if has_shared() and not args.no_restoration:
        print_restoration(built)
    return 0


if __name__ == "__main__":
    sys.exit(main())
