"""The baseline chunker: recursive character splitting, as in LangChain's RecursiveCharacterTextSplitter.

Configured like the common open-source Chinese RAG default: 250-character chunks with 50 characters of
overlap, separators ``\\n\\n``, ``\\n``, each of ``。！？``, ``；``, ``，``, then single characters. The
separator stays at the end of the piece it closes (``keep_separator="end"``), pieces are stripped.

``recursive_chunks(documents)`` turns ingested documents into :class:`corpus.model.Chunk` objects that carry
no structure (``path`` is only a running label ``片段N``, ``kind`` is ``"recursive"``) plus, for the scorer
only, the breadcrumbs of the structure units each chunk overlaps (so an article-level gold source can be
recognised inside a structureless chunk).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from policy_assistant.corpus.model import BREADCRUMB_SEP, Chunk, Document

BASELINE_CHUNK_SIZE = 250
BASELINE_OVERLAP = 50
# Regex patterns, tried in order; "" means "split into characters".
BASELINE_SEPARATORS: tuple[str, ...] = ("\n\n", "\n", "[。！？]", "；", "，", "")


class RecursiveSplitter:
    """Split text into pieces of at most ``chunk_size`` characters, trying coarse separators first."""

    def __init__(self, chunk_size: int = BASELINE_CHUNK_SIZE, chunk_overlap: int = BASELINE_OVERLAP,
                 separators: Sequence[str] = BASELINE_SEPARATORS):
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.separators = list(separators)

    def split_text(self, text: str) -> list[str]:
        return self._split(text, self.separators)

    # -- LangChain's algorithm ----------------------------------------------------------------------
    def _split(self, text: str, separators: list[str]) -> list[str]:
        separator, rest = separators[-1], []
        for i, sep in enumerate(separators):
            if sep == "":
                separator = sep
                break
            if re.search(sep, text):
                separator, rest = sep, separators[i + 1:]
                break
        splits = _split_keep_end(text, separator)
        out: list[str] = []
        good: list[str] = []
        for s in splits:
            if len(s) < self.chunk_size:
                good.append(s)
                continue
            if good:
                out.extend(self._merge(good))
                good = []
            if rest:
                out.extend(self._split(s, rest))
            else:
                out.append(s)
        if good:
            out.extend(self._merge(good))
        return out

    def _merge(self, splits: list[str]) -> list[str]:
        """Greedily join small pieces up to ``chunk_size``; carry up to ``chunk_overlap`` chars over."""
        docs: list[str] = []
        current: list[str] = []
        total = 0
        for piece in splits:
            n = len(piece)
            if total + n > self.chunk_size and current:
                doc = "".join(current).strip()
                if doc:
                    docs.append(doc)
                while total > self.chunk_overlap or (total + n > self.chunk_size and total > 0):
                    total -= len(current[0])
                    current = current[1:]
            current.append(piece)
            total += n
        doc = "".join(current).strip()
        if doc:
            docs.append(doc)
        return docs


def _split_keep_end(text: str, separator: str) -> list[str]:
    if not separator:
        return list(text)
    parts = re.split(f"({separator})", text)
    pieces = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
    pieces.append(parts[-1])
    return [p for p in pieces if p]


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


# --------------------------------------------------------------------------------------------------
# Documents → structureless chunks (+ where each chunk lies, for scoring)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    section: str  # breadcrumb of the structure unit


def document_text(doc: Document) -> tuple[str, list[Span]]:
    """The document as plain text (headings and unit texts in order, units separated by a blank line)
    and the character span of each structure unit's text with its breadcrumb."""
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    for path, section in doc.root.walk():
        body = section.text.strip()
        heading = section.heading.strip()
        repeated = not heading or _nfkc(body).startswith((_nfkc(heading), _nfkc(section.label) or "\0"))
        block = body if repeated else (f"{heading}\n{body}" if body else heading)
        if not block:
            continue
        if parts:
            pos += 2  # the "\n\n" joiner
        if body:
            start = pos + block.index(body)
            spans.append(Span(start, start + len(body), BREADCRUMB_SEP.join((doc.title, *path))))
        parts.append(block)
        pos += len(block)
    return "\n\n".join(parts), spans


def recursive_chunks(documents: Iterable[Document], splitter: RecursiveSplitter | None = None
                     ) -> tuple[list[Chunk], dict[str, list[str]]]:
    """Baseline chunks of every document, and ``chunk_id -> breadcrumbs of the units it overlaps``."""
    splitter = splitter or RecursiveSplitter()
    chunks: list[Chunk] = []
    where: dict[str, list[str]] = {}
    for doc in documents:
        text, spans = document_text(doc)
        cursor = 0
        for i, piece in enumerate(splitter.split_text(text)):
            start = text.find(piece, cursor)
            if start < 0:
                start = max(text.find(piece), 0)
            end = start + len(piece)
            cursor = start + 1
            chunk = Chunk(
                chunk_id=f"{doc.doc_id}#r{i}",
                doc_id=doc.doc_id,
                doc_title=doc.title,
                file=doc.file,
                doc_type=doc.doc_type,
                path=(f"片段{i + 1}",),
                text=piece,
                position=i,
                kind="recursive",
            )
            chunks.append(chunk)
            where[chunk.chunk_id] = [s.section for s in spans if s.start < end and s.end > start] or [doc.title]
    return chunks, where
