"""Typed retrieval results."""

from __future__ import annotations

from dataclasses import dataclass

from policy_assistant.corpus.model import Chunk


@dataclass
class Hit:
    """One retrieved chunk with the score from each retriever and its fused rank (1-based)."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "dense_rank": self.dense_rank,
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
            "bm25_rank": self.bm25_rank,
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "doc_title": c.doc_title,
            "doc_type": c.doc_type,
            "file": c.file,
            "section": c.section,
            "path": list(c.path),
            "text": c.text,
        }
