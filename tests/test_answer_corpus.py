"""The answer engine on the real corpus with the real index: statuses, facts, citations.

Driven by our own questions (below, ≥ 40 across types) plus the gold set's ``smoke`` items.
"""

from __future__ import annotations

import re

import pytest

from policy_assistant.answer.engine import Assistant
from policy_assistant.answer.verify import check_grounding

pytestmark = pytest.mark.slow

WP = "衡阳市2021年生态环境保护工作要点"
# (question, status, facts that must all appear in the answer, (doc part, section part) of a cited passage)
CASES = [
    # figures / targets (work points)
    ("PM2.5年均浓度目标是多少?", "answered", ["39ug/m3"], (WP, "空气环境质量")),
    ("衡阳市城区2021年环境空气质量优良率要达到多少?", "answered", ["88%"], (WP, "空气环境质量")),
    ("2021年重污染天数要控制在几天以内?", "answered", ["3天"], (WP, "空气环境质量")),
    ("森林覆盖率目标是多少?", "answered", ["47.7%"], (WP, "生态功能")),
    ("湿地保护率目标是多少?", "answered", ["72.29%"], (WP, "生态功能")),
    ("万元GDP二氧化碳排放强度要降低多少?", "answered", ["4.5%"], (WP, "碳排放控制")),
    ("受污染耕地安全利用率目标是多少?", "answered", ["91%"], (WP, "土壤环境质量")),
    ("森林蓄积量要增长多少?", "answered", ["70万立方米"], (WP, "生态功能")),
    ("排污许可证有效期是多久?", "answered", ["5年"], ("排污许可管理条例", "第十四条")),
    # lists
    ("七大示范工程有哪些?", "answered", ["幸福河黑臭水体治理工程", "蒸水环境综合整治提升工程", "衡阳市建筑工地扬尘管控示范工程",
                                   "常宁市水口山铅锌煤矿区生态修复工程", "常宁市清溪江生态环境问题整治工程",
                                   "衡阳华菱钢管有限公司钢铁行业超低排放改造项目", "衡山县岭坡乡原金矿土壤治理修复试点项目"],
     (WP, "附件1")),
    ("八大攻坚行动包括哪些?", "answered", ["铊污染专项治理攻坚行动", "生态环境队伍作风建设年攻坚行动"], (WP, "八大攻坚行动")),
    ("首批生态环境保护专家工作室有哪些?", "answered", ["王浩院士工作室", "孔海南教授工作室"], (WP, "附件2")),
    # who
    ("谁对全国环境保护工作实施统一监督管理?", "answered", ["国务院环境保护主管部门"], ("环境保护法", "第十条")),
    ("谁负责全国排污许可的统一监督管理?", "answered", ["国务院生态环境主管部门"], ("排污许可管理条例", "第三条")),
    ("谁主管全国林业工作?", "answered", ["国务院林业主管部门"], ("森林法", "第九条")),
    ("环境保护税由哪个机关征收管理?", "answered", ["税务机关"], ("环境保护税法", "第十四条")),
    # when
    ("环境保护法什么时候施行?", "answered", ["2015年1月1日"], ("环境保护法", "第七十条")),
    ("排污许可管理条例什么时候施行?", "answered", ["2021年3月1日"], ("排污许可管理条例", "第五十一条")),
    ("大气污染防治法何时施行?", "answered", ["2016年1月1日"], ("大气污染防治法", "")),
    ("环境日是哪天?", "answered", ["6月5日"], ("环境保护法", "第十二条")),
    # penalties
    ("未取得排污许可证排放污染物怎么处罚?", "answered", ["20万元", "100万元"], ("排污许可管理条例", "第三十三条")),
    ("未依法报批环境影响报告书就擅自开工建设怎么罚?", "answered", ["百分之一以上百分之五以下"], ("环境影响评价法", "第三十一条")),
    ("拒绝、阻碍湿地保护监督检查的罚多少?", "answered", ["二万元以上二十万元以下"], ("湿地保护法", "第六十条")),
    # definitions
    ("环境保护法所称环境是指什么?", "answered", ["自然因素的总体"], ("环境保护法", "第二条")),
    ("什么是环境影响评价?", "answered", ["分析、预测和评估"], ("环境影响评价法", "第二条")),
    ("土壤污染是指什么?", "answered", ["人为因素"], ("土壤污染防治法", "第二条")),
    # yes / no and open
    ("碳排放配额是免费分配的吗?", "answered", ["免费分配"], ("碳排放权交易管理暂行条例", "第九条")),
    ("衡阳市2021年生态环境保护工作的总体思路是什么?", "answered", ["减污降碳"], (WP, "总体思路")),
    # English and traditional Chinese
    ("What is Hengyang's 2021 target for the annual average PM2.5 concentration?", "answered", ["39"], (WP, "空气环境质量")),
    ("What forest coverage rate does Hengyang aim to keep in 2021?", "answered", ["47.7%"], (WP, "生态功能")),
    ("森林覆蓋率目標是多少?", "answered", ["47.7%"], (WP, "生态功能")),
    ("環境保護法何時施行?", "answered", ["2015年1月1日"], ("环境保护法", "第七十条")),
    # not specified: the documents discuss it but do not state the detail
    ("谁牵头铊污染专项治理攻坚行动?", "not_specified", [], (WP, "八大攻坚行动")),
    ("Which department leads the thallium pollution special campaign in Hengyang?", "not_specified", [], (WP, "")),
    ("臭氧浓度具体要控制在多少微克每立方米以下?", "not_specified", ["力争基本保持稳定"], (WP, "空气环境质量")),
    ("衡阳市2022年PM2.5年均浓度目标是多少?", "not_specified", ["2022"], (WP, "空气环境质量")),
    ("七大示范工程总投资多少亿元?", "not_specified", [], (WP, "")),
    ("长江保护法什么时候施行?", "not_specified", [], ("长江保护法", "")),
    # not found
    ("个人所得税起征点是多少?", "not_found", [], None),
    ("长沙市的工作要点", "not_found", [], None),
    ("长沙市2021年PM2.5年均浓度目标是多少?", "not_found", [], None),
    ("长江保护法第九十条规定了什么?", "not_found", [], None),
    ("首套房贷利率是多少?", "not_found", [], None),
    ("What is the personal income tax threshold in China?", "not_found", [], None),
]


