"""Questions with several parts ("…?…?" or two named documents): answer each part, then merge."""

from __future__ import annotations

import re

from policy_assistant.answer.types import Answer

_SPLIT = re.compile(r"(?<=[?？])\s*")


def split_parts(text: str) -> list[str]:
    """Sub-questions separated by ?/？ (each with some content); a single question stays whole."""
    parts = [p.strip() for p in _SPLIT.split(text or "") if p.strip()]
    parts = [p for p in parts if len(re.sub(r"[\W_]", "", p)) >= 4]
    return parts if len(parts) > 1 else [text]


def merge(question: str, answers: list[Answer], labels: list[str]) -> Answer:
    """One answer from part answers: citations renumbered, markers rewritten, status from the parts."""
    texts, cits, notes = [], [], []
    for label, a in zip(labels, answers, strict=True):
        offset = len(cits)
        mapping = {}
        for c in a.citations:
            mapping[c.n] = c.n + offset
            c.n += offset
            cits.append(c)
        body = re.sub(r"\[(\d+)\]", lambda m, mp=mapping: f"[{mp.get(int(m.group(1)), int(m.group(1)))}]", a.answer)
        texts.append(f"**{label}**\n\n{body}")
        notes += a.notes
    statuses = [a.status for a in answers]
    if any(s == "answered" for s in statuses):
        status = "answered"
    elif any(s == "not_specified" for s in statuses):
        status = "not_specified"
    else:
        status = "not_found"
    out = Answer(question=question, status=status, answer="\n\n".join(texts), citations=cits,
                 question_type=answers[0].question_type if answers else "open", notes=notes)
    if status == "answered" and any(s != "answered" for s in statuses):
        out.notes.append("部分问题在文件中没有明确答案,见各部分说明")
    return out
