"""``Assistant``: the one object front ends use. Loads the index and models once; answers questions."""

from __future__ import annotations

import re
import time

from policy_assistant.answer import thresholds as T
from policy_assistant.answer.combine import merge, split_parts
from policy_assistant.answer.evidence import CorpusView, merge_terms
from policy_assistant.answer.extractive import ExtractiveAnswerer
from policy_assistant.answer.followup import rewrite_followup as _rewrite
from policy_assistant.answer.injection import Screen
from policy_assistant.answer.question import CUE_WORDS, TYPE_CUES, Question, analyse
from policy_assistant.answer.sentences import norm
from policy_assistant.answer.types import Answer

_GLUE_HEAD = set("要得需会能应该将把让就还也都")
_GLUE_TAIL = set("要得了的就还也都")


_ASKING = re.compile(r"吗|什么|多少|哪|谁|几|怎么|如何|是否|能否|何时")


def _asking_clause(text: str) -> str | None:
    """The clause that asks, when a question first states something (…提到…,…是哪天?)."""
    clauses = [c for c in re.split(r"[,，;；]", text) if c.strip()]
    if len(clauses) < 2 or _ASKING.search("".join(clauses[:-1])) or not _ASKING.search(clauses[-1]):
        return None
    last = clauses[-1].strip()
    return last if len(re.sub(r"[\W_]", "", last)) >= 6 else None


class Assistant:
    """Retriever + extractive answerer (+ optional LLM answerer, built lazily when configured).

    ``retriever`` is anything with ``search(query, k, doc_ids, doc_types, mode)`` and ``chunks``
    (normally :class:`retrieval.search.HybridRetriever`). Both answerers see the chunks without
    instruction text addressed to an AI (answer/injection.py); citations of such passages are flagged.
    """

    def __init__(self, retriever, settings=None, llm_answerer=None):
        self.retriever = retriever
        self.settings = settings
        self.screen = Screen(retriever.chunks)
        self.view = CorpusView(self.screen.chunks(retriever.chunks))
        self.extractive = ExtractiveAnswerer(self.view)
        self._llm = llm_answerer

    @classmethod
    def from_settings(cls, settings) -> Assistant:
        """Load the index and models once. Raises IndexMissingError (naming ``policy-assistant index
        build``), IndexMismatchError or IndexCorruptError."""
        from policy_assistant.retrieval.search import HybridRetriever

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
            from policy_assistant.answer.llm import LLMAnswerer

            self._llm = LLMAnswerer.from_settings(self.settings)
        return self._llm

    # ------------------------------------------------------------------ public API
    def rewrite_followup(self, question: str, history: list[Answer] | None) -> str | None:
        """A self-contained version of a follow-up question ("那臭氧呢?"), or None."""
        return _rewrite(question, history or [], idf=self.view.idf)

    def analyse(self, question: str) -> Question:
        q = analyse(question)
        if not q.english:
            cues = CUE_WORDS | TYPE_CUES.get(q.qtype, set())
            cleaned = [self._clean_term(t) for t in q.terms]
            q.terms = merge_terms([t for t in cleaned if t not in cues] or cleaned, self.view)
        named = self._named_docs(q)
        if named and not q.english:
            shorts = [self.view.short_titles[d] for d in named]
            rest = norm(q.text)
            for s in sorted(shorts, key=len, reverse=True):
                rest = rest.replace(norm(s), " ")
            # a term that is only part of the named title goes; one the question also uses on its own
            # stays (水污染防治法里的水污染是指什么 keeps 水污染)
            terms = [t for t in q.terms if not any(norm(t) in norm(s) for s in shorts) or norm(t) in rest]
            q.terms = terms + [s for s in shorts if s not in terms]
        q.heads = [h for h in (self._head(x, side) for x, side in q.heads) if h]
        return q

    def _clean_term(self, term: str) -> str:
        """Strip a modal/particle glued to a word by the segmenter (要罚 → 罚, 党要 → 党) when the
        glued form never occurs in the corpus."""
        if len(term) < 2 or self.view.df(term) > 0:
            return term
        t = term
        while len(t) >= 2 and t[0] in _GLUE_HEAD and self.view.df(t[1:]) > 0:
            t = t[1:]
        while len(t) >= 2 and t[-1] in _GLUE_TAIL and self.view.df(t[:-1]) > 0:
            t = t[:-1]
        return t

    def _head(self, text: str, side: str) -> str:
        """The corpus phrase a list question asks for: the longest prefix (哪些补偿方式…) or suffix
        (…所称温室气体包括哪些) of ``text`` that occurs in the corpus."""
        if side == "exact":
            return text
        cands = [text[:i] for i in range(len(text), 0, -1)] if side == "prefix" else \
            [text[i:] for i in range(len(text) - 1)]
        return next((c for c in cands if self.view.df(c) > 0 and (len(c) >= 2 or side == "prefix")), "")

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
            asking = _asking_clause(q.text)
            if ans.status != "answered" and asking and not q.english:
                # "工作要点提到…,环境保护法规定环境日是哪天?": the last clause is the question; the
                # first only sets the scene. Its answer is used only when it is a full answer.
                q2 = self.analyse(asking)
                q2.years = sorted(set(q2.years) | set(q.years))
                q2.places = list(dict.fromkeys(q2.places + q.places))
                if len(q2.terms) >= 2:
                    ans2 = self._ask_one(q2, doc_ids, doc_types, top_k, timings)
                    if ans2.status == "answered":
                        ans = ans2
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
        screened = self.screen.hits(hits)
        ans = self.extractive.answer(q, screened)
        if self.answerer_name == "llm":
            ans = self.llm.answer(q, screened, ans)
        ans = self.screen.flag(ans, hits)
        timings["retrieve"] += (t1 - t0) * 1000
        timings["answer"] += (time.perf_counter() - t1) * 1000
        return ans
