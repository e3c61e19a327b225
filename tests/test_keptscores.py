"""The commonest syllables' scores, computed by one worker and mapped by all
(``search.keptscores``): the same values bit for bit, written once per commit, computed
again when stale, and each worker keeps them itself when the file cannot be shared."""

from __future__ import annotations

import mmap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from indexer import store as store_module
from search import keptscores, memory, scoring
from search.engine import Engine, SearchRequest
from search.scoring import Term

QUERIES = ["đại hội", "dai hoi dang bo", "thành phố hà nội", "ủy ban nhân dân", "bí thư"]


@pytest.fixture
def every_term_kept(monkeypatch):
    """Every term's scores count as long enough to keep (the demo's lists are short)."""
    monkeypatch.setattr(scoring, "SCORES_KEPT_FROM", 1)


def _engine(root: Path, workers: int = 2, **kw) -> Engine:
    engine = Engine(root, workers=workers, **kw)
    assert engine.snapshot().ready.wait(60)
    return engine


def _files(root: Path) -> list[Path]:
    return sorted(store_module.current_generation(root).glob(f"{keptscores.PREFIX}*"))


def _answers(engine: Engine) -> list:
    out = []
    for q in QUERIES:
        answer = engine.search(SearchRequest(q=q))
        out.append((answer["total"], [(h["id"], h["score"]) for h in answer["hits"]]))
    return out


def test_workers_map_the_scores_one_of_them_computed(scratch_index, every_term_kept, monkeypatch):
    first = _engine(scratch_index)
    try:
        written = _files(scratch_index)
        assert len(written) == 1 and written[0].name.endswith(keptscores.SUFFIX)
        store = first.snapshot().postings
        assert len(store._shared) > 10
        stamp = written[0].stat().st_mtime_ns
        computed = []
        monkeypatch.setattr(
            scoring.PostingStore,
            "_score_term",
            lambda self, term, reader=None: computed.append(term) or scoring.EMPTY,
        )
        second = _engine(scratch_index)  # another worker of the same commit
        try:
            other = second.snapshot().postings
            assert computed == [] and written[0].stat().st_mtime_ns == stamp
            assert other._shared.keys() == store._shared.keys()
            for entry in other._shared.values():
                assert all(isinstance(a.base, mmap.mmap) for a in entry)  # views, no copies
                assert not any(a.flags.writeable for a in entry)
            assert other.populate_shared() in (True, False)  # (False: kernel before 5.14)
            mapped = next(iter(other._shared.values()))[0].base
            _, nbytes, _ = keptscores.read(written[0], other.fingerprint())
            assert len(mapped) == keptscores.ALIGN + nbytes  # the scores, not the index
        finally:
            second.close()
    finally:
        first.close()


def test_shared_scores_are_the_computed_ones_bit_for_bit(scratch_index, every_term_kept):
    engine = _engine(scratch_index)
    try:
        store = engine.snapshot().postings
        dense = 0
        for (_, fields, text, weight), entry in store._shared.items():
            ids, values = store._score_term(Term(fields, text, weight))
            if len(entry) == 1:
                dense += 1
                want = np.zeros(store.size, dtype=np.float32)
                want[ids] = values
                assert entry[0].tobytes() == want.tobytes(), text
            else:
                assert np.array_equal(entry[0], ids), text
                assert entry[1].tobytes() == values.tobytes(), text
        assert dense and dense < len(store._shared)  # both kinds were written and read
    finally:
        engine.close()


def test_answers_are_the_same_mapped_or_kept_in_the_worker(
    scratch_index, every_term_kept, monkeypatch
):
    shared = _engine(scratch_index)
    try:
        assert shared.snapshot().postings._shared
        with_file = _answers(shared)
    finally:
        shared.close()
    monkeypatch.setattr(keptscores, "shared", lambda *a, **kw: None)  # cannot be shared
    own = _engine(scratch_index)
    try:
        store = own.snapshot().postings
        assert not store._shared
        assert any(key[0] == "scores" for key in store._cache)  # kept in its own memory
        assert _answers(own) == with_file
    finally:
        own.close()


def test_the_file_counts_once_out_of_the_budget_of_all_workers(scratch_index, every_term_kept):
    engine = _engine(scratch_index, workers=2)
    try:
        report = engine.stats()["worker"]["read_ahead"]
        size = report["shared_bytes"][memory.SHARED_SCORES]
        entries, nbytes, _ = keptscores.read(_files(scratch_index)[0], _fingerprint(engine))
        assert size == nbytes >= sum(a.nbytes for entry in entries.values() for a in entry) > 0
        assert report["budget_bytes"] == (memory.read_ahead_budget(1) - size) // 2
    finally:
        engine.close()


