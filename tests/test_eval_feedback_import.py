"""Feedback log → draft gold items."""

from __future__ import annotations

import json

import pytest

from policy_assistant.cli import main
from policy_assistant.eval.feedback import FeedbackStore
from policy_assistant.eval.feedback_import import (
    FeedbackImportError,
    import_feedback,
    read_feedback,
    write_drafts,
)
from policy_assistant.eval.gold import GoldSetError, load_gold

WP = "衡阳市2021年生态环境保护工作要点"


def answer(q, status="answered", citations=None, text="PM2.5年均浓度控制在39ug/m3以下[1]"):
    return {"question": q, "status": status, "answer": text, "citations": citations or [],
            "timings_ms": {"total": 12.0}}


CIT = {"n": 1, "doc_title": WP, "file": "wp.txt", "section": f"{WP} › 二、主要目标 › （一）空气环境质量",
       "path": ["二、主要目标", "（一）空气环境质量"], "text": "(一)空气环境质量。PM2.5年均浓度控制在39ug/m3以下。",
       "score": 0.9, "quote": "PM2.5年均浓度控制在39ug/m3以下。", "near_miss": False}
NEAR = {**CIT, "n": 2, "near_miss": True, "quote": "别的"}


@pytest.fixture
def store(tmp_path):
    s = FeedbackStore(tmp_path / "fb.sqlite3")
    s.record(answer("PM2.5目标是多少？", citations=[CIT, NEAR]), rating="down", comment="数字不对")
    s.record(answer("个人所得税起征点是多少?", status="not_found", citations=[NEAR], text="未找到"), rating="up")
    s.record(answer("PM2.5目标是多少？", citations=[CIT]), rating="up")  # repeat: latest row wins
    s.record(answer("What is the PM2.5 target?", citations=[CIT]))  # unrated
    s.record(answer("已經在金標準裡的問題"), rating="down")
    return s


def test_import_from_sqlite(store):
    rows = read_feedback(store.path)
    assert len(rows) == 5 and isinstance(rows[0]["citations"], list)
    drafts = import_feedback(rows, known_questions={"已经在金标准里的问题"})
    by_q = {d["q"]: d for d in drafts}
    assert set(by_q) == {"PM2.5目标是多少？", "个人所得税起征点是多少?", "What is the PM2.5 target?"}
    d = by_q["PM2.5目标是多少？"]
    assert d["draft"] is True and d["facts"] == [] and d["status"] == "answered"
    assert d["id"].startswith("fb-3-")
    assert d["sources"] == [{"doc": WP, "section": "（一）空气环境质量", "contains": "PM2.5年均浓度控制在39ug/m3以下。"}]
    assert "rating up" in d["notes"]
    nf = by_q["个人所得税起征点是多少?"]
    assert nf["status"] == "not_found" and nf["category"] == "not_found" and nf["sources"] == []
    assert by_q["What is the PM2.5 target?"]["category"] == "english"


def test_rating_filter_and_jsonl_export(store, tmp_path):
    export = tmp_path / "fb.jsonl"
    store.export_jsonl(export)
    rows = read_feedback(export)
    down = {d["q"]: d for d in import_feedback(rows, rating="down")}
    assert set(down) == {"PM2.5目标是多少？", "已經在金標準裡的問題"}  # the 👎 row, not the later 👍 one
    assert "disliked" in down["PM2.5目标是多少？"]["notes"] and down["PM2.5目标是多少？"]["id"].startswith("fb-1-")
    assert down["已經在金標準裡的問題"]["category"] == "traditional"
    assert down["PM2.5目标是多少？"]["category"] == "open"
    assert len(import_feedback(rows, rating="rated")) == 3


def test_drafts_cannot_enter_the_gold_set_unreviewed(store, tmp_path):
    out = write_drafts(import_feedback(read_feedback(store.path)), tmp_path / "drafts.jsonl")
    with pytest.raises(GoldSetError, match="draft"):
        load_gold(out)
    # once reviewed (facts written, draft flag removed) the item loads
    d = next(json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if "PM2.5目标" in line)
    d.pop("draft")
    d["facts"] = ["39"]
    (tmp_path / "ok.jsonl").write_text(json.dumps(d, ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_gold(tmp_path / "ok.jsonl")[0].facts == ("39",)


def test_missing_or_broken_log(tmp_path):
    with pytest.raises(FeedbackImportError, match="not found"):
        read_feedback(tmp_path / "nope.sqlite3")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(FeedbackImportError, match="line 1"):
        read_feedback(bad)


def test_cli_import(store, tmp_path, capsys):
    out = tmp_path / "drafts.jsonl"
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "x", "q": "个人所得税起征点是多少?", "status": "not_found", "category": "not_found",
                                "facts": [], "sources": []}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["eval-import-feedback", "--from", str(store.path), "--out", str(out), "--rating", "rated",
                 "--gold", str(gold)]) == 0
    assert "draft gold item" in capsys.readouterr().out
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2  # the known question is skipped
    assert main(["eval-import-feedback", "--from", str(tmp_path / "missing.db")]) == 2
    assert "feedback log not found" in capsys.readouterr().err
