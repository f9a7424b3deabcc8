"""Evidence measures: IDF-weighted coverage of the question's subject terms in a text, and the
chunk lookup (siblings, article parts, documents) the answerer uses to follow document structure."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from policy_assistant.answer import thresholds as T
from policy_assistant.answer.glossary import ZH_ALIASES
from policy_assistant.answer.sentences import norm
from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.text import named_doc_ids, short_title


@dataclass
class Ev:
    """One candidate passage with its evidence measures."""

    chunk: Chunk
    rank: int
    score: float
    cov: float
    dense: float | None
    in_scope: bool = True
    missing: float = 0.0


_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})年")


class CorpusView:
    """Read-only lookups over all chunks: term document-frequency, siblings, article parts, titles."""

    def __init__(self, chunks: Sequence[Chunk]):
        self.chunks = list(chunks)
        self.by_id = {c.chunk_id: c for c in self.chunks}
        self._norm_texts = [norm(c.retrieval_text) for c in self.chunks]
        self._df: dict[str, int] = {}
        self._groups: dict[tuple, list[Chunk]] = defaultdict(list)
        self._units: dict[tuple, list[Chunk]] = defaultdict(list)
        self.by_doc: dict[str, list[Chunk]] = defaultdict(list)
        titles: dict[str, str] = {}
        for c in self.chunks:
            self._groups[(c.doc_id, c.path[:-1])].append(c)
            self._units[(c.doc_id, c.path)].append(c)
            self.by_doc[c.doc_id].append(c)
            titles[c.doc_id] = c.doc_title
        self.titles = titles
        # Short names a question may use: 环境保护法 for 中华人民共和国环境保护法.
        self.short_titles = {doc_id: short_title(t) for doc_id, t in titles.items()}
        self.doc_types = {c.doc_id: c.doc_type for c in self.chunks}

    # --- term statistics -------------------------------------------------------------------------
    def df(self, term: str) -> int:
        t = norm(term)
        if t not in self._df:
            self._df[t] = sum(1 for x in self._norm_texts if t in x) if t else 0
        return self._df[t]

    def idf(self, term: str) -> float:
        n = len(self.chunks) or 1
        return math.log(1.0 + n / (1.0 + self.df(term)))

    def weights(self, terms: Iterable[str]) -> dict[str, float]:
        return {t: self.idf(t) for t in terms}

    # --- structure -------------------------------------------------------------------------------
    def siblings(self, chunk: Chunk) -> list[Chunk]:
        """Chunks under the same parent heading, in document order."""
        return sorted(self._groups[(chunk.doc_id, chunk.path[:-1])], key=lambda c: c.position)

    def unit_parts(self, chunk: Chunk) -> list[Chunk]:
        """All parts of the unit (article/item) a chunk belongs to, in order."""
        return sorted(self._units[(chunk.doc_id, chunk.path)], key=lambda c: (c.part, c.position))

    def docs_named_in(self, text: str) -> list[str]:
        """Documents whose (short) title the question names, e.g. 大气污染防治法, in order of mention."""
        return named_doc_ids(text, self.titles)

    def title_year(self, doc_id: str) -> str | None:
        m = _TITLE_YEAR.search(self.titles.get(doc_id, ""))
        return m.group(1) if m else None


def term_hit(term_n: str, text_n: str) -> float:
    """1 if the term occurs, 0.5 if most of its character bigrams do (long terms), else 0."""
    if term_n in text_n:
        return 1.0
    if any(a in text_n for a in ZH_ALIASES.get(term_n, ())):
        return 1.0
    parts = _subwords(term_n)
    if len(parts) > 1 and all(p in text_n for p in parts):
        return 0.75
    if len(term_n) >= 4:
        grams = [term_n[i : i + 2] for i in range(len(term_n) - 1)]
        share = sum(1 for g in grams if g in text_n) / len(grams)
        if share >= T.PARTIAL_TERM_CREDIT:
            return 0.5
    return 0.0


@lru_cache(maxsize=20000)
def _subwords(term_n: str) -> tuple[str, ...]:
    import jieba

    words = [w for w in jieba.cut(term_n) if w.strip()]
    if len(words) == 1:  # one dictionary word: use its search sub-words (臭氧浓度 → 臭氧, 浓度)
        subs = [w for w in jieba.cut_for_search(term_n) if w.strip() and w != term_n]
        words = [w for w in subs if not any(w != o and w in o for o in subs)] or words
    return tuple(words)


def coverage(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the subject terms present in ``text`` (0..1; 0 when there are no terms)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    tn = norm(text)
    got = sum(w * term_hit(norm(t), tn) for t, w in weights.items())
    return got / total


def max_missing_share(weights: dict[str, float], text: str) -> float:
    """The largest IDF share among subject terms absent from ``text`` (0 when all are present)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    tn = norm(text)
    missing = [w for t, w in weights.items() if term_hit(norm(t), tn) == 0.0]
    return max(missing, default=0.0) / total


def merge_terms(terms: list[str], view: CorpusView) -> list[str]:
    """Merge adjacent words into a corpus phrase (环境 + 日 → 环境日) when the phrase is short."""
    out: list[str] = []
    i = 0
    while i < len(terms):
        if i + 1 < len(terms):
            pair = terms[i] + terms[i + 1]
            if len(pair) <= T.MERGE_MAX_CHARS and view.df(pair) > 0:
                out.append(pair)
                i += 2
                continue
        out.append(terms[i])
        i += 1
    return out


def key_term(weights: dict[str, float], view: CorpusView) -> str | None:
    """The rarest subject term that the corpus contains (e.g. 铊), or None."""
    present = [(w, t) for t, w in weights.items() if view.df(t) > 0]
    if not present:
        return None
    return max(present)[1]


def longest_common(a: str, b: str, min_len: int = 2) -> str:
    """Longest common substring of the question and a passage (for naming the subject)."""
    best = ""
    for i in range(len(a)):
        for j in range(i + len(best) + 1, len(a) + 1):
            if a[i:j] in b:
                if j - i > len(best):
                    best = a[i:j]
            else:
                break
    return best if len(best) >= min_len else ""
