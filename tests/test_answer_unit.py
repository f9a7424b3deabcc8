"""Answer engine units on hand-written chunks: analysis, slots, status decision, composition, bad input."""

from __future__ import annotations

import re

import pytest
from answer_helpers import LexicalRetriever, make_chunk

from policy_assistant.answer.engine import Assistant
from policy_assistant.answer.question import analyse
from policy_assistant.answer.sentences import numbers_in, split_clauses
from policy_assistant.answer.slots import date_slot, figure_slot, penalty_slot, who_slot
from policy_assistant.answer.verify import check_grounding
from policy_assistant.core.errors import QuestionError
from policy_assistant.corpus.text import split_sentences

WP = "衡阳市2021年生态环境保护工作要点"
LAW = "中华人民共和国环境保护法"


def _chunks():
    c = []
    add = lambda *a, **k: c.append(make_chunk(*a, position=len(c), **k))  # noqa: E731
    add("wp", WP, ("二、主要目标", "（一）空气环境质量"),
        "(一)空气环境质量。市城区环境空气质量优良率达到88%以上,细颗粒物(PM2.5)年均浓度控制在39ug/m3以下,"
        "臭氧(O3)浓度力争基本保持稳定,重污染天数控制在3天以内。", kind="target")
    add("wp", WP, ("二、主要目标", "（六）生态功能"),
        "(六)生态功能。全市自然生态系统功能进一步提升,森林覆盖率稳定在47.7%以上,湿地保护率稳定在72.29%以上。",
        kind="target")
    add("wp", WP, ("三、主要任务", "（四）深入打好污染防治攻坚战", "16."),
        '16.着力打造"七大示范工程"。全力打造幸福河黑臭水体治理工程、蒸水环境综合整治提升工程等环境治理"示范工程"。')
    add("wp", WP, ("三、主要任务", "（五）持续推进突出生态环境问题整改", "19."),
        '19.深入开展"八大攻坚行动"。组织开展铊污染专项治理、大气环境全域达标等专项攻坚行动。')
    add("wp", WP, ("三、主要任务", "（九）防范化解生态环境风险", "30."),
        "30.加强环境风险排查整治。强化涉铊企业监管,建立涉铊污染源联点帮扶工作机制。")
    for i, name in enumerate(["幸福河黑臭水体治理工程", "蒸水环境综合整治提升工程", "衡阳市建筑工地扬尘管控示范工程"], 1):
        add("wp", WP, ("附件1", '"七大示范工程"', f"{i}."), f"{i}.{name}", kind="attachment_item")
    add("wp", WP, ("附件1", '"八大攻坚行动"', "1."), "1.铊污染专项治理攻坚行动", kind="attachment_item")
    add("wp", WP, ("附件1", '"八大攻坚行动"', "2."), "2.大气环境全域达标攻坚行动", kind="attachment_item")
    add("law", LAW, ("第一章 总则", "第二条"),
        "第二条 本法所称环境，是指影响人类生存和发展的各种天然的和经过人工改造的自然因素的总体。",
        kind="article", doc_type="法律")
    add("law", LAW, ("第一章 总则", "第十条"),
        "第十条 国务院环境保护主管部门，对全国环境保护工作实施统一监督管理。", kind="article", doc_type="法律")
    add("law", LAW, ("第一章 总则", "第十二条"), "第十二条 每年6月5日为环境日。", kind="article", doc_type="法律")
    add("law", LAW, ("第六章 法律责任", "第五十九条"),
        "第五十九条 企业事业单位和其他生产经营者违法排放污染物，受到罚款处罚，被责令改正，拒不改正的，"
        "依法作出处罚决定的行政机关可以自责令改正之日的次日起，按照原处罚数额按日连续处罚。",
        kind="article", doc_type="法律")
    add("law", LAW, ("第七章 附则", "第七十条"), "第七十条 本法自2015年1月1日起施行。", kind="article", doc_type="法律")
    return c


@pytest.fixture(scope="module")
def assistant():
    return Assistant(LexicalRetriever(_chunks()))


