"""Codes found through the index (``*_joins``: ``indexer.folding.join_terms``) agree with
the stored text (``search.matching.SequencePattern``), and an index without those
fields answers the same by reading the text."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.folding import join_terms, prepared_text
from search.matching import Sequence, code_join_terms, pattern_for
from search.query import word_units

# letters with and without diacritics in both cases, look-alikes, a combining mark, a
# dotted capital I (lowercased to two characters), Han, digits, the separators a code
# may use and some it may not
ALPHABET = "aAáÁđĐeễoOơ1 9İ\u0301\u0430中-‐–—/.,%_:;"
TRICKY = [
    "Dịch COVID-19 lan rộng; covid–19, Covid/19 và COVID 19.",
    "cúm A/H5N1, a/h5n1x, xa/h5n1, A-H5N1 và 28/5/2020, 2,4% và 2,45",
    "TP.HCM, tp. hcm, Q.10 và q.10a; x--y, x-/y, a‐‑b",
    "中文-19, covid-19中, 19-中, İstanbul-19, cо\u0301vid-19 (o có dấu tách rời)",
    "ha_noi-19, _covid-19, covid-19_",
]


def _codes_of(text: str) -> list[str]:
    """Code-shaped words of ``text`` and variants of them: every two neighbouring runs
    of its ``latin`` reading joined by a short gap, that gap swapped for other
    separators, the runs cut or grown."""
    latin = prepared_text(text)[2]
    runs = list(re.finditer(r"[^\W_]+", latin))
    out = []
    for a, b in itertools.pairwise(runs):
        gap = latin[a.end() : b.start()]
        if len(gap) > 3:
            continue
        for sep in {gap.strip() or "-", "-", "/", "–", ".", ",", "--", "‐‑"}:
            for left, right in (
                (a.group(), b.group()),
                (a.group()[1:], b.group()),
                (a.group(), b.group() + "x"),
            ):
                if left and right:
                    out.append(f"{left}{sep}{right}")
    return out


def _codes(word: str) -> list[Sequence]:
    return [u for u in word_units(word) if isinstance(u, Sequence) and u.is_code]


def _check(text: str, word: str) -> int:
    """Assert the index's terms tell what the stored text does; 1 when they decide it."""
    held = set(join_terms(text))
    decided_count = 0
    for seq in _codes(word):
        terms, decided = code_join_terms(seq)
        found = pattern_for(seq).found_in(text)
        if found:  # every term is one the text holds
            assert set(terms) <= held, (text, word, terms)
        if decided:
            assert found == (terms[0] in held), (text, word, terms)
            decided_count += 1
    return decided_count


# codes the joins narrow but cannot decide: a suffix, a syllable typed with diacritics,
# three syllables (their pairs may lie apart), two dashes read as one
UNDECIDED = [  # (text, code, whether the text holds it)
    ("tăng 2,4 lần", "2,4%", False),
    ("tăng 2,4% lần", "2,4%", True),
    ("ha-noi mà thôi", "hà-nội", False),
    ("Hà-Nội mà thôi", "hà-nội", True),
    ("số 100/2019 và 2019/nđ-cp", "100/2019/nđ-cp", False),
    ("số 100/2019/nd-cp", "100/2019/nđ-cp", False),
    ("số 100-2019/NĐ-CP", "100/2019/nđ-cp", True),
    ("covid-19", "covid‐‑19", True),
]


def test_a_code_the_joins_cannot_decide_is_read_from_the_text():
    for text, word, holds in UNDECIDED:
        seq = _codes(word)[0]
        terms, decided = code_join_terms(seq)
        assert not decided and set(terms) <= set(join_terms(text)), (text, word)
        assert pattern_for(seq).found_in(text) == holds, (text, word)


def test_a_decided_code_is_in_the_joins_exactly_when_the_text_holds_it(demo_dir):
    texts = list(TRICKY)
    with open(demo_dir / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            texts += [record.get("title") or "", record.get("body") or ""]
    decided = 0
    for text in texts:
        for word in _codes_of(text):
            decided += _check(text, word)
    assert decided > 200


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=ALPHABET, max_size=40),
    st.text(alphabet="aáđo19-/.,–%İ\u0430", min_size=3, max_size=8),
)
def test_codes_agree_on_any_text(text, word):
    _check(text, word)
    for code in _codes_of(text)[:6]:
        _check(text, code)


def test_join_terms_read_the_text_as_the_index_does():
    assert join_terms("Dịch COVID-19 tại TP.HCM: 2,4%") == ["covid-19", "tp.hcm", "2,4"]
    assert join_terms("covid–19 và A/H5N1") == ["covid-19", "a-h5n1"]
    assert join_terms("không có mã nào") == []
    assert join_terms("a - b, x--y") == ["x--y"]  # a gap with a space joins nothing


QUERIES = [
    "covid-19",
    "COVID-19",
    "dịch covid-19",
    "a/h5n1",
    "28/5",
    "2,4%",
    "tp.hcm",
    "q.10",
    "100/2019/nđ-cp",
    "covid/19",
    "x--y",
    "hà-nội",
]


def test_an_index_without_joins_answers_codes_alike(engine, monkeypatch):
    """The demo index has ``*_joins``; read as an index built before them (the stored
    text confirms every code), every code query matches the same documents."""
    from search import engine as engine_module
    from search.engine import SearchRequest

    snap = engine.snapshot()
    assert "body_joins" in snap.searcher.schema
    with_joins = {q: engine.match(snap, SearchRequest(q=q)).mask for q in QUERIES}
    monkeypatch.setattr(engine_module, "code_joins", lambda schema: False)
    snap.sequences.clear()
    for q in QUERIES:
        assert np.array_equal(engine.match(snap, SearchRequest(q=q)).mask, with_joins[q]), q
    assert sum(int(m.sum()) > 0 for m in with_joins.values()) >= 2


def test_an_older_index_gets_no_joins_fields(demo_dir, tmp_path):
    """A document for an index whose schema lacks ``*_joins`` (built before them) holds
    every other field, unchanged, and no joins."""
    from indexer.prepare import to_document
    from indexer.schema import build_schema
    from indexer.sources import read_articles
    from indexer.writer import _prepared_stream

    old = build_schema()
    old.remove("title_joins")
    old.remove("body_joins")
    articles = read_articles([str(demo_dir / "articles.jsonl")], lambda e: None)
    prepared = next(iter(_prepared_stream(articles, 1, tmp_path / "segcache.sqlite")))
    new, older = to_document(prepared), to_document(prepared, old)
    assert new["body_joins"] == new["body"] and "body_joins" not in older
    del new["title_joins"], new["body_joins"]
    new.pop("indexed_at"), older.pop("indexed_at")
    assert older == new and set(older) <= set(old.names())
