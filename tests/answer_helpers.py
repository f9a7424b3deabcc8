"""Helpers for the answer tests: a tiny lexical retriever over hand-written or ingested chunks."""

from __future__ import annotations

import jieba

from policy_assistant.answer.evidence import CorpusView, coverage
from policy_assistant.corpus.model import Chunk
from policy_assistant.retrieval.types import Hit


class LexicalRetriever:
    """Ranks chunks by IDF-weighted term coverage (stand-in for HybridRetriever in unit tests)."""

    def __init__(self, chunks: list[Chunk]):
        self.chunks = list(chunks)
        self.view = CorpusView(self.chunks)

    def search(self, query, k=5, doc_ids=None, doc_types=None, mode="hybrid"):
        terms = [w for w in jieba.cut(query) if len(w.strip()) > 1 or "\u4e00" <= w <= "\u9fff"]
        w = self.view.weights(terms)
        scored = []
        for c in self.chunks:
            if doc_ids and c.doc_id not in doc_ids:
                continue
            if doc_types and c.doc_type not in doc_types:
                continue
            scored.append((coverage(w, c.retrieval_text), -c.position, c))
        scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [Hit(chunk=c, score=s, rank=i + 1, dense_score=None) for i, (s, _, c) in enumerate(scored[:k])]


def make_chunk(doc_id, title, path, text, position=0, kind="item", doc_type="工作要点", part=0) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}#{position}", doc_id=doc_id, doc_title=title, file=f"{doc_id}.txt",
                 doc_type=doc_type, path=tuple(path), text=text, position=position, kind=kind, part=part)
