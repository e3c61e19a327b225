"""The door to Whoosh (indexer.segments): the only code that touches Whoosh's internals,
its arrays equal to Whoosh's public readers, and our index a genuine Whoosh index."""

from __future__ import annotations

import ast
import functools
import mmap
import re
import shutil
import sys
import time
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pytest
import whoosh
from whoosh import index as whoosh_index
from whoosh.qparser import QueryParser
from whoosh.reading import ReaderClosed, TermNotFound
from whoosh.writing import SegmentWriter

from indexer import segments, store
from indexer.schema import build_schema
from indexer.segments import arrays
from indexer.segments.reading import whoosh_postings
from indexer.segments.writing import BulkWriter

ROOT = Path(__file__).resolve().parents[1]
DOOR = ROOT / "indexer" / "segments"
# tests that pin the door itself against Whoosh (they may name its internals)
DOOR_TESTS = {"test_segments.py", "test_segments_files.py", "test_segments_writing.py"}
# Whoosh's modules of on-disk formats and helpers: only the door imports them
INTERNAL_MODULES = (
    "whoosh.codec",
    "whoosh.filedb",
    "whoosh.system",
    "whoosh.util",
    "whoosh.matching",
    "whoosh.automata",
    "whoosh.support",
)


# --------------------------------------------------------------------------- the door is the only one
def _source_files() -> list[Path]:
    """Every Python file of the project outside the door (and outside virtualenvs)."""
    paths = list(ROOT.glob("*.py"))
    for folder in ROOT.iterdir():
        if folder.is_dir() and (folder / "__init__.py").exists() or folder.name == "tests":
            paths += folder.rglob("*.py")
    out = []
    for path in sorted(paths):
        if DOOR in path.parents or (path.parent.name == "tests" and path.name in DOOR_TESTS):
            continue
        out.append(path)
    assert {"api.py", "scoring.py", "engine.py", "writer.py"} <= {p.name for p in out}
    return out


def _private_names(trees) -> set[str]:
    """``_name``s (not dunders) that ``trees`` define: functions, classes, attributes
    assigned, module- and class-level names, parameters."""
    names: set[str] = set()

    def add(name: str | None) -> None:
        if name and name.startswith("_") and not name.startswith("__"):
            names.add(name)

    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                add(node.id)
            elif isinstance(node, ast.arg):
                add(node.arg)
            elif isinstance(node, ast.alias):
                add(node.asname or node.name.split(".")[-1])
            elif isinstance(node, ast.keyword):
                add(node.arg)
    return names


@functools.cache
def _whoosh_private_names() -> frozenset[str]:
    whoosh_dir = Path(whoosh.__file__).parent
    with warnings.catch_warnings():  # Whoosh's sources have old string escapes
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        trees = [ast.parse(p.read_text(encoding="utf-8")) for p in whoosh_dir.rglob("*.py")]
    return frozenset(_private_names(trees))


def _violations(path: Path, tree, whoosh_private: set[str], ours: set[str]) -> list[str]:
    out = []
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            for module in modules:
                if not module.startswith("whoosh"):
                    continue
                parts = module.split(".")
                if module.startswith(INTERNAL_MODULES) or any(p.startswith("_") for p in parts):
                    out.append(f"{where}:{node.lineno}: imports {module}")
                if isinstance(node, ast.ImportFrom):
                    for alias in node.names:
                        if alias.name.startswith("_"):
                            out.append(f"{where}:{node.lineno}: imports {module}.{alias.name}")
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if name in whoosh_private and name not in ours:
                out.append(f"{where}:{node.lineno}: touches .{name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in whoosh_private
            and node.args[1].value not in ours
        ):
            out.append(f"{where}:{node.lineno}: {node.func.id}(…, {node.args[1].value!r})")
    return out


