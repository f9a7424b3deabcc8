"""Self-check quizzes generated from the documents' structure and text — deterministic, no LLM.

Four question types, each citing its source (document, breadcrumb, passage, chunk id):

* ``fill_figure``   — a figure blanked out of the work points (the six targets first):
  "细颗粒物(PM2.5)年均浓度控制在___以下" → ``39ug/m3``
* ``missing_item``  — one entry missing from a list (七大示范工程, 八大攻坚行动, 四个清单, a law's
  enumeration); four choices
* ``which_article`` — a rule from a law: state the figure and the article ("排污许可证有效期为几年？出自哪一条？"
  → ``5年，第十四条``), or pick the article a quoted sentence comes from
* ``true_false``    — a sentence as written, or a copy with one change (a number, 应当↔可以, 以上↔以下 …)

``generate_quiz(corpus, n, seed)`` always returns the same quiz for the same corpus and seed.
"""

from __future__ import annotations

import random
import re
import weakref
from collections.abc import Sequence

from policy_assistant.corpus.model import BREADCRUMB_SEP, Document
from policy_assistant.corpus.text import CN_NUMERALS
from policy_assistant.training.builders import BUILDERS, _Candidate, _Ctx
from policy_assistant.training.check import CheckResult, check_answer, norm_text
from policy_assistant.training.model import TYPE_LABELS, TYPES, QuizError, QuizQuestion

__all__ = ["TYPES", "TYPE_LABELS", "QuizQuestion", "QuizError", "CheckResult", "check_answer", "generate_quiz",
           "section_matches"]


# --------------------------------------------------------------------------- scope and selection


def section_matches(doc: Document, path: Sequence[str], query: str, exact: bool) -> bool:
    """Is ``path`` inside the section named by ``query`` (a heading, a label, or part of the breadcrumb)?"""
    q = norm_text(query)
    if exact:
        return any(q == norm_text(h) or q == norm_text(_label_of(h)) for h in path)
    return q in norm_text(BREADCRUMB_SEP.join((doc.title, *path)))


def _label_of(heading: str) -> str:
    m = re.match(rf"^(第[{CN_NUMERALS}]+[编章节条]|附件\d*|[（(][一二三四五六七八九十]+[）)]|"
                 r"[一二三四五六七八九十]+、|\d+[.．])", heading)
    return m.group(1) if m else heading


def _has_exact_heading(docs: Sequence[Document], query: str) -> bool:
    q = norm_text(query)
    for d in docs:
        for _p, s in d.root.walk():
            if q in (norm_text(s.heading), norm_text(_label_of(s.heading))):
                return True
    return False


def _interleave(cands: list[_Candidate], rng: random.Random) -> list[_Candidate]:
    """Shuffle, keep priorities inside each document, then alternate between documents."""
    by_doc: dict[str, list[_Candidate]] = {}
    for c in cands:
        by_doc.setdefault(c.doc.doc_id, []).append(c)
    order = sorted(by_doc)
    rng.shuffle(order)
    queues = []
    for doc_id in order:
        lst = by_doc[doc_id]
        rng.shuffle(lst)
        lst.sort(key=lambda c: c.priority)
        queues.append(lst)
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


_CONTEXTS: dict[int, tuple[weakref.ref, _Ctx, dict]] = {}


def _context(corpus_result) -> tuple[_Ctx, dict]:
    """The lookup context and candidate cache of a corpus, built once per corpus object."""
    key = id(corpus_result)
    hit = _CONTEXTS.get(key)
    if hit is not None and hit[0]() is corpus_result:
        return hit[1], hit[2]
    ctx = _Ctx(corpus_result)
    try:
        ref = weakref.ref(corpus_result, lambda _r, key=key: _CONTEXTS.pop(key, None))
    except TypeError:  # not weak-referenceable: do not cache
        return ctx, {}
    _CONTEXTS[key] = (ref, ctx, {})
    return ctx, _CONTEXTS[key][2]


def _candidates(ctx: _Ctx, cache: dict, type_: str, doc: Document) -> list[_Candidate]:
    key = (type_, doc.doc_id)
    if key not in cache:
        cache[key] = BUILDERS[type_](ctx, doc)
    return list(cache[key])


def generate_quiz(corpus_result, n: int = 20, seed: int = 7, doc: str | None = None, section: str | None = None,
                  types: Sequence[str] | None = None) -> list[QuizQuestion]:
    """``n`` questions (fewer if the scope holds fewer), the same for the same corpus, scope and seed.

    ``doc`` is a title, id or unique part of one; ``section`` a heading, label or part of the breadcrumb
    (``二、主要目标``, ``附件1``, ``第二章``). Raises :class:`QuizError` when nothing can be asked.
    """
    if n <= 0:
        return []
    types = [t for t in (types or TYPES) if t in BUILDERS]
    docs = [corpus_result.find_document(doc)] if doc else list(corpus_result.documents)
    ctx, cache = _context(corpus_result)
    exact = bool(section) and _has_exact_heading(docs, section)
    rng = random.Random(seed)
    pools: dict[str, list[_Candidate]] = {}
    for t in types:
        cands = [c for d in docs for c in _candidates(ctx, cache, t, d)
                 if not section or section_matches(d, c.path, section, exact)]
        if cands:
            pools[t] = _interleave(cands, rng)
    if not pools:
        where = "、".join(x for x in (doc, section) if x) or "the corpus"
        raise QuizError(f"no quiz question can be made from {where}",
                        "choose a larger scope (a whole document, or no --section)")
    order = sorted(pools)
    rng.shuffle(order)
    out: list[QuizQuestion] = []
    seen: set[str] = set()
    used: set[tuple] = set()
    deferred: dict[str, list[_Candidate]] = {t: [] for t in order}

    def take(t: str) -> bool:
        pool, later = pools[t], deferred[t]
        while pool or later:
            from_pool = bool(pool) and not (later and later[0].priority < pool[0].priority)
            c = pool.pop(0) if from_pool else later.pop(0)
            spot = (t, c.doc.doc_id, c.path)
            if from_pool and spot in used:
                later.append(c)  # one question per section first; come back when the scope runs short
                continue
            q = c.build(random.Random(f"{seed}:{t}:{c.doc.doc_id}:{c.ident}"))
            if q is None or norm_text(q.question) in seen:
                continue
            seen.add(norm_text(q.question))
            used.add(spot)
            out.append(q)
            return True
        return False

    active = list(order)
    while len(out) < n and active:
        for t in list(active):
            if len(out) >= n:
                break
            if not take(t):
                active.remove(t)
    return out

