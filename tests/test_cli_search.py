"""``vnsearch``: the /search of the terminal and the other commands (through ``cli.main``)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

import cli
from search import cli as search_cli
from search import export
from search.engine import SearchRequest


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_prints_numbered_hits_with_marks_in_brackets(capsys, demo_index, engine):
    code, out, _ = run(capsys, "search", "đại hội", "--index", str(demo_index), "--limit", "3")
    assert code == 0
    expected = engine.search(SearchRequest(q="đại hội", per_page=3))
    for n, hit in enumerate(expected["hits"], 1):
        assert f"{n}. {hit['title']}" in out
        assert f"id: {hit['id']}" in out
        assert hit["date"][:10] in out
    assert "4. " not in out
    assert "[Đại hội" in out or "[đại hội" in out  # not a tty: marks as [...]
    assert "<mark>" not in out and "\x1b[" not in out
    assert f"3 of {expected['total']} matches" in out


def test_filters_and_sort(capsys, demo_index):
    argv = ["search", "", "--index", str(demo_index), "--json", "--limit", "50"]
    code, out, _ = run(capsys, *argv, "--category", "Giáo dục", "--sort", "oldest")
    answer = json.loads(out)
    assert code == 0 and answer["total"] >= 2
    assert {h["category"] for h in answer["hits"]} == {"Giáo dục"}
    dates = [h["date"] for h in answer["hits"]]
    assert dates == sorted(dates)
    code, out, _ = run(capsys, *argv, "--from", "2021", "--to", "2021-12")
    answer = json.loads(out)
    assert answer["total"] > 0 and all(h["date"].startswith("2021") for h in answer["hits"])
    code, out, _ = run(capsys, *argv, "--official", "nguyen van an")
    answer = json.loads(out)
    assert answer["total"] > 0
    assert all("Nguyễn Văn An" in h["officials"] for h in answer["hits"])


def test_json_is_the_search_answer(capsys, demo_index, engine):
    code, out, _ = run(
        capsys, "search", "giáo dục OR thể thao", "--index", str(demo_index), "--json"
    )
    answer = json.loads(out)
    expected = engine.search(SearchRequest(q="giáo dục OR thể thao"))
    assert code == 0
    assert [h["id"] for h in answer["hits"]] == [h["id"] for h in expected["hits"]]
    assert answer["total"] == expected["total"]
    assert {"facets", "next", "relaxed", "sort"} <= answer.keys()


def test_csv_streams_every_match_like_the_export(capsysbinary, demo_index, engine):
    code = cli.main(["search", "quận", "--index", str(demo_index), "--csv", "--limit", "2"])
    out = capsysbinary.readouterr().out
    assert code == 0
    assert out.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(out.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(export.BASE_FIELDS) + ["score"]  # relevance order, as /export
    assert len(rows) - 1 == 2  # --limit holds for every format
    _, chunks = export.export_stream(engine, SearchRequest(q="quận"), "csv", limit=2)
    assert out == b"".join(chunks)
    code = cli.main(["search", "quận", "--index", str(demo_index), "--csv"])
    every = capsysbinary.readouterr().out.decode("utf-8-sig").splitlines()
    total = engine.search(SearchRequest(q="quận"))["total"]
    assert len(every) - 1 == total > 2  # without --limit: every match, as /export


def test_no_match_bad_input_and_missing_index(capsys, demo_index, tmp_path):
    code, out, _ = run(capsys, "search", "zzqxw", "--index", str(demo_index))
    assert code == 1 and "0 of 0 matches" in out
    code, _, err = run(capsys, "search", "quận", "--index", str(demo_index), "--from", "2020-13")
    assert code == 2 and "month" in err
    code, _, err = run(capsys, "search", "quận date:2020-13", "--index", str(demo_index))
    assert code == 2 and "date:2020-13" in err
    code, _, err = run(capsys, "search", "quận", "--index", str(tmp_path / "none"))
    assert code == 2 and "no index" in err
    with pytest.raises(SystemExit):
        cli.main(["search", "quận", "--limit", "0"])
    capsys.readouterr()


def test_arguments_that_are_not_utf8_are_refused_naming_them(capsys, demo_index, scratch_index):
    """Bytes a terminal sends that UTF-8 cannot read reach Python as lone surrogates: the
    search exits 2 naming the argument (it searched as if they were not there, and an
    OR beside them raised); a delete exits 2 and deletes nothing (it failed with a
    UnicodeEncodeError)."""
    bad = b"th\xe0nh".decode("utf-8", "surrogateescape")  # Latin-1 "thành" cut short
    index = str(demo_index)
    for argv, name in [
        (["search", bad, "--index", index], "query"),
        (["search", f"{bad} OR hà", "--index", index], "query"),
        (["search", "thanh", "--category", bad, "--index", index], "--category"),
        (["search", "thanh", "--official", bad, "--index", index], "--official"),
        (["search", "thanh", "--csv", "--official", bad, "--index", index], "--official"),
    ]:
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", argv
        assert f"the {name} 'th\\xe0nh" in err and "is not UTF-8 text" in err, err
    _, out, _ = run(capsys, "search", "", "--index", str(scratch_index), "--json")
    before = json.loads(out)["total"]
    code, out, err = run(capsys, "delete", bad, "demo-001", "--index", str(scratch_index))
    assert code == 2 and "'th\\xe0nh' is not UTF-8 text; nothing was deleted" in err
    _, out, _ = run(capsys, "search", "", "--index", str(scratch_index), "--json")
    assert json.loads(out)["total"] == before


def test_the_indexer_commands_are_still_there(capsys, demo_index):
    code, out, _ = run(capsys, "stats", "--index", str(demo_index), "--json")
    assert code == 0 and json.loads(out)["documents"] > 0


def test_terminal_rendering_uses_bold():
    snippet = "…trước <mark>Đại hội</mark> &amp; sau…"
    assert search_cli.render_snippet(snippet, tty=True) == "…trước \x1b[1mĐại hội\x1b[0m & sau…"
    assert search_cli.render_snippet(snippet, tty=False) == "…trước [Đại hội] & sau…"


def test_json_keeps_the_limit(capsys, demo_index):
    code, out, _ = run(
        capsys, "search", "quận", "--index", str(demo_index), "--json", "--limit", "2"
    )
    assert code == 0 and len(json.loads(out)["hits"]) == 2


def test_version_and_complete_help(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"vnsearch \d+\.\d+\.\d+\n", out)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    top = capsys.readouterr().out
    for command in ("index", "delete", "stats", "search", "queries", "serve"):
        assert re.search(rf"^\s+{command}\s+\S", top, re.MULTILINE), (
            f"{command} missing from --help"
        )
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        lines = capsys.readouterr().out.splitlines()
        assert any(line.strip().startswith("--index") for line in lines), command
        for i, line in enumerate(lines):
            if not re.match(r"^  -", line):
                continue
            wrapped = i + 1 < len(lines) and re.match(r"^\s{6,}\S", lines[i + 1])
            assert re.search(r"\S\s{2,}\S", line.strip()) or wrapped, f"{command}: {line}"


def test_serve_without_an_index_says_how_to_build_one(capsys, tmp_path):
    code, _, err = run(capsys, "serve", "--index", str(tmp_path / "none"))
    assert code == 2 and "vnsearch index" in err


def test_search_does_not_load_what_one_query_does_not_need(demo_index):
    """One query in a fresh process: no posting lists warmed, no page-cache prefetch, no
    HTTP framework, no spelling tables (an accented query with results needs none) and no
    TOML reader (no settings file named)."""
    import subprocess
    import sys

    code = (
        "import sys, cli; rc = cli.main(['search', 'quận', '--index', sys.argv[1]]);"
        "import threading; assert not [t for t in threading.enumerate() if t.name == 'warm-postings'];"
        "assert 'falcon' not in sys.modules and 'gunicorn' not in sys.modules;"
        "assert 'search.spelling' not in sys.modules and 'tomllib' not in sys.modules;"
        "sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(demo_index)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def test_serve_answers_over_http(demo_index):
    """``vnsearch serve`` runs gunicorn over the index (what ``make serve`` does)."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path
    from urllib.request import urlopen

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).parent / "vnsearch"
    proc = subprocess.Popen(
        [str(script), "serve", "--index", str(demo_index), "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
                    assert json.load(resp)["documents"] > 30
                    break
            except OSError:
                assert proc.poll() is None, "vnsearch serve exited"
                assert time.monotonic() < deadline, "vnsearch serve did not answer"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
