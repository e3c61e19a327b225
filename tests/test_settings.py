"""Settings are read from the environment once, at the edge, and passed down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import falcon.testing
import pytest

from api import get_app
from search import pagecache
from search.engine import Engine
from search.scoring import WARM_POSTINGS
from settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_without_any_variable():
    assert Settings.from_env({}) == Settings()
    assert Settings().index == Path("index_data") and Settings().warm_postings == WARM_POSTINGS


def test_every_variable_is_read():
    env = {
        "VNSEARCH_INDEX": "/srv/archive",
        "VNSEARCH_WARM_POSTINGS": "1_000",
        "VNSEARCH_PREFETCH": "off",
        "VNSEARCH_CORS_ORIGINS": " https://a.example, https://b.example ,,",
        "VNSEARCH_EXPORT": "KEY",
        "VNSEARCH_EXPORT_KEY": "s3cret",
        "VNSEARCH_HEAVY_SLOTS": "3",
    }
    assert Settings.from_env(env) == Settings(
        index=Path("/srv/archive"),
        warm_postings=1000,
        prefetch=False,
        cors_origins=("https://a.example", "https://b.example"),
        export="key",
        export_key="s3cret",
        heavy_slots=3,
    )
    assert Settings.from_env({"VNSEARCH_WARM_POSTINGS": "-5"}).warm_postings == 0
    assert Settings.from_env(env, index=Path("/cli/flag")).index == Path("/cli/flag")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"VNSEARCH_WARM_POSTINGS": "lots"}, "VNSEARCH_WARM_POSTINGS"),
        ({"VNSEARCH_PREFETCH": "maybe"}, "VNSEARCH_PREFETCH"),
        ({"VNSEARCH_EXPORT": "sometimes"}, "VNSEARCH_EXPORT"),
        ({"VNSEARCH_EXPORT": "key"}, "VNSEARCH_EXPORT_KEY"),
        ({"VNSEARCH_HEAVY_SLOTS": "0"}, "VNSEARCH_HEAVY_SLOTS"),  # it said heavy_slots
        ({"VNSEARCH_HEAVY_SLOTS": "-2"}, "VNSEARCH_HEAVY_SLOTS"),
        ({"VNSEARCH_WORKERS": "0"}, "VNSEARCH_WORKERS"),
        ({"WEB_CONCURRENCY": "-1"}, "WEB_CONCURRENCY"),
    ],
)
def test_an_unusable_value_stops_the_start_naming_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_importing_the_api_builds_nothing_and_reads_no_environment(tmp_path):
    env = dict(os.environ, VNSEARCH_WARM_POSTINGS="lots", VNSEARCH_INDEX=str(tmp_path / "x"))
    code = "import api, sys; sys.exit(hasattr(api, 'app'))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert not (tmp_path / "x").exists()


def test_get_app_serves_the_index_its_settings_name(demo_index, tmp_path):
    served = falcon.testing.TestClient(get_app(Settings(index=demo_index, warm_postings=0)))
    assert served.simulate_get("/health").json["documents"] > 30
    empty = falcon.testing.TestClient(get_app(Settings(index=tmp_path / "none")))
    assert empty.simulate_get("/health").status_code == 503


def test_an_engine_without_prefetch_never_reads_ahead(scratch_index, monkeypatch):
    calls = []
    monkeypatch.setattr(pagecache, "prefetch", lambda folder, *a, **k: calls.append(folder))
    engine = Engine(scratch_index, prefetch=False, warm_postings=0)
    try:
        assert engine.snapshot().postings.warmed.wait(30)
        assert not engine.snapshot().postings._cache  # a budget of 0 reads no list
        assert not [f for f in calls if scratch_index in Path(f).parents]
    finally:
        engine.close()
