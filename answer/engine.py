"""``Assistant``: the one object front ends use. Loads the index and models once; answers questions.

The answer path is explicit stages, one module each, with typed records between them::

    analyse (Question) → retrieve (Hits per part) → evidence (scored Units) → decide (Decision)
      → verify (consistency, instructions) → compose (Answer)
"""

from __future__ import annotations

import re
import time

from policy_assistant.answer.analyse import Analyser
from policy_assistant.answer.compose import compose, overall_status
from policy_assistant.answer.decide import decide, score_units
from policy_assistant.answer.evidence import EvidenceScorer
from policy_assistant.answer.followup import rewrite_followup
from policy_assistant.answer.injection import Screen
from policy_assistant.answer.models import Models, load_models
from policy_assistant.answer.retrieve import CANDIDATE_HITS, retrieve
from policy_assistant.answer.stats import CorpusStats
from policy_assistant.answer.types import Answer, Decision, Question
from policy_assistant.answer.verify import absent_articles, make_consistent
from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.corpus.completeness import incomplete_note
from policy_assistant.retrieval.types import Hit

ARTICLE_LABEL = re.compile(r"第[一二三四五六七八九十百零〇\d]+条")


class Assistant:
    """Retriever + the staged extractive answer path (+ an optional LLM answerer, built lazily).

    ``retriever`` is anything with ``search(query, k, doc_ids, doc_types, qvec=, exclude=)``, ``chunks``,
    ``documents``, ``embedder``, ``tokenize`` and ``vocabulary`` (normally
    :class:`~policy_assistant.retrieval.search.HybridRetriever`). ``models`` defaults to the calibrated
    models shipped in ``answer/models/``.
    """

    def __init__(self, retriever, settings=None, llm_answerer=None, models: Models | None = None):
        from policy_assistant.retrieval.expand import named_doc_ids

        self.retriever = retriever
        self.settings = settings
        self.vocab = retriever.vocabulary
        self.stats = CorpusStats(retriever.chunks)
        self.analyser = Analyser(self.vocab, self.stats, retriever.tokenize,
                                 named_docs=lambda t: named_doc_ids(t, retriever.documents, self.vocab))
        self.scorer = EvidenceScorer(self.vocab, unit_vectors=getattr(retriever, "unit_vectors", None))
        self.models = models or load_models()
        self._llm = llm_answerer
        self.screen = Screen(retriever.chunks)
        self._labels: dict[str, set[str]] = {}
        for c in retriever.chunks:
            if c.path:
                self._labels.setdefault(c.doc_id, set()).add(c.path[-1])

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
        def key_terms(text: str) -> list[str]:
            return [t.text for t in sorted(self.analyser.terms(text), key=lambda t: -t.idf)]

        return rewrite_followup(question, history or [], key_terms)

    def analyse(self, question: str) -> Question:
        return self.analyser.analyse(question)

    def list_items(self, ev, best_hit: Hit | None = None) -> list:
        """For a list question: the items under the heading that names what is asked (附件1 › "七大示范工程"
        › 1. … 7.), as hits, when the best evidence's passage sits under such a heading; else ``[]``.

        A heading "names" the list when it contains one of the part's key terms; the heading whose terms
        carry the most IDF wins. Articles are never listed as items: a heading above articles is a chapter
        (第二章 申请与审批), not a list."""
        best, best_w = None, 0.0
        for h in ev.hits:
            c = h.chunk
            for depth in range(len(c.path) - 1, 0, -1):
                heading = c.path[depth - 1]
                w = sum(t.idf for t in ev.part.terms if t.df > 0 and t.text in heading)
                if w > best_w:
                    best, best_w = (c.doc_id, tuple(c.path[:depth]), h), w
        if best is None:
            return []
        if best_hit is not None:
            # a list of siblings only when their heading names the list better than the best passage itself
            # does ("四个清单指哪四类" is answered by the item about "四个清单", not by its siblings)
            own_text = " ".join([*best_hit.chunk.path[-1:], best_hit.chunk.text])
            own = sum(t.idf for t in ev.part.terms if t.df > 0 and t.text in own_text)
            if own > best_w:
                return []
        doc_id, parent, hit = best
        items = [c for c in self.retriever.chunks if c.doc_id == doc_id and tuple(c.path[: len(parent)]) == parent
                 and len(c.path) > len(parent)]
        if not 2 <= len(items) <= 30 or any(ARTICLE_LABEL.match(c.path[-1]) for c in items if c.path):
            return []
        return [Hit(chunk=c, score=hit.score, rank=hit.rank) for c in items]

    def ask(self, question: str, *, doc_ids=None, doc_types=None, top_k: int | None = None,
            history: list[Answer] | None = None, explain: bool = False, exclude=None) -> Answer:
        """Answer one question. Raises ``QuestionError`` for unusable input (empty, only punctuation).

        ``exclude``: chunk ids to leave out of retrieval (used when generating calibration data)."""
        t0 = time.perf_counter()
        rewritten = self.rewrite_followup(question, history) if history else None
        q = self.analyse(rewritten or question)
        t1 = time.perf_counter()
        hit_lists, qvecs = retrieve(q, self.retriever, k=max(CANDIDATE_HITS, top_k or 0), doc_ids=doc_ids,
                                    doc_types=doc_types, exclude=exclude)
        t2 = time.perf_counter()
        absent = absent_articles(q, self._labels)
        parts = []
        for part, hits, qvec in zip(q.parts, hit_lists, qvecs, strict=True):
            ev = self.scorer.part_evidence(q, part, self.screen.hits(hits), qvec)
            score_units(ev, self.models)
            d = decide(ev, q, self.models)
            d = make_consistent(ev, d, self.vocab, q)
            if absent:  # the cited article is not in the document: nothing can answer about it
                d = Decision("not_found", 1.0, {**d.probabilities, "article_absent": 1.0})
            parts.append((ev, d))
        note = self._scope_note(q, absent)
        if overall_status([d for _, d in parts]) != "answered":
            note = "".join(filter(None, [note, *self._incomplete_notes(q, doc_ids, hit_lists[0])]))
        text, citations = compose(parts, list_items=self.list_items, note=note)
        status = overall_status([d for _, d in parts])
        main = next((d for _, d in parts if d.status == status), parts[0][1])
        ans = Answer(question=str(question), status=status, answer=text, citations=citations,
                     question_type=q.answer_type, rewritten_question=rewritten, notes=list(q.notes),
                     probability=main.probability,
                     parts=[{"text": ev.part.text, "answer_type": ev.part.answer_type, "status": d.status,
                             "probability": round(d.probability, 4)} for ev, d in parts] if len(parts) > 1 else [])
        if explain:
            ans.explain = {"parts": [{"text": ev.part.text, "answer_type": ev.part.answer_type,
                                      "terms": [[t.text, round(t.idf, 3), t.df] for t in ev.part.terms],
                                      "features": {k: round(v, 4) for k, v in ev.features.items()},
                                      "probabilities": {k: round(v, 4) for k, v in d.probabilities.items()},
                                      "contributions": self.models.status.contributions(ev.features),
                                      "best_units": [{"text": u.text[:80], "score": round(u.score, 4),
                                                      "section": u.hit.chunk.section,
                                                      "features": {k: round(v, 4) for k, v in u.features.items()}}
                                                     for u in ev.units[:3]]}
                                     for ev, d in parts]}
        if self.answerer_name == "llm":
            ans = self.llm.answer(q, _by_evidence(parts[0][0]), ans)
        ans = self.screen.flag(ans, hit_lists[0])
        t4 = time.perf_counter()
        ans.timings_ms = {"analyse": (t1 - t0) * 1000, "retrieve": (t2 - t1) * 1000,
                          "answer": (t4 - t2) * 1000, "total": (t4 - t0) * 1000}
        return ans

    def _incomplete_notes(self, q: Question, doc_ids, hits: list[Hit]) -> list[str]:
        """Issue 13: when nothing answers, say so for each searched document whose copy may be cut off —
        the documents the question names or the filter selects, else the first hit's."""
        wanted = set(q.named_docs)
        for d in doc_ids or ():
            try:
                wanted.add(self.retriever.resolve_doc(d))
            except PolicyAssistantError:
                continue
        if not wanted and hits:
            wanted.add(hits[0].chunk.doc_id)
        return [n for d in self.retriever.documents if d["doc_id"] in wanted and (n := incomplete_note(d))]

    def _scope_note(self, q: Question, absent: list[str] = ()) -> str:
        if absent:
            titles = "、".join(f"《{d['title']}》" for d in self.retriever.documents if d["doc_id"] in q.named_docs)
            return f"{titles}中没有{'、'.join(absent)}。"
        if q.places:
            return f"这些文件只涉及{self.vocab.home_places[0] if self.vocab.home_places else '本地'}及国家法律法规，没有关于{'、'.join(q.places)}的内容。"
        return ""


def _by_evidence(ev) -> list:
    """The part's (screened) hits, the passage of the best-scored unit first (what an LLM should read first)."""
    order = list(dict.fromkeys(u.hit.chunk.chunk_id for u in ev.units))
    by_id = {h.chunk.chunk_id: h for h in ev.hits}
    return [by_id[c] for c in order if c in by_id] + [h for h in ev.hits if h.chunk.chunk_id not in order]
