"""Quiz generation on the real corpus (../shared/corpus) and lenient answer checking."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.corpus.text import cn_to_int, int_to_cn
from policy_assistant.training.figures import figure_matches, find_figures, perturb_figure
from policy_assistant.training.quiz import TYPES, QuizError, QuizQuestion, check_answer, generate_quiz

WORK_POINTS = "衡阳市2021年生态环境保护工作要点"
PERMITS = "排污许可管理条例"


@pytest.fixture(scope="module")
def corpus(real_corpus):
    return real_corpus


# --------------------------------------------------------------------------- generation


def test_counts_per_type_whole_corpus(corpus):
    quiz = generate_quiz(corpus, n=20, seed=7)
    assert len(quiz) == 20
    assert Counter(q.type for q in quiz) == {t: 5 for t in TYPES}


def test_counts_per_type_by_document(corpus):
    wp = Counter(q.type for q in generate_quiz(corpus, n=21, seed=3, doc=WORK_POINTS))
    assert wp == {"fill_figure": 7, "missing_item": 7, "true_false": 7}  # no articles in the work points
    law = Counter(q.type for q in generate_quiz(corpus, n=12, seed=3, doc=PERMITS))
    assert law == {"which_article": 4, "missing_item": 4, "true_false": 4}  # figures are asked with the article


@pytest.mark.parametrize("seed", [1, 2, 7, 42])
def test_every_answer_is_in_its_cited_passage(corpus, seed):
    chunks = {c.chunk_id: c for c in corpus.chunks}
    for q in generate_quiz(corpus, n=60, seed=seed):
        assert q.doc_title and q.section.startswith(q.doc_title) and q.source_text and q.explanation
        assert q.chunk_id in chunks and chunks[q.chunk_id].doc_title == q.doc_title
        assert q.evidence and q.evidence in q.source_text, q
        if q.type == "fill_figure":
            assert q.answer in q.source_text and "___" in q.question
        elif q.type == "missing_item":
            assert q.answer in q.source_text and q.answer in q.choices
            assert len(set(q.choices)) == 4
            assert all(c not in q.source_text for c in q.choices if c != q.answer)
        elif q.type == "which_article":
            article = q.key["article"]
            assert q.source_text.startswith(article)
            if q.choices:
                assert q.answer == article and article in q.choices
            else:
                assert q.key["figure"] in q.source_text and q.answer.endswith(article)
        else:
            assert q.key["original"] in q.source_text
            statement = q.question.split("，", 1)[1]
            assert (statement == q.key["original"]) == (q.answer == "正确")
        assert check_answer(q, q.answer).correct, q


def test_brief_examples(corpus):
    figures = generate_quiz(corpus, n=50, seed=1, doc=WORK_POINTS, section="二、主要目标", types=["fill_figure"])
    pm = [q for q in figures if "PM2.5" in q.question and "___以下" in q.question]
    assert len(pm) == 1 and pm[0].answer == "39ug/m3"
    for response in ["39", "39ug/m3", "39微克/立方米", "３９", "39 μg/m³"]:
        assert check_answer(pm[0], response).correct, response
    assert not check_answer(pm[0], "35").correct
    assert len(figures) >= 12  # every figure of the six targets

    articles = generate_quiz(corpus, n=500, seed=1, doc=PERMITS, types=["which_article"])
    term = [q for q in articles if "排污许可证有效期为几年" in q.question]
    assert len(term) == 1 and term[0].answer == "5年，第十四条" and "出自哪一条" in term[0].question

    lists = generate_quiz(corpus, n=100, seed=1, doc=WORK_POINTS, types=["missing_item"])
    text = "\n".join(q.question for q in lists)
    for name in ("七大示范工程", "八大攻坚行动", "四个清单"):
        assert name in text, name


def test_no_duplicates(corpus):
    quiz = generate_quiz(corpus, n=300, seed=5)
    assert len(quiz) == 300
    assert len({q.question for q in quiz}) == len(quiz)
    assert len({q.qid for q in quiz}) == len(quiz)


def test_same_seed_same_quiz_different_seed_different(corpus):
    a = [q.to_dict() for q in generate_quiz(corpus, n=20, seed=7)]
    b = [q.to_dict() for q in generate_quiz(corpus, n=20, seed=7)]
    c = [q.to_dict() for q in generate_quiz(corpus, n=20, seed=8)]
    assert a == b
    assert a != c
    assert {q["question"] for q in a} != {q["question"] for q in c}


def test_scope_filters(corpus):
    for q in generate_quiz(corpus, n=15, seed=2, doc="排污许可"):
        assert q.doc_title == PERMITS
    targets = generate_quiz(corpus, n=10, seed=2, doc=WORK_POINTS, section="二、主要目标")
    assert targets and all(" › 二、主要目标" in q.section for q in targets)
    assert {q.type for q in targets} <= {"fill_figure", "true_false"}
    annex = generate_quiz(corpus, n=10, seed=2, doc=WORK_POINTS, section="附件1")
    assert annex and all(q.type == "missing_item" and "附件1" in q.section for q in annex)
    chapter = generate_quiz(corpus, n=10, seed=2, doc=PERMITS, section="第二章")
    assert chapter and all("第二章 申请与审批" in q.section for q in chapter)
    across = generate_quiz(corpus, n=10, seed=2, section="法律责任")  # a section name across documents
    assert len({q.doc_title for q in across}) > 1 and all("法律责任" in q.section for q in across)


def test_small_scope_returns_what_it_has(corpus):
    quiz = generate_quiz(corpus, n=500, seed=1, doc=WORK_POINTS, section="（五）碳排放控制")
    assert 1 <= len(quiz) < 10
    assert all("（五）碳排放控制" in q.section for q in quiz)
    assert generate_quiz(corpus, n=0, seed=1) == []


def test_scope_errors(corpus):
    with pytest.raises(QuizError) as err:
        generate_quiz(corpus, n=5, seed=1, doc=WORK_POINTS, section="没有这一节")
    assert err.value.fix
    with pytest.raises(PolicyAssistantError):
        generate_quiz(corpus, n=5, seed=1, doc="不存在的文件")


def test_question_round_trips_through_dict(corpus):
    for q in generate_quiz(corpus, n=8, seed=4):
        again = QuizQuestion.from_dict(json.loads(json.dumps(q.to_dict(), ensure_ascii=False)))
        assert again == q


# --------------------------------------------------------------------------- answer checking


def _q(type_, answer, choices=(), key=None):
    return QuizQuestion(type_, "题目", list(choices), answer, "文件", "文件 › 一", "原文", "doc#1", "解析",
                        key=key or {})


@pytest.mark.parametrize("response,ok", [
    ("39", True), (" 39 ", True), ("３９", True), ("39ug/m3", True), ("39 μg/m³", True), ("39微克/立方米", True),
    ("39微克每立方米", True), ("三十九", True), ("39ug/m3以下", True), ("38", False), ("39%", False),
    ("", False), (None, False), ("3.9", False),
])
def test_check_figure(response, ok):
    q = _q("fill_figure", "39ug/m3", key={"figure": "39ug/m3"})
    assert check_answer(q, response).correct is ok


@pytest.mark.parametrize("answer,response,ok", [
    ("88%", "88", True), ("88%", "百分之八十八", True), ("88%", "88％", True), ("88%", "0.88", False),
    ("2个百分点", "2", True), ("2个百分点", "两个百分点", True), ("2个百分点", "2%", False),
    ("70万立方米", "700000立方米", True), ("70万立方米", "70万", True), ("70万立方米", "70", True),
    ("十万元以上一百万元以下", "10万元到100万元", True), ("十万元以上一百万元以下", "10-100万元", True),
    ("十万元以上一百万元以下", "100000元至1000000元", True), ("十万元以上一百万元以下", "10万元", False),
    ("2021年3月1日", "2021-03-01", True), ("2021年3月1日", "2021年3月2日", False),
])
def test_check_figure_forms(answer, response, ok):
    q = _q("fill_figure", answer, key={"figure": answer})
    assert check_answer(q, response).correct is ok


@pytest.mark.parametrize("response,ok", [
    ("5年，第十四条", True), ("第十四条，5年", True), ("5年 第14条", True), ("五年，第十四條", True),
    ("5 年；14条", True), ("5年", False), ("第十四条", False), ("6年，第十四条", False), ("5年，第十五条", False),
])
def test_check_which_article_with_figure(response, ok):
    q = _q("which_article", "5年，第十四条", key={"figure": "5年", "article": "第十四条"})
    result = check_answer(q, response)
    assert result.correct is ok
    assert result.expected == "5年，第十四条"
    if response == "5年":
        assert "条文" in result.explanation


def test_check_which_article_choice():
    q = _q("which_article", "第十四条", ["第十二条", "第十四条", "第十五条", "第二十条"], {"article": "第十四条"})
    for response in ["B", "b", "(B)", "B.", "第十四条", "第14条", "14"]:
        assert check_answer(q, response).correct, response
    for response in ["A", "第十五条", "15", "E"]:
        assert not check_answer(q, response).correct, response


def test_check_missing_item_choice():
    choices = ["幸福河黑臭水体治理工程", "铊污染专项治理攻坚行动", "蒸水环境综合整治提升工程", "长江经济带警示片披露问题"]
    q = _q("missing_item", "蒸水环境综合整治提升工程", choices, {"item": "蒸水环境综合整治提升工程"})
    for response in ["C", "c", "（C）", "C. 蒸水环境综合整治提升工程", "蒸水环境综合整治提升工程", "蒸水",
                     " 蒸水环境综合整治提升工程。", "3"]:
        assert check_answer(q, response).correct, response
    for response in ["A", "幸福河", "治理", "E", "xyz"]:
        assert not check_answer(q, response).correct, response


def test_check_true_false():
    true_q = _q("true_false", "正确", ["正确", "错误"], {"truth": True})
    false_q = _q("true_false", "错误", ["正确", "错误"], {"truth": False})
    for response in ["正确", "对", "√", "T", "true", "是", "A", "正確"]:
        assert check_answer(true_q, response).correct, response
        assert not check_answer(false_q, response).correct, response
    for response in ["错误", "错", "×", "F", "false", "否", "B", "錯誤"]:
        assert check_answer(false_q, response).correct, response
    assert not check_answer(true_q, "也许").correct


def test_check_result_explains_with_source():
    q = _q("fill_figure", "39ug/m3", key={"figure": "39ug/m3"})
    wrong = check_answer(q, "40")
    assert not wrong.correct and "39ug/m3" in wrong.explanation and "解析" in wrong.explanation
    assert check_answer(q, "39").explanation.startswith("回答正确")


# --------------------------------------------------------------------------- figures


def test_chinese_numerals():
    for n in [1, 2, 10, 15, 20, 105, 1000, 1500, 10000, 20000, 100000, 200000, 1000000, 1050000]:
        assert cn_to_int(int_to_cn(n)) == n
    assert cn_to_int("一九") is None
    assert int_to_cn(100000) == "十万" and int_to_cn(20) == "二十"


def test_find_figures():
    text = "处十万元以上一百万元以下的罚款；上一年度收入；有效期为5年；细颗粒物(PM2.5)浓度39ug/m3；2021年3月1日"
    found = [(f.text, f.kind) for f in find_figures(text)]
    assert found == [("十万元以上一百万元以下", "range"), ("5年", "number"), ("39ug/m3", "number"),
                     ("2021年3月1日", "date")]
    assert find_figures("一九八九年十二月二十六日") == []
    assert find_figures("2015-2020年") == []


def test_perturb_changes_the_figure():
    text = "排污许可证有效期为5年。"
    fig = find_figures(text)[0]
    for seed in range(10):
        changed = perturb_figure(text, fig, random.Random(seed))
        assert changed and changed != text
        assert not figure_matches(fig, changed)


# --------------------------------------------------------------------------- CLI


def test_cli_json(corpus, capsys):
    from policy_assistant.cli import main

    assert main(["quiz", "--n", "6", "--seed", "7", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    records = [json.loads(line) for line in lines]
    for r in records:
        assert {"type", "question", "answer", "doc_title", "section", "source_text"} <= set(r)
        assert ("choices" in r) == (r["type"] != "fill_figure" and not (r["type"] == "which_article" and "，" in
                                                                         r["answer"]))
    assert [r["question"] for r in records] == [q.question for q in generate_quiz(corpus, n=6, seed=7)]


def test_cli_text_and_errors(corpus, capsys):
    from policy_assistant.cli import main

    assert main(["quiz", "--n", "3", "--doc", "衡阳市2021年", "--section", "附件1"]) == 0
    out = capsys.readouterr().out
    assert "答案与出处" in out and "A. " in out and "附件1" in out
    assert main(["quiz", "--n", "3", "--doc", "不存在的文件"]) == 2
    assert "error:" in capsys.readouterr().err
