"""Do the counts hold exactly the articles a query describes? Engine vs brute force vs FTS5.

    python -m bench.matchset --index bench/out/index85k          # the 85k benchmark
    python -m bench.matchset --index /tmp/demo --corpus demo/articles.jsonl --no-fts

For each search-box query (accented, unaccented and mixed; single syllables whose folded
forms collide; names; two- and three-word topics) this compares, against a ground truth
computed by brute force over the raw corpus files:

* the engine's ``total`` and the id set of its ``/export`` (the same request);
* SQLite FTS5 (``unicode61 remove_diacritics 2``, an AND of the query's words), the
  usual way to get accent-insensitive full-text search without writing an analyser.

It prints mean precision, mean recall and the share of queries whose set is exactly
right for both, and the facet/filter disagreements of the engine: for every category and
(top five) official facet value of every query, filtering on that value must give
``total`` equal to the facet's count.

The ground truth is written here, independently of ``indexer.analysis`` (docs/
query-syntax.md, rules 1, 2 and 5): text is NFKC-normalised, the look-alikes of Đ/đ
are Đ/đ, syllables are runs of letters and digits (Han characters one each), and two
syllables are the same when they have the same letters, the same vowel marks and the
same tone mark wherever it is placed (``hoà`` = ``hòa``), ignoring case. A syllable typed
with a diacritic must occur as such in the title or body; one typed without must occur in
some accented form. When nothing holds the exact reading, the folded one applies.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sqlite3
import sys
import time
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
QUERIES = [
    # single syllables whose folded forms collide
    "bão", "báo", "bảo", "bao", "bạo", "đường", "dương", "duong", "chợ", "chó", "cho",
    "thuế", "thuê", "thue", "sữa", "sửa", "sua", "lũ", "lú", "lu", "mưa", "múa", "mua",
    # names (accented and not)
    "Nguyễn Tấn Dũng", "nguyen tan dung", "Hồ Chí Minh", "ho chi minh", "Phan Văn Khải",
    "Đà Nẵng", "da nang", "Hà Nội", "ha noi", "Nông Đức Mạnh", "Lê Công Vinh",
    "le cong vinh", "Bill Gates", "Thành phố Hồ Chí Minh", "Trương Tấn Sang", "Huế",
    # two- and three-word topics
    "giá vàng", "gia vang", "bóng đá", "bong da", "thị trường chứng khoán", "học sinh",
    "tai nạn giao thông", "cúm gia cầm", "cum gia cam", "giá xăng", "xuất khẩu gạo",
    "ô nhiễm môi trường", "thuế thu nhập", "sữa bột", "sửa chữa", "dự báo thời tiết",
    "bảo hiểm y tế", "bạo lực học đường", "đường sắt", "tham nhũng", "tham nhung",
    "điện thoại di động", "H5N1", "đại dương", "ngân hàng nhà nước",
    # mixed: some syllables with diacritics, some without
    "giá vang", "bong đá", "ha nội", "thuế thu nhap", "dự bao thời tiết", "chợ ben thanh",
    "tai nạn giao thong", "học sinh gioi",
]  # fmt: skip
CORPUS = [f"/work/shared/corpus/{n}.jsonl.gz" for n in ("vntc", "dantri", "vims")]
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "Ɖ": "Đ", "ɖ": "đ"})
HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{HAN}]|[^\W_{HAN}]+")


# --------------------------------------------------------------------------- ground truth
def tokens(text: str) -> list[str]:
    """Lowercased syllables of ``text`` (rule 5's characters, NFKC)."""
    text = unicodedata.normalize("NFKC", text or "").translate(LOOKALIKES)
    return TOKEN.findall(text.lower())


def exact_key(syllable: str) -> str:
    """Letters with their vowel marks, then the tone mark: placement-independent."""
    nfd = unicodedata.normalize("NFD", syllable)
    tone = "".join(c for c in nfd if c in TONES)
    rest = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in TONES))
    return f"{rest}|{tone}"


def folded_key(syllable: str) -> str:
    nfd = unicodedata.normalize("NFD", syllable.replace("đ", "d"))
    return "".join(c for c in nfd if not unicodedata.combining(c))


def accented(syllable: str) -> bool:
    return folded_key(syllable) != syllable


def wanted_keys(syllables: list[str], fold_all: bool = False) -> list[str]:
    return [
        "f:" + folded_key(s) if fold_all or not accented(s) else "e:" + exact_key(s)
        for s in syllables
    ]


def iter_raw(paths: list[str]):
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    yield json.loads(line)


def ground_truth(paths: list[str], queries: list[str]) -> dict[str, set[str]]:
    """Query → ids of the raw articles holding every syllable by the rules above."""
    needed: set[str] = set()
    parsed = {}
    for q in queries:
        syls = list(dict.fromkeys(tokens(q)))
        parsed[q] = (wanted_keys(syls), wanted_keys(syls, fold_all=True))
        needed.update(parsed[q][0] + parsed[q][1])
    holders: dict[str, set[str]] = {k: set() for k in needed}
    memo: dict[str, tuple[str, str]] = {}
    for article in iter_raw(paths):
        text = f"{article.get('title') or ''}\n{article.get('body') or ''}"
        for syl in set(tokens(text)):
            keys = memo.get(syl)
            if keys is None:
                keys = memo[syl] = ("e:" + exact_key(syl), "f:" + folded_key(syl))
            for key in keys:
                if key in needed:
                    holders[key].add(str(article["id"]))
    truth = {}
    for q, (exact, folded) in parsed.items():
        found = set.intersection(*(holders[k] for k in exact)) if exact else set()
        if not found and exact != folded:
            found = set.intersection(*(holders[k] for k in folded))
        truth[q] = found
    return truth


