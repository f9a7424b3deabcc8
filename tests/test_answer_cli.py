"""``policy-assistant ask``: single question, --json, --batch (plain and JSONL), errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd=ROOT, stdin=None):
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_missing_index_names_the_build_command(tmp_path):
    p = _run("--index-dir", str(tmp_path / "nothing"), "ask", "PM2.5年均浓度目标是多少?")
    assert p.returncode == 2
    assert "policy-assistant index build" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_ask_json_and_text(built_index):
    idx = str(built_index.index_dir)
    p = _run("--index-dir", idx, "ask", "PM2.5年均浓度目标是多少?", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["status"] == "answered" and "39ug/m3" in d["answer"]
    assert {"retrieve", "answer", "total"} <= set(d["timings_ms"]) and d["citations"][0]["section"]
    p = _run("--index-dir", idx, "ask", "谁牵头铊污染专项治理攻坚行动?")
    assert p.returncode == 0 and "[文件未明确" in p.stdout and "来源:" in p.stdout and "›" in p.stdout


@pytest.mark.slow
def test_batch_plain_and_jsonl_with_bad_lines(built_index, tmp_path):
    f = tmp_path / "q.txt"
    f.write_text('森林覆盖率目标是多少?\n{"q": "个人所得税起征点是多少?"}\n？？？\n\n{"q": "七大示范工程有哪些?"}\n',
                 encoding="utf-8")
    p = _run("--index-dir", str(built_index.index_dir), "ask", "--json", "--batch", str(f))
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["status"] for r in rows] == ["answered", "not_found", "not_found", "answered"]
    assert "error" in rows[2] and "Traceback" not in p.stdout + p.stderr
    assert "\\u" not in p.stdout  # ensure_ascii=False


@pytest.mark.slow
def test_empty_question_and_doc_filter(built_index):
    idx = str(built_index.index_dir)
    p = _run("--index-dir", idx, "ask", "   ")
    assert p.returncode == 2 and "问题是空的" in p.stderr
    p = _run("--index-dir", idx, "ask", "罚款", "--doc", "不存在的文件名", "--json")
    assert p.returncode == 2 and "no document matches" in p.stderr
    p = _run("--index-dir", idx, "ask", "什么时候施行?", "--doc", "排污许可管理条例", "--json")
    d = json.loads(p.stdout)
    assert all("排污许可管理条例" in c["doc_title"] for c in d["citations"])
