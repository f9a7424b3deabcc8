"""List, yes/no and open questions: enumerations (sibling units under a heading, （一）（二）items after an
intro line, A、B和C sentences, 《titles》) and the sentence(s) that settle a yes/no question.
Mixed into :class:`answer.extractive.ExtractiveAnswerer`."""

from __future__ import annotations

import re

from policy_assistant.answer import compose as C
from policy_assistant.answer import slots as S
from policy_assistant.answer import thresholds as T
from policy_assistant.answer.evidence import coverage, term_hit
from policy_assistant.answer.sentences import norm
from policy_assistant.corpus.text import split_sentences

_ITEM_LINE = re.compile(r"^\s*[（(][一二三四五六七八九十]+[)）]")
_INTRO = re.compile(r"[:：]$")
_TITLE = re.compile(r"《[^《》]{2,40}》")
_CN_COUNT = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# words that settle a yes/no question one way or the other
_POLARITY = re.compile(r"不得|禁止|严禁|应当|必须|不需要|无需|不缴纳|不予|免征|暂予免征|可以|不属于|有权|不再|免费")


def _has_head(heads: list[str], text: str) -> bool:
    tn = norm(text)
    return not heads or any(term_hit(norm(h), tn) > 0 for h in heads)


def _defines(heads: list[str], text: str) -> bool:
    """The sentence says what the head consists of (温室气体，是指…包括…; 分为核心区、…)."""
    tn = norm(text)
    return any(re.search(re.escape(norm(h)) + r"(?:[^。；;]{0,80}?(?:包括|是指|分为|分成)|(?:主要|还)?有[:：下])", tn)
               or re.search(r"(?:包括|包含)[^。；;]{4,200}?等" + re.escape(norm(h)), tn)  # 主要包括A、B等任务
               for h in heads)  # a bare 有 would match 有关部门


def _asked_count(text: str) -> int | None:
    m = re.search(r"哪([两二三四五六七八九十])[个项类条种大级部]", text)
    return _CN_COUNT.get(m.group(1)) if m else None


