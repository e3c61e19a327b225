"""A full disk, killed runs and deletions: the last good index is served, what a failed
run wrote is removed, the message is one clear line, and deleted ids stay deleted."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from indexer import store
from indexer.cli import main as cli_main
from indexer.writer import delete_ids, index_paths

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"


def doc_ids(root: Path) -> set[str]:
    with store.open_current(root).searcher() as s:
        return {f["id"] for f in s.all_stored_fields()}


def toc_files(gen: Path) -> set[str]:
    """The files a generation's latest table of contents uses (and the lock file)."""
    from indexer import segments

    ix = segments.open_index(gen)
    with ix.reader() as reader:
        ids = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    keep = {f"_MAIN_{ix.latest_generation()}.toc", "MAIN_WRITELOCK"}
    return keep | {p.name for p in gen.iterdir() if p.name.split(".")[0] in ids}


def big_jsonl(path: Path, count: int) -> Path:
    """``count`` articles made of the demo's bodies, each with its own number."""
    demo = [json.loads(x) for x in (DEMO / "articles.jsonl").read_text("utf-8").splitlines()]
    rows = [
        {
            "id": f"big-{i}",
            "title": f"Bài số {i}: {demo[i % len(demo)]['title']}",
            "body": f"{demo[i % len(demo)]['body']} Bài số {i}, bản {i // len(demo)}.",
        }
        for i in range(count)
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB tmpfs (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def run_cli(capsys, *args: str) -> tuple[int, str]:
    """``vnsearch ARGS`` in this process: (exit code, stderr)."""
    code = cli_main(list(args))
    return code, capsys.readouterr().err


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` bytes free."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - leave))
    return filler


def test_full_disk_keeps_the_old_index_and_cleans_up(small_disk, tmp_path, capsys):
    index = str(small_disk / "idx")
    code, err = run_cli(capsys, "index", str(DEMO / "articles.jsonl"), "--index", index)
    assert code == 0, err
    before = doc_ids(Path(index))
    live = store.current_generation(Path(index))
    filler = fill(small_disk, 120_000)  # room for a delete (its TOC holds the schema)
    source = big_jsonl(tmp_path / "big.jsonl", 150)

    for jobs in ("1", "2"):  # one writer here, or builder processes
        code, err = run_cli(capsys, "index", str(source), "--index", index, "--jobs", jobs)
        assert code == 2, err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert last.startswith("vnsearch index: disk full"), err
        assert "nothing was committed" in last
        assert store.current_generation(Path(index)) == live
        assert doc_ids(Path(index)) == before  # the old index is served, unchanged
        assert {p.name for p in live.iterdir()} == toc_files(live)  # nothing partial left
        assert [g for g in Path(index).glob("gen-*") if store.is_partial(g)] == []

    code, err = run_cli(capsys, "index", "--rebuild", "--index", index)
    assert code == 2 and "not enough free space" in err and "Traceback" not in err
    assert doc_ids(Path(index)) == before

    # a delete on the full disk works, and so does the next run once there is room
    code, err = run_cli(capsys, "delete", "demo-001", "--index", index)
    assert code == 0, err
    filler.unlink()
    code, err = run_cli(capsys, "index", str(source), "--index", index, "--jobs", "2")
    assert code == 0, err
    assert len(doc_ids(Path(index))) == len(before) - 1 + 150


def test_what_a_killed_run_left_is_removed_by_the_next_writer(scratch_index):
    live = store.current_generation(scratch_index)
    partial = store.new_generation(scratch_index)  # as a killed --rebuild leaves it
    stray = live / "MAIN_killedwriter0000.seg"
    stray.write_bytes(b"half a segment")
    (live / "MAIN.1234.5678.tmp").mkdir()
    (scratch_index / ".meta.999.json").write_text("{}")
    assert delete_ids(["no-such-id"], scratch_index) == []  # any writer cleans up
    assert not partial.exists() and not stray.exists()
    assert not (live / "MAIN.1234.5678.tmp").exists()
    assert not (scratch_index / ".meta.999.json").exists()
    assert store.current_generation(scratch_index) == live


def test_pruning_keeps_the_last_good_generation_not_a_partial_one(scratch_index, demo_dir):
    good = store.current_generation(scratch_index)
    index_paths([demo_dir / "articles.jsonl"], scratch_index, rebuild=True, jobs=1)
    # a killed rebuild after that: newer than every complete generation
    partial = store.new_generation(scratch_index)
    store.prune_generations(scratch_index)
    live = store.current_generation(scratch_index)
    assert live != good and live.exists()
    assert good.exists()  # the last good old generation is kept, the partial one is not
    assert not partial.exists()


def test_injected_enospc_in_a_builder_fails_cleanly(scratch_index, demo_dir, monkeypatch, capsys):
    """Where no tmpfs can be mounted: the same path, with the error injected."""
    from indexer.segments import writing

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    before = doc_ids(scratch_index)
    live = store.current_generation(scratch_index)
    monkeypatch.setattr(writing.BulkWriter, "close_segments", full)
    code = cli_main(
        [
            "index",
            "--rebuild",
            str(demo_dir / "articles.jsonl"),
            "--index",
            str(scratch_index),
            "--jobs",
            "2",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "disk full" in err and "Traceback" not in err, err
    assert store.current_generation(scratch_index) == live and doc_ids(scratch_index) == before
    assert [g for g in scratch_index.glob("gen-*") if g != live and store.is_partial(g)] == []


def test_deletions_survive_rebuild_until_indexed_again(scratch_index, demo_dir):
    assert delete_ids(["demo-001"], scratch_index) == ["demo-001"]
    summary = index_paths(
        [demo_dir / "articles.jsonl", demo_dir / "portal"], scratch_index, rebuild=True, jobs=2
    )
    assert summary.left_out == 1 and "1 deleted earlier left out" in summary.line()
    assert "demo-001" not in doc_ids(scratch_index)
    index_paths([demo_dir / "articles.jsonl"], scratch_index, jobs=1)  # indexed again
    assert "demo-001" in doc_ids(scratch_index)
    assert "demo-001" not in store.read_tombstones(scratch_index)
    index_paths([demo_dir / "articles.jsonl"], scratch_index, rebuild=True, jobs=1)
    assert "demo-001" in doc_ids(scratch_index)


def test_progress_without_a_terminal_prints_lines_with_a_rate(tmp_path, monkeypatch, capsys):
    import indexer.writer

    monkeypatch.setattr(indexer.writer, "PROGRESS_SECONDS", 0.0)
    source = big_jsonl(tmp_path / "p.jsonl", 20)
    index_paths([source], tmp_path / "idx", jobs=1, progress="lines")
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("vnsearch index:")]
    assert lines and "articles/s" in lines[-1] and "100% of" in lines[-1]


def test_a_mistyped_input_fails_the_run_before_anything_is_written(tmp_path, capsys):
    """A path that does not exist, or a file of a type not read, named on the command
    line (or recorded as a source for --rebuild): exit 2 with one line naming it, no
    index created, an existing one unchanged."""
    new = tmp_path / "new"
    for bad in [tmp_path / "typo.jsonl", tmp_path / "no-such-folder"]:
        code, err = run_cli(capsys, "index", str(bad), "--index", str(new))
        assert code == 2, err
        assert err.strip().splitlines() == [
            f"vnsearch index: no such file or folder: {bad}; nothing was indexed"
        ]
        assert not new.exists()
    notes = tmp_path / "notes.md"
    notes.write_text("# not an archive\n", encoding="utf-8")
    code, err = run_cli(capsys, "index", str(notes), "--index", str(new))
    assert code == 2 and "not a kind of file vnsearch reads" in err and str(notes) in err
    assert not new.exists()

    index = tmp_path / "idx"
    code, err = run_cli(capsys, "index", str(DEMO / "articles.jsonl"), "--index", str(index))
    assert code == 0, err
    before, live = doc_ids(index), store.current_generation(index)
    typo = tmp_path / "artcles.jsonl"  # one good input and one mistyped: nothing is done
    code, err = run_cli(
        capsys, "index", str(DEMO / "articles.jsonl"), str(typo), "--index", str(index)
    )
    assert code == 2 and str(typo) in err and "nothing was indexed" in err
    assert store.current_generation(index) == live and doc_ids(index) == before

    moved = tmp_path / "moved.jsonl"  # a recorded source gone: --rebuild fails, says which
    shutil.copy(DEMO / "articles.jsonl", moved)
    code, err = run_cli(capsys, "index", "--rebuild", str(moved), "--index", str(index))
    assert code == 0, err
    moved.unlink()
    code, err = run_cli(capsys, "index", "--rebuild", "--index", str(index))
    assert code == 2 and str(moved) in err
    assert doc_ids(index) == before


def test_a_folder_with_nothing_to_read_is_noted(tmp_path, capsys):
    empty = tmp_path / "archive"
    empty.mkdir()
    code, err = run_cli(capsys, "index", str(empty), "--index", str(tmp_path / "idx"))
    assert code == 1
    assert f"noted {empty}:0: no files to read in this folder" in err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_a_run_with_one_line_and_keeps_the_previous_index(tmp_path, jobs):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) printed a
    36-line KeyboardInterrupt traceback, and each worker process one of its own; with
    --jobs 1 a worker's signal setup made the indexer itself ignore Ctrl-C (and die with
    its shell under nohup). Now: one line, exit 130, the previous index as it was, the
    interrupted --rebuild's generation removed."""
    import signal
    import sys

    index = tmp_path / "idx"
    assert cli_main(["index", str(DEMO / "articles.jsonl"), "--index", str(index), "--quiet"]) == 0
    before, live = doc_ids(index), store.current_generation(index)
    source = big_jsonl(tmp_path / "big.jsonl", 4000)
    run = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "index", "--rebuild", str(source)]
        + ["--index", str(index), "--jobs", jobs, "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        while run.poll() is None and not any(
            store.is_partial(g) for g in index.glob("gen-*") if g != live
        ):
            time.sleep(0.01)  # until the rebuild's generation exists: the run is under way
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, err
    assert err.strip().splitlines() == [
        "vnsearch index: interrupted: nothing was committed; the previous index is still served"
    ]
    assert store.current_generation(index) == live and doc_ids(index) == before
    assert [g for g in index.glob("gen-*") if store.is_partial(g)] == []
