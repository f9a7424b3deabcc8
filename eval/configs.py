"""The configurations the eval suite runs side by side on the same gold set.

A configuration = a chunking (the project's structure-aware chunks, or the baseline's recursive
character chunks), a retrieval mode over that index, a cap on the passages the answerer sees, and
an answerer. Configurations that share a chunking share one cached index (see ``eval/indexes.py``):
the retrieval mode is a query-time choice.

| name               | chunks     | retrieval                              | answerer   |
|--------------------|------------|----------------------------------------|------------|
| default            | structure  | hybrid: dense + BM25, RRF              | extractive |
| bm25               | structure  | BM25 only (jieba + domain terms)       | extractive |
| dense              | structure  | dense only (same embedder)             | extractive |
| no-fusion          | structure  | dense + BM25, min-max score sum (no RRF)| extractive |
| no-structure       | recursive  | hybrid: dense + BM25, RRF              | extractive |
| baseline-recursive | recursive  | dense only, top-3, no title scoping    | extractive |
| llm                | structure  | hybrid                                 | LLM        |

``llm`` is offered only when ``settings.llm_base_url`` is set (or ``settings.answerer == "llm"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policy_assistant.core.errors import ConfigError
from policy_assistant.retrieval.types import Hit

STRUCTURE = "structure"
RECURSIVE = "recursive"


@dataclass(frozen=True)
class EvalConfig:
    name: str
    description: str
    chunking: str = STRUCTURE          # STRUCTURE | RECURSIVE
    mode: str = "hybrid"               # hybrid | dense | bm25 | sum
    max_k: int | None = None           # passages handed to the answerer (None = the answerer's own k)
    answerer: str = "extractive"       # extractive | llm
    title_scoping: bool = True         # restrict retrieval to a document named in the question
    baseline: bool = True              # the default pipeline must beat it

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "chunking": self.chunking,
                "mode": self.mode, "max_k": self.max_k, "answerer": self.answerer,
                "title_scoping": self.title_scoping}


DEFAULT = "default"

CONFIGS: dict[str, EvalConfig] = {c.name: c for c in (
    EvalConfig(DEFAULT, "this project's pipeline: structure chunks, dense + BM25 with RRF, extractive answers",
               baseline=False),
    EvalConfig("bm25", "BM25 only (jieba + domain dictionary) over the structure chunks", mode="bm25"),
    EvalConfig("dense", "dense only (same embedder) over the structure chunks", mode="dense"),
    EvalConfig("no-fusion", "structure chunks, dense + BM25 combined by a min-max score sum instead of RRF",
               mode="sum"),
    EvalConfig("baseline-recursive", "common Chinese RAG default: recursive 250/50 character chunks, "
               "dense only, top-3", chunking=RECURSIVE, mode="dense", max_k=3, title_scoping=False),
    EvalConfig("no-structure", "structure-aware chunking off: recursive 250/50 chunks, dense + BM25 with RRF",
               chunking=RECURSIVE),
    EvalConfig("llm", "default retrieval with the LLM answerer (only when one is configured)",
               answerer="llm", baseline=False),
)}


def llm_configured(settings) -> bool:
    return bool(getattr(settings, "llm_base_url", "")) or getattr(settings, "answerer", "") == "llm"


def available_configs(settings) -> list[str]:
    """Names run by default: every configuration, ``llm`` only when an LLM is configured."""
    return [n for n in CONFIGS if n != "llm" or llm_configured(settings)]


def select_configs(names: list[str] | None, settings) -> list[EvalConfig]:
    """The configurations named (in the given order), or all available ones. Raises ConfigError."""
    if not names:
        return [CONFIGS[n] for n in available_configs(settings)]
    out: list[EvalConfig] = []
    for raw in names:
        for name in (p.strip() for p in raw.split(",")):
            if not name:
                continue
            if name not in CONFIGS:
                raise ConfigError(f"unknown eval configuration {name!r}", f"use one of: {', '.join(CONFIGS)}")
            if name == "llm" and not llm_configured(settings):
                raise ConfigError("the llm configuration needs an LLM endpoint",
                                  "set llm_base_url and llm_model in policy-assistant.toml")
            if CONFIGS[name] not in out:
                out.append(CONFIGS[name])
    return out


# --------------------------------------------------------------------------------------------------
# Retriever wrappers: the Assistant always asks for mode="hybrid"; these pin the configuration's mode.


class ConfiguredRetriever:
    """Wraps a retriever (``HybridRetriever``): forces the configuration's mode, caps ``k`` and
    optionally ignores document scoping. Everything else (``chunks``, ``embedder`` …) is forwarded."""

    def __init__(self, base, config: EvalConfig, *, candidate_k: int = 30,
                 dense_weight: float = 1.0, bm25_weight: float = 1.0):
        self.base = base
        self.config = config
        self.candidate_k = candidate_k
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight

    def __getattr__(self, name):
        return getattr(self.base, name)

    def search(self, query, k=None, doc_ids=None, doc_types=None, mode="hybrid", uncapped=False, *,
               qvec=None, exclude=None) -> list[Hit]:
        """``mode`` is ignored (the configuration's mode applies); ``uncapped`` skips ``max_k`` (for
        measuring the ranking to depth 10)."""
        cfg = self.config
        k = int(k or getattr(self.base, "top_k", 5) or 5)
        if cfg.max_k and not uncapped:
            k = min(k, cfg.max_k)
        if not cfg.title_scoping:
            doc_ids = None
        if cfg.mode == "sum":
            return self._score_sum(query, k, doc_ids, doc_types, qvec, exclude)
        return self.base.search(query, k=k, doc_ids=doc_ids, doc_types=doc_types, mode=cfg.mode, qvec=qvec,
                                exclude=exclude)

    def _score_sum(self, query, k, doc_ids, doc_types, qvec=None, exclude=None) -> list[Hit]:
        """Fuse by ``w_d·minmax(cosine) + w_b·minmax(bm25)`` over the union of the same two candidate
        lists RRF uses (top ``candidate_k`` of each); a score missing from one list counts as that list's
        minimum."""
        n = max(self.candidate_k, k)
        dense = self.base.search(query, k=n, doc_ids=doc_ids, doc_types=doc_types, mode="dense", qvec=qvec,
                                 exclude=exclude)
        bm25 = self.base.search(query, k=n, doc_ids=doc_ids, doc_types=doc_types, mode="bm25", exclude=exclude)
        d_by = {h.chunk.chunk_id: h for h in dense}
        b_by = {h.chunk.chunk_id: h for h in bm25}
        ids = list(dict.fromkeys([*d_by, *b_by]))
        if not ids:
            return []
        d_scores = [d_by[i].score if i in d_by else None for i in ids]
        b_scores = [b_by[i].score if i in b_by else None for i in ids]
        fused = self.dense_weight * _minmax(d_scores) + self.bm25_weight * _minmax(b_scores)
        order = sorted(range(len(ids)), key=lambda j: (-fused[j], -(d_scores[j] or 0.0)))[:k]
        out = []
        for rank, j in enumerate(order, 1):
            cid = ids[j]
            h = d_by.get(cid) or b_by[cid]
            out.append(Hit(chunk=h.chunk, score=float(fused[j]), rank=rank, dense_score=d_scores[j],
                           dense_rank=d_by[cid].rank if cid in d_by else None, bm25_score=b_scores[j],
                           bm25_rank=b_by[cid].rank if cid in b_by else None))
        return out


def _minmax(values: list[float | None]) -> np.ndarray:
    """Min-max scale to 0..1 (missing scores count as the minimum; a constant list scales to 0)."""
    present = [v for v in values if v is not None]
    if not present:
        return np.zeros(len(values))
    lo, hi = min(present), max(present)
    arr = np.array([lo if v is None else v for v in values], dtype=float)
    return (arr - lo) / (hi - lo) if hi > lo else np.zeros(len(values))
