"""Question builders: one function per type, each listing candidates a seeded RNG turns into questions.

A candidate knows its document and section (for scoping and variety) and builds its question lazily
with its own ``random.Random`` — so a question is the same whether or not the scope around it changes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from policy_assistant.corpus.model import Document
from policy_assistant.corpus.text import short_title, split_sentences
from policy_assistant.training import extract as ex
from policy_assistant.training.figures import find_figures, perturb_figure, question_word
from policy_assistant.training.model import BLANK, FALSE, SWAPS, TRUE, QuizQuestion


@dataclass
class _Candidate:
    type: str
    doc: Document
    path: tuple[str, ...]
    ident: str
    build: Callable[[random.Random], QuizQuestion | None]
    priority: int = 1


class _Ctx:
    """Chunks by (doc_id, path), a document's article labels and all list items (for distractors)."""

    def __init__(self, corpus):
        self.chunks: dict[tuple[str, tuple[str, ...]], list] = {}
        for c in corpus.chunks:
            self.chunks.setdefault((c.doc_id, tuple(c.path)), []).append(c)
        self.lists = {d.doc_id: ex.named_lists(d) for d in corpus.documents}
        self.docs = list(corpus.documents)

    def chunk_id(self, doc: Document, path: tuple[str, ...], evidence: str = "") -> str:
        parts = self.chunks.get((doc.doc_id, tuple(path))) or []
        for c in parts:
            if evidence and evidence in c.text:
                return c.chunk_id
        return parts[0].chunk_id if parts else ""


def _q(ctx: _Ctx, type_: str, doc: Document, path, question: str, answer: str, source: str, evidence: str,
       explanation: str, key: dict, choices: Sequence[str] = (), chunk_path=None) -> QuizQuestion:
    qid = hashlib.sha1(f"{type_}\n{question}".encode()).hexdigest()[:12]
    return QuizQuestion(type_, question, list(choices), answer, doc.title, ex.breadcrumb(doc, path), source,
                        ctx.chunk_id(doc, chunk_path or path, evidence), explanation, doc.doc_id, tuple(path),
                        evidence, key, qid)


def _where(doc: Document, path) -> str:
    return f"《{short_title(doc.title)}》{' › '.join(path)}"


# --------------------------------------------------------------------------- fill_figure


def _fill_figure(ctx: _Ctx, doc: Document) -> list[_Candidate]:
    out: list[_Candidate] = []
    if not ex.is_work_points(doc):
        return out  # laws: their figures are asked together with the article (which_article)
    for path, sec in doc.root.walk():
        if sec.kind in ("preamble", "attachment_list") or not sec.text:
            continue
        text = sec.text
        for fig in find_figures(text, chinese=False):
            if fig.kind == "date":
                continue
            s, e = ex.clause_around(text, fig.start, fig.end)
            clause = ex.strip_label(text[s:e]) if s == 0 else text[s:e]
            blanked = clause.replace(fig.text, BLANK, 1) if clause.count(fig.text) == 1 else (
                text[s:fig.start] + BLANK + text[fig.end:e])
            if len(clause) < 8 or BLANK not in blanked:
                continue
            sentence = ex.strip_label(next((x for x in split_sentences(text) if fig.text in x and clause[:6] in x),
                                           clause))

            def build(rng, path=path, sec=sec, fig=fig, blanked=blanked, sentence=sentence):
                q = f"填空（{_where(doc, path[-2:])}）：{blanked.strip()}"
                return _q(ctx, "fill_figure", doc, path, q, fig.text, sec.text.strip(), fig.text,
                          f"原文（{ex.breadcrumb(doc, path)}）：「{sentence}」", {"figure": fig.text})

            out.append(_Candidate("fill_figure", doc, path, f"{'/'.join(path)}@{fig.start}", build,
                                  0 if sec.kind == "target" else 1))
    return out


# --------------------------------------------------------------------------- missing_item


def _distractors(ctx: _Ctx, lst: ex.NamedList, answer: str, rng: random.Random) -> list[str]:
    own = {it.text for it in lst.items}
    same = [it.text for o in ctx.lists[lst.doc_id] if o is not lst for it in o.items]
    others = [it.text for d in ctx.docs if d.doc_id != lst.doc_id and (d.doc_type == "工作要点") == (
        lst.doc_type == "工作要点") for o in ctx.lists[d.doc_id] for it in o.items]
    picked: list[str] = []
    for pool in (same, others):
        pool = sorted({p for p in pool if p not in own and p not in lst.source_text and p not in picked})
        pool.sort(key=lambda p: (abs(len(p) - len(answer)), p))
        near = pool[: max(6, 3 - len(picked))]
        rng.shuffle(near)
        picked += near[: 3 - len(picked)]
        if len(picked) >= 3:
            break
    return picked


def _missing_item(ctx: _Ctx, doc: Document) -> list[_Candidate]:
    out = []
    for lst in ctx.lists[doc.doc_id]:
        if len(lst.items) < 3:
            continue
        for k, item in enumerate(lst.items):
            def build(rng, lst=lst, k=k, item=item):
                wrong = _distractors(ctx, lst, item.text, rng)
                if len(wrong) < 3:
                    return None
                choices = [item.text, *wrong]
                rng.shuffle(choices)
                short = short_title(doc.title)
                if lst.kind == "inline":
                    others = lst.intro.replace(item.text, BLANK, 1)
                    q = f"《{short}》{lst.extra.get('label', '')}：\n{others}。\n空缺处应是哪一项？"
                else:
                    lines = "\n".join(f"{it.label} {BLANK if i == k else it.text}" for i, it in enumerate(lst.items))
                    head = f"{lst.intro}（共{len(lst.items)}项）" if lst.kind == "attachment" else \
                        f"{lst.name}：{lst.intro}"
                    q = f"《{short}》{head}\n{lines}\n空缺的一项是？"
                chunk_path = item.path
                return _q(ctx, "missing_item", doc, lst.path, q, item.text, lst.source_text, item.text,
                          f"缺少的是「{item.text}」。出处：{ex.breadcrumb(doc, item.path)}。", {"item": item.text},
                          choices, chunk_path)

            out.append(_Candidate("missing_item", doc, lst.path,
                                  f"{lst.name}/{'/'.join(lst.path)}#{k}", build, 0 if lst.kind != "enumeration" else 1))
    return out


