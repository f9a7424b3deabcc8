"""自测 — self-check quizzes generated from the documents: answer, check leniently, read the source, retry.

The questions come from ``training.quiz.generate_quiz`` (deterministic: the same scope and seed give the
same quiz). Each checked answer shows the explanation with the quoted source and a link into the reader.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from policy_assistant.app_pages.common import READER_PAGE, get_settings, html_text, md_text, show_error
from policy_assistant.app_pages.links import reader_link, reader_query_params
from policy_assistant.app_pages.text import mark_spans_html
from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.training import outline as ol
from policy_assistant.training.model import BLANK
from policy_assistant.training.quiz import TYPE_LABELS, QuizQuestion, check_answer, generate_quiz

QUIZ_KEY, SCORE_KEY = "quiz", "quiz_score"
ALL_DOCS = "__all__"
LETTERS = "ABCDEFGH"

CSS = """
<style>
.pa-q {line-height: 1.8; font-size: 1.02rem; margin-bottom: .3rem;}
.pa-blank {display: inline-block; min-width: 3.2em; height: 1.1em; border-bottom: 2px solid #2e7d32;
            margin: 0 .2rem; vertical-align: text-bottom;}
.pa-src {line-height: 1.75; border-left: 3px solid #2e7d32; padding: .15rem 0 .15rem .8rem; color: #333;}
.pa-src mark {background: #ffe98a; color: inherit; padding: 0 .1rem; border-radius: 3px;}
</style>
"""


def _corpus():
    try:
        with st.spinner("正在读取文件…"):
            return ol.load_corpus_cached(get_settings())
    except PolicyAssistantError as exc:
        show_error(exc)
        st.stop()


def _score() -> dict:
    return st.session_state.setdefault(SCORE_KEY, {"answered": 0, "correct": 0, "quizzes": 0})


# --------------------------------------------------------------------------- actions (callbacks)


def _new_quiz(corpus, docs) -> None:
    doc_id = st.session_state.get("quiz_doc", ALL_DOCS)
    doc = next((d for d in docs if d.doc_id == doc_id), None)
    section = st.session_state.get("quiz_section") or None
    n = int(st.session_state.get("quiz_n", 10))
    seed = int(st.session_state.get("quiz_seed", 7))
    try:
        questions = generate_quiz(corpus, n=n, seed=seed, doc=doc.doc_id if doc else None, section=section)
    except PolicyAssistantError as exc:
        st.session_state["quiz_error"] = {"message": exc.message, "fix": exc.fix}
        return
    # the next quiz is a new one unless the trainer sets the seed again (advanced options)
    st.session_state["quiz_seed"] = (seed + 1) % (10**6 + 1)
    scope = " › ".join(x for x in ((doc.title if doc else "全部文件"), section or "") if x)
    st.session_state[QUIZ_KEY] = {"questions": [q.to_dict() for q in questions], "round": 1, "results": {},
                                  "scope": scope, "seed": seed, "requested": n}
    _score()["quizzes"] += 1


def _response(q: QuizQuestion, rnd: int):
    value = st.session_state.get(f"qa_{rnd}_{q.qid}")
    if q.choices and value is not None:
        return q.choices[int(value)] if q.type != "true_false" else value
    return value


def _check(q: QuizQuestion) -> None:
    quiz = st.session_state[QUIZ_KEY]
    response = _response(q, quiz["round"])
    if response is None or not str(response).strip():
        quiz["results"][q.qid] = {"pending": True}
        return
    result = check_answer(q, str(response))
    first = q.qid not in quiz["results"] or quiz["results"][q.qid].get("pending")
    quiz["results"][q.qid] = {"correct": result.correct, "expected": result.expected,
                              "explanation": result.explanation, "response": str(response)}
    if first:
        score = _score()
        score["answered"] += 1
        score["correct"] += int(result.correct)


def _check_all(questions: list[QuizQuestion]) -> None:
    quiz = st.session_state[QUIZ_KEY]
    for q in questions:
        if q.qid not in quiz["results"] or quiz["results"][q.qid].get("pending"):
            if _response(q, quiz["round"]) not in (None, ""):
                _check(q)


def _retry_wrong() -> None:
    quiz = st.session_state[QUIZ_KEY]
    wrong = [q for q in quiz["questions"] if not quiz["results"].get(q["qid"], {}).get("correct")]
    quiz["questions"], quiz["results"] = wrong, {}
    quiz["round"] += 1


def _clear_error() -> None:
    st.session_state.pop("quiz_error", None)


# --------------------------------------------------------------------------- drawing


def _settings_panel(corpus, docs) -> None:
    with st.container(border=True, key="quiz_settings"):
        c1, c2 = st.columns([3, 2])
        options = [ALL_DOCS] + [d.doc_id for d in docs]
        titles = {d.doc_id: d.title for d in docs}
        c1.selectbox("范围：文件", options, key="quiz_doc", format_func=lambda i: titles.get(i, "全部文件"),
                     on_change=_clear_error)
        doc = next((d for d in docs if d.doc_id == st.session_state.get("quiz_doc")), None)
        sections = [""]
        if doc is not None:
            sections += [e.key for e in ol.document_outline(doc, corpus.chunks)
                         if e.depth <= 2 and (e.has_children or e.kind == "target")]
        if st.session_state.get("quiz_section") not in sections:
            st.session_state["quiz_section"] = ""
        c2.selectbox("范围：章节", sections, key="quiz_section", format_func=lambda k: k or "全部章节",
                     disabled=doc is None, help="先选一份文件，再选其中的章节")
        c3, c5 = st.columns([1, 2], vertical_alignment="bottom")
        c3.number_input("题目数量", min_value=1, max_value=50, value=10, step=1, key="quiz_n")
        c5.button("生成测验", key="quiz_new", type="primary", icon=":material/quiz:", use_container_width=True,
                  on_click=_new_quiz, args=(corpus, docs))
        with st.expander("高级选项", icon=":material/tune:"):  # trainers only: the same seed, the same quiz
            st.session_state.setdefault("quiz_seed", 7)
            st.number_input("随机种子", min_value=0, max_value=10**6, step=1, key="quiz_seed",
                            help="同样的范围和种子生成同样的测验（培训时可让大家用同一套题）；每生成一次自动加 1")
    err = st.session_state.get("quiz_error")
    if err:
        show_error(err["message"], err.get("fix"))


def _scoreboard(quiz: dict, questions: list[QuizQuestion]) -> None:
    results = quiz["results"]
    done = [r for r in results.values() if not r.get("pending")]
    right = sum(1 for r in done if r["correct"])
    score = _score()
    c1, c2, c3 = st.columns(3)
    c1.metric("本轮答对", f"{right} / {len(questions)}", help=f"已检查 {len(done)} 题")
    c2.metric("本次会话累计", f"{score['correct']} / {score['answered']}", help="本次打开页面以来检查过的所有题目")
    rate = f"{100 * score['correct'] / score['answered']:.0f}%" if score["answered"] else "—"
    c3.metric("正确率", rate)
    wrong = [q for q in questions if q.qid in results and results[q.qid].get("correct") is False]
    unanswered = [q for q in questions if q.qid not in results or results[q.qid].get("pending")]
    c4, c5 = st.columns(2)
    c4.button("检查全部答案", key="quiz_check_all", icon=":material/fact_check:", use_container_width=True,
              disabled=not unanswered, on_click=_check_all, args=(questions,))
    c5.button(f"重做错题（{len(wrong)}）", key="quiz_retry", icon=":material/replay:", use_container_width=True,
              disabled=not wrong or bool(unanswered), on_click=_retry_wrong,
              help="只保留答错的题目，清空答案后再做一遍")
    if questions and not unanswered and not wrong:
        st.success("本轮全部答对！点“生成测验”再来一套新题。", icon=":material/celebration:")


BLANK_HTML = '<span class="pa-blank" role="img" aria-label="空格"></span>'


def question_html(question: str) -> str:
    """The question as escaped HTML with each blank (``___``) drawn as an underlined gap: the escaped
    underscores (``&#95;``) were shown literally by some renderers, an empty styled span cannot be."""
    return BLANK_HTML.join(html_text(part) for part in question.split(BLANK))


def _source_html(q: QuizQuestion) -> str:
    text = q.source_text
    i = text.find(q.evidence) if q.evidence else -1
    return mark_spans_html(text, [(i, i + len(q.evidence))] if i >= 0 else [])


def _reader_link(q: QuizQuestion, i: int) -> None:
    params = reader_query_params(q)
    try:
        st.page_link(READER_PAGE, label="在文件阅读中打开", icon=":material/menu_book:", query_params=params)
    except StreamlitAPIException:  # page run on its own: no navigation to link through
        st.caption(md_text(f"出处链接：{reader_link(q)}"))


def _question(q: QuizQuestion, i: int, quiz: dict) -> None:
    rnd = quiz["round"]
    result = quiz["results"].get(q.qid)
    with st.container(border=True, key=f"q_{rnd}_{i}"):
        st.caption(f"第 {i + 1} 题 · {TYPE_LABELS.get(q.type, q.type)} · {md_text(q.doc_title)}")
        st.markdown(f'<div class="pa-q">{question_html(q.question)}</div>', unsafe_allow_html=True)
        key = f"qa_{rnd}_{q.qid}"
        if q.type == "true_false":
            st.radio("你的判断", q.choices, index=None, key=key, horizontal=True, label_visibility="collapsed",
                     format_func=md_text)
        elif q.choices:
            st.radio("你的选择", list(range(len(q.choices))), index=None, key=key, label_visibility="collapsed",
                     format_func=lambda j, q=q: f"{LETTERS[j]}. {md_text(q.choices[j])}")
        else:
            hint = "数字，单位可写可不写" if q.type == "fill_figure" else "数字和条文，例如：5年，第十四条"
            st.text_input("你的答案", key=key, placeholder=hint, label_visibility="collapsed")
        st.button("检查", key=f"qc_{rnd}_{q.qid}", on_click=_check, args=(q,), icon=":material/check:")
        if not result:
            return
        if result.get("pending"):
            st.warning("请先作答再检查。", icon=":material/edit:")
            return
        # the explanation quotes the user's answer and the document
        if result["correct"]:
            st.success(md_text(result["explanation"]), icon=":material/check_circle:")
        else:
            st.error(md_text(result["explanation"]), icon=":material/cancel:")
        with st.expander("出处原文", icon=":material/format_quote:", expanded=not result["correct"]):
            st.caption(md_text(q.section))
            st.markdown(f'<div class="pa-src">{_source_html(q)}</div>', unsafe_allow_html=True)
            _reader_link(q, i)


def main() -> None:
    st.html(CSS)
    corpus = _corpus()
    docs = ol.ordered_documents(corpus)
    st.title("自测", anchor=False)
    st.caption("题目直接取自文件原文：填数字、找缺项、出自哪一条、判断对错。答完点“检查”，看解析和出处。")
    _settings_panel(corpus, docs)
    quiz = st.session_state.get(QUIZ_KEY)
    if not quiz:
        st.info("选择范围和题目数量，然后点“生成测验”。", icon=":material/info:")
        return
    questions = [QuizQuestion.from_dict(d) for d in quiz["questions"]]
    note = f"（该范围只能出 {len(questions)} 题）" if len(questions) < quiz.get("requested", 0) and quiz["round"] == 1 \
        else ""
    st.subheader(f"{md_text(quiz['scope'])} · 第 {quiz['round']} 轮{note}", anchor=False)
    _scoreboard(quiz, questions)
    for i, q in enumerate(questions):
        _question(q, i, quiz)


try:
    main()
except PolicyAssistantError as exc:
    show_error(exc)