# --------------------------------------------------------------------------- systems
def engine_sets(index: Path, queries: list[str]) -> tuple[dict, dict, dict, int]:
    """(query → export id set, query → total, query → facet disagreements, searches)."""
    from search.engine import Engine, SearchRequest
    from search.export import export_stream

    engine = Engine(index)
    exported, totals, disagreements, searches = {}, {}, {}, 0
    for q in queries:
        request = SearchRequest(q=q)
        answer = engine.search(request)
        totals[q] = answer["total"]
        _, chunks = export_stream(engine, request, "jsonl")
        exported[q] = {json.loads(line)["id"] for c in chunks for line in c.splitlines()}
        bad = []
        for facet in answer["facets"]["category"]:
            narrowed = engine.search(SearchRequest(q=q, categories=(facet["value"],)))
            searches += 1
            if narrowed["total"] != facet["count"]:
                bad.append(("category", facet["value"], facet["count"], narrowed["total"]))
        for facet in answer["facets"]["official"][:5]:
            narrowed = engine.search(SearchRequest(q=q, officials=(facet["value"],)))
            searches += 1
            if narrowed["total"] != facet["count"]:
                bad.append(("official", facet["value"], facet["count"], narrowed["total"]))
        disagreements[q] = bad
    engine.close()
    return exported, totals, disagreements, searches


def fts5_sets(db: Path, queries: list[str]) -> dict[str, set[str]]:
    """FTS5 ``unicode61 remove_diacritics 2``: the AND of the query's words."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for q in queries:
        words = re.findall(r"\w+", q)
        expr = " AND ".join(f'"{w}"' for w in words)
        out[q] = {r[0] for r in conn.execute("SELECT id FROM t WHERE t MATCH ?", (expr,))}
    conn.close()
    return out


def fts5_db(paths: list[str], db: Path) -> Path:
    """The FTS5 table of the corpus (built by ``bench.peers.Fts5Peer`` when missing)."""
    if not db.exists():
        from bench.peers import Fts5Peer

        db.parent.mkdir(parents=True, exist_ok=True)
        peer = Fts5Peer(db)
        peer.build(iter_raw(paths))
        peer.close()
    return db


# --------------------------------------------------------------------------- report
def scores(found: dict[str, set[str]], truth: dict[str, set[str]]) -> dict:
    precision, recall, exact = [], [], 0
    for q, expected in truth.items():
        got = found[q]
        hit = len(got & expected)
        precision.append(hit / len(got) if got else float(not expected))
        recall.append(hit / len(expected) if expected else float(not got))
        exact += got == expected
    n = len(truth)
    return {
        "precision": sum(precision) / n,
        "recall": sum(recall) / n,
        "exact_share": exact / n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=OUT / "index85k")
    parser.add_argument("--corpus", nargs="+", default=CORPUS)
    parser.add_argument("--fts", type=Path, default=OUT / "fts5_matchset.sqlite")
    parser.add_argument("--no-fts", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the per-query results here")
    parser.add_argument("--show", type=int, default=10, help="list this many wrong queries")
    parser.add_argument(
        "--truth-cache", type=Path, help="keep the ground truth here (reused when it matches)"
    )
    args = parser.parse_args(argv)
    missing = [p for p in args.corpus if not Path(p).exists()]
    if missing:
        print(f"corpus not found: {missing[0]}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    truth = None
    stamp = {"queries": QUERIES, "corpus": [str(p) for p in args.corpus]}
    if args.truth_cache and args.truth_cache.exists():
        cached = json.loads(args.truth_cache.read_text(encoding="utf-8"))
        if cached.get("stamp") == stamp:
            truth = {q: set(ids) for q, ids in cached["truth"].items()}
    if truth is None:
        truth = ground_truth(args.corpus, QUERIES)
        if args.truth_cache:
            args.truth_cache.write_text(
                json.dumps({"stamp": stamp, "truth": {q: sorted(v) for q, v in truth.items()}}),
                encoding="utf-8",
            )
    print(f"ground truth: {len(QUERIES)} queries in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    exported, totals, disagreements, searches = engine_sets(args.index, QUERIES)
    print(f"vnsearch: {len(QUERIES)} queries + {searches} facet filters in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    rows = [("vnsearch (/export ids)", scores(exported, truth))]
    fts = None
    if not args.no_fts:
        fts = fts5_sets(fts5_db(args.corpus, args.fts), QUERIES)
        rows.append(("sqlite-fts5 (AND, remove_diacritics 2)", scores(fts, truth)))
    total_mismatch = [q for q in QUERIES if totals[q] != len(exported[q])]
    bad_facets = sum(len(v) for v in disagreements.values())
    print(f"\n{'system':42} {'precision':>9} {'recall':>7} {'exact sets':>10}")
    for name, s in rows:
        print(f"{name:42} {s['precision']:9.4f} {s['recall']:7.4f} {s['exact_share']:10.3f}")
    print(f"\nqueries: {len(QUERIES)}; total ≠ export rows: {len(total_mismatch)}; "
          f"facet/filter disagreements: {bad_facets} of {searches} facet values")  # fmt: skip
    wrong = [q for q in QUERIES if exported[q] != truth[q]]
    for q in wrong[: args.show]:
        extra, lost = exported[q] - truth[q], truth[q] - exported[q]
        print(f"  {q!r}: engine {len(exported[q])}, truth {len(truth[q])}, "
              f"extra {sorted(extra)[:3]}, missing {sorted(lost)[:3]}")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    q: {
                        "truth": len(truth[q]),
                        "engine": len(exported[q]),
                        "total": totals[q],
                        "fts5": len(fts[q]) if fts else None,
                        "facet_disagreements": disagreements[q],
                    }
                    for q in QUERIES
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
