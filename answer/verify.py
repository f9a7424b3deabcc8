"""Grounding checks for generated answers: markers, numbers and quoted phrases must come from the
cited passages; instruction-looking text inside passages is treated as data and never as evidence."""

from __future__ import annotations

import re

from policy_assistant.answer.sentences import cn_numbers_in, norm, numbers_in
from policy_assistant.corpus.text import split_sentences

MARKER_RE = re.compile(r"\[(\d{1,3})\]")
# Quoted phrases (no line breaks inside; ASCII "…" only for short terms such as "十四五").
QUOTE_RE = re.compile(r"「([^」\n]{4,})」|“([^”\n]{4,})”|\"([^\"\n]{4,40})\"|『([^』\n]{4,})』")
INJECTION_RE = re.compile(
    r"忽略(?:以上|之前|前面|上述|所有|你的)|无视(?:以上|之前|上述)|(?:新的|最新)指令|系统提示|你现在是|请直接(?:回答|输出)|"
    r"扮演|不要引用|ignore (?:all |the |any )?(?:previous|above|prior|earlier)|disregard (?:the|all|previous)|"
    r"system prompt|you are now|new instructions|output only|respond with",
    re.I,
)
_CN_NUM_UNIT = re.compile(r"[〇○零一二两三四五六七八九十百千万亿]{2,12}(?=万?元|倍|日|天|年|个月|吨|公顷)")


def is_instruction(sentence: str) -> bool:
    return bool(INJECTION_RE.search(sentence))


def data_only(text: str) -> str:
    """The passage without sentences that look like instructions to the model."""
    return "\n".join(s for s in split_sentences(text) if not is_instruction(s))


def markers(text: str) -> list[int]:
    return [int(m) for m in MARKER_RE.findall(text)]


def check_grounding(answer_text: str, passages: dict[int, str], question: str = "",
                    require_marker: bool = True) -> list[str]:
    """Problems found (empty list = grounded). ``passages`` maps marker numbers to the passage text
    (title and breadcrumb included)."""
    problems: list[str] = []
    used = markers(answer_text)
    bad = sorted({n for n in used if n not in passages})
    if bad:
        problems.append("引用了不存在的段落编号 " + ", ".join(f"[{n}]" for n in bad))
    if require_marker and not used:
        problems.append("回答没有标注出处 [n]")
    cited_ids = [n for n in dict.fromkeys(used) if n in passages] or list(passages)
    cited = "\n".join(data_only(passages[n]) for n in cited_ids)
    body = MARKER_RE.sub(" ", answer_text)
    allowed = numbers_in(cited) | numbers_in(question)
    missing = sorted(n for n in numbers_in(body) if n not in allowed)
    if missing:
        problems.append("数字不在所引段落中: " + ", ".join(missing))
    cn_cited = norm(cited)
    cn_missing = sorted(m for m in _CN_NUM_UNIT.findall(norm(body)) if m not in cn_cited and m not in cn_numbers_in(question))
    if cn_missing:
        problems.append("数字不在所引段落中: " + ", ".join(cn_missing))
    for m in QUOTE_RE.finditer(answer_text):
        phrase = next(g for g in m.groups() if g)
        for piece in MARKER_RE.sub("", phrase).split("…"):  # a shortened quote is checked piece by piece
            piece = norm(piece).strip("。,，>")
            if len(piece) >= 4 and piece not in cn_cited:
                problems.append(f"引文不在所引段落中: 「{phrase[:30]}」")
                break
    if is_instruction(body):
        problems.append("回答包含疑似执行了文件中指令的内容")
    return problems
