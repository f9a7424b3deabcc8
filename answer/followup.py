"""Follow-up rewriting: "那臭氧呢?" after "2021年PM2.5年均浓度目标是多少?" → "2021年臭氧目标是多少?"."""

from __future__ import annotations

import re

from policy_assistant.answer.glossary import EN_ZH
from policy_assistant.answer.question import classify, subject_terms
from policy_assistant.answer.sentences import content_chars
from policy_assistant.corpus.text import is_english

_ZH_FOLLOW = [
    re.compile(r"^(?:那么?|那|还有|另外|再问一下|再问)?\s*(?P<x>[^,，。?？!！]{1,24}?)\s*(?:呢|又如何|怎么样|如何)\s*[?？!！。]*$"),
    re.compile(r"^(?:那么?|还有|另外)\s*(?P<x>[^,，。?？!！]{1,24}?)\s*[?？!！。]*$"),
]
_EN_FOLLOW = re.compile(r"^\s*(?:and|what about|how about)\s+(?:the\s+)?(?P<x>[^?]{1,40}?)\s*\??\s*$", re.I)
_PRONOUN = re.compile(r"它们|它|这个|这项|该项|此项|上述|这些|其")


def _prev_question(history) -> str | None:
    for a in reversed(history or []):
        q = getattr(a, "rewritten_question", None) or getattr(a, "question", None)
        if q and str(q).strip():
            return str(q).strip()
    return None


def subject_span(question: str, idf=None) -> str:
    """The span of the question around its rarest subject term (adjacent subject terms included)."""
    terms = subject_terms(question, classify(question, False))
    if not terms:
        return ""
    weight = idf or (lambda t: len(t))
    key = max(terms, key=weight)
    start = question.find(key)
    if start < 0:
        return key
    end = start + len(key)
    kw = weight(key)
    changed = True
    while changed:
        changed = False
        for t in terms:
            if weight(t) < 0.5 * kw:
                continue
            if question.startswith(t, end):
                end += len(t)
                changed = True
            elif start >= len(t) and question[start - len(t) : start] == t:
                start -= len(t)
                changed = True
    return question[start:end]


def rewrite_followup(question: str, history, idf=None) -> str | None:
    """The follow-up rewritten as a self-contained question, or None when it is not a follow-up."""
    prev = _prev_question(history)
    q = (question or "").strip()
    if not prev or not q or content_chars(q) == 0:
        return None
    if is_english(q):
        m = _EN_FOLLOW.match(q)
        if not m:
            return None
        x = m.group("x").strip()
        low = prev.lower()
        for key in sorted(EN_ZH, key=len, reverse=True):
            i = low.find(key)
            if i >= 0:
                return prev[:i] + x + prev[i + len(key):]
        return None
    if len(q) <= 30:
        for pat in _ZH_FOLLOW:
            m = pat.match(q)
            if m:
                x = m.group("x").strip()
                if not x or x == prev:
                    return None
                span = subject_span(prev, idf)
                if span and span in prev:
                    return prev.replace(span, x, 1)
                return f"{x}:{prev}"
    if _PRONOUN.search(q) and len(subject_terms(q)) <= 3:
        span = subject_span(prev, idf)
        if span:
            return _PRONOUN.sub(span, q, count=1)
    return None
