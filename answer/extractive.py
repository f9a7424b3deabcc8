"""The default answerer: select sentences from retrieved passages, detect the asked-for slot, decide
the status from evidence (answered / not_specified / not_found) and compose a quoted, cited answer."""

from __future__ import annotations

import re

from policy_assistant.answer import compose as C
from policy_assistant.answer import slots as S
from policy_assistant.answer import thresholds as T
from policy_assistant.answer.evidence import (
    CorpusView,
    Ev,
    coverage,
    max_missing_share,
    term_hit,
)
from policy_assistant.answer.lists import ListFinders
from policy_assistant.answer.nonanswers import NonAnswers
from policy_assistant.answer.question import Question
from policy_assistant.answer.sentences import norm, split_clauses
from policy_assistant.answer.types import Answer
from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.text import split_sentences
from policy_assistant.retrieval.types import Hit

_REGULATION = re.compile(r"[\u4e00-\u9fff]{2,14}?(?:条例|防治法|保护法|评价法|所得税法|税法)")


def _unknown_regulation(text: str, view: CorpusView) -> str | None:
    """A regulation the question names that is not in the corpus (上海市生活垃圾管理条例)."""
    titles = [norm(t) for t in view.short_titles.values()]
    for m in _REGULATION.finditer(text):
        if re.search(r"哪|什么|何|谁|关于|地方性", m.group(0)):
            continue  # 出台哪部关于秸秆的地方性条例: a question about a regulation, not a name
        name = norm(m.group(0))
        if not any(t in name or name in t for t in titles):
            return m.group(0)
    return None


_ITEM_LINE = re.compile(r"^\s*[（(][一二三四五六七八九十]+[)）]")
_ARTICLE_NO = re.compile(r"^第[一二三四五六七八九十百零]+条\s*")
_CONDITION = re.compile(r"^(?:逾期|情节严重|拒不|造成|对直接负责)[^，,。；;]{0,14}的[，,]")
_ANAPHORA = re.compile(r"^(?:具体(?:管理)?办法|前款|上述|该|其|此|这|需要|必要时|逾期|情节严重|拒不)")