def test_only_the_door_touches_whoosh_internals():
    """No module outside indexer/segments imports Whoosh's format modules, imports a
    private name from Whoosh, or reads an attribute whose private name Whoosh defines and
    this project does not (our own ``_cache`` is ours; ``_perdoc`` is Whoosh's)."""
    files = _source_files()
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in files}
    ours = _private_names(trees.values())
    whoosh_private = _whoosh_private_names()
    core = {"_perdoc", "_terms", "_reader", "_buf", "_next_block", "_ix"}
    assert core <= whoosh_private and core.isdisjoint(ours)  # else the scan cannot see them
    found = [v for p, t in trees.items() for v in _violations(p, t, whoosh_private, ours)]
    assert not found, "private Whoosh names outside indexer/segments:\n" + "\n".join(found)


def test_the_scan_catches_what_the_door_does():
    """The scan above finds the door's own contacts (so it can fail)."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in DOOR.glob("*.py")}
    whoosh_private = _whoosh_private_names()
    found = [v for p, t in trees.items() for v in _violations(p, t, whoosh_private, set())]
    text = "\n".join(found)
    for expected in ("imports whoosh.codec.whoosh3", "touches ._perdoc", "touches ._terms"):
        assert expected in text


# --------------------------------------------------------------------------- indexes to read
@pytest.fixture(scope="module")
def multi_segment(tmp_path_factory, demo_documents) -> Path:
    """Four segments (two by Whoosh's own writer, two by ours) with deletions in three."""
    directory = tmp_path_factory.mktemp("multi")
    ix = whoosh_index.create_in(str(directory), build_schema())
    docs = demo_documents
    batches = [docs[0::4], docs[1::4], docs[2::4], docs[3::4]]
    for number, batch in enumerate(batches):
        writer = (BulkWriter if number % 2 else SegmentWriter)(ix)
        for doc in batch:
            writer.add_document(**doc)
        writer.commit(merge=False)
    writer = ix.writer()
    for doc in batches[0][:3] + batches[1][1:2] + batches[3][-2:]:
        writer.delete_by_term("id", doc["id"])
    writer.commit(merge=False)
    ix.close()
    return directory


@pytest.fixture(scope="module", params=["demo", "multi_segment"])
def index_dir(request, demo_index, multi_segment) -> Path:
    if request.param == "demo":
        return store.current_generation(demo_index)
    return multi_segment


def test_the_multi_segment_index_has_what_it_claims(multi_segment):
    ix = whoosh_index.open_dir(str(multi_segment))
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) == 4
        assert sum(leaf.has_deletions() for leaf in leaves) == 3
    ix.close()


def _public_arrays(matcher) -> tuple[list[int], list[float]]:
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


# --------------------------------------------------------------------------- read-side equivalence
def test_posting_arrays_equal_whoosh_postings(index_dir):
    """Every term of every indexed field: the door's arrays (live documents) are Whoosh's
    public ``postings()`` ids and weights, per segment and over the whole index."""
    ix = segments.open_index(index_dir)
    terms = 0
    with ix.reader() as reader:
        live = segments.live_documents(reader)
        leaves = list(reader.leaf_readers())
        assert all(segments.fast_paths_available(leaf) for leaf, _ in leaves)
        for fieldname in reader.indexed_field_names():
            for tbytes in reader.lexicon(fieldname):
                whole_ids, whole_tfs = [], []
                for leaf, offset in leaves:
                    ids, tfs = segments.term_postings(leaf, fieldname, tbytes)
                    keep = live[ids + offset]
                    try:
                        expected = _public_arrays(leaf.postings(fieldname, tbytes))
                    except TermNotFound:
                        expected = ([], [])
                    assert (ids[keep].tolist(), tfs[keep].tolist()) == expected, (fieldname, tbytes)
                    whole_ids += (ids[keep] + offset).tolist()
                    whole_tfs += tfs[keep].tolist()
                assert (whole_ids, whole_tfs) == _public_arrays(reader.postings(fieldname, tbytes))
                terms += 1
    ix.close()
    assert terms > 1000


@pytest.fixture(scope="module")
def mapped_dir(index_dir, tmp_path_factory) -> Path:
    """A copy of ``index_dir`` whose segments all have posting arrays of every term."""
    directory = tmp_path_factory.mktemp("mapped") / "ix"
    shutil.copytree(index_dir, directory)
    for stale in directory.glob(f"*{arrays.SUFFIX}"):
        stale.unlink()
    ix = segments.open_index(directory)
    with ix.reader() as reader:
        written = segments.ensure_arrays(reader, min_df=1)
        assert len(written) == len(list(reader.leaf_readers()))
    ix.close()
    return directory