# --------------------------------------------------------------------------- which_article


def _which_article(ctx: _Ctx, doc: Document) -> list[_Candidate]:
    if ex.is_work_points(doc):
        return []
    arts = ex.articles(doc)
    labels = [s.label for _p, s in arts]
    out: list[_Candidate] = []
    templates: dict[str, int] = {}
    raw = []
    for path, sec in arts:
        for sent in ex.unit_sentences(sec):
            if not ex.usable_sentence(sent, 8, 110):
                continue
            if "下列" in sent:
                continue  # refers to a list the question would not show
            figs = find_figures(sent)
            if len(figs) == 1 and sent[max(0, figs[0].start - 1): figs[0].start] not in ("“", '"'):
                tpl = sent.replace(figs[0].text, BLANK)
                raw.append((path, sec, sent, figs[0], tpl))
            elif not figs and 12 <= len(sent) <= 80:
                raw.append((path, sec, sent, None, sent))
            else:
                continue
            templates[raw[-1][4]] = templates.get(raw[-1][4], 0) + 1
    seen_first: set[tuple[str, ...]] = set()
    for path, sec, sent, fig, tpl in raw:
        if templates[tpl] > 1:
            continue  # the same wording in two articles: cannot tell which one
        if fig is None:
            if path in seen_first:
                continue  # one "which article" sentence per article is enough
            seen_first.add(path)

        def build(rng, path=path, sec=sec, sent=sent, fig=fig):
            short = short_title(doc.title)
            src = sec.text.strip()
            if fig is not None:
                if fig.unit == "元" and fig.text + "的罚款" in sent:
                    ask = sent.replace(fig.text + "的", "多少", 1)
                else:
                    ask = sent.replace(fig.text, question_word(fig), 1)
                ask = ask.rstrip("。；;，,") + "？"
                q = f"《{short}》规定：{ask}出自哪一条？"
                return _q(ctx, "which_article", doc, path, q, f"{fig.text}，{sec.label}", src, sent,
                          f"{sec.label}：「{sent}」", {"figure": fig.text, "article": sec.label})
            i = labels.index(sec.label)
            near = [x for x in labels[max(0, i - 6): i + 7] if x != sec.label]
            if len(near) < 3:
                return None
            choices = sorted([sec.label, *rng.sample(near, 3)], key=ex.article_number)
            q = f"下面这句话出自《{short}》哪一条？\n「{sent}」"
            return _q(ctx, "which_article", doc, path, q, sec.label, src, sent, f"出自{sec.label}：「{sent}」",
                      {"article": sec.label}, choices)

        out.append(_Candidate("which_article", doc, path, f"{'/'.join(path)}:{sent[:20]}", build,
                              0 if fig is not None else 1))
    return out


# --------------------------------------------------------------------------- true_false


def _perturbations(sent: str, chinese: bool) -> list[tuple[str, object]]:
    opts: list[tuple[str, object]] = [("figure", f) for f in find_figures(sent, chinese=chinese) if f.kind != "date"]
    for a, b in SWAPS:
        if a in sent and not (a in ("以上", "以下") and "以上" in sent and "以下" in sent):
            opts.append(("swap", (a, b)))
    return opts


def _true_false(ctx: _Ctx, doc: Document) -> list[_Candidate]:
    out = []
    chinese = not ex.is_work_points(doc)
    for path, sec in doc.root.walk():
        if sec.kind in ("preamble", "attachment_list", "attachment_item") or not sec.text:
            continue
        for sent in ex.unit_sentences(sec):
            if not ex.usable_sentence(sent, 12, 90) or not _perturbations(sent, chinese):
                continue

            def build(rng, path=path, sec=sec, sent=sent):
                truth = rng.random() < 0.5
                statement, change = sent, None
                if not truth:
                    kind, what = rng.choice(_perturbations(sent, chinese))
                    if kind == "figure":
                        changed = perturb_figure(sent, what, rng)
                        if changed is None:
                            return None
                        new = changed[what.start: len(changed) - (len(sent) - what.end)]
                        statement, change = changed, (what.text, new)
                    else:
                        a, b = what
                        statement, change = sent.replace(a, b, 1), (a, b)
                q = f"判断对错：根据《{short_title(doc.title)}》，{statement}"
                where = ex.breadcrumb(doc, path)
                if truth:
                    expl = f"这句话与原文一致。原文（{where}）：「{sent}」"
                else:
                    expl = f"这句话被改动过：原文（{where}）是「{sent}」，题目把「{change[0]}」改成了「{change[1]}」。"
                return _q(ctx, "true_false", doc, path, q, TRUE if truth else FALSE, sec.text.strip(), sent, expl,
                          {"truth": truth, "original": sent, "change": list(change) if change else []},
                          [TRUE, FALSE])

            out.append(_Candidate("true_false", doc, path, f"{'/'.join(path)}:{sent[:24]}", build))
    return out


BUILDERS = {"fill_figure": _fill_figure, "missing_item": _missing_item, "which_article": _which_article,
            "true_false": _true_false}
