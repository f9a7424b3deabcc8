"""Hybrid retrieval: dense (FAISS inner product) + BM25 (jieba tokens), fused at query time.

Fusion of the dense, BM25 and best-sentence candidate lists (``settings.candidate_k`` each; the third
ranks chunks by their closest stored sentence vector, when the index has them):

    score = Σ weight_list / (rrf_k + rank_in_list)                      (reciprocal-rank fusion)
          + sum_weight    · (minmax(cosine) + minmax(bm25)) / (rrf_k + 1)  (score sum over the union)
          + phrase_weight · longest verbatim query run in the chunk / query length / (rrf_k + 1)
          + a bonus for chunks labelled with a 第X条 the query cites, and for chunks of a document
            the query names (only when the caller did not scope ``doc_ids``)

RRF alone ranks a passage that only one list found too low; the min-max score sum alone is worse at
rank 1; the sum of both beats either on the gold set. The phrase term applies to BM25 matches only.
A list contributes only chunks it actually matched: BM25 chunks with score 0 are not candidates, so
a question with no Chinese term in the BM25 vocabulary is ranked by the dense list alone instead of
being padded with arbitrary zero-score chunks. The BM25 query is expanded with document vocabulary
for everyday and English words (``retrieval/expand.py``); the dense query is the question as asked.
With two or more documents asked for (``doc_ids`` or titles named in the question) their best
passages are interleaved, so each named document contributes.

Every returned :class:`~retrieval.types.Hit` carries both raw scores (the cosine similarity and the
BM25 score are computed for every fused candidate); ``dense_rank`` / ``bm25_rank`` are set only when
the chunk was in that retriever's candidate list.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path

import faiss
import numpy as np

from policy_assistant.core.errors import CorpusError, QuestionError
from policy_assistant.corpus.model import DOC_TYPES, Chunk
from policy_assistant.corpus.registry import ACTIVE, DISABLED, SUPERSEDED
from policy_assistant.corpus.vocabulary import Vocabulary, load_vocabulary
from policy_assistant.index.bm25 import bm25_scores, load_bm25
from policy_assistant.index.embedders import Embedder, make_embedder
from policy_assistant.index.milvus_store import store_kind
from policy_assistant.retrieval.expand import (
    article_labels,
    expand_bm25_query,
    longest_common_run,
    named_doc_ids,
)
from policy_assistant.retrieval.types import Hit

MODES = ("hybrid", "dense", "bm25")
DEFAULT_STATUSES = (ACTIVE,)  # superseded (已废止/旧版) and disabled documents only on request
SEARCHABLE_STATUSES = (ACTIVE, SUPERSEDED, DISABLED)


UNIT_WEIGHT = 1.0  # RRF weight of the best-sentence list (hybrid mode); chosen on the dev sets with
                   # benchmarks/bench_unit_weight.py (numbers in docs/index.md)


class HybridRetriever:
    """Loaded index + embedder + tokenizer. Build with :meth:`load`; thread-safe for searching."""

    def __init__(self, *, chunks: list[Chunk], documents: list[dict], manifest: dict, faiss_index,
                 vectors: np.ndarray, bm25, embedder: Embedder, tokenize: Callable[[str], list[str]],
                 candidate_k: int = 30, rrf_k: int = 60, top_k: int = 5,
                 dense_weight: float = 1.0, bm25_weight: float = 1.0, path: Path | None = None,
                 vocabulary: Vocabulary | None = None, units: np.ndarray | None = None,
                 unit_offsets: np.ndarray | None = None):
        self._chunks = chunks  # every chunk of the index; row i of the FAISS index and BM25
        self.all_documents = documents
        self._status_of = {d.get("doc_id"): d.get("status", ACTIVE) for d in documents}
        self.manifest = manifest
        self.embedder = embedder
        self.tokenize = tokenize
        self.candidate_k = candidate_k
        self.rrf_k = rrf_k
        self.top_k = top_k
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.path = path
        self.vocabulary = vocabulary if vocabulary is not None else load_vocabulary()
        # query-time refinements (see retrieval/expand.py); attributes so experiments can switch them
        self.expand = True            # BM25 query expansion (everyday / English words → document terms)
        self.sum_weight = 1.5         # + weight · min-max score sum (hybrid of RRF and score fusion)
        self.phrase_weight = 0.5      # + weight · longest verbatim query run in the chunk
        self.phrase_min = 5
        self.phrase_max = 60          # longer queries (everyday messages) get no phrase term
        self.article_boost = True     # chunks labelled with a 第X条 the query cites
        self.article_bonus = 1.0 / (rrf_k + 1)
        self.title_boost = True       # chunks of a document the query names (when not scoped)
        self.title_bonus = 1.0 / (rrf_k + 1)
        self.interleave = True        # two or more documents: their best passages in turn
        # a third ranked list: chunks by their best sentence's cosine (the stored sentence vectors); a long
        # everyday message is closer to one sentence than to a whole article
        self.unit_weight = UNIT_WEIGHT
        self._faiss = faiss_index
        self._vectors = vectors
        self._bm25_model = bm25
        self._doc_ids = np.array([c.doc_id for c in chunks], dtype=object)
        self._doc_types = np.array([c.doc_type for c in chunks], dtype=object)
        self._row = {c.chunk_id: i for i, c in enumerate(chunks)}
        self._units = units
        self._unit_offsets = unit_offsets
        self._units32 = None if units is None else np.ascontiguousarray(units, dtype=np.float32)
        # chunks with at least one sentence and where their rows start (np.maximum.reduceat per chunk)
        self._unit_chunks = None if unit_offsets is None else np.flatnonzero(np.diff(unit_offsets) > 0)
        self._set_statuses(DEFAULT_STATUSES)

    # ---- document status (文件管理: superseded and disabled documents) ------------------------------

    def _set_statuses(self, statuses: Iterable[str]) -> None:
        self.statuses = tuple(dict.fromkeys(statuses))
        wanted = set(self.statuses)
        excluded = {doc_id for doc_id, st in self._status_of.items() if st not in wanted}
        #: the chunks and documents in scope (what answerers may read and cite)
        self.chunks = [c for c in self._chunks if c.doc_id not in excluded] if excluded else list(self._chunks)
        self.documents = [d for d in self.all_documents if d.get("status", ACTIVE) in wanted]

    def scoped(self, statuses: Iterable[str] | None = None, *, include_superseded: bool = False) -> HybridRetriever:
        """This retriever (sharing the loaded index) restricted to documents with these statuses —
        ``("active",)`` by default, plus superseded ones with ``include_superseded``. Its ``chunks`` and
        ``documents`` are the documents in scope, so an answerer built on it never reads the others."""
        view = copy.copy(self)
        view._set_statuses(_statuses(statuses, include_superseded))
        return view

    def status_of(self, doc_id: str) -> str:
        """``active`` / ``superseded`` / ``disabled`` of a document of the index."""
        return self._status_of.get(doc_id, ACTIVE)

    @classmethod
    def load(cls, settings, *, embedder: Embedder | None = None,
             tokenizer_factory: Callable | None = None) -> HybridRetriever:
        """Load ``settings.index_dir``; raises IndexMissingError / IndexMismatchError / IndexCorruptError.

        The configured embedder must be the one the index was built with (name and dimension).
        ``store = "milvus"`` loads a :class:`~retrieval.milvus_search.MilvusRetriever` instead.
        """
        if cls is HybridRetriever and store_kind(settings) == "milvus":
            from policy_assistant.retrieval.milvus_search import MilvusRetriever

            return MilvusRetriever.load(settings, embedder=embedder, tokenizer_factory=tokenizer_factory)
        from policy_assistant.index.embedders import embedder_name
        from policy_assistant.index.store import check_embedder, load_version, read_current, read_manifest

        index_dir = Path(settings.index_dir)
        if embedder is None:
            manifest = read_manifest(index_dir)
            name = embedder_name(settings.embedder)
            if name:  # cheap name check before loading a model or reaching a service
                check_embedder(manifest, name, None, index_dir)
            embedder = make_embedder(settings)

        def load_parts(version_dir: Path):
            stored = load_version(version_dir, embedder.name, embedder.dim)
            return stored, load_bm25(stored.bm25_dir)

        stored, bm25 = read_current(index_dir, load_parts)
        if tokenizer_factory is None:
            tokenizer_factory = index_tokenizer_factory(stored.manifest)
        return cls(chunks=stored.chunks, documents=stored.documents, manifest=stored.manifest,
                   faiss_index=stored.faiss_index, vectors=stored.vectors, bm25=bm25, embedder=embedder,
                   tokenize=tokenizer_factory(stored.domain_terms),
                   candidate_k=settings.candidate_k, rrf_k=settings.rrf_k, top_k=settings.top_k,
                   dense_weight=settings.dense_weight, bm25_weight=settings.bm25_weight, path=index_dir,
                   vocabulary=load_vocabulary(getattr(settings, "vocabulary", "") or None),
                   units=stored.units, unit_offsets=stored.unit_offsets)

    def unit_vectors(self, chunk: Chunk, texts: list[str]) -> np.ndarray | None:
        """The stored vectors of ``chunk``'s evidence units (``texts`` as split by corpus.text.split_units),
        or None when the index has none or the split differs."""
        if self._units is None:
            return None
        i = self._row.get(chunk.chunk_id)
        if i is None:
            return None
        a, b = int(self._unit_offsets[i]), int(self._unit_offsets[i + 1])
        if b - a != len(texts):
            return None
        return self._units32[a:b]

    # ---- filters -------------------------------------------------------------------------------

    def resolve_doc(self, query: str) -> str:
        """The doc_id of the document whose id, title or file equals or uniquely contains ``query``."""
        q = query.strip()
        for d in self.documents + self.all_documents:
            if q in (d["doc_id"], d["title"], d["file"]):
                return d["doc_id"]
        matches = [d for d in self.documents if q and (q in d["title"] or q in d["file"])]
        matches = matches or [d for d in self.all_documents if q and (q in d["title"] or q in d["file"])]
        if len(matches) == 1:
            return matches[0]["doc_id"]
        if not matches:
            raise CorpusError(f"no document matches {query!r}",
                              "use a title or a unique part of one; `policy-assistant index info` lists them")
        raise CorpusError(f"{query!r} matches {len(matches)} documents: "
                          + ", ".join(d["title"] for d in matches), "use a longer part of the title")

    def _mask(self, doc_ids: Iterable[str] | None, doc_types: Iterable[str] | None,
              statuses: tuple[str, ...] | None = None) -> np.ndarray | None:
        mask = None
        excluded = [d for d, st in self._status_of.items() if statuses is not None and st not in statuses]
        if excluded:
            mask = ~np.isin(self._doc_ids, excluded)
        if doc_ids:
            wanted = {self.resolve_doc(d) for d in doc_ids}
            for doc_id in wanted:
                if statuses is not None and self.status_of(doc_id) not in statuses:
                    raise self._out_of_scope(doc_id)
            dmask = np.isin(self._doc_ids, list(wanted))
            mask = dmask if mask is None else (mask & dmask)
        if doc_types:
            types = set(doc_types)
            unknown = types - set(DOC_TYPES)
            if unknown:
                raise CorpusError(f"unknown document type(s): {', '.join(sorted(unknown))}",
                                  f"use one of: {', '.join(DOC_TYPES)}")
            tmask = np.isin(self._doc_types, list(types))
            mask = tmask if mask is None else (mask & tmask)
        return mask

    def _out_of_scope(self, doc_id: str) -> CorpusError:
        doc = next((d for d in self.all_documents if d.get("doc_id") == doc_id), {})
        status = self.status_of(doc_id)
        newer = doc.get("superseded_by")
        label = {"superseded": "已废止/旧版 (superseded" + (f" by {newer}" if newer else "") + ")",
                 "disabled": "已停用 (disabled)"}.get(status, status)
        return CorpusError(f"《{doc.get('title', doc_id)}》 is {label} and left out of answers",
                           "include superseded documents (include_superseded / 包含已废止/旧版文件) to search it"
                           if status == "superseded" else "enable it on the 文件管理 page to search it again")

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

    def _unit_candidates(self, qvec: np.ndarray | None, n: int, mask: np.ndarray | None) -> np.ndarray:
        """Rows of the ``n`` chunks whose best sentence is closest to the query (none without sentence
        vectors)."""
        if qvec is None or self._units32 is None or not self.unit_weight or not len(self._units32):
            return np.zeros(0, dtype=np.int64)
        best = np.full(len(self._chunks), -np.inf, dtype=np.float32)
        # einsum, not BLAS: one thread, no waiting for a second core a build may be using
        sims = np.einsum("ij,j->i", self._units32, np.asarray(qvec, dtype=np.float32))
        best[self._unit_chunks] = np.maximum.reduceat(sims, self._unit_offsets[self._unit_chunks])
        if mask is not None:
            best[~mask] = -np.inf
        ok = np.flatnonzero(np.isfinite(best))
        if len(ok) > n:
            ok = ok[np.argpartition(-best[ok], n - 1)[:n]]
        return ok[np.lexsort((ok, -best[ok]))]

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

    def _dense_scores(self, cand: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """Cosine of every candidate row (a store without vectors in memory fetches them)."""
        return self._vectors[cand] @ qvec

    def _bm25_scores(self, cand: np.ndarray, bm25_all) -> np.ndarray:
        """BM25 score of every candidate row; ``bm25_all`` is what :meth:`_bm25_candidates` returned."""
        return bm25_all[cand]

    def search(self, query: str, k: int | None = None, doc_ids: Iterable[str] | None = None,
               doc_types: Iterable[str] | None = None, mode: str = "hybrid", *,
               statuses: Iterable[str] | None = None, include_superseded: bool = False,
               qvec: np.ndarray | None = None, exclude: Iterable[str] | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (normalised: 繁→简, full-width→half-width, spaces).

        ``doc_ids`` (ids, titles or unique parts of titles) and ``doc_types`` restrict the search.
        Only documents whose status is in ``statuses`` are searched: by default this retriever's
        (``("active",)`` unless :meth:`scoped`), plus superseded ones with ``include_superseded``.
        ``mode``: ``"hybrid"`` (fusion of both), ``"dense"`` or ``"bm25"``. ``Hit.score`` is the fused
        score in hybrid mode, the cosine similarity in dense mode and the BM25 score in bm25 mode.
        ``qvec``: the query's vector when the caller embedded it already (several queries in one batch);
        ``exclude``: chunk ids never returned (e.g. a passage held out when generating training data).
        """
        from policy_assistant.corpus.text import check_question_text, normalize_query

        if mode not in MODES:
            raise QuestionError(f"unknown search mode {mode!r}", f"use one of: {', '.join(MODES)}")
        check_question_text(query or "")
        q = normalize_query(query or "")
        if not any(ch.isalnum() for ch in q):
            raise QuestionError("the question is empty", "type a question, e.g. 森林覆盖率的目标是多少？")
        k = int(k or self.top_k)
        if k <= 0 or not self._chunks:
            return []
        wanted = self.statuses if statuses is None and not include_superseded else \
            _statuses(statuses or self.statuses, include_superseded)
        mask = self._mask(doc_ids, doc_types, wanted)
        if exclude:
            rows = [self._row[c] for c in exclude if c in self._row]
            if rows:
                mask = np.ones(len(self._chunks), dtype=bool) if mask is None else mask.copy()
                mask[rows] = False
        if mask is not None and not mask.any():
            return []
        n_cand = min(max(self.candidate_k, k), len(self._chunks))

        dense_ids = np.zeros(0, dtype=np.int64)
        if mode in ("hybrid", "dense"):
            if qvec is None:
                qvec = self.embedder.embed_queries([q])[0]
            dense_ids, _ = self._dense_candidates(qvec, n_cand, mask)
        else:
            qvec = None
        bm25_ids, bm25_all = (np.zeros(0, dtype=np.int64), None)
        if mode in ("hybrid", "bm25"):
            bq = expand_bm25_query(q, self.vocabulary) if self.expand else q
            bm25_ids, bm25_all = self._bm25_candidates(bq, n_cand, mask)

        boosted: list[int] = []
        labels = article_labels(q) if mode == "hybrid" and self.article_boost else []
        if labels:
            boosted = [i for i in range(len(self._chunks))
                       if self._chunks[i].path and self._chunks[i].path[-1] in labels
                       and (mask is None or mask[i])]
        named: list[str] = []
        if mode == "hybrid" and self.title_boost and not doc_ids:
            named = named_doc_ids(q, self.documents, self.vocabulary)

        unit_ids = self._unit_candidates(qvec, n_cand, mask) if mode == "hybrid" else np.zeros(0, dtype=np.int64)
        dense_rank = {int(i): r for r, i in enumerate(dense_ids, 1)}
        bm25_rank = {int(i): r for r, i in enumerate(bm25_ids, 1)}
        unit_rank = {int(i): r for r, i in enumerate(unit_ids, 1)}
        candidates = list(dict.fromkeys([*dense_rank, *bm25_rank, *unit_rank, *boosted]))
        if not candidates:
            return []
        cand = np.array(candidates, dtype=np.int64)
        dense_scores = self._dense_scores(cand, qvec) if qvec is not None else None
        bm25_scores_c = self._bm25_scores(cand, bm25_all) if bm25_all is not None else None

        if mode == "dense":
            fused = dense_scores
        elif mode == "bm25":
            fused = bm25_scores_c
        else:
            fused = self._fuse(cand, dense_scores, dense_rank, bm25_scores_c, bm25_rank)
            if unit_rank:
                fused = fused + self.unit_weight * self._rrf(cand, unit_rank)
            if boosted:
                fused = fused + self.article_bonus * np.isin(cand, boosted)
            if self.phrase_weight and bm25_scores_c is not None:
                # phrase evidence refines lexical matches only: with an empty BM25 list the ranking
                # stays the dense one
                fused = fused + self.phrase_weight * self._phrase(q, cand) * (bm25_scores_c > 0)
            if named:
                fused = fused + self.title_bonus * np.isin(self._doc_ids[cand], named)
            local = self._place_docs(q) if mode == "hybrid" and self.title_boost and not doc_ids else []
            if local:
                fused = fused + self.title_bonus * np.isin(self._doc_ids[cand], local)
        tiebreak = dense_scores if dense_scores is not None else np.zeros(len(cand))
        order = np.lexsort((np.arange(len(cand)), -tiebreak, -fused))  # ties: dense order
        order = self._interleave(order, cand, doc_ids, named, mode)[:k]

        hits = []
        for rank, j in enumerate(order, 1):
            i = int(cand[j])
            hits.append(Hit(
                chunk=self._chunks[i], score=float(fused[j]), rank=rank,
                dense_score=None if dense_scores is None else float(dense_scores[j]),
                dense_rank=dense_rank.get(i),
                bm25_score=None if bm25_scores_c is None else float(bm25_scores_c[j]),
                bm25_rank=bm25_rank.get(i)))
        return hits

    def _fuse(self, cand: np.ndarray, dense_scores, dense_rank: dict, bm25_scores, bm25_rank: dict) -> np.ndarray:
        """Reciprocal-rank fusion of the two candidate lists plus ``sum_weight`` × the min-max score sum
        (RRF alone ranks a passage found by one list only too low; the score sum alone is worse at
        rank 1 — together they beat both on the gold set)."""
        fused = self.dense_weight * self._rrf(cand, dense_rank) + self.bm25_weight * self._rrf(cand, bm25_rank)
        if self.sum_weight:
            fused = fused + self.sum_weight * _minmax_sum(dense_scores, bm25_scores) / (self.rrf_k + 1)
        return fused

    def _place_docs(self, q: str) -> list[str]:
        """Documents whose title names a place the query names ("我在衡阳…" → the city's own documents;
        "市里…" names the home city, vocabulary ``region.home_words``).
        Places come from the vocabulary; the bonus is one title bonus, like a named document's (dev_long
        fully correct 0.456 → 0.478, gold 0.853 → 0.857; two bonuses cost a gold status)."""
        vocab = self.vocabulary
        places = [p for p in (*vocab.home_places, *vocab.other_places) if p in q]
        if any(w in q for w in vocab.home_words):
            places += vocab.home_places
        if not places:
            return []
        return [d["doc_id"] for d in self.documents if any(p in d["title"] for p in places)]

    def _rrf(self, cand: np.ndarray, rank: dict) -> np.ndarray:
        """``1 / (rrf_k + rank)`` of every candidate in one list (0 for those the list did not find)."""
        return np.array([1.0 / (self.rrf_k + rank[int(i)]) if int(i) in rank else 0.0 for i in cand])

    def _phrase(self, q: str, cand: np.ndarray) -> np.ndarray:
        """Share of the query's Chinese characters covered by its longest run found verbatim in the
        chunk, scaled like one RRF term (0 for runs shorter than ``phrase_min``)."""
        n_han = sum(1 for ch in q if "\u4e00" <= ch <= "\u9fff")
        if n_han < self.phrase_min or n_han > self.phrase_max:
            # a long message shares phrases by chance, and the bonus (run / length) would be tiny anyway
            return np.zeros(len(cand))
        runs = np.array([longest_common_run(q, self._chunks[int(i)].text, self.phrase_min) for i in cand])
        return runs / n_han / (self.rrf_k + 1)

    def _interleave(self, order: np.ndarray, cand: np.ndarray, doc_ids, named: list[str], mode: str) -> list:
        """With two or more documents asked for (``doc_ids`` or titles named in the query), take each
        document's best passages in turn, so every named document contributes."""
        order = list(order)
        if mode != "hybrid" or not self.interleave:
            return order
        docs = [self.resolve_doc(d) for d in doc_ids] if doc_ids else list(named)
        docs = list(dict.fromkeys(docs))
        if len(docs) < 2:
            return order
        per: dict[str, list] = {d: [] for d in docs}
        rest = []
        for j in order:
            d = self._doc_ids[cand[j]]
            (per[d] if d in per else rest).append(j)
        # the document of the best passage goes first
        firsts = sorted(docs, key=lambda d: order.index(per[d][0]) if per[d] else len(order))
        out = []
        depth = max((len(v) for v in per.values()), default=0)
        for n in range(depth):
            out.extend(per[d][n] for d in firsts if n < len(per[d]))
        return out + rest

    def as_langchain(self, **kwargs):
        """A LangChain ``BaseRetriever`` over this index (kwargs: k, doc_ids, doc_types, mode)."""
        from policy_assistant.retrieval.langchain import PolicyRetriever

        return PolicyRetriever(retriever=self, **kwargs)

    def info(self) -> dict:
        """Summary for ``index info`` and the app."""
        m = self.manifest
        return {"path": str(self.path), "embedder": m.get("embedder"), "built_at": m.get("built_at"),
                "n_documents": len(self.documents), "n_chunks": len(self.chunks),
                "n_documents_total": len(self.all_documents), "n_chunks_total": len(self._chunks),
                "statuses": list(self.statuses)}


