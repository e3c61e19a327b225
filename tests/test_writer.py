"""Writing the index: updates, deletes, bad input, rebuilds, the lock and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import indexer.prepare
from indexer import store
from indexer.cli import main as cli_main
from indexer.prepare import derive_title
from indexer.writer import delete_ids, index_paths
from search.engine import Engine, SearchRequest


def doc_count(root: Path) -> int:
    with store.open_current(root).searcher() as s:
        return s.doc_count()


def stored(root: Path, doc_id: str) -> dict | None:
    with store.open_current(root).searcher() as s:
        return s.document(id=doc_id)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    return path


def test_demo_index_has_every_good_article(demo_index, demo_dir):
    lines = (demo_dir / "articles.jsonl").read_text("utf-8").splitlines()
    pages = list((demo_dir / "portal").glob("*.txt"))
    assert doc_count(demo_index) == len([x for x in lines if x.strip()]) + len(pages)


def test_reindexing_updates_instead_of_duplicating(scratch_index, demo_dir):
    before = doc_count(scratch_index)
    summary = index_paths([demo_dir / "articles.jsonl"], scratch_index, jobs=1)
    assert summary.indexed == 0 and summary.updated > 0 and summary.skipped == 0
    assert doc_count(scratch_index) == before


def test_changed_article_is_replaced(scratch_index, tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"id": "x-1", "title": "Bản cũ", "body": "nội dung cũ"}]
    )
    index_paths([path], scratch_index, jobs=1)
    write_jsonl(path, [{"id": "x-1", "title": "Bản mới", "body": "nội dung mới hoàn toàn"}])
    summary = index_paths([path], scratch_index, jobs=1)
    assert summary.updated == 1
    assert stored(scratch_index, "x-1")["title"] == "Bản mới"
    engine = Engine(scratch_index)
    assert engine.search(SearchRequest(q="bản cũ", per_page=50))["total"] == 0 or all(
        h["id"] != "x-1" for h in engine.search(SearchRequest(q='"bản cũ"'))["hits"]
    )


def test_same_id_twice_in_one_run_keeps_the_later(scratch_index, tmp_path):
    path = write_jsonl(
        tmp_path / "dup.jsonl",
        [
            {"id": "dup-1", "title": "Thứ nhất", "body": "một"},
            {"id": "dup-1", "title": "Thứ hai", "body": "hai"},
        ],
    )
    before = doc_count(scratch_index)
    index_paths([path], scratch_index, jobs=1)
    assert doc_count(scratch_index) == before + 1
    assert stored(scratch_index, "dup-1")["title"] == "Thứ hai"


def test_null_title_falls_back_to_first_sentence(scratch_index, tmp_path):
    body = "Sáng nay, quận Hồng Phúc khai trương cầu mới. Cây cầu dài 300 mét."
    path = write_jsonl(tmp_path / "n.jsonl", [{"id": "n-1", "title": None, "body": body}])
    index_paths([path], scratch_index, jobs=1)
    doc = stored(scratch_index, "n-1")
    assert doc["title"] == "Sáng nay, quận Hồng Phúc khai trương cầu mới."
    assert doc["title_derived"] is True
    assert derive_title("x " * 200).endswith("…")


def test_delete_removes_one_article(scratch_index, capsys):
    with store.open_current(scratch_index).searcher() as s:
        victim = next(iter(s.documents()))["id"]
    before = doc_count(scratch_index)
    assert cli_main(["delete", victim, "--index", str(scratch_index)]) == 0
    assert doc_count(scratch_index) == before - 1
    assert stored(scratch_index, victim) is None
    assert delete_ids([victim], scratch_index) == []
    assert cli_main(["delete", "no-such-id", "--index", str(scratch_index)]) == 1
    assert "not found no-such-id" in capsys.readouterr().out


def test_bad_input_is_reported_skipped_and_the_rest_indexed(scratch_index, demo_dir, capsys):
    before = doc_count(scratch_index)
    code = cli_main(["index", str(demo_dir / "bad"), "--index", str(scratch_index), "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == 1  # something was skipped
    assert "skipped 4" in out
    assert "mixed.jsonl:2" in err and "latin1.jsonl:1" in err and "menu_only.txt" in err
    assert doc_count(scratch_index) == before + 3  # the good lines of the bad files


def test_clean_run_exits_zero_and_stats_report(scratch_index, demo_dir, capsys):
    assert cli_main(["index", str(demo_dir / "portal"), "--index", str(scratch_index)]) == 0
    assert cli_main(["stats", "--index", str(scratch_index), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert stats["documents"] == doc_count(scratch_index)
    assert "body_fold" in stats["fields"] and stats["size_bytes"] > 0 and stats["last_update"]


def test_rebuild_switches_atomically_and_reuses_segmentation(scratch_index, demo_dir):
    old = store.current_generation(scratch_index)
    summary = index_paths([demo_dir / "articles.jsonl"], scratch_index, rebuild=True, jobs=2)
    new = store.current_generation(scratch_index)
    assert new != old and summary.segmented == 0  # everything came from the cache
    assert doc_count(scratch_index) == summary.indexed  # only the rebuilt sources remain
    index_paths([demo_dir / "articles.jsonl"], scratch_index, rebuild=True, jobs=1)
    gens = list(scratch_index.glob("gen-*"))
    assert len(gens) <= 1 + store.KEEP_OLD_GENERATIONS


def test_second_writer_waits_then_fails_clearly(scratch_index, demo_dir):
    with store.writer_lock(scratch_index):
        started = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "indexer.cli",
                "index",
                str(demo_dir / "portal"),
                "--index",
                str(scratch_index),
                "--wait",
                "1",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        waited = time.monotonic() - started
    assert proc.returncode == 2
    assert "being written" in proc.stderr and "try again" in proc.stderr
    assert waited >= 1
    assert doc_count(scratch_index) > 0


def test_a_new_officials_extractor_is_run_again_on_rebuild_but_pyvi_is_not(
    scratch_index, demo_dir, monkeypatch
):
    def officials_entries(version: str) -> int:
        with sqlite3.connect(scratch_index / "segcache.sqlite") as db:
            pattern = f"%:officials{version}:%"
            return db.execute(
                "SELECT count(*) FROM analysis WHERE key LIKE ?", (pattern,)
            ).fetchone()[0]

    archive = demo_dir / "articles.jsonl"
    articles = len(archive.read_text("utf-8").splitlines())
    monkeypatch.setattr(indexer.prepare, "EXTRACTOR_VERSION", "-next")
    assert officials_entries("-next") == 0
    summary = index_paths([archive], scratch_index, rebuild=True, jobs=1)
    assert summary.segmented == 0  # pyvi's spans all came from the cache
    assert officials_entries("-next") == articles  # every article's officials extracted anew
    engine = Engine(scratch_index)
    try:
        assert engine.search(SearchRequest(q="", officials=("Trần Thị Bình",)))["total"] > 0
    finally:
        engine.close()


def _big_archive(path: Path, demo_dir: Path, copies: int) -> Path:
    base = [json.loads(x) for x in (demo_dir / "articles.jsonl").read_text("utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for i in range(copies):
            for r in base:
                rec = dict(r, id=f"big-{i}-{r['id']}", body=f"Bản {i}. " + r["body"])
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("rebuild", [False, True])
def test_sigkill_halfway_leaves_the_previous_index_searchable(
    scratch_index, demo_dir, tmp_path, rebuild
):
    before = doc_count(scratch_index)
    live_before = store.current_generation(scratch_index)
    # 9,000 articles: the first flush of the segmentation cache comes after about 1,000,
    # so the run is killed with most of its work (and its commit) still ahead of it
    archive = _big_archive(tmp_path / "big.jsonl", demo_dir, copies=300)
    args = [
        sys.executable,
        "-m",
        "indexer.cli",
        "index",
        str(archive),
        "--index",
        str(scratch_index),
        "--jobs",
        "1",
        "--quiet",
    ] + (["--rebuild"] if rebuild else [])
    cache = scratch_index / "segcache.sqlite"
    wal = scratch_index / "segcache.sqlite-wal"

    def size(path: Path) -> int:
        return path.stat().st_size if path.exists() else 0

    # the WAL may hold the fixture's own run: wait for either file to grow past it
    sizes0 = (size(cache), size(wal))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # wait until it is writing
        time.sleep(0.1)
        if (size(cache), size(wal)) != sizes0:
            break
    assert proc.poll() is None, "the indexing run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert store.current_generation(scratch_index) == live_before
    assert doc_count(scratch_index) == before
    engine = Engine(scratch_index)
    assert engine.search(SearchRequest(q="quận"))["total"] > 0
    # the lock died with the process: the next run works
    summary = index_paths([demo_dir / "portal"], scratch_index, jobs=1, lock_wait=2)
    assert summary.skipped == 0