def test_term_masks_equal_the_live_posting_lists(mapped_dir):
    """``search.matching.TermMasks`` (each segment's part scattered from its mapped
    arrays, deleted documents masked) holds exactly the live documents of Whoosh's
    public posting list of each term; a term the arrays lack comes from ``postings``."""
    from search.matching import TermMasks

    ix = segments.open_index(mapped_dir)
    with ix.reader() as reader:
        live = segments.live_documents(reader)

        def postings(fieldname: str, text: str):
            try:
                ids = np.array(_public_arrays(reader.postings(fieldname, text))[0], dtype=np.int64)
            except TermNotFound:
                ids = np.zeros(0, dtype=np.int64)
            return ids[live[ids]], None

        masks = TermMasks(reader, live, postings)
        checked = 0
        for fieldname in ("title", "body", "title_fold", "body_fold", "body_pairs"):
            for term in list(reader.lexicon(fieldname))[::5]:
                text = term.decode("utf-8")
                expected = np.zeros(live.size, dtype=bool)
                expected[postings(fieldname, text)[0]] = True
                got = masks(fieldname, text)
                assert np.array_equal(got, expected), (fieldname, text)
                assert not got.flags.writeable
                checked += 1
        assert checked > 300
        assert not masks("body", "no-such-term").any()
        # several terms at once (a syllable in the title or the body): their union
        keys = [("title", t.decode()) for t in list(reader.lexicon("title"))[::40]]
        keys += [("body_fold", t.decode()) for t in list(reader.lexicon("body_fold"))[::60]]
        keys.append(("body", "no-such-term"))  # read from ``postings``
        for pair in zip(keys, keys[1:] + keys[:1]):
            union = masks(*pair[0]) | masks(*pair[1])
            got = masks.any_of(list(pair))
            assert np.array_equal(got, union), pair
            assert got.flags.writeable
        # long unions kept as bits (a few at a time): the same masks, each a new array
        kept = TermMasks(reader, live, postings, kept_bytes=3 * (live.size // 8 + 1))
        common = [("body_fold", t.decode()) for t in reader.lexicon("body_fold")]
        common = sorted(common, key=lambda k: -reader.doc_frequency(*k))[:6]
        for _ in range(3):
            for key in common:
                got = kept.any_of([key])
                assert np.array_equal(got, masks(*key)), key
                got[:] = True  # the caller's own array: nothing kept changes
        assert 0 < len(kept._kept) <= 3
        # the commonest syllables' unions made ahead (folded and as typed): the same masks
        ahead = TermMasks(reader, live, postings)
        assert ahead.keep_common(count=5) > 0
        assert {f for key in ahead._kept for f, _ in key} <= {
            "title_fold",
            "body_fold",
            "title",
            "body",
        }
        for key in list(ahead._kept):
            union = masks(*key[0]) | masks(*key[1])
            assert np.array_equal(ahead.any_of(list(key)), union), key
    ix.close()


def test_mapped_arrays_equal_whoosh_postings(mapped_dir):
    """Every term of every derived field is in its segment's mapped file, and the mapped
    ids and weights (live ones) are Whoosh's public ``postings()``, per segment; the
    block maxima are the largest weight of each run of ``BLOCK`` postings."""
    ix = segments.open_index(mapped_dir)
    terms = 0
    with ix.reader() as reader:
        live = segments.live_documents(reader)
        leaves = list(reader.leaf_readers())
        fields = [
            f for f in reader.indexed_field_names() if f in arrays._derived_fields(reader.schema)
        ]
        assert {"body", "body_fold", "title", "title_fold", "body_pairs"} <= set(fields)
        for leaf, offset in leaves:
            mapped = segments.arrays_for(leaf)
            assert mapped is not None and mapped.matches(arrays.segment_identity(leaf))
            for fieldname in fields:
                for tbytes in leaf.lexicon(fieldname):
                    found = mapped.lookup(fieldname, tbytes)
                    assert found is not None, (fieldname, tbytes)
                    ids, tfs = found[0].astype(np.int64), found[1].astype(np.float32)
                    decoded = whoosh_postings(leaf, fieldname, tbytes)
                    assert ids.tolist() == decoded[0].tolist()
                    assert tfs.tolist() == decoded[1].tolist()
                    keep = live[ids + offset]
                    expected = _public_arrays(leaf.postings(fieldname, tbytes))
                    assert (ids[keep].tolist(), tfs[keep].tolist()) == expected, (fieldname, tbytes)
                    served = segments.term_postings(leaf, fieldname, tbytes)
                    assert served[0].dtype == np.int64 and served[1].dtype == np.float32
                    assert served[0].tolist() == ids.tolist()
                    maxima = mapped.block_maxima(fieldname, tbytes)
                    runs = [
                        max(tfs[i : i + arrays.BLOCK]) for i in range(0, len(tfs), arrays.BLOCK)
                    ]
                    assert maxima.tolist() == runs
                    terms += 1
                assert mapped.lookup(fieldname, b"no-such-term-anywhere") is None
    ix.close()
    assert terms > 1000


def test_mapped_frequencies_equal_whoosh_document_frequencies(mapped_dir):
    """``mapped_frequency`` (the arrays' counts summed over segments) is Whoosh's
    ``doc_frequency`` (deleted documents included) for every term of every derived
    field, 0 for absent terms; None (ask Whoosh) for a field the arrays do not hold."""
    ix = segments.open_index(mapped_dir)
    checked = 0
    with ix.reader() as reader:
        fields = [
            f for f in reader.indexed_field_names() if f in arrays._derived_fields(reader.schema)
        ]
        assert {"title_pairs", "body_pairs", "title_fold"} <= set(fields)
        for fieldname in fields:
            for tbytes in reader.lexicon(fieldname):
                want = reader.doc_frequency(fieldname, tbytes)
                assert segments.mapped_frequency(reader, fieldname, tbytes) == want, tbytes
                checked += 1
            words = fieldname in ("title", "body", "title_fold", "body_fold")
            for absent in (
                ("qqzxwv", "hà_nội_xyz", "no_such") if words or "pairs" in fieldname else ()
            ):
                assert reader.doc_frequency(fieldname, absent) == 0
                assert segments.mapped_frequency(reader, fieldname, absent) == 0
        assert segments.mapped_frequency(reader, "no_such_field", "x") is None
    ix.close()
    assert checked > 1000


def test_missing_or_stale_arrays_are_rebuilt(mapped_dir, tmp_path):
    """A segment whose file is missing, or belongs to another segment, or is cut short,
    reads through Whoosh (the same postings) until ``ensure_arrays`` writes it again."""
    directory = tmp_path / "ix"
    shutil.copytree(mapped_dir, directory)
    files = sorted(directory.glob(f"*{arrays.SUFFIX}"))
    files[0].unlink()
    if len(files) > 1:  # another segment's file under this one's name: stale
        shutil.copy(files[2 % len(files)] if len(files) > 2 else files[1], files[0])
    if len(files) > 1:
        files[1].write_bytes(files[1].read_bytes()[:100])  # cut short: unreadable
    ix = segments.open_index(directory)
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        by_path = {arrays.arrays_path(leaf): leaf for leaf in leaves}
        broken = [by_path[p] for p in files[:2]]
        assert all(segments.arrays_for(leaf) is None for leaf in broken)
        tbytes = next(
            t for t in broken[0].lexicon("body_fold") if broken[0].doc_frequency("body_fold", t) > 1
        )
        assert (
            segments.term_postings(broken[0], "body_fold", tbytes)[0].tolist()
            == whoosh_postings(broken[0], "body_fold", tbytes)[0].tolist()
        )
        written = segments.ensure_arrays(reader, min_df=1)
        assert sorted(written) == sorted(files[:2])
        assert segments.ensure_arrays(reader, min_df=1) == []  # nothing left to do
        time.sleep(arrays.RECHECK_SECONDS)
        for leaf in broken:
            mapped = segments.arrays_for(leaf)
            assert (
                mapped is not None
                and mapped.lookup(
                    "body_fold",
                    tbytes if leaf is broken[0] else next(iter(leaf.lexicon("body_fold"))),
                )
                is not None
            )
    ix.close()
    assert not list(directory.glob("*.tmp")) and not list(directory.glob(".*.tmp"))


def test_arrays_of_another_version_or_with_fewer_lists_are_stale(mapped_dir, tmp_path):
    """A file of another format version, or one holding only longer lists than ``MIN_DF``
    asks for (as files written before short lists were held), is stale wherever the arrays
    are opened: ``arrays_for`` ignores it (terms read through Whoosh, the same postings)
    and ``ensure_arrays`` (a snapshot's warming, ``bench.scale``) writes it again."""
    directory = tmp_path / "ix"
    shutil.copytree(mapped_dir, directory)
    ix = segments.open_index(directory)
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) >= 2
        old, fewer = leaves[0], leaves[1]
        arrays.build_arrays(fewer, min_df=64)  # long lists only
        path = arrays.build_arrays(old)
        raw = path.read_bytes()
        at = raw.index(b'"version": %d' % arrays.VERSION)
        path.write_bytes(raw[:at] + b'"version": %d' % (arrays.VERSION - 1) + raw[at + 12 :])
        assert arrays.PostingArrays(path).header["version"] == arrays.VERSION - 1
        assert arrays.PostingArrays(arrays.arrays_path(fewer)).header["min_df"] == 64
        time.sleep(arrays.RECHECK_SECONDS)
        for leaf in (old, fewer):
            assert segments.arrays_for(leaf) is None
            tbytes = next(
                t for t in leaf.lexicon("body_pairs") if leaf.doc_frequency("body_pairs", t) == 1
            )
            assert (
                segments.term_postings(leaf, "body_pairs", tbytes)[0].tolist()
                == whoosh_postings(leaf, "body_pairs", tbytes)[0].tolist()
            )
        # a file holding more lists than asked for is current
        assert segments.ensure_arrays(reader, min_df=64) == [arrays.arrays_path(old)]
        written = segments.ensure_arrays(reader)
        assert sorted(written) == sorted(arrays.arrays_path(leaf) for leaf in (old, fewer))
        assert segments.ensure_arrays(reader) == []
        time.sleep(arrays.RECHECK_SECONDS)
        for leaf in (old, fewer):
            mapped = segments.arrays_for(leaf)
            assert mapped is not None
            assert mapped.header["version"] == arrays.VERSION
            assert mapped.header["min_df"] == arrays.MIN_DF == 1
            assert mapped.matches(arrays.segment_identity(leaf))
    ix.close()


def test_whoosh_removes_a_merged_segment_arrays(mapped_dir, tmp_path, demo_documents):
    """The arrays file follows its segment: after a merge Whoosh's own clean-up deletes it,
    and the writer's commit derives the merged segment's file."""
    directory = tmp_path / "ix"
    shutil.copytree(mapped_dir, directory)
    before = {p.name for p in directory.glob(f"*{arrays.SUFFIX}")}
    ix = segments.open_index(directory)
    writer = ix.writer()
    writer.add_document(**demo_documents[0] | {"id": "merged-extra"})
    writer.commit(optimize=True)
    ix.close()
    segments.ensure_index_arrays(directory)
    after = {p.name for p in directory.glob(f"*{arrays.SUFFIX}")}
    assert len(after) == 1 and not (after & before)


def _arrays_as_decoded(directory: Path) -> list[tuple[bytes, bytes]]:
    """Each segment's posting-arrays file as written, then as ``build_arrays`` decodes it
    from the segment (which replaces the file)."""
    ix = segments.open_index(directory)
    pairs = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            path = arrays.arrays_path(leaf)
            written = path.read_bytes()
            arrays.build_arrays(leaf, min_df=1)
            pairs.append((written, path.read_bytes()))
    ix.close()
    return pairs


def test_the_bulk_writer_writes_the_arrays_it_would_decode(tmp_path, demo_documents):
    """The posting-arrays file the bulk writer writes beside each segment, from the lists
    it has just written, is byte for byte the one decoded from the segment afterwards:
    for segments rolled within one commit, and for a merged segment."""
    directory = tmp_path / "ix"
    directory.mkdir()
    ix = whoosh_index.create_in(str(directory), build_schema())
    writer = BulkWriter(ix, min_df=1, segment_postings=3000)
    for doc in demo_documents[:30]:
        writer.add_document(**doc)
    writer.commit(merge=False)
    rolled = _arrays_as_decoded(directory)
    assert len(rolled) >= 3
    for written, decoded in rolled:
        assert written == decoded
    writer = BulkWriter(segments.open_index(directory), min_df=1)
    for doc in demo_documents[30:]:
        writer.add_document(**doc)
    writer.commit(optimize=True)
    merged = _arrays_as_decoded(directory)
    assert len(merged) == 1 and merged[0][0] == merged[0][1]
    header = arrays.PostingArrays(next(directory.glob(f"*{arrays.SUFFIX}"))).header
    assert header["segment"]["documents"] == len(demo_documents)


def test_an_indexing_run_removes_an_older_releases_arrays_files(scratch_index, demo_dir):
    """Files of another arrays version beside the segments (an index from an older
    release) are removed by the next indexing run, which leaves this version's."""
    from indexer.writer import index_paths

    gen = store.current_generation(scratch_index)
    old = [
        gen / f"{p.name.removesuffix(arrays.SUFFIX)}.postings_arrays"
        for p in gen.glob(f"*{arrays.SUFFIX}")
    ]
    assert old
    for path in old:
        path.write_bytes(b"VNPARR01")
    index_paths([demo_dir / "articles.jsonl"], scratch_index)
    gen = store.current_generation(scratch_index)
    assert not any(arrays.of_another_version(p.name) for p in gen.iterdir())
    assert list(gen.glob(f"*{arrays.SUFFIX}"))
    assert segments.ensure_index_arrays(gen) == []


def test_an_indexing_run_leaves_no_arrays_to_derive(demo_index):
    """``vnsearch index`` writes every segment's arrays with the segment: the commit's
    ``ensure_index_arrays`` finds nothing left to decode."""
    assert segments.ensure_index_arrays(store.current_generation(demo_index)) == []


def test_term_tables_equal_whoosh_term_infos(index_dir):
    """A field's terms with total and document frequencies: Whoosh's ``term_info``."""
    ix = segments.open_index(index_dir)
    with ix.reader() as reader:
        for fieldname in reader.indexed_field_names():
            expected: dict[bytes, list] = {}
            for leaf, _ in reader.leaf_readers():
                for tbytes in leaf.lexicon(fieldname):
                    info = leaf.term_info(fieldname, tbytes)
                    total = expected.setdefault(tbytes, [0.0, 0])
                    total[0] += info.weight()
                    total[1] += info.doc_frequency()
            ours = list(segments.field_terms(reader, fieldname))
            assert [t for t, _, _ in ours] == sorted(expected)
            assert {t: [w, df] for t, w, df in ours} == expected, fieldname
    ix.close()


def test_lengths_stored_fields_and_deletions_equal_whoosh(index_dir):
    ix = segments.open_index(index_dir)
    with ix.reader() as reader:
        live = segments.live_documents(reader)
        assert np.flatnonzero(live).tolist() == list(reader.all_doc_ids())
        text_fields = [f for f in reader.indexed_field_names() if reader.schema[f].scorable]
        for leaf, offset in reader.leaf_readers():
            stored = segments.stored_fields_reader(leaf)
            for fieldname in text_fields:
                lengths = segments.field_lengths(leaf, fieldname)
                expected = [
                    leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(leaf.doc_count_all())
                ]
                assert lengths.tolist() == expected, fieldname
            for d in range(leaf.doc_count_all()):
                if live[offset + d]:
                    assert stored(d) == leaf.stored_fields(d)
        by_number = segments.stored_fields_by_number(reader)
        documents = 0
        for d in range(reader.doc_count_all()):  # deleted ones too, as Whoosh reads them
            assert by_number(d) == reader.stored_fields(d)
            documents += 1
        assert documents == reader.doc_count_all() > 0
    with pytest.raises(ReaderClosed):
        by_number(0)
    ix.close()


def test_a_second_reader_reads_the_same_segments(index_dir):
    ix = segments.open_index(index_dir)
    with ix.reader() as reader:
        other = segments.reader_over(ix, reader)
        try:
            ids = [leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()]
            assert [leaf.segment().segment_id() for leaf, _ in other.leaf_readers()] == ids
            assert other is not reader
            tbytes = next(iter(reader.lexicon("body")))
            assert _public_arrays(other.postings("body", tbytes)) == _public_arrays(
                reader.postings("body", tbytes)
            )
        finally:
            other.close()
    ix.close()


# --------------------------------------------------------------------------- a genuine Whoosh index
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _syllables(text: str) -> set[str]:
    return set(re.findall(r"\w+", unicodedata.normalize("NFC", text or "").lower()))


@pytest.mark.parametrize(
    ("fieldname", "query", "words", "fold"),
    [
        ("body_fold", "hong phuc", ("hong", "phuc"), True),
        ("body", "đảng", ("đảng",), False),
        ("title", "quận", ("quận",), False),
    ],
)
def test_whoosh_own_searcher_finds_our_documents(index_dir, fieldname, query, words, fold):
    """``whoosh.index.open_dir`` + Whoosh's ``QueryParser`` and searcher find exactly the
    live documents whose stored text holds every word (read without our analyser)."""
    ix = whoosh_index.open_dir(str(index_dir))
    stored_field = fieldname.removesuffix("_fold")
    with ix.searcher() as searcher:
        expected = set()
        for docnum in searcher.reader().all_doc_ids():
            stored = searcher.stored_fields(docnum)
            text = stored.get(stored_field) or ""
            have = _syllables(_fold(text) if fold else text)
            if all(w in have for w in words):
                expected.add(stored["id"])
        parsed = QueryParser(fieldname, ix.schema).parse(query)
        found = {hit["id"] for hit in searcher.search(parsed, limit=None)}
    ix.close()
    assert expected
    assert found == expected


def _resident_bytes(mapped: mmap.mmap) -> int | None:
    """Bytes of a file mapping that are in this process's page tables (its ``Rss`` in
    ``/proc/self/smaps``), or None when that cannot be read."""
    start = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return None
    inside = False
    for line in lines:
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:  # a mapping's line
            inside = int(head[0].split("-")[0], 16) == start
        elif inside and head and head[0] == "Rss:":
            return int(head[1]) * 1024
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_POPULATE_READ is Linux's")
def test_populated_maps_are_mapped_whole_and_a_warmed_snapshot_populates_them(
    mapped_dir, demo_index
):
    """``PostingArrays.populate`` puts every page of the file in the process's page
    tables (no query takes a fault on it later), where a fresh map holds only what was
    touched; the snapshot's warming thread does it for the posting arrays and segment
    files its queries read (``segments.populate``)."""
    from search.engine import Engine

    path = min(mapped_dir.glob(f"*{arrays.SUFFIX}"))
    size = path.stat().st_size
    pages = size - size % 4096
    fresh = arrays.PostingArrays(path)
    fresh._map.madvise(mmap.MADV_DONTNEED)  # the pages stay cached; the mapping is empty
    assert _resident_bytes(fresh._map) < pages or pages == 0
    if not fresh.populate():
        pytest.skip("the kernel cannot populate a mapping (Linux before 5.14)")
    assert _resident_bytes(fresh._map) >= pages

    served = Engine(demo_index, preload_segmenter=False)
    try:
        snap = served.snapshot()
        assert snap.ready.wait(60)
        for leaf, _ in snap.searcher.reader().leaf_readers():
            mapped = segments.arrays_for(leaf)
            assert mapped is not None and mapped.path == arrays.arrays_path(leaf)
            compound = leaf._storage.a._file._map  # the segment file (stored fields…)
            for whole in (mapped._map, compound):
                assert _resident_bytes(whole) >= len(whole) - len(whole) % 4096
    finally:
        served.close()