# ---------------------------------------------------------------- analysis
@pytest.mark.parametrize("q,qtype", [
    ("PM2.5年均浓度目标是多少?", "figure"), ("七大示范工程有哪些?", "list"), ("谁牵头铊污染专项治理攻坚行动?", "who"),
    ("哪些部门负责排污许可?", "who"), ("环境保护法什么时候施行?", "when"), ("无证排污罚款多少?", "penalty"),
    ("什么是环境?", "definition"), ("碳排放配额是免费分配的吗?", "yesno"), ("总体思路", "open"),
    ("What is the PM2.5 target?", "figure"), ("Who leads the thallium campaign?", "who"),
    ("When does the law take effect?", "when"), ("What is the fine for discharging without a permit?", "penalty"),
])
def test_question_types(q, qtype):
    assert analyse(q).qtype == qtype


def test_scope_and_terms():
    q = analyse("长沙市2022年PM2.5年均浓度目标是多少?")
    assert q.years == ["2022"] and q.places == ["长沙"] and "PM2.5" in q.terms and q.wants_number
    assert analyse("森林覆蓋率目標是多少?").terms[:1] == ["森林"] or "覆盖率" in analyse("森林覆蓋率目標是多少?").terms
    assert "铊" in analyse("Which department leads the thallium campaign?").terms


@pytest.mark.parametrize("bad", ["", "   \n\t", "？？？!!!。。", "🙂🙂🙂", "\u200b\u200b"])
def test_bad_input_raises_polite_question_error(assistant, bad):
    with pytest.raises(QuestionError) as ei:
        assistant.ask(bad)
    assert ei.value.fix and "问题" in ei.value.fix


def test_long_sql_and_html_input_is_handled(assistant):
    ans = assistant.ask("PM2.5年均浓度目标是多少?" + "啊" * 20000)
    assert ans.notes and "过长" in ans.notes[0]
    for q in ["'; DROP TABLE chunks; --", "<script>alert('x')</script><b>罚款</b>", "SELECT * FROM answers"]:
        ans = assistant.ask(q)
        assert ans.status in ("not_found", "not_specified", "answered")
        assert "<script>" not in ans.answer


# ---------------------------------------------------------------- sentences and slots
def test_sentences_and_clauses():
    s = split_sentences("第一句。第二句;第三句\n第四句")
    assert s == ["第一句。", "第二句;", "第三句", "第四句"]
    assert split_clauses("优良率达到88%以上,PM2.5控制在39ug/m3以下,臭氧稳定。")[1].startswith("PM2.5")


def test_slots():
    assert figure_slot("细颗粒物(PM2.5)年均浓度控制在39ug/m3以下") == "39ug/m3以下"
    assert figure_slot("2021年是建党一百周年") is None
    assert figure_slot("臭氧(O3)浓度力争基本保持稳定") is None
    assert penalty_slot("责令改正，处二万元以上二十万元以下的罚款；") == "处二万元以上二十万元以下的罚款"
    assert date_slot("本法自2015年1月1日起施行。") == "2015年1月1日"
    assert who_slot("国务院环境保护主管部门，对全国环境保护工作实施统一监督管理；") == "国务院环境保护主管部门"
    assert who_slot("组织开展铊污染专项治理、大气环境全域达标等专项攻坚行动。") is None
    assert who_slot("强化涉铊企业监管,建立涉铊污染源联点帮扶工作机制。") is None


# ---------------------------------------------------------------- status decisions
def test_figure_answered_leads_with_fact(assistant):
    ans = assistant.ask("PM2.5年均浓度目标是多少?")
    assert ans.status == "answered"
    first = ans.answer.splitlines()[0]
    assert "39ug/m3" in first and "[1]" in first
    assert ans.citations[0].section.endswith("（一）空气环境质量")


def test_qualitative_target_is_not_a_number(assistant):
    ans = assistant.ask("臭氧浓度具体要控制在多少微克每立方米以下?")
    assert ans.status == "not_specified"
    assert "力争基本保持稳定" in ans.answer
    assert "39" not in ans.answer.split("相关内容")[0]


def test_thallium_lead_not_specified(assistant):
    ans = assistant.ask("谁牵头铊污染专项治理攻坚行动?")
    assert ans.status == "not_specified"
    assert "没有写明" in ans.answer
    sections = " ".join(c.section for c in ans.citations)
    assert "八大攻坚行动" in sections and "19." in sections


def test_list_gathers_all_items_and_mentions_main_text(assistant):
    ans = assistant.ask("七大示范工程有哪些?")
    assert ans.status == "answered"
    for name in ["幸福河黑臭水体治理工程", "蒸水环境综合整治提升工程", "衡阳市建筑工地扬尘管控示范工程"]:
        assert name in ans.answer
    assert any(c.path[-1] == "16." for c in ans.citations)


