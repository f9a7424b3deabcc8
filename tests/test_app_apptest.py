"""The Streamlit chat page, driven in-process with ``streamlit.testing.v1.AppTest``.

The UI contract (what the page draws and sends for an answer) runs against a stand-in Assistant
(``tests/app_fakes.py``) put in place of ``app_pages.common.make_assistant``: no index needed, fast. The
tests marked ``slow`` drive the page on the real index (real answers, a damaged index, a first start).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from app_browser import settings_env  # POLICY_ASSISTANT_* variables reproducing a Settings
from app_fakes import AIR, WP, FakeAssistant
from conftest import CORPUS
from fault_helpers import TINY_LAW

from policy_assistant.eval.feedback import FeedbackStore
from policy_assistant.index.store import has_index

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from policy_assistant.app_pages import common  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 120


@pytest.fixture
def plain_env(tmp_path, monkeypatch):
    """Environment with a fresh feedback log, no password, the real corpus and an empty index folder;
    the Assistant cache is emptied before and after, so no test sees another's Assistant."""
    db = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("POLICY_ASSISTANT_FEEDBACK_DB", str(db))
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", "")
    monkeypatch.setenv("POLICY_ASSISTANT_CORPUS_DIRS", str(CORPUS))
    monkeypatch.setenv("POLICY_ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    common._load_assistant.clear()
    yield {"feedback_db": db}
    common._load_assistant.clear()


@pytest.fixture
def fake_env(plain_env, monkeypatch):
    """The page with a stand-in Assistant (``env["assistant"]`` records every ``ask``)."""
    fake = FakeAssistant()
    monkeypatch.setattr(common, "make_assistant", lambda settings: fake)
    return {**plain_env, "assistant": fake}


@pytest.fixture
def app_env(built_index, plain_env, monkeypatch):
    """Environment pointing the app at the session's real built index."""
    for k, v in settings_env(built_index).items():
        if k not in ("POLICY_ASSISTANT_FEEDBACK_DB", "POLICY_ASSISTANT_APP_PASSWORD"):
            monkeypatch.setenv(k, v)
    return {**plain_env, "settings": built_index}


def start(app_env) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def last_turn(at: AppTest) -> dict:
    return at.session_state["turns"][-1]


def source_titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="pa-src-title"' in m.value]


def badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def test_empty_page_shows_example_questions(fake_env):
    at = start(fake_env)
    labels = [b.label for b in at.button]
    for q in ("PM2.5年均浓度目标是多少?", "七大示范工程有哪些?", "谁牵头铊污染专项治理攻坚行动?", "未取得排污许可证排污罚多少?"):
        assert any(q in label for label in labels), labels
    info = "\n".join(m.value for m in at.sidebar.markdown)
    assert "文件：" in info and "段落：" in info and "向量模型" in info and "fake-embedder" in info


def _check_answer_and_sources(at: AppTest) -> None:
    turn = last_turn(at)
    assert turn["error"] is None
    ans = turn["answer"]
    assert ans["status"] == "answered"
    assert "39" in ans["answer"]
    assert any("已找到" in b for b in badges(at))
    assert source_titles(at), "no source rendered"
    passages = [m.value for m in at.markdown if 'class="pa-passage"' in m.value]
    assert passages and any("<mark" in p for p in passages), "the quoted sentence is not highlighted"
    # the answer text with its [n] markers is on the page (brackets are Markdown-escaped: \[1\]; each marker
    # links to its source card, #pa-src-…)
    assert any("[1]" in m.value.replace("\\", "") for m in at.markdown if 'class="pa-' not in m.value)
    # the full section in context is one click away
    assert any(e.label.startswith("查看完整章节") for e in at.expander)


def test_question_renders_answer_and_sources(fake_env):
    at = ask(start(fake_env), "PM2.5年均浓度目标是多少?")
    _check_answer_and_sources(at)
    assert fake_env["assistant"].calls[-1] == {"question": "PM2.5年均浓度目标是多少?", "doc_ids": None,
                                               "doc_types": None, "top_k": 5}


@pytest.mark.slow
def test_real_index_question_renders_answer_and_sources(app_env):
    """The same page on the real index: the real engine's answer, citations and highlight."""
    _check_answer_and_sources(ask(start(app_env), "PM2.5年均浓度目标是多少?"))


def test_example_button_asks_the_question(fake_env):
    at = start(fake_env)
    next(b for b in at.button if "七大示范工程" in b.label).click().run()
    assert not at.exception
    turn = last_turn(at)
    assert turn["question"] == "七大示范工程有哪些?"
    assert turn["answer"]["citations"]


def test_not_found_path(fake_env):
    at = ask(start(fake_env), "个人所得税起征点是多少?")
    turn = last_turn(at)
    assert turn["answer"]["status"] == "not_found"
    assert any("未找到相关内容" in b for b in badges(at))
    assert not at.exception and not at.error
    # anything still listed is labelled as a near miss, not as a source that answers
    for c in turn["answer"]["citations"]:
        assert c.get("near_miss"), c


def test_feedback_writes_a_row(fake_env):
    at = ask(start(fake_env), "未取得排污许可证排污罚多少?")
    assert len(at.feedback) == 1
    at.feedback[0].set_value(0).run()  # 👎
    store = FeedbackStore(fake_env["feedback_db"])
    rows = store.rows()
    assert len(rows) == 1
    row = rows[0]
    assert row["question"] == "未取得排污许可证排污罚多少?"
    assert row["rating"] == "down"
    assert row["status"] == last_turn(at)["answer"]["status"]
    assert row["citations"] and row["timings"]["total"] > 0
    # optional comment updates the same row
    tid = last_turn(at)["id"]
    at.text_input(key=f"fbc_{tid}").input("罚款数额没有写全")
    next(b for b in at.button if b.label == "提交说明").click().run()
    rows = store.rows()
    assert len(rows) == 1 and rows[0]["comment"] == "罚款数额没有写全"
    # changing the rating updates, not duplicates
    at.feedback[0].set_value(1).run()
    assert [r["rating"] for r in store.rows()] == ["up"]


def test_document_filter_is_sent_with_the_question(fake_env):
    """The sidebar scope reaches ``ask`` (doc types, or one doc id) and is shown with the turn."""
    calls = fake_env["assistant"].calls
    at = start(fake_env)
    at.sidebar.radio(key="scope").set_value("工作要点").run()
    ask(at, "罚款")
    assert calls[-1]["doc_types"] == ["工作要点"] and calls[-1]["doc_ids"] is None
    assert all(c["doc_title"] == WP for c in last_turn(at)["answer"]["citations"])
    at.sidebar.radio(key="scope").set_value("指定文件").run()
    at.sidebar.selectbox(key="scope_doc").set_value("air").run()
    ask(at, "罚款")
    assert calls[-1]["doc_ids"] == ["air"] and calls[-1]["doc_types"] is None
    assert last_turn(at)["scope"] == AIR
    assert {c["doc_title"] for c in last_turn(at)["answer"]["citations"]} == {AIR}


@pytest.mark.slow
def test_document_filter_changes_the_sources(app_env):
    question = "罚款"
    at = ask(start(app_env), question)
    all_docs = {c["doc_title"] for c in last_turn(at)["answer"]["citations"]}

    at.sidebar.radio(key="scope").set_value("工作要点").run()
    ask(at, question)
    wp = last_turn(at)["answer"]["citations"]
    assert all(c["doc_title"].endswith("工作要点") for c in wp), [c["doc_title"] for c in wp]

    at.sidebar.radio(key="scope").set_value("指定文件").run()
    box = at.sidebar.selectbox(key="scope_doc")
    target = next(o for o in box.options if "大气污染防治法" in o)
    doc_id = next(p.stem for d in app_env["settings"].corpus_dirs for p in Path(d).iterdir()
                  if "大气污染防治法" in p.name)  # doc_id is the file stem
    box.set_value(doc_id).run()
    ask(at, question)
    chosen = last_turn(at)["answer"]["citations"]
    assert chosen and all(c["doc_title"] == target for c in chosen), [c["doc_title"] for c in chosen]
    assert {c["doc_title"] for c in chosen} != all_docs or len(all_docs) == 1
    assert last_turn(at)["scope"] == target


def test_follow_up_is_rewritten_and_shown(fake_env):
    at = ask(start(fake_env), "PM2.5年均浓度目标是多少?")
    ask(at, "那臭氧呢?")
    turn = last_turn(at)
    assert turn["rewritten"], "the follow-up was not rewritten"
    assert "臭氧" in turn["rewritten"] and turn["rewritten"] != "那臭氧呢?"
    assert turn["answer"]["rewritten_question"] == turn["rewritten"]
    assert any("结合上文理解为" in c.value and "臭氧" in c.value for c in at.caption)


def test_passages_only_switch_and_clear_and_export(fake_env):
    at = start(fake_env)
    at.sidebar.toggle(key="passages_only").set_value(True).run()
    ask(at, "排污许可证有效期")
    turn = last_turn(at)
    assert turn["mode"] == "passages" and turn["answer"]["citations"]
    assert any("仅检索段落" in b for b in badges(at))
    assert len(at.feedback) == 0
    md = at.session_state["turns"]
    from policy_assistant.app_pages.common import conversation_markdown

    text = conversation_markdown(md)
    assert "排污许可证有效期" in text and "[1]" in text
    at.sidebar.button(key="clear_chat").click().run()
    assert at.session_state["turns"] == []


def test_sources_slider_limits_retrieved_passages(fake_env):
    at = start(fake_env)
    at.sidebar.toggle(key="passages_only").set_value(True).run()
    at.sidebar.slider(key="top_k").set_value(3).run()
    ask(at, "排污许可证有效期")
    assert len(last_turn(at)["answer"]["citations"]) == 3


def test_missing_index_and_no_corpus_shows_error_with_fix(plain_env, tmp_path, monkeypatch):
    empty = tmp_path / "empty_corpus"
    empty.mkdir()
    monkeypatch.setenv("POLICY_ASSISTANT_INDEX_DIR", str(tmp_path / "no_index"))
    monkeypatch.setenv("POLICY_ASSISTANT_CORPUS_DIRS", str(empty))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert at.error, "expected a readable error"
    assert "fix" in at.error[0].value or "解决办法" in at.error[0].value


@pytest.mark.slow
def test_corrupted_index_shows_error_with_fix(app_env, tmp_path, monkeypatch):
    src = Path(app_env["settings"].index_dir)
    bad = tmp_path / "bad_index"
    shutil.copytree(src, bad)
    victims = [p for p in bad.rglob("*") if p.is_file() and p.name not in {"manifest.json", "INDEX.json"}]
    assert victims
    for p in victims:
        p.write_bytes(b"\x00garbage")
    monkeypatch.setenv("POLICY_ASSISTANT_INDEX_DIR", str(bad))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert at.error and "解决办法" in at.error[0].value
    assert any(b.label == "重新建立索引" for b in at.button)


def test_password_gate(fake_env, monkeypatch):
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", "s3cret-口令")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.chat_input, "the chat must be hidden before the password is entered"
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert at.error and not at.chat_input
    time.sleep(1.05)  # after one wrong password the next attempt is checked after 1 s (tests/test_security_login.py)
    at.text_input[0].input("s3cret-口令")
    at.button[0].click().run()
    assert not at.exception
    assert at.chat_input, "the chat shows after the right password"


@pytest.mark.skipif(not (ROOT / "app_pages" / "reader.py").is_file(), reason="no 文件阅读 page in this build")
def test_conversation_and_scope_survive_a_visit_to_the_reader(fake_env):
    at = start(fake_env)
    at.sidebar.radio(key="scope").set_value("法律法规").run()
    ask(at, "排污许可证有效期是几年?")
    links = at.get("page_link")
    assert links, "citations should deep-link into the reader"
    at.switch_page("app_pages/reader.py").run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/chat.py").run()
    assert not at.exception, at.exception
    assert at.sidebar.radio(key="scope").value == "法律法规"
    assert len(at.session_state["turns"]) == 1 and source_titles(at)


@pytest.mark.slow
def test_first_start_builds_the_missing_index(plain_env, tmp_path, monkeypatch):
    corpus = tmp_path / "tiny_corpus"
    corpus.mkdir()
    (corpus / "示例保护法(2020-01-01).md").write_text(TINY_LAW, encoding="utf-8")
    index_dir = tmp_path / "fresh_index"
    monkeypatch.setenv("POLICY_ASSISTANT_CORPUS_DIRS", str(corpus))
    monkeypatch.setenv("POLICY_ASSISTANT_INDEX_DIR", str(index_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert has_index(index_dir), "the app should build a missing index on first start"
    assert at.chat_input, "the chat is usable once the index is built"
    ask(at, "未取得排污许可证排放示例污染物罚多少?")
    assert any("示例保护法" in c["doc_title"] for c in last_turn(at)["answer"]["citations"])
