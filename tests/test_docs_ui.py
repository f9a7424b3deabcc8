"""Issue 13 item 6, fixes from a browser walkthrough, checked with ``AppTest`` on the real index: quiz blanks,
the 随机种子 field, [n] markers that jump to their source card, the reader link on the card, "就此节提问" on a
whole document, and not_found / not_specified answers showing at most 来源数量 sources. The clicks in a
real browser are in ``tests/test_docs_browser.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_browser import settings_env

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
QUIZ = str(ROOT / "app_pages" / "quiz.py")
READER = str(ROOT / "app_pages" / "reader.py")
TIMEOUT = 120
WORK_POINTS = "衡阳市2021年生态环境保护工作要点"


@pytest.fixture
def app_env(built_index, monkeypatch):
    for k, v in settings_env(built_index).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", "")
    monkeypatch.chdir(ROOT)
    return built_index


def _run(path: str, **params) -> AppTest:
    at = AppTest.from_file(path, default_timeout=TIMEOUT)
    at.query_params.update(params)
    assert not at.run().exception, at.exception
    return at


def _ask(at: AppTest, question: str) -> dict:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at.session_state["turns"][-1]


def test_quiz_blanks_are_drawn_not_escaped_and_the_seed_is_an_advanced_option(app_env):
    at = _run(QUIZ)
    advanced = next(e for e in at.expander if e.label == "高级选项")
    assert [n.key for n in advanced.number_input] == ["quiz_seed"]
    at.selectbox(key="quiz_doc").set_value(WORK_POINTS).run()
    at.selectbox(key="quiz_section").set_value("二、主要目标")
    at.number_input(key="quiz_n").set_value(6)
    at.button(key="quiz_new").click().run()
    assert not at.exception
    questions = [m.value for m in at.markdown if 'class="pa-q"' in m.value]
    assert any('class="pa-blank"' in q for q in questions), questions
    assert not any("&#95;" in q or "___" in q for q in questions), questions
    assert not any("种子" in s.value for s in at.subheader)  # not shown to trainees
    first = [q["qid"] for q in at.session_state["quiz"]["questions"]]
    at.button(key="quiz_new").click().run()  # the next quiz is a new one
    assert [q["qid"] for q in at.session_state["quiz"]["questions"]] != first


def test_ask_about_a_whole_document_scopes_the_chat_instead_of_asking_for_a_summary(app_env):
    at = _run(READER, doc="排污许可管理条例(2021-01-24)")
    button = at.button(key="reader_ask")
    assert button.label == "就此文件提问"
    button.click().run()
    assert not at.exception
    assert "pending_question" not in at.session_state  # no "…的主要内容是什么？" answered by item 1
    assert at.session_state["keep_scope"] == "指定文件"
    assert at.session_state["keep_scope_doc"] == "排污许可管理条例(2021-01-24)"
    assert "排污许可管理条例" in at.session_state["scope_notice"]


def test_a_section_still_asks_its_question(app_env):
    at = _run(READER, doc="排污许可管理条例(2021-01-24)", section="第十四条")
    at.button(key="reader_ask").click().run()
    assert at.session_state["pending_question"] == "《排污许可管理条例》第十四条规定了什么？"


def test_not_specified_shows_at_most_the_chosen_number_of_sources(app_env):
    at = _run(APP)
    at.sidebar.slider(key="top_k").set_value(2).run()
    turn = _ask(at, "生态保护补偿的具体金额是多少?")  # the engine cites 8 related passages
    assert turn["answer"]["status"] == "not_specified" and len(turn["answer"]["citations"]) > 2
    cards = [m.value for m in at.markdown if 'class="pa-src-title"' in m.value]
    assert len(cards) <= 2, cards
    assert not any(e.label.startswith("其余") for e in at.expander)
    assert any("**来源（2）**" in m.value for m in at.markdown)


def test_markers_link_to_their_cards_and_the_reader_link_is_on_the_card(app_env):
    at = _run(APP)
    turn = _ask(at, "未取得排污许可证排污罚多少?")
    assert turn["answer"]["status"] == "answered"
    answer = next(m.value for m in at.markdown if "-badge[" in m.value)
    targets = re.findall(r"\]\(#(pa-src-[\w-]+)\)", answer)
    assert targets and all(t.startswith(f"pa-src-{turn['id']}-") for t in targets), answer
    cards = "".join(m.value for m in at.markdown if 'class="pa-src-title"' in m.value)
    assert all(f'id="{t}"' in cards for t in targets)
    # one click: the reader link sits on the card, not inside the 查看完整章节 expander
    links = at.get("page_link")
    context = [e for e in at.expander if e.label.startswith("查看完整章节")]
    assert links and context and not any(e.get("page_link") for e in context)
    assert len(links) >= len(context)
