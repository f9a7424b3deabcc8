"""Issue 10 (reliability), corpus faults: a missing corpus folder, duplicate documents, symbolic-link loops
and the ingest time of a long section."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fault_helpers import TINY_LAW, write_tiny_corpus

from policy_assistant.core.errors import CorpusError
from policy_assistant.corpus.ingest import load_corpus

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
LAW = "环境保护法(2014-04-24).md"


def _cli(*args, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def _one_error_line(r) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    return lines[0]


# --------------------------------------------------------------------------- a missing corpus folder


def test_missing_corpus_folder_is_an_error_unless_allowed(tmp_path):
    """Issue 10: a missing one of two corpus folders silently dropped its documents."""
    good = write_tiny_corpus(tmp_path / "good")
    missing = tmp_path / "gone"
    with pytest.raises(CorpusError) as err:
        load_corpus([good, missing])
    assert str(missing) in err.value.message and "does not exist" in err.value.message
    assert "--allow-missing" in err.value.fix
    result = load_corpus([good, missing], allow_missing=True)
    assert len(result.documents) == 2
    assert any("gone: corpus folder does not exist" in w for w in result.warnings)


def test_cli_missing_one_of_two_folders_exits_2(tmp_path):
    """Issue 10: `corpus show` / `index build` with a missing one of two folders exited 0."""
    good = write_tiny_corpus(tmp_path / "good")
    missing = tmp_path / "gone"
    line = _one_error_line(_cli("--corpus", str(good), "--corpus", str(missing), "corpus", "show"))
    assert "gone: corpus folder does not exist" in line and "--allow-missing" in line
    index_dir = tmp_path / "index"
    _one_error_line(_cli("--corpus", str(good), "--corpus", str(missing), "--index-dir", str(index_dir),
                         "index", "build"))
    ok = _cli("--allow-missing", "--corpus", str(good), "--corpus", str(missing), "corpus", "show")
    assert ok.returncode == 0 and "2 documents" in ok.stdout and "corpus folder does not exist" in ok.stdout
    by_config = _cli("--corpus", str(good), "--corpus", str(missing), "corpus", "show",
                     env={"POLICY_ASSISTANT_ALLOW_MISSING_CORPUS": "true"})
    assert by_config.returncode == 0, by_config.stderr


def test_corpus_path_that_is_a_file_is_an_error(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        load_corpus([f])
    assert "is a file, not a corpus folder" in err.value.message


# --------------------------------------------------------------------------- duplicate documents


def test_duplicate_documents_are_read_once_with_a_warning(tmp_path):
    """Issue 10: the same text under two names was indexed twice (every passage cited twice)."""
    d = tmp_path / "docs"
    d.mkdir()
    shutil.copy(CORPUS / LAW, d / LAW)
    shutil.copy(CORPUS / LAW, d / "环境保护法-副本.md")
    result = load_corpus([d])
    assert [doc.file for doc in result.documents] == [LAW]
    assert len({c.text for c in result.chunks}) == len(result.chunks)
    warning = next(w for w in result.warnings if "same text" in w)
    assert "环境保护法-副本.md" in warning and LAW in warning and "indexed once" in warning
    copy = next(s for s in result.sources if s.path.name == "环境保护法-副本.md")
    assert copy.doc_id is None and copy.duplicate_of == result.documents[0].doc_id


@pytest.mark.slow
def test_duplicate_document_is_cited_once(tmp_path):
    """Issue 10: every passage of a duplicated document was cited twice."""
    corpus = write_tiny_corpus(tmp_path / "docs")
    (corpus / "示例保护法-副本.md").write_text(TINY_LAW, encoding="utf-8")
    index_dir = str(tmp_path / "index")
    built = _cli("--corpus", str(corpus), "--index-dir", index_dir, "index", "build", "--json")
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["n_documents"] == 2 and any("same text" in w for w in report["warnings"])
    r = _cli("--corpus", str(corpus), "--index-dir", index_dir, "ask", "未取得排污许可证排放示例污染物罚多少?", "--json")
    assert r.returncode == 0, r.stderr
    texts = [c["text"] for c in json.loads(r.stdout)["citations"]]
    assert texts and len(texts) == len(set(texts)), texts


# --------------------------------------------------------------------------- symbolic links


def test_symlink_loop_gets_the_loop_fix(tmp_path):
    """Issue 10: symbolic-link loops got the wrong fix text ("check the file permissions")."""
    d = write_tiny_corpus(tmp_path / "docs")
    (d / "loop.md").symlink_to("loop.md")
    (d / "a.md").symlink_to("b.md")
    (d / "b.md").symlink_to("a.md")
    (d / "dangling.txt").symlink_to("nowhere.txt")
    result = load_corpus([d])
    assert len(result.documents) == 2
    text = "\n".join(result.warnings)
    for name in ("loop.md", "a.md", "b.md"):
        line = next(w for w in result.warnings if w.startswith(f"{name}:"))
        assert "symbolic link points to itself (a loop)" in line, line
    assert "nowhere.txt" in text and "fix or remove the link" in text
    assert "permission" not in text


def test_symlink_loop_as_corpus_folder(tmp_path):
    loop = tmp_path / "corpus"
    loop.symlink_to(loop)
    with pytest.raises(CorpusError) as err:
        load_corpus([loop])
    assert "loop" in err.value.fix and "permission" not in err.value.fix


def test_read_raw_reports_the_loop_fix(tmp_path):
    from policy_assistant.corpus.readers import read_raw

    loop = tmp_path / "x.txt"
    loop.symlink_to(loop)
    with pytest.raises(CorpusError) as err:
        read_raw(loop)
    assert "loop" in err.value.fix


# --------------------------------------------------------------------------- ingest time of a long section


def _text_written(monkeypatch, lines: list[str], law: bool) -> tuple[int, int]:
    """Characters written to Section.text while parsing ``lines`` and the characters of the result."""
    from policy_assistant.corpus import structure
    from policy_assistant.corpus.model import Section

    written = [0]

    class CountingSection(Section):
        def __setattr__(self, name, value):
            if name == "text":
                written[0] += len(value)
            super().__setattr__(name, value)

    monkeypatch.setattr(structure, "Section", CountingSection)
    root = structure.parse_structure(lines)
    total = sum(len(s.text) for _, s in root.walk())
    assert total >= sum(len(x) for x in lines[3:])  # every line is somewhere
    return written[0], total


@pytest.mark.parametrize("law", [False, True])
def test_section_text_is_assembled_in_linear_time(monkeypatch, law):
    """Issue 10: ingest was quadratic in file size (`_append_text` copied the accumulated text on every
    line; 8 MB took 15 s, 50 MB did not finish in 27 minutes). Timings are in benchmarks/bench_ingest.py;
    here the work is counted: the characters written to section texts stay proportional to the input."""
    prose = [f"示例段落第{i}行，内容用于检验文本拼接只做一次。" for i in range(5000)]
    lines = (["第一条 总则。", "第二条 范围。", "第三条 适用。"] if law else ["一、总体要求", "（一）基本原则", "正文"]) + prose
    written, total = _text_written(monkeypatch, lines, law)
    assert written <= 2 * total + 1000, f"{written} characters written for {total} characters of text"
