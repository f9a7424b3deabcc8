"""Hybrid retrieval over the Milvus store (``store = "milvus"``, index/milvus_store.py).

Milvus finds the candidates — dense inner product and its own BM25 over the jieba-analysed text, each
with the metadata filter (document, type, ``status == "active"``, excluded chunks) applied inside
Milvus — and the fusion is the project's own (``HybridRetriever``: RRF + score sum + phrase + article
and title bonuses), so both stores rank alike. ``fusion = "rrf"`` instead asks Milvus for one
``hybrid_search`` with its ``RRFRanker`` (plain RRF, as a Milvus deployment would do it alone).

The chunk records are read once at load (the answer path needs ``chunks``); vectors stay in Milvus
and are fetched for the fused candidates only.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

from policy_assistant.corpus.model import Chunk
from policy_assistant.index import milvus_store as ms
from policy_assistant.index.embedders import Embedder, embedder_name, make_embedder
from policy_assistant.retrieval.search import HybridRetriever, index_tokenizer_factory
from policy_assistant.retrieval.types import Hit

ACTIVE = 'status == "active"'


class MilvusRetriever(HybridRetriever):
    """:class:`HybridRetriever` whose candidate lists and scores come from Milvus."""

    fusion = "project"  # "project" (HybridRetriever's fusion) | "rrf" (Milvus hybrid_search + RRFRanker)

    @classmethod
    def load(cls, settings, *, embedder: Embedder | None = None,
             tokenizer_factory: Callable | None = None) -> MilvusRetriever:
        """Read the manifest and the chunk records from Milvus; check the embedder (name, dimension)."""
        from policy_assistant.index.store import check_embedder

        client = ms.connect(settings)
        name = settings.milvus_collection
        parts = ms.read_manifest(client, name)
        manifest = dict(parts["manifest"], sources=parts["sources"])
        if embedder is None:
            spec_name = embedder_name(settings.embedder)
            if spec_name:
                check_embedder(manifest, spec_name, None, settings.milvus_uri)
            embedder = make_embedder(settings)
        check_embedder(manifest, embedder.name, embedder.dim, settings.milvus_uri)
        client.load_collection(name)
        docs = sorted(parts["documents"].values(), key=lambda d: d.get("order", 0))
        order = {d["doc_id"]: i for i, d in enumerate(docs)}
        rows = ms.query_all(client, name, ["chunk_id", "doc_id", "position", "data"], ACTIVE)
        rows.sort(key=lambda r: (order.get(r["doc_id"], len(order)), r["position"], r["chunk_id"]))
        chunks = [Chunk.from_dict(json.loads(r["data"])) for r in rows]
        factory = tokenizer_factory or index_tokenizer_factory(manifest)
        r = cls(chunks=chunks, documents=docs, manifest=manifest, faiss_index=None, vectors=None, bm25=None,
                embedder=embedder, tokenize=factory(parts["domain_terms"]), candidate_k=settings.candidate_k,
                rrf_k=settings.rrf_k, top_k=settings.top_k, dense_weight=settings.dense_weight,
                bm25_weight=settings.bm25_weight, path=None)
        r._client, r._name = client, name
        return r

    def unit_vectors(self, chunk: Chunk, texts: list[str]) -> np.ndarray | None:
        """Milvus holds no evidence-unit vectors: the answer path embeds the units itself."""
        return None

    # ---- Milvus expressions --------------------------------------------------------------------

    def _filter(self, mask: np.ndarray | None, rows: np.ndarray | None = None) -> str:
        """``mask`` (rows allowed) as a Milvus filter: documents, minus excluded chunks, active rows only;
        ``rows`` further limits the search to those rows."""
        parts = [ACTIVE]
        if mask is not None:
            docs = sorted(set(self._doc_ids[mask]))
            parts.append(f"doc_id in {ms.quote_list(docs)}")
            out = np.flatnonzero(np.isin(self._doc_ids, docs) & ~mask)
            if len(out):
                parts.append(f"chunk_id not in {ms.quote_list(self.chunks[i].chunk_id for i in out)}")
        if rows is not None:
            parts.append(f"chunk_id in {ms.quote_list(self.chunks[int(i)].chunk_id for i in rows)}")
        return " and ".join(parts)

    def _hits(self, result) -> tuple[np.ndarray, np.ndarray]:
        pairs = [(self._row[h["chunk_id"]], float(h["distance"])) for h in (result[0] if result else [])
                 if h["chunk_id"] in self._row]
        ids = np.array([p[0] for p in pairs], dtype=np.int64)
        return ids, np.array([p[1] for p in pairs], dtype=np.float32)

    def _search_dense(self, qvec: np.ndarray, n: int, expr: str) -> tuple[np.ndarray, np.ndarray]:
        res = self._client.search(self._name, data=[np.asarray(qvec, dtype=np.float32).tolist()],
                                  anns_field="dense", limit=n, filter=expr, output_fields=["chunk_id"],
                                  search_params={"metric_type": "IP"})
        return self._hits(res)

    def _search_bm25(self, text: str, n: int, expr: str) -> tuple[np.ndarray, np.ndarray]:
        res = self._client.search(self._name, data=[text], anns_field="sparse", limit=n, filter=expr,
                                  output_fields=["chunk_id"], search_params={"metric_type": "BM25"})
        ids, dist = self._hits(res)
        return ids, np.abs(dist)  # Milvus Lite reports -score as a distance, Milvus the score itself

    # ---- HybridRetriever hooks -----------------------------------------------------------------

    def _dense_candidates(self, qvec, n, mask):
        return self._search_dense(qvec, n, self._filter(mask))

    def _bm25_candidates(self, query, n, mask):
        if not self.tokenize(query):  # nothing to match (e.g. an English question): no BM25 list
            return np.zeros(0, dtype=np.int64), None
        ids, scores = self._search_bm25(query, n, self._filter(mask))
        return ids, {"query": query, "scores": dict(zip(ids.tolist(), scores.tolist(), strict=True))}

    def _dense_scores(self, cand, qvec):
        got = self._client.get(self._name, ids=[self.chunks[int(i)].chunk_id for i in cand],
                               output_fields=["dense"])
        vec = {self._row[g["chunk_id"]]: g["dense"] for g in got}
        mat = np.array([vec[int(i)] for i in cand], dtype=np.float32)
        return mat @ np.asarray(qvec, dtype=np.float32)

    def _bm25_scores(self, cand, bm25_all):
        known = bm25_all["scores"]
        missing = [int(i) for i in cand if int(i) not in known]
        if missing:  # candidates of the dense list: their BM25 score, 0 when no term matches
            ids, scores = self._search_bm25(bm25_all["query"], len(missing), self._filter(None, missing))
            known = {**known, **dict(zip(ids.tolist(), scores.tolist(), strict=True))}
        return np.array([known.get(int(i), 0.0) for i in cand], dtype=np.float32)

    def search(self, query: str, k: int | None = None, doc_ids=None, doc_types=None, mode: str = "hybrid", *,
               qvec: np.ndarray | None = None, exclude=None) -> list[Hit]:
        """As :meth:`HybridRetriever.search`; with ``fusion = "rrf"`` hybrid mode is Milvus' own RRF."""
        if self.fusion != "rrf" or mode != "hybrid":
            return super().search(query, k, doc_ids, doc_types, mode, qvec=qvec, exclude=exclude)
        return self._milvus_rrf(query, k, doc_ids, doc_types, qvec, exclude)

    def _milvus_rrf(self, query, k, doc_ids, doc_types, qvec, exclude) -> list[Hit]:
        from pymilvus import AnnSearchRequest, RRFRanker

        from policy_assistant.corpus.text import normalize_query
        from policy_assistant.retrieval.expand import expand_bm25_query

        q = normalize_query(query or "")
        k = int(k or self.top_k)
        mask = self._mask(doc_ids, doc_types)
        if exclude:
            mask = np.ones(len(self.chunks), dtype=bool) if mask is None else mask.copy()
            mask[[self._row[c] for c in exclude if c in self._row]] = False
        expr = self._filter(mask)
        if qvec is None:
            qvec = self.embedder.embed_queries([q])[0]
        n = max(self.candidate_k, k)
        reqs = [AnnSearchRequest(data=[np.asarray(qvec, dtype=np.float32).tolist()], anns_field="dense",
                                 param={"metric_type": "IP"}, limit=n, expr=expr)]
        bq = expand_bm25_query(q, self.vocabulary) if self.expand else q
        if self.tokenize(bq):
            reqs.append(AnnSearchRequest(data=[bq], anns_field="sparse", param={"metric_type": "BM25"}, limit=n,
                                         expr=expr))
        res = self._client.hybrid_search(self._name, reqs, RRFRanker(self.rrf_k), limit=k,
                                         output_fields=["chunk_id"])
        ids, scores = self._hits(res)
        return [Hit(chunk=self.chunks[int(i)], score=float(s), rank=r)
                for r, (i, s) in enumerate(zip(ids, scores, strict=True), 1)]
