"""Follow-up rewriting (issue 12 item 6): every rewrite is a well-formed, self-contained question.

The pairs are (previous question, follow-up, what the rewrite must contain, what it must not contain).
``key_terms`` stands in for the engine's IDF ranking: the previous question's most specific term first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from policy_assistant.answer.followup import rewrite_followup, split_asking


@dataclass
class Turn:
    question: str
    rewritten_question: str | None = None


KEY_TERMS = {
    "PM2.5年均浓度目标是多少?": ["PM2.5"],
    "2021年PM2.5年均浓度目标是多少?": ["PM2.5"],
    "未取得排污许可证排放污染物怎么处罚?": ["排污许可证", "污染物"],
    "排污许可证的有效期是几年?": ["排污许可证", "有效期"],
    "环境保护法什么时候施行?": ["环境保护法"],
    "谁负责全国环境保护工作的统一监督管理?": ["统一监督管理", "环境保护"],
    "森林覆盖率的目标是多少?": ["森林覆盖率"],
    "What is the PM2.5 target?": ["PM2.5"],
    "重点排污单位应当公开哪些信息?": ["重点排污单位", "信息"],
    "建设单位未依法报批环评文件擅自开工怎么处罚?": ["环评", "建设单位"],
    "湿地保护法什么时候施行?": ["湿地保护法"],
    "环境保护税的纳税人是谁?": ["环境保护税", "纳税人"],
}


def key_terms(text: str) -> list[str]:
    return KEY_TERMS.get(text, [])


PAIRS = [
    # substitution of the subject
    ("PM2.5年均浓度目标是多少?", "那臭氧呢?", ["臭氧", "目标是多少"], ["PM2.5", "那", "呢"]),
    ("2021年PM2.5年均浓度目标是多少?", "那森林覆盖率呢？", ["2021年", "森林覆盖率"], ["PM2.5"]),
    ("排污许可证的有效期是几年?", "那排污许可证的延续呢?", ["延续"], ["呢"]),
    ("环境保护法什么时候施行?", "那湿地保护法呢?", ["湿地保护法", "什么时候施行"], ["环境保护法什么"]),
    ("湿地保护法什么时候施行?", "还有森林法呢", ["森林法", "施行"], ["湿地"]),
    ("森林覆盖率的目标是多少?", "湿地保护率呢?", ["湿地保护率", "目标是多少"], ["森林覆盖率"]),
    ("环境保护税的纳税人是谁?", "那应税污染物呢?", ["应税污染物"], ["呢"]),
    ("What is the PM2.5 target?", "What about ozone?", ["ozone", "target"], ["PM2.5"]),
    ("What is the PM2.5 target?", "And the forest coverage?", ["forest coverage", "target"], ["PM2.5"]),
    # a condition added to the previous question
    ("未取得排污许可证排放污染物怎么处罚?", "那如果拒不改正呢？", ["排污许可证", "拒不改正", "怎么处罚"], ["那如果", "呢"]),
    ("未取得排污许可证排放污染物怎么处罚?", "要是情节严重呢?", ["排污许可证", "情节严重", "处罚"], ["要是情节严重呢"]),
    ("未取得排污许可证排放污染物怎么处罚?", "如果是第二次被查到呢", ["排污许可证", "第二次", "处罚"], ["呢"]),
    ("建设单位未依法报批环评文件擅自开工怎么处罚?", "那如果已经建成投产了呢？", ["环评", "已经建成投产", "处罚"], ["呢"]),
    ("排污许可证的有效期是几年?", "那如果过期了呢?", ["排污许可证", "过期", "有效期"], ["呢"]),
    ("未取得排污许可证排放污染物怎么处罚?", "万一造成严重污染呢?", ["排污许可证", "严重污染", "处罚"], ["呢"]),
    ("What is the PM2.5 target?", "What if the city misses it?", ["PM2.5", "if the city misses it"], []),
    # a pronoun standing for the previous subject
    ("重点排污单位应当公开哪些信息?", "它们不公开会怎么样?", ["重点排污单位", "不公开"], ["它们"]),
    ("环境保护税的纳税人是谁?", "这个税怎么计算?", ["环境保护税", "怎么计算"], ["这个"]),
    ("谁负责全国环境保护工作的统一监督管理?", "该部门还负责什么?", ["统一监督管理", "还负责什么"], ["该部门"]),
    ("排污许可证的有效期是几年?", "它由谁核发?", ["排污许可证", "由谁核发"], ["它由"]),
]

NOT_FOLLOWUPS = [
    ("PM2.5年均浓度目标是多少?", "环境保护法什么时候施行?"),
    ("PM2.5年均浓度目标是多少?", "我们村旁边的养猪场污水直排河里，村民可以向哪个部门举报，养殖场会被怎么处罚？"),
    ("What is the PM2.5 target?", "When does the Environmental Protection Law take effect?"),
]


@pytest.mark.parametrize(("prev", "follow", "must", "must_not"), PAIRS)
def test_followup_rewrite_is_a_whole_question(prev, follow, must, must_not):
    out = rewrite_followup(follow, [Turn(prev)], key_terms)
    assert out, f"{follow!r} after {prev!r} was not recognised as a follow-up"
    for m in must:
        assert m in out, (out, m)
    for m in must_not:
        assert m not in out, (out, m)
    # well-formed: one question, no doubled punctuation, no dangling connective
    assert not re.search(r"[，,]{2}|[?？]{2}|，？|^[，,]", out), out
    assert len(re.findall(r"[?？]", out)) <= 1, out


@pytest.mark.parametrize(("prev", "q"), NOT_FOLLOWUPS)
def test_standalone_questions_are_not_rewritten(prev, q):
    assert rewrite_followup(q, [Turn(prev)], key_terms) is None


def test_rewritten_previous_question_is_used():
    history = [Turn("那臭氧呢?", rewritten_question="2021年臭氧年均浓度目标是多少?")]
    out = rewrite_followup("那森林覆盖率呢?", history, lambda t: ["臭氧"])
    assert out == "2021年森林覆盖率年均浓度目标是多少?"


def test_split_asking():
    assert split_asking("未取得排污许可证排放污染物怎么处罚?") == ("未取得排污许可证排放污染物", "怎么处罚")
    assert split_asking("排污许可证的有效期是几年?")[0].startswith("排污许可证")
    assert split_asking("谁负责统一监督管理?")[1] in ("", "谁负责统一监督管理")
