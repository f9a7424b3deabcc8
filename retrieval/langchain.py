"""LangChain adapter: the hybrid retriever as a ``BaseRetriever`` returning ``Document``s."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from policy_assistant.retrieval.types import Hit


def hit_to_document(hit: Hit) -> Document:
    """``page_content`` = the chunk text; metadata = every chunk field, the breadcrumb and the scores."""
    meta = hit.chunk.to_dict()
    meta.update(hit.to_dict())
    meta.pop("text", None)
    return Document(page_content=hit.chunk.text, metadata=meta, id=hit.chunk.chunk_id)


class PolicyRetriever(BaseRetriever):
    """``PolicyRetriever(retriever=HybridRetriever.load(settings), k=5).invoke("问题")``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any  # HybridRetriever (kept untyped so pydantic does not inspect it)
    k: int = 5
    doc_ids: list[str] | None = None
    doc_types: list[str] | None = None
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[Document]:
        hits = self.retriever.search(query, k=self.k, doc_ids=self.doc_ids, doc_types=self.doc_types,
                                     mode=self.mode)
        return [hit_to_document(h) for h in hits]
