"""BulkWriter writes exactly what Whoosh's own SegmentWriter writes, read back by Whoosh."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from indexer.schema import TEXT_FIELDS, build_schema
from indexer.segments.writing import BulkWriter


@pytest.fixture(scope="module")
def documents(demo_documents) -> list[dict]:
    return demo_documents


def _write(directory: Path, writer_class, batches: list[list[dict]], **kwargs):
    directory.mkdir()
    ix = whoosh_index.create_in(str(directory), build_schema())
    for batch in batches:
        writer = writer_class(ix, **kwargs)
        for doc in batch:
            writer.add_document(**doc)
        writer.commit()
    return whoosh_index.open_dir(str(directory))


def _contents(ix) -> dict:
    """Every term's statistics and postings, every document's stored fields and lengths."""
    out = {}
    with ix.reader() as reader:
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            matcher = reader.postings(fieldname, text)
            postings = []
            while matcher.is_active():
                postings.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length())
            out[fieldname, text] = (
                stats,
                info.max_weight(),
                info.min_id(),
                info.max_id(),
                postings,
            )
        for docnum, stored in reader.iter_docs():
            # a segment where no document has a term of a field (the codes of titles, when
            # a run is cut into segments) has no length column: Whoosh says 0, not None
            lengths = [reader.doc_field_length(docnum, f) or 0 for f in TEXT_FIELDS]
            out["doc", docnum] = (stored, lengths)
        out["field_length"] = [reader.field_length(f) for f in TEXT_FIELDS]
    return out


def test_one_segment_matches_whoosh(tmp_path, documents):
    ours = _write(tmp_path / "bulk", BulkWriter, [documents])
    theirs = _write(tmp_path / "whoosh", SegmentWriter, [documents])
    assert _contents(ours) == _contents(theirs)
    assert any(k[0] == "body_pairs" for k in _contents(ours))


def test_rolled_segments_read_the_same(tmp_path, documents):
    ours = _write(tmp_path / "bulk", BulkWriter, [documents], segment_postings=3000)
    theirs = _write(tmp_path / "whoosh", SegmentWriter, [documents])
    assert len(ours._segments()) > 2  # the run was cut into several segments
    assert _contents(ours) == _contents(theirs)


def test_merges_and_deletions_match_whoosh(tmp_path, documents):
    batches = [documents[:10], documents[10:13], documents[13:15], documents[15:]]
    ours = _write(tmp_path / "bulk", BulkWriter, batches)
    theirs = _write(tmp_path / "whoosh", SegmentWriter, batches)
    assert _contents(ours) == _contents(theirs)
    for ix, cls in ((ours, BulkWriter), (theirs, SegmentWriter)):
        writer = cls(ix)
        writer.delete_by_term("id", documents[0]["id"])
        writer.add_document(**documents[0])
        writer.commit(optimize=True)  # merges every segment through the bulk path
    ours, theirs = (
        whoosh_index.open_dir(str(tmp_path / "bulk")),
        whoosh_index.open_dir(str(tmp_path / "whoosh")),
    )
    assert len(ours._segments()) == 1
    assert _contents(ours) == _contents(theirs)
