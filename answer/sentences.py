"""Clause splitting, the passage matching form, and number extraction (sentences and normalisation
rules live in ``corpus/text.py``)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from policy_assistant.corpus.text import fold

_CLAUSE_RE = re.compile(r"[^，,：:；;。！？!?\n]+[，,：:；;。！？!?]*")
_ITEM_SPLIT = re.compile(r"(?=(?:[一二三四五六七八九十]+是))")

CN_DIGITS = "零〇○一二两三四五六七八九十百千万亿"
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*%?|[零〇○一二两三四五六七八九十百千万亿]{1,12}")
ARABIC_RE = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=50_000)  # called for every term × passage pair: keep the lookup one call deep
def norm(text: str) -> str:
    """Matching form of passages: :func:`corpus.text.fold` without 繁→简 (passages are simplified at
    ingest; questions are already normalised by question analysis)."""
    return fold(text, simplify=False)


def split_clauses(sentence: str) -> list[str]:
    """Clauses at ， , ： ; (keeps the punctuation). A clause never spans two sentences."""
    parts = [c.strip() for c in _CLAUSE_RE.findall(sentence) if c.strip()]
    return parts or [sentence]


def strip_trailing_punct(text: str) -> str:
    return text.strip().rstrip("，,：:；;。.！!？?、 ")


def content_chars(text: str) -> int:
    """Letters, digits and CJK characters (not punctuation, symbols, emoji)."""
    n = 0
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in ("L", "N"):
            n += 1
    return n


def numbers_in(text: str) -> set[str]:
    """Numbers stated in ``text``: Arabic (normalised, commas removed) and Chinese numerals (≥ 2 chars
    or with a unit), used to check that an answer does not state a figure its sources do not."""
    t = unicodedata.normalize("NFKC", text)
    out = {m.group(0).replace(",", "").rstrip("%") for m in re.finditer(r"\d+(?:[.,]\d+)*%?", t)}
    return {n for n in out if n}


def cn_numbers_in(text: str) -> set[str]:
    t = norm(text)
    return {m.group(0) for m in re.finditer(r"[〇○一二两三四五六七八九十百千万亿]{2,12}", t)}


def truncate_around(sentence: str, anchor: str, limit: int) -> str:
    """Cut a long sentence to ``limit`` chars keeping ``anchor`` (a substring) visible, with ellipses."""
    if len(sentence) <= limit:
        return sentence
    i = sentence.find(anchor) if anchor else -1
    if i < 0:
        return sentence[:limit].rstrip() + "…"
    start = max(0, i - limit // 3)
    end = min(len(sentence), start + limit)
    start = max(0, end - limit)
    return ("…" if start else "") + sentence[start:end].strip() + ("…" if end < len(sentence) else "")
