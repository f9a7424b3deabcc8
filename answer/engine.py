"""``Assistant``: the one object front ends use. Loads the index and models once; answers questions."""

from __future__ import annotations

import time

from answer import thresholds as T
from answer.combine import merge, split_parts
from answer.evidence import CorpusView, merge_terms
from answer.extractive import ExtractiveAnswerer
from answer.followup import rewrite_followup as _rewrite
from answer.question import Question, analyse
from answer.sentences import norm
from answer.types import Answer


class Assistant:
    """Retriever + extractive answerer (+ optional LLM answerer, built lazily when configured).

    ``retriever`` is anything with ``search(query, k, doc_ids, doc_types, mode)`` and ``chunks``
    (normally :class:`retrieval.search.HybridRetriever`).
    """

    def __init__(self, retriever, settings=None, llm_answerer=None):
        self.retriever = retriever
        self.settings = settings
        self.view = CorpusView(retriever.chunks)
        self.extractive = ExtractiveAnswerer(self.view)
        self._llm = llm_answerer

    @classmethod
    def from_settings(cls, settings) -> Assistant:
        """Load the index and models once. Raises IndexMissingError (naming ``policy-assistant index
        build``), IndexMismatchError or IndexCorruptError."""
        from retrieval.search import HybridRetriever

        return cls(HybridRetriever.load(settings), settings)

    # ------------------------------------------------------------------ LLM (optional)
    @property
    def answerer_name(self) -> str:
        if self._llm is not None:
            return "llm"
        return getattr(self.settings, "answerer", "extractive") or "extractive"

    @property
    def llm(self):
        if self._llm is None:
            from answer.llm import LLMAnswerer

            self._llm = LLMAnswerer.from_settings(self.settings)
        return self._llm

    # ------------------------------------------------------------------ public API
    def rewrite_followup(self, question: str, history: list[Answer] | None) -> str | None:
        """A self-contained version of a follow-up question ("那臭氧呢?"), or None."""
        return _rewrite(question, history or [], idf=self.view.idf)

    def analyse(self, question: str) -> Question:
        q = analyse(question)
        if not q.english:
            q.terms = merge_terms(q.terms, self.view)
        named = self._named_docs(q)
        if named and not q.english:
            shorts = [self.view.short_titles[d] for d in named]
            terms = [t for t in q.terms if not any(norm(t) in norm(s) for s in shorts)]
            q.terms = terms + [s for s in shorts if s not in terms]
        return q

    def ask(self, question: str, *, doc_ids=None, doc_types=None, top_k: int | None = None,
            history: list[Answer] | None = None) -> Answer:
        """Answer one question. Raises ``QuestionError`` for unusable input (empty, only punctuation)."""
        t0 = time.perf_counter()
        rewritten = self.rewrite_followup(question, history) if history else None
        q = self.analyse(rewritten or question)
        timings = {"retrieve": 0.0, "answer": 0.0}
        parts = split_parts(q.text)
        named = self._named_docs(q)
        if len(parts) > 1:
            answers = [self._ask_one(self.analyse(p), doc_ids, doc_types, top_k, timings) for p in parts]
            ans = merge(str(question), answers, parts)
        elif len(named) >= 2 and not doc_ids and not doc_types:
            answers = [self._ask_one(q, [d], None, top_k, timings) for d in named]
            ans = merge(str(question), answers, [f"《{self.view.titles[d]}》" for d in named])
        else:
            ans = self._ask_one(q, doc_ids, doc_types, top_k, timings)
        ans.question = str(question)
        ans.rewritten_question = rewritten
        ans.notes = list(dict.fromkeys(list(q.notes) + list(ans.notes)))
        timings["total"] = (time.perf_counter() - t0) * 1000
        ans.timings_ms = timings
        return ans

    def _named_docs(self, q: Question) -> list[str]:
        return self.view.docs_named_in(q.text + " " + " ".join(q.terms))

    def _ask_one(self, q: Question, doc_ids, doc_types, top_k, timings) -> Answer:
        t0 = time.perf_counter()
        k = max(top_k or getattr(self.settings, "top_k", 5) or 5, T.CANDIDATE_HITS)
        ids = list(doc_ids) if doc_ids else None
        named = self._named_docs(q)
        if not ids and not doc_types and len(named) == 1:
            ids = named
        hits = self.retriever.search(q.retrieval_query, k=k, doc_ids=ids, doc_types=doc_types, mode="hybrid")
        t1 = time.perf_counter()
        ans = self.extractive.answer(q, hits)
        if self.answerer_name == "llm":
            ans = self.llm.answer(q, hits, ans)
        timings["retrieve"] += (t1 - t0) * 1000
        timings["answer"] += (time.perf_counter() - t1) * 1000
        return ans
