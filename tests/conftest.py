"""Shared fixtures: the demo archive (the fixture corpus) indexed once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip("../shared is not present on this machine")
    return SHARED


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory) -> Path:
    """An index of the demo archive (good files only), built once; tests must not write it."""
    from indexer.writer import index_paths

    root = tmp_path_factory.mktemp("demo_index")
    summary = index_paths([DEMO / "articles.jsonl", DEMO / "portal"], root, jobs=2)
    assert summary.skipped == 0, summary.errors
    files = _files_below(root)
    yield root
    # a warming engine that saw a test's patched constants wrote here (a shared
    # kept-scores file), and every later engine on this index read it
    assert _files_below(root) == files, "a test wrote into the session's demo index"


def _files_below(root: Path) -> set[Path]:
    """The index's files, less the lock and SQLite's shared-memory and log files (a
    reader of the segmentation cache opens them)."""
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and p.name != "writer.lock" and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture(scope="module")
def engine(demo_index: Path):
    """A search engine over the demo index, one per test module."""
    from search.engine import Engine

    eng = Engine(demo_index)
    # warmed before the module's tests patch scoring constants: a warming thread that
    # saw them would keep (and share through a file) what the tests did not ask for
    assert eng.snapshot().ready.wait(120)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def client(engine):
    """falcon.testing client of the app over ``engine`` (no HTTP server)."""
    import falcon.testing

    from api import create_app

    return falcon.testing.TestClient(create_app(engine))


@pytest.fixture
def scratch_index(tmp_path, demo_index) -> Path:
    """A private copy of the demo index that a test may modify."""
    root = tmp_path / "index"
    shutil.copytree(demo_index, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def demo_documents(tmp_path_factory) -> list[dict]:
    """The demo archive's articles as the field dicts the writer adds (segmented once)."""
    from indexer.prepare import to_document
    from indexer.sources import read_articles
    from indexer.writer import _prepared_stream

    cache = tmp_path_factory.mktemp("cache") / "segcache.sqlite"
    articles = read_articles([str(DEMO / "articles.jsonl"), str(DEMO / "portal")], lambda e: None)
    docs = [to_document(p) for p in _prepared_stream(articles, 1, cache)]
    assert len(docs) > 20
    return docs