class ExtractiveAnswerer(ListFinders, NonAnswers):
    def __init__(self, view: CorpusView):
        self.view = view

    # ------------------------------------------------------------------ entry point
    def answer(self, q: Question, hits: list[Hit]) -> Answer:
        w = self.view.weights(q.terms)
        evs = [self._ev(q, h, w) for h in hits]
        cites = C.Citations(scores={h.chunk.chunk_id: h.score for h in hits})
        scoped_out = [e for e in evs if not e.in_scope]
        relevant = [e for e in evs if e.in_scope and self._relevant(e, w, q.qtype)]
        ans = Answer(question=q.raw, status="not_found", answer="", question_type=q.qtype)
        arts = q.articles
        if arts:
            docs = self.view.docs_named_in(q.text + " " + " ".join(q.terms)) or sorted({e.chunk.doc_id for e in evs[:3]})
            found = [c for d in docs for c in self.view.by_doc.get(d, []) if any(a in c.path for a in arts)]
            if not found:
                names = "、".join(f"《{self.view.titles[d]}》" for d in docs) or "这些文件"
                ans.answer = f"在这些文件中没有找到能回答这个问题的内容:{names}中没有{'、'.join(arts)}。"
                return ans
            relevant = [Ev(c, 0, 1.0, 1.0, None) for c in found] + [
                e for e in relevant if e.chunk.chunk_id not in {c.chunk_id for c in found}]
        unknown = _unknown_regulation(q.text, self.view)
        if unknown:
            ans.answer = f"在这些文件中没有找到能回答这个问题的内容:文件库中没有《{unknown}》。"
            return ans
        if not relevant:
            weak = [e for e in evs if e.in_scope and self._weakly_relevant(e, w)]
            if weak:  # the subject is there, the asked-for detail (总投资, 奖金, 主任…) is not
                ans.status = "not_specified"
                ans.answer = self._not_specified(q, weak, evs, w, cites)
                ans.citations = cites.items
                return ans
            scoped_rel = [e for e in scoped_out if self._relevant(e, w, q.qtype)]
            if scoped_rel and q.years and not q.places:
                return self._other_year(q, ans, scoped_rel, w, cites)
            return self._not_found(q, ans, evs, scoped_out, cites, w)
        finder = getattr(self, f"_find_{q.qtype}")
        found = finder(q, relevant, w, cites)
        if found is not None:
            ans.status = "answered"
            ans.answer = found
        else:
            ans.status = "not_specified"
            ans.answer = self._not_specified(q, relevant, evs, w, cites)
        ans.citations = cites.items
        return ans

    # ------------------------------------------------------------------ evidence
    def _ev(self, q: Question, h: Hit, w: dict[str, float]) -> Ev:
        c = h.chunk
        e = Ev(c, h.rank, h.score, coverage(w, c.retrieval_text), h.dense_score,
               missing=max_missing_share(w, c.retrieval_text))
        if c.doc_type == "工作要点":
            year = self.view.title_year(c.doc_id)
            if q.years and year and year not in q.years:
                e.in_scope = False
        if q.places and not any(p in c.retrieval_text for p in q.places):
            e.in_scope = False  # a question about 长沙/上海 is not answered from other places' texts
        return e

    @staticmethod
    def _relevant(e: Ev, w: dict[str, float], qtype: str = "open") -> bool:
        need = T.PENALTY_RELEVANT_COVERAGE if qtype == "penalty" and e.chunk.doc_type != "工作要点" else T.RELEVANT_COVERAGE
        if w and e.cov >= need and e.missing < T.MISSING_TERM_MAX_SHARE:
            return True
        return not w and e.dense is not None and e.dense >= T.DENSE_RELEVANT

    @staticmethod
    def _weakly_relevant(e: Ev, w: dict[str, float]) -> bool:
        """Relevant once the single rarest missing term (the asked-for detail) is set aside."""
        if len(w) < 2:
            return False
        tn = norm(e.chunk.retrieval_text)
        missing = [t for t in w if term_hit(norm(t), tn) == 0.0]
        if not 1 <= len(missing) <= T.WEAK_MAX_MISSING or len(w) - len(missing) < 2:
            return False
        rest = {t: v for t, v in w.items() if t not in missing}
        return coverage(rest, e.chunk.retrieval_text) >= T.RELEVANT_COVERAGE and \
            sum(rest.values()) >= T.WEAK_SUBJECT_SHARE * sum(w.values())

    def _ctx_cov(self, w, chunk: Chunk, text: str) -> float:
        """Coverage of a sentence/clause with its breadcrumb as context (document structure)."""
        return coverage(w, f"{chunk.section}\n{text}")

    def _sentences(self, evs: list[Ev]):
        for e in evs:
            for s in split_sentences(e.chunk.text):
                yield e, s

    def _sentences_ctx(self, evs: list[Ev]):
        """(ev, sentence, context): the context is what the sentence leaves implicit — the intro of an
        enumerated item ("有下列情形之一的…：" before "（九）…"), a work-points item's title sentence,
        and the previous sentence when this one refers back (具体办法由…制定)."""
        for e in evs:
            intro, title, prev = self._unit_intro(e.chunk), "", ""
            for i, s in enumerate(split_sentences(e.chunk.text)):
                if i == 0 and e.chunk.kind == "item" and re.match(r"^\d+[.．、]", s):
                    title = s
                ctx = [title] if s != title else []
                if _ITEM_LINE.match(s) and intro:
                    ctx.append(intro)
                if prev and _ANAPHORA.match(s):
                    ctx.append(prev)
                if re.search(r"[:：]$", s):
                    intro = s
                prev = s
                yield e, s, " ".join(ctx)

    def _unit_intro(self, chunk: Chunk) -> str:
        """The intro line of an enumeration that started in an earlier part of the same unit."""
        if chunk.part == 0:
            return ""
        for p in reversed([p for p in self.view.unit_parts(chunk) if p.part < chunk.part]):
            lines = [x for x in split_sentences(p.text) if re.search(r"[:：]$", x)]
            if lines:
                return lines[-1]
        return ""

    # ------------------------------------------------------------------ per question type
    def _find_figure(self, q: Question, evs, w, cites):
        best = None
        qualitative = None
        respectively = "分别" in q.text
        for e, s, ctx in self._sentences_ctx(evs):
            sent_cov = self._ctx_cov(w, e.chunk, f"{ctx} {s}")
            if sent_cov < T.SLOT_CLAUSE_COVERAGE:
                continue
            own_sent = self._ctx_cov(w, e.chunk, s)
            lead_done = False
            topic = ctx  # clauses without a figure before this one (对实行…简化管理的排污单位，) set its topic
            for cl in split_clauses(s):
                cov = self._ctx_cov(w, e.chunk, cl)
                slot = S.figure_slot(cl, q.text)
                if S.FIGURE_RE.search(_ARTICLE_NO.sub("", cl)):  # not the 二条 of 第十二条
                    lead_done = True
                elif not lead_done and (re.search(r"的[，,]$|^对", _ARTICLE_NO.sub("", cl)) or
                                        (respectively and "分别" in s)):
                    # 对实行…简化管理的排污单位，sets the topic; so does 审批报告书、报告表，…分别… (分别 questions)
                    topic = f"{topic} {cl}"
                topic_cov = self._ctx_cov(w, e.chunk, f"{topic} {cl}")
                if slot and topic_cov < T.SLOT_CLAUSE_COVERAGE:
                    continue
                both = len(S.FIGURE_RE.findall(cl)) >= 2 if respectively else False  # 分别…60日内、…30日内
                key = (both, round(topic_cov, 3), round(cov, 3), round(own_sent, 3), round(sent_cov, 3), -e.rank)
                if slot and (best is None or key > best[0]):
                    best = (key, e, s, cl, slot, ctx)
                elif not slot and e.chunk.kind == "target" and cov >= T.SLOT_CLAUSE_COVERAGE and \
                        (qualitative is None or key > qualitative[0]):
                    qualitative = (key, e, s, cl, "", ctx)
        if best is None and qualitative is not None and not q.wants_number:
            best = qualitative
        if best is None:
            return None
        _, e, s, cl, slot, ctx = best
        quotes = self._with_intro(e, s, ctx, slot or cl)
        sents = split_sentences(e.chunk.text)
        i = sents.index(s) if s in sents else -1
        if slot and 0 <= i < len(sents) - 1 and _ANAPHORA.match(sents[i + 1]) and S.figure_slot(sents[i + 1], q.text):
            quotes.append(C.Quote(e.chunk, sents[i + 1]))  # 需要进行现场核查的，…45日内 continues the rule
        return C.answered_text(cl, quotes, cites, preface=self._preface(e.chunk))

    def _with_intro(self, e: Ev, s: str, ctx: str, anchor: str) -> list:
        """The sentence, preceded by the enumeration intro it depends on (if it is an item line)."""
        quotes = [C.Quote(e.chunk, s, anchor=anchor)]
        intro = next((x for x in split_sentences(ctx) if re.search(r"[:：]$", x)), "") if ctx else ""
        if intro and _ITEM_LINE.match(s):
            quotes.append(C.Quote(e.chunk, intro))
        return quotes

    def _find_who(self, q: Question, evs, w, cites):
        best = None
        established = bool(re.search(r"什么机构|哪个机构|什么组织|建立|成立|设立", q.text))
        identity = re.search(r"谁是(?P<x>[^?？,，。]{2,20})|(?P<y>[\u4e00-\u9fff]{2,20}?)是谁", q.text)
        ident = norm((identity.group("x") or identity.group("y") or "").strip("的")) if identity else ""
        rights = bool(re.search(r"谁(?:可以|能|有权)|哪些人|什么人", q.text))
        recipient = bool(re.search(r"向(?:哪|什么)", q.text))  # 应当向哪个部门申请
        for e, s, ctx in self._sentences_ctx(evs):
            cov = self._ctx_cov(w, e.chunk, f"{ctx} {s}")
            if cov < T.SLOT_CLAUSE_COVERAGE:
                continue
            org = None
            if ident:
                m = re.search(rf"(?P<org>[^；;。，,]{{4,80}}?)(?:为|是){re.escape(ident)}", norm(s))
                org = m.group("org") if m and m.group("org") in s else None
            org = org or (S.right_holder(s) if rights else None) or (S.recipient_slot(s) if recipient else None) \
                or S.who_slot(s, established)
            key = (cov, self._ctx_cov(w, e.chunk, s), -e.rank)
            if org and (best is None or key > best[0]):
                best = (key, e, s, org, ctx)
        if best is None:
            return None
        _, e, s, org, ctx = best
        clause = next((c for c in split_clauses(s) if org in c), org)
        lead = f"{org}({C.strip_trailing_punct(clause)})" if clause != org else org
        return C.answered_text(lead, self._with_intro(e, s, ctx, org), cites, preface=self._preface(e.chunk))

    def _find_penalty(self, q: Question, evs, w, cites):
        wants_fine = bool(re.search(r"罚款|罚金|罚多少|多少钱|fine", q.text.lower()))
        found = []
        for e in evs:
            if e.cov < T.SLOT_SENTENCE_COVERAGE:
                continue
            for part in self.view.unit_parts(e.chunk):
                sents = split_sentences(part.text)
                for i, s in enumerate(sents):
                    amount = S.penalty_slot(s)
                    slot = amount or (None if wants_fine else S.penalty_measure(s))
                    if slot:
                        grade = 2 if amount and re.search(r"元|倍|按日", amount) else (1 if amount else 0)
                        grade += 1 if wants_fine and amount and re.search(r"元|倍", amount) else 0
                        found.append(((grade, e.cov, -e.rank), part, sents, i, slot, e))
        if not found:
            return None
        found.sort(key=lambda x: x[0], reverse=True)
        _, chunk, sents, i, slot, e = found[0]
        quotes = [C.Quote(chunk, sents[i], anchor=slot)]
        leads = [slot]
        for nxt in sents[i + 1 : i + 3]:  # 情节严重的，处…；吊销… continue the same penalty
            extra = S.penalty_slot(nxt) or S.penalty_measure(nxt) or (nxt if _CONDITION.match(nxt) else None)
            if not extra or _ITEM_LINE.match(nxt):
                break
            quotes.append(C.Quote(chunk, nxt, anchor=extra))
            leads.append(C.strip_trailing_punct(nxt))
        # the sentence that names the behaviour (an item of the article) when it is another one
        best_item = max(
            ((self._ctx_cov(w, e.chunk, x), x) for x in split_sentences(e.chunk.text)), default=(0, "")
        )
        if best_item[1] and all(best_item[1] != qt.sentence for qt in quotes) and best_item[0] >= T.SLOT_SENTENCE_COVERAGE:
            quotes.append(C.Quote(e.chunk, best_item[1]))
        for other in found[1:]:
            if len(quotes) >= T.MAX_QUOTES + 1:
                break
            if other[1].doc_id != chunk.doc_id and other[0][:2] >= (found[0][0][0], found[0][0][1] - 0.05):
                quotes.append(C.Quote(other[1], other[2][other[3]], anchor=other[4]))
        return C.answered_text(";".join(leads), quotes, cites, preface=self._preface(chunk))

    def _find_when(self, q: Question, evs, w, cites):
        cands = []
        pool = list(evs)
        effective = bool(re.search(r"施行|生效|effect|force", q.text.lower()))
        if effective:
            named = set(self.view.docs_named_in(q.text)) or {e.chunk.doc_id for e in evs[:1]}
            for doc_id in named:
                for c in self.view.by_doc.get(doc_id, []):
                    if "施行" in c.text:
                        pool.append(Ev(c, 99, 0.0, coverage(w, c.retrieval_text), None))
        for e, s, ctx in self._sentences_ctx(pool):
            slot = S.date_slot(s)
            if not slot:
                continue
            cov = self._ctx_cov(w, e.chunk, f"{ctx} {s}")
            if effective:
                if not re.search(r"施行|生效", s):
                    continue
                cov += 0.2 + (0.1 if re.search(r"本(?:法|条例|解释|规定|办法)自", s) else 0.0)
            if cov >= T.SLOT_SENTENCE_COVERAGE:
                cands.append(((cov, -e.rank), e, s, slot))
        if not cands:
            return None
        _, e, s, slot = max(cands, key=lambda x: x[0])
        clause = next((c for c in split_clauses(s) if slot in c), s)
        return C.answered_text(clause, [C.Quote(e.chunk, s, anchor=slot)], cites)

    def _find_definition(self, q: Question, evs, w, cites):
        best = None
        units = []
        for e in evs:  # a definition list (本法中下列用语的含义) may continue in the unit's other parts
            units += [Ev(p, e.rank, e.score, e.cov, e.dense) for p in self.view.unit_parts(e.chunk)]
        for e, s in self._sentences(units or evs):
            slot = S.definition_slot(s)
            if not slot:
                continue
            head = s[: s.find(slot)]
            cov = coverage(w, head) if head else 0.0
            tail = norm(head).rstrip("，,：: ")
            if any(tail.endswith(norm(t)) for t in w):
                cov += 0.5
            if cov >= T.SLOT_SENTENCE_COVERAGE and (best is None or (cov, -e.rank) > best[0]):
                best = ((cov, -e.rank), e, s, slot)
        if best is None:
            best = self._scan_definition(w)
        if best is None:
            return None
        _, e, s, slot = best
        return C.answered_text(s, [C.Quote(e.chunk, s, anchor=slot)], cites)

    def _scan_definition(self, w):
        """Structure fallback: 所称X，是指 / X，是指 anywhere in the corpus for the main term."""
        if not w:
            return None
        term = norm(max(w, key=w.get))
        for c in self.view.chunks:
            tn = norm(c.text)
            if term not in tn:
                continue
            for s in split_sentences(c.text):
                sn = norm(s)
                if re.search(rf"(?:所称|^|[(（][一二三四五六七八九十]+[)）]){re.escape(term)}[,，]?(?:是指|指)", sn):
                    return ((1.0, 0), Ev(c, 99, 0.0, 1.0, None), s, S.definition_slot(s) or "")
        return None

    def _preface(self, chunk: Chunk) -> str:
        year = self.view.title_year(chunk.doc_id)
        if chunk.doc_type == "工作要点" and year:
            return f"据《{chunk.doc_title}》({year}年):"
        return ""
