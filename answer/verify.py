"""Grounding checks for generated answers: markers, numbers and quoted phrases must come from the
cited passages; instruction-looking text inside passages is treated as data and never as evidence."""

from __future__ import annotations

import re
import unicodedata

from policy_assistant.answer.injection import is_instruction, strip_instructions
from policy_assistant.corpus.text import fold


def numbers_in(text: str) -> set[str]:
    """Arabic numbers stated in ``text`` (normalised, commas and % removed)."""
    t = unicodedata.normalize("NFKC", text)
    return {n for n in (m.group(0).replace(",", "").rstrip("%") for m in re.finditer(r"\d+(?:[.,]\d+)*%?", t)) if n}


def cn_numbers_in(text: str) -> set[str]:
    """Chinese numerals of two or more characters in ``text``."""
    return {m.group(0) for m in re.finditer(r"[〇○一二两三四五六七八九十百千万亿]{2,12}", fold(text))}

MARKER_RE = re.compile(r"\[(\d{1,3})\]")
# Quoted phrases (no line breaks inside; ASCII "…" only for short terms such as "十四五").
QUOTE_RE = re.compile(r"「([^」\n]{4,})」|“([^”\n]{4,})”|\"([^\"\n]{4,40})\"|『([^』\n]{4,})』")
_CN_NUM_UNIT = re.compile(r"[〇○零一二两三四五六七八九十百千万亿]{2,12}(?=万?元|倍|日|天|年|个月|吨|公顷)")


def data_only(text: str) -> str:
    """The passage without the sentences that look like instructions to a model (answer/injection.py)."""
    return strip_instructions(text)[0]


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
    cn_cited = fold(cited)
    cn_missing = sorted(m for m in _CN_NUM_UNIT.findall(fold(body)) if m not in cn_cited and m not in cn_numbers_in(question))
    if cn_missing:
        problems.append("数字不在所引段落中: " + ", ".join(cn_missing))
    for m in QUOTE_RE.finditer(answer_text):
        phrase = next(g for g in m.groups() if g)
        for piece in MARKER_RE.sub("", phrase).split("…"):  # a shortened quote is checked piece by piece
            piece = fold(piece).strip("。,，>")
            if len(piece) >= 4 and piece not in cn_cited:
                problems.append(f"引文不在所引段落中: 「{phrase[:30]}」")
                break
    if is_instruction(body):
        problems.append("回答包含疑似执行了文件中指令的内容")
    return problems


# ---- the extractive path: the status never contradicts the citations --------------------------------

LEAD_UNITS = 2                # the sentences an answer quotes first (the lead and its best support)
CONSISTENCY_MIN_SCORE = 0.2   # a sentence stating the asked detail with at least this unit score answers
CHECKED_TYPES = {"penalty": "penalty", "number": "number", "when": "date", "who": "who", "definition": "definition"}


_YEAR = re.compile(r"(?:19|20)\d{2}")


def scope_conflict(question, hit, vocab) -> str | None:
    """Why the documents cannot answer the question as scoped, or None.

    - ``year``: the question asks about a year, and the passage (with its document title) is dated
      other years only — a 2021 target does not state the 2022 one;
    - ``place``: the question names a place outside the home region, and the passage belongs to a
      document of the home region.
    """
    if question is None or hit is None:
        return None
    c = hit.chunk
    if question.years:
        years = set(_YEAR.findall(f"{c.doc_title} {c.section} {c.text}"))
        if years and not years & set(question.years):
            return "year"
    if question.places and any(p in c.doc_title for p in vocab.home_places):
        return "place"
    return None


def make_consistent(ev, decision, vocab, question=None):
    """Keep the status in line with the evidence, after the status model:

    - a part whose best evidence is out of the question's scope (another year, another place) is not
      answered by it: not_specified for another year, not_found for another place;
    - an answered part none of whose first-quoted sentences states the asked kind of detail (a figure for
      a number question …) is not_specified: the subject is there, the detail is not;
    - a not_specified / not_found part that would cite a passage stating the asked kind of detail (a fine
      for a penalty question, a figure for a number question …) either is answered by that sentence
      (when the unit model finds it relevant enough) or does not cite that passage. Mutates ``ev.units``.
    """
    from policy_assistant.answer.types import Decision

    if decision.status == "answered" and ev.units:
        conflict = scope_conflict(question, ev.units[0].hit, vocab)
        if conflict:
            status = "not_specified" if conflict == "year" else "not_found"
            return Decision(status, decision.probabilities.get(status, 0.0), {**decision.probabilities, "scope": 1.0})
    kind = CHECKED_TYPES.get(ev.part.answer_type)
    if kind is None:
        return decision
    measure = ev.part.measure_units
    if decision.status == "answered":
        # positive evidence for "not specified": the passages on the subject were found, but none of the
        # sentences the answer would quote first states the asked-for kind of detail
        quoted = [u for u in ev.units if u.index >= 0][:LEAD_UNITS]
        if quoted and not any(vocab.states(kind, u.text, measure) for u in quoted):
            return Decision("not_specified", decision.probabilities.get("not_specified", 0.0),
                            {**decision.probabilities, "kind_missing": 1.0})
        return decision
    stating = [u for u in ev.units if u.index >= 0 and vocab.states(kind, u.text, measure)]
    if not stating:
        return decision
    best = max(stating, key=lambda u: u.score)
    if best.score >= CONSISTENCY_MIN_SCORE and best.features.get("p_cov", 0.0) >= 0.5 \
            and scope_conflict(question, best.hit, vocab) is None:
        ev.units.remove(best)
        ev.units.insert(0, best)
        return Decision("answered", decision.probabilities.get("answered", best.score),
                        {**decision.probabilities, "consistency": 1.0})
    stating_chunks = {u.hit.chunk.chunk_id for u in ev.units if u.index >= 0 and vocab.states(kind, u.text, measure)}
    ev.units = [u for u in ev.units if u.hit.chunk.chunk_id not in stating_chunks]
    return decision


def absent_articles(question, labels_by_doc: dict[str, set[str]]) -> list[str]:
    """The 第X条 the question cites that the document(s) it names do not contain (an article past the end
    of a law, or of an incomplete copy). Empty when it names no document or cites no article."""
    if not question.articles or not question.named_docs:
        return []
    have = set().union(*(labels_by_doc.get(d, set()) for d in question.named_docs))
    return [a for a in question.articles if a not in have]
