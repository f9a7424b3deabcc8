"""Issue 12's five measured examples, on the real index: the status never contradicts the evidence.

1. everyday wording of a question the formal wording answers (排污许可管理条例 第三十三条);
2. a penalty question whose cited passage states the fine (噪声污染防治法 第七十七条);
3. a long first-person message with two sub-questions (投诉 → 第三十一条; 怎么规定 → 第四十三条 / 第七十七条);
4. a short "what is X for" question answered by the only passage about X (work points item 37);
5. a follow-up "那如果拒不改正呢？" rewritten into a well-formed question.
"""

from __future__ import annotations

import pytest

from policy_assistant.answer.engine import Assistant
from policy_assistant.answer.types import Answer

pytestmark = pytest.mark.slow
NOISE = "噪声污染防治法"


@pytest.fixture(scope="module")
def assistant(built_index):
    return Assistant.from_settings(built_index)


def _cited(ans: Answer, doc: str, label: str | None = None) -> bool:
    return any(doc in c.doc_title and (label is None or (c.path and c.path[-1] == label))
               for c in ans.citations if not c.near_miss)


@pytest.mark.xfail(strict=True, reason="known miss: 没有 now reads as 未 (vocabulary alias) and 第三十三条 is among the hits, but 第四十四条 (detention; its item (一) 未取得排污许可证排放污染物，被责令停止排污，拒不执行) outscores it")
def test_everyday_wording_of_an_unlicensed_discharge_is_answered(assistant):
    ans = assistant.ask("我们单位没有排污许可证就排污了，会被怎么处罚？")
    assert ans.status == "answered", ans.answer
    assert "20万元以上100万元以下" in ans.answer
    assert _cited(ans, "排污许可管理条例", "第三十三条")


def test_night_construction_noise_fine_is_stated_not_denied(assistant):
    ans = assistant.ask("夜间施工噪声扰民怎么处罚？")
    assert ans.status == "answered", ans.answer
    assert "一万元以上十万元以下" in ans.answer and "没有写明" not in ans.answer
    assert _cited(ans, NOISE)


@pytest.mark.xfail(strict=True, reason="known miss: the 投诉 part finds 第七十七条 but the unit model scores it low (0.08): no sentence of the passage fits the 'who' type")
def test_long_message_about_construction_noise_at_night(assistant):
    ans = assistant.ask("我家楼下工地半夜施工很吵，我能向哪里投诉，法律怎么规定的？")
    assert ans.status == "answered", ans.answer
    assert len(ans.parts) == 2
    labels = {c.path[-1] for c in ans.citations if NOISE in c.doc_title and not c.near_miss}
    assert labels & {"第三十一条", "第四十三条", "第七十七条"}, ans.answer
    assert "生态环境主管部门" in ans.answer or "举报" in ans.answer


@pytest.mark.xfail(strict=True, reason="known miss: item 37 is the top hit with full coverage, but the unit model (trained on templated definitions with 是指) scores '成立蓝天办…' 0.05")
def test_what_an_office_is_for_is_answered_by_its_only_passage(assistant):
    ans = assistant.ask("蓝天办是干什么的？")
    assert ans.status == "answered", ans.answer
    assert "蓝天办" in ans.answer
    assert any(c.path and c.path[-1] == "37." for c in ans.citations if not c.near_miss)


def test_followup_if_it_refuses_to_correct(assistant):
    first = assistant.ask("未取得排污许可证排放污染物怎么处罚？")
    ans = assistant.ask("那如果拒不改正呢？", history=[first])
    assert ans.rewritten_question and "拒不改正" in ans.rewritten_question
    assert "排污许可证" in ans.rewritten_question and "呢" not in ans.rewritten_question
    assert ans.status == "answered", ans.answer


def test_status_never_contradicts_a_citation_stating_a_fine(assistant):
    """A not_specified / not_found answer to a penalty question cites no passage that states a fine."""
    for q in ("夜间施工噪声扰民怎么处罚？", "谁牵头铊污染专项治理攻坚行动?", "个人所得税起征点是多少?",
              "在湿地里烧荒会怎么处罚？", "排污单位不公开环境信息怎么罚？"):
        ans = assistant.ask(q)
        if ans.status != "answered" and ans.question_type == "penalty":
            assert not any("罚款" in c.text for c in ans.citations), (q, ans.answer)
        assert len([c for c in ans.citations if c.near_miss]) <= 3


def test_a_quantity_in_the_wrong_measure_is_not_an_answer(assistant):
    """"养多少头猪才算规模养殖场": a fine in 元 does not answer it; the passage that leaves the threshold to the
    provinces (第四十三条) makes it not_specified, not a confident figure."""
    ans = assistant.ask("养多少头猪才算畜禽规模养殖场？")
    assert ans.status == "not_specified", ans.answer
    assert any(c.path and c.path[-1] == "第四十三条" for c in ans.citations), ans.answer


def test_a_definition_question_finds_the_defining_article(assistant):
    """The BM25 query of a definition part also looks for 所称/是指 (vocabulary question.type_terms): the
    article that defines 土壤污染 wins over the many that only name it."""
    ans = assistant.ask("土壤污染是指什么？")
    assert ans.status == "answered", ans.answer
    assert "人为因素" in ans.answer and _cited(ans, "土壤污染防治法", "第二条")
