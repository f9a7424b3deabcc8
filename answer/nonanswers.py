"""The honest non-answers: not_specified (the subject is there, the detail is not), not_found (with
near misses labelled as such) and the other-year case. Mixed into :class:`ExtractiveAnswerer`."""

from __future__ import annotations

from policy_assistant.answer import compose as C
from policy_assistant.answer import thresholds as T
from policy_assistant.answer.evidence import Ev, _subwords, coverage, key_term, longest_common
from policy_assistant.answer.question import HENGYANG_PLACES, Question
from policy_assistant.answer.sentences import norm
from policy_assistant.answer.types import Answer
from policy_assistant.corpus.text import split_sentences


class NonAnswers:
    def _not_specified(self, q: Question, relevant: list[Ev], evs: list[Ev], w, cites) -> str:
        key = key_term(w, self.view)
        related = list(relevant)
        rare = self._rare_parts(w) if key else []
        if rare:
            def has_rare(text: str) -> bool:
                t = norm(text)
                return any(x in t for x in rare)

            related += [e for e in evs if e not in related and e.in_scope and has_rare(e.chunk.text)
                        and e.cov >= T.RELATED_KEY_COVERAGE]
            seen = {e.chunk.chunk_id for e in related}
            for doc_id in dict.fromkeys(e.chunk.doc_id for e in relevant):
                for c in self.view.by_doc.get(doc_id, []):
                    if c.chunk_id not in seen and c.kind != "attachment_list" and has_rare(c.text):
                        related.append(Ev(c, 99, 0.0, coverage(w, c.retrieval_text), None))
                        seen.add(c.chunk_id)
        quotes = []
        for e in related[: T.MAX_CITATIONS]:
            sents = split_sentences(e.chunk.text)
            best = max(sents, key=lambda s: (self._ctx_cov(w, e.chunk, s) + any(x in norm(s) for x in rare))) \
                if sents else e.chunk.text
            quotes.append(C.Quote(e.chunk, best))
        subject = max((longest_common(norm(q.text), norm(e.chunk.text), 2) for e in relevant), key=len)
        subject = subject if len(subject) >= 2 and not q.english else ""
        return C.not_specified_text(subject, q.qtype, quotes, cites)

    def _rare_parts(self, w) -> list[str]:
        """The rarest parts of the question's terms (铊 of 铊污染, 专项治理): passages containing one of
        them are related to the subject. Only parts about as rare as the rarest one count, so a common
        part (专项) never pulls in unrelated passages."""
        parts = {norm(x) for t in w for x in (t, *_subwords(norm(t)))}
        dfs = {x: self.view.df(x) for x in parts if x}
        dfs = {x: d for x, d in dfs.items() if 0 < d <= T.KEY_SUBTERM_MAX_DF}
        if not dfs:
            return []
        limit = min(dfs.values()) * T.RARE_PART_MAX_RATIO
        return sorted((x for x, d in dfs.items() if d <= limit), key=lambda x: (dfs[x], -len(x)))

    def _not_found(self, q: Question, ans: Answer, evs, scoped_out, cites, w) -> Answer:
        note = ""
        if q.places and any(p not in HENGYANG_PLACES for p in q.places):
            place = "、".join(q.places)
            note = (f"文件中没有关于{place}的内容;《衡阳市2021年生态环境保护工作要点》只适用于衡阳市,"
                    f"不能用来回答{place}的问题。")
        elif q.years and scoped_out:
            yrs = "、".join(f"{y}年" for y in q.years)
            titles = "、".join(sorted({f"《{e.chunk.doc_title}》" for e in scoped_out}))
            note = f"文件中没有{yrs}的相关规定或目标;{titles}只涉及其标题所示年份,其中的数字不适用于{yrs}。"
        near = []
        for e in sorted(evs, key=lambda e: -e.cov)[:2]:
            if (w and e.cov >= T.NEAR_MISS_COVERAGE) or (e.dense or 0) >= T.DENSE_NEAR_MISS:
                sents = split_sentences(e.chunk.text) or [e.chunk.text]
                near.append(C.Quote(e.chunk, max(sents, key=lambda s: coverage(w, s))))
        ans.answer = C.not_found_text(q.raw, note, near, cites)
        ans.citations = cites.items
        return ans

    def _other_year(self, q: Question, ans: Answer, scoped: list[Ev], w, cites) -> Answer:
        """The documents discuss the subject, but for another year: not_specified, never the other
        year's figure as if it applied."""
        yrs = "、".join(f"{y}年" for y in q.years)
        quotes = []
        for e in scoped[: T.MAX_QUOTES]:
            sents = split_sentences(e.chunk.text) or [e.chunk.text]
            quotes.append(C.Quote(e.chunk, max(sents, key=lambda x: self._ctx_cov(w, e.chunk, x))))
        titles = "、".join(sorted({f"《{e.chunk.doc_title}》" for e in scoped}))
        lines = [f"文件没有写明{yrs}的情况。{titles}只针对其标题所示年份,下面的内容不适用于{yrs}:", ""]
        lines += [C.quote_line(qt, cites) for qt in quotes]
        ans.status = "not_specified"
        ans.answer = "\n".join(lines)
        ans.citations = cites.items
        return ans
