"""Follow-up questions: a short message that leans on the previous question becomes self-contained.

Two shapes, told apart by how the follow-up begins:

- a **condition** ("那如果拒不改正呢？", "要是没有环评呢？") adds a circumstance to the previous question:
  ``<previous subject>，<condition>，<previous asking clause>`` — "未取得排污许可证排放污染物，如果拒不改正，
  怎么处罚？";
- a **substitution** ("那臭氧呢？", "What about ozone?") swaps the previous question's subject:
  "2021年臭氧年均浓度目标是多少？".

A pronoun (它/这个/该…) is replaced by the previous subject. Anything else is not a follow-up.
"""

from __future__ import annotations

import re

_LEAD = r"(?:那么?|那|还有|另外|再问一下|再问|那请问)"
_TAIL = r"(?:呢|又如何|怎么样|如何|会怎样|怎么办)"
_ZH_FOLLOW = re.compile(rf"^{_LEAD}?\s*[,，]?\s*(?P<x>[^。?？!！]{{1,30}}?)\s*{_TAIL}\s*[?？!！。]*$")
_ZH_BARE = re.compile(rf"^{_LEAD}\s*[,，]?\s*(?P<x>[^。?？!！]{{1,20}}?)\s*[?？!！。]*$")
_CONDITION = re.compile(r"^(?:如果|要是|假如|假设|若|万一|倘若|一旦|拒不|没有|没|不|未|超过|逾期|再次|多次|情节严重|造成)")
_EN_FOLLOW = re.compile(r"^\s*(?:and|what about|how about)\s+(?:the\s+)?(?P<x>[^?]{1,40}?)\s*\??\s*$", re.I)
_EN_IF = re.compile(r"^\s*(?:and\s+)?(?:what\s+)?if\s+(?P<x>[^?]{1,60}?)\s*\??\s*$", re.I)
_PRONOUN = re.compile(r"它们|它|这个|这项|该项|此项|上述|这些|该")
_ASK_WORD = re.compile(r"怎么|如何|怎样|多少|几|什么时候|什么|谁|哪|是否|有没有|能否|吗")
_ASK_LEAD = set("会要应当该能可以需要由是罚被")  # words glued before the question word (会怎么, 是多少, 由谁)


def _prev_question(history) -> str | None:
    for a in reversed(history or []):
        q = getattr(a, "rewritten_question", None) or getattr(a, "question", None)
        if q and str(q).strip():
            return str(q).strip()
    return None


def split_asking(question: str) -> tuple[str, str]:
    """``(subject, asking tail)`` of a question: "未取得排污许可证排放污染物怎么处罚?" → (…污染物, 怎么处罚).

    The tail starts at the last question word (with the modal or verb glued before it: 会怎么, 是多少)."""
    q = question.strip().rstrip("?？。! ！")
    words = list(_ASK_WORD.finditer(q))
    if not words:
        return q, ""
    start = words[-1].start()
    while start > 0 and q[start - 1] in _ASK_LEAD:
        start -= 1
    if start == 0:
        return q, ""
    return q[:start].rstrip("，, 的"), q[start:]


def _substitute(prev: str, x: str, key_terms) -> str:
    """Replace the previous question's most specific term (by ``key_terms`` order) with ``x``."""
    for t in key_terms:
        if t and t in prev and t != x:
            return prev.replace(t, x, 1)
    subject, ask = split_asking(prev)
    return f"{x}{ask or '是什么'}？" if not subject else f"{x}：{prev}"


def rewrite_followup(question: str, history, key_terms=lambda text: []) -> str | None:
    """The follow-up rewritten as a self-contained question, or None when it is not a follow-up.

    ``key_terms(text)`` lists the previous question's subject terms, most specific first (the engine
    passes its analyser's IDF-ranked terms)."""
    prev = _prev_question(history)
    q = (question or "").strip()
    if not prev or not q or not re.search(r"[\w\u4e00-\u9fff]", q):
        return None
    if re.search(r"[\u4e00-\u9fff]", q) is None:  # English
        m = _EN_IF.match(q)
        if m:
            return f"{prev.rstrip('?')} if {m.group('x').strip()}?"
        m = _EN_FOLLOW.match(q)
        if m:
            return _substitute(prev, m.group("x").strip(), key_terms(prev))
        return None
    if _PRONOUN.search(q) and len(q) <= 40:
        terms = key_terms(prev)
        subject = next((t for t in terms if t in prev), "") or split_asking(prev)[0]
        if subject:
            return _PRONOUN.sub(subject, q, count=1)
    if len(q) <= 36:
        m = _ZH_FOLLOW.match(q) or (_ZH_BARE.match(q) if re.match(_LEAD, q) else None)
        if m:
            x = m.group("x").strip(" ，,")
            if not x or x == prev:
                return None
            subject, ask = split_asking(prev)
            if _CONDITION.match(x):
                return f"{subject}，{x}，{ask or '怎么规定'}？"
            return _substitute(prev, x, key_terms(prev))
    return None
