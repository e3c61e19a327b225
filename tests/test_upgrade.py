"""An index written by another version of the code: searching it says to rebuild, and
``vnsearch index --rebuild`` then works (it must not need to read the old schema).

The old version is simulated the way it happens: the schema pickled in the table of
contents names a class that no longer exists in ``indexer.analysis``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cli
from indexer import store


def _written_by_another_version(root: Path) -> None:
    """Make the live generation's pickled schema name a module that does not exist."""
    gen = store.current_generation(root)
    tocs = list(gen.glob("_*.toc"))
    assert tocs
    for toc in tocs:
        data = toc.read_bytes()
        assert b"indexer.analysis" in data
        toc.write_bytes(data.replace(b"indexer.analysis", b"indexer.analysiz"))


@pytest.fixture
def old_index(scratch_index) -> Path:
    """A copy of the demo index (meta.json names its sources) that this code cannot read."""
    assert store.read_meta(scratch_index).get("sources")
    _written_by_another_version(scratch_index)
    return scratch_index


def test_an_old_index_says_to_rebuild(old_index, capsys):
    with pytest.raises(store.IndexMissing, match="older version.*--rebuild"):
        store.open_current(old_index)
    assert cli.main(["stats", "--index", str(old_index)]) == 2
    assert "vnsearch index --rebuild" in capsys.readouterr().err


def stored_ids(root: Path) -> set[str]:
    ix = store.open_current(root)
    try:
        with ix.searcher() as searcher:
            return {fields["id"] for fields in searcher.all_stored_fields()}
    finally:
        ix.close()


def test_rebuild_replaces_an_index_an_older_version_wrote(old_index, demo_index):
    args = ["index", "--rebuild", "--jobs", "1", "--quiet", "--index", str(old_index)]
    assert cli.main(args) in (0, 1)
    assert stored_ids(old_index) == stored_ids(demo_index)


def test_debug_shows_the_traceback_and_plain_runs_one_line(old_index, demo_dir, capsys):
    args = ["index", str(demo_dir / "articles.jsonl"), "--jobs", "1", "--index", str(old_index)]
    assert cli.main(args) == 2  # adding to an unreadable index fails, in one line
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "--rebuild" in err
    with pytest.raises(store.IndexMissing):
        cli.main([*args, "--debug"])
    with pytest.raises(store.IndexMissing):
        cli.main(["delete", "some-id", "--index", str(old_index), "--debug"])