def _fingerprint(engine: Engine) -> dict:
    return engine.snapshot().postings.fingerprint()


def test_a_new_commit_writes_its_own_file_and_removes_the_older(
    scratch_index, every_term_kept, tmp_path
):
    from indexer.writer import delete_ids

    engine = _engine(scratch_index, freshness_seconds=0.0)
    try:
        before = engine.snapshot()
        old = _files(scratch_index)
        gone = before.searcher.stored_fields(0)["id"]
        delete_ids([gone], scratch_index)  # the same segments, one document fewer
        after = engine.snapshot()
        assert after is not before and after.ready.wait(60)
        new = _files(scratch_index)
        assert len(new) == 1 and new != old and not old[0].exists()
        assert after.postings.fingerprint() != before.postings.fingerprint()
        assert keptscores.read(new[0], before.postings.fingerprint()) is None  # stale for it
        assert _answers(engine) == _answers(_engine(scratch_index, prefetch=False))
    finally:
        engine.close()


def test_a_stale_or_broken_file_is_computed_again(scratch_index, every_term_kept):
    engine = _engine(scratch_index)
    path = _files(scratch_index)[0]
    fingerprint = _fingerprint(engine)
    keys = set(engine.snapshot().postings._shared)
    engine.close()
    keptscores.write(path, {**fingerprint, "documents": 1}, [], budget=1 << 40, complete=True)
    assert keptscores.read(path, fingerprint) is None
    again = _engine(scratch_index)
    try:
        assert set(again.snapshot().postings._shared) == keys
    finally:
        again.close()
    path.write_bytes(path.read_bytes()[:100])  # cut short
    assert keptscores.read(path, fingerprint) is None


def test_write_and_read_round_trip(tmp_path):
    path = keptscores.path_for(tmp_path, 7)
    dense = np.array([0, 1.5, 0, 2.25], dtype=np.float32)
    ids, values = np.array([1, 5, 9], dtype=np.int64), np.array([0.5, 1, 3], dtype=np.float32)
    entries = [
        (("scores", ("title", "body"), "a", 1.0), (dense,)),
        (("scores", ("title_fold", "body_fold"), "b", 2.0), (ids, values)),
    ]
    size = keptscores.write(path, {"x": [1]}, entries, budget=100, complete=True)
    found, nbytes, index = keptscores.read(path, {"x": [1]})
    assert nbytes == size == 16 + 24 + 16 and index["complete"] and index["budget"] == 100
    assert found[entries[0][0]][0].tolist() == dense.tolist()
    assert found[entries[1][0]][0].tolist() == ids.tolist()
    assert found[entries[1][0]][1].tolist() == values.tolist()
    assert keptscores.read(path, {"x": [2]}) is None
    assert keptscores.read(tmp_path / "missing", {"x": [1]}) is None


def test_one_writes_while_the_others_wait_for_the_file(tmp_path):
    path = keptscores.path_for(tmp_path, 3)
    lock = path.with_name(f".{path.name}.lock.tmp")
    lock.touch()  # another process is writing it
    entry = (("scores", ("body",), "x", 1.0), (np.ones(4, dtype=np.float32),))

    def finish():
        time.sleep(0.5)
        keptscores.write(path, {}, [entry], budget=100, complete=True)
        lock.unlink()

    writer = threading.Thread(target=finish)
    writer.start()
    asked = []
    found = keptscores.shared(path, {}, lambda b: asked.append(b) or [], budget=100)
    writer.join()
    assert asked == [] and list(found[0]) == [entry[0]]


def test_a_folder_that_cannot_be_written_gives_none(tmp_path):
    path = keptscores.path_for(tmp_path / "missing", 1)
    assert keptscores.shared(path, {}, lambda b: [], budget=100) is None


def test_a_file_computed_within_a_much_smaller_budget_is_computed_again(tmp_path):
    path = keptscores.path_for(tmp_path, 2)
    entries = [(("scores", ("body",), t, 1.0), (np.ones(4, dtype=np.float32),)) for t in "xy"]
    asked = []

    def compute(budget):  # 16 bytes an entry
        asked.append(budget)
        return entries[: budget // 16]

    assert len(keptscores.shared(path, {}, compute, budget=16)[0]) == 1
    assert len(keptscores.shared(path, {}, compute, budget=17)[0]) == 1  # within 0.9: kept
    assert len(keptscores.shared(path, {}, compute, budget=1000)[0]) == 2
    assert len(keptscores.shared(path, {}, compute, budget=16)[0]) == 1  # too large: again
    assert asked == [16, 1000, 16]
