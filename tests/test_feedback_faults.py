"""Issue 10 (reliability), feedback log: a read-only log, an export to a read-only place and a log deleted
while the app runs each give one line with the right fix (CLI: exit status 2), never a traceback or
Streamlit's exception screen, and nothing already stored is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import test_app_apptest as chat_page
from fault_helpers import read_only

from policy_assistant.eval.feedback import FeedbackError, FeedbackStore

ROOT = Path(__file__).resolve().parents[1]
ANSWER = {"question": "排污许可证有效期是几年?", "status": "answered", "answer": "5年 [1]。", "citations": [],
          "timings_ms": {"total": 1.0}}


def _cli(*args, env: dict):
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_comment_on_read_only_log_is_a_feedback_error_with_the_fix(tmp_path):
    """Issue 10: a comment on a read-only DB raised an uncaught sqlite3 error (FeedbackStore.update)."""
    db = tmp_path / "fb.sqlite3"
    store = FeedbackStore(db)
    rid = store.record(ANSWER, rating="down")
    with read_only(db):
        with pytest.raises(FeedbackError) as err:
            store.update(rid, comment="罚款数额没有写全")
        assert "read-only" in err.value.fix and str(db) in err.value.fix
        with pytest.raises(FeedbackError):
            store.record(ANSWER, rating="up")
        assert store.count() == 1  # reading a read-only log still works
    assert store.get(rid)["rating"] == "down"  # nothing stored was lost


def test_log_deleted_while_running_is_started_again(tmp_path):
    """Issue 10: a feedback DB deleted while the app runs made every later rating fail until restart."""
    db = tmp_path / "data" / "fb.sqlite3"
    store = FeedbackStore(db)
    store.record(ANSWER, rating="up")
    db.unlink()
    rid = store.record(ANSWER, rating="down")
    store.update(rid, comment="新的说明")
    assert store.count() == 1 and store.get(rid)["comment"] == "新的说明"
    (tmp_path / "data" / "fb.sqlite3").unlink()
    (tmp_path / "data").rmdir()  # the whole data folder gone
    assert store.rows() == []
    store.record(ANSWER, rating="up")
    assert store.count() == 1


def test_cli_export_to_read_only_folder_is_one_line_exit_2(tmp_path):
    """Issue 10: `feedback export` to a read-only place printed an OSError traceback."""
    db = tmp_path / "fb.sqlite3"
    FeedbackStore(db).record(ANSWER, rating="down")
    out_dir = tmp_path / "ro"
    out_dir.mkdir()
    previous = out_dir / "feedback.jsonl"
    previous.write_text("an earlier export\n", encoding="utf-8")
    with read_only(out_dir):
        r = _cli("feedback", "export", str(previous), env={"POLICY_ASSISTANT_FEEDBACK_DB": str(db)})
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write the feedback export"), r.stderr
    assert "Traceback" not in r.stderr and "writable location" in lines[0]
    assert previous.read_text(encoding="utf-8") == "an earlier export\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["feedback.jsonl"]  # no temporary file left behind
    r = _cli("feedback", "export", str(tmp_path / "ok.jsonl"), env={"POLICY_ASSISTANT_FEEDBACK_DB": str(db)})
    assert r.returncode == 0 and json.loads((tmp_path / "ok.jsonl").read_text(encoding="utf-8"))["rating"] == "down"


def test_cli_stats_on_unreadable_log_is_one_line_exit_2(tmp_path):
    """Issue 10: SQLite failures (here: a file that is not a database) end in one line, exit 2."""
    db = tmp_path / "fb.sqlite3"
    db.write_bytes(b"not a database at all" * 100)
    r = _cli("feedback", "stats", env={"POLICY_ASSISTANT_FEEDBACK_DB": str(db)})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "move it away" in r.stderr
    assert db.read_bytes() == b"not a database at all" * 100  # never overwritten


# --------------------------------------------------------------------------- the app (AppTest, real index)


app_env = chat_page.app_env  # the chat page tests' fixtures: the real index and a fresh feedback log
plain_env = chat_page.plain_env


@pytest.fixture
def app(request):
    """The chat page with one answered question; returns it and the feedback log's path."""
    env = request.getfixturevalue("app_env")
    at = chat_page.ask(chat_page.start(env), "未取得排污许可证排污罚多少?")
    return at, env["feedback_db"]


def _warnings(at) -> list[str]:
    return [w.value for w in at.warning]


@pytest.mark.slow
def test_app_comment_on_read_only_log_shows_one_warning(app):
    """Issue 10: a comment on a read-only DB replaced the page with Streamlit's error screen."""
    at, db = app
    at.feedback[0].set_value(0).run()
    tid = at.session_state["turns"][-1]["id"]
    with read_only(db):
        at.text_input(key=f"fbc_{tid}").input("罚款数额没有写全")
        next(b for b in at.button if b.label == "提交说明").click().run()
        assert not at.exception, at.exception
        warnings = _warnings(at)
    assert len(warnings) == 1 and "read-only" in warnings[0] and "\n" not in warnings[0], warnings
    assert at.session_state["turns"][-1]["answer"]["status"]  # the answer is still on the page
    assert FeedbackStore(db).rows()[0]["rating"] == "down"


@pytest.mark.slow
def test_app_rating_after_the_log_was_deleted(app):
    """Issue 10: after the DB was deleted every rating failed until restart, with a wrong fix."""
    at, db = app
    at.feedback[0].set_value(0).run()
    db.unlink()
    at.feedback[0].set_value(1).run()  # its row went with the old file: recorded again, with the new rating
    assert not at.exception and not _warnings(at), _warnings(at)
    at.chat_input[0].set_value("PM2.5年均浓度目标是多少?").run()
    at.feedback[1].set_value(1).run()
    assert not at.exception and not _warnings(at), _warnings(at)
    rows = FeedbackStore(db).rows()
    assert [(r["question"], r["rating"]) for r in rows] == [("未取得排污许可证排污罚多少?", "up"),
                                                            ("PM2.5年均浓度目标是多少?", "up")]