def _statuses(statuses: Iterable[str] | None, include_superseded: bool) -> tuple[str, ...]:
    base = tuple(statuses) if statuses else DEFAULT_STATUSES
    unknown = set(base) - set(SEARCHABLE_STATUSES)
    if unknown:
        raise CorpusError(f"unknown document status(es): {', '.join(sorted(unknown))}",
                          f"use {', '.join(SEARCHABLE_STATUSES)}")
    return tuple(dict.fromkeys(base + ((SUPERSEDED,) if include_superseded else ())))


def index_tokenizer_factory(manifest: dict) -> Callable[[list[str]], Callable[[str], list[str]]]:
    """``domain_terms -> tokenize`` with the engine the index was built with (queries must be tokenised
    like the chunks were; an index from before the engine was recorded used Python jieba)."""
    import functools

    from policy_assistant.corpus.terms import make_tokenizer

    engine = (manifest.get("bm25") or {}).get("tokenizer_engine") or "jieba"
    return functools.partial(make_tokenizer, engine=engine)


def _minmax_sum(*arrays) -> np.ndarray:
    """Σ of each score array min-max scaled to 0..1 over the candidates (a constant array adds 0)."""
    arrays = [a for a in arrays if a is not None]
    out = np.zeros(len(arrays[0])) if arrays else np.zeros(0)
    for a in arrays:
        lo, hi = float(a.min()), float(a.max())
        if hi > lo:
            out += (a - lo) / (hi - lo)
    return out
