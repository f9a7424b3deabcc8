"""Streamlit AppTest for the 文件阅读 (reader) and 自测 (quiz) pages, each run on its own.

The pages only need the corpus (no index), read from the repo's config (``../shared/corpus``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
READER = str(ROOT / "app_pages" / "reader.py")
QUIZ = str(ROOT / "app_pages" / "quiz.py")
TIMEOUT = 60
WORK_POINTS = "衡阳市2021年生态环境保护工作要点"
PERMITS_ID = "排污许可管理条例(2021-01-24)"


@pytest.fixture(scope="module")
def corpus(real_corpus):
    return real_corpus


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(ROOT)  # the pages find policy-assistant.toml from the working directory


def _reader(**params) -> AppTest:
    at = AppTest.from_file(READER, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _html(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _chunk(corpus, doc_id: str, label: str):
    return next(c for c in corpus.chunks if c.doc_id == doc_id and c.path[-1] == label)


# --------------------------------------------------------------------------- reader


def test_reader_shows_outline_and_summary_card(corpus):
    at = _reader()
    assert not at.exception
    assert at.title[0].value.endswith(WORK_POINTS)
    outline = [b.label for b in at.sidebar.button] + [e.label for e in at.sidebar.expander]
    for heading in ("二、主要目标", "（一）空气环境质量", '19. 深入开展"八大攻坚行动"', "附件1", "附件2 生态环境保护首批专家工作室"):
        assert any(heading in label for label in outline), heading
    assert any("工作要点速览" in e.label for e in at.expander)
    html = _html(at)
    for figure in ("<b>39ug/m3</b>", "<b>88%</b>", "<b>47.7%</b>", "<b>72.29%</b>"):
        assert figure in html
    for name in ("幸福河黑臭水体治理工程", "铊污染专项治理攻坚行动", "王浩院士工作室", "孔海南教授工作室"):
        assert name in html
    tabs = [t.label for t in at.tabs]
    assert tabs[:4] == ["主要目标（6）", "七大示范工程（7）", "八大攻坚行动（8）", "专家工作室（2）"]


def test_summary_card_links_to_its_section(corpus):
    at = _reader()
    at.button(key="card_t_0").click().run()
    assert at.session_state["reader_section"] == "二、主要目标 › （一）空气环境质量"
    assert at.subheader[0].value == "（一）空气环境质量"
    assert at.query_params["section"] == _chunk(corpus, WORK_POINTS, "（一）空气环境质量").chunk_id
    at.button(key="card_a_0").click().run()
    assert at.session_state["reader_section"].endswith('"八大攻坚行动" › 1.')
    assert "铊污染专项治理攻坚行动" in _html(at)


def test_outline_button_opens_section_and_next_previous():
    at = _reader()
    label = next(b for b in at.sidebar.button if b.label.strip() == "（六）生态功能")
    label.click().run()
    assert at.session_state["reader_section"] == "二、主要目标 › （六）生态功能"
    assert "森林覆盖率稳定在47.7%以上" in _html(at)
    at.button(key="reader_next").click().run()
    assert at.session_state["reader_section"] == "三、主要任务"
    at.button(key="reader_prev").click().run()
    assert at.session_state["reader_section"] == "二、主要目标 › （六）生态功能"


def test_search_highlights_matches():
    at = _reader()
    at.text_input(key="reader_q").input("示范工程").run()
    assert not at.exception
    assert any(c.value.startswith("找到") for c in at.caption)
    html = _html(at)
    assert '<mark class="pa-hit">示范工程</mark>' in html
    at.button(key="hit_0").click().run()
    assert at.session_state["reader_section"] == "三、主要任务 › （四）深入打好污染防治攻坚战 › 16."
    section = next(m.value for m in at.markdown if "pa-reader" in m.value)
    assert '<mark class="pa-hit">示范工程</mark>' in section
    # full-width / traditional input is normalised
    at.text_input(key="reader_q").input("ＰＭ2.5").run()
    assert '<mark class="pa-hit">PM2.5</mark>' in _html(at)
    at.text_input(key="reader_q").input("沒有這個詞xyz").run()
    assert any("没有找到" in i.value for i in at.info)


def test_search_all_documents(corpus):
    at = _reader()
    at.toggle(key="reader_search_all").set_value(True)
    at.text_input(key="reader_q").input("排污许可证有效期").run()
    html = _html(at)
    assert "排污许可管理条例 › 第二章 申请与审批 › 第十四条" in html
    hit = next(i for i, m in enumerate(at.markdown) if "第十四条" in m.value and "pa-snip" in m.value)
    assert hit >= 0


@pytest.mark.parametrize("param", ["section", "chunk"])
def test_deep_link_opens_a_section(corpus, param):
    chunk = _chunk(corpus, PERMITS_ID, "第十四条")
    at = _reader(doc=PERMITS_ID, **{param: chunk.chunk_id})
    assert not at.exception
    assert at.title[0].value.endswith("排污许可管理条例")
    assert at.session_state["reader_section"] == "第二章 申请与审批 › 第十四条"
    assert at.subheader[0].value == "第十四条"
    section = next(m.value for m in at.markdown if "pa-reader" in m.value)
    assert 'class="pa-t sel"' in section and "排污许可证有效期为5年" in section
    assert at.selectbox(key="reader_doc").value == PERMITS_ID


def test_deep_link_by_breadcrumb_and_heading(corpus):
    at = _reader(doc=WORK_POINTS, section=f"{WORK_POINTS} › 附件1 › \"七大示范工程\"")
    assert at.session_state["reader_section"] == '附件1 › "七大示范工程"'
    at = _reader(doc="排污许可", section="第十四条")  # a unique part of the title and a bare heading
    assert at.session_state["reader_section"] == "第二章 申请与审批 › 第十四条"
    at = _reader(section=_chunk(corpus, PERMITS_ID, "第十四条").chunk_id)  # doc taken from the chunk id
    assert at.session_state["reader_doc"] == PERMITS_ID


def test_bad_deep_link_is_a_readable_warning():
    at = _reader(doc="不存在的文件")
    assert not at.exception
    assert any("不存在" in w.value for w in at.warning)
    at = _reader(doc=PERMITS_ID, section="第九百条")
    assert any("没有找到章节" in w.value for w in at.warning)
    assert at.session_state["reader_section"] == ""


def test_reader_shows_a_banner_for_an_incomplete_copy():
    """The stored 长江保护法 stops at 第七十九条 (issue 13): the reader says so; a complete law has no banner."""
    at = _reader(doc="长江保护法(2020-12-26)")
    assert not at.exception
    banners = [w.value for w in at.warning if "可能不完整" in w.value]
    assert len(banners) == 1 and "第七十九条" in banners[0] and "附则" in banners[0]
    at = _reader(doc=PERMITS_ID)
    assert not any("可能不完整" in w.value for w in at.warning)


def test_ask_about_this_section_hands_a_question_to_the_chat(corpus):
    at = _reader(doc=PERMITS_ID, section=_chunk(corpus, PERMITS_ID, "第十四条").chunk_id)
    at.button(key="reader_ask").click().run()
    assert not at.exception
    assert at.session_state["pending_question"] == "《排污许可管理条例》第十四条规定了什么？"


# --------------------------------------------------------------------------- quiz


def _quiz(doc=WORK_POINTS, section="", n=4, seed=7) -> AppTest:
    at = AppTest.from_file(QUIZ, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.selectbox(key="quiz_doc").set_value(doc).run()
    if section:
        at.selectbox(key="quiz_section").set_value(section)
    at.number_input(key="quiz_n").set_value(n)
    at.number_input(key="quiz_seed").set_value(seed)
    at.button(key="quiz_new").click().run()
    assert not at.exception
    return at


def _answer(at, q: dict, right: bool) -> None:
    key = f"qa_{at.session_state['quiz']['round']}_{q['qid']}"
    if q["type"] == "true_false":
        at.radio(key=key).set_value(q["answer"] if right else next(c for c in q["choices"] if c != q["answer"]))
    elif q["choices"]:
        i = q["choices"].index(q["answer"])
        at.radio(key=key).set_value(i if right else (i + 1) % len(q["choices"]))
    else:
        at.text_input(key=key).input(q["answer"] if right else "12345")


def test_quiz_answers_and_scores():
    at = _quiz(section="二、主要目标", n=4)
    quiz = at.session_state["quiz"]
    questions = quiz["questions"]
    assert len(questions) == 4 and quiz["scope"].endswith("二、主要目标")
    assert all("二、主要目标" in q["section"] for q in questions)
    for q in questions:
        _answer(at, q, right=True)
    at.run()
    at.button(key=f"qc_1_{questions[0]['qid']}").click().run()
    assert [m.value for m in at.metric][:2] == ["1 / 4", "1 / 1"]
    at.button(key="quiz_check_all").click().run()
    assert [m.value for m in at.metric] == ["4 / 4", "4 / 4", "100%"]
    assert len([s for s in at.success if s.value.startswith("回答正确")]) == 4
    assert any("全部答对" in s.value for s in at.success)
    assert any("出处原文" in e.label for e in at.expander)


def test_quiz_lenient_figure_answer():
    at = _quiz(section="二、主要目标 › （一）空气环境质量", n=10)
    fig = next(q for q in at.session_state["quiz"]["questions"] if q["type"] == "fill_figure" and "PM2.5" in
               q["question"])
    at.text_input(key=f"qa_1_{fig['qid']}").input("39微克/立方米").run()
    at.button(key=f"qc_1_{fig['qid']}").click().run()
    assert any(s.value.startswith("回答正确") and "39ug/m3" in s.value for s in at.success)


def test_quiz_wrong_answer_explains_and_retry_keeps_wrong_ones():
    at = _quiz(n=4, seed=3)
    questions = at.session_state["quiz"]["questions"]
    for i, q in enumerate(questions):
        _answer(at, q, right=i != 1)
    at.run()
    at.button(key="quiz_check_all").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "正确答案" in errors[0]
    source = [m.value for m in at.markdown if "pa-src" in m.value]
    assert source and "<mark>" in source[0]
    at.button(key="quiz_retry").click().run()
    quiz = at.session_state["quiz"]
    assert quiz["round"] == 2 and [q["qid"] for q in quiz["questions"]] == [questions[1]["qid"]]
    _answer(at, quiz["questions"][0], right=True)
    at.run()
    at.button(key=f"qc_2_{questions[1]['qid']}").click().run()
    assert [m.value for m in at.metric][:2] == ["1 / 1", "4 / 5"]  # the session score keeps every check


def test_quiz_same_seed_same_questions_and_unanswered_check():
    a = _quiz(n=5, seed=11).session_state["quiz"]["questions"]
    b = _quiz(n=5, seed=11).session_state["quiz"]["questions"]
    assert [q["qid"] for q in a] == [q["qid"] for q in b]
    at = _quiz(n=2, seed=11)
    q = at.session_state["quiz"]["questions"][0]
    at.button(key=f"qc_1_{q['qid']}").click().run()
    assert any("请先作答" in w.value for w in at.warning)


def test_quiz_scope_error_is_readable():
    at = AppTest.from_file(QUIZ, default_timeout=TIMEOUT).run()
    at.selectbox(key="quiz_doc").set_value(WORK_POINTS).run()
    at.selectbox(key="quiz_section").set_value("附件2 生态环境保护首批专家工作室").run()  # two studios: nothing to ask
    at.button(key="quiz_new").click().run()
    assert not at.exception
    assert any("no quiz question" in e.value for e in at.error)
    assert not at.session_state["quiz"] if "quiz" in at.session_state else True