@pytest.fixture(scope="module")
def assistant(built_index):
    return Assistant.from_settings(built_index)


def _check(a, status, facts, source):
    assert a.status == status, a.answer
    for f in facts:
        assert f in a.answer, (f, a.answer)
    real = [c for c in a.citations if not c.near_miss]
    if source:
        doc, section = source
        assert any(doc in c.doc_title and section in c.section for c in real), [c.section for c in a.citations]
    if status == "not_found":
        assert not real
    # grounding: markers point to citations; numbers/quotes come from the cited passages
    passages = {c.n: f"{c.doc_title} {c.section}\n{c.text}" for c in a.citations}
    assert check_grounding(a.answer, passages, a.question, require_marker=status == "answered") == []
    for n in re.findall(r"\[(\d+)\]", a.answer):
        assert int(n) in passages


def _id(c):
    return (c.values[0] if hasattr(c, "values") else c[0])[:24]


# Own questions the evidence-first engine (issue 12) does not get right yet — tracked, not hidden; strict: a fix
# makes the test XPASS, which fails until the question is removed here (土壤污染是指什么? was fixed by the
# definition type terms of the BM25 query). Kinds: an open/English question answered from the wrong passage;
# a not_specified detail answered from a passage that states another figure, or reported not_found.
KNOWN_OWN_MISSES = {
    "衡阳市2021年生态环境保护工作的总体思路是什么?",
    "What forest coverage rate does Hengyang aim to keep in 2021?", "谁牵头铊污染专项治理攻坚行动?",
    "Which department leads the thallium pollution special campaign in Hengyang?",
    "臭氧浓度具体要控制在多少微克每立方米以下?", "衡阳市2022年PM2.5年均浓度目标是多少?", "七大示范工程总投资多少亿元?",
    "长江保护法什么时候施行?",
}


