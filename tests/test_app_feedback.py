"""Feedback log, the app's pure helpers and the ``app`` / ``feedback`` CLI commands (no index needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from policy_assistant.eval.feedback import FeedbackStore

ROOT = Path(__file__).resolve().parents[1]

ANSWER = {
    "question": "排污许可证有效期是几年?",
    "status": "answered",
    "answer": "排污许可证有效期为5年 [1]。",
    "citations": [{"n": 1, "doc_title": "排污许可管理条例", "file": "x.docx", "section": "排污许可管理条例 › 第十四条",
                   "text": "排污许可证有效期为5年。", "score": 0.9, "quote": "排污许可证有效期为5年。"}],
    "timings_ms": {"retrieve": 12.5, "answer": 3.1, "total": 15.6},
    "answerer": "extractive",
}


def test_record_update_and_export(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "fb.sqlite3")
    rid = store.record(ANSWER, rating="up", scope={"scope": "法律法规"})
    assert store.count() == 1
    store.update(rid, comment="准确")
    store.update(rid, rating="down")
    row = store.get(rid)
    assert row["rating"] == "down" and row["comment"] == "准确"
    assert row["citations"][0]["doc_title"] == "排污许可管理条例"
    assert row["timings"]["total"] == 15.6 and row["scope"] == {"scope": "法律法规"}
    assert row["created_at"].endswith("+00:00")
    out = tmp_path / "fb.jsonl"
    assert store.export_jsonl(out) == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[0])
    assert obj["question"] == ANSWER["question"] and obj["timings_ms"]["total"] == 15.6
    assert "排污许可管理条例" in lines[0]  # UTF-8, not \u escapes


def test_rating_is_validated(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    with pytest.raises(ValueError):
        store.record(ANSWER, rating="meh")


def test_concurrent_writes(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    threads = [threading.Thread(target=lambda: [store.record(ANSWER, rating="up") for _ in range(10)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 40


def test_unwritable_location_is_a_domain_error(tmp_path):
    from policy_assistant.eval.feedback import FeedbackError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FeedbackError) as err:
        FeedbackStore(blocker / "fb.sqlite3")
    assert err.value.fix


def test_feedback_library_does_not_import_streamlit():
    code = "import sys, policy_assistant.eval.feedback; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- pure helpers of the app


def test_highlight_marks_the_quote_and_escapes_html():
    from policy_assistant.app_pages.text import highlight_html

    text = "第一句<script>x</script>。排污许可证有效期为5年。其余内容。"
    out = highlight_html(text, "排污许可证有效期为5年。")
    assert '<mark class="pa-quote">排污许可证有效期为5年。</mark>' in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    # a quote made of two sentences that are not adjacent in the text
    two = highlight_html("甲乙丙丁句一。中间的话。戊己庚辛句二。", "甲乙丙丁句一。戊己庚辛句二。")
    assert two.count("<mark") == 2
    # no quote → nothing marked; markdown/LaTeX characters neutralised
    assert "<mark" not in highlight_html("20~30 $ *x*", "")
    assert "$" not in highlight_html("价格$5", "") and "~" not in highlight_html("5~10", "")


def test_md_text_escapes_tilde_and_dollar():
    from policy_assistant.app_pages.text import md_text

    assert md_text("5~10个 $x [1]", formatted=True) == "5\\~10个 \\$x \\[1\\]"


def test_conversation_markdown():
    from policy_assistant.app_pages.text import conversation_markdown

    turns = [{"question": "那有效期呢?", "rewritten": "排污许可证有效期是几年?", "mode": "answer", "answer": ANSWER}]
    md = conversation_markdown(turns)
    assert md.startswith("# 政策助手")
    assert "## 1. 那有效期呢?" in md and "结合上文理解为：排污许可证有效期是几年?" in md
    assert "**状态：已找到**" in md and "[1] 排污许可管理条例 › 第十四条" in md


def test_section_context_window():
    from policy_assistant.app_pages.text import section_context
    from policy_assistant.corpus.model import Chunk

    chunks = [Chunk(f"d#{i}", "d", "文", "d.md", "法律", ("第一章", f"第{i}条"), f"条文{i}", i) for i in range(10)]
    chunks.append(Chunk("d#x", "d", "文", "d.md", "法律", ("第二章", "第十条"), "别章", 10))
    ctx = section_context(chunks, {"chunk_id": "d#5", "doc_id": "d"}, window=2)
    assert [c.chunk_id for c, _ in ctx] == ["d#3", "d#4", "d#5", "d#6", "d#7"]
    assert [cited for _, cited in ctx] == [False, False, True, False, False]
    assert section_context(chunks, {"chunk_id": "nope", "doc_id": "d"}) == []


def test_progress_adapter_accepts_builder_callbacks():
    from policy_assistant.app_pages.common import progress_adapter

    seen = []
    cb = progress_adapter(lambda f, t: seen.append((round(f, 2), t)))
    cb("embed", 5, 10)
    cb("write", 1, 1)
    cb("reading files")
    assert seen[0] == (0.5, "计算段落向量 5/10")
    assert seen[1][0] == 1.0 and seen[2][1] == "reading files"


def test_check_password_constant_time():
    from policy_assistant.app_pages.auth import check_password

    assert check_password("口令", "口令") and not check_password("口令x", "口令")


# --------------------------------------------------------------------------- CLI


def _cli(*args, env=None):
    import os

    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], cwd=ROOT, capture_output=True,
                          text=True, env=e)


def test_cli_feedback_export(tmp_path):
    db = tmp_path / "fb.sqlite3"
    FeedbackStore(db).record(ANSWER, rating="down", comment="不全")
    out = tmp_path / "out.jsonl"
    r = _cli("feedback", "export", str(out), env={"POLICY_ASSISTANT_FEEDBACK_DB": str(db)})
    assert r.returncode == 0, r.stderr
    assert "exported 1" in r.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["comment"] == "不全"
    r = _cli("feedback", "stats", env={"POLICY_ASSISTANT_FEEDBACK_DB": str(db)})
    assert r.returncode == 0 and "👎 1" in r.stdout


def test_cli_app_command_binds_localhost():
    r = _cli("app", "--port", "8765", "--print-command")
    assert r.returncode == 0, r.stderr
    assert "--server.address 127.0.0.1" in r.stdout and "--server.port 8765" in r.stdout
    assert r.stdout.split()[:4][1:] == ["-m", "streamlit", "run"]


def test_cli_app_environment_carries_settings(tmp_path):
    from policy_assistant.cli.app_cmd import app_environment
    from policy_assistant.core.config import load_settings

    s = load_settings(index_dir=str(tmp_path / "idx"))
    env = app_environment(s, base={})
    assert env["POLICY_ASSISTANT_INDEX_DIR"] == str(tmp_path / "idx")
    assert env["POLICY_ASSISTANT_FEEDBACK_DB"] == str(s.feedback_db)


@pytest.mark.slow
def test_cli_app_serves_on_localhost(built_index, tmp_path):
    import os
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, POLICY_ASSISTANT_FEEDBACK_DB=str(tmp_path / "fb.sqlite3"),
               POLICY_ASSISTANT_CORPUS_DIRS=os.pathsep.join(map(str, built_index.corpus_dirs)))
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "policy_assistant", "--index-dir", str(built_index.index_dir),
                             "app", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "app.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.3)
        out = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout if Path("/usr/bin/ss").exists() \
            else ""
        for line in out.splitlines():
            if f":{port} " in line:
                assert "127.0.0.1" in line, line  # bound to localhost only
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_group_citations_for_list_answers():
    from policy_assistant.app_pages.text import citation_numbers, group_citations

    def cit(n, path, text="短条目", doc="wp", near=False):
        return {"n": n, "doc_id": doc, "doc_title": doc, "path": list(path), "text": text, "near_miss": near}

    cits = [cit(i, ("附件1", "七大示范工程", f"{i}.")) for i in range(1, 8)]
    cits.append(cit(8, ("附件",)))
    cits.append(cit(9, ("第四章", "第三十三条"), doc="law"))
    cits.append(cit(10, ("第四章", "第三十四条"), text="长" * 300, doc="law"))
    groups = group_citations(cits)
    assert [len(g) for g in groups] == [7, 1, 1, 1]
    assert citation_numbers(groups[0]) == "[1]–[7]"
    assert citation_numbers([cit(1, ()), cit(3, ())]) == "[1] [3]"
    # near misses never merge with answering citations
    mixed = group_citations([cit(1, ("a", "1.")), cit(2, ("a", "2."), near=True)])
    assert [len(g) for g in mixed] == [1, 1]
