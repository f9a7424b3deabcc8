"""Reading policy documents and turning them into structured, citable chunks."""

from policy_assistant.corpus.model import Chunk, Document, Section

__all__ = ["Chunk", "Document", "Section"]