class ListFinders:
    def _find_list(self, q, evs, w, cites):
        group = self._sibling_group(q, evs, w, cites)
        if group is not None:
            return group
        want = _asked_count(q.text)
        cands = []  # (key, kind, payload)
        for e in evs:  # numbered lines after an intro (（一）…（二）…)
            lines = [ln.strip() for ln in e.chunk.text.split("\n")]
            for i, ln in enumerate(lines):
                if not _INTRO.search(ln):
                    continue
                items = []
                for nxt in lines[i + 1:]:
                    if not _ITEM_LINE.match(nxt):
                        break
                    items.append(nxt)
                if len(items) < 2:
                    continue
                intro = split_sentences(ln)[-1] if split_sentences(ln) else ln
                cov = self._ctx_cov(w, e.chunk, intro)
                if cov < T.SLOT_SENTENCE_COVERAGE or not _has_head(q.heads, f"{e.chunk.section} {intro}"):
                    continue
                fit = want is None or want == len(items)
                cands.append(((fit, _defines(q.heads, intro), cov, -e.rank, len(items)), "items", (e, intro, items)))
        min_items = 2 if (q.heads or want == 2) else 3
        for e, s, ctx in self._sentences_ctx(evs):  # A、B和C sentences
            n = S.enumeration_count(s, min_items)
            if not n or not _has_head(q.heads, s):
                continue
            cov = self._ctx_cov(w, e.chunk, f"{ctx} {s}")
            if cov >= T.SLOT_CLAUSE_COVERAGE:
                fit = want is None or want == n
                cands.append(((fit, _defines(q.heads, s), cov, -e.rank, n), "sentence", (e, s)))
        if q.heads and any(re.fullmatch(r"条例|法律|法规|办法|规定|方案|规划|文件|法", h) for h in q.heads):
            for e, s, ctx in self._sentences_ctx(evs):  # 出台哪部条例 → 《…条例》
                titles = [t for t in _TITLE.findall(s) if any(t.rstrip("》").endswith(h) for h in q.heads)]
                cov = self._ctx_cov(w, e.chunk, f"{ctx} {s}")
                if titles and cov >= T.SLOT_CLAUSE_COVERAGE:
                    cands.append(((True, True, cov, -e.rank, len(titles)), "title", (e, s, titles)))
        if not cands:
            return None
        _, kind, payload = max(cands, key=lambda c: c[0])
        if kind == "items":
            e, intro, items = payload
            return C.list_text(f"{C.strip_trailing_punct(intro)}:", [(e.chunk, ln) for ln in items], cites, None)
        if kind == "title":
            e, s, titles = payload
            return C.answered_text("、".join(titles), [C.Quote(e.chunk, s, anchor=titles[0])], cites,
                                   preface=self._preface(e.chunk))
        e, s = payload
        return C.answered_text(s, [C.Quote(e.chunk, s)], cites, preface=self._preface(e.chunk))

    def _sibling_group(self, q, evs, w, cites):
        """A group of sibling units whose heading names the subject (附件1 › "七大示范工程" › 1. …)."""
        best = None
        for e in evs:
            c = e.chunk
            if len(c.path) < 2:
                continue
            heading = " ".join(c.path[:-1])
            gcov = coverage(w, heading)
            sibs = [s for s in self.view.siblings(c) if s.kind == c.kind]
            if gcov >= T.SLOT_SENTENCE_COVERAGE and len(sibs) >= 2 and _has_head(q.heads, heading) and \
                    (best is None or gcov > best[0]):
                best = (gcov, c, sibs)
        if best is None:
            return None
        _, c, sibs = best
        items = [(s, s.text) for s in sibs][: T.MAX_LIST_CITATIONS - 1]
        name = c.path[-2].strip('"“” ')
        mention = None
        pool = [e.chunk for e in evs] + list(self.view.by_doc.get(c.doc_id, []))
        for other in pool:
            if (other.doc_id == c.doc_id and other.path[:-1] != c.path[:-1] and other.kind == "item"
                    and name in other.text):
                s = next((x for x in split_sentences(other.text) if name in x), "")
                if s:
                    mention = C.Quote(other, s, anchor=name)
                    break
        where = f"{c.path[0]}列出的{c.path[-2]}" if len(c.path) > 2 else c.path[0]
        header = f"《{c.doc_title}》{where}共{len(sibs)}项:"
        return C.list_text(header, items, cites, mention)

    def _find_open(self, q, evs, w, cites):
        scored = sorted(
            ((self._ctx_cov(w, e.chunk, f"{ctx} {s}"), self._ctx_cov(w, e.chunk, s), -e.rank, e, s, ctx)
             for e, s, ctx in self._sentences_ctx(evs)),
            key=lambda x: (x[0], x[1], x[2]), reverse=True,
        )
        if not scored or scored[0][0] < T.OPEN_SENTENCE_COVERAGE:
            return None
        quotes = []
        for cov, _, _, e, s, ctx in scored[: T.MAX_QUOTES]:
            if cov >= T.OPEN_SENTENCE_COVERAGE:
                quotes += self._with_intro(e, s, ctx, "")
        e, s = scored[0][3], scored[0][4]
        sents = split_sentences(e.chunk.text)
        i = sents.index(s) if s in sents else -1
        if s.endswith(("；", ";")) and 0 <= i < len(sents) - 1 and not _ITEM_LINE.match(sents[i + 1]):
            quotes.insert(1, C.Quote(e.chunk, sents[i + 1]))  # …责令改正；逾期未改正的，可以缓拨… continues the rule
        return C.answered_text(quotes[0].sentence, quotes, cites, preface=self._preface(quotes[0].chunk))

    def _find_yesno(self, q, evs, w, cites):
        """The sentence that settles it: best coverage (with the intro of an enumerated item), and among
        near-equals one that says 不得/应当/不需要/可以…; the intro is quoted with the item."""
        scored = []
        for e, s, ctx in self._sentences_ctx(evs):
            cov = self._ctx_cov(w, e.chunk, f"{ctx} {s}")
            if cov < T.OPEN_SENTENCE_COVERAGE:
                continue
            polar = bool(_POLARITY.search(s) or (ctx and _ITEM_LINE.match(s) and _POLARITY.search(ctx)))
            scored.append(((round(cov + T.YESNO_POLARITY_BONUS * polar, 3), -e.rank), e, s, ctx))
        if not scored:
            return None
        scored.sort(key=lambda x: x[0], reverse=True)
        quotes = []
        for _, e, s, ctx in scored[: T.MAX_QUOTES - 1]:
            quotes += self._with_intro(e, s, ctx, "")
        return C.answered_text(quotes[0].sentence, quotes, cites, preface=self._preface(quotes[0].chunk))
