"""Bad input: each case is reported with the file name and the reason; the rest still ingests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policy_assistant.core.errors import CorpusError
from policy_assistant.corpus.ingest import load_corpus

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
GOOD = "环境保护法(2014-04-24).md"


@pytest.fixture()
def messy(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    shutil.copy(CORPUS / GOOD, d / GOOD)
    (d / "empty.txt").write_bytes(b"")
    (d / "junk.txt").write_bytes(bytes(range(256)) * 40)
    (d / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf \n%%EOF")
    (d / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (d / "table.xlsx").write_bytes(b"whatever")
    gbk = "测试通知\n\n一、总体要求\n\n坚持生态优先。\n".encode("gbk")
    (d / "gbk.txt").write_bytes(gbk)
    (d / "bom.md").write_bytes("\ufeff# 测试办法\n\n第一条 一。\n\n第二条 二。\n\n第三条 三。\n".encode())
    return d


def test_each_bad_file_is_reported_and_the_rest_ingests(messy):
    result = load_corpus([messy, messy.parent / "does-not-exist"], allow_missing=True)
    titles = {d.title for d in result.documents}
    assert titles == {"中华人民共和国环境保护法", "测试通知", "测试办法"}
    text = "\n".join(result.warnings)
    assert "empty.txt: file is empty" in text
    assert "junk.txt: not readable text" in text
    assert "broken.pdf: cannot read PDF" in text
    assert "broken.docx: not a valid Word .docx file" in text
    assert "table.xlsx: skipped, unsupported file type .xlsx" in text
    assert "does-not-exist: corpus folder does not exist" in text
    bom = next(d for d in result.documents if d.title == "测试办法")
    assert len(result.chunks_for(bom.doc_id)) == 3


def test_nothing_readable_raises_with_the_fix(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CorpusError) as err:
        load_corpus([tmp_path])
    assert "no document could be read" in err.value.message and "empty.txt" in err.value.message
    assert "corpus_dirs" in err.value.fix


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], capture_output=True, text=True, timeout=120)


def test_cli_exits_nonzero_only_when_nothing_could_be_read(messy, tmp_path):
    ok = _cli("--corpus", str(messy), "corpus", "show")
    assert ok.returncode == 0, ok.stderr
    assert "3 documents" in ok.stdout and "empty.txt" in ok.stdout
    missing = _cli("--corpus", str(tmp_path / "nope"), "corpus", "show")
    assert missing.returncode == 2
    assert "error:" in missing.stderr and "Traceback" not in missing.stderr


def test_cli_chunks_json_fields():
    import json

    out = _cli("--corpus", str(CORPUS), "corpus", "chunks", "排污许可管理条例", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 52  # 51 articles + the 文件信息 date block
    row = rows[14]
    assert {"doc_id", "doc_title", "section", "path", "text"} <= set(row)
    assert row["section"] == "排污许可管理条例 › 第二章 申请与审批 › 第十四条"
    assert row["path"] == ["第二章 申请与审批", "第十四条"]
