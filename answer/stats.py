"""Corpus statistics the answer path weighs words with: document frequency and IDF of any string.

Chinese has no word boundaries a question and a document are sure to share, so a term's document
frequency is the number of chunks whose text (breadcrumb included) contains it as a substring. Values
are cached per term; the first lookup of a term scans the chunk texts once.
"""

from __future__ import annotations

import math
import threading

from policy_assistant.corpus.text import fold


class CorpusStats:
    """``df(term)`` / ``idf(term)`` over the chunks of one index."""

    def __init__(self, chunks):
        self.texts = [fold(f"{c.section} {c.text}", simplify=False) for c in chunks]
        self.n = len(self.texts)
        self._df: dict[str, int] = {}
        self._lock = threading.Lock()

    def df(self, term: str) -> int:
        term = fold(term)
        got = self._df.get(term)
        if got is None:
            got = sum(1 for t in self.texts if term in t)
            with self._lock:
                self._df[term] = got
        return got

    def idf(self, term: str) -> float:
        """BM25-style IDF (always > 0); a term no chunk contains gets the highest value."""
        d = self.df(term)
        return math.log(1.0 + (self.n - d + 0.5) / (d + 0.5))

    @property
    def max_idf(self) -> float:
        return math.log(1.0 + (self.n + 0.5) / 0.5)