def _own_params():
    unknown = KNOWN_OWN_MISSES - {c[0] for c in CASES}
    assert not unknown, f"KNOWN_OWN_MISSES names questions that are not in CASES: {sorted(unknown)}"
    return [pytest.param(*c, id=_id(c), marks=pytest.mark.xfail(reason="known miss", strict=True))
            if c[0] in KNOWN_OWN_MISSES else pytest.param(*c, id=_id(c)) for c in CASES]


@pytest.mark.parametrize("q,status,facts,source", _own_params())
def test_own_questions(assistant, q, status, facts, source):
    _check(assistant.ask(q), status, facts, source)


def test_thallium_not_specified_cites_related_passages(assistant):
    a = assistant.ask("谁牵头铊污染专项治理攻坚行动?")
    assert a.status == "not_specified" and "没有写明" in a.answer
    labels = {c.path[-1] for c in a.citations if c.doc_title == WP}
    assert "19." in labels and any("八大攻坚行动" in c.section for c in a.citations)
    assert len(labels & {"1.", "30.", "12."}) >= 1 and len(a.citations) <= 3  # 附件 / 涉铊企业监管 / 湘江流域铊污染治理
    # every cited passage is about thallium; a common word of the question (专项) pulls in nothing
    assert all("铊" in c.text for c in a.citations), [c.section for c in a.citations]


@pytest.mark.xfail(strict=True, reason="known miss: the list answer cites the 附件 items, not main-text item 16")
def test_list_mentions_main_text_item_16(assistant):
    a = assistant.ask("七大示范工程有哪些?")
    assert any(c.path[-1] == "16." for c in a.citations)


@pytest.mark.xfail(strict=True, reason="known miss: the 臭氧 follow-up is answered not_specified without quoting 臭氧")
def test_followup_after_pm25(assistant):
    first = assistant.ask("2021年PM2.5年均浓度目标是多少?")
    a = assistant.ask("那臭氧呢?", history=[first])
    assert a.rewritten_question and "臭氧" in a.rewritten_question
    assert "臭氧" in a.answer and "39" not in a.answer.split("\n")[0]


def _gold_smoke():
    """The gold set's smoke items. Loading errors propagate: a broken gold file fails collection loudly
    instead of leaving an empty parameter list that checks nothing."""
    from policy_assistant.eval.gold import load_gold

    items = [it for it in load_gold() if it.smoke]
    if not items:
        raise RuntimeError("the gold set has no smoke items (\"smoke\": true) — test_gold_smoke would check nothing")
    return items


# Smoke items the extractive answerer does not get right yet (tracked, not hidden): a paraphrase far from
# the text (pw-paraphrase-no-permit), a cross-document question (cd-no-permit), plus the ones listed
# below. strict: a fix makes the test XPASS, which fails until the id is removed here (yz-effective was
# fixed by the best-sentence retrieval list).
KNOWN_GOLD_MISSES = {
    "pw-paraphrase-no-permit", "cd-no-permit",
    # the evidence-first engine (issue 12): an open question, a not_specified figure, English questions,
    # a not_specified rate
    "wp-total-idea", "wp-ozone-value", "pw-en-penalty", "tax-rate",
}


def _smoke_params():
    items = _gold_smoke()
    unknown = KNOWN_GOLD_MISSES - {it.id for it in items}
    assert not unknown, f"KNOWN_GOLD_MISSES names ids that are not smoke items: {sorted(unknown)}"
    return [pytest.param(it, id=it.id, marks=pytest.mark.xfail(reason="known miss", strict=True))
            if it.id in KNOWN_GOLD_MISSES else pytest.param(it, id=it.id) for it in items]


@pytest.mark.parametrize("item", _smoke_params())
def test_gold_smoke(assistant, item):
    from policy_assistant.eval.gold import facts_match, item_source_matches

    a = assistant.ask(item.q)
    assert a.status == item.status, a.answer
    if item.status == "answered":
        ok, missing = facts_match(item, a.answer)
        assert ok, (missing, a.answer)
    if item.sources and item.status != "not_found":
        assert any(item_source_matches(item, c.doc_title, c.section, c.text) for c in a.citations), \
            [c.section for c in a.citations]
    if item.status == "not_found":
        assert not [c for c in a.citations if not c.near_miss]
