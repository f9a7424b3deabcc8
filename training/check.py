"""Lenient answer checking for quiz questions.

Normalisation: NFKC (full-width → half-width), 繁→简, case, whitespace and quote styles are ignored.
Figures match by value with or without their unit (``39`` = ``39ug/m3`` = ``39微克/立方米``; ``五年`` =
``5年``); choices by letter (``B``, ``b.``, ``(B)``), number (``2``) or text; articles as ``第十四条``,
``第14条`` or ``14``; true/false as 对/错, 正确/错误, √/×, T/F, 是/否 ….
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy_assistant.corpus.text import CN_NUMERALS, cn_to_int, fold, normalize_query
from policy_assistant.training.figures import figure_matches, find_figures

TRUE_WORDS = {"正确", "对", "是", "true", "t", "yes", "y", "√", "✓", "✔", "对的", "正确的", "o", "○"}
FALSE_WORDS = {"错误", "错", "否", "false", "f", "no", "n", "×", "✗", "✘", "x", "错的", "不对", "不正确", "错误的"}
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "《": "", "》": ""})
_ARTICLE = re.compile(rf"第?\s*([{CN_NUMERALS}]+|\d+)\s*条")


@dataclass
class CheckResult:
    correct: bool
    expected: str
    explanation: str


def norm_text(text: str) -> str:
    """Comparison form: NFKC, simplified Chinese, lower case, no whitespace, one quote style, no end mark."""
    return fold(text or "").translate(_QUOTES).strip("。.!！?？;；,，、")


def _article_no(text: str) -> int | None:
    m = _ARTICLE.search(text)
    if not m:
        m = re.fullmatch(rf"\s*([{CN_NUMERALS}]+|\d+)\s*", text)
        if not m:
            return None
    g = m.group(1)
    return int(g) if g.isdigit() else cn_to_int(g)


def _choice_index(choices: list[str], response: str) -> int | None:
    r = norm_text(response)
    if not r:
        return None
    m = re.fullmatch(r"[(\[]?([a-z])[)\].、:]?", r)
    if m and ord(m.group(1)) - ord("a") < len(choices):
        return ord(m.group(1)) - ord("a")
    m = re.fullmatch(r"[(\[]?([a-z])[)\].、:](.+)", r)  # "B. 蒸水环境综合整治提升工程"
    if m and ord(m.group(1)) - ord("a") < len(choices) and norm_text(choices[ord(m.group(1)) - ord("a")]) == \
            norm_text(m.group(2)):
        return ord(m.group(1)) - ord("a")
    if re.fullmatch(r"\d", r) and 1 <= int(r) <= len(choices) and not any(re.search(r"\d", c) for c in choices):
        return int(r) - 1
    normed = [norm_text(c) for c in choices]
    if r in normed:
        return normed.index(r)
    inside = [i for i, c in enumerate(normed) if len(r) >= 2 and r in c]
    if len(inside) == 1:
        return inside[0]
    covering = [i for i, c in enumerate(normed) if len(c) >= 2 and c in r]
    if len(covering) == 1:
        return covering[0]
    return None


def _truth(response: str) -> bool | None:
    r = norm_text(response)
    if r in TRUE_WORDS:
        return True
    if r in FALSE_WORDS:
        return False
    return None


def _result(ok: bool, q, note: str = "") -> CheckResult:
    head = "回答正确。" if ok else "回答不正确。"
    if note:
        head += note
    if not ok:
        head += f"正确答案：{q.answer}。"
    return CheckResult(ok, q.answer, f"{head}{q.explanation}")


def check_answer(question, response: str | None) -> CheckResult:
    """Is ``response`` a right answer to ``question``? Lenient about form, strict about substance."""
    q = question
    response = normalize_query(response or "")
    if not norm_text(response):
        return _result(False, q, "没有作答。")
    key = q.key or {}

    if q.type == "true_false":
        truth = _truth(response)
        if truth is None and q.choices:
            i = _choice_index(q.choices, response)
            truth = None if i is None else (i == 0)
        if truth is None:
            return _result(False, q, "请回答“正确”或“错误”。")
        return _result(truth == bool(key.get("truth", q.answer == "正确")), q)

    if q.type == "which_article" and not q.choices:
        want_art = _article_no(key.get("article", ""))
        got_art = _article_no(response)
        rest = _ARTICLE.sub(" ", normalize_query(response))
        fig = find_figures(key.get("figure", ""))
        fig_ok = bool(fig) and figure_matches(fig[0], rest)
        art_ok = got_art is not None and got_art == want_art
        if fig_ok and art_ok:
            return _result(True, q)
        if fig_ok:
            return _result(False, q, "数字对了，但条文不对或没有写出是哪一条。")
        if art_ok:
            return _result(False, q, "条文对了，但数字不对或没有写出。")
        return _result(False, q)

    if q.type == "which_article":
        want = _article_no(q.answer)
        i = _choice_index(q.choices, response) if not _ARTICLE.search(response) else None
        got = _article_no(q.choices[i]) if i is not None else _article_no(response)
        return _result(got is not None and got == want, q)

    if q.type == "fill_figure":
        fig = find_figures(key.get("figure", q.answer))
        if fig and figure_matches(fig[0], response):
            return _result(True, q)
        return _result(norm_text(response) == norm_text(q.answer), q)

    if q.choices:
        i = _choice_index(q.choices, response)
        if i is None:
            return _result(False, q, "没有对应到任何选项。")
        return _result(norm_text(q.choices[i]) == norm_text(q.answer), q)
    return _result(norm_text(response) == norm_text(q.answer), q)
