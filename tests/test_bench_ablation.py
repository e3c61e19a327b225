"""bench.ablation's variants change exactly the settings they name, and nothing for base."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ablation import patches
from search import query, scoring


def _settings(variant: str) -> dict[str, object]:
    return {name: value for _, name, value in patches(variant)}


def test_base_changes_nothing():
    assert _settings("base") == {"BAG_WEIGHTS": query.BAG_WEIGHTS}


def test_whoosh_like_switches_off_every_shortcut():
    got = _settings("whoosh-like")
    assert got["BAG_WEIGHTS"]["fold"] == 0 and got["BAG_WEIGHTS"]["pairs"] == 0
    assert got["BAG_WEIGHTS"]["exact"] == query.BAG_WEIGHTS["exact"]
    assert got["SHORT_QUERY_SYLLABLES"] == 0
    assert got["COMMON_TERM_SHARE"] > 1 and got["LONG_QUERY_MAX_TERMS"] >= 100_000
    assert query.BAG_WEIGHTS["fold"] > 0  # the module's own weights are untouched


def test_weights_and_modules():
    found = {(module, name): value for module, name, value in patches("title=3+k1=1.5")}
    assert found[(scoring, "TITLE_WEIGHT")] == 3.0 and found[(scoring, "K1")] == 1.5
    with pytest.raises(SystemExit):
        patches("title")
    with pytest.raises(SystemExit):
        patches("colour=3")