def test_who_when_definition_penalty(assistant):
    a = assistant.ask("谁对全国环境保护工作实施统一监督管理?")
    assert a.status == "answered" and "国务院环境保护主管部门" in a.answer
    a = assistant.ask("环境保护法什么时候施行?")
    assert a.status == "answered" and "2015年1月1日" in a.answer
    a = assistant.ask("环境日是哪天?")
    assert a.status == "answered" and "6月5日" in a.answer
    a = assistant.ask("什么是环境?")
    assert a.status == "answered" and "自然因素的总体" in a.answer


def test_not_found_and_scope(assistant):
    assert assistant.ask("个人所得税起征点是多少?").status == "not_found"
    a = assistant.ask("长沙市2021年PM2.5年均浓度目标是多少?")
    assert a.status == "not_found" and "39" not in a.answer.split("仅供参考")[0]
    a = assistant.ask("衡阳市2022年PM2.5年均浓度目标是多少?")
    assert a.status == "not_specified" and "2022" in a.answer and "不适用" in a.answer
    a = assistant.ask("环境保护法第九十条规定了什么?")
    assert a.status == "not_found" and "第九十条" in a.answer


def test_every_number_in_answers_is_in_a_cited_passage(assistant):
    for q in ["PM2.5年均浓度目标是多少?", "森林覆盖率目标是多少?", "七大示范工程有哪些?", "环境保护法什么时候施行?",
              "重污染天数控制在几天以内?", "谁牵头铊污染专项治理攻坚行动?"]:
        a = assistant.ask(q)
        passages = {c.n: f"{c.doc_title} {c.section}\n{c.text}" for c in a.citations}
        assert check_grounding(a.answer, passages, q) == [], (q, a.answer)
        for n in re.findall(r"\[(\d+)\]", a.answer):
            assert 1 <= int(n) <= len(a.citations)


def test_followup_rewrite(assistant):
    first = assistant.ask("2021年PM2.5年均浓度目标是多少?")
    rw = assistant.rewrite_followup("那臭氧呢?", [first])
    assert rw and "臭氧" in rw and "PM2.5" not in rw
    ans = assistant.ask("那臭氧呢?", history=[first])
    assert ans.rewritten_question == rw and ans.question == "那臭氧呢?"
    assert "臭氧" in ans.answer
    assert assistant.rewrite_followup("七大示范工程有哪些?", [first]) is None
    assert assistant.rewrite_followup("那臭氧呢?", []) is None


def test_answer_json_contract(assistant):
    d = assistant.ask("森林覆盖率目标是多少?").to_dict()
    assert set(d) >= {"question", "status", "answer", "citations", "timings_ms"}
    assert set(d["timings_ms"]) == {"retrieve", "answer", "total"}
    c = d["citations"][0]
    assert set(c) >= {"n", "doc_title", "file", "section", "text", "score", "quote", "near_miss"}
    assert numbers_in(c["text"]) >= {"47.7"}


def test_question_glue_words_are_not_subject_terms():
    assert "称" not in analyse("森林法所称森林包括哪些?").terms
    assert "法是" not in analyse("现行环境保护法是哪天修订通过的?").terms
    assert "只" not in analyse("只需要填报排污登记表的单位还要申请排污许可证吗?").terms


def test_list_defines_ignores_youguan_and_accepts_trailing_head():
    from policy_assistant.answer.lists import _defines

    assert not _defines(["管理"], "为了加强排污许可管理，根据有关法律，制定本条例。")
    assert _defines(["温室气体"], "（一）温室气体，是指…，包括二氧化碳、甲烷和三氟化氮。")
    assert _defines(["任务"], "主要包括中央交办突出环境问题整改、VOCs项目治理、黑臭水体治理等任务。")


def test_recipient_and_coordination_who_slots():
    from policy_assistant.answer.slots import recipient_slot

    s = "第六条 排污单位应当向其生产经营场所所在地设区的市级以上地方人民政府生态环境主管部门(以下称审批部门)申请取得排污许可证。"
    assert recipient_slot(s).endswith("生态环境主管部门")
    assert who_slot("第四条 国家建立长江流域协调机制，统一指导、统筹协调长江保护工作。") == "长江流域协调机制"
